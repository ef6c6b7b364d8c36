#include "router/c2s_stream.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>

#include "common/base64.h"
#include "common/log.h"
#include "router/router_metrics.h"
#include "router/routing.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

using xmpp::kBindNs;
using xmpp::kSaslNs;
using xmpp::kSessionNs;
using xmpp::kClientNs;

// RFC 9266: the tls-exporter channel binding, when the session has a safe exporter (TLS 1.3,
// or TLS 1.2 with the extended master secret).
std::string tls_exporter(SSL* ssl) {
  if (ssl == nullptr) return {};
  if (SSL_version(ssl) < TLS1_3_VERSION && SSL_get_extms_support(ssl) != 1) return {};
  unsigned char out[32];
  static const char kLabel[] = "EXPORTER-Channel-Binding";
  if (SSL_export_keying_material(ssl, out, sizeof out, kLabel, sizeof kLabel - 1, nullptr, 0, 1) != 1) return {};
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

// RFC 5929 §4.1: tls-server-end-point, the hash of our certificate with the hash of its
// signature (SHA-256 for MD5 and SHA-1). Empty when no such hash exists (Ed25519).
std::string tls_server_end_point(SSL* ssl) {
  X509* cert = ssl != nullptr ? SSL_get_certificate(ssl) : nullptr;
  int md_nid = NID_undef;
  if (cert == nullptr || X509_get_signature_info(cert, &md_nid, nullptr, nullptr, nullptr) != 1) return {};
  const EVP_MD* md = md_nid == NID_md5 || md_nid == NID_sha1 ? EVP_sha256() : EVP_get_digestbynid(md_nid);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  if (md == nullptr || X509_digest(cert, md, out, &size) != 1) return {};
  return std::string(reinterpret_cast<char*>(out), size);
}

std::string generated_resource() {
  unsigned char bytes[8];
  RAND_bytes(bytes, sizeof bytes);
  return "xmppd-" + base64_encode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes)).substr(0, 11);
}

}  // namespace

ClientStream::ClientStream(stream::Session& session, AuthLink& auth, Routing& routing, HostPolicy policy)
    : session_(&session), host_(session.host()), auth_(auth), routing_(routing), policy_(policy),
      websocket_(session.relayed_client().has_value()) {
  ++router_counters().c2s_streams;
  // Relayed before its handler is made (stream/session.h): known for the stream's life.
  if (websocket_) ++router_counters().c2s_websocket;
}

ClientStream::~ClientStream() {
  --router_counters().c2s_streams;
  if (websocket_) --router_counters().c2s_websocket;
  if (!bare_.empty()) --router_counters().c2s_authenticated;
  *alive_ = false;
  if (sm_ && sm_->resumable()) routing_.smacks().forget(sm_->token(), *this);
}

void ClientStream::features(std::string& out) {
  if (state_ == State::kAuthenticating) {
    out += "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>";
    if (policy_.anonymous) {
      out += "<mechanism>ANONYMOUS</mechanism>";
    } else {
      bool plus = !tls_exporter(session_->ssl()).empty();
      // Not SHA-256 on a host with accounts imported with a SHA-1 credential alone (router/auth_link.h).
      const bool sha256 = auth_.offers_sha256(session_->host());
      if (plus && sha256) out += "<mechanism>SCRAM-SHA-256-PLUS</mechanism>";
      if (plus) out += "<mechanism>SCRAM-SHA-1-PLUS</mechanism>";
      if (sha256) out += "<mechanism>SCRAM-SHA-256</mechanism>";
      out += "<mechanism>SCRAM-SHA-1</mechanism>";
      // PLAIN sends the password itself: only inside TLS.
      if (session_->encrypted()) out += "<mechanism>PLAIN</mechanism>";
      out += "</mechanisms>";
      // XEP-0440: which channel bindings the -PLUS mechanisms take. A client that asks for
      // another (tls-unique) gets e=unsupported-channel-binding-type and may try again.
      if (plus) {
        out += "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/>";
        if (!tls_server_end_point(session_->ssl()).empty()) out += "<channel-binding type='tls-server-end-point'/>";
        out += "</sasl-channel-binding>";
      }
      if (policy_.registration) out += "<register xmlns='http://jabber.org/features/iq-register'/>";
      return;
    }
    out += "</mechanisms>";
    return;
  }
  out += "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
         "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>";
  routing_.stream_features(session_->host(), out);
}

