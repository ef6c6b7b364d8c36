// The SASL attempts the auth helper runs for the router, under limits the helper keeps
// itself (login_limits.h): a slot per attempt, shared out per address prefix; a deadline per
// attempt; password checks held back after wrong passwords, and by a global budget of PBKDF2
// work. Only the client address is taken from the router, and only as a key: the account is
// the one the SASL server prepared.
//
// The long delays (up to 8 s) are per account and address prefix together, and per prefix:
// wrong passwords from one prefix slow down that prefix, never the same account's logins
// from elsewhere, which would let anyone lock a chosen account out by keeping a few wrong
// guesses queued. The account alone gets a short delay (one check a second after repeated
// failures), which bounds guessing spread over many prefixes. Where several held checks for
// one account may run, a prefix that logged in to it lately goes first, then one without
// recent failures for it, then the rest.
//
// No event loop here: the caller hands in the clock, sends the answers, and calls poll() at
// the time next_wake() says, so that the tests can run it with a fake time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "auth-helper/account_tokens.h"
#include "auth-helper/credential_store.h"
#include "auth-helper/login_limits.h"
#include "auth-helper/sasl_server.h"
#include "common/token_bucket.h"
#include "router_auth.pb.h"

namespace xmppd::auth {

struct AttemptLimits {
  // In progress at once: all streams together, and the share of one address prefix (/32
  // IPv4, /64 IPv6) once half the pool is in use (AttemptSlots), so that one address cannot
  // take them all.
  std::size_t total = 4096;
  std::size_t per_prefix = 32;
  // An attempt the client has not finished by then gives its slot back, whatever the
  // router does: real clients take well under a second.
  std::chrono::seconds deadline{30};
  // Failure counts kept per account and prefix, per prefix, per account, and the prefixes
  // each account logged in from (each table; least recently touched dropped first).
  std::size_t throttle_keys = 65536;
  // The most an account's failures from all prefixes together hold back its next check.
  std::chrono::milliseconds account_delay{1000};
  // PBKDF2 run here (PLAIN), all accounts together, in iterations: 50 checks a second at
  // the default 10,000 iterations (about a fifth of one core), 200 at once after a quiet
  // time. A SCRAM proof is not charged: the client ran PBKDF2 for it (a router taken over
  // that guesses with SCRAM pays that itself, in its own sandbox), and a flood of PLAIN
  // then never holds up a SCRAM login. Both stay under the per-account delays.
  std::uint64_t iterations_per_second = 500'000;
  std::uint64_t iteration_burst = 2'000'000;
};

class SaslAttempts {
 public:
  using Send = std::function<void(const ipc::AuthToRouter&)>;
  using Now = std::function<TimePoint()>;

  SaslAttempts(CredentialStore& store, AttemptLimits limits, Send send, Now now);
  SaslAttempts(const SaslAttempts&) = delete;
  SaslAttempts& operator=(const SaslAttempts&) = delete;

  void set_anonymous_hosts(std::set<std::string> hosts) { anonymous_hosts_ = std::move(hosts); }
  void set_username_preparation(SaslServer::PrepareUsername prepare) { prepare_ = prepare; }
  void set_new_credential_iterations(std::uint32_t iterations) { new_iterations_ = iterations; }
  // Each success on a host that is not anonymous carries the account's token from these.
  void set_account_tokens(const AccountTokens* tokens) { tokens_ = tokens; }

  void start(const ipc::SaslStart& start);
  void respond(const ipc::SaslResponse& response);
  void abort(std::uint64_t id) { finish(id); }
  // The router went away: every attempt ends, its slots come back, nothing is answered.
  void clear();
  // Ends the attempts past their deadline, runs the held checks whose time has come.
  void poll();
  // When poll() has something to do next, if anything.
  std::optional<TimePoint> next_wake() const;

  std::size_t in_progress() const { return attempts_.size(); }
  // For /metrics: exchanges that ended in success, in failure, and in temporary-auth-failure.
  std::uint64_t successes() const { return successes_; }
  std::uint64_t failures() const { return failures_; }
  std::uint64_t temporary_failures() const { return temporary_failures_; }

 private:
  // One SASL exchange. It holds a slot from start to its end; while in `waiting_` its
  // password check (or the answer to a wrong password) is held back.
  struct Attempt {
    std::unique_ptr<SaslServer> server;
    std::string address;  // as the router gave it, for the log
    std::string prefix;
    std::string host;
    std::string account;  // host NUL localpart, once known
    std::string account_prefix;  // account NUL prefix
    TimePoint deadline;
    std::uint32_t cost = 0;
    // A wrong password is answered when its delay is over, as the next check would be.
    std::optional<TimePoint> answer_at;
    std::string condition;
    std::list<std::uint64_t>::iterator by_deadline;
    std::optional<std::list<std::uint64_t>::iterator> in_waiting;
  };

  void proceed(std::uint64_t id, Attempt& attempt, const SaslServer::Step& step);
  void hold(std::uint64_t id, Attempt& attempt);
  int rank(const Attempt& attempt, TimePoint now) const;
  TimePoint ready_at(const Attempt& attempt, TimePoint now);
  void run_waiting();
  void expire();
  void finish(std::uint64_t id);
  void fail(std::uint64_t id, std::string_view condition, std::string_view text,
            std::string_view unsupported_binding = {});

  CredentialStore& store_;
  AttemptLimits limits_;
  Send send_;
  Now now_;
  std::set<std::string> anonymous_hosts_;
  SaslServer::PrepareUsername prepare_ = nullptr;
  std::uint32_t new_iterations_ = 0;
  const AccountTokens* tokens_ = nullptr;
  std::unordered_map<std::uint64_t, Attempt> attempts_;
  AttemptSlots slots_;
  std::list<std::uint64_t> by_deadline_;  // oldest first: the order of their deadlines
  std::list<std::uint64_t> waiting_;      // held back, oldest first
  std::optional<TimePoint> next_waiting_;
  bool running_waiting_ = false;
  bool requeued_ = false;  // hold() was called while run_waiting() ran
  FailureDelays account_prefix_delays_;
  FailureDelays prefix_delays_;
  FailureDelays account_delays_;       // capped at limits_.account_delay
  BoundedTable<TimePoint> logged_in_;  // account NUL prefix: the last success from there
  TokenBucket budget_;  // PBKDF2 iterations
  std::uint64_t successes_ = 0, failures_ = 0, temporary_failures_ = 0;
};

}  // namespace xmppd::auth
