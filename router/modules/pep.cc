// pep (XEP-0163): each account a pubsub service (XEP-0060, the subset clients use) of its
// own: publish with publish-options, retract, items, node configuration and deletion; the
// access models presence (the default), open, roster and whitelist (the owner alone);
// notifications to the clients whose caps ask for them (router/modules/pep_caps.h), the
// owner's own included, here and on other servers; the last item of each node when such a
// client becomes available. Items and node configurations are kept in the item store
// ("pep" and "pep_config"), within the user's quotas.
#include "router/modules/pep.h"

#include <openssl/rand.h>

#include <algorithm>

#include "router/c2s_stream.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/modules/pep_caps.h"
#include "router/modules/pep_node.h"
#include "router/server.h"
#include "xml/fragment.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

using pep::kErrorsNs;
using pep::kEventNs;
using pep::kOwnerNs;
using pep::kPubsubNs;
using pep::NodeConfig;

constexpr std::string_view kItems = "pep";
constexpr std::string_view kConfigs = "pep_config";
constexpr std::string_view kStanzaErrorNs = "urn:ietf:params:xml:ns:xmpp-stanzas";

std::string random_id() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "item";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}


// The single element child of `e`, or null.
const xml::Element* only_child(const xml::Element& e) {
  auto children = e.children();
  return children.size() == 1 ? children.front() : nullptr;
}

// What went wrong, as XEP-0060 says it.
struct Failure {
  std::string type, condition, pubsub, text;
};

class Pep final : public Module, public PepService {
 public:
  explicit Pep(const ModuleContext& context)
      : Module("pep", context.index), server_(context.server),
        interests_(context.server, [this](const xmpp::Jid& full, const std::string& owner) { learnt(full, owner); }) {
    ModuleTable& table = context.table;
    table.on_iq(IqScope::kAccount, kPubsubNs, "pubsub", *this, [this](const IqRequest& iq) { pubsub(iq); });
    table.on_iq(IqScope::kAccount, kOwnerNs, "pubsub", *this, [this](const IqRequest& iq) { owner(iq); });
    Hooks& hooks = table.hooks();
    // A presence costs this module something only if it has caps or its sender is followed.
    hooks.presence_broadcast.add(*this, [this](ClientStream& s, xml::Element& presence) {
      if (presence.child(pep::kCapsNs, "c") == nullptr && !interests_.follows(s.bare())) return;
      if (auto jid = xmpp::Jid::parse(s.full())) interests_.presence(presence, *jid, s.bare());
    });
    hooks.presence_received.add(*this, [this](const xml::Element& presence, const xmpp::Jid& to) {
      const std::string* from_text = presence.attribute("from");
      if (from_text == nullptr) return;
      std::string_view bare = std::string_view(*from_text).substr(0, from_text->find('/'));
      const bool caps = presence.child(pep::kCapsNs, "c") != nullptr;
      if (!caps && !interests_.follows(bare)) return;
      // Followed only when it is a contact's: a stranger's directed presences would
      // otherwise take the budget of followed clients, and make the server ask whomever
      // they name for its disco#info.
      if (caps && presence.attribute("type") == nullptr && bare != to.bare()) {
        auto item = server_.store().roster_item(to.bare(), bare);
        if (!item || item->subscription == "none") return;
      }
      auto from = xmpp::Jid::parse(*from_text);
      if (from && from->has_resource()) interests_.presence(presence, *from, to.bare());
    });
    hooks.session_ended.add(*this, [this](ClientStream& s) {
      if (!interests_.follows(s.bare())) return;
      if (auto jid = xmpp::Jid::parse(s.full())) interests_.forget(*jid);
    });
    hooks.user_removed.add(*this, [this](const std::string& bare) {
      interests_.forget_owner(bare);
      server_.items().remove_store(bare, kItems);
      server_.items().remove_store(bare, kConfigs);
    });
  }

