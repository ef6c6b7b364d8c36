// The pacing loop both of loadgen's modes share (loadgen.cc's one-to-one messages, muc_run.cc's
// groupchat): at a fixed --rate, the sends due so far, round robin over the active senders; or
// saturation, a --window of messages in flight per sender, given up on after --drain seconds.
// A sender is any struct with the fields below (a Pair, a MucRun::Sender); the mode says which
// client sends for it and writes the message. Trusts only its caller; touches no socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bench/loadgen/client.h"
#include "bench/loadgen/util.h"

namespace loadgen {

class Pacer {
 public:
  // Rate mode, on every tick: the sends due at `rate` a second since `start_ns`. A sender that
  // is inactive, offline or whose server does not read any more is skipped (and counted)
  // rather than buffered without end.
  template <typename Sender, typename ClientOf, typename Send>
  void tick(const std::vector<Sender*>& active, std::uint64_t start_ns, std::uint64_t now, double rate,
            ClientOf client_of, Send send) {
    if (active.empty()) return;
    auto due = static_cast<std::uint64_t>(seconds_between(start_ns, now) * rate);
    const std::size_t n = active.size();
    constexpr std::size_t kMaxBacklog = 1 << 20;
    while (scheduled_ < due) {
      ++scheduled_;
      Sender& s = *active[cursor_];
      cursor_ = cursor_ + 1 == n ? 0 : cursor_ + 1;
      Client& c = client_of(s);
      if (!s.active || !c.online() || c.pending_output() > kMaxBacklog) {
        ++skips_;
        continue;
      }
      send(s);
    }
  }

  // Saturation mode: while `sending`, sends until `window` messages of `s` are in flight.
  template <typename Sender, typename ClientOf, typename Send>
  static void refill(Sender& s, std::uint64_t now, bool sending, std::uint32_t window, ClientOf client_of, Send send) {
    if (s.in_flight == 0) s.last_progress_ns = now;
    while (sending && s.active && client_of(s).online() && s.in_flight < window) {
      send(s);
      ++s.in_flight;
    }
  }

  // Saturation mode: a sender whose messages have not come back for `drain` seconds stops
  // waiting for them (they count as lost unless they still arrive) and sends again.
  template <typename Sender, typename Refill>
  void expire(const std::vector<Sender*>& active, std::uint64_t now, double drain, Refill refill) {
    auto limit = static_cast<std::uint64_t>(drain * 1e9);
    for (Sender* s : active) {
      if (s->in_flight == 0 || now - s->last_progress_ns < limit) continue;
      given_up_ += s->in_flight;
      s->in_flight = 0;
      s->given_up_below = s->next_seq;
      refill(*s);
    }
  }

  std::uint64_t skips() const { return skips_; }        // rate mode: sends skipped
  std::uint64_t given_up() const { return given_up_; }  // saturation: messages no longer waited for

 private:
  std::uint64_t scheduled_ = 0;
  std::size_t cursor_ = 0;
  std::uint64_t skips_ = 0, given_up_ = 0;
};

}  // namespace loadgen
