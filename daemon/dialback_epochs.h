// The parent's half of dialback keys: it keeps the long-term secret (dialback_secret, or a
// random one) and derives from it one key per epoch for the s2s worker, which never sees the
// secret. An epoch begins at each start of the worker, when the configured secret changes,
// and a day after the last one began; the worker gets the current and the previous epoch's
// keys (s2s-worker/dialback_key_ring.h). The derivation is xmpp/dialback_key.h, shared with the
// worker. Trusts nothing from the children: it only sends.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "control.pb.h"

namespace xmppd::parent {

class DialbackEpochs {
 public:
  static constexpr std::chrono::hours kEpochLength{24};

  // `configured`: dialback_secret; "" for a random secret held until the parent exits.
  explicit DialbackEpochs(const std::string& configured);
  DialbackEpochs(const DialbackEpochs&) = delete;
  DialbackEpochs& operator=(const DialbackEpochs&) = delete;
  ~DialbackEpochs();

  // A reload's dialback_secret. True when it changed, and a new epoch has then begun (keys of
  // the old secret's last epoch are still accepted as the previous epoch's).
  bool reconfigure(const std::string& configured);
  // Begins a new epoch. Epochs are numbered by the wall clock in microseconds, and always
  // increase, so that no epoch (and no key) comes back after a restart of xmppd with the
  // same secret; `wall_us` and `now` are for tests.
  void advance();
  void advance(std::uint64_t wall_us, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // How long until the daily epoch is due: kEpochLength after the current epoch began, by
  // whatever cause (a start of the worker, a new secret), zero once that has passed. The daily
  // change counts from the last change rather than from a fixed time, so that two never come
  // within seconds of each other: a key handed out just before the first would be two epochs
  // old after the second, and refused.
  std::chrono::steady_clock::duration next_epoch_in(std::chrono::steady_clock::time_point now) const;

  std::uint64_t epoch() const { return epoch_; }
  // What the worker gets: the keys of the current and the previous epoch.
  ipc::DialbackKeys keys() const;

 private:
  void use_secret(const std::string& configured);

  std::string configured_;  // as configured, to tell a change on reload
  std::string secret_;      // in force: configured_, or random when that is empty
  std::uint64_t epoch_ = 0;
  std::chrono::steady_clock::time_point began_;  // of the current epoch, by the monotonic clock
  std::string current_, previous_;
};

}  // namespace xmppd::parent
