// The TLS side of what the s2s worker reports about a stream (xmppctl show s2s): the verdict
// on the peer's certificate as xmppctl names it, why it is not trusted, the chain's
// subjects, version and cipher. stream_report.cc builds whole reports with them.
//
// Trusts nothing it reports: subjects, OpenSSL's texts and the domains a peer names go to
// the parent as bounded, valid UTF-8 (common/utf8_text.h: anything else and the parent
// would drop the report and kill the worker), and xmppctl prints them with control
// characters replaced.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "reports.pb.h"
#include "tls/peer_verify.h"

namespace xmppd::s2s {

inline constexpr std::size_t kMaxChainSubjects = 6;
inline constexpr std::size_t kMaxReportedString = 256;  // a DNS name's limit, and a subject's

// The verdict on a certificate as xmppctl names it; `dane_matched`: the peer's TLSA records
// matched it, which makes it trusted whatever PKIX says (RFC 7673).
ipc::CertificateStatus certificate_status(const tls::PeerVerification& v, bool dane_matched);
// Why it is not trusted: OpenSSL's verify messages, or the name it fails; empty when trusted.
std::string certificate_error(const tls::PeerVerification& v, std::string_view domain, bool dane_matched);
// The subjects of the certificates the peer sent, leaf first (RFC 2253 form), at most
// kMaxChainSubjects. `chain` may repeat the leaf (the client side's chain does).
std::vector<std::string> chain_subjects(X509* leaf, STACK_OF(X509) * chain);
// TLS version, cipher and chain of a connection (nothing without TLS).
void report_tls(SSL* ssl, ipc::S2sStream& out);
// `text` as valid UTF-8 cut to kMaxReportedString, between characters.
std::string bounded(std::string_view text);
// The domain a stream's header claims, for a report that marks it unverified: the domain
// as prepared when it is one (xmpp/jid.h), else kInvalidDomain.
inline constexpr std::string_view kInvalidDomain = "(invalid)";
std::string claimed_domain(std::string_view claimed);

}  // namespace xmppd::s2s
