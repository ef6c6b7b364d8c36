// A token bucket for byte rates (Prosody's `limits`): it fills at `rate` bytes per second up
// to `capacity` bytes (rate × burst seconds) and starts full. Time comes from the caller,
// in seconds of a monotonic clock, so that tests need no sleeping.
#pragma once

#include <cstddef>

namespace xmppd::stream {

class TokenBucket {
 public:
  TokenBucket(double rate, double capacity, double now);

  // Adds what the time since the last refill earned.
  void refill(double now);
  // Whole bytes that may be read now.
  std::size_t available() const { return tokens_ > 0 ? static_cast<std::size_t>(tokens_) : 0; }
  void take(std::size_t bytes) { tokens_ -= static_cast<double>(bytes); }
  // Seconds from the last refill until `bytes` are available (0 if they already are);
  // more than the capacity is waited for as the capacity.
  double seconds_until(std::size_t bytes) const;
  double rate() const { return rate_; }
  double capacity() const { return capacity_; }

 private:
  double rate_;
  double capacity_;
  double tokens_;
  double last_;
};

}  // namespace xmppd::stream
