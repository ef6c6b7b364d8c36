// The receiving side of an XMPP stream (RFC 6120 §4–5): the stream header and its answer,
// stream features, STARTTLS, stream restarts and stream errors. Client-to-server and
// server-to-server streams differ only in namespace and in what follows TLS. An external
// component's stream (XEP-0114) has neither features nor TLS nor version: after the headers,
// its handler takes the handshake.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "proto/channel.h"
#include "stream/connection_limits.h"
#include "stream/transport.h"
#include "tls/server_contexts.h"
#include "xml/stream_parser.h"

namespace xmppd::stream {

enum class StreamKind { kClient, kServer, kComponent };

// How long an authenticated server stream may stay silent before it is closed; the s2s
// worker advertises it (XEP-0478 idle-seconds) and sends keep-alives well within it.
inline constexpr std::chrono::seconds kServerIdleTimeout{600};

// Until a stream is authenticated its stanzas may be at most this big, whatever the
// configured limit (Prosody's figure, and RFC 6120 §13.12's minimum): a stranger gets the
// least that negotiation needs.
inline constexpr std::size_t kUnauthenticatedStanzaBytes = 10000;

class Session;

// A client stream that another process took off the network and passes on over a local
// socket: a WebSocket client (RFC 7395) from the HTTP process, which ended its TLS.
struct RelayedClient {
  bool secure = false;      // wss:// (or consider_websocket_secure): counts as encrypted
  std::string tls_version;  // for xmppctl: the client's TLS with the HTTP process
  std::string cipher;
};

// The namespace of a kind of stream's stanzas, and its name in logs ("c2s", "s2s", "component").
std::string_view stream_ns(StreamKind kind);
const char* service_name(StreamKind kind);

// What a stream carries once TLS is settled: SASL and resource binding for clients,
// authentication and stanzas for servers. One per stream, made by the service.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // Appends this layer's features to <stream:features> (after TLS, or when TLS is optional).
  virtual void features(std::string& out) = 0;
  virtual void element(xml::Element element) = 0;
  // The connection is gone; the session is destroyed right after.
  virtual void closed() = 0;
  // Everything queued for the peer has been written (Transport::Events::drained).
  virtual void drained() {}
  // The stream is about to end on purpose (end_stream, stream_error), after the header and
  // before the closing bytes: the last chance to send something, such as XEP-0198's final
  // <a h/>, so that the peer does not send again what was received.
  virtual void before_close() {}
};
using HandlerFactory = std::function<std::unique_ptr<StreamHandler>(Session&)>;

struct SessionConfig {
  StreamKind kind = StreamKind::kClient;
  const std::set<std::string>* hosts = nullptr;  // the local domains a stream may be addressed to
  const tls::ServerContexts* tls = nullptr;
  bool require_encryption = true;
  std::size_t max_stanza_bytes = 256 * 1024;
  // Once the stream names its host: that host's values (absent: the ones above).
  struct HostLimits {
    bool require_encryption;
    std::size_t max_stanza_bytes;
  };
  const std::map<std::string, HostLimits>* per_host = nullptr;
  std::chrono::seconds negotiation_timeout{60};
  // From accept to the peer's first stream header, a direct TLS handshake included.
  std::chrono::seconds header_timeout{10};
  RateLimit rate;  // Prosody's `limits` for this kind of stream
  const std::set<std::string>* unlimited_jids = nullptr;  // Prosody's unlimited_jids
  // After negotiation: a stream silent this long is closed (0: never; s2s uses it).
  std::chrono::seconds idle_timeout{0};
  HandlerFactory make_handler;  // none: stanzas after TLS are refused as not authorized
  // A non-empty answer refuses a stream to that host with policy-violation and this text.
  std::function<std::string(const std::string& host)> refuse_host;
};

class Session final : Transport::Events, xml::StreamParser::Handler {
 public:
  using Gone = std::function<void(Session*)>;

  Session(struct event_base* base, UniqueFd fd, std::string peer, SessionConfig config, Gone on_gone);
  ~Session() override;
  void start();
  void start_direct_tls(tls::SslPtr ssl);       // direct TLS: the handshake starts now
  // A relayed client (before start): never offered STARTTLS, encrypted if it was secure.
  void relayed(RelayedClient facts);
  const std::optional<RelayedClient>& relayed_client() const { return relayed_; }
  // The connection's share of the per-address limits; the stream gives back its
  // unauthenticated share once established() is called.
  void hold(ConnectionLimits::Ticket ticket) { ticket_ = std::move(ticket); }
  void set_rate_limit(const RateLimit& rate) { transport_.set_rate_limit(rate); }
  // The peer proved it is `bare_jid`: one of unlimited_jids is read without a rate limit.
  void authenticated_as(const std::string& bare_jid) {
    if (config_.unlimited_jids != nullptr && config_.unlimited_jids->count(bare_jid) > 0)
      transport_.set_rate_limit(RateLimit{});
  }

