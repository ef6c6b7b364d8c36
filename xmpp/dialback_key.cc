#include "xmpp/dialback_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cstddef>
#include <span>

namespace xmppd::xmpp {
namespace {

constexpr std::size_t kSha256Size = 32;
constexpr std::size_t kSecretBytes = 32;

using Digest = std::array<unsigned char, kSha256Size>;

// Wipes a buffer that held key material when it goes out of scope.
class Cleansed {
 public:
  explicit Cleansed(std::span<unsigned char> bytes) : bytes_(bytes) {}
  ~Cleansed() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }
  Cleansed(const Cleansed&) = delete;
  Cleansed& operator=(const Cleansed&) = delete;

 private:
  std::span<unsigned char> bytes_;
};

// Lowercase, because XEP-0185's example is lowercase and we compare bytes exactly.
std::string to_hex(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

bool sha256(std::string_view data, Digest& out) {
  unsigned int length = 0;
  const int ok = EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_sha256(), nullptr);
  return ok == 1 && length == out.size();
}

bool hmac_sha256(std::string_view key, std::string_view data, Digest& out) {
  unsigned int length = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const unsigned char* mac =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes, data.size(), out.data(), &length);
  return mac != nullptr && length == out.size();
}

}  // namespace

std::string dialback_key(std::string_view secret, std::string_view receiving, std::string_view originating,
                         std::string_view stream_id) {
  if (secret.empty()) return {};
  Digest hashed{};
  Cleansed wipe_hashed(hashed);
  if (!sha256(secret, hashed)) return {};
  // XEP-0185 keys the HMAC with the hex form of the hash, not the raw 32 bytes.
  std::string hmac_key = to_hex(hashed);
  Cleansed wipe_key(std::span(reinterpret_cast<unsigned char*>(hmac_key.data()), hmac_key.size()));

  std::string data;
  data.reserve(receiving.size() + originating.size() + stream_id.size() + 2);
  data.append(receiving).append(" ").append(originating).append(" ").append(stream_id);

  Digest mac{};
  if (!hmac_sha256(hmac_key, data, mac)) return {};
  return to_hex(mac);
}

bool dialback_key_matches(std::string_view secret, std::string_view receiving, std::string_view originating,
                          std::string_view stream_id, std::string_view received_key) {
  const std::string expected = dialback_key(secret, receiving, originating, stream_id);
  // The length is public (always 64), so only the contents need a constant-time comparison.
  if (expected.empty() || received_key.size() != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), received_key.data(), expected.size()) == 0;
}

std::string epoch_key(std::string_view secret, std::uint64_t epoch) {
  if (secret.empty()) return {};
  Digest mac{};
  Cleansed wipe(mac);
  if (!hmac_sha256(secret, "xmppd dialback epoch " + std::to_string(epoch), mac)) return {};
  return to_hex(mac);
}

std::string random_dialback_secret() {
  std::array<unsigned char, kSecretBytes> bytes{};
  Cleansed wipe(bytes);
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return {};
  return to_hex(bytes);
}

}  // namespace xmppd::xmpp
