#include "s2s-worker/outbound.h"

#include "common/base64.h"
#include "common/log.h"
#include "s2s-worker/dialback_key_ring.h"
#include "s2s-worker/s2s_xml.h"
#include "s2s-worker/stanza_check.h"
#include "tls/peer_verify.h"

namespace xmppd::s2s {
namespace {

// "condition (text)" of a stream error or of the <error/> inside a dialback answer.
std::string error_text(const xml::Element* error, std::string_view ns) {
  if (error == nullptr) return "error";
  std::string condition = "undefined-condition", text;
  for (const xml::Element* c : error->children()) {
    if (!ns.empty() && c->ns() != ns) continue;
    if (c->name() == "text")
      text = c->text();
    else
      condition = c->name();
  }
  return text.empty() ? condition : condition + " (" + text + ")";
}

std::string dialback_error_text(const xml::Element& e) {
  const xml::Element* error = e.child(kDialbackNs, "error");
  if (error == nullptr) error = e.child(kServerNs, "error");
  return error_text(error, kStanzaErrorNs);
}

}  // namespace

OutboundStream::OutboundStream(Federation& federation, std::string local, std::string remote)
    : federation_(federation), local_(std::move(local)), remote_(std::move(remote)),
      parser_(*this, xml::ParserLimits{federation.policy().max_stanza_bytes(local_)}) {
  timer_.reset(evtimer_new(federation_.base(), on_timer, this));
  timeval now;
  event_base_gettimeofday_cached(federation_.base(), &now);
  started_ = last_received_ = now.tv_sec;
}

OutboundStream::~OutboundStream() {
  // Connections still closing must not report to a stream that is gone.
  if (sink_) sink_->stream = nullptr;
  for (auto& [sink, transport] : retired_) sink->stream = nullptr;
}

void OutboundStream::start() {
  timeval tv{static_cast<time_t>(federation_.policy().timeout(local_).count()), 0};
  event_add(timer_.get(), &tv);
  connect();
}

void OutboundStream::connect() {
  attempt_ = std::make_unique<ConnectAttempt>(
      federation_.base(), *federation_.resolver(), remote_, federation_.allow_private_addresses(),
      [this](Connected c) { connected(std::move(c)); }, [this](std::string why) { fail(why); });
  attempt_->set_dane(federation_.policy().use_dane(local_));
  attempt_->start();
}

void OutboundStream::retire_transport() {
  if (!transport_) return;
  sink_->stream = nullptr;
  transport_->close();
  retired_.emplace_back(std::move(sink_), std::move(transport_));
}

void OutboundStream::connected(Connected connection) {
  retire_transport();
  target_ = connection.target;
  address_ = connection.address;
  header_seen_ = false;
  connected_once_ = true;
  sasl_tried_ = false;
  sasl_done_ = false;
  dialback_sent_ = false;
  bidi_ = false;
  peer_dialback_ = false;
  transport_closed_ = false;
  certificate_ = tls::PeerVerification();
  dane_ = std::move(connection.dane);
  dane_outcome_.clear();
  dane_matched_ = false;
  sm_offered_ = false;
  sink_ = std::make_unique<Sink>(this);
  transport_ = std::make_unique<stream::Transport>(federation_.base(), std::move(connection.fd), address_, *sink_);
  transport_->set_rate_limit(federation_.outbound_rate());
  log::info("s2s outbound %s -> %s: connected to %s (%s:%u, %s, DNS %s)", local_.c_str(), remote_.c_str(),
            address_.c_str(), target_.host.c_str(), target_.port, target_.direct_tls ? "direct TLS" : "STARTTLS",
            connection.dnssec_secure ? "DNSSEC-validated" : "not validated");
  if (target_.direct_tls) {
    state_ = State::kTlsHandshake;
    transport_->start_tls(federation_.client_contexts()->new_ssl(local_, remote_), stream::Transport::TlsSide::kClient);
    transport_->start();
    return;
  }
  state_ = State::kOpening;
  transport_->start();
  open_stream();
}

void OutboundStream::open_stream() {
  parser_.reset();
  std::string out =
      "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
      "xmlns:db='jabber:server:dialback' version='1.0' xml:lang='en' from='";
  xml::escape(out, local_, true);
  out += "' to='";
  xml::escape(out, remote_, true);
  out += "'>";
  transport_->send(out);
}

void OutboundStream::received(std::string_view bytes) {
  if (state_ == State::kDone) return;
  timeval now;
  event_base_gettimeofday_cached(federation_.base(), &now);
  last_received_ = now.tv_sec;
  if (!parser_.feed(bytes)) fail("the peer sent bad XML: " + parser_.error_text());
}

void OutboundStream::stream_opened(const xml::Element& header) {
  const std::string* ns = header.attribute("xmlns");
  if (ns == nullptr || *ns != kServerNs) {
    fail("the peer's stream is not in jabber:server");
    return;
  }
  header_seen_ = true;
  stream_id_ = header.attribute_or("id");
  // A server without version='1.0' sends no features: it can only do dialback.
  if (header.attribute_or("version") != "1.0") {
    peer_dialback_ = true;
    xml::Element none(std::string(kStreamNs), "features");
    secured(none);
  }
}

void OutboundStream::element(xml::Element e, std::size_t) {
  if (state_ == State::kDone) return;
  if (e.is(kStreamNs, "error")) {
    fail("the peer ended the stream: " + error_text(&e, kStreamErrorNs));
  } else if (e.is(kStreamNs, "features")) {
    if (state_ == State::kSaslRestart) {
      read_limits(e);
      // After authentication the features say again what the peer offers (Prosody offers
      // stream management only here).
      sm_offered_ = e.child(kSmNs, "sm") != nullptr;
      become_ready();
    } else if (state_ == State::kOpening) {
      secured(e);
    }
  } else if (e.is(kTlsNs, "proceed") && state_ == State::kStarttls) {
    state_ = State::kTlsHandshake;
    // Whatever came after <proceed/> in plaintext is not part of the new stream.
    parser_.reset();
    transport_->start_tls(federation_.client_contexts()->new_ssl(local_, remote_), stream::Transport::TlsSide::kClient);
  } else if (e.is(kTlsNs, "failure") && state_ == State::kStarttls) {
    fail("the peer refused STARTTLS", true);
  } else if (e.is(kSaslNs, "success") && state_ == State::kAuthenticating && sasl_tried_ && !dialback_sent_) {
    log::info("s2s outbound %s -> %s via %s (%s): authenticated by SASL EXTERNAL", local_.c_str(), remote_.c_str(),
              address_.c_str(), tls_summary().c_str());
    state_ = State::kSaslRestart;
    sasl_done_ = true;
    open_stream();
  } else if (e.is(kSaslNs, "failure") && state_ == State::kAuthenticating && sasl_tried_ && !dialback_sent_) {
    log::info("s2s outbound %s -> %s: SASL EXTERNAL refused by the peer; trying dialback", local_.c_str(),
              remote_.c_str());
    try_dialback();
  } else if (e.is(kDialbackNs, "result")) {
    dialback_answer(e);
  } else if (e.is(kDialbackNs, "verify")) {
    verify_answer(e);
  } else if (e.ns() == kSmNs && state_ == State::kReady) {
    stream_management_element(e);
  } else if (bidi_ && e.ns() == kServerNs && (e.name() == "message" || e.name() == "presence" || e.name() == "iq")) {
    peer_stanza(std::move(e));
  }
  // Anything else on an outbound stream (stanzas included, unless it is bidirectional) is
  // not ours to act on.
}

void OutboundStream::stream_closed() {
  if (!retry_without_external("the peer closed the stream")) fail("the peer closed the stream");
}

// ejabberd 23.01 closes the connection when our <auth mechanism='EXTERNAL'/> comes with a
// certificate that has an id-on-xmppAddr name (its inbound s2s crashes on it). A peer that
// offered dialback as well then gets a new connection on which dialback is used; the next
// SASL failure or close is final.
bool OutboundStream::retry_without_external(const std::string& why) {
  if (state_ != State::kAuthenticating || !sasl_tried_ || dialback_sent_ || !peer_dialback_ || external_broke_peer_)
    return false;
  external_broke_peer_ = true;
  log::warning("s2s outbound %s -> %s via %s: %s in answer to SASL EXTERNAL; connecting again to use dialback",
               local_.c_str(), remote_.c_str(), address_.c_str(), why.c_str());
  retire_transport();
  state_ = State::kConnecting;
  connect();
  return true;
}

void OutboundStream::read_limits(const xml::Element& features) {
  const xml::Element* limits = features.child(kLimitsNs, "limits");
  const xml::Element* max = limits != nullptr ? limits->child(kLimitsNs, "max-bytes") : nullptr;
  if (max == nullptr) return;
  char* end = nullptr;
  std::string text = max->text();
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  peer_max_bytes_ = end != text.c_str() && *end == '\0' ? static_cast<std::size_t>(value) : 0;
}

// Features of a stream before TLS, or after it.
void OutboundStream::secured(const xml::Element& features) {
  if (!transport_->encrypted()) {
    bool offered = features.child(kTlsNs, "starttls") != nullptr;
    // A missing offer where encryption (or a certificate) is required may be a stripped
    // feature: ask anyway, and give up if the peer cannot.
    if (offered || federation_.policy().require_encryption(local_) || dane_.state == DaneLookup::State::kRecords ||
        federation_.policy().requires_certificate(local_, remote_)) {
      state_ = State::kStarttls;
      transport_->send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
      return;
    }
  }
  for (const xml::Element* c : features.children())
    if (c->is(kDialbackFeatureNs, "dialback")) peer_dialback_ = true;
  sm_offered_ = features.child(kSmNs, "sm") != nullptr;
  read_limits(features);
  request_bidi(features);
  authenticate(features);
}

// XEP-0288 §2: before authentication, and (as Prosody) only on a stream encrypted where
// encryption is required.
void OutboundStream::request_bidi(const xml::Element& features) {
  if (features.child(kBidiFeatureNs, "bidi") == nullptr || !federation_.policy().bidi(local_)) return;
  if (!transport_->encrypted() && federation_.policy().require_encryption(local_)) return;
  bidi_ = true;
  transport_->send("<bidi xmlns='urn:xmpp:bidi'/>");
}

// The peer has proved the remote domain to the local domains of this stream (its own, and
// those added by dialback): only stanzas between those pairs are taken.
void OutboundStream::peer_stanza(xml::Element stanza) {
  ProvedPairs proved;
  if (state_ == State::kReady) {
    proved.insert({remote_, local_});
    for (const auto& [local, extra] : extra_locals_)
      if (extra.accepted) proved.insert({remote_, local});
  }
  StanzaCheck check = check_stanza(stanza, proved, federation_.policy());
  if (!check.accepted()) {
    log::warning("s2s outbound %s -> %s via %s (bidirectional): %s", local_.c_str(), remote_.c_str(), address_.c_str(),
                 check.log.c_str());
    std::string out = "<stream:error><";
    out += check.condition;
    out += " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>";
    xml::escape(out, check.text, false);
    out += "</text></stream:error></stream:stream>";
    transport_->send(out);
    fail("refused a stanza from the peer: " + check.text);
    return;
  }
  // The stream is in use both ways: not idle.
  idle_ticks_ = 0;
  if (sm_peer_enabled_) handled_.handled();
  federation_.deliver(*this, check.from_domain, check.to_domain, stanza);
}

void OutboundStream::tls_established() {
  if (state_ == State::kDone || !check_certificate()) return;
  state_ = State::kOpening;
  open_stream();
}

std::string OutboundStream::tls_summary() const {
  if (!transport_ || transport_->ssl() == nullptr) return "no TLS";
  std::string s = tls::describe_session(transport_->ssl());
  s += ", ";
  s += tls::describe_verdict(certificate_, remote_);
  if (!dane_outcome_.empty()) s += ", " + dane_outcome_;
  return s;
}

// The peer's certificate as `local` sees it: hosts may trust different anchors.
tls::PeerVerification OutboundStream::judge_certificate(const std::string& local) const {
  SSL* ssl = transport_ ? transport_->ssl() : nullptr;
  X509* leaf = ssl != nullptr ? SSL_get0_peer_certificate(ssl) : nullptr;
  X509_STORE* store = federation_.trust().for_host(local);
  if (leaf == nullptr || store == nullptr) return tls::PeerVerification();
  return with_dane(local, tls::verify_peer(leaf, SSL_get_peer_cert_chain(ssl), store, remote_));
}

bool OutboundStream::check_certificate() {
  if (!check_dane()) return false;
  certificate_ = judge_certificate(local_);
  if (certificate_.trusted_for(remote_) || !federation_.policy().requires_certificate(local_, remote_)) return true;
  std::string why = local_ + " requires a trusted certificate valid for " + remote_ + ": " +
                    tls::describe_shortfall(certificate_, remote_);
  log::warning("s2s outbound %s -> %s via %s (%s): refused: %s", local_.c_str(), remote_.c_str(), address_.c_str(),
               tls_summary().c_str(), why.c_str());
  transport_->send(
      "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
      "version='1.0'><stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
      "</stream:stream>");
  fail(why);
  return false;
}

void OutboundStream::authenticate(const xml::Element& features) {
  state_ = State::kAuthenticating;
  // Where a certificate is required, it has been judged after TLS; without TLS there is none.
  if (federation_.policy().requires_certificate(local_, remote_) && !transport_->encrypted()) {
    fail("a trusted certificate is required from " + remote_ + ", and the stream is not encrypted");
    return;
  }
  if (dane_.state == DaneLookup::State::kRecords && !transport_->encrypted()) {
    fail("TLSA records for " + dane_.name + " exist, and the stream is not encrypted");
    return;
  }
  flush_verifies();
  bool external = false;
  if (const xml::Element* mechanisms = features.child(kSaslNs, "mechanisms"))
    for (const xml::Element* m : mechanisms->children()) external |= m->text() == "EXTERNAL";
  // Our certificate went out only under TLS 1.3 (tls/client_contexts.cc).
  bool presented = transport_->encrypted() && SSL_version(transport_->ssl()) >= TLS1_3_VERSION;
  if (external && presented && !sasl_tried_ && !external_broke_peer_) {
    sasl_tried_ = true;
    transport_->send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>" + base64_encode(local_) +
                     "</auth>");
    return;
  }
  try_dialback();
}

