#include "stream/connection_limits.h"

#include <algorithm>
#include <utility>

namespace xmppd::stream {

std::size_t default_connection_cap(rlim_t descriptor_limit) {
  constexpr rlim_t kFloor = 16;
  constexpr rlim_t kMinHeadroom = 128;
  // A quarter of the descriptors, and at least 128, stay for everything but accepted streams.
  rlim_t headroom = std::max(kMinHeadroom, descriptor_limit / 4);
  if (descriptor_limit == RLIM_INFINITY) return 0;
  if (descriptor_limit <= headroom + kFloor) return kFloor;
  return static_cast<std::size_t>(descriptor_limit - headroom);
}

std::size_t default_connection_cap() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return default_connection_cap(1024);
  return default_connection_cap(limit.rlim_cur);
}

ConnectionLimits::Verdict ConnectionLimits::admit(const std::string& key, Ticket& ticket) {
  ticket.release();
  if (settings_.total != 0 && total_ >= settings_.total) return Verdict::kTotal;
  auto it = per_key_.find(key);
  if (it != per_key_.end()) {
    if (settings_.per_address != 0 && it->second.open >= settings_.per_address) return Verdict::kPerAddress;
    if (settings_.unauthenticated_per_address != 0 &&
        it->second.unauthenticated >= settings_.unauthenticated_per_address)
      return Verdict::kUnauthenticated;
  }
  Counts& counts = per_key_[key];
  ++counts.open;
  ++counts.unauthenticated;
  ++total_;
  ticket.owner_ = this;
  ticket.key_ = key;
  ticket.unauthenticated_ = true;
  return Verdict::kAdmitted;
}

std::size_t ConnectionLimits::open(const std::string& key) const {
  auto it = per_key_.find(key);
  return it == per_key_.end() ? 0 : it->second.open;
}

std::size_t ConnectionLimits::unauthenticated(const std::string& key) const {
  auto it = per_key_.find(key);
  return it == per_key_.end() ? 0 : it->second.unauthenticated;
}

void ConnectionLimits::give_back(const std::string& key, bool unauthenticated) {
  auto it = per_key_.find(key);
  if (it == per_key_.end()) return;
  --total_;
  if (unauthenticated) --it->second.unauthenticated;
  if (--it->second.open == 0) per_key_.erase(it);
}

void ConnectionLimits::authenticated(const std::string& key) {
  if (auto it = per_key_.find(key); it != per_key_.end()) --it->second.unauthenticated;
}

ConnectionLimits::Ticket& ConnectionLimits::Ticket::operator=(Ticket&& other) noexcept {
  if (this == &other) return *this;
  release();
  owner_ = std::exchange(other.owner_, nullptr);
  key_ = std::move(other.key_);
  unauthenticated_ = std::exchange(other.unauthenticated_, false);
  return *this;
}

void ConnectionLimits::Ticket::authenticated() {
  if (owner_ == nullptr || !unauthenticated_) return;
  unauthenticated_ = false;
  owner_->authenticated(key_);
}

void ConnectionLimits::Ticket::release() {
  if (owner_ == nullptr) return;
  std::exchange(owner_, nullptr)->give_back(key_, std::exchange(unauthenticated_, false));
}

const char* describe(ConnectionLimits::Verdict verdict) {
  switch (verdict) {
    case ConnectionLimits::Verdict::kAdmitted: return "admitted";
    case ConnectionLimits::Verdict::kTotal: return "the server's connection limit";
    case ConnectionLimits::Verdict::kPerAddress: return "the limit of connections per address";
    case ConnectionLimits::Verdict::kUnauthenticated: return "the limit of unauthenticated connections per address";
  }
  return "?";
}

}  // namespace xmppd::stream
