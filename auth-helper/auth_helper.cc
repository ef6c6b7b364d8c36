// xmppd-auth: the auth helper.
//
// Holds:      the credential store (SCRAM salts, iteration counts, StoredKey, ServerKey),
//             DATA_PATH/auth/credentials.sqlite.
// Talks to:   the parent (control; account requests from xmppctl) and the router (SASL).
// Runs as:    auth_helper_user, chrooted to DATA_PATH/auth, the only directory it can open.
// Syscalls:   sandbox/policy.cc, role "auth": IPC, the event loop, SQLite's file calls.
//
// It reads no network byte: the router relays SASL messages to it, and it computes and
// verifies them here, so no password verifier ever leaves this process. It also enforces
// the login limits itself (login_limits.h), trusting the router for nothing but the client
// address it reports: slots per address prefix, a deadline per attempt, delays per account
// and per prefix after wrong passwords, and a budget of password checks per second.
#include <event2/event.h>

#include <algorithm>
#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include "auth-helper/credential_store.h"
#include "auth-helper/login_limits.h"
#include "auth-helper/sasl_server.h"
#include "auth-helper/scram.h"
#include "common/event_ptr.h"
#include "common/log.h"
#include "router_auth.pb.h"
#include "runtime/child.h"
#include "xmpp/jid.h"

