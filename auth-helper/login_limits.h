// The auth helper's own limits on logins, kept here rather than in the router so that a
// router taken over cannot lift them: attempt slots shared out per source address prefix
// (common/address_prefix.h), exponential delays after failed passwords (per account and
// prefix together, per prefix, and a short one per account alone), and a global budget of
// password-checking work per second (a common/token_bucket.h).
//
// Trusts: the clock it is handed. The address strings come from the router and are only
// used as keys; the account names are the ones the SASL server prepared. No I/O and no
// event loop here: the helper drives these classes and the tests drive them with a fake time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace xmppd::auth {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// A map of at most `capacity` entries; inserting into a full one drops the entry touched
// least recently. Every operation is O(1) on average, whatever the size.
template <typename Value>
class BoundedTable {
 public:
  explicit BoundedTable(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  const Value* find(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->second;
  }
  // The entry for `key`, created (as Value{}) if absent, and made the most recent.
  Value& touch(const std::string& key) {
    if (auto it = index_.find(key); it != index_.end()) {
      order_.splice(order_.end(), order_, it->second);
      return it->second->second;
    }
    if (index_.size() >= capacity_) {
      index_.erase(order_.front().first);
      order_.pop_front();
    }
    order_.emplace_back(key, Value{});
    index_.emplace(key, std::prev(order_.end()));
    return order_.back().second;
  }
  std::size_t size() const { return index_.size(); }

 private:
  using Order = std::list<std::pair<std::string, Value>>;
  std::size_t capacity_;
  Order order_;  // least recently touched first
  std::unordered_map<std::string, typename Order::iterator> index_;
};

// Failed password checks per key (an account tried from one address prefix, an address
// prefix, an account alone). After n failures within kForget of each other, the next check
// for that key waits delay_after(n) from the last failure: 0, 1 s, 2 s, 4 s, then 8 s at
// most, or less where a table is given a smaller cap. Delays, never lockouts; a success does
// not reset the count (whoever holds one account could otherwise guess at full speed between
// its own logins), time does.
class FailureDelays {
 public:
  static constexpr std::chrono::seconds kForget{600};
  static constexpr std::chrono::seconds kMaxDelay{8};

  explicit FailureDelays(std::size_t capacity, Clock::duration max_delay = kMaxDelay)
      : table_(capacity), max_delay_(max_delay) {}
  static Clock::duration delay_after(unsigned failures);
  // The earliest time a password check for `key` may run.
  TimePoint not_before(const std::string& key, TimePoint now) const;
  // Whether `key` failed within kForget.
  bool failed_recently(const std::string& key, TimePoint now) const;
  void failed(const std::string& key, TimePoint now);
  std::size_t size() const { return table_.size(); }

 private:
  struct Entry {
    unsigned failures = 0;
    TimePoint last{};
  };
  BoundedTable<Entry> table_;
  Clock::duration max_delay_;
};

// Attempts in progress: at most `total`. While fewer than half are in use, any prefix may
// take one; from then on a prefix holding `per_prefix` or more gets no more. So one address
// prefix holds at most about half of the slots, and once it does, every other prefix still
// finds its share, while a busy but peaceful address (a NAT, a load generator) is not
// refused when the pool has room.
class AttemptSlots {
 public:
  AttemptSlots(std::size_t total, std::size_t per_prefix)
      : total_(total), per_prefix_(per_prefix == 0 ? 1 : per_prefix) {}
  bool take(const std::string& prefix);
  void release(const std::string& prefix);
  void clear() {
    in_use_ = 0;
    by_prefix_.clear();
  }
  std::size_t in_use() const { return in_use_; }
  std::size_t in_use(const std::string& prefix) const;

 private:
  std::size_t total_, per_prefix_;
  std::size_t in_use_ = 0;
  std::unordered_map<std::string, std::size_t> by_prefix_;  // no entry at zero: at most `total` entries
};

}  // namespace xmppd::auth
