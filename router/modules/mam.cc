// mam (XEP-0313, urn:xmpp:mam:2): the messages a user sends and receives are archived, each
// stamped with an XEP-0359 stanza-id (by= the user), and the user's clients page through the
// archive (XEP-0059) with filters by party, date and id. Which messages, as Prosody's
// mod_mam: chat and normal ones with a body or an encrypted payload, or an XEP-0334 <store/>
// hint; never errors, headlines, groupchat, or <no-store/>. The user's preferences
// (always, never, roster) are kept in the item store.
//
// Trust: queries, preferences and the messages archived come from clients and other servers;
// only the account itself reads or changes its archive. A stanza-id by= the recipient that
// arrives with a message is forged and removed (XEP-0359 §5); so is one a client sends by= its
// own account. The stanza-id the recipient's sessions see, the one XEP-0280 copies carry and
// the one the archive answers with are the same: it is added to the message before delivery.
#include <algorithm>
#include <ctime>
#include <unordered_map>
#include <unordered_set>

#include "common/log.h"
#include "router/c2s_stream.h"
#include "router/module_table.h"
#include "router/modules/mam_page.h"
#include "router/modules/mam_query.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

using mam::kMamExtendedNs;
using mam::kMamNs;
using mam::kSidNs;
using mam::strip_stanza_ids;

constexpr std::string_view kHintsNs = "urn:xmpp:hints";
constexpr std::string_view kForwardNs = "urn:xmpp:forward:0";
constexpr std::string_view kDelayNs = "urn:xmpp:delay";
constexpr std::string_view kCarbonsNs = "urn:xmpp:carbons:2";
constexpr std::string_view kPrefsStore = "archive_prefs";
// A user's always and never lists together.
constexpr std::size_t kMaxPrefsJids = 1000;
// Users whose preferences are held in memory; past it the cache starts afresh.
constexpr std::size_t kMaxCachedPrefs = 10000;

enum class Policy { kNever = 0, kAlways = 1, kRoster = 2 };

struct Prefs {
  Policy policy = Policy::kAlways;
  std::unordered_set<std::string> always, never;
};

std::optional<Policy> policy_of(std::string_view text) {
  if (text == "always") return Policy::kAlways;
  if (text == "never") return Policy::kNever;
  if (text == "roster") return Policy::kRoster;
  return std::nullopt;
}
std::string_view policy_name(Policy p) {
  return p == Policy::kAlways ? "always" : p == Policy::kNever ? "never" : "roster";
}

// The item store's form: the policy on the first line, then "+jid" (always) or "-jid" (never).
std::string encode(const Prefs& p) {
  std::string out(policy_name(p.policy));
  for (const std::string& j : p.always) out += "\n+" + j;
  for (const std::string& j : p.never) out += "\n-" + j;
  return out;
}
Prefs decode(std::string_view text, Policy fallback) {
  Prefs p;
  std::size_t end = text.find('\n');
  p.policy = policy_of(text.substr(0, end)).value_or(fallback);
  while (end != std::string_view::npos) {
    std::size_t start = end + 1;
    end = text.find('\n', start);
    std::string_view line = text.substr(start, end == std::string_view::npos ? end : end - start);
    if (line.size() < 2) continue;
    (line[0] == '+' ? p.always : p.never).emplace(line.substr(1));
  }
  return p;
}

// Prosody 0.12's rule of what is worth keeping.
bool archivable(const xml::Element& m) {
  const std::string type = m.attribute_or("type", "normal");
  if (type == "error" || type == "headline" || type == "groupchat") return false;
  if (m.child(kHintsNs, "no-store") != nullptr || m.child(kHintsNs, "no-permanent-store") != nullptr) return false;
  // Copies and archive results are about other messages; they are never archived themselves.
  if (m.child(kCarbonsNs, "sent") != nullptr || m.child(kCarbonsNs, "received") != nullptr ||
      m.child(kMamNs, "result") != nullptr)
    return false;
  if (m.child(kHintsNs, "store") != nullptr || m.child(xmpp::kClientNs, "body") != nullptr) return true;
  return m.child("eu.siacs.conversations.axolotl", "encrypted") != nullptr ||
         m.child("urn:xmpp:openpgp:0", "openpgp") != nullptr || m.child("jabber:x:encrypted", "x") != nullptr ||
         m.child("urn:xmpp:eme:0", "encryption") != nullptr;
}