namespace xmppd::auth {
namespace {

constexpr char kStorePath[] = "credentials.sqlite";  // relative: the role's directory
constexpr ipc::Limits kFromRouter{64 << 10, 0};
constexpr ipc::Limits kToRouter{64 << 10, 0};
// SASL attempts in progress at once: all streams together, and from one address prefix
// (/32 IPv4, /64 IPv6), so that one address cannot take them all. An attempt the client
// never finishes gives its slot back after kAttemptDeadline, whatever the router does.
constexpr std::size_t kMaxAttempts = 4096;
constexpr std::size_t kMaxAttemptsPerPrefix = 32;
constexpr std::chrono::seconds kAttemptDeadline{30};
// Failure counts kept per account and per address prefix (each table).
constexpr std::size_t kMaxThrottleKeys = 65536;
// Password checks, all accounts together, in PBKDF2 iterations: 50 checks a second at the
// default 10,000 iterations (about a fifth of one core), with 200 at once after a quiet time.
constexpr std::uint64_t kIterationsPerSecond = 500'000;
constexpr std::uint64_t kIterationBurst = 2'000'000;

using RouterChannel = ipc::TypedChannel<ipc::RouterToAuth>;

TimePoint now() { return Clock::now(); }

timeval timeval_until(TimePoint when) {
  const auto wait = std::max<Clock::duration>(when - now(), Clock::duration::zero());
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(wait).count();
  return timeval{static_cast<time_t>(micros / 1'000'000), static_cast<suseconds_t>(micros % 1'000'000)};
}

}  // namespace

class AuthHelper final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kAuth; }
  ipc::Role wire_role() const override { return ipc::ROLE_AUTH; }
  bool links_to(ipc::Role peer) const override { return peer == ipc::ROLE_ROUTER; }

  bool prepare(runtime::ChildRuntime&, const ipc::Configure& configure, std::string& error) override {
    reconfigure(configure);
    if (!prepare_scram_crypto()) {
      error = "cannot initialise OpenSSL";
      return false;
    }
    return true;
  }

  bool prepare_in_chroot(std::string& error) override {
    store_ = CredentialStore::open(kStorePath, error);
    return store_ != nullptr;
  }

  void reconfigure(const ipc::Configure& configure) override {
    iterations_ = std::max<std::uint32_t>(configure.auth().scram_iterations(), kMinIterations);
    anonymous_hosts_ = {configure.auth().anonymous_hosts().begin(), configure.auth().anonymous_hosts().end()};
    registration_hosts_ = {configure.auth().registration_hosts().begin(), configure.auth().registration_hosts().end()};
  }

  void add_control_handlers(ipc::TypedChannel<ipc::ParentToChild>& control) override {
    control.on(ipc::ParentToChild::kAccountRequest, 0,
               [this](const ipc::ParentToChild& m, auto&) { account(m.account_request()); });
  }

  void add_peer_link(ipc::Role peer, UniqueFd fd) override {
    forget_all();
    if (!waiting_timer_) {
      waiting_timer_.reset(evtimer_new(runtime_->base(), [](evutil_socket_t, short, void* self) {
        static_cast<AuthHelper*>(self)->run_waiting();
      }, this));
      deadline_timer_.reset(evtimer_new(runtime_->base(), [](evutil_socket_t, short, void* self) {
        static_cast<AuthHelper*>(self)->expire();
      }, this));
    }
    router_ = std::make_unique<RouterChannel>(runtime_->base(), std::move(fd), kFromRouter, kToRouter, "router");
    router_->on(ipc::RouterToAuth::kStart, 0, [this](const ipc::RouterToAuth& m, auto&) { start(m.start()); });
    router_->on(ipc::RouterToAuth::kResponse, 0, [this](const ipc::RouterToAuth& m, auto&) { respond(m.response()); });
    router_->on(ipc::RouterToAuth::kUserQuery, 0, [this](const ipc::RouterToAuth& m, auto&) {
      ipc::AuthToRouter reply;
      reply.mutable_user_answer()->set_query(m.user_query().query());
      reply.mutable_user_answer()->set_exists(store_->exists(m.user_query().host(), m.user_query().username()));
      router_->send(reply);
    });
    router_->on(ipc::RouterToAuth::kRegister, 0,
                [this](const ipc::RouterToAuth& m, auto&) { register_account(m.register_()); });
    router_->on(ipc::RouterToAuth::kAbort, 0,
                [this](const ipc::RouterToAuth& m, auto&) { finish(m.abort().attempt()); });
    router_->start([this, peer](ipc::CloseReason reason, std::string_view detail) {
      if (reason == ipc::CloseReason::kViolation) runtime_->report_peer_violation(peer, detail);
      forget_all();
    });
  }

 private:
  // One SASL exchange. It holds a slot from start to its end; while `waiting` its password
  // check is held back until the throttles and the work budget allow it.
  struct Attempt {
    std::unique_ptr<SaslServer> server;
    std::string address;  // as the router gave it, for the log
    std::string prefix;
    std::string host;
    std::string account;  // host NUL localpart, once known
    TimePoint deadline;
    std::uint32_t cost = 0;
    // A wrong password is answered when its delay is over, as the next check would be.
    std::optional<TimePoint> answer_at;
    std::string condition;
    std::list<std::uint64_t>::iterator by_deadline;
    std::optional<std::list<std::uint64_t>::iterator> in_waiting;
  };

  void account(const ipc::AccountRequest& request) {
    ipc::ChildToParent answer;
    ipc::AccountResult* result = answer.mutable_account_result();
    result->set_id(request.id());
    std::string error;
    bool exists = store_->exists(request.host(), request.username());
    bool ok = false;
    switch (request.operation()) {
      case ipc::AccountRequest::OPERATION_ADD:
        ok = !exists && store_->set_password(request.host(), request.username(), request.password(), iterations_, error);
        if (exists) error = "the account exists already";
        break;
      case ipc::AccountRequest::OPERATION_PASSWD:
        ok = exists && store_->set_password(request.host(), request.username(), request.password(), iterations_, error);
        if (!exists) error = "no such account";
        break;
      case ipc::AccountRequest::OPERATION_DELETE:
        ok = store_->remove(request.host(), request.username(), error);
        break;
      default:
        error = "unknown operation";
    }
    log::notice("account %s@%s: %s", request.username().c_str(), request.host().c_str(), ok ? "done" : error.c_str());
    result->set_ok(ok);
    result->set_error(error);
    runtime_->send_to_parent(answer);
  }

  // The helper decides for itself whether the host allows registration: a router taken over
  // cannot create accounts where the configuration says no.
  void register_account(const ipc::RegisterRequest& request) {
    ipc::AuthToRouter reply;
    ipc::RegisterResult* result = reply.mutable_register_result();
    result->set_query(request.query());
    auto username = xmpp::prepare_localpart(request.username());
    std::string error;
    if (registration_hosts_.count(request.host()) == 0) {
      result->set_condition("not-allowed");
    } else if (!username || *username != request.username() || request.password().empty()) {
      result->set_condition("not-acceptable");
    } else if (store_->exists(request.host(), *username)) {
      result->set_condition("conflict");
    } else if (!store_->set_password(request.host(), *username, request.password(), iterations_, error)) {
      result->set_condition("not-acceptable");
    } else {
      result->set_ok(true);
      log::notice("account %s@%s registered in-band", username->c_str(), request.host().c_str());
    }
    router_->send(reply);
  }

  void start(const ipc::SaslStart& start) {
    auto mechanism = parse_mechanism(start.mechanism());
    bool anonymous_host = anonymous_hosts_.count(start.host()) > 0;
    // A host offers ANONYMOUS alone, or everything but ANONYMOUS.
    if (!mechanism || (*mechanism == Mechanism::kAnonymous) != anonymous_host) {
      fail(start.attempt(), kInvalidMechanism, "");
      return;
    }
    finish(start.attempt());  // a router reusing an id ends the old attempt first
    std::string prefix = address_prefix(start.client_address());
    if (!slots_.take(prefix)) {
      fail(start.attempt(), kTemporaryAuthFailure,
           slots_.in_use() >= kMaxAttempts ? "too many logins in progress" : "too many logins in progress from your address");
      return;
    }
    auto server = std::make_unique<SaslServer>(*store_, start.host(), *mechanism, start.channel_binding(),
                                               start.plus_offered());
    server->set_username_preparation(&xmpp::prepare_localpart);
    server->set_server_end_point(start.server_end_point());
    server->set_deferred_verification(true);
    by_deadline_.push_back(start.attempt());
    Attempt& attempt = attempts_[start.attempt()];
    attempt.server = std::move(server);
    attempt.address = start.client_address();
    attempt.prefix = std::move(prefix);
    attempt.host = start.host();
    attempt.deadline = now() + kAttemptDeadline;
    attempt.by_deadline = std::prev(by_deadline_.end());
    if (by_deadline_.size() == 1) schedule_deadline();
    proceed(start.attempt(), attempt, attempt.server->start(start.initial_response()));
  }

  void respond(const ipc::SaslResponse& response) {
    auto it = attempts_.find(response.attempt());
    if (it == attempts_.end() || it->second.in_waiting) {
      finish(response.attempt());  // a response while the check is held: the router is confused
      fail(response.attempt(), kMalformedRequest, "no such authentication in progress");
      return;
    }
    proceed(response.attempt(), it->second, it->second.server->respond(response.response()));
  }

  // Where a step leads: an answer to the router, or the queue of held password checks.
  void proceed(std::uint64_t id, Attempt& attempt, const SaslServer::Step& step) {
    if (!attempt.server->unsupported_binding().empty() && step.kind == SaslServer::Step::kChallenge &&
        step.data.starts_with("e="))
      log::info("SASL from %s: unsupported channel binding %s; the client may try again without it",
                attempt.address.c_str(), attempt.server->unsupported_binding().c_str());
    switch (step.kind) {
      case SaslServer::Step::kVerify:
        attempt.account = attempt.host + '\0' + step.username;
        attempt.cost = step.cost;
        waiting_.push_back(id);
        attempt.in_waiting = std::prev(waiting_.end());
        run_waiting();
        return;
      case SaslServer::Step::kChallenge: {
        ipc::AuthToRouter reply;
        reply.mutable_challenge()->set_attempt(id);
        reply.mutable_challenge()->set_challenge(step.data);
        router_->send(reply);
        return;
      }
      case SaslServer::Step::kSuccess: {
        ipc::AuthToRouter reply;
        reply.mutable_success()->set_attempt(id);
        reply.mutable_success()->set_username(step.username);
        reply.mutable_success()->set_additional_data(step.data);
        finish(id);
        router_->send(reply);
        return;
      }
      case SaslServer::Step::kFailure:
        if (step.wrong_password) {
          const TimePoint t = now();
          account_delays_.failed(attempt.account, t);
          prefix_delays_.failed(attempt.prefix, t);
          const TimePoint answer_at =
              std::max(account_delays_.not_before(attempt.account, t), prefix_delays_.not_before(attempt.prefix, t));
          if (answer_at > t) {
            attempt.answer_at = answer_at;
            attempt.condition = step.condition;
            waiting_.push_back(id);
            attempt.in_waiting = std::prev(waiting_.end());
            run_waiting();
            return;
          }
        }
        finish(id);
        fail(id, step.condition, "");
        return;
    }
  }

  // Runs the held password checks whose time has come, oldest first, sends the failures
  // whose delay is over, and sets the timer for the next. Each check is decided afresh: a
  // failure just counted delays the next check for the same account or prefix.
  void run_waiting() {
    // A check run here may queue its own failure: the loop below reaches it, no need to recurse.
    if (running_waiting_) return;
    running_waiting_ = true;
    std::optional<TimePoint> next;
    auto later = [&next](TimePoint when) { next = next ? std::min(*next, when) : when; };
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      const TimePoint t = now();
      const std::uint64_t id = *it;
      Attempt& attempt = attempts_.at(id);
      TimePoint ready = attempt.answer_at.value_or(
          std::max(account_delays_.not_before(attempt.account, t), prefix_delays_.not_before(attempt.prefix, t)));
      if (!attempt.answer_at) ready = std::max(ready, budget_.available_at(t));
      if (ready > t) {
        later(ready);
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
      budget_.spend(attempt.cost, t);
      proceed(id, attempt, attempt.server->verify());
    }
    running_waiting_ = false;
    if (next) {
      timeval tv = timeval_until(*next);
      evtimer_add(waiting_timer_.get(), &tv);
    }
  }

  // Ends an attempt (if it exists) and gives its slot back.
  void finish(std::uint64_t id) {
    auto it = attempts_.find(id);
    if (it == attempts_.end()) return;
    if (it->second.in_waiting) waiting_.erase(*it->second.in_waiting);
    by_deadline_.erase(it->second.by_deadline);
    slots_.release(it->second.prefix);
    attempts_.erase(it);
  }

  void forget_all() {
    attempts_.clear();
    waiting_.clear();
    by_deadline_.clear();
    slots_.clear();
  }

  void schedule_deadline() {
    if (by_deadline_.empty()) return;
    timeval tv = timeval_until(attempts_.at(by_deadline_.front()).deadline);
    evtimer_add(deadline_timer_.get(), &tv);
  }

  // Attempts are listed in the order they started, which is the order of their deadlines.
  void expire() {
    const TimePoint t = now();
    while (!by_deadline_.empty() && attempts_.at(by_deadline_.front()).deadline <= t) {
      const std::uint64_t id = by_deadline_.front();
      finish(id);
      fail(id, kTemporaryAuthFailure, "authentication not finished in time");
    }
    schedule_deadline();
  }

  void fail(std::uint64_t attempt, std::string_view condition, std::string_view text) {
    ipc::AuthToRouter reply;
    ipc::SaslFailure* failure = reply.mutable_failure();
    failure->set_attempt(attempt);
    failure->set_condition(std::string(condition));
    failure->set_text(std::string(text));
    if (router_) router_->send(reply);
  }

  std::unique_ptr<CredentialStore> store_;
  std::uint32_t iterations_ = kMinIterations;
  std::set<std::string> anonymous_hosts_;
  std::set<std::string> registration_hosts_;
  std::unique_ptr<RouterChannel> router_;
  std::unordered_map<std::uint64_t, Attempt> attempts_;
  AttemptSlots slots_{kMaxAttempts, kMaxAttemptsPerPrefix};
  std::list<std::uint64_t> by_deadline_;  // oldest first
  std::list<std::uint64_t> waiting_;      // password checks held back, oldest first
  FailureDelays account_delays_{kMaxThrottleKeys};
  FailureDelays prefix_delays_{kMaxThrottleKeys};
  WorkBudget budget_{kIterationsPerSecond, kIterationBurst, Clock::now()};
  EventPtr waiting_timer_;
  bool running_waiting_ = false;
  EventPtr deadline_timer_;
};

}  // namespace xmppd::auth

int main() {
  xmppd::auth::AuthHelper helper;
  return xmppd::runtime::ChildRuntime(helper).run();
}
