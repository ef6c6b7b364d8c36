// Refusals, logged at most once per interval per source with a count of the rest: whoever
// can make a process refuse things as fast as it likes (a compromised router or s2s worker
// asking the tls helper to sign, a flood of connections over the limits) must not be able
// to flood syslog with one line each and hide what came before. Trusts nothing but its
// caller's clock.
//
// Lines read "<what> <source>: <reason>" and "<what> <source> N more times in the last
// S s (last: <reason>)", e.g. "refused to sign for router: ...". A source is kept for good
// once seen: sources must come from a small fixed set (process roles, services), never
// from the network; whatever varies per peer goes in the reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xmppd {

class RefusalLog {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RefusalLog(std::string what, Clock::duration interval = std::chrono::seconds(1))
      : what_(std::move(what)), interval_(interval) {}

  // A refusal for `source`: the line to log now, or nullopt when it is only counted (a
  // line for `source` was logged less than an interval ago).
  std::optional<std::string> refused(std::string_view source, std::string_view reason, Clock::time_point now);
  // One summary line per source whose counted refusals are due at `now`; each such source
  // stays quiet for another interval, so a steady flood gives one line per interval.
  std::vector<std::string> flush(Clock::time_point now);
  // When flush() next has something to say; nullopt when nothing is counted.
  std::optional<Clock::time_point> next_flush() const;

 private:
  struct SourceState {
    Clock::time_point quiet_until{};
    std::uint64_t counted = 0;  // refusals since the last line
    std::string last_reason;
  };

  std::string what_;
  Clock::duration interval_;
  std::map<std::string, SourceState, std::less<>> sources_;
};

}  // namespace xmppd