  void account_identities(std::vector<std::pair<std::string, std::string>>& identities) const override {
    identities.emplace_back("pubsub", "pep");
  }
  void account_features(std::vector<std::string>& features) const override {
    features.emplace_back(kPubsubNs);
    for (std::string_view f : {"access-open", "access-presence", "access-roster", "access-whitelist", "auto-create",
                               "auto-subscribe", "config-node", "create-nodes", "delete-items", "delete-nodes",
                               "filtered-notifications", "item-ids", "last-published", "persistent-items",
                               "publish", "purge-nodes", "publish-options", "retract-items", "retrieve-items"})
      features.push_back(std::string(kPubsubNs) + "#" + std::string(f));
  }
  void account_items(const std::string& bare, const xmpp::Jid& from, xml::Element& query) override {
    for (const std::string& node : server_.items().nodes(bare, kConfigs)) {
      auto config = config_of(bare, node);
      if (!config || !may_access(bare, *config, from.bare())) continue;
      xml::Element item(query.ns(), "item");
      item.set_attribute("jid", bare);
      item.set_attribute("node", node);
      query.add_child(std::move(item));
    }
  }

  // PepService
  Outcome publish(const std::string& bare, std::string_view node, std::string_view id, const xml::Element& payload,
                  std::string_view access_model) override {
    std::string item_id(id);
    auto failure = publish_item(bare, std::string(node), item_id, payload, nullptr, access_model);
    if (!failure) return Outcome::kStored;
    return failure->condition == "internal-server-error" ? Outcome::kFailed : Outcome::kOverQuota;
  }
  Outcome retract(const std::string& bare, std::string_view node, std::string_view id) override {
    auto config = config_of(bare, node);
    if (!config || !server_.items().get({bare, kItems, node, id})) return Outcome::kStored;
    Outcome outcome = server_.items().remove({bare, kItems, node, id});
    if (outcome == Outcome::kStored) retracted(bare, std::string(node), *config, std::string(id));
    return outcome;
  }
  std::optional<xml::Element> item(const std::string& bare, std::string_view node, std::string_view id) override {
    if (id.empty()) {
      auto newest = server_.items().items(bare, kItems, node, 1);
      if (newest.empty()) return std::nullopt;
      return xml::parse_fragment(newest.front().value, "", kMaxValue);
    }
    auto value = server_.items().get({bare, kItems, node, id});
    if (!value) return std::nullopt;
    return xml::parse_fragment(*value, "", kMaxValue);
  }
  void on_change(Listener listener) override { listeners_.push_back(std::move(listener)); }
  bool may_read(const std::string& bare, std::string_view node, const std::string& who) override {
    auto config = config_of(bare, node);
    return config && may_access(bare, *config, who);
  }
  Outcome create_node(const std::string& bare, std::string_view node, std::string_view access_model,
                      bool max) override {
    if (config_of(bare, node)) return Outcome::kStored;
    NodeConfig config;
    if (!access_model.empty()) config.access_model = std::string(access_model);
    if (max) config.max_items = max_items();
    return server_.items().put({bare, kConfigs, node, ""}, config.serialize(),
                               {0, false, server_.quotas().pep_nodes, 0});
  }
  std::vector<std::pair<std::string, xml::Element>> items(const std::string& bare, std::string_view node) override {
    std::vector<std::pair<std::string, xml::Element>> out;
    for (ItemStore::Item& i : server_.items().items(bare, kItems, node))
      if (auto payload = xml::parse_fragment(i.value, "", kMaxValue)) out.emplace_back(std::move(i.id), std::move(*payload));
    return out;
  }

 private:
  static constexpr std::size_t kMaxValue = 1 << 20;

  std::size_t max_items() const { return std::max<std::size_t>(1, server_.quotas().pep_items); }

  std::optional<NodeConfig> config_of(std::string_view bare, std::string_view node) {
    auto stored = server_.items().get({bare, kConfigs, node, ""});
    if (!stored) return std::nullopt;
    auto config = NodeConfig::parse(*stored);
    return config ? config : NodeConfig{};
  }

  // XEP-0060 §6.1.3, XEP-0163 §4.1: who may see a node's items.
  bool may_access(const std::string& owner, const NodeConfig& config, const std::string& who) {
    if (who == owner || config.access_model == "open") return true;
    if (config.access_model == "whitelist") return false;
    auto item = server_.store().roster_item(owner, who);
    if (!item) return false;
    return config.access_model == "roster" || item->subscription == "from" || item->subscription == "both";
  }

  void fail(const xml::Element& stanza, const Failure& f) {
    if (xmpp::is_error(stanza)) return;
    xml::Element out = xmpp::reply(stanza, "error");
    xml::Element error(stanza.ns(), "error");
    error.set_attribute("type", f.type);
    error.add_child(xml::Element(kStanzaErrorNs, f.condition));
    if (!f.pubsub.empty()) error.add_child(xml::Element(kErrorsNs, f.pubsub));
    if (!f.text.empty()) {
      xml::Element t(kStanzaErrorNs, "text");
      t.add_text(f.text);
      error.add_child(std::move(t));
    }
    out.add_child(std::move(error));
    server_.send(out);
  }

