#include "stream/session.h"

#include <openssl/rand.h>

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "tls/peer_verify.h"
#include "xmpp/namespaces.h"

namespace xmppd::stream {
namespace {

using xmpp::kStreamErrorNs;
using xmpp::kTlsNs;

std::string random_id() {
  unsigned char bytes[12];
  RAND_bytes(bytes, sizeof bytes);
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}

}  // namespace

std::string_view stream_ns(StreamKind kind) {
  switch (kind) {
    case StreamKind::kClient: return xmpp::kClientNs;
    case StreamKind::kServer: return xmpp::kServerNs;
    case StreamKind::kComponent: return xmpp::kComponentNs;
  }
  return xmpp::kClientNs;
}

const char* service_name(StreamKind kind) {
  switch (kind) {
    case StreamKind::kClient: return "c2s";
    case StreamKind::kServer: return "s2s";
    case StreamKind::kComponent: return "component";
  }
  return "c2s";
}

namespace {

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

const char* condition_of(xml::ParseError error) {
  switch (error) {
    case xml::ParseError::kRestrictedXml: return "restricted-xml";
    case xml::ParseError::kTooBig:
    case xml::ParseError::kTooComplex: return "policy-violation";
    case xml::ParseError::kBadStreamHeader: return "invalid-namespace";
    case xml::ParseError::kUnsupportedEncoding: return "unsupported-encoding";
    default: return "not-well-formed";
  }
}

}  // namespace

Session::Session(struct event_base* base, UniqueFd fd, std::string peer, SessionConfig config, Gone on_gone)
    : base_(base), config_(config), transport_(base, std::move(fd), std::move(peer), *this),
      parser_(*this, xml::ParserLimits{std::min(config.max_stanza_bytes, kUnauthenticatedStanzaBytes)}),
      on_gone_(std::move(on_gone)), max_stanza_bytes_(config.max_stanza_bytes) {
  timeval now;
  event_base_gettimeofday_cached(base_, &now);
  started_ = last_activity_ = now.tv_sec;
  timeout_.reset(evtimer_new(base, on_timeout, this));
  timeval tv{static_cast<time_t>(std::min(config_.header_timeout, config_.negotiation_timeout).count()), 0};
  event_add(timeout_.get(), &tv);
  transport_.set_rate_limit(config_.rate);
}

void Session::set_negotiation_timeout(std::chrono::seconds timeout) {
  if (!timeout_) return;
  timeval now;
  event_base_gettimeofday_cached(base_, &now);
  time_t left = std::max<time_t>(1, started_ + static_cast<time_t>(timeout.count()) - now.tv_sec);
  timeval tv{left, 0};
  event_add(timeout_.get(), &tv);
}

Session::~Session() = default;

void Session::start() { transport_.start(); }

void Session::relayed(RelayedClient facts) {
  if (facts.secure) transport_.set_secured_elsewhere();
  relayed_ = std::move(facts);
}

void Session::start_direct_tls(tls::SslPtr ssl) {
  direct_tls_ = true;
  transport_.start_tls(std::move(ssl));
}

std::string_view Session::content_ns() const { return stream_ns(config_.kind); }

const char* Session::service() const { return service_name(config_.kind); }

void Session::on_timeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Session*>(arg);
  // Nothing can be said to a peer whose TLS handshake is not done: it is only closed.
  if (self->transport_.negotiating_tls()) {
    log::info("%s connection from %s: TLS handshake not finished in time", self->service(), self->peer().c_str());
    self->ending_ = true;
    self->transport_.abort("TLS handshake not finished in time");
    return;
  }
  if (!self->header_seen_) {
    self->stream_error("connection-timeout", "no stream header within " +
                                                 std::to_string(self->config_.header_timeout.count()) + " seconds");
    return;
  }
  self->stream_error("connection-timeout", "stream negotiation took too long");
}

void Session::apply_stanza_limit() {
  parser_.set_limits(
      xml::ParserLimits{established_ ? max_stanza_bytes_ : std::min(max_stanza_bytes_, kUnauthenticatedStanzaBytes)});
}

void Session::established() {
  established_ = true;
  apply_stanza_limit();
  timeout_.reset();
  ticket_.authenticated();
  if (config_.idle_timeout.count() <= 0 || idle_check_) return;
  idle_check_.reset(event_new(base_, -1, EV_PERSIST, on_idle_check, this));
  timeval tv{static_cast<time_t>(config_.idle_timeout.count()) / 4 + 1, 0};
  event_add(idle_check_.get(), &tv);
}

