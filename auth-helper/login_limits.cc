#include "auth-helper/login_limits.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace xmppd::auth {

std::string address_prefix(std::string_view address) {
  const std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return "4:" + text;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return "?";
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    char out[INET_ADDRSTRLEN];
    std::memcpy(&v4, &v6.s6_addr[12], sizeof v4);
    return "4:" + std::string(inet_ntop(AF_INET, &v4, out, sizeof out));
  }
  constexpr char kDigits[] = "0123456789abcdef";
  std::string key = "6:";
  for (int i = 0; i < 8; ++i) {
    key += kDigits[v6.s6_addr[i] >> 4];
    key += kDigits[v6.s6_addr[i] & 0x0F];
  }
  return key;
}

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

WorkBudget::WorkBudget(std::uint64_t per_second, std::uint64_t burst, TimePoint now)
    : per_second_(static_cast<double>(std::max<std::uint64_t>(per_second, 1))),
      burst_(static_cast<double>(burst)),
      tokens_(burst_),
      last_(now) {}

void WorkBudget::refill(TimePoint now) {
  if (now <= last_) return;
  const double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + seconds * per_second_);
  last_ = now;
}

TimePoint WorkBudget::available_at(TimePoint now) {
  refill(now);
  if (tokens_ > 0) return now;
  // A little past the moment the bucket reaches zero, so that it is then above it.
  const auto wait = std::chrono::duration<double>((1 - tokens_) / per_second_);
  return now + std::chrono::duration_cast<Clock::duration>(wait) + std::chrono::milliseconds(1);
}

void WorkBudget::spend(std::uint64_t iterations, TimePoint now) {
  refill(now);
  tokens_ -= static_cast<double>(iterations);
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
