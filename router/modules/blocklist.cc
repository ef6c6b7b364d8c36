// blocklist (XEP-0191) with spam and abuse reports (XEP-0377): a user's list of blocked
// JIDs, kept in the user store (store "blocklist", one item per JID), and the stanzas it
// stops, both ways.
//
// A JID on the list matches as XEP-0191 §3.4 says: a full JID that JID alone, a bare JID
// every resource of it, a domain with a resource that resource of the domain, a domain
// everything from it. The user's own account is never blocked from itself.
//  - From a blocked JID (stanza_for_user): presence of every type is dropped; a message of
//    type normal or chat, and an IQ get or set, get service-unavailable, the answer the
//    sender would get from an account that does not exist, whether the user is online or
//    not (it reveals no presence); anything else is dropped.
//  - To a blocked JID, from a client (message_sent, stanza_sent): not-acceptable with
//    <blocked xmlns='urn:xmpp:blocking:errors'/>; an error or an IQ result goes nowhere.
//    Presence the server sends for the user (broadcast, probe answers: presence_from_user)
//    is dropped.
//  - Blocking a contact subscribed to the user's presence sends it the user's unavailable
//    presence from each available resource, and unblocking sends the current presence, as
//    Prosody does; a subscription request waiting from a contact blocked is dropped.
// The list is limited to max_blocklist_items JIDs: past it a block is policy-violation
// (modify), as a full roster is here: a local limit the user meets by unblocking others,
// not a shortage that retrying later (resource-constraint, type wait) would get past.
// Nothing of a refused block is stored.
//
// Cost for users without a list: the users who have one are read from the store at first
// use; a stanza of anyone else is passed after a map lookup, with nothing allocated.
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "common/log.h"
#include "router/c2s_stream.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xml/fragment.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kBlockingNs = "urn:xmpp:blocking";
constexpr std::string_view kBlockedErrorNs = "urn:xmpp:blocking:errors";
constexpr std::string_view kReportingNs = "urn:xmpp:reporting:1";   // XEP-0377 0.3
constexpr std::string_view kReportingNs0 = "urn:xmpp:reporting:0";  // XEP-0377 0.2, which slixmpp 1.8 sends
constexpr std::string_view kStore = "blocklist";
// What of a report's text goes to the log.
constexpr std::size_t kMaxReportText = 512;

using JidSet = std::set<std::string, std::less<>>;

// "local@domain" as its two parts.
std::pair<std::string_view, std::string_view> split(std::string_view bare) {
  std::size_t at = bare.find('@');
  if (at == std::string_view::npos) return {{}, bare};
  return {bare.substr(0, at), bare.substr(at + 1)};
}

bool matches(const JidSet& list, const xmpp::Jid& jid) {
  if (list.count(jid.domain()) > 0) return true;
  if (jid.has_resource() && list.count(jid.domain() + "/" + jid.resource()) > 0) return true;
  if (!jid.has_local()) return false;
  return list.count(jid.bare()) > 0 || (jid.has_resource() && list.count(jid.full()) > 0);
}

bool same_account(const xmpp::Jid& a, std::string_view bare) {
  auto [local, domain] = split(bare);
  return a.local() == local && a.domain() == domain;
}

// Printable, short, on one line: a reporter's words go to the administrator's log.
std::string loggable(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= kMaxReportText) break;
    out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
  }
  // Not a UTF-8 sequence cut in half.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xc0) == 0x80) out.pop_back();
  if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xc0) out.pop_back();
  return out;
}

struct Report {
  std::string jid, reason, text;
};

class Blocklist final : public Module {
 public:
  explicit Blocklist(const ModuleContext& context) : Module("blocklist", context.index), server_(context.server) {
    ModuleTable& table = context.table;
    table.on_iq(IqScope::kAccount, kBlockingNs, "blocklist", *this, [this](const IqRequest& iq) { get(iq); });
    table.on_iq(IqScope::kAccount, kBlockingNs, "block", *this, [this](const IqRequest& iq) { edit(iq, true); });
    table.on_iq(IqScope::kAccount, kBlockingNs, "unblock", *this, [this](const IqRequest& iq) { edit(iq, false); });
    Hooks& hooks = table.hooks();
    auto outbound = [this](ClientStream& from, const xml::Element& stanza, const xmpp::Jid& to) {
      return refuse_outbound(from, stanza, to);
    };
    hooks.message_sent.add(*this, outbound);
    hooks.stanza_sent.add(*this, outbound);
    hooks.stanza_for_user.add(
        *this, [this](const xml::Element& stanza, const xmpp::Jid& to) { return refuse_inbound(stanza, to); });
    hooks.presence_from_user.add(*this, [this](const xml::Element&, const xmpp::Jid& from, const xmpp::Jid& to) {
      const JidSet* list = list_of(from.local(), from.domain());
      return list != nullptr && !same_account(to, from.bare()) && matches(*list, to);
    });
    hooks.session_ended.add(*this, [this](ClientStream& stream) { interested_.erase(&stream); });
    hooks.user_removed.add(*this, [this](const std::string& bare) { forget(bare); });
  }
  void server_features(std::vector<std::string>& features) const override {
    features.emplace_back(kBlockingNs);
    features.emplace_back(kReportingNs);
    features.emplace_back(kReportingNs0);
  }

