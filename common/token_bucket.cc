#include "common/token_bucket.h"

#include <algorithm>

namespace xmppd {

TokenBucket::TokenBucket(double rate, double capacity, Clock::time_point now)
    : rate_(std::max(rate, 1.0)), capacity_(std::max(capacity, 1.0)), tokens_(capacity_), last_(now) {}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_) return;  // the clock is monotonic; a caller's stale `now` earns nothing
  tokens_ = std::min(capacity_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
  last_ = now;
}

TokenBucket::Clock::time_point TokenBucket::ready_at(std::uint64_t tokens) const {
  const double wanted = std::min(static_cast<double>(tokens), capacity_);
  if (tokens_ >= wanted) return last_;
  // At most a day: only a caller that took far more than it ever had could owe longer, and
  // the conversion below must not overflow.
  const std::chrono::duration<double> wait(std::min((wanted - tokens_) / rate_, 86400.0));
  return last_ + std::chrono::ceil<Clock::duration>(wait) + std::chrono::milliseconds(1);
}

}  // namespace xmppd
