// ping (XEP-0199): the server, and a user's account on the user's behalf, answer a ping.
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kPingNs = "urn:xmpp:ping";

class Ping final : public Module {
 public:
  explicit Ping(const ModuleContext& context) : Module("ping", context.index), server_(context.server) {
    for (IqScope scope : {IqScope::kServer, IqScope::kAccount})
      context.table.on_iq(scope, kPingNs, "ping", *this, [this](const IqRequest& iq) { answer(iq); });
  }
  void server_features(std::vector<std::string>& features) const override { features.emplace_back(kPingNs); }

 private:
  void answer(const IqRequest& iq) {
    if (iq.set())
      server_.bounce(iq.stanza, "cancel", "bad-request");
    else
      server_.send(xmpp::reply(iq.stanza, "result"));
  }
  Server& server_;
};

}  // namespace

std::unique_ptr<Module> make_ping(const ModuleContext& context) { return std::make_unique<Ping>(context); }

}  // namespace xmppd::router
