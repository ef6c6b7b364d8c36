// xmppd-auth: the auth helper.
//
// Holds:      the credential store (SCRAM salts, iteration counts, StoredKey, ServerKey),
//             DATA_PATH/auth/credentials.sqlite.
// Talks to:   the parent (control; account requests from xmppctl) and the router (SASL).
// Runs as:    auth_helper_user, chrooted to DATA_PATH/auth, the only directory it can open.
// Syscalls:   sandbox/policy.cc, role "auth": IPC, the event loop, SQLite's file calls.
//
// It reads no network byte: the router relays SASL messages to it, and it computes and
// verifies them here, so no password verifier ever leaves this process.
#include <map>
#include <memory>
#include <set>

#include "auth-helper/credential_store.h"
#include "auth-helper/sasl_server.h"
#include "auth-helper/scram.h"
#include "common/log.h"
#include "router_auth.pb.h"
#include "runtime/child.h"
#include "xmpp/jid.h"

namespace xmppd::auth {
namespace {

constexpr char kStorePath[] = "credentials.sqlite";  // relative: the role's directory
constexpr ipc::Limits kFromRouter{64 << 10, 0};
constexpr ipc::Limits kToRouter{64 << 10, 0};
constexpr std::size_t kMaxAttempts = 4096;  // in progress at once, all streams together

using RouterChannel = ipc::TypedChannel<ipc::RouterToAuth>;

}  // namespace

// Failed logins per client address are answered more and more slowly: 0, then 1 s, 2 s, 4 s
// and at most 8 s per failure, forgotten 10 minutes after the last one (documented in
// xmppd.conf(5)). A successful login does not wipe the count: whoever holds one account
// could otherwise guess other passwords at full speed between its own logins. The router
// holds the answer back, so the helper is never blocked.
class FailureThrottle {
 public:
  unsigned failed(const std::string& address, std::time_t now) {
    Entry& e = entries_[address];
    if (now - e.last > kForgetSeconds) e.count = 0;
    e.last = now;
    ++e.count;
    if (entries_.size() > kMaxEntries) forget_old(now);
    return e.count <= 1 ? 0 : std::min(8000u, 1000u << std::min(e.count - 2, 3u));
  }

 private:
  struct Entry {
    unsigned count = 0;
    std::time_t last = 0;
  };
  static constexpr std::time_t kForgetSeconds = 600;
  static constexpr std::size_t kMaxEntries = 65536;
  void forget_old(std::time_t now) {
    for (auto it = entries_.begin(); it != entries_.end();)
      it = now - it->second.last > kForgetSeconds ? entries_.erase(it) : std::next(it);
  }
  std::map<std::string, Entry> entries_;
};

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
    attempts_.clear();
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
                [this](const ipc::RouterToAuth& m, auto&) { attempts_.erase(m.abort().attempt()); });
    router_->start([this, peer](ipc::CloseReason reason, std::string_view detail) {
      if (reason == ipc::CloseReason::kViolation) runtime_->report_peer_violation(peer, detail);
      attempts_.clear();
    });
  }

 private:
  struct Attempt {
    std::unique_ptr<SaslServer> server;
    std::string address;
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
    if (!mechanism || (*mechanism == Mechanism::kAnonymous) != anonymous_host || attempts_.size() >= kMaxAttempts) {
      fail(start.attempt(), start.client_address(), kInvalidMechanism, "");
      return;
    }
    auto server = std::make_unique<SaslServer>(*store_, start.host(), *mechanism, start.channel_binding(),
                                               start.plus_offered());
    server->set_username_preparation(&xmpp::prepare_localpart);
    SaslServer::Step step = server->start(start.initial_response());
    if (step.kind == SaslServer::Step::kChallenge)
      attempts_[start.attempt()] = Attempt{std::move(server), start.client_address()};
    answer(start.attempt(), start.client_address(), step);
  }

  void respond(const ipc::SaslResponse& response) {
    auto it = attempts_.find(response.attempt());
    if (it == attempts_.end()) {
      fail(response.attempt(), "", kMalformedRequest, "no such authentication in progress");
      return;
    }
    std::string address = it->second.address;
    SaslServer::Step step = it->second.server->respond(response.response());
    if (step.kind != SaslServer::Step::kChallenge) attempts_.erase(it);
    answer(response.attempt(), address, step);
  }

  void answer(std::uint64_t attempt, const std::string& address, const SaslServer::Step& step) {
    ipc::AuthToRouter reply;
    switch (step.kind) {
      case SaslServer::Step::kChallenge:
        reply.mutable_challenge()->set_attempt(attempt);
        reply.mutable_challenge()->set_challenge(step.data);
        break;
      case SaslServer::Step::kSuccess:
        reply.mutable_success()->set_attempt(attempt);
        reply.mutable_success()->set_username(step.username);
        reply.mutable_success()->set_additional_data(step.data);
        break;
      case SaslServer::Step::kFailure:
        fail(attempt, address, step.condition, "");
        return;
    }
    router_->send(reply);
  }

  void fail(std::uint64_t attempt, const std::string& address, std::string_view condition, std::string_view text) {
    ipc::AuthToRouter reply;
    ipc::SaslFailure* failure = reply.mutable_failure();
    failure->set_attempt(attempt);
    failure->set_condition(std::string(condition));
    failure->set_text(std::string(text));
    failure->set_delay_ms(throttle_.failed(address, std::time(nullptr)));
    if (router_) router_->send(reply);
  }

  std::unique_ptr<CredentialStore> store_;
  std::uint32_t iterations_ = kMinIterations;
  std::set<std::string> anonymous_hosts_;
  std::set<std::string> registration_hosts_;
  std::unique_ptr<RouterChannel> router_;
  std::map<std::uint64_t, Attempt> attempts_;
  FailureThrottle throttle_;
};

}  // namespace xmppd::auth

int main() {
  xmppd::auth::AuthHelper helper;
  return xmppd::runtime::ChildRuntime(helper).run();
}
