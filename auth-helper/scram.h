// SCRAM (RFC 5802, RFC 7677) computations for SHA-1 and SHA-256, the strict base64 that SCRAM
// messages carry, and SASLprep (RFC 4013) as far as it goes without Unicode tables.
//
// Nothing here keeps state or touches storage: the credential store and the SASL server build
// on these functions, and the tests drive a SCRAM client with them.
#pragma once

#include "common/base64.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xmppd::auth {

enum class ScramHash { kSha1, kSha256 };

// RFC 7677 §4: iteration counts below 4096 are too cheap to brute-force against.
inline constexpr std::uint32_t kMinIterations = 4096;

// What the server keeps for one account and one hash: enough to verify a client proof and to
// prove itself to the client, but not to log in as the user without first breaking PBKDF2.
struct ScramCredential {
  ScramHash hash;
  std::string salt;  // raw bytes
  std::uint32_t iterations;
  std::string stored_key;  // raw, digest_size(hash) bytes
  std::string server_key;  // raw, digest_size(hash) bytes
};

// Overwrites the bytes of `s` (its whole capacity) and empties it, so that a secret does not
// linger in freed memory.
void cleanse(std::string& s) noexcept;

// Bytes that are wiped before their memory goes back to the allocator: the salted password,
// the client key and prepared passwords, each of which is as good as the password to an
// attacker. Move-only, so that no stray copy escapes the wipe.
class SecretBytes {
 public:
  SecretBytes() = default;
  // Takes the bytes of `bytes` and wipes what stays behind in it.
  explicit SecretBytes(std::string&& bytes) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes() { cleanse(bytes_); }

  std::string_view view() const noexcept { return bytes_; }
  std::size_t size() const noexcept { return bytes_.size(); }
  bool empty() const noexcept { return bytes_.empty(); }

 private:
  std::string bytes_;
};

// 20 for SHA-1, 32 for SHA-256.
std::size_t digest_size(ScramHash hash);
// "SHA-1" / "SHA-256": the IANA hash names, as the credential store and mechanism names spell them.
std::string_view hash_name(ScramHash hash);
std::optional<ScramHash> parse_hash_name(std::string_view name);

// The computations of RFC 5802 §3. Each returns an empty result only if OpenSSL fails (or, for
// salted_password, the iteration count is 0 or above INT_MAX): a real result is never empty.
std::string hmac(ScramHash hash, std::string_view key, std::string_view data);
SecretBytes salted_password(ScramHash hash, std::string_view password, std::string_view salt, std::uint32_t iterations);
SecretBytes client_key(ScramHash hash, std::string_view salted_password);
std::string server_key(ScramHash hash, std::string_view salted_password);
std::string stored_key(ScramHash hash, std::string_view client_key);
std::string client_signature(ScramHash hash, std::string_view stored_key, std::string_view auth_message);
std::string server_signature(ScramHash hash, std::string_view server_key, std::string_view auth_message);
// ClientKey XOR ClientSignature: what a client sends as p=.
std::string client_proof(ScramHash hash, std::string_view client_key, std::string_view auth_message);

// Whether `proof` (raw bytes) proves knowledge of the password behind `credential` for this
// `auth_message`. The recovered client key is compared in constant time and then wiped.
bool verify_client_proof(const ScramCredential& credential, std::string_view auth_message, std::string_view proof);

// The credential for `password`, which must already have been through saslprep(). Its keys
// are empty if OpenSSL failed.
ScramCredential make_credential(ScramHash hash, std::string_view password, std::string_view salt,
                                std::uint32_t iterations);

// base64 (strict, as SCRAM needs it) is common/base64.h, shared with the router.
using xmppd::base64_decode;
using xmppd::base64_encode;

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view text);

// SASLprep (RFC 4013) of a password or username, or nullopt if the input is not allowed.
//
// Done: input must be valid UTF-8; "commonly mapped to nothing" characters (RFC 3454 B.1) are
// removed; non-ASCII spaces (C.1.2) become U+0020; every prohibited-output table of RFC 4013
// §2.3 (C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9) is enforced. U+200B is listed
// both in B.1 and in C.1.2; it is removed, as B.1 says, rather than turned into a space.
//
// Not done, because it needs Unicode character data and we do not link ICU: NFKC normalisation
// (step 2), the bidirectional check (step 4, tables D.1/D.2) and the refusal of unassigned code
// points (A.1). Valid UTF-8 otherwise passes through unchanged. So a password written with
// compatibility characters (e.g. U+FB01 "ﬁ", full-width letters) or in a non-NFC form is not
// normalised here, and only matches a client that also leaves it alone. Pure-ASCII input,
// which is what almost every password is, is handled exactly as RFC 4013 says.
//
// An empty result is returned as such; callers decide whether it is acceptable.
std::optional<std::string> saslprep(std::string_view text);

// Fetches the OpenSSL algorithms used here and draws random bytes once, so that later calls do
// no file access: call it before entering the sandbox. False if any of that failed.
bool prepare_scram_crypto();

}  // namespace xmppd::auth