void OutboundStream::try_dialback() {
  if (!peer_dialback_) {
    fail("no authentication method in common (SASL EXTERNAL not accepted, dialback not offered)");
    return;
  }
  std::string key = federation_.dialback_keys().make(remote_, local_, stream_id_);
  if (key.empty()) {
    fail("no dialback key can be made");
    return;
  }
  dialback_sent_ = true;
  transport_->send(dialback_element("result", local_, remote_, {}, {}, key));
}

// The answer to a db:result of ours: for the stream's own domain it decides the stream; for
// a piggybacked domain, only that domain (XEP-0220 §2.4: errors do not end the stream).
// Answers nobody asked for are ignored.
void OutboundStream::dialback_answer(const xml::Element& result) {
  if (domain_attribute(result, "from") != remote_) return;
  std::string local = domain_attribute(result, "to");
  std::string type = result.attribute_or("type");
  std::string why = type == "valid"     ? ""
                    : type == "invalid" ? "the peer refused our dialback key"
                                        : "dialback error from the peer: " + dialback_error_text(result);
  auto extra = extra_locals_.find(local);
  if (extra != extra_locals_.end() && !extra->second.accepted) {
    log::info("s2s outbound %s -> %s via %s (%s): %s", local.c_str(), remote_.c_str(), address_.c_str(),
              tls_summary().c_str(), why.empty() ? "added to the stream by dialback" : why.c_str());
    if (why.empty()) {
      extra->second.accepted = true;
      federation_.stream_ready(*this, local);
    } else {
      extra_locals_.erase(extra);
      federation_.piggyback_failed(*this, local, why);
    }
    return;
  }
  if (state_ != State::kAuthenticating || !dialback_sent_ || local != local_) return;
  if (!why.empty()) {
    fail(why);
    return;
  }
  log::info("s2s outbound %s -> %s via %s (%s): authenticated by dialback", local_.c_str(), remote_.c_str(),
            address_.c_str(), tls_summary().c_str());
  become_ready();
}