  // IQs in the pubsub namespace: publish, retract, items, create.
  void pubsub(const IqRequest& iq) {
    const xml::Element* action = nullptr;
    const xml::Element* options = nullptr;
    for (const xml::Element* e : iq.payload.children()) {
      if (e->name() == "publish-options" || e->name() == "configure")
        options = e->child(pep::kDataNs, "x");
      else if (action == nullptr)
        action = e;
    }
    if (action == nullptr || action->ns() != kPubsubNs) return fail(iq.stanza, {"modify", "bad-request", "", ""});
    const std::string& verb = action->name();
    std::string node = action->attribute_or("node");
    std::string bare = iq.to.bare();
    if (verb == "items") {
      if (iq.set()) return fail(iq.stanza, {"modify", "bad-request", "", ""});
      return items(iq, bare, node, *action);
    }
    if (!iq.set()) return fail(iq.stanza, {"modify", "bad-request", "", ""});
    if (verb != "publish" && verb != "retract" && verb != "create")
      return fail(iq.stanza, {"cancel", "feature-not-implemented", "unsupported", ""});
    if (!iq.from_self()) return fail(iq.stanza, {"auth", "forbidden", "", ""});
    if (node.empty()) return fail(iq.stanza, {"modify", "bad-request", "nodeid-required", ""});
    if (verb == "create") return create(iq, bare, node, options);
    if (verb == "retract") return retract_iq(iq, bare, node, *action);
    const xml::Element* item = only_child(*action);
    if (item == nullptr || item->name() != "item" || item->ns() != kPubsubNs)
      return fail(iq.stanza, {"modify", "bad-request", "item-required", ""});
    const xml::Element* payload = only_child(*item);
    if (payload == nullptr) return fail(iq.stanza, {"modify", "bad-request", "payload-required", ""});
    std::string id = item->attribute_or("id");
    if (auto failure = publish_item(bare, node, id, *payload, options, {})) return fail(iq.stanza, *failure);
    xml::Element result = xmpp::reply(iq.stanza, "result");
    xml::Element ps(kPubsubNs, "pubsub");
    xml::Element publish(kPubsubNs, "publish");
    publish.set_attribute("node", node);
    xml::Element published(kPubsubNs, "item");
    published.set_attribute("id", id);
    publish.add_child(std::move(published));
    ps.add_child(std::move(publish));
    result.add_child(std::move(ps));
    server_.send(result);
  }

  // Publishes, creating the node if need be; nothing is stored unless all of it is.
  std::optional<Failure> publish_item(const std::string& bare, const std::string& node, std::string& id,
                                      const xml::Element& payload, const xml::Element* options,
                                      std::string_view access_model) {
    const UserQuotas& quotas = server_.quotas();
    auto config = config_of(bare, node);
    bool created = !config;
    std::string error;
    if (created) {
      config = NodeConfig{};
      if (!access_model.empty()) config->access_model = std::string(access_model);
      if (options != nullptr && !pep::apply_form(*options, max_items(), *config, error))
        return Failure{"modify", "not-acceptable", "", error};
    } else if (options != nullptr && !pep::satisfies(*options, max_items(), *config, error)) {
      // A value no node may have; else XEP-0060 §7.1.5: the node is as it is, and the client
      // may reconfigure it and try again.
      if (!error.empty()) return Failure{"modify", "not-acceptable", "", error};
      return Failure{"cancel", "conflict", "precondition-not-met",
                     "The node's configuration does not match the publish-options"};
    }
    std::string value;
    payload.serialize(value);
    if (value.size() > kMaxValue || (quotas.pep_bytes != 0 && value.size() > quotas.pep_bytes))
      return Failure{"modify", "not-acceptable", "payload-too-big", "The item is larger than the server keeps"};
    if (id.empty()) id = random_id();
    // A new node's configuration and its first item, both or neither.
    ItemStore& store = server_.items();
    bool nodes_full = false;
    Outcome o = store.atomically([&] {
      if (created) {
        Outcome c = store.put({bare, kConfigs, node, ""}, config->serialize(), {0, false, quotas.pep_nodes, 0});
        nodes_full = c == Outcome::kOverQuota;
        if (c != Outcome::kStored) return c;
      }
      return store.put({bare, kItems, node, id}, value, {config->max_items, true, 0, quotas.pep_bytes});
    });
    if (o == Outcome::kOverQuota && nodes_full)
      return Failure{"wait", "resource-constraint", "max-nodes-exceeded",
                     "Your account has as many nodes as it may (" + std::to_string(quotas.pep_nodes) + ")"};
    if (o == Outcome::kOverQuota)
      return Failure{"wait", "resource-constraint", "",
                     "Your account's items take all the space it may use (" + std::to_string(quotas.pep_bytes) +
                         " bytes)"};
    if (o != Outcome::kStored) return Failure{"wait", "internal-server-error", "", ""};
    xml::Element item(kEventNs, "item");
    item.set_attribute("id", id);
    item.add_child(payload);
    xml::Element items(kEventNs, "items");
    items.set_attribute("node", node);
    items.add_child(std::move(item));
    notify(bare, node, *config, std::move(items));
    for (const Listener& l : listeners_) l(bare, node, id, &payload);
    return std::nullopt;
  }

