#include "auth-helper/sasl_attempts.h"

#include <algorithm>
#include <utility>

#include "common/address_prefix.h"
#include "common/log.h"

namespace xmppd::auth {
namespace {

// How long a prefix an account logged in from keeps its place at the head of the queue.
constexpr std::chrono::hours kRememberLogin{24 * 30};
// The ranks of SaslAttempts::rank(), first to last.
constexpr int kRanks = 3;

}  // namespace

SaslAttempts::SaslAttempts(CredentialStore& store, AttemptLimits limits, Send send, Now now)
    : store_(store),
      limits_(limits),
      send_(std::move(send)),
      now_(std::move(now)),
      slots_(limits.total, limits.per_prefix),
      account_prefix_delays_(limits.throttle_keys),
      prefix_delays_(limits.throttle_keys),
      account_delays_(limits.throttle_keys, limits.account_delay),
      logged_in_(limits.throttle_keys),
      budget_(static_cast<double>(limits.iterations_per_second), static_cast<double>(limits.iteration_burst), now_()) {}

void SaslAttempts::poll() {
  expire();
  run_waiting();
}

std::optional<TimePoint> SaslAttempts::next_wake() const {
  std::optional<TimePoint> wake = next_waiting_;
  if (!by_deadline_.empty()) {
    const TimePoint deadline = attempts_.at(by_deadline_.front()).deadline;
    wake = wake ? std::min(*wake, deadline) : deadline;
  }
  return wake;
}

void SaslAttempts::hold(std::uint64_t id, Attempt& attempt) {
  waiting_.push_back(id);
  attempt.in_waiting = std::prev(waiting_.end());
  requeued_ = true;
  run_waiting();
}

void SaslAttempts::start(const ipc::SaslStart& start) {
  auto mechanism = parse_mechanism(start.mechanism());
  bool anonymous_host = anonymous_hosts_.count(start.host()) > 0;
  // A host offers ANONYMOUS alone, or everything but ANONYMOUS.
  if (!mechanism || (*mechanism == Mechanism::kAnonymous) != anonymous_host) {
    fail(start.attempt(), kInvalidMechanism, "");
    return;
  }
  finish(start.attempt());  // a router reusing an id ends the old attempt first
  std::string prefix = net::prefix_key(start.client_address());
  if (!slots_.take(prefix)) {
    fail(start.attempt(), kTemporaryAuthFailure,
         slots_.in_use() >= limits_.total ? "too many logins in progress"
                                          : "too many logins in progress from your address");
    return;
  }
  auto server =
      std::make_unique<SaslServer>(store_, start.host(), *mechanism, start.channel_binding(), start.plus_offered());
  server->set_username_preparation(prepare_);
  server->set_new_credential_iterations(new_iterations_);
  server->set_server_end_point(start.server_end_point());
  server->set_deferred_verification(true);
  by_deadline_.push_back(start.attempt());
  Attempt& attempt = attempts_[start.attempt()];
  attempt.server = std::move(server);
  attempt.address = start.client_address();
  attempt.prefix = std::move(prefix);
  attempt.host = start.host();
  attempt.deadline = now_() + limits_.deadline;
  attempt.by_deadline = std::prev(by_deadline_.end());
  proceed(start.attempt(), attempt, attempt.server->start(start.initial_response()));
}

void SaslAttempts::respond(const ipc::SaslResponse& response) {
  auto it = attempts_.find(response.attempt());
  if (it == attempts_.end() || it->second.in_waiting) {
    finish(response.attempt());  // a response while the check is held: the router is confused
    fail(response.attempt(), kMalformedRequest, "no such authentication in progress");
    return;
  }
  proceed(response.attempt(), it->second, it->second.server->respond(response.response()));
}

// Where a step leads: an answer to the router, or the queue of held password checks.
void SaslAttempts::proceed(std::uint64_t id, Attempt& attempt, const SaslServer::Step& step) {
  if (!attempt.server->unsupported_binding().empty() && step.kind == SaslServer::Step::kChallenge &&
      step.data.starts_with("e="))
    log::info("SASL from %s: unsupported channel binding %s; the client may try again without it",
              attempt.address.c_str(), attempt.server->unsupported_binding().c_str());
  switch (step.kind) {
    case SaslServer::Step::kVerify:
      attempt.account = attempt.host + '\0' + step.username;
      attempt.account_prefix = attempt.account + '\0' + attempt.prefix;
      attempt.cost = step.cost;
      hold(id, attempt);
      return;
    case SaslServer::Step::kChallenge: {
      ipc::AuthToRouter reply;
      reply.mutable_challenge()->set_attempt(id);
      reply.mutable_challenge()->set_challenge(step.data);
      send_(reply);
      return;
    }
    case SaslServer::Step::kSuccess: {
      ipc::AuthToRouter reply;
      reply.mutable_success()->set_attempt(id);
      reply.mutable_success()->set_username(step.username);
      reply.mutable_success()->set_additional_data(step.data);
      if (tokens_ != nullptr && anonymous_hosts_.count(attempt.host) == 0)
        reply.mutable_success()->set_account_token(tokens_->issue(attempt.host, step.username));
      if (!attempt.account.empty()) logged_in_.touch(attempt.account_prefix) = now_();
      ++successes_;
      finish(id);
      send_(reply);
      return;
    }
    case SaslServer::Step::kFailure:
      if (step.wrong_password) {
        const TimePoint t = now_();
        account_prefix_delays_.failed(attempt.account_prefix, t);
        prefix_delays_.failed(attempt.prefix, t);
        account_delays_.failed(attempt.account, t);
        // The account's own short delay is not waited for here: it is no sign that this
        // client is guessing.
        const TimePoint answer_at = std::max(account_prefix_delays_.not_before(attempt.account_prefix, t),
                                             prefix_delays_.not_before(attempt.prefix, t));
        if (answer_at > t) {
          attempt.answer_at = answer_at;
          attempt.condition = step.condition;
          hold(id, attempt);
          return;
        }
      }
      finish(id);
      fail(id, step.condition, "", step.unsupported_binding);
      return;
  }
}

// Which held attempts may go first (0 first). Answers that are due cost nothing. A prefix
// the account logged in from lately is most likely its owner; one with no recent failure for
// the account has at least not been guessing at it. Whoever keeps wrong guesses queued for an
// account thus never gets ahead of its owner's login from elsewhere.
int SaslAttempts::rank(const Attempt& attempt, TimePoint now) const {
  if (attempt.answer_at) return 0;
  if (const TimePoint* last = logged_in_.find(attempt.account_prefix); last && now - *last <= kRememberLogin) return 0;
  return account_prefix_delays_.failed_recently(attempt.account_prefix, now) ? 2 : 1;
}

TimePoint SaslAttempts::ready_at(const Attempt& attempt, TimePoint now) {
  if (attempt.answer_at) return *attempt.answer_at;
  TimePoint ready =
      std::max({account_prefix_delays_.not_before(attempt.account_prefix, now),
                prefix_delays_.not_before(attempt.prefix, now), account_delays_.not_before(attempt.account, now)});
  if (attempt.cost > 0) {
    // A check may start once anything is left, and may overdraw what is.
    budget_.refill(now);
    ready = std::max(ready, budget_.ready_at(1));
  }
  return ready;
}

// Runs the held password checks whose time has come, by rank and then oldest first, sends the
// failures whose delay is over, and sets the timer for the next. Each check is decided
// afresh: a failure just counted delays the next check for the same account or prefix. Pass
// n takes the attempts ranked n or better, so the last pass sees every one still held.
void SaslAttempts::run_waiting() {
  // A check run here may queue its own failure: the loop below reaches it, no need to recurse.
  if (running_waiting_) return;
  running_waiting_ = true;
  std::optional<TimePoint> next;
  requeued_ = false;
  auto later = [&next](TimePoint when) { next = next ? std::min(*next, when) : when; };
  for (int pass = 0; pass < kRanks; ++pass) {
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      const TimePoint t = now_();
      const std::uint64_t id = *it;
      Attempt& attempt = attempts_.at(id);
      if (rank(attempt, t) > pass) {
        ++it;
        continue;
      }
      const TimePoint ready = ready_at(attempt, t);
      if (ready > t) {
        if (pass == kRanks - 1) later(ready);
        ++it;
        continue;
      }
      it = waiting_.erase(it);
      attempt.in_waiting.reset();
      if (attempt.answer_at) {
        const std::string condition = std::move(attempt.condition);
        finish(id);
        fail(id, condition, "");
        continue;
      }
      budget_.take(attempt.cost);
      proceed(id, attempt, attempt.server->verify());
    }
  }
  running_waiting_ = false;
  next_waiting_ = next;
  // A failure held back during the loop may have gone in behind where the loop was: one
  // more pass sees it (held answers are never due at once, so that pass queues nothing).
  if (requeued_) run_waiting();
}

