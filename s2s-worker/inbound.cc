#include "s2s-worker/inbound.h"

#include "common/base64.h"
#include "common/log.h"
#include "s2s-worker/dialback_key_ring.h"
#include "s2s-worker/s2s_xml.h"
#include "s2s-worker/stanza_check.h"
#include "tls/peer_verify.h"
#include "xmpp/jid.h"

namespace xmppd::s2s {
namespace {

constexpr const char* kCertifiedDialback = "dialback with a trusted certificate (XEP-0344)";

std::string certificate_required(const std::string& local, const std::string& remote, const std::string& shortfall) {
  return local + " requires a trusted certificate valid for " + remote + ", and " + shortfall;
}

}  // namespace

InboundStream::InboundStream(stream::Session& session, Federation& federation)
    : session_(session), federation_(federation) {
  session_.set_negotiation_timeout(federation_.policy().timeout(session_.host()));
  federation_.add_inbound(*this);
}

InboundStream::~InboundStream() {
  federation_.remove_inbound(*this);
  federation_.release(session_);
  for (const auto& [pair, id] : verifying_) federation_.cancel_verify(id);
}

std::string InboundStream::tls_summary() const {
  return session_.encrypted() ? tls::describe_session(session_.ssl()) : std::string("no TLS");
}

const tls::PeerVerification& InboundStream::certificate_for(const std::string& domain) {
  auto it = certificates_.find(domain);
  if (it != certificates_.end()) return it->second;
  tls::PeerVerification v;
  if (SSL* ssl = session_.ssl()) {
    X509* leaf = SSL_get0_peer_certificate(ssl);
    X509_STORE* store = federation_.trust().for_host(session_.host());
    if (leaf != nullptr && store != nullptr) v = tls::verify_peer(leaf, SSL_get_peer_cert_chain(ssl), store, domain);
  }
  return certificates_.emplace(domain, std::move(v)).first->second;
}

// The stream's certificate proves `domain` (the peer's TLS client certificate, trusted and
// valid for it): what SASL EXTERNAL and XEP-0344 dialback rely on.
// With use_dane, a DANE match certifies it too, and TLSA records that match nothing refuse it
// whatever PKIX says (inbound_dane.cc).
bool InboundStream::certified(const std::string& domain, const std::string& local) {
  if (!session_.encrypted()) return false;
  if (const DaneVerdict* dane = dane_verdict(domain, local)) {
    if (dane->kind == DaneVerdict::Kind::kMatched) return true;
    if (dane->kind == DaneVerdict::Kind::kMismatch) return false;
  }
  return certificate_for(domain).trusted_for(domain);
}

void InboundStream::features(std::string& out) {
  const std::string& local = session_.host();
  const std::string& remote = session_.peer_domain();
  // With use_dane, a certificate PKIX does not trust may still be certified by DANE, which is
  // looked up when the peer tries.
  bool external = !sasl_done_ && !remote.empty() && (certified(remote, local) || dane_may_certify(remote, local));
  if (external)
    out += "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL</mechanism></mechanisms>";
  // Dialback is offered unless it is refused for every domain this peer could claim (each
  // db:result is then judged on its own pair): where a certificate is required, it is
  // offered on a certificate that proves the stream's domain (XEP-0344).
  bool dialback = remote.empty() || !federation_.policy().requires_certificate(local, remote) || certified(remote, local) ||
                  dane_may_certify(remote, local);
  if (dialback) out += "<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>";
  if (!external && !dialback && session_.encrypted() && proved_.empty())
    log_refusal(remote, local, "authentication",
                "no method to offer: " + certificate_required(local, remote, shortfall(remote, local)));
  // XEP-0288, offered before authentication only (Session asks for features once TLS is
  // settled).
  if (!sasl_done_ && proved_.empty() && federation_.policy().bidi(local))
    out += "<bidi xmlns='urn:xmpp:features:bidi'/>";
  // XEP-0198 without resumption, unless smacks_enabled_s2s (Prosody's option, on by default)
  // is false.
  // Offered before authentication too: a stream authenticated by dialback has no later
  // features; <enable/> is taken only once a domain is proved.
  if (!sm_ && federation_.policy().stream_management(local)) out += "<sm xmlns='urn:xmpp:sm:3'/>";
  out += "<limits xmlns='urn:xmpp:stream-limits:0'><max-bytes>" +
         std::to_string(federation_.policy().max_stanza_bytes(local)) + "</max-bytes><idle-seconds>" +
         std::to_string(kIdleSeconds) + "</idle-seconds></limits>";
}

void InboundStream::element(xml::Element e) {
  if (dane_lookup_) {
    // Answered in order once the DANE verdict is in.
    if (held_.size() >= kMaxHeldElements) {
      session_.stream_error("policy-violation", "too many elements sent before an answer");
      return;
    }
    held_.push_back(std::move(e));
    return;
  }
  if (dane_pending(e)) return;
  dispatch(std::move(e));
}

void InboundStream::dispatch(xml::Element e) {
  if (e.is(kSaslNs, "auth")) {
    sasl(e);
  } else if (e.is(kDialbackNs, "result")) {
    db_result(e);
  } else if (e.is(kDialbackNs, "verify")) {
    db_verify(e);
  } else if (e.ns() == kServerNs && (e.name() == "message" || e.name() == "presence" || e.name() == "iq")) {
    stanza(std::move(e));
  } else if (e.is(kBidiNs, "bidi")) {
    bidi(e);
  } else if (e.ns() == kSmNs) {
    stream_management(e);
  } else {
    session_.stream_error("unsupported-stanza-type", "unexpected <" + e.name() + "/> in " + e.ns());
  }
}

void InboundStream::accept(const std::string& remote, const std::string& local, const char* method) {
  proved_.insert({remote, local});
  methods_[{remote, local}] =
      std::string_view(method) == "SASL EXTERNAL" ? ipc::S2S_AUTH_SASL_EXTERNAL : ipc::S2S_AUTH_DIALBACK;
  session_.established();
  const tls::PeerVerification& v = certificate_for(remote);
  std::string cert = tls::describe_verdict(v, remote);
  if (const DaneVerdict* dane = dane_verdict(remote, local)) {
    // A DANE match stands for PKIX: said so, rather than "not trusted" next to "authenticated".
    if (dane->kind == DaneVerdict::Kind::kMatched && !v.trusted_for(remote))
      cert = remote + "'s certificate is trusted by DANE (" + dane->outcome +
             "; without it: " + tls::describe_shortfall(v, remote) + ")";
    else
      cert += ", " + dane->outcome;
  }
  log::info("s2s inbound %s -> %s from %s (%s, %s): authenticated by %s", remote.c_str(), local.c_str(),
            session_.peer().c_str(), tls_summary().c_str(), cert.c_str(), method);
  if (bidi_) federation_.bidi_ready(session_, local, remote);
}

// XEP-0288 §2: the initiating server asks for a bidirectional stream before it
// authenticates, on a stream that TLS protects where encryption is required (Session has
// refused anything else on such a stream already).
void InboundStream::bidi(const xml::Element&) {
  const std::string& local = session_.host();
  const std::string& remote = session_.peer_domain();
  std::string why;
  std::string_view condition = "policy-violation";
  if (!federation_.policy().bidi(local)) {
    condition = "unsupported-stanza-type";
    why = "bidirectional streams are not enabled for " + local;
  } else if (sasl_done_ || !proved_.empty()) {
    why = "a bidirectional stream is asked for before authentication (XEP-0288)";
  } else if (!session_.encrypted() && federation_.policy().require_encryption(local)) {
    why = "encryption is required: use STARTTLS";
  }
  if (why.empty()) {
    bidi_ = true;
    return;
  }
  log_refusal(remote, local, "bidi", why);
  session_.stream_error(condition, why);
}

void InboundStream::drained() { federation_.bidi_drained(session_); }

void InboundStream::log_refusal(const std::string& remote, const std::string& local, const char* method,
                                const std::string& why) {
  log::warning("s2s inbound %s -> %s from %s (%s): %s refused: %s", remote.c_str(), local.c_str(),
               session_.peer().c_str(), tls_summary().c_str(), method, why.c_str());
  if (!remote.empty()) federation_.inbound_refused(local, remote, why);
}

// s2s_blacklist and s2s_whitelist: a refused domain is told so, and a stream that proves
// nothing else ends.
bool InboundStream::refused_domain(const std::string& remote, const std::string& local, const char* method) {
  std::string why = federation_.policy().domain_refusal(local, remote);
  if (why.empty()) return false;
  log_refusal(remote, local, method, why);
  if (proved_.empty())
    session_.stream_error("policy-violation", why);
  else
    session_.send(dialback_error("result", local, remote, {}, "cancel", "not-allowed", why));
  return true;
}

// XEP-0178: the authorization identity, if any, must be the domain of the stream header, and
// the certificate must be trusted and valid for it.
void InboundStream::sasl(const xml::Element& auth) {
  const std::string& local = session_.host();
  const std::string& remote = session_.peer_domain();
  auto fail = [&](const std::string& why) {
    log_refusal(remote, local, "SASL EXTERNAL", why);
    session_.send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>");
  };
  if (sasl_done_ || auth.attribute_or("mechanism") != "EXTERNAL") {
    fail("mechanism not offered");
    return;
  }
  std::string authzid = trim_xml_space(auth.text());
  if (!authzid.empty() && authzid != "=") {
    auto decoded = base64_decode(authzid);
    auto domain = decoded ? xmpp::prepare_domainpart(*decoded) : std::nullopt;
    authzid = domain ? *domain : std::string("(not a domain)");
  } else {
    authzid.clear();
  }
  if (remote.empty() || (!authzid.empty() && authzid != remote)) {
    fail("the authorization identity \"" + authzid + "\" is not the stream's 'from' \"" + remote + "\"");
    return;
  }
  if (federation_.policy().is_local(remote)) {
    fail(remote + " is a domain of this server");
    return;
  }
  if (refused_domain(remote, local, "SASL EXTERNAL")) return;
  if (!certified(remote, local)) {
    fail(shortfall(remote, local));
    return;
  }
  sasl_done_ = true;
  accept(remote, local, "SASL EXTERNAL");
  session_.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  session_.restart();
  held_.clear();  // sent on the stream that ends here, while DANE was looked up
}

void InboundStream::db_result(const xml::Element& result) {
  // Named copies rather than a structured binding, which clang 14 cannot capture below.
  DialbackFields fields = dialback_fields(result);
  const std::string& remote = fields.remote;
  const std::string& local = fields.local;
  const std::string& key = fields.key;
  if (remote.empty() || local.empty() || key.empty()) {
    session_.stream_error("improper-addressing", "db:result needs a domain in 'from', 'to' and a key");
    return;
  }
  // Keys are hex digests (XEP-0185) in practice; a longer one would only travel to a third
  // party in our db:verify.
  if (key.size() > kMaxDialbackKey) {
    session_.stream_error("policy-violation", "dialback key longer than " + std::to_string(kMaxDialbackKey));
    return;
  }
  // Each claimed domain may cost an outbound connection: a stream claims only so many.
  claimed_.insert(remote);
  if (claimed_.size() > kMaxClaimedDomains) {
    session_.stream_error("policy-violation", "too many domains on one stream");
    return;
  }
  auto refuse = [&](std::string_view condition, const std::string& why) {
    log_refusal(remote, local, "dialback", why);
    session_.send(dialback_error("result", local, remote, {}, "cancel", condition, why));
  };
  if (!federation_.policy().is_local(local)) {
    refuse("item-not-found", local + " is not served here");
    return;
  }
  if (!federation_.policy().enabled(local)) {
    refuse("not-allowed", std::string(kS2sDisabledText));
    return;
  }
  if (federation_.policy().is_local(remote)) {
    refuse("not-authorized", remote + " is a domain of this server");
    return;
  }
  if (refused_domain(remote, local, "dialback")) return;
  if (!session_.encrypted() && federation_.policy().require_encryption(local)) {
    if (proved_.empty())
      session_.stream_error("policy-violation", "encryption is required: use STARTTLS");
    else
      refuse("policy-violation", "encryption is required for " + local);
    return;
  }
  // Where a certificate is required, only a certificate can prove the domain: dialback then
  // rests on it (XEP-0344), each claimed domain on its own check.
  bool required = federation_.policy().requires_certificate(local, remote);
  if (required && !certified(remote, local)) {
    std::string why = certificate_required(local, remote, shortfall(remote, local));
    log_refusal(remote, local, "dialback", why);
    // A stream already carrying other proven domains keeps them (XEP-0220 §2.4); a stream
    // with nothing else ends.
    if (proved_.empty())
      session_.stream_error("not-authorized", why);
    else
      session_.send(dialback_error("result", local, remote, {}, "auth", "not-authorized", why));
    return;
  }
  if (verifying_.count({remote, local})) return;
  if (proved_.count({remote, local})) {
    session_.send(dialback_element("result", local, remote, {}, "valid", {}));
    return;
  }
  // The certificate proves the domain as well as a callback would (XEP-0344 §2.4).
  if (certified(remote, local) && (required || federation_.policy().dialback_without_dialback(local))) {
    accept(remote, local, kCertifiedDialback);
    session_.send(dialback_element("result", local, remote, {}, "valid", {}));
    return;
  }
  std::uint64_t id = federation_.verify(
      local, remote, session_.stream_id(), key, reinterpret_cast<std::uintptr_t>(this), session_.peer(),
      [this, remote, local](DialbackVerdict verdict, std::string why) { verified(remote, local, verdict, why); });
  if (id != 0) verifying_[{remote, local}] = id;
}

void InboundStream::verified(const std::string& remote, const std::string& local, DialbackVerdict verdict,
                             const std::string& why) {
  verifying_.erase({remote, local});
  if (verdict == DialbackVerdict::kValid) {
    accept(remote, local, "dialback");
    session_.send(dialback_element("result", local, remote, {}, "valid", {}));
    return;
  }
  if (verdict == DialbackVerdict::kInvalid) {
    log_refusal(remote, local, "dialback", "the authoritative server says the key is invalid");
    session_.send(dialback_element("result", local, remote, {}, "invalid", {}));
    if (proved_.empty()) session_.stream_error("not-authorized", "the dialback key of " + remote + " is invalid");
    return;
  }
  if (verdict == DialbackVerdict::kBusy) {
    log_refusal(remote, local, "dialback", why);
    session_.send(dialback_error("result", local, remote, {}, "wait", "resource-constraint", why));
    return;
  }
  // The details (addresses tried, connection errors, the other server's own error text) are
  // for our log only: told to the peer, they would make this server a probe of wherever the
  // claimed domain's DNS points, its own network included.
  log_refusal(remote, local, "dialback", "cannot ask the authoritative server: " + why);
  session_.send(
      dialback_error("result", local, remote, {}, "cancel", "remote-server-not-found", std::string(kUnreachableText)));
}

// We are the authoritative server: was this the key we gave for that stream?
void InboundStream::db_verify(const xml::Element& verify) {
  DialbackFields fields = dialback_fields(verify);
  const std::string& remote = fields.remote;
  const std::string& local = fields.local;
  const std::string& id = fields.id;
  const std::string& key = fields.key;
  if (remote.empty() || local.empty() || id.empty()) {
    session_.stream_error("improper-addressing", "db:verify needs 'from', 'to' and 'id'");
    return;
  }
  if (!federation_.policy().is_local(local)) {
    session_.send(dialback_error("verify", local, remote, id, "cancel", "item-not-found", local + " is not served here"));
    return;
  }
  bool valid = federation_.dialback_keys().matches(remote, local, id, key);
  log::info("s2s inbound from %s: dialback key for %s -> %s (stream %s) is %s", session_.peer().c_str(), local.c_str(),
            remote.c_str(), id.c_str(), valid ? "valid" : "invalid");
  session_.send(dialback_element("verify", local, remote, id, valid ? "valid" : "invalid", {}));
}

void InboundStream::stanza(xml::Element stanza) {
  StanzaCheck check = check_stanza(stanza, proved_, federation_.policy());
  if (!check.accepted()) {
    if (check.condition != "improper-addressing")
      log::warning("s2s inbound from %s: %s", session_.peer().c_str(), check.log.c_str());
    session_.stream_error(check.condition, check.text);
    return;
  }
  if (sm_) acks_.handled();
  federation_.deliver(session_, check.from_domain, check.to_domain, stanza);
}

void InboundStream::stream_management(const xml::Element& e) {
  if (e.name() == "enable") {
    // XEP-0198 §3: after authentication, once. No resumption on s2s (as Prosody): whatever
    // 'resume' asks, <enabled/> offers none.
    if (!federation_.policy().stream_management(session_.host())) {
      session_.send(
          "<failed xmlns='urn:xmpp:sm:3'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
          "</failed>");
      return;
    }
    if (sm_ || proved_.empty()) {
      session_.send(
          "<failed xmlns='urn:xmpp:sm:3'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
          "</failed>");
      return;
    }
    sm_ = true;
    session_.send("<enabled xmlns='urn:xmpp:sm:3'/>");
    log::info("s2s inbound %s -> %s from %s: acknowledgements (XEP-0198) enabled", session_.peer_domain().c_str(),
              session_.host().c_str(), session_.peer().c_str());
  } else if (e.name() == "r" && sm_) {
    session_.send("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(acks_.h()) + "'/>");
  } else if (e.name() == "a" && sm_) {
    std::optional<std::uint32_t> h = parse_h(e.attribute_or("h"));
    if (!h) {
      session_.stream_error("invalid-xml", "<a/> needs 'h', a count of stanzas");
      return;
    }
    if (!acks_.acknowledge(*h)) {
      log::warning("s2s inbound from %s: acknowledged %u stanzas, more than were sent", session_.peer().c_str(), *h);
      session_.stream_error("undefined-condition", "more stanzas acknowledged than were sent",
                            "<handled-count-too-high xmlns='urn:xmpp:sm:3' h='" + std::to_string(*h) +
                                "' send-count='" + std::to_string(acks_.sent_count()) + "'/>");
    }
  } else if (e.name() != "r" && e.name() != "a") {
    session_.stream_error("unsupported-stanza-type", "unexpected <" + e.name() + "/> in " + e.ns());
  }
  // <r/> and <a/> before <enable/> are ignored, as Prosody does.
}

void InboundStream::closed() {}

void InboundStream::before_close() {
  if (sm_) session_.send("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(acks_.h()) + "'/>");
}

}  // namespace xmppd::s2s