void ClientStream::element(xml::Element element) {
  if (element.ns() == kSmNs) {
    StreamManagement::element(*this, element);
    return;
  }
  switch (state_) {
    case State::kAuthenticating:
      if (element.is(kSaslNs, "auth"))
        start_sasl(element);
      else if (element.is(kSaslNs, "response"))
        continue_sasl(element);
      else if (policy_.registration && element.is(kClientNs, "iq") && element.child("jabber:iq:register", "query"))
        registration(element);
      else if (element.is(kSaslNs, "abort")) {
        auth_.abort(attempt_);
        attempt_ = 0;
        send_sasl("failure", "<aborted/>");
      } else {
        session_->stream_error("not-authorized", "authenticate first");
      }
      return;
    case State::kBinding:
      if (element.is(kClientNs, "iq") && element.child(kBindNs, "bind"))
        bind(element);
      else
        session_->stream_error("not-authorized", "bind a resource first");
      return;
    case State::kEstablished:
      // Stream-level elements of extensions (XEP-0352) are the modules'.
      if (element.ns() != kClientNs && routing_.stream_element(*this, element)) return;
      if (sm_) sm_->count_handled();
      stanza(std::move(element));
      return;
    case State::kEnded:
      return;
  }
}

void ClientStream::send_sasl(std::string_view name, std::string_view payload) {
  std::string out = "<";
  out += name;
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-sasl'";
  if (payload.empty()) {
    out += "/>";
  } else {
    out += ">";
    out += payload;
    out += "</";
    out += name;
    out += ">";
  }
  session_->send(out);
}

void ClientStream::start_sasl(const xml::Element& auth) {
  if (attempt_ != 0) {
    session_->stream_error("policy-violation", "one authentication at a time");
    return;
  }
  const std::string* mechanism = auth.attribute("mechanism");
  mechanism_ = mechanism ? mechanism->substr(0, 64) : "";
  std::string text = auth.text();
  ipc::SaslStart start;
  start.set_host(session_->host());
  start.set_mechanism(mechanism ? *mechanism : "");
  start.set_client_address(session_->peer().substr(0, session_->peer().find(' ')));
  // "=" is an empty initial response; nothing at all is none (RFC 6120 §6.4.2).
  if (!text.empty()) {
    auto decoded = text == "=" ? std::optional<std::string>("") : base64_decode(text);
    if (!decoded) {
      send_sasl("failure", "<incorrect-encoding/>");
      return;
    }
    start.set_has_initial_response(true);
    start.set_initial_response(*decoded);
  }
  std::string binding = tls_exporter(session_->ssl());
  start.set_plus_offered(!binding.empty() && !policy_.anonymous);
  start.set_channel_binding(binding);
  start.set_server_end_point(tls_server_end_point(session_->ssl()));
  attempt_ = auth_.start(*this, std::move(start));
  if (attempt_ == 0) send_sasl("failure", "<temporary-auth-failure/>");
}

void ClientStream::continue_sasl(const xml::Element& response) {
  if (attempt_ == 0) {
    session_->stream_error("policy-violation", "no authentication in progress");
    return;
  }
  std::string text = response.text();
  auto decoded = text.empty() || text == "=" ? std::optional<std::string>("") : base64_decode(text);
  if (!decoded) {
    auth_.abort(attempt_);
    attempt_ = 0;
    send_sasl("failure", "<incorrect-encoding/>");
    return;
  }
  auth_.respond(attempt_, std::move(*decoded));
}

void ClientStream::sasl_challenge(const std::string& challenge) {
  send_sasl("challenge", challenge.empty() ? "=" : base64_encode(challenge));
}

void ClientStream::sasl_success(const std::string& username, const std::string& additional_data,
                                const std::string& account_token) {
  attempt_ = 0;
  username_ = username;
  account_token_ = account_token;
  if (bare_.empty()) ++router_counters().c2s_authenticated;
  ++router_counters().logins;
  bare_ = username + "@" + session_->host();
  state_ = State::kBinding;
  session_->authenticated_as(bare_);
  log::info("c2s %s authenticated as %s", session_->peer().c_str(), bare_.c_str());
  send_sasl("success", additional_data.empty() ? "" : base64_encode(additional_data));
  session_->restart();
}

