// The router's end of its link to the auth helper: SASL attempts relayed by id. The
// helper's answers are checked against the attempts this router actually started, and a
// failure's condition and channel binding type against what they may be (the router writes
// them into the client's stream and its log).
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "proto/channel.h"
#include "router_auth.pb.h"

namespace xmppd::router {

// Why a SaslFailure from the helper cannot be passed on to a client, or nullptr if it can:
// its condition must be an RFC 6120 §6.5 one, and an unsupported channel binding type an
// RFC 5056 cb-name, only with invalid-mechanism.
const char* refused_failure(const ipc::SaslFailure& failure);
// Whether `condition`, from the helper's AccountChangeResult, may go into a stanza error.
bool valid_change_condition(std::string_view condition);

class AuthLink {
 public:
  class Waiter {
   public:
    virtual ~Waiter() = default;
    virtual void sasl_challenge(const std::string& challenge) = 0;
    // `account_token`: what the helper asks for to change this account later (empty on an
    // anonymous host).
    virtual void sasl_success(const std::string& username, const std::string& additional_data,
                              const std::string& account_token) = 0;
    // `unsupported_binding`: set when the client asked for a channel binding type the helper
    // does not support (condition invalid-mechanism): no failed login.
    virtual void sasl_failure(const std::string& condition, const std::string& text,
                              const std::string& unsupported_binding) = 0;
  };

  AuthLink(struct event_base* base, std::function<void(std::string_view)> on_violation);
  void link(UniqueFd sock);
  // Starts an attempt; 0 when the auth helper is not linked (the caller answers
  // temporary-auth-failure).
  std::uint64_t start(Waiter& waiter, ipc::SaslStart start);
  void respond(std::uint64_t attempt, std::string response);
  // The stream is gone or gave up: the waiter is forgotten and the helper told.
  void abort(std::uint64_t attempt);
  // Whether SCRAM-SHA-256 may be offered on `host`: not while the helper says the host has
  // accounts with a SCRAM-SHA-1 credential alone (imported from Prosody), whose owners'
  // clients would pick SHA-256, fail and not try SHA-1.
  bool offers_sha256(const std::string& host) const { return !sha1_only_hosts_.contains(host); }
  // Asks whether user@host has an account; `answer` gets nullopt if the helper is away.
  void user_exists(const std::string& host, const std::string& username,
                   std::function<void(std::optional<bool>)> answer);
  // In-band registration; `answer` gets "" on success or a stanza error condition.
  void register_account(const std::string& host, const std::string& username, const std::string& password,
                        std::function<void(const std::string&)> answer);
  // After login (XEP-0077 §3.3, §3.2), for the account of the session whose SaslSuccess gave
  // `token`; `answer` gets "" on success or a stanza error condition. At most
  // kMaxAccountChanges wait for the helper at once; more get resource-constraint.
  static constexpr std::size_t kMaxAccountChanges = 64;
  using ChangeAnswer = std::function<void(const std::string&)>;
  void change_password(const std::string& host, const std::string& username, const std::string& token,
                       const std::string& password, ChangeAnswer answer);
  void remove_account(const std::string& host, const std::string& username, const std::string& token,
                      ChangeAnswer answer);
  // XEP-0114: whether `digest` is the handshake of `domain`'s secret for `stream_id`, which
  // only the helper holds. The helper holds a wrong handshake for a domain under a penalty for
  // up to 30 s, so the checks waiting are bounded per domain: one domain's held handshakes
  // cannot take the others' places. More than kMaxComponentChecksPerDomain for one domain, or
  // kMaxComponentChecks in all, get kBusy; kUnavailable when the helper is away. The helper
  // holds at most as many (auth-helper/component_secrets.h kMaxHeld, kMaxHeldPerDomain).
  enum class ComponentCheck { kAccepted, kRefused, kBusy, kUnavailable };
  static constexpr std::size_t kMaxComponentChecks = 4096;
  static constexpr std::size_t kMaxComponentChecksPerDomain = 16;
  // `secret_tag`: with kAccepted, the tag of the secret the helper checked with.
  using ComponentAnswer = std::function<void(ComponentCheck, const std::string& secret_tag)>;
  // The check's id for cancel_component, or 0 when `answer` was called already.
  std::uint64_t check_component(const std::string& domain, const std::string& stream_id, const std::string& digest,
                                ComponentAnswer answer);
  // The stream that asked went away: its answer is never called, its place is free at once,
  // and the helper forgets the handshake it may be holding.
  void cancel_component(std::uint64_t check);

 private:
  using Channel = ipc::TypedChannel<ipc::AuthToRouter>;
  Waiter* take(std::uint64_t attempt, bool final);
  // The query id the change goes out with, or 0 when it was answered at once.
  std::uint64_t queue_change(ChangeAnswer& answer);
  void unqueue_change(std::uint64_t id, const char* condition);
  const char* send_request(const ipc::RouterToAuth& message);
  void fail_all();

  struct event_base* base_;
  std::function<void(std::string_view)> on_violation_;
  std::unique_ptr<Channel> channel_;
  std::uint64_t next_attempt_ = 1;
  std::map<std::uint64_t, Waiter*> waiting_;
  std::uint64_t next_query_ = 1;
  std::map<std::uint64_t, std::function<void(std::optional<bool>)>> queries_;
  std::map<std::uint64_t, std::function<void(const std::string&)>> registrations_;
  std::map<std::uint64_t, ChangeAnswer> changes_;
  struct PendingCheck {
    std::string domain;
    ComponentAnswer answer;
  };
  ComponentAnswer take_component(std::uint64_t check);
  std::map<std::uint64_t, PendingCheck> component_checks_;
  std::map<std::string, std::size_t, std::less<>> component_checks_per_domain_;
  std::set<std::string> sha1_only_hosts_;  // router_auth.proto Sha1OnlyHosts, as last told
};

}  // namespace xmppd::router
