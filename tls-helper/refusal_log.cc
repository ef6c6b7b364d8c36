#include "tls-helper/refusal_log.h"

#include <cstdio>

namespace xmppd::tls_helper {

std::optional<std::string> RefusalLog::refused(std::string_view peer, std::string_view reason, Clock::time_point now) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) it = peers_.emplace(std::string(peer), PeerState{}).first;
  PeerState& state = it->second;
  if (now < state.quiet_until || state.counted > 0) {
    ++state.counted;
    state.last_reason.assign(reason);
    return std::nullopt;
  }
  state.quiet_until = now + interval_;
  return "refused to sign for " + std::string(peer) + ": " + std::string(reason);
}

std::vector<std::string> RefusalLog::flush(Clock::time_point now) {
  std::vector<std::string> lines;
  const auto seconds = std::chrono::duration<double>(interval_).count();
  for (auto& [peer, state] : peers_) {
    if (state.counted == 0 || now < state.quiet_until) continue;
    char interval[32];
    std::snprintf(interval, sizeof interval, "%g", seconds);
    lines.push_back("refused to sign for " + peer + " " + std::to_string(state.counted) + " more time" +
                    (state.counted == 1 ? "" : "s") + " in the last " + interval + " s (last: " + state.last_reason +
                    ")");
    state.counted = 0;
    state.last_reason.clear();
    state.quiet_until = now + interval_;
  }
  return lines;
}

std::optional<RefusalLog::Clock::time_point> RefusalLog::next_flush() const {
  std::optional<Clock::time_point> next;
  for (const auto& [peer, state] : peers_)
    if (state.counted > 0 && (!next || state.quiet_until < *next)) next = state.quiet_until;
  return next;
}

}  // namespace xmppd::tls_helper