// XEP-0220 §2.1.2: the answer names the same id, and the addresses of the request swapped.
void OutboundStream::verify_answer(const xml::Element& verify) {
  if (domain_attribute(verify, "from") != remote_) return;
  auto it = waiting_.find({verify.attribute_or("id"), domain_attribute(verify, "to")});
  if (it == waiting_.end()) return;
  std::uint64_t request = it->second;
  waiting_.erase(it);
  std::string type = verify.attribute_or("type");
  federation_.verify_answered(request,
                              type == "valid"     ? DialbackVerdict::kValid
                              : type == "invalid" ? DialbackVerdict::kInvalid
                                                  : DialbackVerdict::kError,
                              type == "valid" || type == "invalid" ? type : dialback_error_text(verify));
}

bool OutboundStream::ready_for(const std::string& local) const {
  if (state_ != State::kReady || !transport_->open()) return false;
  if (local == local_) return true;
  auto it = extra_locals_.find(local);
  return it != extra_locals_.end() && it->second.accepted;
}

bool OutboundStream::add_local(const std::string& local) {
  if (state_ != State::kReady || !peer_dialback_ || extra_locals_.count(local) || local == local_) return false;
  const S2sPolicy& policy = federation_.policy();
  if (policy.require_encryption(local) && !transport_->encrypted()) return false;
  if (policy.requires_certificate(local, remote_) && !judge_certificate(local).trusted_for(remote_)) return false;
  std::string key = federation_.dialback_keys().make(remote_, local, stream_id_);
  if (key.empty()) return false;
  extra_locals_[local] = Extra{std::chrono::steady_clock::now(), false};
  transport_->send(dialback_element("result", local, remote_, {}, {}, key));
  return true;
}

