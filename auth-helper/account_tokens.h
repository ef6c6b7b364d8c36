// Account tokens: what the router shows the auth helper to change a password or remove an
// account after login (XEP-0077 §3.2, §3.3). The helper gives one with each SaslSuccess:
// HMAC-SHA256 over the host and username, under a key it makes at start and never sends
// anywhere. A router taken over can therefore change or remove only the accounts that
// logged in through it since the helper started, not any account it can name. A restart of
// the helper makes a new key: older tokens no longer count (those sessions log in again).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace xmppd::auth {

class AccountTokens {
 public:
  static constexpr std::size_t kKeySize = 32;
  static constexpr std::size_t kTokenSize = 32;  // SHA-256

  // A fresh random key; nullptr when the random generator fails.
  static std::unique_ptr<AccountTokens> generate();
  // A given key, for the tests.
  explicit AccountTokens(const std::array<std::uint8_t, kKeySize>& key) : key_(key) {}
  AccountTokens(const AccountTokens&) = delete;
  AccountTokens& operator=(const AccountTokens&) = delete;
  ~AccountTokens();

  std::string issue(std::string_view host, std::string_view username) const;
  // Whether `token` is the one issue() gives for this account, compared in constant time.
  bool check(std::string_view host, std::string_view username, std::string_view token) const;

 private:
  std::array<std::uint8_t, kKeySize> key_;
};

}  // namespace xmppd::auth
