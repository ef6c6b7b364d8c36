// disco (XEP-0030): what the server and each account offer, built from the modules the host
// enables; and the server's entity capabilities (XEP-0115) in the stream features, so that a
// client learns them without asking.
#include "router/modules/caps.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kItemsNs = "http://jabber.org/protocol/disco#items";
constexpr std::string_view kCapsNode = "https://xmppd.org";

xml::Element identity(std::string_view category, std::string_view type) {
  xml::Element e(kInfoNs, "identity");
  e.set_attribute("category", std::string(category));
  e.set_attribute("type", std::string(type));
  return e;
}

xml::Element feature(std::string_view var) {
  xml::Element e(kInfoNs, "feature");
  e.set_attribute("var", std::string(var));
  return e;
}

class Disco final : public Module {
 public:
  explicit Disco(const ModuleContext& context)
      : Module("disco", context.index), server_(context.server), table_(context.table) {
    context.table.on_iq(IqScope::kServer, kInfoNs, "query", *this, [this](const IqRequest& iq) { server_info(iq); });
    context.table.on_iq(IqScope::kServer, kItemsNs, "query", *this, [this](const IqRequest& iq) { server_items(iq); });
    context.table.on_iq(IqScope::kAccount, kInfoNs, "query", *this, [this](const IqRequest& iq) { account_info(iq); });
    context.table.on_iq(IqScope::kAccount, kItemsNs, "query", *this,
                        [this](const IqRequest& iq) { account_items(iq); });
  }
  void server_features(std::vector<std::string>& features) const override {
    features.emplace_back(kInfoNs);
    features.emplace_back(kItemsNs);
  }
  void account_features(std::vector<std::string>& features) const override { features.emplace_back(kInfoNs); }
  void stream_features(const HostConfig& host, std::string& out) const override {
    out += "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='";
    out += kCapsNode;
    out += "' ver='";
    out += caps_ver(server_query(host));
    out += "'/>";
  }

 private:
  // The server's disco#info: its identity, the enabled modules' features and forms.
  xml::Element server_query(const HostConfig& host) const {
    xml::Element query(kInfoNs, "query");
    query.add_child(identity("server", "im"));
    for (const std::string& f : table_.server_features(host.modules)) query.add_child(feature(f));
    for (xml::Element& form : table_.server_forms(host)) query.add_child(std::move(form));
    return query;
  }

  void server_info(const IqRequest& iq) {
    const HostConfig* host = server_.host(iq.to.domain());
    if (iq.set() || host == nullptr) return server_.bounce(iq.stanza, "cancel", "service-unavailable");
    xml::Element query = server_query(*host);
    // A node is asked for only as the one our caps named (XEP-0115 §6.2).
    const std::string* node = iq.payload.attribute("node");
    if (node != nullptr) {
      if (*node != std::string(kCapsNode) + "#" + caps_ver(query))
        return server_.bounce(iq.stanza, "cancel", "item-not-found");
      query.set_attribute("node", *node);
    }
    xml::Element result = xmpp::reply(iq.stanza, "result");
    result.add_child(std::move(query));
    server_.send(result);
  }

  // The host's components (a MUC service: how Conversations finds its group chat server).
  void server_items(const IqRequest& iq) {
    const HostConfig* host = server_.host(iq.to.domain());
    if (iq.set() || host == nullptr) return server_.bounce(iq.stanza, "cancel", "service-unavailable");
    xml::Element result = xmpp::reply(iq.stanza, "result");
    xml::Element& query = result.add_child(xml::Element(kItemsNs, "query"));
    if (const std::string* node = iq.payload.attribute("node")) {
      query.set_attribute("node", *node);  // no node has items here
    } else {
      for (const std::string& jid : host->components) query.add_child(xml::Element(kItemsNs, "item", {{"jid", jid}}));
    }
    server_.send(result);
  }

  // Only the user and its subscribers learn that the account exists and what it offers.
  bool may_see(const IqRequest& iq) {
    if (iq.from_self()) return true;
    auto item = server_.store().roster_item(iq.to.bare(), iq.from.bare());
    return item && (item->subscription == "from" || item->subscription == "both");
  }

  void account_info(const IqRequest& iq) {
    const HostConfig* host = server_.host(iq.to.domain());
    if (iq.set() || host == nullptr || !may_see(iq)) return server_.bounce(iq.stanza, "cancel", "service-unavailable");
    xml::Element result = xmpp::reply(iq.stanza, "result");
    xml::Element& query = result.add_child(xml::Element(kInfoNs, "query"));
    if (const std::string* node = iq.payload.attribute("node")) query.set_attribute("node", *node);
    query.add_child(identity("account", "registered"));
    for (const auto& [category, type] : table_.account_identities(host->modules))
      query.add_child(identity(category, type));
    for (const std::string& f : table_.account_features(host->modules)) query.add_child(feature(f));
    server_.send(result);
  }

  void account_items(const IqRequest& iq) {
    const HostConfig* host = server_.host(iq.to.domain());
    if (iq.set() || host == nullptr || !may_see(iq)) return server_.bounce(iq.stanza, "cancel", "service-unavailable");
    xml::Element result = xmpp::reply(iq.stanza, "result");
    xml::Element query(kItemsNs, "query");
    table_.account_items(host->modules, iq.to.bare(), iq.from, query);
    result.add_child(std::move(query));
    server_.send(result);
  }

  Server& server_;
  const ModuleTable& table_;
};

}  // namespace

std::unique_ptr<Module> make_disco(const ModuleContext& context) { return std::make_unique<Disco>(context); }

}  // namespace xmppd::router