void Session::on_idle_check(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Session*>(arg);
  timeval now;
  event_base_gettimeofday_cached(self->base_, &now);
  if (now.tv_sec - self->last_activity_ >= self->config_.idle_timeout.count())
    self->stream_error("connection-timeout",
                       "no traffic for " + std::to_string(self->config_.idle_timeout.count()) + " seconds");
}

void Session::hibernate_if_idle(time_t since) {
  if (ending_ || last_activity_ >= since) return;
  if (parser_.hibernate()) transport_.release_buffers();
}

void Session::received(std::string_view bytes) {
  if (ending_) return;
  timeval now;
  event_base_gettimeofday_cached(base_, &now);
  last_activity_ = now.tv_sec;
  if (parser_.feed(bytes)) return;
  // XEP-0478 names the reason, so the peer can tell a size limit from other violations.
  std::string_view detail = parser_.error() == xml::ParseError::kTooBig ? "<stanza-too-big xmlns='urn:xmpp:errors'/>" : "";
  stream_error(condition_of(parser_.error()), parser_.error_text(), detail);
}

void Session::send_header(std::string_view from) {
  std::string out = "<?xml version='1.0'?><stream:stream xmlns='";
  out += content_ns();
  out += "' xmlns:stream='http://etherx.jabber.org/streams'";
  // XEP-0114's streams predate RFC 6120's version and features: none is announced.
  if (config_.kind != StreamKind::kComponent) out += " version='1.0' xml:lang='en'";
  out += " id='";
  out += stream_id_;
  out += "'";
  // Servers that predate XEP-0220's stream feature look for this declaration.
  if (config_.kind == StreamKind::kServer) (out += " xmlns:db='") += std::string(xmpp::kDialbackNs) + "'";
  if (!from.empty()) {
    out += " from='";
    xml::escape(out, from, true);
    out += "'";
  }
  if (!peer_domain_.empty()) {
    out += " to='";
    xml::escape(out, peer_domain_, true);
    out += "'";
  }
  out += ">";
  transport_.send(out);
  header_sent_ = true;
}

void Session::stream_opened(const xml::Element& header) {
  // The header deadline is met: the rest of negotiation has its own, from the start.
  if (!std::exchange(header_seen_, true)) set_negotiation_timeout(config_.negotiation_timeout);
  stream_id_ = random_id();
  if (config_.kind == StreamKind::kServer) {
    const std::string* from = header.attribute("from");
    peer_domain_ = from != nullptr ? lowercase(*from) : std::string();
  }
  const std::string* to = header.attribute("to");
  std::string host = to != nullptr ? lowercase(*to) : std::string();
  bool known = !host.empty() && config_.hosts->count(host) > 0;
  // Answer with our header first: a stream error is only valid inside a stream (§4.9.1.1).
  send_header(known ? host : std::string_view());
  const std::string* ns = header.attribute("xmlns");
  if (ns == nullptr || *ns != content_ns()) {
    stream_error("invalid-namespace", std::string("the stream's namespace must be ") + std::string(content_ns()));
    return;
  }
  const std::string* version = header.attribute("version");
  if (config_.kind != StreamKind::kComponent && (version == nullptr || *version != "1.0")) {
    stream_error("unsupported-version", "XMPP 1.0 is required");
    return;
  }
  if (!known) {
    stream_error("host-unknown", host.empty() ? "the stream names no host" : "this server does not serve " + host);
    return;
  }
  if (!host_.empty() && host != host_) {
    stream_error("host-unknown", "the restarted stream names another host");
    return;
  }
  if (config_.refuse_host) {
    std::string why = config_.refuse_host(host);
    if (!why.empty()) {
      stream_error("policy-violation", why);
      return;
    }
  }
  host_ = host;
  if (config_.per_host != nullptr)
    if (auto it = config_.per_host->find(host); it != config_.per_host->end()) {
      config_.require_encryption = it->second.require_encryption;
      max_stanza_bytes_ = it->second.max_stanza_bytes;
      apply_stanza_limit();
    }
  if (config_.kind == StreamKind::kComponent) {
    // No features: the component sends its <handshake> next, to the handler.
    if (!handler_ && config_.make_handler) handler_ = config_.make_handler(*this);
    return;
  }
  send_features();
}

