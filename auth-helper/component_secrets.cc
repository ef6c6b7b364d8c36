#include "auth-helper/component_secrets.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace xmppd::auth {

std::string component_handshake_digest(std::string_view stream_id, std::string_view secret) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, stream_id.data(), stream_id.size()) == 1 &&
            EVP_DigestUpdate(ctx, secret.data(), secret.size()) == 1 && EVP_DigestFinal_ex(ctx, md, &size) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return {};
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < size; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

bool ComponentSecrets::check(std::string_view domain, std::string_view stream_id, std::string_view digest) const {
  auto it = secrets_.find(domain);
  if (it == secrets_.end() || stream_id.empty()) return false;
  const std::string expected = component_handshake_digest(stream_id, it->second);
  if (expected.empty() || digest.size() != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), digest.data(), expected.size()) == 0;
}

}  // namespace xmppd::auth
