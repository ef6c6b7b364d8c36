// A token bucket: it fills at `rate` tokens per second up to `capacity` and starts full.
// The stream layer's bytes read (Prosody's `limits`, stream/transport.cc) and the auth
// helper's PBKDF2 iterations (auth-helper/sasl_attempts.cc) are paced with it.
//
// A take may overdraw the bucket: a read that got more than was left, a password check
// that costs more than remains. The debt is paid back before anything is available again,
// so the average stays at `rate` whatever each take costs. Time comes from the caller, so
// that tests need no sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace xmppd {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // A rate under 1 token a second is taken as 1, a capacity under 1 as 1: the bucket
  // always fills up again, and can hold what one token costs.
  TokenBucket(double rate, double capacity, Clock::time_point now);

  // Adds what the time since the last refill earned.
  void refill(Clock::time_point now);
  // Whole tokens that may be taken now (0 while the bucket is overdrawn).
  std::uint64_t available() const { return tokens_ > 0 ? static_cast<std::uint64_t>(tokens_) : 0; }
  void take(std::uint64_t tokens) { tokens_ -= static_cast<double>(tokens); }
  // When `tokens` are available, counting from the last refill: that refill's time if
  // they already are; more than the capacity is waited for as the capacity. A millisecond
  // past the exact moment, so that a timer set for it finds them there despite the
  // rounding of floating point and of the event loop's timers.
  Clock::time_point ready_at(std::uint64_t tokens) const;
  double rate() const { return rate_; }
  double capacity() const { return capacity_; }

 private:
  double rate_;
  double capacity_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace xmppd