 private:
  // The user's list, or null when it is empty. The first call reads which users have one.
  const JidSet* list_of(std::string_view local, std::string_view domain) {
    if (!loaded_) {
      loaded_ = true;
      for (const std::string& bare : server_.items().users(kStore)) {
        auto [l, d] = split(bare);
        lists_[std::string(d)].emplace(std::string(l), std::nullopt);
      }
    }
    if (lists_.empty()) return nullptr;
    auto by_domain = lists_.find(domain);
    if (by_domain == lists_.end()) return nullptr;
    auto it = by_domain->second.find(local);
    if (it == by_domain->second.end()) return nullptr;
    if (!it->second) {
      JidSet list;
      const std::string bare = std::string(local) + "@" + std::string(domain);
      for (ItemStore::Item& item : server_.items().items(bare, kStore, "")) list.insert(std::move(item.id));
      it->second = std::move(list);
    }
    return &*it->second;
  }
  const JidSet* list_of(std::string_view bare) {
    auto [local, domain] = split(bare);
    return list_of(local, domain);
  }
  void remember(const std::string& bare, JidSet list) {
    auto [local, domain] = split(bare);
    if (list.empty()) {
      forget(bare);
      return;
    }
    lists_[std::string(domain)][std::string(local)] = std::move(list);
  }
  void forget(const std::string& bare) {
    auto [local, domain] = split(bare);
    auto by_domain = lists_.find(domain);
    if (by_domain == lists_.end()) return;
    if (auto it = by_domain->second.find(local); it != by_domain->second.end()) by_domain->second.erase(it);
    if (by_domain->second.empty()) lists_.erase(by_domain);
  }

  // XEP-0191 §3.5: what a blocked sender gets, the same whether the user is online or not.
  bool refuse_inbound(const xml::Element& stanza, const xmpp::Jid& to) {
    const JidSet* list = list_of(to.local(), to.domain());
    if (list == nullptr) return false;
    auto from = xmpp::Jid::parse(stanza.attribute_or("from"));
    if (!from || same_account(*from, to.bare()) || !matches(*list, *from)) return false;
    const std::string type = stanza.attribute_or("type");
    const bool answered = (stanza.name() == "message" && (type.empty() || type == "normal" || type == "chat")) ||
                          (stanza.name() == "iq" && (type == "get" || type == "set"));
    if (answered) server_.bounce(stanza, "cancel", "service-unavailable");
    return true;
  }

  // XEP-0191 §3.4: the user's own stanza to a JID it blocks.
  bool refuse_outbound(ClientStream& from, const xml::Element& stanza, const xmpp::Jid& to) {
    const JidSet* list = list_of(from.bare());
    if (list == nullptr || same_account(to, from.bare()) || !matches(*list, to)) return false;
    const std::string type = stanza.attribute_or("type");
    if (type == "error" || (stanza.name() == "iq" && type == "result")) return true;
    xml::Element reply = xmpp::reply(stanza, "error");
    xml::Element error(xmpp::kClientNs, "error");
    error.set_attribute("type", "cancel");
    error.add_child(xml::Element(xmpp::kStanzaErrorNs, "not-acceptable"));
    xml::Element text(xmpp::kStanzaErrorNs, "text");
    text.add_text("You have blocked " + to.full());
    error.add_child(std::move(text));
    error.add_child(xml::Element(kBlockedErrorNs, "blocked"));
    reply.add_child(std::move(error));
    from.deliver(reply);
    return true;
  }

  // Only the user's own sessions read or change the list.
  bool own(const IqRequest& iq) {
    if (iq.session != nullptr && iq.from_self()) return true;
    server_.bounce(iq.stanza, "cancel", "service-unavailable");
    return false;
  }