// Repeated failures are slowed down by the auth helper, which holds back the next password
// check per account and per address prefix; the router only counts them per stream. A
// temporary-auth-failure (no free slot, the helper's deadline, a restart) is no failed
// attempt: the client may try again. Nor is a channel binding type the helper does not
// support (tls-unique from slixmpp 1.8): the client did nothing wrong and tries its next
// mechanism.
void ClientStream::sasl_failure(const std::string& condition, const std::string& text,
                                const std::string& unsupported_binding) {
  attempt_ = 0;
  if (!unsupported_binding.empty()) {
    log::info("c2s %s: unsupported channel binding %s for %s, not counted as a failed login", session_->peer().c_str(),
              unsupported_binding.c_str(), session_->host().c_str());
    send_sasl("failure", "<" + condition + "/>");
    return;
  }
  const bool temporary = condition == "temporary-auth-failure";
  if (!temporary) ++failures_;
  if (!temporary) ++router_counters().login_failures;
  log::info("c2s %s: authentication %s for %s: %s%s%s", session_->peer().c_str(),
            temporary ? "not possible now" : "failed", session_->host().c_str(), condition.c_str(),
            text.empty() ? "" : ", ", text.c_str());
  std::string payload = "<" + condition + "/>";
  if (!text.empty()) {
    payload += "<text xml:lang='en'>";
    xml::escape(payload, text, false);
    payload += "</text>";
  }
  send_sasl("failure", payload);
  if (failures_ >= kMaxAuthFailures) session_->stream_error("policy-violation", "too many failed authentication attempts");
}

// XEP-0077 before authentication: the form, then one account per stream. The auth helper
// checks again that the host allows it and never changes an existing account.
void ClientStream::registration(const xml::Element& iq) {
  const std::string* type = iq.attribute("type");
  const xml::Element* query = iq.child("jabber:iq:register", "query");
  if (type != nullptr && *type == "get") {
    xml::Element form = xmpp::reply(iq, "result");
    xml::Element& query = form.add_child(xml::Element("jabber:iq:register", "query"));
    xml::Element instructions("jabber:iq:register", "instructions");
    instructions.add_text("Choose a username and password.");
    query.add_child(std::move(instructions));
    query.add_child(xml::Element("jabber:iq:register", "username"));
    query.add_child(xml::Element("jabber:iq:register", "password"));
    deliver(form);
    return;
  }
  if (type == nullptr || *type != "set") return;
  const xml::Element* user = query->child("jabber:iq:register", "username");
  const xml::Element* password = query->child("jabber:iq:register", "password");
  auto username = user != nullptr ? xmpp::prepare_localpart(user->text()) : std::nullopt;
  if (registered_ || query->child("jabber:iq:register", "remove") != nullptr) {
    deliver(xmpp::error_reply(iq, "cancel", "not-allowed"));
    return;
  }
  if (!username || password == nullptr || password->text().empty()) {
    deliver(xmpp::error_reply(iq, "modify", "not-acceptable"));
    return;
  }
  registered_ = true;
  auth_.register_account(session_->host(), *username, password->text(),
                         [this, alive = alive_, request = iq](const std::string& condition) {
                           if (!*alive) return;
                           if (condition.empty())
                             deliver(xmpp::reply(request, "result"));
                           else
                             deliver(xmpp::error_reply(request, condition == "not-acceptable" ? "modify" : "cancel",
                                                       condition));
                         });
}

void ClientStream::bind(const xml::Element& iq) {
  const xml::Element* request = iq.child(kBindNs, "bind");
  const xml::Element* wanted = request->child(kBindNs, "resource");
  std::string resource;
  if (wanted != nullptr && !wanted->text().empty()) {
    auto prepared = xmpp::prepare_resourcepart(wanted->text());
    if (!prepared) {
      deliver(xmpp::error_reply(iq, "modify", "bad-request"));
      return;
    }
    resource = *prepared;
  } else {
    resource = generated_resource();
  }
  full_ = bare_ + "/" + resource;
  if (!routing_.bind(*this, resource)) {
    // RFC 6120 §7.6.2.1: the account has reached its limit of connected resources.
    deliver(xmpp::error_reply(iq, "wait", "resource-constraint", "Too many resources are bound for this account"));
    full_.clear();
    return;
  }
  state_ = State::kEstablished;
  session_->established();
  xml::Element result = xmpp::reply(iq, "result");
  xml::Element& bound = result.add_child(xml::Element(std::string(kBindNs), "bind"));
  xml::Element jid(std::string(kBindNs), "jid");
  jid.add_text(full_);
  bound.add_child(std::move(jid));
  deliver(result);
  log::info("c2s %s bound %s", session_->peer().c_str(), full_.c_str());
}

