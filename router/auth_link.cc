#include "router/auth_link.h"

#include <algorithm>
#include <string_view>

#include "common/log.h"

namespace xmppd::router {
namespace {

constexpr ipc::Limits kToAuth{64 << 10, 0};
constexpr ipc::Limits kFromAuth{64 << 10, 0};

constexpr std::string_view kFailureConditions[] = {
    "aborted",
    "account-disabled",
    "credentials-expired",
    "encryption-required",
    "incorrect-encoding",
    "invalid-authzid",
    "invalid-mechanism",
    "malformed-request",
    "mechanism-too-weak",
    "not-authorized",
    "temporary-auth-failure",
};
// What an AccountChangeResult may say (account_changes.h in the helper).
constexpr std::string_view kChangeConditions[] = {
    "internal-server-error", "not-acceptable", "not-allowed", "not-authorized",
};
// Real channel binding type names are a few characters (tls-server-end-point is the longest).
constexpr std::size_t kMaxBindingName = 64;

bool valid_binding_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxBindingName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

}  // namespace

const char* refused_failure(const ipc::SaslFailure& failure) {
  if (std::find(std::begin(kFailureConditions), std::end(kFailureConditions), failure.condition()) ==
      std::end(kFailureConditions))
    return "it names no RFC 6120 failure condition";
  const std::string& binding = failure.unsupported_channel_binding();
  if (!binding.empty() && failure.condition() != "invalid-mechanism")
    return "an unsupported channel binding comes with another condition than invalid-mechanism";
  if (!binding.empty() && !valid_binding_name(binding)) return "its channel binding type is no cb-name";
  return nullptr;
}

bool valid_change_condition(std::string_view condition) {
  return std::find(std::begin(kChangeConditions), std::end(kChangeConditions), condition) !=
         std::end(kChangeConditions);
}

AuthLink::AuthLink(struct event_base* base, std::function<void(std::string_view)> on_violation)
    : base_(base), on_violation_(std::move(on_violation)) {}

AuthLink::Waiter* AuthLink::take(std::uint64_t attempt, bool final) {
  auto it = waiting_.find(attempt);
  if (it == waiting_.end()) return nullptr;
  Waiter* waiter = it->second;
  if (final) waiting_.erase(it);
  return waiter;
}

void AuthLink::link(UniqueFd sock) {
  fail_all();
  channel_ = std::make_unique<Channel>(base_, std::move(sock), kFromAuth, kToAuth, "auth");
  // An answer for an attempt this router did not start (or already finished) is a lie.
  channel_->on(ipc::AuthToRouter::kChallenge, 0, [this](const ipc::AuthToRouter& m, auto&) {
    if (Waiter* w = take(m.challenge().attempt(), false)) w->sasl_challenge(m.challenge().challenge());
  });
  channel_->on(ipc::AuthToRouter::kSuccess, 0, [this](const ipc::AuthToRouter& m, auto&) {
    if (Waiter* w = take(m.success().attempt(), true))
      w->sasl_success(m.success().username(), m.success().additional_data(), m.success().account_token());
  });
  channel_->on(ipc::AuthToRouter::kFailure, 0, [this](const ipc::AuthToRouter& m, auto&) {
    const ipc::SaslFailure& f = m.failure();
    Waiter* w = take(f.attempt(), true);
    if (w == nullptr) return;
    if (const char* why = refused_failure(f)) {
      log::warning("the auth helper's SASL failure for attempt %llu is refused: %s",
                   static_cast<unsigned long long>(f.attempt()), why);
      w->sasl_failure("temporary-auth-failure", "authentication service error", {});
      return;
    }
    w->sasl_failure(f.condition(), f.text(), f.unsupported_channel_binding());
  });
  channel_->on(ipc::AuthToRouter::kSha1OnlyHosts, 0, [this](const ipc::AuthToRouter& m, auto&) {
    sha1_only_hosts_ = {m.sha1_only_hosts().hosts().begin(), m.sha1_only_hosts().hosts().end()};
  });
  channel_->on(ipc::AuthToRouter::kUserAnswer, 0, [this](const ipc::AuthToRouter& m, auto&) {
    auto it = queries_.find(m.user_answer().query());
    if (it == queries_.end()) return;
    auto answer = std::move(it->second);
    queries_.erase(it);
    answer(m.user_answer().exists());
  });
  channel_->on(ipc::AuthToRouter::kRegisterResult, 0, [this](const ipc::AuthToRouter& m, auto&) {
    auto it = registrations_.find(m.register_result().query());
    if (it == registrations_.end()) return;
    auto answer = std::move(it->second);
    registrations_.erase(it);
    answer(m.register_result().ok() ? std::string() : m.register_result().condition());
  });
  channel_->on(ipc::AuthToRouter::kComponentVerdict, 0, [this](const ipc::AuthToRouter& m, auto&) {
    if (ComponentAnswer answer = take_component(m.component_verdict().query()))
      answer(m.component_verdict().ok() ? ComponentCheck::kAccepted : ComponentCheck::kRefused,
             m.component_verdict().secret_tag());
  });
  channel_->on(ipc::AuthToRouter::kAccountChangeResult, 0, [this](const ipc::AuthToRouter& m, auto&) {
    const ipc::AccountChangeResult& r = m.account_change_result();
    auto it = changes_.find(r.query());
    if (it == changes_.end()) return;
    auto answer = std::move(it->second);
    changes_.erase(it);
    if (r.ok()) {
      answer({});
    } else if (valid_change_condition(r.condition())) {
      answer(r.condition());
    } else {
      log::warning("the auth helper's answer to account change %llu is refused: no condition it may give",
                   static_cast<unsigned long long>(r.query()));
      answer("internal-server-error");
    }
  });
  channel_->start([this](ipc::CloseReason reason, std::string_view detail) {
    if (reason == ipc::CloseReason::kViolation) on_violation_(detail);
    log::info("link to the auth helper closed; pending logins fail until it is back");
    fail_all();
  });
}

void AuthLink::fail_all() {
  auto queries = std::move(queries_);
  queries_.clear();
  for (auto& [id, answer] : queries) answer(std::nullopt);
  auto registrations = std::move(registrations_);
  registrations_.clear();
  for (auto& [id, answer] : registrations) answer("service-unavailable");
  auto changes = std::move(changes_);
  changes_.clear();
  for (auto& [id, answer] : changes) answer("service-unavailable");
  auto checks = std::move(component_checks_);
  component_checks_.clear();
  component_checks_per_domain_.clear();
  for (auto& [id, check] : checks) check.answer(ComponentCheck::kUnavailable, {});
  std::map<std::uint64_t, Waiter*> waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& [attempt, waiter] : waiting)
    waiter->sasl_failure("temporary-auth-failure", "authentication service restarting", {});
}