void OutboundStream::become_ready() {
  state_ = State::kReady;
  // Known from here on (the features are read): each stanza compares against one number.
  send_limit_ = peer_max_bytes_ != 0 ? peer_max_bytes_ : federation_.policy().peer_max_stanza_bytes(local_, remote_);
  attempt_.reset();
  // From now on the timer keeps the stream alive, and closes it when it is not used.
  timer_.reset(event_new(federation_.base(), -1, EV_PERSIST, on_timer, this));
  timeval tv{kKeepAliveSeconds, 0};
  event_add(timer_.get(), &tv);
  for (auto& [sink, transport] : retired_) sink->stream = nullptr;
  enable_acks();
  federation_.stream_ready(*this, local_);
}

std::string OutboundStream::size_refusal() const {
  return peer_size_refusal(remote_, send_limit_, peer_max_bytes_ != 0);
}

bool OutboundStream::send_stanza(const std::string& local, std::string_view xml, int resends) {
  if (xml.size() > send_limit_) return false;
  sent_since_tick_ = true;
  idle_ticks_ = 0;
  if (sm_) acks_.sent(AckQueue::Entry{local, std::string(xml), resends});
  transport_->send(xml);
  return true;
}

void OutboundStream::send_verify(std::uint64_t request, const std::string& local, const std::string& stream_id,
                                 const std::string& key) {
  verifies_.push_back(Verify{request, local, stream_id, key});
  if (state_ == State::kAuthenticating || state_ == State::kReady) flush_verifies();
}

