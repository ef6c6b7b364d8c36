// One client's stream after TLS (RFC 6120 §6–7): SASL relayed to the auth helper, resource
// binding, then the stanzas of the session.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <set>
#include <string>

#include "router/auth_link.h"
#include "router/local_sessions.h"
#include "router/stream_management.h"
#include "proto/channel.h"
#include "stream/session.h"

namespace xmppd::router {

struct HostPolicy {
  bool anonymous = false;     // authentication = "anonymous"
  bool registration = false;  // allow_registration = true (XEP-0077)
};

class Routing;

class ClientStream final : public stream::StreamHandler, public AuthLink::Waiter {
 public:
  static constexpr int kMaxAuthFailures = 3;

  ClientStream(stream::Session& session, AuthLink& auth, Routing& routing, HostPolicy policy);
  ~ClientStream() override;

  // stream::StreamHandler
  void features(std::string& out) override;
  void element(xml::Element element) override;
  void closed() override;
  void drained() override;

  // AuthLink::Waiter
  void sasl_challenge(const std::string& challenge) override;
  void sasl_success(const std::string& username, const std::string& additional_data,
                    const std::string& account_token) override;
  void sasl_failure(const std::string& condition, const std::string& text,
                    const std::string& unsupported_binding) override;

  // Delivery of a stanza addressed to this session.
  void deliver(const xml::Element& stanza);
  void deliver_raw(std::string_view serialized);
  // Output still goes out, and how much of it waits to be written.
  // A hibernating session (XEP-0198) has no connection: it queues what it is given but is
  // not sending, and nothing waits for it to drain; what it has queued is then the number of
  // stanzas kept for it (unacknowledged, or given while hibernating), not bytes.
  bool sending() const { return session_ != nullptr && session_->sending(); }
  std::size_t queued() const {
    if (session_ != nullptr) return session_->queued();
    return sm_ ? sm_->unacked().size() : 0;
  }
  // Routing is told (Routing::drained) once what is queued has been written, including when
  // a later send writes it at once.
  void wait_for_drain() { awaiting_drain_ = true; }
  void pause_reading(bool paused) {
    if (session_ != nullptr) session_->pause_reading(paused);
  }
  // Another login took this resource (RFC 6120 §7.7.2.2).
  void replaced();
  // The login no longer stands: the account was removed (in band or by xmppctl deluser),
  // or its password changed from another session. The stream ends with not-authorized.
  void revoked(std::string_view why);

  const std::string& username() const { return username_; }
  // The SASL mechanism of the (last) authentication: xmppctl show c2s.
  const std::string& mechanism() const { return mechanism_; }
  // The connection; null while the session hibernates (XEP-0198), and another one after it
  // was resumed.
  const stream::Session* session() const { return session_; }
  // xmppctl kick: the stream ends with <policy-violation/> and `reason` as its text, and the
  // session's contacts see it go as for any end.
  void kicked(std::string_view reason);
  const std::string& bare() const { return bare_; }
  // From the auth helper's SaslSuccess: what it asks for to change this account (the
  // password, its removal). Empty on an anonymous host.
  const std::string& account_token() const { return account_token_; }
  const std::string& full() const { return full_; }
  const std::string& domain() const { return host_; }
  // Stanzas for this session pass the session_delivery filters first (XEP-0352: a module
  // holds some back while the client is inactive).
  bool filtered() const { return filtered_; }
  void set_filtered(bool filtered) { filtered_ = filtered; }
  // Writes a stanza without the filters (what a filter releases).
  void write(const xml::Element& stanza);
  // XEP-0198: the connection is gone and the session waits to be resumed; what is delivered
  // is queued for it (Hooks::session_hibernated).
  bool hibernating() const { return hibernating_; }
  // XEP-0198 state: null until the client enabled stream management.
  const StreamManagement* stream_management() const { return sm_.get(); }
  StreamManagement* stream_management() { return sm_.get(); }
  bool available() const { return available_; }
  int priority() const { return priority_; }
  // Asked for the roster, so roster pushes go here (RFC 6121 §2.1.6).
  bool interested() const { return interested_; }
  void set_interested() { interested_ = true; }
  // Where this session sent directed available presence: told when it goes (RFC 6121 §4.6.3).
  std::set<std::string>& directed() { return directed_; }
  // The session is going: its contacts, or those it sent directed presence to, are told.
  void announce_gone();
  // The last broadcast presence, as its contacts see it (after the presence_broadcast hooks:
  // XEP-0153's photo hash is in it).
  xml::Element last_presence() const { return last_presence_; }
  void set_last_presence(const xml::Element& presence) { last_presence_ = presence; }

 private:
  // The session's mechanics of XEP-0198 (enable, resume, hibernate) live there.
  friend class StreamManagement;
  // kEnded: the session ended (its presence went, its resource is unbound) but the object
  // outlives it for a moment (a hibernating session whose time was up).
  enum class State { kAuthenticating, kBinding, kEstablished, kEnded };

  // The end of an established session: unavailable presence, the resource unbound, the
  // stanzas it never acknowledged handled (XEP-0198 §5).
  void end_session();
  // For a session without a connection (hibernating), what a stream error would be.
  bool end_if_detached();

  void start_sasl(const xml::Element& auth);
  void continue_sasl(const xml::Element& response);
  void bind(const xml::Element& iq);
  void registration(const xml::Element& iq);
  void stanza(xml::Element stanza);
  void send_sasl(std::string_view name, std::string_view payload);

  stream::Session* session_;  // never null but while hibernating
  std::string host_;
  AuthLink& auth_;
  Routing& routing_;
  HostPolicy policy_;
  const bool websocket_;  // relayed from the HTTP process (for /metrics)
  State state_ = State::kAuthenticating;
  std::uint64_t attempt_ = 0;
  int failures_ = 0;
  std::string username_, bare_, full_;
  std::string account_token_;
  std::string mechanism_;
  bool registered_ = false;  // one in-band registration per stream
  // Answers from the auth helper may outlive this stream; they check this first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool available_ = false;
  int priority_ = 0;
  bool interested_ = false;
  bool awaiting_drain_ = false;
  bool filtered_ = false;
  bool hibernating_ = false;
  std::set<std::string> directed_;
  xml::Element last_presence_{"jabber:client", "presence"};
  std::unique_ptr<StreamManagement> sm_;
};

}  // namespace xmppd::router
