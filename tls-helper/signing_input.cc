#include "tls-helper/signing_input.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace xmppd::tls_helper {
namespace {

constexpr std::size_t kPadding = 64;  // octets of 0x20 before the context string
constexpr std::string_view kServerContext = "TLS 1.3, server CertificateVerify";
constexpr std::string_view kClientContext = "TLS 1.3, client CertificateVerify";
constexpr std::size_t kRandoms = 64;  // client_random and server_random
constexpr std::uint8_t kNamedCurve = 3;

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

bool is_tls12_server_key_exchange(std::span<const std::uint8_t> m) {
  if (m.size() < kRandoms + 4 || m[kRandoms] != kNamedCurve) return false;
  std::uint16_t group = static_cast<std::uint16_t>(m[kRandoms + 1] << 8 | m[kRandoms + 2]);
  std::size_t length = m[kRandoms + 3];
  std::size_t expected = point_length(group);
  if (expected == 0 || length != expected || m.size() != kRandoms + 4 + length) return false;
  bool is_nist = group >= 0x0017 && group <= 0x0019;
  return !is_nist || m[kRandoms + 4] == 0x04;
}

}  // namespace

SigningInput classify_signing_input(std::span<const std::uint8_t> message) {
  if (is_tls13_certificate_verify(message, kServerContext)) return SigningInput::kTls13ServerCertificateVerify;
  if (is_tls13_certificate_verify(message, kClientContext)) return SigningInput::kTls13ClientCertificateVerify;
  if (is_tls12_server_key_exchange(message)) return SigningInput::kTls12ServerKeyExchange;
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
