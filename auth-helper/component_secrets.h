// External components' secrets (XEP-0114 component_secret) and the check of their
// handshakes. The secrets come from the parent's Configure and never leave this process: the
// router, which reads the component's stream, relays the stream id and the digest the
// component sent, and gets back only whether it matched.
//
// Failed handshakes slow the next answers for the component's domain (HandshakeThrottle),
// kept here rather than in the router so that a router taken over cannot lift the delays.
//
// Trusts: the parent for the secrets; nothing of the router's request but that it is a
// request (the domain may be unknown, the digest anything).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace xmppd::auth {

// hex(SHA-1(stream_id + secret)), lowercase: what XEP-0114 §3 says the component sends.
std::string component_handshake_digest(std::string_view stream_id, std::string_view secret);

class ComponentSecrets {
 public:
  using ByDomain = std::map<std::string, std::string, std::less<>>;
  // Replaces every secret and its tag (AuthSettings.ComponentSecret secret_tag) (a reload).
  void set(ByDomain secrets, ByDomain tags = {}) {
    secrets_ = std::move(secrets);
    tags_ = std::move(tags);
  }
  // The tag of `domain`'s secret as configured now, empty if none: a verdict carries it so
  // that the router can tell which secret it was.
  std::string tag(std::string_view domain) const {
    auto it = tags_.find(domain);
    return it != tags_.end() ? it->second : std::string();
  }
  // Whether `digest` is the handshake of `domain`'s secret for `stream_id`. Compared in
  // constant time over the expected digest's length (CRYPTO_memcmp), so that the time taken
  // tells nothing of how much of a guess was right; an unknown domain, an empty stream id or a
  // digest of the wrong length is simply no.
  bool check(std::string_view domain, std::string_view stream_id, std::string_view digest) const;
  std::size_t size() const { return secrets_.size(); }
  bool knows(std::string_view domain) const { return secrets_.find(domain) != secrets_.end(); }

 private:
  ByDomain secrets_;
  ByDomain tags_;
};

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// Wrong handshakes per component domain. After n failures in a row (forgotten kForget after
// the last), a handshake for the domain that arrives is answered, right or wrong, no sooner
// than the last failure + delay_after(n): 1 s, 2 s, 4 s ... kMaxDelay. A success ends the
// penalty. The answer's time is fixed when the handshake arrives and later failures do not
// push it back, so no handshake held waits longer than kMaxDelay whatever anyone else sends:
// the real component, reconnecting after a restart while someone guesses, is in within 30 s
// unless the guessers keep ComponentHandshakes::kMaxHeldPerDomain held (it is then refused
// at once and tries again).
// Guessing then goes no faster than the handshakes one may hold open at once (the router's
// max_unauthenticated_per_address, 32 by default) every kMaxDelay.
class HandshakeThrottle {
 public:
  static constexpr std::chrono::seconds kMaxDelay{30};
  static constexpr std::chrono::seconds kForget{600};
  static Clock::duration delay_after(unsigned failures);
  // When a handshake for `domain` that arrives at `now` is answered.
  TimePoint answer_at(std::string_view domain, TimePoint now) const;
  void failed(std::string_view domain, TimePoint now);
  void succeeded(std::string_view domain);
  // Drops the domains not in `secrets` (a reload), which keeps the table as small as the
  // configuration.
  void keep_only(const ComponentSecrets& secrets);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    unsigned failures = 0;
    TimePoint last{};
  };
  std::map<std::string, Entry, std::less<>> entries_;  // configured domains only
};

// The handshakes the router relays, checked against ComponentSecrets under a
// HandshakeThrottle: each is answered at once or held until its time. No event loop here:
// the helper calls poll() when next_wake() says, and a test with a fake time.
class ComponentHandshakes {
 public:
  // `secret_tag`: when ok, the tag of the secret the handshake was checked with.
  using Answer =
      std::function<void(std::uint64_t query, std::string_view domain, bool ok, const std::string& secret_tag)>;
  ComponentHandshakes(const ComponentSecrets& secrets, Answer answer) : secrets_(secrets), answer_(std::move(answer)) {}
  void check(std::uint64_t query, std::string_view domain, std::string_view stream_id, std::string_view digest,
             TimePoint now);
  // The router's stream went away: the handshake is dropped unanswered, if held.
  void cancel(std::uint64_t query);
  // Answers the held handshakes whose time has come.
  void poll(TimePoint now);
  std::optional<TimePoint> next_wake() const;
  // The router went away: the held handshakes are dropped unanswered.
  void clear() {
    held_.clear();
    held_per_domain_.clear();
  }
  void reconfigured() { throttle_.keep_only(secrets_); }
  std::size_t held() const { return held_.size(); }

  // More held at once, in all or for one domain, are refused unchecked: a router taken over
  // cannot grow this process. The router waits for as many (router/auth_link.h
  // kMaxComponentChecks, kMaxComponentChecksPerDomain), so these refuse only its lies.
  static constexpr std::size_t kMaxHeld = 4096;
  static constexpr std::size_t kMaxHeldPerDomain = 16;

 private:
  struct Held {
    std::uint64_t query;
    std::string domain, stream_id, digest;
  };
  void answer(const Held& handshake, TimePoint now);
  void unheld(const std::string& domain);

  const ComponentSecrets& secrets_;
  Answer answer_;
  HandshakeThrottle throttle_;
  std::multimap<TimePoint, Held> held_;  // by the time each is answered
  std::map<std::string, std::size_t, std::less<>> held_per_domain_;
};

}  // namespace xmppd::auth
