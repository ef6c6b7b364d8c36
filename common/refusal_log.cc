#include "common/refusal_log.h"

#include <cstdio>

namespace xmppd {

std::optional<std::string> RefusalLog::refused(std::string_view source, std::string_view reason,
                                               Clock::time_point now) {
  auto it = sources_.find(source);
  if (it == sources_.end()) it = sources_.emplace(std::string(source), SourceState{}).first;
  SourceState& state = it->second;
  if (now < state.quiet_until || state.counted > 0) {
    ++state.counted;
    state.last_reason.assign(reason);
    return std::nullopt;
  }
  state.quiet_until = now + interval_;
  return what_ + " " + std::string(source) + ": " + std::string(reason);
}

std::vector<std::string> RefusalLog::flush(Clock::time_point now) {
  std::vector<std::string> lines;
  const auto seconds = std::chrono::duration<double>(interval_).count();
  for (auto& [source, state] : sources_) {
    if (state.counted == 0 || now < state.quiet_until) continue;
    char interval[32];
    std::snprintf(interval, sizeof interval, "%g", seconds);
    lines.push_back(what_ + " " + source + " " + std::to_string(state.counted) + " more time" +
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
  for (const auto& [source, state] : sources_)
    if (state.counted > 0 && (!next || state.quiet_until < *next)) next = state.quiet_until;
  return next;
}

}  // namespace xmppd