void Session::send_features() {
  std::string out = "<stream:features>";
  // A relayed client's TLS, if any, was the other process's: it cannot start one here.
  if (!transport_.encrypted() && !relayed_ && config_.tls != nullptr && config_.tls->size() > 0) {
    out += "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>";
    if (config_.require_encryption) out += "<required/>";
    out += "</starttls>";
  }
  // What follows TLS (SASL, binding, dialback) belongs to the client and server services.
  bool tls_settled = transport_.encrypted() || !config_.require_encryption;
  if (tls_settled && config_.make_handler) {
    if (!handler_) handler_ = config_.make_handler(*this);
    handler_->features(out);
  }
  out += "</stream:features>";
  transport_.send(out);
}

void Session::element(xml::Element element, std::size_t) {
  if (ending_) return;
  if (element.is(xml::kStreamNs, "error")) {
    peer_stream_error(element);
    return;
  }
  if (config_.kind != StreamKind::kComponent && element.is(kTlsNs, "starttls")) {
    if (transport_.encrypted() || relayed_) {
      stream_error("policy-violation", "TLS is already established");
      return;
    }
    start_tls();
    return;
  }
  if (!transport_.encrypted() && config_.require_encryption) {
    stream_error("policy-violation", "encryption is required: use STARTTLS");
    return;
  }
  if (!handler_) {
    stream_error("not-authorized", "authentication is not available on this server yet");
    return;
  }
  handler_->element(std::move(element));
}

void Session::start_tls() {
  tls::SslPtr ssl = config_.tls != nullptr ? config_.tls->new_ssl_for(host_) : nullptr;
  if (!ssl) {
    transport_.send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>");
    ending_ = true;
    transport_.close();
    return;
  }
  transport_.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  // The peer starts a new stream over TLS: nothing it sent before counts (RFC 6120 §5.4.3.3).
  parser_.reset();
  transport_.start_tls(std::move(ssl));
}

void Session::tls_established() {
  if (direct_tls_) {
    log::info("%s TLS from %s: %s", service(), transport_.peer().c_str(),
              tls::describe_session(transport_.ssl()).c_str());
    return;
  }
  log::info("%s STARTTLS from %s for %s: %s", service(), transport_.peer().c_str(), host_.c_str(),
            tls::describe_session(transport_.ssl()).c_str());
}

void Session::stream_closed() { end_stream(); }

void Session::end_stream() {
  if (ending_) return;
  ending_ = true;
  if (handler_) handler_->before_close();
  transport_.send("</stream:stream>");
  transport_.close();
}

// RFC 6120 §4.9.1.1: a stream error ends the stream; it is never answered with one of ours
// (Prosody sends system-shutdown when it stops). Whatever state negotiation is in.
void Session::peer_stream_error(const xml::Element& error) {
  std::string condition = "undefined-condition", text;
  for (const xml::Element* c : error.children()) {
    if (c->ns() != kStreamErrorNs) continue;
    if (c->name() == "text")
      text = c->text();
    else
      condition = c->name();
  }
  std::string who = transport_.peer();
  if (!peer_domain_.empty()) who += " (" + peer_domain_ + (host_.empty() ? ")" : " -> " + host_ + ")");
  log::info("%s stream from %s: the peer ended the stream with its error %s%s%s", service(), who.c_str(),
            condition.c_str(), text.empty() ? "" : ": ", text.c_str());
  end_stream();
}

void Session::stream_error(std::string_view condition, std::string_view text, std::string_view detail) {
  if (ending_) return;
  ending_ = true;
  log::info("%s stream from %s: stream error %.*s%s%.*s", service(), transport_.peer().c_str(),
            static_cast<int>(condition.size()), condition.data(), text.empty() ? "" : ": ",
            static_cast<int>(text.size()), text.data());
  if (!header_sent_) {
    if (stream_id_.empty()) stream_id_ = random_id();
    send_header({});
  }
  if (handler_) handler_->before_close();
  std::string out = "<stream:error><";
  out += condition;
  out += " xmlns='";
  out += kStreamErrorNs;
  out += "'/>";
  if (!text.empty()) {
    out += "<text xmlns='";
    out += kStreamErrorNs;
    out += "' xml:lang='en'>";
    xml::escape(out, text, false);
    out += "</text>";
  }
  out += detail;
  out += "</stream:error></stream:stream>";
  transport_.send(out);
  transport_.close();
}

void Session::closed(std::string_view why) {
  log::info("%s connection from %s closed: %.*s", service(), transport_.peer().c_str(), static_cast<int>(why.size()),
             why.data());
  timeout_.reset();
  if (handler_) handler_->closed();
  on_gone_(this);
}

}  // namespace xmppd::stream
