#include "auth-helper/account_tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "common/log.h"

namespace xmppd::auth {
namespace {

// The host's length comes first, so that no other split of the same bytes into host and
// username ("a.b" + "c", "a" + ".bc") gives the same input.
std::string token_input(std::string_view host, std::string_view username) {
  std::string input;
  const std::size_t n = host.size();
  input.push_back(static_cast<char>((n >> 24) & 0xff));
  input.push_back(static_cast<char>((n >> 16) & 0xff));
  input.push_back(static_cast<char>((n >> 8) & 0xff));
  input.push_back(static_cast<char>(n & 0xff));
  input.append(host);
  input.append(username);
  return input;
}

}  // namespace

std::unique_ptr<AccountTokens> AccountTokens::generate() {
  std::array<std::uint8_t, kKeySize> key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) return nullptr;
  auto tokens = std::make_unique<AccountTokens>(key);
  OPENSSL_cleanse(key.data(), key.size());
  return tokens;
}

AccountTokens::~AccountTokens() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::string AccountTokens::issue(std::string_view host, std::string_view username) const {
  const std::string input = token_input(host, username);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(input.data()),
           input.size(), out, &size) == nullptr ||
      size != kTokenSize) {
    // SHA-256 in the default provider, loaded before the sandbox: it cannot go missing.
    log::error("HMAC-SHA256 failed; exiting");
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(out), size);
}

bool AccountTokens::check(std::string_view host, std::string_view username, std::string_view token) const {
  if (token.size() != kTokenSize) return false;
  const std::string expected = issue(host, username);
  return CRYPTO_memcmp(expected.data(), token.data(), kTokenSize) == 0;
}

}  // namespace xmppd::auth
