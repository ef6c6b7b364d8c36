#include "router/router_metrics.h"

#include "runtime/metric_samples.h"
#include "tls/handshake_counts.h"

namespace xmppd::router {

RouterCounters& router_counters() {
  static RouterCounters counters = [] {
    RouterCounters c;
    for (std::string_view condition : kCommonBounces) c.bounces.emplace(std::string(condition), 0);
    return c;
  }();
  return counters;
}

void add_router_metrics(ipc::Metrics& out, const RouterCounters& c, std::size_t sessions) {
  using runtime::add_counter;
  using runtime::add_gauge;
  static constexpr std::string_view kConnections = "Client connections, by state";
  add_gauge(out, "xmppd_c2s_connections", kConnections, static_cast<double>(c.c2s_streams - c.c2s_authenticated),
            {{"state", "negotiating"}});
  add_gauge(out, "xmppd_c2s_connections", kConnections, static_cast<double>(c.c2s_authenticated),
            {{"state", "authenticated"}});
  add_gauge(out, "xmppd_c2s_websocket_connections", "Client connections relayed from a WebSocket (RFC 7395)",
            static_cast<double>(c.c2s_websocket));
  static constexpr std::string_view kComponents = "Component connections (XEP-0114), by state";
  add_gauge(out, "xmppd_component_connections", kComponents,
            static_cast<double>(c.component_streams - c.components_connected), {{"state", "negotiating"}});
  add_gauge(out, "xmppd_component_connections", kComponents, static_cast<double>(c.components_connected),
            {{"state", "authenticated"}});
  const tls::HandshakeCounts& handshakes = tls::handshake_counts();
  runtime::add_tls_handshakes(out, handshakes.completed, handshakes.failed);
  add_gauge(out, "xmppd_c2s_sessions", "Client sessions with a bound resource", static_cast<double>(sessions));
  add_counter(out, "xmppd_c2s_logins", "Successful SASL authentications of clients", static_cast<double>(c.logins));
  add_counter(out, "xmppd_c2s_login_failures", "Failed SASL authentications of clients",
              static_cast<double>(c.login_failures));
  for (const auto& [condition, count] : c.bounces)
    add_counter(out, "xmppd_router_bounces", "Error replies the router made for stanzas it could not deliver or serve",
                static_cast<double>(count), {{"condition", condition}});
  static constexpr std::array<std::string_view, 4> kKinds = {"message", "presence", "iq", "other"};
  for (std::size_t i = 0; i < kKinds.size(); ++i) {
    add_counter(out, "xmppd_c2s_stanzas_in", "Stanzas received from clients, by kind",
                static_cast<double>(c.stanzas_in[i]), {{"kind", kKinds[i]}});
    add_counter(out, "xmppd_c2s_stanzas_out", "Stanzas sent to clients, by kind", static_cast<double>(c.stanzas_out[i]),
                {{"kind", kKinds[i]}});
  }
}

}  // namespace xmppd::router
