#include "auth-helper/scram.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <array>
#include <climits>
#include <memory>
#include <span>
#include <utility>

namespace xmppd::auth {
namespace {

struct MacDeleter {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
};
using MacPtr = std::unique_ptr<EVP_MAC, MacDeleter>;
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter>;

// Fetched once: fetching looks the algorithm up in the provider tables on every call otherwise.
EVP_MAC* hmac_algorithm() {
  static const MacPtr mac(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
  return mac.get();
}

const EVP_MD* message_digest(ScramHash hash) { return hash == ScramHash::kSha1 ? EVP_sha1() : EVP_sha256(); }

// The OpenSSL name, for the HMAC digest parameter.
const char* openssl_digest_name(ScramHash hash) { return hash == ScramHash::kSha1 ? "SHA1" : "SHA2-256"; }

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

bool hmac_into(ScramHash hash, std::string_view key, std::string_view data, std::string& out) {
  EVP_MAC* mac = hmac_algorithm();
  if (mac == nullptr) return false;
  MacCtxPtr ctx(EVP_MAC_CTX_new(mac));
  if (!ctx) return false;
  // OSSL_PARAM wants a mutable pointer but only reads the name.
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(openssl_digest_name(hash)), 0),
      OSSL_PARAM_construct_end()};
  out.assign(digest_size(hash), '\0');
  std::size_t written = 0;
  if (EVP_MAC_init(ctx.get(), bytes(key), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), bytes(data), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), bytes(out), &written, out.size()) != 1 || written != out.size()) {
    cleanse(out);
    return false;
  }
  return true;
}

std::string digest(ScramHash hash, std::string_view data) {
  std::string out(digest_size(hash), '\0');
  unsigned int written = 0;
  if (EVP_Digest(data.data(), data.size(), bytes(out), &written, message_digest(hash), nullptr) != 1 ||
      written != out.size())
    return {};
  return out;
}

// Equal-length XOR; the caller has checked the lengths.
std::string xor_bytes(std::string_view a, std::string_view b) {
  std::string out(a.size(), '\0');
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = static_cast<char>(a[i] ^ b[i]);
  return out;
}



// Decodes one UTF-8 sequence at `pos` and advances past it, or returns nullopt.
std::optional<char32_t> next_code_point(std::string_view text, std::size_t& pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  std::size_t length;
  char32_t cp;
  if (lead < 0x80) {
    ++pos;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    cp = lead & 0x07;
  } else {
    return std::nullopt;  // a continuation byte, or 0xF8..0xFF
  }
  if (text.size() - pos < length) return std::nullopt;
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[pos + i]);
    if ((next & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (next & 0x3F);
  }
  // The smallest code point each length may carry: anything less is an overlong form.
  constexpr char32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  pos += length;
  return cp;
}

struct CodeRange {
  char32_t first, last;
};

bool in_ranges(char32_t cp, std::span<const CodeRange> ranges) {
  for (const CodeRange& r : ranges)
    if (cp >= r.first && cp <= r.last) return true;
  return false;
}

// RFC 3454 B.1, "commonly mapped to nothing".
constexpr CodeRange kMappedToNothing[] = {
    {0x00AD, 0x00AD}, {0x034F, 0x034F}, {0x1806, 0x1806}, {0x180B, 0x180D},
    {0x200B, 0x200D}, {0x2060, 0x2060}, {0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF},
};

// RFC 3454 C.1.2, non-ASCII space characters (less U+200B, which B.1 removes first).
constexpr CodeRange kNonAsciiSpace[] = {
    {0x00A0, 0x00A0}, {0x1680, 0x1680}, {0x2000, 0x200A}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000},
};

// RFC 4013 §2.3: C.2.1, C.2.2, C.3, C.5, C.6, C.7, C.8, C.9 and the fixed part of C.4 (the
// last two code points of every plane are checked separately). C.1.2 cannot occur any more
// after mapping.
constexpr CodeRange kProhibited[] = {
    {0x0000, 0x001F},     {0x007F, 0x009F},   {0x0340, 0x0341},   {0x06DD, 0x06DD},   {0x070F, 0x070F},
    {0x180E, 0x180E},     {0x200C, 0x200F},   {0x2028, 0x202E},   {0x2060, 0x2063},   {0x206A, 0x206F},
    {0x2FF0, 0x2FFB},     {0xD800, 0xDFFF},   {0xE000, 0xF8FF},   {0xFDD0, 0xFDEF},   {0xFEFF, 0xFEFF},
    {0xFFF9, 0xFFFD},     {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0xFFFFD},
    {0x100000, 0x10FFFD},
};

bool prohibited(char32_t cp) { return (cp & 0xFFFE) == 0xFFFE || in_ranges(cp, kProhibited); }

}  // namespace

void cleanse(std::string& s) noexcept {
  // resize() to the capacity neither reallocates nor leaves any old byte out of the wipe.
  s.resize(s.capacity());
  OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

SecretBytes::SecretBytes(std::string&& bytes) noexcept : bytes_(std::move(bytes)) { cleanse(bytes); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) { cleanse(other.bytes_); }

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    cleanse(bytes_);
    bytes_ = std::move(other.bytes_);
    cleanse(other.bytes_);
  }
  return *this;
}