void attribute(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += "='";
  xml::escape(out, value, true);
  out += '\'';
}

class Mam final : public Module {
 public:
  explicit Mam(const ModuleContext& context) : Module("mam", context.index), server_(context.server) {
    ModuleTable& table = context.table;
    table.on_iq(IqScope::kAccount, kMamNs, "query", *this, [this](const IqRequest& iq) { query(iq); });
    table.on_iq(IqScope::kAccount, kMamNs, "prefs", *this, [this](const IqRequest& iq) { prefs(iq); });
    table.on_iq(IqScope::kAccount, kMamNs, "metadata", *this, [this](const IqRequest& iq) { metadata(iq); });
    Hooks& hooks = table.hooks();
    hooks.message_sent.add(*this, [this](ClientStream& from, xml::Element& message, const xmpp::Jid& to) {
      sent(from, message, to);
      return false;
    });
    hooks.message_received.add(*this, [this](xml::Element& message, const xmpp::Jid& to) { received(message, to); });
    hooks.user_removed.add(*this, [this](const std::string& bare) { removed(bare); });
  }
  void account_features(std::vector<std::string>& features) const override {
    features.emplace_back(kMamNs);
    features.emplace_back(kMamExtendedNs);
    features.emplace_back(kSidNs);
  }
  void server_features(std::vector<std::string>& features) const override { features.emplace_back(kSidNs); }

 private:
  Policy default_policy() const { return static_cast<Policy>(std::clamp(server_.quotas().archive_policy, 0, 2)); }

  const Prefs& prefs_of(const std::string& bare) {
    auto it = prefs_.find(bare);
    if (it != prefs_.end()) return it->second;
    if (prefs_.size() >= kMaxCachedPrefs) prefs_.clear();
    auto stored = server_.items().get({bare, kPrefsStore, "", "prefs"});
    Prefs p;
    p.policy = default_policy();
    if (stored) p = decode(*stored, default_policy());
    return prefs_.emplace(bare, std::move(p)).first->second;
  }

  bool wanted(const std::string& owner, const std::string& with) {
    const Prefs& p = prefs_of(owner);
    if (p.never.count(with) > 0) return false;
    if (p.always.count(with) > 0) return true;
    if (p.policy == Policy::kRoster) return server_.store().roster_item(owner, with).has_value();
    return p.policy == Policy::kAlways;
  }

  // Archives `message` for `owner` and stamps it with the stanza-id; "" when not archived.
  std::string archive(xml::Element& message, const std::string& owner, const std::string& with) {
    ArchiveStore* store = server_.archive();
    if (store == nullptr || !archivable(message) || !wanted(owner, with)) return {};
    ArchiveStore::Entry e;
    e.owner = owner;
    e.id = ArchiveStore::new_id();
    e.with = with;
    e.stamp = std::time(nullptr);
    if (const xml::Element* origin = message.child(kSidNs, "origin-id")) e.origin_id = origin->attribute_or("id");
    message.serialize(e.stanza);
    std::string id = e.id;
    if (!store->append(std::move(e))) return {};
    message.add_child(xml::Element(kSidNs, "stanza-id", {{"id", id}, {"by", owner}}));
    return id;
  }

  // Kept for the sender; the stanza-id is the sender's, which its XEP-0280 sent copies carry.
  // A message to the user's own account is archived once, as it is received.
  void sent(ClientStream& from, xml::Element& message, const xmpp::Jid& to) {
    strip_stanza_ids(message, from.bare());
    std::string with = to.bare();
    if (with == from.bare()) return;
    archive(message, from.bare(), with);
  }

