// uptime (XEP-0012 addressed to the server): how long the router has been running.
#include <ctime>

#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kLastNs = "jabber:iq:last";

class Uptime final : public Module {
 public:
  explicit Uptime(const ModuleContext& context) : Module("uptime", context.index), server_(context.server) {
    context.table.on_iq(IqScope::kServer, kLastNs, "query", *this, [this](const IqRequest& iq) { answer(iq); });
  }
  void server_features(std::vector<std::string>& features) const override { features.emplace_back(kLastNs); }

 private:
  void answer(const IqRequest& iq) {
    if (iq.set()) return server_.bounce(iq.stanza, "cancel", "bad-request");
    xml::Element result = xmpp::reply(iq.stanza, "result");
    xml::Element& query = result.add_child(xml::Element(kLastNs, "query"));
    query.set_attribute("seconds", std::to_string(std::time(nullptr) - started_));
    server_.send(result);
  }
  Server& server_;
  const std::time_t started_ = std::time(nullptr);
};

}  // namespace

std::unique_ptr<Module> make_uptime(const ModuleContext& context) { return std::make_unique<Uptime>(context); }

}  // namespace xmppd::router