  // Ends the stream with a stream error (RFC 6120 §4.9) and closes the connection.
  // `detail`: an application-specific condition element, already serialized.
  void stream_error(std::string_view condition, std::string_view text = {}, std::string_view detail = {});
  void send(std::string_view bytes) { transport_.send(bytes); }
  // Bytes sent but not yet written to the connection, and whether sends still go out.
  std::size_t queued() const { return transport_.queued(); }
  bool sending() const { return transport_.open(); }
  // While what this stream feeds is behind (Transport::pause_reading).
  void pause_reading(bool paused) { set_pause(kBehind, paused); }
  // While the handler waits for an answer of its own (a DNS lookup) before it takes the next
  // element. Reading resumes when neither reason holds.
  void hold_reading(bool held) { set_pause(kHeld, held); }
  // The peer opens a new stream next (after SASL success, RFC 6120 §6.4.6).
  void restart() { parser_.reset(); }
  // Negotiation is complete, the peer authenticated: the negotiation timeout no longer
  // applies, and the stanza size limit is the configured one.
  void established();
  // Re-arms the negotiation deadline, counted from the start of the connection.
  void set_negotiation_timeout(std::chrono::seconds timeout);
  // Quiet since before `since` (seconds of the loop's clock): frees the parser and the
  // output buffer until the peer sends again.
  void hibernate_if_idle(time_t since);

  const std::string& host() const { return host_; }
  // s2s: the domain the peer's stream header names in 'from' (lowercased; may be empty).
  const std::string& peer_domain() const { return peer_domain_; }
  const std::string& stream_id() const { return stream_id_; }
  const std::string& peer() const { return transport_.peer(); }
  SSL* ssl() const { return transport_.ssl(); }
  bool encrypted() const { return transport_.encrypted(); }
  bool direct_tls() const { return direct_tls_; }  // XEP-0368: TLS from the first byte
  // Wall-clock seconds (the loop's cached time) of the accept and of the last byte read:
  // the age and idle time that xmppctl shows.
  time_t started_at() const { return started_; }
  time_t last_read() const { return last_activity_; }
  // Ends the stream cleanly (</stream:stream>, then the connection once it is written), as
  // an answer to the peer's own close or at the administrator's request.
  void end_stream();
  // Drops the connection without a word (no </stream:stream>): for a peer presumed gone,
  // which, if it is alive after all, sees a cut it may recover from (XEP-0198 resumption).
  void cut(std::string_view why) {
    ending_ = true;
    transport_.abort(why);
  }
  struct event_base* base() const { return base_; }
  // The stream is being ended on purpose (a stream error, either side's </stream:stream>),
  // not merely cut: XEP-0198 keeps only a cut session for resumption.
  bool ending() const { return ending_; }
  // XEP-0198 resumption moves a client's session from one connection to another: the handler
  // leaves a connection that is lost or replaced (its closed() is then not called) and is
  // adopted by the new one, which gives back the handler it had.
  std::unique_ptr<StreamHandler> release_handler() { return std::move(handler_); }
  std::unique_ptr<StreamHandler> adopt_handler(std::unique_ptr<StreamHandler> handler) {
    std::swap(handler, handler_);
    return handler;
  }

 private:
  // Transport::Events
  void received(std::string_view bytes) override;
  void tls_established() override;
  void closed(std::string_view why) override;
  void drained() override {
    if (handler_) handler_->drained();
  }
  // xml::StreamParser::Handler
  void stream_opened(const xml::Element& header) override;
  void element(xml::Element element, std::size_t bytes) override;
  void stream_closed() override;
  void peer_stream_error(const xml::Element& error);

  const char* service() const;
  std::string_view content_ns() const;
  void send_header(std::string_view from);
  void send_features();
  void start_tls();
  void apply_stanza_limit();
  static void on_timeout(evutil_socket_t, short, void* arg);
  static void on_idle_check(evutil_socket_t, short, void* arg);
  // Why reading is paused: each reason is lifted on its own.
  enum PauseReason : std::uint8_t { kBehind = 1, kHeld = 2 };
  void set_pause(PauseReason reason, bool on) {
    paused_ = static_cast<std::uint8_t>(on ? paused_ | reason : paused_ & ~reason);
    transport_.pause_reading(paused_ != 0);
  }

  struct event_base* base_;
  SessionConfig config_;
  Transport transport_;
  xml::StreamParser parser_;
  Gone on_gone_;
  std::string host_;        // the local domain this stream is addressed to
  std::string peer_domain_;
  std::string stream_id_;
  bool header_sent_ = false;
  bool ending_ = false;
  bool established_ = false;
  std::size_t max_stanza_bytes_;  // once established
  ipc::EventPtr timeout_;
  ipc::EventPtr idle_check_;
  time_t last_activity_ = 0;
  time_t started_ = 0;
  std::unique_ptr<StreamHandler> handler_;
  bool header_seen_ = false;
  bool direct_tls_ = false;
  std::uint8_t paused_ = 0;  // PauseReason bits
  std::optional<RelayedClient> relayed_;
  ConnectionLimits::Ticket ticket_;
};

}  // namespace xmppd::stream
