// server_contact_info (XEP-0157): the addresses to reach the server's operators, in its
// disco#info as a data form: contact_info when set, otherwise the admins as xmpp: URIs (as
// Prosody does).
#include "router/module_table.h"
#include "router/modules/modules.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kDataNs = "jabber:x:data";

xml::Element field(std::string_view var, const std::vector<std::string>& values, bool hidden = false) {
  xml::Element f(kDataNs, "field");
  f.set_attribute("var", std::string(var));
  if (hidden) f.set_attribute("type", "hidden");
  for (const std::string& v : values) f.add_child(xml::Element(kDataNs, "value")).add_text(v);
  return f;
}

class ServerContactInfo final : public Module {
 public:
  explicit ServerContactInfo(const ModuleContext& context) : Module("server_contact_info", context.index) {}

  void server_forms(const HostConfig& host, std::vector<xml::Element>& forms) const override {
    std::vector<std::pair<std::string, std::vector<std::string>>> fields = host.contact_info;
    if (fields.empty() && !host.admins.empty()) {
      std::vector<std::string> admins;
      for (const std::string& jid : host.admins) admins.push_back("xmpp:" + jid);
      fields.emplace_back("admin", std::move(admins));
    }
    if (fields.empty()) return;
    xml::Element form(kDataNs, "x");
    form.set_attribute("type", "result");
    form.add_child(field("FORM_TYPE", {"http://jabber.org/network/serverinfo"}, true));
    for (const auto& [name, addresses] : fields) form.add_child(field(name + "-addresses", addresses));
    forms.push_back(std::move(form));
  }
};

}  // namespace

std::unique_ptr<Module> make_server_contact_info(const ModuleContext& context) {
  return std::make_unique<ServerContactInfo>(context);
}

}  // namespace xmppd::router