  void create(const IqRequest& iq, const std::string& bare, const std::string& node, const xml::Element* options) {
    if (config_of(bare, node)) return fail(iq.stanza, {"cancel", "conflict", "", "The node exists"});
    NodeConfig config;
    std::string error;
    if (options != nullptr && !pep::apply_form(*options, max_items(), config, error))
      return fail(iq.stanza, {"modify", "not-acceptable", "", error});
    Outcome o = server_.items().put({bare, kConfigs, node, ""}, config.serialize(),
                                    {0, false, server_.quotas().pep_nodes, 0});
    if (o == Outcome::kOverQuota) return fail(iq.stanza, {"wait", "resource-constraint", "max-nodes-exceeded", ""});
    if (o != Outcome::kStored) return fail(iq.stanza, {"wait", "internal-server-error", "", ""});
    server_.send(xmpp::reply(iq.stanza, "result"));
  }

  void retract_iq(const IqRequest& iq, const std::string& bare, const std::string& node, const xml::Element& action) {
    const xml::Element* item = only_child(action);
    std::string id = item != nullptr && item->name() == "item" ? item->attribute_or("id") : std::string();
    if (id.empty()) return fail(iq.stanza, {"modify", "bad-request", "item-required", ""});
    auto config = config_of(bare, node);
    if (!config || !server_.items().get({bare, kItems, node, id}))
      return fail(iq.stanza, {"cancel", "item-not-found", "", ""});
    if (server_.items().remove({bare, kItems, node, id}) != Outcome::kStored)
      return fail(iq.stanza, {"wait", "internal-server-error", "", ""});
    server_.send(xmpp::reply(iq.stanza, "result"));
    // Subscribers hear of it unless the owner asks otherwise: the node's pubsub#notify_retract
    // is on, as in Prosody, and other clients must drop what was retracted (a bookmark).
    const std::string notify = action.attribute_or("notify", "true");
    retracted(bare, node, *config, id, notify != "0" && notify != "false");
  }

  void retracted(const std::string& bare, const std::string& node, const NodeConfig& config, const std::string& id,
                 bool tell = true) {
    if (tell) {
      xml::Element retract(kEventNs, "retract");
      retract.set_attribute("id", id);
      xml::Element items(kEventNs, "items");
      items.set_attribute("node", node);
      items.add_child(std::move(retract));
      notify(bare, node, config, std::move(items));
    }
    for (const Listener& l : listeners_) l(bare, node, id, nullptr);
  }