  void received(xml::Element& message, const xmpp::Jid& to) {
    std::string owner = to.bare();
    strip_stanza_ids(message, owner);
    auto from = xmpp::Jid::parse(message.attribute_or("from"));
    if (!from) return;
    std::string id = archive(message, owner, from->bare());
    if (id.empty() || !server_.sessions().resources(owner).empty()) return;
    // Nobody is logged in: perhaps there is no such account, which only the auth helper knows.
    // A "no" forgets the message (as the offline store does); no answer keeps it.
    std::size_t at = owner.find('@');
    server_.auth().user_exists(owner.substr(at + 1), owner.substr(0, at),
                               [this, owner, id](std::optional<bool> exists) {
                                 if (!exists.has_value() || *exists || server_.archive() == nullptr) return;
                                 server_.store().commit();
                                 server_.archive()->remove(owner, id);
                               });
  }

  void removed(const std::string& bare) {
    prefs_.erase(bare);
    if (ArchiveStore* store = server_.archive()) {
      server_.store().commit();
      if (!store->remove_user(bare)) log::error("the archive of removed account %s was not removed", bare.c_str());
    }
    server_.items().remove_store(bare, kPrefsStore);
  }

  // Only the account itself reads its archive (XEP-0313 §4: anyone else is refused).
  bool allowed(const IqRequest& iq) {
    if (iq.session != nullptr && iq.from_self()) return true;
    server_.bounce(iq.stanza, "cancel", "forbidden");
    return false;
  }

  // The reads see every message archived so far: the user store's open batch goes first, as
  // the archive's own transaction cannot start while it holds the write lock.
  ArchiveStore* ready_store(const IqRequest& iq) {
    ArchiveStore* store = server_.archive();
    if (store == nullptr || (server_.store().batch_open() && !server_.store().commit())) {
      server_.bounce(iq.stanza, "wait", "internal-server-error");
      return nullptr;
    }
    return store;
  }

  void query(const IqRequest& iq);
  void send_result(ClientStream& to, const std::string& owner, const std::string& queryid,
                   const ArchiveStore::Message& m);
  void prefs(const IqRequest& iq);
  xml::Element prefs_element(const Prefs& p) const;
  void metadata(const IqRequest& iq);

  Server& server_;
  std::unordered_map<std::string, Prefs> prefs_;
};

void Mam::query(const IqRequest& iq) {
  if (!allowed(iq)) return;
  if (!iq.set()) {
    // Form discovery (XEP-0313 §6.1.1).
    xml::Element reply = xmpp::reply(iq.stanza, "result");
    reply.add_child(xml::Element(kMamNs, "query")).add_child(mam::query_form());
    return server_.send(reply);
  }
  mam::Query q;
  std::string error;
  if (!mam::parse_query(iq.payload, q, error)) return server_.bounce(iq.stanza, "modify", "bad-request", error);
  ArchiveStore* store = ready_store(iq);
  if (store == nullptr) return;
  const std::string owner = iq.to.bare();
  mam::Page page;
  switch (mam::read_page(*store, owner, q, server_.quotas().archive_query_results, page)) {
    case mam::PageError::kFailed: return server_.bounce(iq.stanza, "wait", "internal-server-error");
    case mam::PageError::kItemNotFound: return server_.bounce(iq.stanza, "cancel", "item-not-found");
    case mam::PageError::kNone: break;
  }
  for (const ArchiveStore::Message& m : page.messages) send_result(*iq.session, owner, q.queryid, m);
  server_.send(mam::fin_reply(iq.stanza, page));
}

// <message to=querier from=owner><result queryid= id=><forwarded><delay stamp=/>STANZA
// </forwarded></result></message>, written as text around the stored stanza, which is
// already serialized with its namespace.
void Mam::send_result(ClientStream& to, const std::string& owner, const std::string& queryid,
                      const ArchiveStore::Message& m) {
  std::string out = "<message xmlns='jabber:client'";
  attribute(out, "to", to.full());
  attribute(out, "from", owner);
  out += "><result xmlns='urn:xmpp:mam:2'";
  if (!queryid.empty()) attribute(out, "queryid", queryid);
  attribute(out, "id", m.id);
  out += "><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay'";
  attribute(out, "stamp", mam::format_datetime(m.stamp));
  out += "/>";
  out += m.stanza;
  out += "</forwarded></result></message>";
  to.deliver_raw(out);
}

