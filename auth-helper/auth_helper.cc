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
// the login limits itself (sasl_attempts.h), trusting the router for nothing but the client
// address it reports: slots per address prefix, a deadline per attempt, delays per account
// and prefix, per prefix and (shorter) per account after wrong passwords, and a budget of
// password checks per second.
//
// After login, a session's password change or account removal comes with the account token
// this helper gave with its SaslSuccess (account_tokens.h): the router cannot change an
// account that did not log in through it.
//
// It also holds the external components' secrets (XEP-0114) and checks their handshakes
// for the router (component_secrets.h), which only hears yes or no, and that only after the
// delay that wrong handshakes for the component's domain earned (HandshakeThrottle).
#include <event2/event.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <set>

#include "auth-helper/account_changes.h"
#include "auth-helper/account_tokens.h"
#include "auth-helper/component_secrets.h"
#include "auth-helper/credential_store.h"
#include "auth-helper/sasl_attempts.h"
#include "auth-helper/sasl_server.h"
#include "auth-helper/scram.h"
#include "common/event_ptr.h"
#include "common/log.h"
#include "common/utf8_text.h"
#include "router_auth.pb.h"
#include "runtime/admin_pages.h"
#include "runtime/child.h"
#include "runtime/metric_samples.h"
#include "xmpp/jid.h"

namespace xmppd::auth {
namespace {

constexpr char kStorePath[] = "credentials.sqlite";  // relative: the role's directory
constexpr ipc::Limits kFromRouter{64 << 10, 0};
constexpr ipc::Limits kToRouter{64 << 10, 0};
using RouterChannel = ipc::TypedChannel<ipc::RouterToAuth>;

}  // namespace

class AuthHelper final : public runtime::ChildRole {
 public:
  // SASL exchanges by outcome, for /metrics.
  void metrics(ipc::Metrics& out) override {
    if (!attempts_) return;
    static constexpr std::string_view kHelp = "SASL exchanges of clients, by outcome";
    runtime::add_counter(out, "xmppd_sasl_exchanges", kHelp, static_cast<double>(attempts_->successes()),
                         {{"outcome", "success"}});
    runtime::add_counter(out, "xmppd_sasl_exchanges", kHelp, static_cast<double>(attempts_->failures()),
                         {{"outcome", "failure"}});
    runtime::add_counter(out, "xmppd_sasl_exchanges", kHelp, static_cast<double>(attempts_->temporary_failures()),
                         {{"outcome", "temporary_failure"}});
  }
  sandbox::Role role() const override { return sandbox::Role::kAuth; }
  ipc::Role wire_role() const override { return ipc::ROLE_AUTH; }
  bool links_to(ipc::Role peer) const override { return peer == ipc::ROLE_ROUTER; }

  bool prepare(runtime::ChildRuntime&, const ipc::Configure& configure, std::string& error) override {
    if (!prepare_scram_crypto()) {
      error = "cannot initialise OpenSSL";
      return false;
    }
    tokens_ = AccountTokens::generate();
    if (!tokens_) {
      error = "cannot make the account token key";
      return false;
    }
    reconfigure(configure);
    return true;
  }

  bool prepare_in_chroot(std::string& error) override {
    store_ = CredentialStore::open(kStorePath, error);
    if (store_ == nullptr) return false;
    changes_ = std::make_unique<AccountChanges>(*store_, *tokens_);
    reconfigure_changes();
    return true;
  }

  void reconfigure(const ipc::Configure& configure) override {
    iterations_ = std::max<std::uint32_t>(configure.auth().scram_iterations(), kMinIterations);
    anonymous_hosts_ = {configure.auth().anonymous_hosts().begin(), configure.auth().anonymous_hosts().end()};
    registration_hosts_ = {configure.auth().registration_hosts().begin(), configure.auth().registration_hosts().end()};
    ComponentSecrets::ByDomain secrets, tags;
    for (const auto& component : configure.auth().components()) {
      secrets[component.domain()] = component.secret();
      tags[component.domain()] = component.secret_tag();
    }
    components_.set(std::move(secrets), std::move(tags));
    handshakes_.reconfigured();
    if (attempts_) {
      attempts_->set_anonymous_hosts(anonymous_hosts_);
      attempts_->set_new_credential_iterations(iterations_);
    }
    reconfigure_changes();
  }

