// Shares of the dialback verifications in flight. Each verification may make the worker
// connect to another server and waits for its answer, so there are only so many at once;
// and so that one peer cannot take them all, each inbound stream and each remote address
// (an IPv4 address, or an IPv6 /64: common/address_prefix.h) gets a share of them. A peer beyond
// its share gets an answer at once (XEP-0220 resource-constraint), never a wait.
//
// Pure bookkeeping: the federation takes a slot before it asks the authoritative server and
// gives it back when the answer comes or the asking stream goes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace xmppd::s2s {

class VerifyShares {
 public:
  struct Limits {
    std::size_t total = 256;
    std::size_t per_stream = 8;
    std::size_t per_address = 8;
  };
  enum class Refusal { kNone, kTotal, kStream, kAddress };

  VerifyShares() = default;
  explicit VerifyShares(Limits limits) : limits_(limits) {}

  // Takes a slot for a verification asked on `stream` (any id unique among live streams)
  // from `address` (net::prefix_key's form), or says which limit is reached.
  Refusal take(std::uint64_t stream, const std::string& address);
  // Gives back a slot taken by take() with the same arguments.
  void give_back(std::uint64_t stream, const std::string& address);

  std::size_t in_flight() const { return total_; }
  std::size_t of_stream(std::uint64_t stream) const;
  std::size_t of_address(const std::string& address) const;
  const Limits& limits() const { return limits_; }

 private:
  Limits limits_;
  std::size_t total_ = 0;
  std::map<std::uint64_t, std::size_t> per_stream_;  // only streams with a slot
  std::map<std::string, std::size_t> per_address_;   // only addresses with a slot
};

// "too many dialback verifications in progress ..." for a log line and the peer's error.
const char* describe(VerifyShares::Refusal refusal);

}  // namespace xmppd::s2s
