// DANE (RFC 6698, RFC 7671) for a server's certificate, matched by OpenSSL's own DANE code
// (SSL_dane_tlsa_add and X509_STORE_CTX_set0_dane): no TLSA matching is written here.
//
// Only the DANE-TA(2) and DANE-EE(3) usages are used, as RFC 7672 §3.1.3 has SMTP do and as
// most XMPP servers do: PKIX-TA(0) and PKIX-EE(1) records ask for the PKIX checks the
// server already makes without DANE, and add a dependency on the CA set of whoever
// published them. A set with none but those is "no usable records", which the caller treats
// as no DANE at all (RFC 7671 §4.1).
#ifndef XMPPD_TLS_DANE_H
#define XMPPD_TLS_DANE_H

#include <openssl/x509.h>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::tls {

// One TLSA record as published.
struct DaneRecord {
  std::uint8_t usage = 0;
  std::uint8_t selector = 0;
  std::uint8_t matching_type = 0;
  std::vector<std::uint8_t> data;
};

enum class DaneStatus {
  kEeMatched,  // a DANE-EE(3) record matches the peer's certificate or key
  kTaMatched,  // a DANE-TA(2) record matches a certificate of the chain, and the leaf is valid for the name
  kNoMatch,    // usable records, none of which authenticates the peer
  kNoUsable,   // no record of a usage, selector and matching type that is used
};

struct DaneVerification {
  DaneStatus status = DaneStatus::kNoUsable;
  std::string detail;  // for logs: which record matched, or why none did
};

// leaf and untrusted_chain as for verify_peer. `domain` is the XMPP domain and `host` the SRV
// target (RFC 7673 §4: a DANE-TA match also needs a certificate valid for either; a DANE-EE
// match needs no name at all, RFC 7671 §5.1). Dates are checked at `at`, or now, for DANE-TA
// only (RFC 7671 §5.1: DANE-EE ignores the validity period).
DaneVerification verify_dane(X509* leaf, STACK_OF(X509) * untrusted_chain, const std::vector<DaneRecord>& records,
                             std::string_view domain, std::string_view host, std::optional<time_t> at = std::nullopt);

// "DANE-EE(3) SPKI(1) SHA2-256(1)": a record's kind, for logs.
std::string describe(const DaneRecord& record);

}  // namespace xmppd::tls

#endif  // XMPPD_TLS_DANE_H