  void items(const IqRequest& iq, const std::string& bare, const std::string& node, const xml::Element& action) {
    if (node.empty()) return fail(iq.stanza, {"modify", "bad-request", "nodeid-required", ""});
    auto config = config_of(bare, node);
    if (!config) return fail(iq.stanza, {"cancel", "item-not-found", "", ""});
    std::string who = iq.from.bare();
    if (!may_access(bare, *config, who)) {
      if (config->access_model == "whitelist") return fail(iq.stanza, {"cancel", "not-allowed", "closed-node", ""});
      if (config->access_model == "roster") return fail(iq.stanza, {"auth", "not-authorized", "not-in-roster-group", ""});
      return fail(iq.stanza, {"auth", "not-authorized", "presence-subscription-required", ""});
    }
    std::vector<ItemStore::Item> found;
    std::vector<std::string> ids;
    for (const xml::Element* e : action.children())
      if (e->name() == "item") ids.push_back(e->attribute_or("id"));
    if (!ids.empty()) {
      for (const std::string& id : ids)
        if (auto value = server_.items().get({bare, kItems, node, id})) found.push_back({id, *value});
    } else {
      std::size_t max = 0;
      std::string text = action.attribute_or("max_items");
      if (!text.empty()) {
        try {
          max = std::stoul(text);
        } catch (...) {
          return fail(iq.stanza, {"modify", "bad-request", "", "max_items must be a number"});
        }
        if (max == 0) return fail(iq.stanza, {"modify", "bad-request", "", "max_items must be a number"});
      }
      found = server_.items().items(bare, kItems, node, max);
    }
    xml::Element result = xmpp::reply(iq.stanza, "result");
    xml::Element ps(kPubsubNs, "pubsub");
    xml::Element list(kPubsubNs, "items");
    list.set_attribute("node", node);
    for (const ItemStore::Item& i : found) {
      xml::Element item(kPubsubNs, "item");
      item.set_attribute("id", i.id);
      if (auto payload = xml::parse_fragment(i.value, "", kMaxValue)) item.add_child(std::move(*payload));
      list.add_child(std::move(item));
    }
    ps.add_child(std::move(list));
    result.add_child(std::move(ps));
    server_.send(result);
  }

  // IQs in the owner namespace: configure and delete, by the owner alone.
  void owner(const IqRequest& iq) {
    const xml::Element* action = only_child(iq.payload);
    if (action == nullptr || action->ns() != kOwnerNs) return fail(iq.stanza, {"modify", "bad-request", "", ""});
    if (!iq.from_self()) return fail(iq.stanza, {"auth", "forbidden", "", ""});
    std::string bare = iq.to.bare();
    std::string node = action->attribute_or("node");
    if (action->name() != "configure" && action->name() != "delete" && action->name() != "purge")
      return fail(iq.stanza, {"cancel", "feature-not-implemented", "unsupported", ""});
    if (node.empty()) return fail(iq.stanza, {"modify", "bad-request", "nodeid-required", ""});
    auto config = config_of(bare, node);
    if (!config) return fail(iq.stanza, {"cancel", "item-not-found", "", ""});
    if (action->name() == "purge") {
      if (!iq.set()) return fail(iq.stanza, {"modify", "bad-request", "", ""});
      if (server_.items().remove_node(bare, kItems, node) != Outcome::kStored)
        return fail(iq.stanza, {"wait", "internal-server-error", "", ""});
      server_.send(xmpp::reply(iq.stanza, "result"));
      xml::Element purge(kEventNs, "purge");
      purge.set_attribute("node", node);
      return notify(bare, node, *config, std::move(purge));
    }
    if (action->name() == "delete") {
      if (!iq.set()) return fail(iq.stanza, {"modify", "bad-request", "", ""});
      xml::Element del(kEventNs, "delete");
      del.set_attribute("node", node);
      ItemStore& store = server_.items();
      Outcome removed = store.atomically([&] {
        Outcome items = store.remove_node(bare, kItems, node);
        return items == Outcome::kStored ? store.remove_node(bare, kConfigs, node) : items;
      });
      if (removed != Outcome::kStored) return fail(iq.stanza, {"wait", "internal-server-error", "", ""});
      server_.send(xmpp::reply(iq.stanza, "result"));
      return notify(bare, node, *config, std::move(del));
    }
    if (!iq.set()) {
      xml::Element result = xmpp::reply(iq.stanza, "result");
      xml::Element ps(kOwnerNs, "pubsub");
      xml::Element configure(kOwnerNs, "configure");
      configure.set_attribute("node", node);
      configure.add_child(config->form(max_items()));
      ps.add_child(std::move(configure));
      result.add_child(std::move(ps));
      return server_.send(result);
    }
    const xml::Element* form = action->child(pep::kDataNs, "x");
    if (form == nullptr) return fail(iq.stanza, {"modify", "bad-request", "", "No configuration form"});
    if (form->attribute_or("type") == "cancel") return server_.send(xmpp::reply(iq.stanza, "result"));
    NodeConfig next = *config;
    std::string error;
    if (!pep::apply_form(*form, max_items(), next, error)) return fail(iq.stanza, {"modify", "not-acceptable", "", error});
    ItemStore& store = server_.items();
    // The configuration and the items it no longer keeps (the oldest), together.
    Outcome configured = store.atomically([&] {
      Outcome outcome = store.put({bare, kConfigs, node, ""}, next.serialize(), {});
      auto kept = store.items(bare, kItems, node);
      for (std::size_t i = 0; outcome == Outcome::kStored && i + next.max_items < kept.size(); ++i)
        outcome = store.remove({bare, kItems, node, kept[i].id});
      return outcome;
    });
    if (configured != Outcome::kStored) return fail(iq.stanza, {"wait", "internal-server-error", "", ""});
    server_.send(xmpp::reply(iq.stanza, "result"));
  }

