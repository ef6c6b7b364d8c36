// Upload slots (common/upload_slot.h): tokens signed with HMAC-SHA-256 through OpenSSL's
// EVP_MAC, and the strict checks of what clients name. Trusts nothing it parses.
#include "common/upload_slot.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <memory>

#include "common/base64.h"
#include "common/utf8_text.h"

namespace xmppd {
namespace {

constexpr std::string_view kVersion = "v1.";
// Bounds every part of a token before any work: a slot's fields fit in well under 4 KiB.
constexpr std::size_t kMaxTokenBytes = 4096;
constexpr std::size_t kMacBytes = 32;
constexpr std::size_t kIdBytes = 16;

std::string base64url_encode(std::string_view bytes) {
  std::string text = base64_encode(bytes);
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return text;
}

// Strict, as base64_decode: one accepted encoding per byte string (no padding here).
std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string standard(text);
  for (char& c : standard) {
    if (c == '+' || c == '/' || c == '=') return std::nullopt;
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (standard.size() % 4 != 0) standard.push_back('=');
  return base64_decode(standard);
}

EVP_MAC* hmac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
  return mac;
}

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// HMAC-SHA-256 of `data` under `key`; empty if OpenSSL fails (then nothing verifies).
std::string mac_of(std::string_view data, std::string_view key) {
  if (hmac() == nullptr) return {};
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(hmac()));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  std::size_t length = 0;
  if (!ctx || !EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) ||
      !EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) ||
      !EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) || length != kMacBytes)
    return {};
  return std::string(reinterpret_cast<const char*>(out.data()), length);
}

std::string fields_text(const UploadSlot& s) {
  return s.id + '\n' + s.service + '\n' + s.uploader + '\n' + s.filename + '\n' + std::to_string(s.size) + '\n' +
         s.content_type + '\n' + std::to_string(s.expires);
}

// A decimal without sign or leading zeros (one spelling per value), within the type.
template <typename T>
std::optional<T> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// Domain and bare JID as the router stamped them: printable ASCII or UTF-8, no control
// characters or spaces, at most 3071 bytes (RFC 7622's three parts).
bool plausible_address(std::string_view text, bool with_at) {
  if (text.empty() || text.size() > 3071 || !valid_utf8(text)) return false;
  for (unsigned char c : text)
    if (c <= 0x20 || c == 0x7f || c == '/') return false;
  return !with_at || text.find('@') != std::string_view::npos;
}

std::optional<UploadSlot> parse_fields(std::string_view text) {
  std::array<std::string_view, 7> part;
  for (std::size_t i = 0; i < part.size(); ++i) {
    std::size_t nl = text.find('\n');
    if ((nl == std::string_view::npos) != (i + 1 == part.size())) return std::nullopt;
    part[i] = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  }
  auto size = parse_decimal<std::uint64_t>(part[4]);
  auto expires = parse_decimal<std::int64_t>(part[6]);
  if (!size || *size == 0 || !expires || !valid_upload_slot_id(part[0]) || !plausible_address(part[1], false) ||
      !plausible_address(part[2], true) || !valid_upload_filename(part[3]) || !valid_content_type(part[5]))
    return std::nullopt;
  return UploadSlot{std::string(part[0]), std::string(part[1]), std::string(part[2]), std::string(part[3]),
                    *size, std::string(part[5]), *expires};
}

bool restricted_name_char(char c) {
  // RFC 6838 §4.2 restricted-name-chars.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$&-^_.+").find(c) != std::string_view::npos;
}

bool restricted_name(std::string_view name) {
  if (name.empty() || name.size() > 127 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!restricted_name_char(c)) return false;
  return true;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string upload_slot_fields(const UploadSlot& slot) { return fields_text(slot); }
std::optional<UploadSlot> parse_upload_slot_fields(std::string_view text) { return parse_fields(text); }

bool prepare_upload_slots() { return hmac() != nullptr; }

std::string new_upload_slot_id() {
  std::array<unsigned char, kIdBytes> bytes{};
  // Failing to get randomness is not a state to go on in: the process ends, the parent restarts it.
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) std::abort();
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

bool valid_upload_slot_id(std::string_view id) {
  auto bytes = id.size() == 22 ? base64url_decode(id) : std::nullopt;
  return bytes && bytes->size() == kIdBytes;
}

bool valid_upload_filename(std::string_view name) {
  if (name.empty() || name.size() > kMaxUploadFilenameBytes || name == "." || name == ".." || !valid_utf8(name))
    return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') return false;
  // C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) are control characters too.
  for (std::size_t i = 0; i + 1 < name.size(); ++i)
    if (static_cast<unsigned char>(name[i]) == 0xc2 && static_cast<unsigned char>(name[i + 1]) < 0xa0) return false;
  return true;
}

bool valid_content_type(std::string_view type) {
  std::size_t slash = type.find('/');
  return slash != std::string_view::npos && restricted_name(type.substr(0, slash)) &&
         restricted_name(type.substr(slash + 1));
}

bool content_type_allowed(std::string_view type, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return true;
  const std::string_view major = type.substr(0, type.find('/'));
  for (std::string_view p : patterns) {
    if (p == "*" || p == "*/*" || equal_ignoring_case(p, type)) return true;
    if (p.ends_with("/*") && equal_ignoring_case(p.substr(0, p.size() - 2), major)) return true;
  }
  return false;
}

std::string sign_upload_slot(const UploadSlot& slot, std::string_view key) {
  const std::string fields = fields_text(slot);
  return std::string(kVersion) + base64url_encode(fields) + "." + base64url_encode(mac_of(fields, key));
}

VerifiedSlot verify_upload_slot(std::string_view token, std::string_view key) {
  if (token.size() > kMaxTokenBytes || !token.starts_with(kVersion)) return {std::nullopt, SlotRefusal::kMalformed};
  token.remove_prefix(kVersion.size());
  const std::size_t dot = token.find('.');
  if (dot == std::string_view::npos) return {std::nullopt, SlotRefusal::kMalformed};
  auto fields = base64url_decode(token.substr(0, dot));
  auto mac = base64url_decode(token.substr(dot + 1));
  if (!fields || !mac || mac->size() != kMacBytes) return {std::nullopt, SlotRefusal::kMalformed};
  const std::string expected = mac_of(*fields, key);
  if (key.empty() || expected.size() != kMacBytes || CRYPTO_memcmp(expected.data(), mac->data(), kMacBytes) != 0)
    return {std::nullopt, SlotRefusal::kBadSignature};
  auto slot = parse_fields(*fields);
  if (!slot) return {std::nullopt, SlotRefusal::kBadFields};
  return {std::move(slot), SlotRefusal::kNone};
}

std::string_view slot_refusal_text(SlotRefusal refusal) {
  switch (refusal) {
    case SlotRefusal::kNone: return "valid";
    case SlotRefusal::kMalformed: return "malformed token";
    case SlotRefusal::kBadSignature: return "bad signature";
    case SlotRefusal::kBadFields: return "signed but unreadable slot";
  }
  return "?";
}

std::string percent_encode_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace xmppd