// db:verify may go before this stream is authenticated, but not before it is secured.
void OutboundStream::flush_verifies() {
  std::vector<Verify> pending;
  pending.swap(verifies_);
  for (const Verify& v : pending) {
    waiting_[{v.stream_id, v.local}] = v.request;
    transport_->send(dialback_element("verify", v.local, remote_, v.stream_id, {}, v.key));
  }
}

// A piggybacked domain whose db:result is not answered in its s2s_timeout gets a stream of
// its own.
void OutboundStream::expire_piggybacks() {
  auto now = std::chrono::steady_clock::now();
  for (auto it = extra_locals_.begin(); it != extra_locals_.end();) {
    if (it->second.accepted || now - it->second.asked < federation_.policy().timeout(it->first)) {
      ++it;
      continue;
    }
    std::string local = it->first;
    it = extra_locals_.erase(it);
    federation_.piggyback_failed(*this, local, "no answer to dialback");
  }
}

void OutboundStream::on_timer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<OutboundStream*>(arg);
  if (self->state_ == State::kDone) return;
  if (self->state_ != State::kReady) {
    self->fail("authentication did not complete within " +
               std::to_string(self->federation_.policy().timeout(self->local_).count()) + " s");
    return;
  }
  self->expire_piggybacks();
  // Closed for idleness only with nothing unacknowledged: what is would be sent again.
  if (++self->idle_ticks_ * kKeepAliveSeconds >= kIdleSeconds && self->acks_.unacked() == 0) {
    log::info("s2s outbound %s -> %s: idle for %d s; closing", self->local_.c_str(), self->remote_.c_str(),
              kIdleSeconds);
    self->close();
    return;
  }
  // RFC 6120 §4.6.1: whitespace keeps NATs and the peer's idle timer content.
  if (!self->sent_since_tick_) self->transport_->send(" ");
  self->sent_since_tick_ = false;
}

