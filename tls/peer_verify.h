// Verification of a remote server's certificate for XMPP federation.
//
// The TLS handshake never fails on a certificate problem: like Prosody, xmppd
// decides afterwards, per remote domain, whether a stream may go on (dialback
// can stand in for a certificate the policy does not trust). So the chain and
// the identity are judged separately, and both verdicts are reported.
#ifndef XMPPD_TLS_PEER_VERIFY_H
#define XMPPD_TLS_PEER_VERIFY_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace xmppd::tls {

// kWrongPurpose: the chain is sound, but the leaf's extended key usage names neither TLS
// server nor TLS client authentication (a code-signing or e-mail certificate).
enum class ChainStatus {
  kTrusted,
  kSelfSigned,
  kUntrustedIssuer,
  kExpired,
  kNotYetValid,
  kInvalid,
  kWrongPurpose,
  kNoCertificate
};

enum class IdentityStatus { kMatches, kMismatch, kNoCertificate };

struct PeerVerification {
  ChainStatus chain = ChainStatus::kNoCertificate;
  IdentityStatus identity = IdentityStatus::kNoCertificate;
  std::string matched;  // the presented identifier that matched, e.g. "DNS-ID *.example.com"
  std::string detail;   // OpenSSL's verify error texts joined with "; ", for logs

  // chain == kTrusted && identity == kMatches. The argument is not compared:
  // the verdicts already belong to the domain given to verify_peer, so pass
  // that same domain (it only documents the call site).
  bool trusted_for(std::string_view domain) const;
};

// leaf and untrusted_chain are the certificates as the peer sent them (leaf
// first, as SSL_get0_peer_certificate and SSL_get_peer_cert_chain give them;
// a chain that repeats the leaf, as on the client side, is fine);
// trust holds the anchors and stays the caller's. Validity is checked at `at`,
// or now. No purpose and no host name are set on the verification: identity
// is match_identity's job, and a serverAuth-only certificate is fine for s2s (either TLS
// purpose is, as RFC 6120 §13.7.1.1 allows; another purpose alone is kWrongPurpose).
// A purpose or host set on trust's own parameters would still apply, so the
// store given here should carry none.
PeerVerification verify_peer(X509* leaf, STACK_OF(X509)* untrusted_chain, X509_STORE* trust, std::string_view domain,
                             std::optional<time_t> at = std::nullopt);

const char* describe(ChainStatus status);
const char* describe(IdentityStatus status);
// What keeps the certificate from authenticating `domain`, said so that an admin can act on
// it: "no certificate was presented", "the certificate has expired", "the certificate is
// not valid for example.com", both problems when there are two. Empty when trusted_for().
std::string describe_shortfall(const PeerVerification& v, std::string_view domain);
// The verdict on `domain`'s certificate as one statement, for logs: "a.test's certificate is
// trusted (DNS-ID a.test)", "a.test's certificate names a.test but is self-signed, so it is
// not trusted", "a.test presented no certificate".
std::string describe_verdict(const PeerVerification& v, std::string_view domain);
// "TLSv1.3 TLS_AES_256_GCM_SHA384, SNI example.com, ALPN xmpp-client", for logs.
std::string describe_session(SSL* ssl);

// Whether a certificate of the chain carries nameConstraints. OpenSSL applies dNSName
// constraints to DNS-IDs (and CN-IDs) only: an SRV-ID or XmppAddr would get past a CA
// that may only issue for other domains.
enum class NameConstraints { kNone, kInChain };

// RFC 6125 as XMPP uses it (RFC 6120 §13.7.1.2, RFC 7590, XEP-0178): DNS-ID,
// SRV-ID "_xmpp-server.<domain>", XmppAddr, and CN-ID only when the
// certificate has no subjectAltName of those types. SRV-ID and XmppAddr count
// only when `constraints` is kNone (verify_peer finds it out from the chain;
// otherwise the caller must). On a match, *matched (if given) names the
// presented identifier.
IdentityStatus match_identity(X509* leaf, std::string_view domain, std::string* matched = nullptr,
                              NameConstraints constraints = NameConstraints::kNone);

}  // namespace xmppd::tls

#endif  // XMPPD_TLS_PEER_VERIFY_H