  void get(const IqRequest& iq) {
    if (!own(iq)) return;
    if (iq.set()) return server_.bounce(iq.stanza, "modify", "bad-request", "The block list is read with a get");
    xml::Element list(kBlockingNs, "blocklist");
    if (const JidSet* jids = list_of(iq.session->bare()))
      for (const std::string& jid : *jids) list.add_child(item(jid));
    interested_.insert(iq.session);  // XEP-0191 §3.3: pushes go to the sessions that asked
    xml::Element result = xmpp::reply(iq.stanza, "result");
    result.add_child(std::move(list));
    server_.send(result);
  }

  static xml::Element item(const std::string& jid) {
    xml::Element e(kBlockingNs, "item");
    e.set_attribute("jid", jid);
    return e;
  }

  // XEP-0377: a <report/> in an item (0.3: reason attribute; 0.2: <spam/> or <abuse/>).
  // False for a report that names no reason this server knows.
  static bool read_report(const xml::Element& report, const std::string& jid, std::vector<Report>& reports) {
    Report r{jid, {}, {}};
    if (report.ns() == kReportingNs) {
      const std::string reason = report.attribute_or("reason");
      if (reason == "urn:xmpp:reporting:spam") r.reason = "spam";
      if (reason == "urn:xmpp:reporting:abuse") r.reason = "abuse";
    }
    for (const xml::Element* c : report.children()) {
      if (c->name() == "text") r.text = c->text();
      if (report.ns() == kReportingNs0 && (c->name() == "spam" || c->name() == "abuse")) r.reason = c->name();
    }
    if (r.reason.empty()) return false;
    reports.push_back(std::move(r));
    return true;
  }

  void edit(const IqRequest& iq, bool block) {
    if (!own(iq)) return;
    if (!iq.set()) return server_.bounce(iq.stanza, "modify", "bad-request", "A block list is changed with a set");
    JidSet jids;
    std::vector<Report> reports;
    std::vector<const xml::Element*> shared_reports;  // in <block/> itself, as slixmpp 1.8 puts it: for every item
    for (const xml::Element* c : iq.payload.children()) {
      if (block && (c->ns() == kReportingNs || c->ns() == kReportingNs0) && c->name() == "report") {
        shared_reports.push_back(c);
        continue;
      }
      if (!c->is(kBlockingNs, "item") || c->attribute("jid") == nullptr)
        return server_.bounce(iq.stanza, "modify", "bad-request", "Each <item/> names a JID");
      auto jid = xmpp::Jid::parse(c->attribute_or("jid"));
      if (!jid)
        return server_.bounce(iq.stanza, "modify", "jid-malformed", "'" + c->attribute_or("jid") + "' is no JID");
      const std::string prepared = jid->full();
      jids.insert(prepared);
      if (!block) continue;
      for (const xml::Element* r : c->children())
        if (r->name() == "report" && !read_report(*r, prepared, reports))
          return server_.bounce(iq.stanza, "modify", "bad-request",
                                "A report names its reason: urn:xmpp:reporting:spam or urn:xmpp:reporting:abuse");
    }
    if (block && jids.empty())
      return server_.bounce(iq.stanza, "modify", "bad-request", "A block names at least one JID (XEP-0191 §3.3)");
    for (const xml::Element* r : shared_reports)
      for (const std::string& jid : jids)
        if (!read_report(*r, jid, reports))
          return server_.bounce(iq.stanza, "modify", "bad-request",
                                "A report names its reason: urn:xmpp:reporting:spam or urn:xmpp:reporting:abuse");

    const std::string bare = iq.session->bare();
    const JidSet* current = list_of(bare);
    const JidSet before = current != nullptr ? *current : JidSet{};
    JidSet after = before;
    ItemStore& items = server_.items();
    Outcome outcome;
    if (block) {
      const ItemStore::Limits limits{.max_items = server_.quotas().blocklist_items};
      outcome = items.atomically([&] {
        for (const std::string& jid : jids)
          if (Outcome o = items.put({bare, kStore, "", jid}, "", limits); o != Outcome::kStored) return o;
        return Outcome::kStored;
      });
      after.insert(jids.begin(), jids.end());
    } else if (jids.empty()) {
      outcome = items.remove_node(bare, kStore, "");  // XEP-0191 §3.5: unblock all
      after.clear();
    } else {
      outcome = items.atomically([&] {
        for (const std::string& jid : jids)
          if (Outcome o = items.remove({bare, kStore, "", jid}); o != Outcome::kStored) return o;
        return Outcome::kStored;
      });
      for (const std::string& jid : jids) after.erase(jid);
    }
    if (outcome == Outcome::kOverQuota)
      return server_.bounce(iq.stanza, "modify", "policy-violation",
                            "A block list holds at most " + std::to_string(server_.quotas().blocklist_items) +
                                " JIDs; nothing of this block was stored");
    // The result says the list changed: the change is on disk first.
    if (outcome != Outcome::kStored || !server_.store().commit())
      return server_.bounce(iq.stanza, "wait", "internal-server-error");
    remember(bare, after);
    server_.send(xmpp::reply(iq.stanza, "result"));

    for (const Report& r : reports)
      log::notice("blocklist: %s reports %s for %s%s%s", iq.session->full().c_str(), r.jid.c_str(), r.reason.c_str(),
                  r.text.empty() ? "" : ": ", loggable(r.text).c_str());
    tell_contacts(*iq.session, before, after);
    if (block) drop_requests(bare, before, after);
    push(bare, block, jids);
  }

