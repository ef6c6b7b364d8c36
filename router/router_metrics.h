// What the router counts for /metrics: plain integers bumped on the stanza paths (no
// allocation, no lookup), read when the parent asks (runtime/child.h ChildRole::metrics).
// One set per process: the router is single-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "reports.pb.h"

namespace xmppd::router {

enum class StanzaKind { kMessage, kPresence, kIq, kOther };

inline StanzaKind stanza_kind(std::string_view name) {
  if (name == "message") return StanzaKind::kMessage;
  if (name == "presence") return StanzaKind::kPresence;
  if (name == "iq") return StanzaKind::kIq;
  return StanzaKind::kOther;
}

struct RouterCounters {
  std::uint64_t c2s_streams = 0;        // client streams open (gauge)
  std::uint64_t c2s_authenticated = 0;  // of which authenticated (gauge)
  std::uint64_t c2s_websocket = 0;      // of which relayed from a WebSocket (gauge)
  std::uint64_t component_streams = 0;     // XEP-0114 streams open (gauge)
  std::uint64_t components_connected = 0;  // of which handshaken and attached (gauge)
  std::uint64_t logins = 0, login_failures = 0;
  std::array<std::uint64_t, 4> stanzas_in{}, stanzas_out{};  // by StanzaKind, from and to clients
  void stanza_in(std::string_view name) { ++stanzas_in[static_cast<std::size_t>(stanza_kind(name))]; }
  void stanza_out(std::string_view name) { ++stanzas_out[static_cast<std::size_t>(stanza_kind(name))]; }
  // A stanza already serialized ("<message ..."): its kind from its first name.
  void serialized_out(std::string_view xml) {
    const std::size_t end = xml.find_first_of(" />", 1);
    stanza_out(xml.size() > 1 && end != std::string_view::npos ? xml.substr(1, end - 1) : std::string_view());
  }
  // Error replies the router made, by condition: the conditions are the router's own
  // constants (RFC 6120 §8.3.3), so the map stays small.
  std::map<std::string, std::uint64_t, std::less<>> bounces;
  void bounced(std::string_view condition) {
    auto it = bounces.find(condition);
    if (it == bounces.end()) it = bounces.emplace(std::string(condition), 0).first;
    ++it->second;
  }
};

RouterCounters& router_counters();

// Conditions whose bounce series exist from the start, at 0, so that a dashboard sees 0 rather
// than no data: the ones Routing bounces with.
inline constexpr std::string_view kCommonBounces[] = {"service-unavailable", "remote-server-not-found",
                                                      "resource-constraint", "not-allowed", "jid-malformed",
                                                      "bad-request"};

// The samples: the counters, and `sessions` (resources bound now).
void add_router_metrics(ipc::Metrics& out, const RouterCounters& counters, std::size_t sessions);

}  // namespace xmppd::router