  void add_control_handlers(ipc::TypedChannel<ipc::ParentToChild>& control) override {
    control.on(ipc::ParentToChild::kAccountRequest, 0,
               [this](const ipc::ParentToChild& m, auto&) { account(m.account_request()); });
    control.on(ipc::ParentToChild::kAdminQuery, 0,
               [this](const ipc::ParentToChild& m, auto&) { admin_query(m.admin_query()); });
  }

  void add_peer_link(ipc::Role peer, UniqueFd fd) override {
    if (!attempts_) {
      attempts_ = std::make_unique<SaslAttempts>(
          *store_, AttemptLimits{},
          [this](const ipc::AuthToRouter& m) {
            router_->send(m);
            // A PLAIN login of a SHA-1-only account stored its SHA-256 credential.
            if (m.has_success()) refresh_sha1_only_hosts();
          },
          &Clock::now);
      attempts_->set_username_preparation(&xmpp::prepare_localpart);
      attempts_->set_anonymous_hosts(anonymous_hosts_);
      attempts_->set_new_credential_iterations(iterations_);
      attempts_->set_account_tokens(tokens_.get());
      timer_.reset(evtimer_new(
          runtime_->base(),
          [](evutil_socket_t, short, void* self) {
            auto* helper = static_cast<AuthHelper*>(self);
            helper->attempts_->poll();
            helper->reschedule();
          },
          this));
    }
    attempts_->clear();
    handshakes_.clear();
    if (!handshake_timer_)
      handshake_timer_.reset(evtimer_new(
          runtime_->base(),
          [](evutil_socket_t, short, void* self) {
            auto* helper = static_cast<AuthHelper*>(self);
            helper->handshakes_.poll(Clock::now());
            helper->reschedule_handshakes();
          },
          this));
    router_ = std::make_unique<RouterChannel>(runtime_->base(), std::move(fd), kFromRouter, kToRouter, "router");
    router_->on(ipc::RouterToAuth::kStart, 0, [this](const ipc::RouterToAuth& m, auto&) {
      attempts_->start(m.start());
      reschedule();
    });
    router_->on(ipc::RouterToAuth::kResponse, 0, [this](const ipc::RouterToAuth& m, auto&) {
      attempts_->respond(m.response());
      reschedule();
    });
    router_->on(ipc::RouterToAuth::kUserQuery, 0, [this](const ipc::RouterToAuth& m, auto&) {
      ipc::AuthToRouter reply;
      reply.mutable_user_answer()->set_query(m.user_query().query());
      reply.mutable_user_answer()->set_exists(store_->exists(m.user_query().host(), m.user_query().username()));
      router_->send(reply);
    });
    router_->on(ipc::RouterToAuth::kRegister, 0,
                [this](const ipc::RouterToAuth& m, auto&) { register_account(m.register_()); });
    router_->on(ipc::RouterToAuth::kPasswordChange, 0, [this](const ipc::RouterToAuth& m, auto&) {
      ipc::AuthToRouter reply;
      *reply.mutable_account_change_result() = changes_->change_password(m.password_change());
      router_->send(reply);
      refresh_sha1_only_hosts();
    });
    router_->on(ipc::RouterToAuth::kAccountRemoval, 0, [this](const ipc::RouterToAuth& m, auto&) {
      ipc::AuthToRouter reply;
      *reply.mutable_account_change_result() = changes_->remove(m.account_removal());
      router_->send(reply);
      refresh_sha1_only_hosts();
    });
    router_->on(ipc::RouterToAuth::kComponentHandshake, 0,
                [this](const ipc::RouterToAuth& m, auto&) { component_handshake(m.component_handshake()); });
    router_->on(ipc::RouterToAuth::kComponentCancel, 0, [this](const ipc::RouterToAuth& m, auto&) {
      handshakes_.cancel(m.component_cancel().query());
      reschedule_handshakes();
    });
    router_->on(ipc::RouterToAuth::kAbort, 0,
                [this](const ipc::RouterToAuth& m, auto&) { attempts_->abort(m.abort().attempt()); });
    router_->start([this, peer](ipc::CloseReason reason, std::string_view detail) {
      if (reason == ipc::CloseReason::kViolation) runtime_->report_peer_violation(peer, detail);
      attempts_->clear();
      handshakes_.clear();
    });
    sha1_only_hosts_ = store_->sha1_only_hosts();
    send_sha1_only_hosts();
  }

