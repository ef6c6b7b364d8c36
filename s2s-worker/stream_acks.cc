// XEP-0198 counters for server-to-server streams (stream_acks.h); the 'h' parsed here comes
// from the peer.
#include "s2s-worker/stream_acks.h"

#include <charconv>
#include <utility>

namespace xmppd::s2s {

std::optional<std::uint32_t> parse_h(std::string_view text) {
  std::uint32_t value = 0;
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

void AckQueue::sent(Entry entry) {
  bytes_ += entry.xml.size();
  entries_.push_back(std::move(entry));
}

bool AckQueue::acknowledge(std::uint32_t h) {
  // Modulo 2^32: an 'h' below what was acknowledged before counts as far too high, since
  // the count never goes back.
  std::uint32_t newly = h - acked_;
  if (newly > entries_.size()) return false;
  for (std::uint32_t i = 0; i < newly; ++i) {
    bytes_ -= entries_.front().xml.size();
    entries_.pop_front();
  }
  acked_ = h;
  return true;
}

std::deque<AckQueue::Entry> AckQueue::take() {
  bytes_ = 0;
  return std::exchange(entries_, {});
}

bool HandledCount::acknowledge(std::uint32_t h) {
  if (static_cast<std::uint32_t>(h - acked_) > static_cast<std::uint32_t>(sent_ - acked_)) return false;
  acked_ = h;
  return true;
}

}  // namespace xmppd::s2s
