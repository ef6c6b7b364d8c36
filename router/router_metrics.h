// What the router counts for /metrics: plain integers bumped on the stanza paths (no
// allocation, no lookup), read when the parent asks (runtime/child.h ChildRole::metrics).
// One set per process: the router is single-threaded.
#pragma once

#include <array>
#include <cstdint>
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
  std::uint64_t logins = 0, login_failures = 0;
  std::array<std::uint64_t, 4> stanzas_in{}, stanzas_out{};  // by StanzaKind, from and to clients
  void stanza_in(std::string_view name) { ++stanzas_in[static_cast<std::size_t>(stanza_kind(name))]; }
  void stanza_out(std::string_view name) { ++stanzas_out[static_cast<std::size_t>(stanza_kind(name))]; }
};

RouterCounters& router_counters();

// The samples: the counters, and `sessions` (resources bound now).
void add_router_metrics(ipc::Metrics& out, const RouterCounters& counters, std::size_t sessions);

}  // namespace xmppd::router
