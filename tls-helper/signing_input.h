// What the tls helper agrees to sign: TLS handshake signature inputs, recognised by their
// structure, and nothing else. A router or s2s worker taken over by an attacker can then
// not use the helper to sign arbitrary data (certificates, tokens, other protocols).
#pragma once

#include <cstdint>
#include <span>

#include "tls_signer.pb.h"

namespace xmppd::tls_helper {

enum class SigningInput {
  kTls13ServerCertificateVerify,  // RFC 8446 §4.4.3, server side
  kTls13ClientCertificateVerify,  // the same, as a client presenting a certificate (s2s)
  kTls12ServerKeyExchange,        // RFC 5246 §7.4.3 / RFC 8422 §5.4, ECDHE only
  kUnknown,
};

// The TLS versions a server that uses the key may negotiate. When TLS 1.3 is among them, a
// genuine TLS 1.2 ServerHello's random ends with the downgrade sentinel of RFC 8446
// §4.1.3, and a ServerKeyExchange input without it is no handshake of ours.
enum class ServerVersions {
  kUpToTls12,
  kTls13Allowed,
};

// A TLS 1.2 ServerKeyExchange is recognised only with ECDHE parameters that decode: a
// named curve we offer and a public value of its size (a NIST point on its curve).
SigningInput classify_signing_input(std::span<const std::uint8_t> message, ServerVersions versions);

// TLS 1.3 forbids PKCS#1 v1.5 signatures in CertificateVerify (RFC 8446 §4.2.3).
bool scheme_allowed(SigningInput input, ipc::SignatureScheme scheme);

const char* describe(SigningInput input);

}  // namespace xmppd::tls_helper