// Ends an attempt (if it exists) and gives its slot back.
void SaslAttempts::finish(std::uint64_t id) {
  auto it = attempts_.find(id);
  if (it == attempts_.end()) return;
  if (it->second.in_waiting) waiting_.erase(*it->second.in_waiting);
  by_deadline_.erase(it->second.by_deadline);
  slots_.release(it->second.prefix);
  attempts_.erase(it);
}

void SaslAttempts::clear() {
  attempts_.clear();
  waiting_.clear();
  by_deadline_.clear();
  slots_.clear();
  next_waiting_.reset();
}

// Attempts are listed in the order they started, which is the order of their deadlines.
void SaslAttempts::expire() {
  const TimePoint t = now_();
  while (!by_deadline_.empty() && attempts_.at(by_deadline_.front()).deadline <= t) {
    const std::uint64_t id = by_deadline_.front();
    finish(id);
    fail(id, kTemporaryAuthFailure, "authentication not finished in time");
  }
}

void SaslAttempts::fail(std::uint64_t attempt, std::string_view condition, std::string_view text,
                        std::string_view unsupported_binding) {
  ipc::AuthToRouter reply;
  ipc::SaslFailure* failure = reply.mutable_failure();
  ++(condition == kTemporaryAuthFailure ? temporary_failures_ : failures_);
  failure->set_attempt(attempt);
  failure->set_condition(std::string(condition));
  failure->set_text(std::string(text));
  failure->set_unsupported_channel_binding(std::string(unsupported_binding));
  send_(reply);
}

}  // namespace xmppd::auth