 private:
  // The hosts where the router must not offer SCRAM-SHA-256 (router_auth.proto Sha1OnlyHosts).
  // Looked up again only while there are some: a store without imported accounts pays nothing.
  void refresh_sha1_only_hosts() {
    if (sha1_only_hosts_.empty()) return;
    std::vector<std::string> hosts = store_->sha1_only_hosts();
    if (hosts == sha1_only_hosts_) return;
    sha1_only_hosts_ = std::move(hosts);
    send_sha1_only_hosts();
  }

  void send_sha1_only_hosts() {
    if (!router_) return;
    ipc::AuthToRouter message;
    ipc::Sha1OnlyHosts* hosts = message.mutable_sha1_only_hosts();  // set even when the list is empty
    for (const std::string& host : sha1_only_hosts_) hosts->add_hosts(host);
    router_->send(message);
    log_sha1_only_hosts();
  }

  // Said at start and at each change, so that the narrowing is seen and its end too: it lasts
  // until every such account has logged in with PLAIN or had its password set
  // (xmppctl passwd), each of which stores a SHA-256 credential.
  void log_sha1_only_hosts() {
    for (const std::string& host : logged_sha1_only_)
      if (std::find(sha1_only_hosts_.begin(), sha1_only_hosts_.end(), host) == sha1_only_hosts_.end())
        log::notice("%s: no account is SHA-1-only now: SCRAM-SHA-256 offered again", host.c_str());
    for (const std::string& host : sha1_only_hosts_)
      log::notice(
          "%s: SCRAM-SHA-256 not offered: %zu accounts have only a SCRAM-SHA-1 credential (imported from Prosody); "
          "a PLAIN login or xmppctl passwd gives each a SHA-256 one",
          host.c_str(), store_->sha1_only_accounts(host));
    logged_sha1_only_ = sha1_only_hosts_;
  }

  void reconfigure_changes() {
    if (!changes_) return;
    changes_->set_anonymous_hosts(anonymous_hosts_);
    changes_->set_iterations(iterations_);
  }

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
    refresh_sha1_only_hosts();
    result->set_ok(ok);
    result->set_error(error);
    runtime_->send_to_parent(answer);
  }

