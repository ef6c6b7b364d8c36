// The tls helper's check of what it is asked to sign (tls-helper/signing_input.h).
//
// Input: the message as a router or s2s worker would send it. Invariants: anything accepted
// is, octet for octet, a TLS 1.3 CertificateVerify input (64 spaces, the context string of
// its side, a zero, a SHA-256 or SHA-384 transcript hash) or a TLS 1.2 ECDHE
// ServerKeyExchange input (two randoms, named_curve, a group we offer, a length that ends the
// message, a public value of the group's size, an uncompressed point for the NIST curves,
// the downgrade sentinel when TLS 1.3 is allowed); allowing TLS 1.3 never accepts more; no
// scheme may sign an unknown input, nor PKCS#1 v1.5 a TLS 1.3 one.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>

#include "tls-helper/signing_input.h"

namespace {

using xmppd::tls_helper::ServerVersions;
using xmppd::tls_helper::SigningInput;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

bool is_certificate_verify(std::span<const std::uint8_t> m, std::string_view context) {
  const std::size_t hash = m.size() - 64 - context.size() - 1;
  if (m.size() < 64 + context.size() + 1 || (hash != 32 && hash != 48)) return false;
  for (std::size_t i = 0; i < 64; ++i)
    if (m[i] != 0x20) return false;
  return std::memcmp(m.data() + 64, context.data(), context.size()) == 0 && m[64 + context.size()] == 0;
}

bool is_server_key_exchange(std::span<const std::uint8_t> m, ServerVersions versions) {
  if (m.size() < 68 || m[64] != 3 || m[67] != m.size() - 68) return false;
  static const std::uint8_t kSentinel[] = {'D', 'O', 'W', 'N', 'G', 'R', 'D', 1};
  if (versions == ServerVersions::kTls13Allowed && std::memcmp(m.data() + 56, kSentinel, 8) != 0) return false;
  const unsigned group = m[65] << 8 | m[66];
  const std::size_t length = m.size() - 68;
  switch (group) {
    case 0x17: return length == 65 && m[68] == 4;
    case 0x18: return length == 97 && m[68] == 4;
    case 0x19: return length == 133 && m[68] == 4;
    case 0x1d: return length == 32;
    case 0x1e: return length == 56;
    default: return false;
  }
}

constexpr xmppd::ipc::SignatureScheme kSchemes[] = {xmppd::ipc::SCHEME_RSA_PKCS1, xmppd::ipc::SCHEME_RSA_PSS,
                                                    xmppd::ipc::SCHEME_ECDSA, xmppd::ipc::SCHEME_ED25519};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> m(data, size);
  const SigningInput up_to_12 = xmppd::tls_helper::classify_signing_input(m, ServerVersions::kUpToTls12);
  const SigningInput with_13 = xmppd::tls_helper::classify_signing_input(m, ServerVersions::kTls13Allowed);
  check(with_13 == SigningInput::kUnknown || with_13 == up_to_12, "allowing TLS 1.3 accepted more");
  for (ServerVersions versions : {ServerVersions::kUpToTls12, ServerVersions::kTls13Allowed}) {
    const SigningInput input = versions == ServerVersions::kUpToTls12 ? up_to_12 : with_13;
    switch (input) {
      case SigningInput::kTls13ServerCertificateVerify:
        check(is_certificate_verify(m, "TLS 1.3, server CertificateVerify"), "not a server CertificateVerify");
        break;
      case SigningInput::kTls13ClientCertificateVerify:
        check(is_certificate_verify(m, "TLS 1.3, client CertificateVerify"), "not a client CertificateVerify");
        break;
      case SigningInput::kTls12ServerKeyExchange:
        check(is_server_key_exchange(m, versions), "not a ServerKeyExchange");
        break;
      case SigningInput::kUnknown:
        check(!is_certificate_verify(m, "TLS 1.3, server CertificateVerify") &&
                  !is_certificate_verify(m, "TLS 1.3, client CertificateVerify"),
              "a CertificateVerify input refused");
        for (auto scheme : kSchemes)
          check(!xmppd::tls_helper::scheme_allowed(input, scheme), "a scheme may sign an unknown input");
        break;
    }
    if (input == SigningInput::kTls13ServerCertificateVerify || input == SigningInput::kTls13ClientCertificateVerify)
      check(!xmppd::tls_helper::scheme_allowed(input, xmppd::ipc::SCHEME_RSA_PKCS1), "PKCS#1 v1.5 in TLS 1.3");
  }
  return 0;
}
