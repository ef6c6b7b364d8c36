#include "s2s-worker/verify_shares.h"

#include "common/log.h"

namespace xmppd::s2s {

VerifyShares::Refusal VerifyShares::take(std::uint64_t stream, const std::string& address) {
  if (of_stream(stream) >= limits_.per_stream) return Refusal::kStream;
  if (of_address(address) >= limits_.per_address) return Refusal::kAddress;
  if (total_ >= limits_.total) return Refusal::kTotal;
  ++per_stream_[stream];
  ++per_address_[address];
  ++total_;
  return Refusal::kNone;
}

void VerifyShares::give_back(std::uint64_t stream, const std::string& address) {
  auto s = per_stream_.find(stream);
  auto a = per_address_.find(address);
  // The federation gives back only what it took: anything else is a bug in it.
  if (s == per_stream_.end() || a == per_address_.end() || total_ == 0)
    log::fatal("dialback verification slot given back that was not taken");
  if (--s->second == 0) per_stream_.erase(s);
  if (--a->second == 0) per_address_.erase(a);
  --total_;
}

std::size_t VerifyShares::of_stream(std::uint64_t stream) const {
  auto it = per_stream_.find(stream);
  return it == per_stream_.end() ? 0 : it->second;
}

std::size_t VerifyShares::of_address(const std::string& address) const {
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

const char* describe(VerifyShares::Refusal refusal) {
  switch (refusal) {
    case VerifyShares::Refusal::kNone:
      return "";
    case VerifyShares::Refusal::kTotal:
      return "too many dialback verifications in progress";
    case VerifyShares::Refusal::kStream:
      return "too many dialback verifications in progress on this stream";
    case VerifyShares::Refusal::kAddress:
      return "too many dialback verifications in progress from this address";
  }
  return "";
}

}  // namespace xmppd::s2s