std::uint64_t AuthLink::start(Waiter& waiter, ipc::SaslStart start) {
  if (!channel_ || !channel_->raw().open()) return 0;
  std::uint64_t attempt = next_attempt_++;
  start.set_attempt(attempt);
  ipc::RouterToAuth message;
  *message.mutable_start() = std::move(start);
  if (!channel_->send(message)) return 0;
  waiting_[attempt] = &waiter;
  return attempt;
}

void AuthLink::respond(std::uint64_t attempt, std::string response) {
  if (!channel_) return;
  ipc::RouterToAuth message;
  message.mutable_response()->set_attempt(attempt);
  message.mutable_response()->set_response(std::move(response));
  channel_->send(message);
}

void AuthLink::user_exists(const std::string& host, const std::string& username,
                           std::function<void(std::optional<bool>)> answer) {
  if (!channel_ || !channel_->raw().open()) {
    answer(std::nullopt);
    return;
  }
  ipc::RouterToAuth message;
  std::uint64_t id = next_query_++;
  message.mutable_user_query()->set_query(id);
  message.mutable_user_query()->set_host(host);
  message.mutable_user_query()->set_username(username);
  queries_[id] = std::move(answer);
  channel_->send(message);
}

void AuthLink::register_account(const std::string& host, const std::string& username, const std::string& password,
                                std::function<void(const std::string&)> answer) {
  if (!channel_ || !channel_->raw().open()) {
    answer("service-unavailable");
    return;
  }
  ipc::RouterToAuth message;
  std::uint64_t id = next_query_++;
  ipc::RegisterRequest* r = message.mutable_register_();
  r->set_query(id);
  r->set_host(host);
  r->set_username(username);
  r->set_password(password);
  registrations_[id] = std::move(answer);
  if (const char* condition = send_request(message)) {
    auto it = registrations_.find(id);
    if (it == registrations_.end()) return;
    auto unanswered = std::move(it->second);
    registrations_.erase(it);
    unanswered(condition);
  }
}

