// Stream management acknowledgements on server-to-server streams (XEP-0198 without
// resumption, as Prosody 0.12 does them): the sender's queue of stanzas the peer has not
// acknowledged, and the receiver's count of stanzas it has handled.
//
// Pure bookkeeping, trusting nobody: the 'h' a peer sends is checked against what was sent
// here. The outbound stream owns an AckQueue, an inbound stream a HandledCount.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace xmppd::s2s {

inline constexpr std::string_view kSmNs = "urn:xmpp:sm:3";

// XEP-0198 §4: 'h' is an unsigned 32-bit counter that wraps to 0.
std::optional<std::uint32_t> parse_h(std::string_view text);

// What a stream's sender keeps until the peer says it has handled it.
class AckQueue {
 public:
  // Past either bound the stream sends nothing more until acknowledgements free room (the
  // federation's own queue holds the rest): Prosody's smacks_max_queue_size, and the bytes
  // a connection's output buffer would hold at most.
  static constexpr std::size_t kMaxStanzas = 500;
  static constexpr std::size_t kMaxBytes = 2 << 20;

  AckQueue() = default;
  // A count that starts elsewhere than 0: for tests of the wrap at 2^32.
  explicit AckQueue(std::uint32_t acked) : acked_(acked) {}

  struct Entry {
    std::string local;  // the local domain it was sent from (piggybacked streams carry several)
    std::string xml;
    int resends = 0;  // how many broken streams it has already been given back from
  };

  void sent(Entry entry);
  // The peer handled `h` stanzas in all. False (nothing changes) when that is more than
  // were sent: XEP-0198 §4's handled-count-too-high.
  bool acknowledge(std::uint32_t h);
  // The stanzas still unacknowledged, oldest first; the queue is empty afterwards.
  std::deque<Entry> take();

  bool full() const { return entries_.size() >= kMaxStanzas || bytes_ >= kMaxBytes; }
  std::size_t unacked() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }
  // What the peer's 'h' should be once it has handled all that was sent.
  std::uint32_t sent_count() const { return acked_ + static_cast<std::uint32_t>(entries_.size()); }
  std::uint32_t acked_count() const { return acked_; }

 private:
  std::deque<Entry> entries_;
  std::size_t bytes_ = 0;
  std::uint32_t acked_ = 0;  // wraps, as 'h' does
};

// The receiver's side: stanzas handled since <enable/>, and those sent the other way on a
// stream that carries both directions (XEP-0288), which the peer may acknowledge.
class HandledCount {
 public:
  void handled() { ++handled_; }
  void sent() { ++sent_; }
  std::uint32_t h() const { return handled_; }
  std::uint32_t sent_count() const { return sent_; }
  // An <a h/> from the peer: false when it acknowledges more than was sent.
  bool acknowledge(std::uint32_t h);

 private:
  std::uint32_t handled_ = 0;
  std::uint32_t sent_ = 0;
  std::uint32_t acked_ = 0;
};

}  // namespace xmppd::s2s
