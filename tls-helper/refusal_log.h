// Refused signing requests, logged at most once per interval per peer with a count of the
// rest. A compromised router or s2s worker can send refusable requests as fast as it likes;
// one log line each would let it flood syslog and hide what came before. Trusts nothing
// but its caller's clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::tls_helper {

class RefusalLog {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RefusalLog(Clock::duration interval = std::chrono::seconds(1)) : interval_(interval) {}

  // A refusal for `peer`: the line to log now, or nullopt when it is only counted (a
  // line for `peer` was logged less than an interval ago).
  std::optional<std::string> refused(std::string_view peer, std::string_view reason, Clock::time_point now);
  // One summary line per peer whose counted refusals are due at `now`; each such peer
  // stays quiet for another interval, so a steady flood gives one line per interval.
  std::vector<std::string> flush(Clock::time_point now);
  // When flush() next has something to say; nullopt when nothing is counted.
  std::optional<Clock::time_point> next_flush() const;

 private:
  struct PeerState {
    Clock::time_point quiet_until{};
    std::uint64_t counted = 0;  // refusals since the last line
    std::string last_reason;
  };

  Clock::duration interval_;
  std::map<std::string, PeerState, std::less<>> peers_;
};

}  // namespace xmppd::tls_helper