void OutboundStream::close() {
  if (state_ == State::kDone) return;
  closed_by_us_ = true;
  // XEP-0198 §4: what the peer sent us on this (bidirectional) stream is reported, so that
  // it does not send it again.
  if (transport_ && sm_peer_enabled_ && state_ == State::kReady)
    transport_->send("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(handled_.h()) + "'/>");
  if (transport_) transport_->send("</stream:stream>");
  fail("closed");
}

void OutboundStream::closed(std::string_view why) {
  transport_closed_ = true;
  if (state_ == State::kDone) {
    federation_.stream_finished(*this);
    return;
  }
  std::string lost = "connection to " + address_ + " lost: " + std::string(why);
  if (retry_without_external(lost)) return;
  // A connection lost before the peer said anything may be a bad address or a broken
  // TLS path: the next address or target may do better.
  fail(lost, !header_seen_ || state_ == State::kTlsHandshake);
}

void OutboundStream::fail(const std::string& why, bool retry_next_address) {
  if (state_ == State::kDone) return;
  if (retry_next_address && attempt_ && state_ != State::kReady) {
    log::info("s2s outbound %s -> %s: %s; trying the next address", local_.c_str(), remote_.c_str(), why.c_str());
    retire_transport();
    state_ = State::kConnecting;
    attempt_->resume(why);
    return;
  }
  bool was_ready = state_ == State::kReady;
  std::string full = why;
  if (!was_ready && !refused_peer_.empty())
    full += "; " + remote_ + " may be waiting for its own authentication to us, which was refused: " + refused_peer_;
  if (why != "closed") {
    std::string where = connected_once_ ? " via " + address_ + " (" + tls_summary() + ")" : "";
    log::warning("s2s outbound %s -> %s%s: %s: %s", local_.c_str(), remote_.c_str(), where.c_str(),
                 was_ready ? "stream lost" : "Server-to-server connection failed", full.c_str());
  }
  state_ = State::kDone;
  timer_.reset();
  ack_timer_.reset();
  attempt_.reset();
  std::map<VerifyKey, std::uint64_t> waiting;
  waiting.swap(waiting_);
  std::vector<Verify> unsent;
  unsent.swap(verifies_);
  for (const auto& [key, request] : waiting) federation_.verify_answered(request, DialbackVerdict::kError, full);
  for (const Verify& v : unsent) federation_.verify_answered(v.request, DialbackVerdict::kError, full);
  if (transport_) transport_->close();
  // RFC 6120 §8.3.3: not-found when no server could be reached at all, timeout when one
  // was reached but the stream did not become usable in time (or at all).
  federation_.stream_failed(*this, !connected_once_, was_ready, full);
}

}  // namespace xmppd::s2s
