// DANE for outbound streams (RFC 6698, RFC 7671, RFC 7673), with use_dane: the TLSA records
// the connector found for the SRV target decide about the peer's certificate before PKIX
// does. A DANE-EE or DANE-TA match makes the certificate trusted for the remote domain (as
// if a CA had vouched for it, so that s2s_secure_auth is satisfied); records that are there,
// validated and usable, but match nothing refuse the connection whatever the rest of the
// policy says; no records, or no usable ones, leave the judgement to PKIX.
#include "common/log.h"
#include "s2s-worker/dane_verdict.h"
#include "s2s-worker/outbound.h"
#include "tls/dane.h"

namespace xmppd::s2s {

bool OutboundStream::check_dane() {
  dane_matched_ = false;
  dane_outcome_.clear();
  if (dane_.state == DaneLookup::State::kOff) return true;
  if (dane_.state == DaneLookup::State::kNone) {
    dane_outcome_ = "no DANE (" + dane_.none + ")";
    log::info("s2s outbound %s -> %s via %s: %s for %s", local_.c_str(), remote_.c_str(), address_.c_str(),
              dane_outcome_.c_str(), dane_.name.c_str());
    return true;
  }
  SSL* ssl = transport_->ssl();
  X509* leaf = ssl != nullptr ? SSL_get0_peer_certificate(ssl) : nullptr;
  const tls::DaneVerification v =
      match_tlsa(leaf, ssl != nullptr ? SSL_get_peer_cert_chain(ssl) : nullptr, dane_.records, remote_, target_.host);
  switch (v.status) {
    case tls::DaneStatus::kEeMatched:
    case tls::DaneStatus::kTaMatched:
      dane_matched_ = true;
      dane_outcome_ = v.status == tls::DaneStatus::kEeMatched ? "DANE-EE matched" : "DANE-TA matched";
      log::info("s2s outbound %s -> %s via %s: %s (%s of %s)", local_.c_str(), remote_.c_str(), address_.c_str(),
                dane_outcome_.c_str(), v.detail.c_str(), dane_.name.c_str());
      return true;
    case tls::DaneStatus::kNoUsable:
      // RFC 7671 §4.1: as if there were no TLSA records.
      dane_outcome_ = "no DANE (no usable TLSA records)";
      log::info("s2s outbound %s -> %s via %s: %s at %s", local_.c_str(), remote_.c_str(), address_.c_str(),
                dane_outcome_.c_str(), dane_.name.c_str());
      return true;
    case tls::DaneStatus::kNoMatch:
      break;
  }
  dane_outcome_ = "TLSA present, none matched";
  const std::string why = "TLSA records for " + dane_.name + " exist and none matches (" + v.detail + ")";
  log::warning("s2s outbound %s -> %s via %s: %s: refused: %s", local_.c_str(), remote_.c_str(), address_.c_str(),
               dane_outcome_.c_str(), why.c_str());
  transport_->send(
      "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
      "version='1.0'><stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
      "</stream:stream>");
  // Another address or target may present a certificate the records do match.
  fail(why, true);
  return false;
}

tls::PeerVerification OutboundStream::with_dane(const std::string& local, tls::PeerVerification pkix) const {
  // The records were looked up because the stream's own host has use_dane; a piggybacking
  // host without it judges by PKIX alone.
  if (!dane_matched_ || !federation_.policy().use_dane(local)) return pkix;
  pkix.chain = tls::ChainStatus::kTrusted;
  pkix.identity = tls::IdentityStatus::kMatches;
  pkix.matched = dane_outcome_ + " (" + dane_.name + ")";
  pkix.detail.clear();
  return pkix;
}

}  // namespace xmppd::s2s