void ClientStream::stanza(xml::Element stanza) {
  router_counters().stanza_in(stanza.name());
  if (stanza.is(kClientNs, "iq") && stanza.child(kSessionNs, "session")) {
    deliver(xmpp::reply(stanza, "result"));  // the legacy session step: nothing to do
    return;
  }
  if (stanza.is(kClientNs, "presence") && stanza.attribute("to") == nullptr) {
    const std::string* type = stanza.attribute("type");
    if (type != nullptr && *type != "unavailable") return;  // nothing to broadcast
    stanza.set_attribute("from", full_);
    bool was_available = available_;
    available_ = type == nullptr;
    if (available_) {
      const xml::Element* p = stanza.child(kClientNs, "priority");
      priority_ = p != nullptr ? std::clamp(std::atoi(p->text().c_str()), -128, 127) : 0;
    }
    if (!available_ && !was_available) return;
    routing_.broadcast(*this, stanza, available_ && !was_available);
    return;
  }
  routing_.route(*this, std::move(stanza));
}

void ClientStream::deliver(const xml::Element& stanza) {
  if (filtered_ && !routing_.filter_delivery(*this, stanza)) return;
  write(stanza);
}

void ClientStream::write(const xml::Element& stanza) {
  std::string out;
  stanza.serialize(out, kClientNs);
  deliver_raw(out);
}

void ClientStream::deliver_raw(std::string_view serialized) {
  if (state_ == State::kEnded) return;
  // Kept until acknowledged; a hibernating session only keeps it.
  if (sm_ && !sm_->sent(serialized)) return;
  if (session_ == nullptr) return;
  router_counters().serialized_out(serialized);
  session_->send(serialized);
  // A send that filled the queue past the transport's write-at-once size wrote it all there
  // and then, without a drained() to follow.
  if (awaiting_drain_ && session_->queued() == 0) drained();
}

void ClientStream::drained() {
  if (!std::exchange(awaiting_drain_, false) || state_ != State::kEstablished) return;
  routing_.drained(*this);
}

bool ClientStream::end_if_detached() {
  if (session_ != nullptr) return false;
  if (hibernating_ && sm_) sm_->hibernation_over();
  return true;
}

// An available session's contacts see it go; one that never sent initial presence still
// told those it sent directed presence to (a MUC room joined before any broadcast: RFC 6121
// §4.6.3), or they would keep it forever.
void ClientStream::announce_gone() {
  if (available_) {
    available_ = false;
    routing_.im().gone(*this);
  } else if (!directed_.empty()) {
    routing_.im().directed_gone(*this);
  }
}

void ClientStream::revoked(std::string_view why) {
  // Announced now, while the roster that says to whom is still there (an account being
  // removed); the stream's end, reported later, then has nothing more to announce.
  announce_gone();
  if (end_if_detached()) return;
  session_->stream_error("not-authorized", why);
}

void ClientStream::kicked(std::string_view reason) {
  // As revoked(): announced while the session still stands.
  announce_gone();
  if (end_if_detached()) return;
  session_->stream_error("policy-violation", reason);
}

void ClientStream::replaced() {
  if (end_if_detached()) return;
  session_->stream_error("conflict", "replaced by a new login for this resource");
  // Ended now, before the newcomer is bound (Routing::bind), not when the connection closes.
  end_session();
}

void ClientStream::closed() {
  if (attempt_ != 0) auth_.abort(attempt_);
  if (state_ != State::kEstablished) return;
  // A connection cut rather than closed: a resumable session waits for its client.
  if (sm_ && StreamManagement::connection_lost(*this)) return;
  end_session();
}

void ClientStream::end_session() {
  if (state_ != State::kEstablished) return;
  announce_gone();
  // Offline messages written to the session are owned by its queue of unacknowledged
  // stanzas (session_ended keeps them again), not by the store: else they are kept twice.
  if (sm_) routing_.hibernated(*this);
  routing_.unbind(*this);
  state_ = State::kEnded;
  if (sm_) sm_->session_ended();
}

}  // namespace xmppd::router
