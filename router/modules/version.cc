// version (XEP-0092): the server's software name and version. Off by default, as in
// Prosody: it tells attackers what runs.
#include "build_config.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kVersionNs = "jabber:iq:version";

class Version final : public Module {
 public:
  explicit Version(const ModuleContext& context) : Module("version", context.index), server_(context.server) {
    context.table.on_iq(IqScope::kServer, kVersionNs, "query", *this, [this](const IqRequest& iq) { answer(iq); });
  }
  void server_features(std::vector<std::string>& features) const override { features.emplace_back(kVersionNs); }

 private:
  void answer(const IqRequest& iq) {
    if (iq.set()) return server_.bounce(iq.stanza, "cancel", "bad-request");
    xml::Element result = xmpp::reply(iq.stanza, "result");
    xml::Element& query = result.add_child(xml::Element(kVersionNs, "query"));
    query.add_child(xml::Element(kVersionNs, "name")).add_text("xmppd");
    query.add_child(xml::Element(kVersionNs, "version")).add_text(XMPPD_VERSION);
    server_.send(result);
  }
  Server& server_;
};

}  // namespace

std::unique_ptr<Module> make_version(const ModuleContext& context) { return std::make_unique<Version>(context); }

}  // namespace xmppd::router