std::size_t digest_size(ScramHash hash) { return hash == ScramHash::kSha1 ? 20 : 32; }

std::string_view hash_name(ScramHash hash) { return hash == ScramHash::kSha1 ? "SHA-1" : "SHA-256"; }

std::optional<ScramHash> parse_hash_name(std::string_view name) {
  if (name == "SHA-1") return ScramHash::kSha1;
  if (name == "SHA-256") return ScramHash::kSha256;
  return std::nullopt;
}

std::string hmac(ScramHash hash, std::string_view key, std::string_view data) {
  std::string out;
  hmac_into(hash, key, data, out);
  return out;
}

SecretBytes salted_password(ScramHash hash, std::string_view password, std::string_view salt,
                            std::uint32_t iterations) {
  if (iterations == 0 || iterations > INT_MAX || password.size() > INT_MAX || salt.size() > INT_MAX) return {};
  std::string out(digest_size(hash), '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes(salt), static_cast<int>(salt.size()),
                        static_cast<int>(iterations), message_digest(hash), static_cast<int>(out.size()),
                        bytes(out)) != 1) {
    cleanse(out);
    return {};
  }
  return SecretBytes(std::move(out));
}

SecretBytes client_key(ScramHash hash, std::string_view salted_password) {
  std::string out;
  hmac_into(hash, salted_password, "Client Key", out);
  return SecretBytes(std::move(out));
}

std::string server_key(ScramHash hash, std::string_view salted_password) {
  return hmac(hash, salted_password, "Server Key");
}

std::string stored_key(ScramHash hash, std::string_view client_key) { return digest(hash, client_key); }

std::string client_signature(ScramHash hash, std::string_view stored_key, std::string_view auth_message) {
  return hmac(hash, stored_key, auth_message);
}

std::string server_signature(ScramHash hash, std::string_view server_key, std::string_view auth_message) {
  return hmac(hash, server_key, auth_message);
}

std::string client_proof(ScramHash hash, std::string_view client_key, std::string_view auth_message) {
  if (client_key.size() != digest_size(hash)) return {};
  std::string signature = client_signature(hash, stored_key(hash, client_key), auth_message);
  if (signature.empty()) return {};
  std::string proof = xor_bytes(client_key, signature);
  cleanse(signature);  // with the proof, it gives the client key
  return proof;
}

bool verify_client_proof(const ScramCredential& credential, std::string_view auth_message, std::string_view proof) {
  const std::size_t size = digest_size(credential.hash);
  // Sizes are public (they follow from the mechanism), so checking them early leaks nothing.
  if (proof.size() != size || credential.stored_key.size() != size) return false;
  std::string signature = client_signature(credential.hash, credential.stored_key, auth_message);
  if (signature.size() != size) return false;
  const SecretBytes key(xor_bytes(proof, signature));
  cleanse(signature);
  const std::string candidate = stored_key(credential.hash, key.view());
  return candidate.size() == size && CRYPTO_memcmp(candidate.data(), credential.stored_key.data(), size) == 0;
}

ScramCredential make_credential(ScramHash hash, std::string_view password, std::string_view salt,
                                std::uint32_t iterations) {
  ScramCredential credential{hash, std::string(salt), iterations, {}, {}};
  const SecretBytes salted = salted_password(hash, password, salt, iterations);
  if (salted.empty()) return credential;
  const SecretBytes client = client_key(hash, salted.view());
  if (client.empty()) return credential;
  std::string stored = stored_key(hash, client.view());
  std::string server = server_key(hash, salted.view());
  if (stored.empty() || server.empty()) return credential;
  credential.stored_key = std::move(stored);
  credential.server_key = std::move(server);
  return credential;
}


bool is_valid_utf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();)
    if (!next_code_point(text, pos)) return false;
  return true;
}

std::optional<std::string> saslprep(std::string_view text) {
  std::string out;
  // Mapping never lengthens the text, so `out` is never reallocated: no partial copy of a
  // password is left behind in freed memory.
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t start = pos;
    const std::optional<char32_t> cp = next_code_point(text, pos);
    if (cp && in_ranges(*cp, kMappedToNothing)) continue;
    if (cp && in_ranges(*cp, kNonAsciiSpace)) {
      out += ' ';
      continue;
    }
    // Mapping comes first (RFC 4013 §2): what it removed or replaced is not checked here.
    if (!cp || prohibited(*cp)) {
      cleanse(out);
      return std::nullopt;
    }
    out.append(text.substr(start, pos - start));
  }
  return out;
}

bool prepare_scram_crypto() {
  unsigned char random[16];
  const bool ok = hmac_algorithm() != nullptr && !hmac(ScramHash::kSha1, "k", "d").empty() &&
                  !hmac(ScramHash::kSha256, "k", "d").empty() && !digest(ScramHash::kSha1, "d").empty() &&
                  !digest(ScramHash::kSha256, "d").empty() && RAND_bytes(random, sizeof random) == 1;
  OPENSSL_cleanse(random, sizeof random);
  return ok && !salted_password(ScramHash::kSha256, "p", "s", 1).empty();
}

}  // namespace xmppd::auth
