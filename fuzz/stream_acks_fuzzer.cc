// XEP-0198 counters of server-to-server streams (s2s-worker/stream_acks.h), driven by a peer's
// 'h' values.
//
// Input: a first line parsed as an 'h' attribute (parse_h); the rest, operations of one octet
// each: 0 sends a stanza (of the next octet's length), 1 acknowledges the 'h' in the next four
// octets, 2 acknowledges sent-count minus the next octet, 3 takes the queue back.
// Invariants: parse_h accepts exactly the decimal numbers below 2^32 and returns their value;
// an acknowledgement is refused exactly when it claims more than was sent, and then changes
// nothing; the queue's count and bytes always match what was sent and not acknowledged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "s2s-worker/stream_acks.h"

namespace {

using xmppd::s2s::AckQueue;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

void check_parse(std::string_view text) {
  auto h = xmppd::s2s::parse_h(text);
  bool decimal = !text.empty();
  unsigned long long value = 0;  // saturates above 2^32: leading zeros may make any length
  for (char c : text) {
    if (c < '0' || c > '9') decimal = false;
    if (decimal) value = std::min(value * 10 + static_cast<unsigned>(c - '0'), 1ull << 33);
  }
  bool fits = decimal && value <= 0xffffffffull;
  check(h.has_value() == fits, "parse_h accepts exactly the decimal numbers below 2^32");
  if (h) check(*h == value, "parse_h returns the number written");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t newline = input.find('\n');
  check_parse(input.substr(0, newline));
  if (newline == std::string_view::npos) return 0;
  AckQueue queue;
  std::uint32_t sent = 0, acked = 0;
  std::size_t bytes = 0;
  for (std::size_t i = newline + 1; i < size;) {
    std::uint8_t op = data[i++] % 4;
    if (op == 0 && i < size) {
      std::size_t length = data[i++];
      queue.sent(AckQueue::Entry{"a.example", std::string(length, 'x'), 0});
      ++sent;
      bytes += length;
    } else if ((op == 1 && i + 4 <= size) || (op == 2 && i < size)) {
      std::uint32_t h = 0;
      if (op == 1) {
        for (int k = 0; k < 4; ++k) h = h << 8 | data[i++];
      } else {
        h = sent - data[i++];
      }
      std::size_t before = queue.unacked();
      bool claims_too_much = static_cast<std::uint32_t>(h - acked) > static_cast<std::uint32_t>(sent - acked);
      bool ok = queue.acknowledge(h);
      check(ok == !claims_too_much, "refused exactly when more than was sent is acknowledged");
      if (!ok) {
        check(queue.unacked() == before, "a refused acknowledgement changes nothing");
      } else {
        // Each entry removed is "x" times its length: recount from what is left.
        acked = h;
        bytes = 0;
        for (const auto& e : queue.take()) {
          bytes += e.xml.size();
          queue.sent(e);
        }
      }
    } else if (op == 3) {
      queue.take();
      acked = sent;  // given back: the next acknowledgement counts from what was sent
      bytes = 0;
      // A new stream starts from zero in the worker; here the queue goes on counting.
      queue = AckQueue(sent);
    } else {
      break;
    }
    check(queue.unacked() == static_cast<std::uint32_t>(sent - acked), "unacknowledged = sent - acknowledged");
    check(queue.bytes() == bytes, "bytes match what is held");
    check(queue.sent_count() == sent, "sent count");
  }
  return 0;
}
