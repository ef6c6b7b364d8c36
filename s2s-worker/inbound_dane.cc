// Inbound DANE (Prosody 13's mod_s2s_auth_dane_in), with use_dane on for the local domain a
// claim is for (the stream's host for SASL EXTERNAL, the 'to' of a db:result):
// the TLS client certificate of a remote server may be authenticated by the TLSA records of
// the SRV targets its claimed domain publishes (dane_lookup.h), as an outbound connection to
// that domain would authenticate the server's certificate. The lookup starts when the peer
// asks for SASL EXTERNAL or dialback for a domain whose verdict is not known yet; what the
// peer sends meanwhile waits, and is answered in order once the verdict is in. One lookup
// per claimed domain per stream (whose claimed domains are limited: kMaxClaimedDomains).
#include "common/log.h"
#include "s2s-worker/inbound.h"
#include "s2s-worker/s2s_xml.h"
#include "tls/peer_verify.h"

namespace xmppd::s2s {

const DaneVerdict* InboundStream::dane_verdict(const std::string& domain, const std::string& local) const {
  if (!federation_.policy().use_dane(local)) return nullptr;
  auto it = dane_.find(domain);
  return it != dane_.end() ? &it->second : nullptr;
}

std::string InboundStream::shortfall(const std::string& domain, const std::string& local) {
  const DaneVerdict* dane = dane_verdict(domain, local);
  if (dane != nullptr && dane->kind == DaneVerdict::Kind::kMismatch) return dane->detail;
  std::string why = tls::describe_shortfall(certificate_for(domain), domain);
  if (dane != nullptr) why += ", " + dane->outcome;
  return why;
}

// DANE could still certify the stream's certificate for `domain`: it is not known yet.
bool InboundStream::dane_may_certify(const std::string& domain, const std::string& local) const {
  SSL* ssl = session_.ssl();
  return !domain.empty() && federation_.policy().use_dane(local) && session_.encrypted() && ssl != nullptr &&
         SSL_get0_peer_certificate(ssl) != nullptr && federation_.resolver() != nullptr &&
         !federation_.policy().is_local(domain) && dane_.count(domain) == 0 && dane_.size() < kMaxClaimedDomains;
}

bool InboundStream::dane_pending(xml::Element& e) {
  std::string domain, local = session_.host();
  if (e.is(kSaslNs, "auth")) {
    if (sasl_done_) return false;
    domain = session_.peer_domain();
  } else if (e.is(kDialbackNs, "result")) {
    // Only where a certificate decides: required for the pair, or dialback without a
    // callback (XEP-0344).
    DialbackFields fields = dialback_fields(e);
    if (fields.local.empty() || fields.remote.empty() || fields.key.empty() ||
        !federation_.policy().is_local(fields.local) || !federation_.policy().enabled(fields.local) ||
        !(federation_.policy().requires_certificate(fields.local, fields.remote) ||
          federation_.policy().dialback_without_dialback(fields.local)))
      return false;
    domain = fields.remote;
    local = fields.local;
  } else {
    return false;
  }
  if (!dane_may_certify(domain, local) || !federation_.policy().domain_refusal(local, domain).empty()) return false;
  held_.push_front(std::move(e));
  session_.hold_reading(true);
  dane_starting_ = true;
  dane_lookup_ = std::make_unique<DomainDaneLookup>(
      *federation_.resolver(), domain,
      [this, domain, local](DomainDane dane) { dane_answered(domain, local, std::move(dane)); });
  dane_lookup_->start();
  dane_starting_ = false;
  if (dane_lookup_) return true;
  // Answered at once: the element goes on now.
  session_.hold_reading(false);
  e = std::move(held_.front());
  held_.pop_front();
  return false;
}

void InboundStream::dane_answered(const std::string& domain, const std::string& local, DomainDane dane) {
  SSL* ssl = session_.ssl();
  X509* leaf = ssl != nullptr ? SSL_get0_peer_certificate(ssl) : nullptr;
  DaneVerdict verdict = judge_domain_dane(leaf, ssl != nullptr ? SSL_get_peer_cert_chain(ssl) : nullptr, dane, domain);
  switch (verdict.kind) {
    case DaneVerdict::Kind::kMatched:
      log::info("s2s inbound %s -> %s from %s: %s (%s)", domain.c_str(), local.c_str(), session_.peer().c_str(),
                verdict.outcome.c_str(), verdict.detail.c_str());
      break;
    case DaneVerdict::Kind::kMismatch:
      log::warning("s2s inbound %s -> %s from %s: %s: %s", domain.c_str(), local.c_str(), session_.peer().c_str(),
                   verdict.outcome.c_str(), verdict.detail.c_str());
      break;
    case DaneVerdict::Kind::kBogus:
      log::warning("s2s inbound %s -> %s from %s: %s", domain.c_str(), local.c_str(), session_.peer().c_str(),
                   verdict.outcome.c_str());
      break;
    case DaneVerdict::Kind::kNone:
      log::info("s2s inbound %s -> %s from %s: %s", domain.c_str(), local.c_str(), session_.peer().c_str(),
                verdict.outcome.c_str());
      break;
  }
  dane_[domain] = std::move(verdict);
  // Destroyed from inside its own callback, which it allows.
  dane_lookup_.reset();
  if (dane_starting_) return;  // dane_pending goes on
  session_.hold_reading(false);
  replay_held();
}

void InboundStream::replay_held() {
  while (!held_.empty() && !dane_lookup_ && session_.sending()) {
    xml::Element e = std::move(held_.front());
    held_.pop_front();
    if (dane_pending(e)) return;
    dispatch(std::move(e));
  }
}

}  // namespace xmppd::s2s
