// time (XEP-0202): the server's clock, in UTC.
#include <ctime>

#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kTimeNs = "urn:xmpp:time";

class Time final : public Module {
 public:
  explicit Time(const ModuleContext& context) : Module("time", context.index), server_(context.server) {
    context.table.on_iq(IqScope::kServer, kTimeNs, "time", *this, [this](const IqRequest& iq) { answer(iq); });
  }
  void server_features(std::vector<std::string>& features) const override { features.emplace_back(kTimeNs); }

 private:
  void answer(const IqRequest& iq) {
    if (iq.set()) return server_.bounce(iq.stanza, "cancel", "bad-request");
    char utc[32];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(utc, sizeof utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    xml::Element result = xmpp::reply(iq.stanza, "result");
    xml::Element& time = result.add_child(xml::Element(kTimeNs, "time"));
    // The server tells UTC only: its time zone says where it is, which is nobody's business.
    time.add_child(xml::Element(kTimeNs, "tzo")).add_text("+00:00");
    time.add_child(xml::Element(kTimeNs, "utc")).add_text(utc);
    server_.send(result);
  }
  Server& server_;
};

}  // namespace

std::unique_ptr<Module> make_time(const ModuleContext& context) { return std::make_unique<Time>(context); }

}  // namespace xmppd::router
