#include "stream/token_bucket.h"

#include <algorithm>

namespace xmppd::stream {

TokenBucket::TokenBucket(double rate, double capacity, double now)
    : rate_(rate), capacity_(std::max(capacity, 1.0)), tokens_(capacity_), last_(now) {}

void TokenBucket::refill(double now) {
  if (now <= last_) return;  // the clock is monotonic; a caller's stale `now` earns nothing
  tokens_ = std::min(capacity_, tokens_ + (now - last_) * rate_);
  last_ = now;
}

double TokenBucket::seconds_until(std::size_t bytes) const {
  double wanted = std::min(static_cast<double>(bytes), capacity_);
  if (tokens_ >= wanted) return 0;
  return rate_ > 0 ? (wanted - tokens_) / rate_ : 1e9;
}

}  // namespace xmppd::stream
