#include "s2s-worker/outbound.h"

#include "common/base64.h"
#include "common/log.h"
#include "s2s-worker/dialback_key.h"
#include "s2s-worker/s2s_xml.h"
#include "tls/acceptor.h"

namespace xmppd::s2s {
namespace {

std::string attribute_or_empty(const xml::Element& e, std::string_view name) {
  const std::string* v = e.attribute(name);
  return v != nullptr ? *v : std::string();
}

std::string stream_error_text(const xml::Element& error) {
  std::string condition = "undefined-condition", text;
  for (const xml::Element* c : error.children()) {
    if (c->ns() != kStreamErrorNs) continue;
    if (c->name() == "text")
      text = c->text();
    else
      condition = c->name();
  }
  return text.empty() ? condition : condition + " (" + text + ")";
}

std::string stanza_error_text(const xml::Element& e) {
  const xml::Element* error = e.child(kDialbackNs, "error");
  if (error == nullptr) error = e.child(kServerNs, "error");
  if (error == nullptr) return "error";
  std::string condition = "undefined-condition", text;
  for (const xml::Element* c : error->children()) {
    if (c->name() == "text")
      text = c->text();
    else
      condition = c->name();
  }
  return text.empty() ? condition : condition + " (" + text + ")";
}

}  // namespace

OutboundStream::OutboundStream(Federation& federation, std::string local, std::string remote)
    : federation_(federation), local_(std::move(local)), remote_(std::move(remote)),
      parser_(*this, xml::ParserLimits{federation.policy().max_stanza_bytes(local_)}) {
  timer_.reset(evtimer_new(federation_.base(), on_timer, this));
}

OutboundStream::~OutboundStream() = default;

void OutboundStream::start() {
  timeval tv{static_cast<time_t>(federation_.policy().timeout(local_).count()), 0};
  event_add(timer_.get(), &tv);
  if (federation_.resolver() == nullptr) {
    fail("no DNS resolver");
    return;
  }
  attempt_ = std::make_unique<ConnectAttempt>(
      federation_.base(), *federation_.resolver(), remote_, [this](Connected c) { connected(std::move(c)); },
      [this](std::string why) { fail(why); });
  attempt_->start();
}

void OutboundStream::connected(Connected connection) {
  target_ = connection.target;
  address_ = connection.address;
  header_seen_ = false;
  connected_once_ = true;
  sasl_tried_ = false;
  peer_dialback_ = false;
  if (transport_) retired_.push_back(std::move(transport_));
  transport_ = std::make_unique<stream::Transport>(federation_.base(), std::move(connection.fd), address_,
                                                  static_cast<stream::Transport::Events&>(*this));
  log::info("s2s outbound %s -> %s: connected to %s (%s:%u, %s, DNS %s)", local_.c_str(), remote_.c_str(),
            address_.c_str(), target_.host.c_str(), target_.port, target_.direct_tls ? "direct TLS" : "STARTTLS",
            connection.dnssec_secure ? "DNSSEC-validated" : "not validated");
  if (target_.direct_tls) {
    state_ = State::kTlsHandshake;
    transport_->start_tls(federation_.client_contexts()->new_ssl(local_, remote_), stream::Transport::TlsSide::kClient);
    transport_->start();
    return;
  }
  transport_->start();
  open_stream();
}

void OutboundStream::open_stream() {
  state_ = state_ == State::kSaslRestart ? State::kSaslRestart : State::kOpening;
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
  if (!parser_.feed(bytes)) fail("the peer sent bad XML: " + parser_.error_text());
}

void OutboundStream::stream_opened(const xml::Element& header) {
  const std::string* ns = header.attribute("xmlns");
  if (ns == nullptr || *ns != kServerNs) {
    fail("the peer's stream is not in jabber:server");
    return;
  }
  header_seen_ = true;
  stream_id_ = attribute_or_empty(header, "id");
  // A server without version='1.0' sends no features: it can only do dialback.
  if (attribute_or_empty(header, "version") != "1.0") {
    peer_dialback_ = true;
    xml::Element none(std::string(kStreamNs), "features");
    secured(none);
  }
}

void OutboundStream::element(xml::Element e, std::size_t) {
  if (state_ == State::kDone) return;
  if (e.is(kStreamNs, "error")) {
    fail("the peer ended the stream: " + stream_error_text(e));
  } else if (e.is(kStreamNs, "features")) {
    if (state_ == State::kSaslRestart)
      become_ready();
    else
      secured(e);
  } else if (e.is(kTlsNs, "proceed") && state_ == State::kStarttls) {
    state_ = State::kTlsHandshake;
    transport_->start_tls(federation_.client_contexts()->new_ssl(local_, remote_), stream::Transport::TlsSide::kClient);
  } else if (e.is(kTlsNs, "failure")) {
    fail("the peer refused STARTTLS", true);
  } else if (e.is(kSaslNs, "success") && state_ == State::kAuthenticating) {
    log::info("s2s outbound %s -> %s via %s (%s): authenticated by SASL EXTERNAL", local_.c_str(), remote_.c_str(),
              address_.c_str(), tls_summary().c_str());
    state_ = State::kSaslRestart;
    open_stream();
  } else if (e.is(kSaslNs, "failure") && state_ == State::kAuthenticating) {
    log::info("s2s outbound %s -> %s: SASL EXTERNAL refused by the peer; trying dialback", local_.c_str(),
              remote_.c_str());
    try_dialback();
  } else if (e.is(kDialbackNs, "result")) {
    dialback_answer(e);
  } else if (e.is(kDialbackNs, "verify")) {
    std::string id = attribute_or_empty(e, "id");
    auto it = by_stream_id_.find(id);
    if (it == by_stream_id_.end()) return;
    std::string type = attribute_or_empty(e, "type");
    std::uint64_t request = it->second;
    by_stream_id_.erase(it);
    federation_.verify_answered(request,
                                type == "valid"     ? DialbackVerdict::kValid
                                : type == "invalid" ? DialbackVerdict::kInvalid
                                                    : DialbackVerdict::kError,
                                type == "error" ? stanza_error_text(e) : type);
  }
  // Anything else on an outbound stream (stanzas included: server streams go one way) is
  // not ours to act on.
}

// The answer to a db:result of ours: for the stream's own domain, it decides the stream; for
// a piggybacked domain, only that domain (XEP-0220 §2.4: errors do not end the stream).
void OutboundStream::dialback_answer(const xml::Element& result) {
  std::string type = attribute_or_empty(result, "type");
  std::string local = attribute_or_empty(result, "to");
  std::string why = type == "valid" ? "" : type == "invalid" ? "the peer refused our dialback key"
                                                              : "dialback error from the peer: " + stanza_error_text(result);
  auto extra = extra_locals_.find(local);
  if (extra != extra_locals_.end() && !extra->second) {
    log::info("s2s outbound %s -> %s via %s (%s): %s", local.c_str(), remote_.c_str(), address_.c_str(),
              tls_summary().c_str(), why.empty() ? "added to the stream by dialback" : why.c_str());
    if (why.empty()) {
      extra->second = true;
      federation_.stream_ready(*this, local);
    } else {
      extra_locals_.erase(extra);
      federation_.piggyback_failed(*this, local, why);
    }
    return;
  }
  if (state_ != State::kAuthenticating || (!local.empty() && local != local_)) return;
  if (!why.empty()) {
    fail(why);
    return;
  }
  log::info("s2s outbound %s -> %s via %s (%s): authenticated by dialback", local_.c_str(), remote_.c_str(),
            address_.c_str(), tls_summary().c_str());
  become_ready();
}

bool OutboundStream::ready_for(const std::string& local) const {
  if (state_ != State::kReady) return false;
  if (local == local_) return true;
  auto it = extra_locals_.find(local);
  return it != extra_locals_.end() && it->second;
}

bool OutboundStream::add_local(const std::string& local) {
  if (state_ != State::kReady || !peer_dialback_ || extra_locals_.count(local) || local == local_) return false;
  if (federation_.policy().requires_certificate(local, remote_) && !certificate_.trusted_for(remote_)) return false;
  std::string key = dialback_key(federation_.secret(), remote_, local, stream_id_);
  if (key.empty()) return false;
  extra_locals_[local] = false;
  transport_->send(dialback_element("result", local, remote_, {}, {}, key));
  return true;
}

void OutboundStream::stream_closed() { fail("the peer closed the stream"); }

// Features of a stream not yet known to be encrypted, or after TLS.
void OutboundStream::secured(const xml::Element& features) {
  if (!transport_->encrypted()) {
    bool offered = features.child(kTlsNs, "starttls") != nullptr;
    // A missing offer while encryption is required may be a stripped feature: ask anyway,
    // and give up if the peer cannot.
    if (offered || federation_.policy().require_encryption(local_)) {
      state_ = State::kStarttls;
      transport_->send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
      return;
    }
  }
  for (const xml::Element* c : features.children())
    if (c->is(kDialbackFeatureNs, "dialback")) peer_dialback_ = true;
  if (const xml::Element* limits = features.child(kLimitsNs, "limits"))
    if (const xml::Element* max = limits->child(kLimitsNs, "max-bytes")) {
      try {
        peer_max_bytes_ = std::stoul(max->text());
      } catch (...) {
        peer_max_bytes_ = 0;
      }
    }
  authenticate(features);
}

void OutboundStream::tls_established() {
  check_certificate();
  if (state_ == State::kDone) return;
  open_stream();
}

std::string OutboundStream::tls_summary() const {
  if (!transport_ || !transport_->encrypted()) return "no TLS";
  std::string s = tls::describe_session(transport_->ssl());
  s += ", certificate ";
  s += tls::describe(certificate_.chain);
  s += ", ";
  s += tls::describe(certificate_.identity);
  return s;
}

void OutboundStream::check_certificate() {
  SSL* ssl = transport_->ssl();
  X509* leaf = SSL_get0_peer_certificate(ssl);
  X509_STORE* store = federation_.trust().for_host(local_);
  certificate_ = tls::PeerVerification();
  if (leaf != nullptr && store != nullptr)
    certificate_ = tls::verify_peer(leaf, SSL_get_peer_cert_chain(ssl), store, remote_);
  if (!certificate_.trusted_for(remote_) && federation_.policy().requires_certificate(local_, remote_)) {
    std::string why = "the certificate of " + remote_ + " is " + tls::describe(certificate_.chain) + ", " +
                      tls::describe(certificate_.identity);
    if (!certificate_.detail.empty()) why += " (" + certificate_.detail + ")";
    log::warning("s2s outbound %s -> %s via %s (%s): refused: %s", local_.c_str(), remote_.c_str(), address_.c_str(),
                 tls_summary().c_str(), why.c_str());
    transport_->send("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                     "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:error><not-authorized "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>");
    fail(why);
  }
}

void OutboundStream::authenticate(const xml::Element& features) {
  state_ = State::kAuthenticating;
  flush_verifies();
  bool external = false;
  if (const xml::Element* mechanisms = features.child(kSaslNs, "mechanisms"))
    for (const xml::Element* m : mechanisms->children()) external |= m->text() == "EXTERNAL";
  // Our certificate went out only under TLS 1.3 (tls/client_contexts.cc).
  bool presented = transport_->encrypted() && SSL_version(transport_->ssl()) >= TLS1_3_VERSION;
  if (external && presented && !sasl_tried_) {
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
  std::string key = dialback_key(federation_.secret(), remote_, local_, stream_id_);
  if (key.empty()) {
    fail("no dialback key can be made");
    return;
  }
  state_ = State::kAuthenticating;
  transport_->send(dialback_element("result", local_, remote_, {}, {}, key));
}

void OutboundStream::become_ready() {
  state_ = State::kReady;
  attempt_.reset();
  event_del(timer_.get());
  timeval tv{kKeepAliveSeconds, 0};
  event_free(timer_.release());
  timer_.reset(event_new(federation_.base(), -1, EV_PERSIST, on_timer, this));
  event_add(timer_.get(), &tv);
  federation_.stream_ready(*this, local_);
}

bool OutboundStream::send_stanza(std::string_view xml) {
  if (peer_max_bytes_ != 0 && xml.size() > peer_max_bytes_) return false;
  sent_since_tick_ = true;
  idle_ticks_ = 0;
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
  for (const Verify& v : verifies_) {
    by_stream_id_[v.stream_id] = v.request;
    transport_->send(dialback_element("verify", v.local, remote_, v.stream_id, {}, v.key));
  }
  verifies_.clear();
}

void OutboundStream::on_timer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<OutboundStream*>(arg);
  if (self->state_ != State::kReady) {
    self->fail("authentication did not complete within " +
               std::to_string(self->federation_.policy().timeout(self->local_).count()) + " s");
    return;
  }
  if (++self->idle_ticks_ * kKeepAliveSeconds >= kIdleSeconds) {
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
  if (transport_) {
    transport_->send("</stream:stream>");
    transport_->close();
  }
  fail("closed");
}

void OutboundStream::closed(std::string_view why) {
  if (state_ == State::kDone) return;
  // A connection lost before the peer said anything may be a bad address or a broken
  // TLS path: the next address or target may do better.
  fail("connection to " + address_ + " lost: " + std::string(why), !header_seen_ || state_ == State::kTlsHandshake);
}

void OutboundStream::fail(const std::string& why, bool retry_next_address) {
  if (state_ == State::kDone) return;
  if (retry_next_address && attempt_ && state_ != State::kReady) {
    log::info("s2s outbound %s -> %s: %s; trying the next address", local_.c_str(), remote_.c_str(), why.c_str());
    state_ = State::kConnecting;
    attempt_->resume(why);
    return;
  }
  bool was_ready = state_ == State::kReady;
  // RFC 6120 §8.3.3: not-found when no server could be reached at all, timeout when one
  // was reached but the stream did not become usable in time (or at all).
  bool never_connected = !connected_once_;
  state_ = State::kDone;
  event_del(timer_.get());
  attempt_.reset();
  for (const auto& [id, request] : by_stream_id_) federation_.verify_answered(request, DialbackVerdict::kError, why);
  by_stream_id_.clear();
  for (const Verify& v : verifies_) federation_.verify_answered(v.request, DialbackVerdict::kError, why);
  verifies_.clear();
  if (transport_) transport_->close();
  if (!was_ready && why != "closed" && connected_once_)
    log::warning("s2s outbound %s -> %s via %s (%s): Server-to-server connection failed: %s", local_.c_str(),
                 remote_.c_str(), address_.c_str(), tls_summary().c_str(), why.c_str());
  else if (!was_ready && why != "closed")
    log::warning("s2s outbound %s -> %s: Server-to-server connection failed: %s", local_.c_str(), remote_.c_str(),
                 why.c_str());
  federation_.stream_failed(*this, never_connected, why);
}

}  // namespace xmppd::s2s