  // A subscription request waiting from a JID now blocked would be delivered again at each
  // login, past the filters, and the user could no longer refuse it (the refusal would be
  // blocked): it goes, as in Prosody.
  void drop_requests(const std::string& bare, const JidSet& before, const JidSet& after) {
    constexpr std::size_t kPage = 64;
    UserStore& store = server_.store();
    std::vector<std::string> senders;
    std::int64_t after_row = 0;
    for (;;) {
      const std::vector<UserStore::Request> page = store.subscription_requests(bare, after_row, kPage);
      for (const UserStore::Request& request : page) {
        auto stanza = xml::parse_fragment(request.stanza, xmpp::kClientNs, request.stanza.size());
        auto from = stanza ? xmpp::Jid::parse(stanza->attribute_or("from")) : std::nullopt;
        if (from && matches(after, *from) && !matches(before, *from)) senders.push_back(from->bare());
      }
      if (page.size() < kPage) break;
      after_row = page.back().rowid;
    }
    for (const std::string& sender : senders) store.delete_subscription_request(bare, sender);
  }

  // XEP-0191 §3.3 and §3.4: contacts subscribed to the user's presence see the user go when
  // they are blocked, and come back when unblocked.
  void tell_contacts(ClientStream& user, const JidSet& before, const JidSet& after) {
    std::vector<ClientStream*> available;
    for (ClientStream* s : server_.sessions().resources(user.bare()))
      if (s->available()) available.push_back(s);
    if (available.empty()) return;
    for (const UserStore::RosterItem& contact : server_.store().roster(user.bare())) {
      if (contact.subscription != "from" && contact.subscription != "both") continue;
      auto jid = xmpp::Jid::parse(contact.contact);
      if (!jid) continue;
      const bool was = matches(before, *jid), is = matches(after, *jid);
      if (was == is) continue;
      for (ClientStream* s : available) {
        xml::Element p = is ? xml::Element(xmpp::kClientNs, "presence") : s->last_presence();
        p.set_attribute("from", s->full());
        p.set_attribute("to", contact.contact);
        if (is) p.set_attribute("type", "unavailable");
        send_presence(p, *jid, is);
      }
    }
  }

  // Past the user's own filter, which now blocks the contact when `blocking`.
  void send_presence(const xml::Element& p, const xmpp::Jid& to, bool blocking) {
    if (!server_.is_local(to.domain())) {
      server_.send(p);
    } else if (!blocking) {
      server_.im().inbound_presence(p, to);
    } else if (!refuse_inbound(p, to)) {  // unless the contact blocks the user in turn
      for (ClientStream* s : server_.sessions().resources(to.bare()))
        if (s->available()) s->deliver(p);
    }
  }

  // XEP-0191 §3.3: the change, to each of the user's sessions that asked for the list.
  void push(const std::string& bare, bool block, const JidSet& jids) {
    for (ClientStream* s : server_.sessions().resources(bare)) {
      if (interested_.count(s) == 0) continue;
      xml::Element iq(xmpp::kClientNs, "iq");
      iq.set_attribute("type", "set");
      iq.set_attribute("id", "blocklist-push-" + std::to_string(++pushes_));
      iq.set_attribute("to", s->full());
      xml::Element change(kBlockingNs, block ? "block" : "unblock");
      for (const std::string& jid : jids) change.add_child(item(jid));
      iq.add_child(std::move(change));
      s->deliver(iq);
    }
  }

  using Outcome = ItemStore::Outcome;
  Server& server_;
  bool loaded_ = false;
  // domain → local → the list, read from the store at its first use. Only users whose list
  // is not empty are here.
  std::map<std::string, std::map<std::string, std::optional<JidSet>, std::less<>>, std::less<>> lists_;
  std::set<ClientStream*> interested_;
  std::uint64_t pushes_ = 0;
};

}  // namespace

std::unique_ptr<Module> make_blocklist(const ModuleContext& context) { return std::make_unique<Blocklist>(context); }

}  // namespace xmppd::router