  // A notification: to a local client as any stanza for the user (its block list applies),
  // else to the other server.
  void deliver(const xml::Element& m, const xmpp::Jid& to) {
    if (server_.is_local(to.domain()))
      server_.to_user(m, to);
    else
      server_.send(m);
  }

  xml::Element message(const std::string& bare, xml::Element content) {
    xml::Element m("jabber:client", "message");
    m.set_attribute("from", bare);
    m.set_attribute("type", "headline");
    m.set_attribute("id", random_id());
    xml::Element event(kEventNs, "event");
    event.add_child(std::move(content));
    m.add_child(std::move(event));
    return m;
  }

  // An event of the node to every client that wants it and may see it.
  void notify(const std::string& bare, const std::string& node, const NodeConfig& config, xml::Element content) {
    xml::Element m = message(bare, std::move(content));
    auto send = [&](const xmpp::Jid& to) {
      m.set_attribute("to", to.full());
      deliver(m, to);
    };
    auto local_sessions = [&](const std::string& user) {
      for (ClientStream* s : server_.sessions().resources(user)) {
        auto jid = xmpp::Jid::parse(s->full());
        if (jid && s->available() && interests_.wants(*jid, node, nullptr)) send(*jid);
      }
    };
    local_sessions(bare);
    if (config.access_model == "whitelist") return;
    for (const auto& item : server_.store().roster(bare)) {
      bool allowed = config.access_model == "open" || config.access_model == "roster" ||
                     item.subscription == "from" || item.subscription == "both";
      if (!allowed) continue;
      auto contact = xmpp::Jid::parse(item.contact);
      if (!contact) continue;
      if (server_.is_local(contact->domain()))
        local_sessions(item.contact);
      else
        for (const xmpp::Jid& jid : interests_.wanting(item.contact, node, bare)) send(jid);
    }
  }

  // The newest item of each of `owner`'s nodes that `to` wants and may see (XEP-0163 §4.3.3).
  void send_last(const std::string& owner, const xmpp::Jid& to, const std::string* seen_by) {
    for (const std::string& node : server_.items().nodes(owner, kConfigs)) {
      if (!interests_.wants(to, node, seen_by)) continue;
      auto config = config_of(owner, node);
      if (!config || !may_access(owner, *config, to.bare())) continue;
      auto newest = server_.items().items(owner, kItems, node, 1);
      if (newest.empty()) continue;
      auto payload = xml::parse_fragment(newest.front().value, "", kMaxValue);
      if (!payload) continue;
      xml::Element item(kEventNs, "item");
      item.set_attribute("id", newest.front().id);
      item.add_child(std::move(*payload));
      xml::Element items(kEventNs, "items");
      items.set_attribute("node", node);
      items.add_child(std::move(item));
      xml::Element m = message(owner, std::move(items));
      m.set_attribute("to", to.full());
      deliver(m, to);
    }
  }

  // The nodes a client wants are known: the last items it may see are due. A local session
  // gets its own user's and its local contacts'; a remote client those of the user who saw
  // its presence.
  void learnt(const xmpp::Jid& full, const std::string& owner) {
    if (!server_.is_local(full.domain())) return send_last(owner, full, &owner);
    if (owner != full.bare()) return;
    send_last(owner, full, nullptr);
    for (const auto& item : server_.store().roster(owner)) {
      if (item.subscription != "to" && item.subscription != "both") continue;
      auto contact = xmpp::Jid::parse(item.contact);
      if (contact && server_.is_local(contact->domain())) send_last(item.contact, full, nullptr);
    }
  }

  Server& server_;
  pep::Interests interests_;
  std::vector<Listener> listeners_;
};

}  // namespace

PepService* find_pep(ModuleTable& table) { return dynamic_cast<Pep*>(table.find("pep")); }

std::unique_ptr<Module> make_pep(const ModuleContext& context) { return std::make_unique<Pep>(context); }

}  // namespace xmppd::router