  // xmppctl users HOST: the accounts of a host, in pages (runtime/admin_pages.h). Only the
  // usernames leave this process, never a credential.
  void admin_query(const ipc::AdminQuery& query) {
    auto send = [this](const ipc::ChildToParent& m) { runtime_->send_to_parent(m); };
    std::vector<auth::CredentialStore::AccountName> names;
    std::string error;
    // One more than a list holds: the pages then say the list was cut.
    if (query.question_case() != ipc::AdminQuery::kUsers ||
        !store_->usernames(query.users().host(), runtime::kAdminMaxEntries + 1, names, error)) {
      ipc::ChildToParent answer;
      answer.mutable_admin_answer()->set_id(query.id());
      answer.mutable_admin_answer()->mutable_done()->set_error(error.empty() ? "not a question for the auth helper"
                                                                             : error);
      send(answer);
      return;
    }
    runtime::AdminPages pages(query.id(), [](ipc::AdminAnswer& a) { a.mutable_users(); }, send);
    for (const auto& [name, sha1_only] : names) {
      if (!pages.room()) break;
      const std::size_t bytes = 2 * name.size();
      // The store may hold what another program wrote (an import, sqlite3 by hand): a name
      // that is not UTF-8 would make the answer unparseable and the parent kill this helper.
      std::string printable = utf8_prefix(name);
      if (sha1_only) pages.page().mutable_users()->add_sha1_only(printable);
      pages.page().mutable_users()->add_usernames(std::move(printable));
      pages.added(bytes);
    }
    pages.finish();
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

  // XEP-0114: the router relays the component's digest; the answer is only yes or no, at
  // once or when the domain's penalty for wrong handshakes is over. The router logs the
  // refusal with the peer's address, which it alone knows.
  void component_handshake(const ipc::ComponentHandshake& request) {
    handshakes_.check(request.query(), request.domain(), request.stream_id(), request.digest(), Clock::now());
    reschedule_handshakes();
  }

  void component_verdict(std::uint64_t query, bool ok, const std::string& secret_tag) {
    if (!router_) return;
    ipc::AuthToRouter reply;
    reply.mutable_component_verdict()->set_query(query);
    reply.mutable_component_verdict()->set_ok(ok);
    reply.mutable_component_verdict()->set_secret_tag(secret_tag);
    router_->send(reply);
  }

  void reschedule_handshakes() {
    if (!handshake_timer_) return;
    std::optional<TimePoint> wake = handshakes_.next_wake();
    if (!wake) {
      evtimer_del(handshake_timer_.get());
      return;
    }
    const auto wait = std::max<Clock::duration>(*wake - Clock::now(), Clock::duration::zero());
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(wait).count() + 1;
    timeval tv{static_cast<time_t>(micros / 1'000'000), static_cast<suseconds_t>(micros % 1'000'000)};
    evtimer_add(handshake_timer_.get(), &tv);
  }

  // After each message or timer: wake again when the attempts next have something to do.
  void reschedule() {
    if (!attempts_) return;
    if (std::optional<TimePoint> wake = attempts_->next_wake()) {
      const auto wait = std::max<Clock::duration>(*wake - Clock::now(), Clock::duration::zero());
      const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(wait).count() + 1;
      timeval tv{static_cast<time_t>(micros / 1'000'000), static_cast<suseconds_t>(micros % 1'000'000)};
      evtimer_add(timer_.get(), &tv);
    } else {
      evtimer_del(timer_.get());
    }
  }

  std::unique_ptr<CredentialStore> store_;
  std::unique_ptr<AccountTokens> tokens_;  // made at start, never sent anywhere
  std::unique_ptr<AccountChanges> changes_;
  std::uint32_t iterations_ = kMinIterations;
  std::set<std::string> anonymous_hosts_;
  std::set<std::string> registration_hosts_;
  ComponentSecrets components_;  // XEP-0114 secrets, from the parent's Configure only
  ComponentHandshakes handshakes_{components_, [this](std::uint64_t query, std::string_view domain, bool ok,
                                                      const std::string& secret_tag) {
                                    if (!ok)
                                      log::info("component %s: handshake refused: wrong secret",
                                                utf8_prefix(domain).c_str());
                                    component_verdict(query, ok, secret_tag);
                                  }};
  EventPtr handshake_timer_;  // ComponentHandshakes::poll
  std::vector<std::string> sha1_only_hosts_;  // as last sent to the router
  std::vector<std::string> logged_sha1_only_;  // as last logged
  std::unique_ptr<RouterChannel> router_;
  std::unique_ptr<SaslAttempts> attempts_;
  EventPtr timer_;  // SaslAttempts::poll
};

}  // namespace xmppd::auth

int main() {
  xmppd::auth::AuthHelper helper;
  return xmppd::runtime::ChildRuntime(helper).run();
}