xml::Element Mam::prefs_element(const Prefs& p) const {
  xml::Element out(kMamNs, "prefs", {{"default", std::string(policy_name(p.policy))}});
  for (const auto* list : {&p.always, &p.never}) {
    xml::Element& e = out.add_child(xml::Element(kMamNs, list == &p.always ? "always" : "never"));
    std::vector<std::string> sorted(list->begin(), list->end());
    std::sort(sorted.begin(), sorted.end());
    for (const std::string& j : sorted) e.add_child(xml::Element(kMamNs, "jid")).add_text(j);
  }
  return out;
}

void Mam::prefs(const IqRequest& iq) {
  if (!allowed(iq)) return;
  const std::string owner = iq.to.bare();
  if (!iq.set()) {
    xml::Element reply = xmpp::reply(iq.stanza, "result");
    reply.add_child(prefs_element(prefs_of(owner)));
    return server_.send(reply);
  }
  auto policy = policy_of(iq.payload.attribute_or("default"));
  if (!policy) return server_.bounce(iq.stanza, "modify", "bad-request", "default must be always, never or roster");
  Prefs p;
  p.policy = *policy;
  for (const xml::Element* list : iq.payload.children()) {
    if (list->ns() != kMamNs || (list->name() != "always" && list->name() != "never")) continue;
    for (const xml::Element* j : list->children()) {
      if (!j->is(kMamNs, "jid")) continue;
      auto jid = xmpp::Jid::parse(j->text());
      if (!jid) return server_.bounce(iq.stanza, "modify", "jid-malformed");
      (list->name() == "always" ? p.always : p.never).insert(jid->bare());
    }
  }
  if (p.always.size() + p.never.size() > kMaxPrefsJids)
    return server_.bounce(iq.stanza, "modify", "policy-violation", "Too many JIDs");
  for (const std::string& j : p.never) p.always.erase(j);  // never wins, as in Prosody
  ItemStore::Limits limits;
  limits.max_bytes = 256 << 10;
  if (server_.items().put({owner, kPrefsStore, "", "prefs"}, encode(p), limits) != ItemStore::Outcome::kStored)
    return server_.bounce(iq.stanza, "wait", "internal-server-error");
  xml::Element reply = xmpp::reply(iq.stanza, "result");
  reply.add_child(prefs_element(p));
  prefs_[owner] = std::move(p);
  server_.send(reply);
}

// XEP-0313 §7.1 (urn:xmpp:mam:2#extended): the first and last message of the archive.
void Mam::metadata(const IqRequest& iq) {
  if (!allowed(iq)) return;
  if (iq.set()) return server_.bounce(iq.stanza, "modify", "bad-request");
  ArchiveStore* store = ready_store(iq);
  if (store == nullptr) return;
  std::optional<ArchiveStore::Message> first, last;
  if (!store->ends(iq.to.bare(), first, last)) return server_.bounce(iq.stanza, "wait", "internal-server-error");
  xml::Element reply = xmpp::reply(iq.stanza, "result");
  xml::Element& meta = reply.add_child(xml::Element(kMamNs, "metadata"));
  if (first && last) {
    meta.add_child(xml::Element(kMamNs, "start", {{"id", first->id}, {"timestamp", mam::format_datetime(first->stamp)}}));
    meta.add_child(xml::Element(kMamNs, "end", {{"id", last->id}, {"timestamp", mam::format_datetime(last->stamp)}}));
  }
  server_.send(reply);
}

}  // namespace

std::unique_ptr<Module> make_mam(const ModuleContext& context) { return std::make_unique<Mam>(context); }

}  // namespace xmppd::router
