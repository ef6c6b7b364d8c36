// roster (RFC 6121 §2): a user's roster, with versioning (XEP-0237) and subscription
// pre-approval (RFC 6121 §3.4, in router/roster.cc) advertised as the stream features
// clients look for, as Prosody does.
#include "router/c2s_stream.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kRosterNs = "jabber:iq:roster";

class Roster final : public Module {
 public:
  explicit Roster(const ModuleContext& context) : Module("roster", context.index), server_(context.server) {
    context.table.on_iq(IqScope::kAccount, kRosterNs, "query", *this, [this](const IqRequest& iq) { answer(iq); });
  }
  void server_features(std::vector<std::string>& features) const override { features.emplace_back(kRosterNs); }
  void stream_features(const HostConfig&, std::string& out) const override {
    out += "<ver xmlns='urn:xmpp:features:rosterver'/><sub xmlns='urn:xmpp:features:pre-approval'/>";
  }

 private:
  // Only the user's own sessions read or change the roster (RFC 6121 §2.1.5).
  void answer(const IqRequest& iq) {
    if (iq.session == nullptr || !iq.from_self()) return server_.bounce(iq.stanza, "cancel", "service-unavailable");
    server_.im().roster_iq(*iq.session, iq.stanza);
  }
  Server& server_;
};

}  // namespace

std::unique_ptr<Module> make_roster(const ModuleContext& context) { return std::make_unique<Roster>(context); }

}  // namespace xmppd::router