// Sends a request that waits for an answer; if it cannot go, the condition to answer with at
// once rather than never: a password past the channel's record size is not-acceptable.
const char* AuthLink::send_request(const ipc::RouterToAuth& message) {
  if (message.ByteSizeLong() > kToAuth.max_record) return "not-acceptable";
  return channel_->send(message) ? nullptr : "service-unavailable";
}

std::uint64_t AuthLink::queue_change(ChangeAnswer& answer) {
  if (!channel_ || !channel_->raw().open()) {
    answer("service-unavailable");
    return 0;
  }
  if (changes_.size() >= kMaxAccountChanges) {
    answer("resource-constraint");
    return 0;
  }
  std::uint64_t id = next_query_++;
  changes_[id] = std::move(answer);
  return id;
}

void AuthLink::change_password(const std::string& host, const std::string& username, const std::string& token,
                               const std::string& password, ChangeAnswer answer) {
  std::uint64_t id = queue_change(answer);
  if (id == 0) return;
  ipc::RouterToAuth message;
  ipc::PasswordChange* r = message.mutable_password_change();
  r->set_query(id);
  r->set_host(host);
  r->set_username(username);
  r->set_token(token);
  r->set_password(password);
  if (const char* condition = send_request(message)) unqueue_change(id, condition);
}

void AuthLink::remove_account(const std::string& host, const std::string& username, const std::string& token,
                              ChangeAnswer answer) {
  std::uint64_t id = queue_change(answer);
  if (id == 0) return;
  ipc::RouterToAuth message;
  ipc::AccountRemoval* r = message.mutable_account_removal();
  r->set_query(id);
  r->set_host(host);
  r->set_username(username);
  r->set_token(token);
  if (const char* condition = send_request(message)) unqueue_change(id, condition);
}

void AuthLink::unqueue_change(std::uint64_t id, const char* condition) {
  auto it = changes_.find(id);
  if (it == changes_.end()) return;
  auto answer = std::move(it->second);
  changes_.erase(it);
  answer(condition);
}

std::uint64_t AuthLink::check_component(const std::string& domain, const std::string& stream_id,
                                       const std::string& digest, ComponentAnswer answer) {
  if (!channel_ || !channel_->raw().open()) {
    answer(ComponentCheck::kUnavailable, {});
    return 0;
  }
  std::size_t& for_domain = component_checks_per_domain_[domain];
  if (for_domain >= kMaxComponentChecksPerDomain || component_checks_.size() >= kMaxComponentChecks) {
    if (for_domain == 0) component_checks_per_domain_.erase(domain);
    answer(ComponentCheck::kBusy, {});
    return 0;
  }
  ++for_domain;
  ipc::RouterToAuth message;
  std::uint64_t id = next_query_++;
  ipc::ComponentHandshake* r = message.mutable_component_handshake();
  r->set_query(id);
  r->set_domain(domain);
  r->set_stream_id(stream_id);
  r->set_digest(digest);
  component_checks_[id] = PendingCheck{domain, std::move(answer)};
  if (send_request(message) != nullptr) {
    if (ComponentAnswer unanswered = take_component(id)) unanswered(ComponentCheck::kUnavailable, {});
    return 0;
  }
  return id;
}

// Forgets the check and frees its domain's place; an empty answer if it was not waiting.
AuthLink::ComponentAnswer AuthLink::take_component(std::uint64_t check) {
  auto it = component_checks_.find(check);
  if (it == component_checks_.end()) return {};
  ComponentAnswer answer = std::move(it->second.answer);
  auto count = component_checks_per_domain_.find(it->second.domain);
  if (count != component_checks_per_domain_.end() && --count->second == 0) component_checks_per_domain_.erase(count);
  component_checks_.erase(it);
  return answer;
}

void AuthLink::cancel_component(std::uint64_t check) {
  if (!take_component(check) || !channel_) return;
  ipc::RouterToAuth message;
  message.mutable_component_cancel()->set_query(check);
  channel_->send(message);
}

void AuthLink::abort(std::uint64_t attempt) {
  if (waiting_.erase(attempt) == 0 || !channel_) return;
  ipc::RouterToAuth message;
  message.mutable_abort()->set_attempt(attempt);
  channel_->send(message);
}

}  // namespace xmppd::router
