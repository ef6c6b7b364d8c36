// disco (XEP-0030): what the server and each account offer, built from the modules the host
// enables; and the server's entity capabilities (XEP-0115) in the stream features, so that a
// client learns them without asking.
#include <openssl/evp.h>

#include <algorithm>

#include "common/base64.h"
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

// The values of a form's field, in document order.
std::vector<std::string> values(const xml::Element& field) {
  std::vector<std::string> out;
  for (const xml::Element* v : field.children())
    if (v->name() == "value") out.push_back(v->text());
  return out;
}

// XEP-0115 §5.1: the verification string of the server's identity, features and forms,
// hashed with SHA-1 (§5.4 asks for it; it names the set, it does not protect it).
std::string caps_ver(const std::vector<std::string>& features, const std::vector<xml::Element>& forms) {
  std::string s = "server/im//<";
  for (const std::string& f : features) s += f + "<";
  std::vector<std::pair<std::string, const xml::Element*>> by_type;
  for (const xml::Element& form : forms)
    for (const xml::Element* field : form.children())
      if (field->attribute_or("var") == "FORM_TYPE" && !values(*field).empty())
        by_type.emplace_back(values(*field).front(), &form);
  std::sort(by_type.begin(), by_type.end());
  for (const auto& [type, form] : by_type) {
    s += type + "<";
    std::vector<std::pair<std::string, std::vector<std::string>>> fields;
    for (const xml::Element* field : form->children())
      if (field->name() == "field" && field->attribute_or("var") != "FORM_TYPE")
        fields.emplace_back(field->attribute_or("var"), values(*field));
    std::sort(fields.begin(), fields.end());
    for (auto& [var, vals] : fields) {
      s += var + "<";
      std::sort(vals.begin(), vals.end());
      for (const std::string& v : vals) s += v + "<";
    }
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(s.data(), s.size(), digest, &size, EVP_sha1(), nullptr);
  return base64_encode(std::string_view(reinterpret_cast<char*>(digest), size));
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
    out += caps_ver(table_.server_features(host.modules), table_.server_forms(host));
    out += "'/>";
  }

 private:
  void server_info(const IqRequest& iq) {
    const HostConfig* host = server_.host(iq.to.domain());
    if (iq.set() || host == nullptr) return server_.bounce(iq.stanza, "cancel", "service-unavailable");
    std::vector<std::string> features = table_.server_features(host->modules);
    std::vector<xml::Element> forms = table_.server_forms(*host);
    // A node is asked for only as the one our caps named (XEP-0115 §6.2).
    const std::string* node = iq.payload.attribute("node");
    if (node != nullptr && *node != std::string(kCapsNode) + "#" + caps_ver(features, forms))
      return server_.bounce(iq.stanza, "cancel", "item-not-found");
    xml::Element result = xmpp::reply(iq.stanza, "result");
    xml::Element& query = result.add_child(xml::Element(kInfoNs, "query"));
    if (node != nullptr) query.set_attribute("node", *node);
    query.add_child(identity("server", "im"));
    for (const std::string& f : features) query.add_child(feature(f));
    for (xml::Element& form : forms) query.add_child(std::move(form));
    server_.send(result);
  }

  void server_items(const IqRequest& iq) {
    if (iq.set()) return server_.bounce(iq.stanza, "cancel", "service-unavailable");
    xml::Element result = xmpp::reply(iq.stanza, "result");
    result.add_child(xml::Element(kItemsNs, "query"));
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
