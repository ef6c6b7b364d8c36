#include "auth-helper/login_limits.h"

#include <algorithm>

namespace xmppd::auth {

Clock::duration FailureDelays::delay_after(unsigned failures) {
  if (failures <= 1) return Clock::duration::zero();
  return std::min<Clock::duration>(std::chrono::seconds(1u << std::min(failures - 2, 3u)), kMaxDelay);
}

TimePoint FailureDelays::not_before(const std::string& key, TimePoint now) const {
  const Entry* entry = table_.find(key);
  if (entry == nullptr || now - entry->last > kForget) return now;
  return std::max(now, entry->last + std::min(delay_after(entry->failures), max_delay_));
}

bool FailureDelays::failed_recently(const std::string& key, TimePoint now) const {
  const Entry* entry = table_.find(key);
  return entry != nullptr && entry->failures > 0 && now - entry->last <= kForget;
}

void FailureDelays::failed(const std::string& key, TimePoint now) {
  Entry& entry = table_.touch(key);
  if (now - entry.last > kForget) entry.failures = 0;
  entry.last = now;
  ++entry.failures;
}

bool AttemptSlots::take(const std::string& prefix) {
  if (in_use_ >= total_) return false;
  std::size_t& count = by_prefix_[prefix];
  // Refused only with an entry that exists already (count >= per_prefix_ > 0).
  if (count >= per_prefix_ && in_use_ >= total_ / 2) return false;
  ++count;
  ++in_use_;
  return true;
}

void AttemptSlots::release(const std::string& prefix) {
  auto it = by_prefix_.find(prefix);
  if (it == by_prefix_.end()) return;
  --in_use_;
  if (--it->second == 0) by_prefix_.erase(it);
}

std::size_t AttemptSlots::in_use(const std::string& prefix) const {
  auto it = by_prefix_.find(prefix);
  return it == by_prefix_.end() ? 0 : it->second;
}

}  // namespace xmppd::auth
