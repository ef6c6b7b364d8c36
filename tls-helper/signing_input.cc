#include "tls-helper/signing_input.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>

namespace xmppd::tls_helper {
namespace {

constexpr std::size_t kPadding = 64;  // octets of 0x20 before the context string
constexpr std::string_view kServerContext = "TLS 1.3, server CertificateVerify";
constexpr std::string_view kClientContext = "TLS 1.3, client CertificateVerify";
constexpr std::size_t kRandoms = 64;  // client_random and server_random
constexpr std::uint8_t kNamedCurve = 3;
// RFC 8446 §4.1.3: the last eight octets of a TLS 1.2 server random from a server that
// could have negotiated TLS 1.3 ("DOWNGRD" and 01).
constexpr std::uint8_t kDowngradeSentinel[] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};

// The transcript hash is that of the cipher suite: SHA-256 or SHA-384.
bool is_transcript_hash_length(std::size_t n) { return n == 32 || n == 48; }

bool is_tls13_certificate_verify(std::span<const std::uint8_t> m, std::string_view context) {
  std::size_t prefix = kPadding + context.size() + 1;
  if (m.size() <= prefix || !is_transcript_hash_length(m.size() - prefix)) return false;
  if (!std::all_of(m.begin(), m.begin() + kPadding, [](std::uint8_t b) { return b == 0x20; })) return false;
  if (std::memcmp(m.data() + kPadding, context.data(), context.size()) != 0) return false;
  return m[kPadding + context.size()] == 0;
}

// The ECDHE groups OpenSSL offers, with the length of their public value.
std::size_t point_length(std::uint16_t group) {
  switch (group) {
    case 0x0017: return 65;   // secp256r1, uncompressed
    case 0x0018: return 97;   // secp384r1
    case 0x0019: return 133;  // secp521r1
    case 0x001d: return 32;   // x25519
    case 0x001e: return 56;   // x448
    default: return 0;
  }
}

struct EcGroupDeleter {
  void operator()(EC_GROUP* g) const { EC_GROUP_free(g); }
};
struct EcPointDeleter {
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
};

// The NIST curve of a group, made once: the helper answers many requests.
const EC_GROUP* nist_curve(std::uint16_t group) {
  static const std::unique_ptr<EC_GROUP, EcGroupDeleter> curves[] = {
      std::unique_ptr<EC_GROUP, EcGroupDeleter>(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)),
      std::unique_ptr<EC_GROUP, EcGroupDeleter>(EC_GROUP_new_by_curve_name(NID_secp384r1)),
      std::unique_ptr<EC_GROUP, EcGroupDeleter>(EC_GROUP_new_by_curve_name(NID_secp521r1)),
  };
  if (group < 0x0017 || group > 0x0019) return nullptr;
  return curves[group - 0x0017].get();
}

// A public value of exactly the group's size; for the NIST curves an uncompressed point
// (RFC 8422 §5.4.1 leaves no other format in TLS 1.2 as OpenSSL speaks it) on the curve.
// X25519 and X448 accept any string of their size (RFC 7748 §5).
bool is_public_value(std::uint16_t group, std::span<const std::uint8_t> value) {
  std::size_t expected = point_length(group);
  if (expected == 0 || value.size() != expected) return false;
  const EC_GROUP* curve = nist_curve(group);
  if (curve == nullptr) return true;
  if (value[0] != 0x04) return false;
  std::unique_ptr<EC_POINT, EcPointDeleter> point(EC_POINT_new(curve));
  // oct2point refuses a point off the curve; the point at infinity has no 0x04 encoding.
  bool on_curve = point && EC_POINT_oct2point(curve, point.get(), value.data(), value.size(), nullptr) == 1;
  ERR_clear_error();
  return on_curve;
}

bool has_downgrade_sentinel(std::span<const std::uint8_t> m) {
  const std::uint8_t* tail = m.data() + kRandoms - sizeof kDowngradeSentinel;
  return std::memcmp(tail, kDowngradeSentinel, sizeof kDowngradeSentinel) == 0;
}

// client_random, server_random, then ServerECDHParams (RFC 8422 §5.4): curve_type,
// NamedCurve, a one-octet length and the public value, and nothing after.
bool is_tls12_server_key_exchange(std::span<const std::uint8_t> m, ServerVersions versions) {
  if (m.size() < kRandoms + 4 || m[kRandoms] != kNamedCurve) return false;
  if (versions == ServerVersions::kTls13Allowed && !has_downgrade_sentinel(m)) return false;
  std::uint16_t group = static_cast<std::uint16_t>(m[kRandoms + 1] << 8 | m[kRandoms + 2]);
  std::size_t length = m[kRandoms + 3];
  if (m.size() != kRandoms + 4 + length) return false;
  return is_public_value(group, m.subspan(kRandoms + 4));
}

}  // namespace

SigningInput classify_signing_input(std::span<const std::uint8_t> message, ServerVersions versions) {
  if (is_tls13_certificate_verify(message, kServerContext)) return SigningInput::kTls13ServerCertificateVerify;
  if (is_tls13_certificate_verify(message, kClientContext)) return SigningInput::kTls13ClientCertificateVerify;
  if (is_tls12_server_key_exchange(message, versions)) return SigningInput::kTls12ServerKeyExchange;
  return SigningInput::kUnknown;
}

bool scheme_allowed(SigningInput input, ipc::SignatureScheme scheme) {
  switch (input) {
    case SigningInput::kTls13ServerCertificateVerify:
    case SigningInput::kTls13ClientCertificateVerify:
      return scheme == ipc::SCHEME_RSA_PSS || scheme == ipc::SCHEME_ECDSA || scheme == ipc::SCHEME_ED25519;
    case SigningInput::kTls12ServerKeyExchange:
      return scheme == ipc::SCHEME_RSA_PKCS1 || scheme == ipc::SCHEME_RSA_PSS || scheme == ipc::SCHEME_ECDSA ||
             scheme == ipc::SCHEME_ED25519;
    case SigningInput::kUnknown:
      return false;
  }
  return false;
}

const char* describe(SigningInput input) {
  switch (input) {
    case SigningInput::kTls13ServerCertificateVerify: return "TLS 1.3 server CertificateVerify";
    case SigningInput::kTls13ClientCertificateVerify: return "TLS 1.3 client CertificateVerify";
    case SigningInput::kTls12ServerKeyExchange: return "TLS 1.2 ServerKeyExchange";
    case SigningInput::kUnknown: return "not a TLS handshake signature input";
  }
  return "?";
}

}  // namespace xmppd::tls_helper
