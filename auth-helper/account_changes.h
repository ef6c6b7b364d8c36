// Changes to an account that its own logged-in session asks for through the router
// (XEP-0077 §3.2 and §3.3): a new password, or the account's removal. The router is not
// trusted to say whose account it is: each request carries the account token the helper
// gave with that account's SaslSuccess (account_tokens.h), checked here in constant time.
// A request without a valid token is refused and logged as a violation; it is not fatal to
// the link, because a session that logged in before the helper restarted holds a token of
// the old key.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "auth-helper/account_tokens.h"
#include "auth-helper/credential_store.h"
#include "router_auth.pb.h"

namespace xmppd::auth {

class AccountChanges {
 public:
  AccountChanges(CredentialStore& store, const AccountTokens& tokens) : store_(store), tokens_(tokens) {}

  void set_anonymous_hosts(std::set<std::string> hosts) { anonymous_hosts_ = std::move(hosts); }
  void set_iterations(std::uint32_t iterations) { iterations_ = iterations; }

  // The same password rules as in-band registration and xmppctl passwd: not empty, and one
  // that SASLprep takes.
  ipc::AccountChangeResult change_password(const ipc::PasswordChange& request);
  ipc::AccountChangeResult remove(const ipc::AccountRemoval& request);

 private:
  // The condition to refuse with, or "" when the account may be changed.
  std::string refusal(const char* what, const std::string& host, const std::string& username,
                      const std::string& token);

  CredentialStore& store_;
  const AccountTokens& tokens_;
  std::set<std::string> anonymous_hosts_;
  std::uint32_t iterations_ = kMinIterations;
};

}  // namespace xmppd::auth
