// What DANE says of a peer's certificate, for both directions of federation: the TLSA records
// DNS gave (connector.h, dane_lookup.h) matched by tls/dane.h (OpenSSL's DANE code).
#pragma once

#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <vector>

#include "s2s-worker/dane_lookup.h"
#include "s2s-worker/dns_answer.h"
#include "tls/dane.h"

namespace xmppd::s2s {

// The certificate `leaf` (with the chain it came with) against one target's records.
tls::DaneVerification match_tlsa(X509* leaf, STACK_OF(X509) * chain, const std::vector<TlsaRecord>& records,
                                 std::string_view domain, std::string_view host);

struct DaneVerdict {
  enum class Kind {
    kMatched,   // a DANE-EE or DANE-TA record of a target authenticates the certificate
    kMismatch,  // validated, usable records exist and none matches: not certified, PKIX or not
    kBogus,     // an answer failed validation (or could not be had), nothing matched: PKIX decides
    kNone,      // no DANE for the domain: PKIX decides
  };
  Kind kind = Kind::kNone;
  // For logs, as outbound says it: "DANE-EE matched", "DANE-TA matched", "TLSA present, none
  // matched", "no DANE (unsigned)", "no DANE (DNSSEC validation failed for ...)".
  std::string outcome;
  std::string detail;  // which record of which name matched, or the refusal's reason
};

// Inbound DANE (RFC 7673 as Prosody's mod_s2s_auth_dane_in applies it to client
// certificates): the certificate a peer presented for `domain`, against the records of every
// target the domain's validated SRV answers name. Any match wins; otherwise records that
// match nothing refuse ("TLSA records for NAME exist and none matches").
DaneVerdict judge_domain_dane(X509* leaf, STACK_OF(X509) * chain, const DomainDane& dane, std::string_view domain);

}  // namespace xmppd::s2s
