// An outbound server-to-server stream from one local domain to one remote domain: it
// connects (connector.h), secures the stream with STARTTLS or direct TLS, judges the peer's
// certificate, authenticates with SASL EXTERNAL or else dialback as policy allows, and then
// carries the stanzas the federation hands it. Other local domains may join a ready stream
// by dialback (piggybacking). It also carries dialback verification requests (db:verify)
// for inbound streams claiming the remote domain.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "reports.pb.h"
#include "s2s-worker/connector.h"
#include "s2s-worker/federation.h"
#include "s2s-worker/stream_acks.h"
#include "stream/transport.h"
#include "tls/peer_verify.h"
#include "xml/stream_parser.h"

namespace xmppd::s2s {

class OutboundStream final : xml::StreamParser::Handler {
 public:
  OutboundStream(Federation& federation, std::string local, std::string remote);
  ~OutboundStream() override;

  void start();
  bool ready() const { return state_ == State::kReady; }
  bool done() const { return state_ == State::kDone; }
  // Whether stanzas from `local` may go on this stream: the domain of its header once the
  // stream is ready, or another local domain that dialback has added.
  bool ready_for(const std::string& local) const;
  // Piggybacking (XEP-0220 §4.3): another local domain asks to use this ready stream. It is
  // proven with dialback on its own; false when that cannot work here (the peer does not do
  // dialback, or that domain's policy wants encryption or a certificate this stream lacks).
  bool add_local(const std::string& local);
  // Only once ready_for(). False when the stanza is over what the peer said it accepts
  // (XEP-0478 max-bytes) or, when it said nothing, over s2s_peer_stanza_size_limit: some
  // servers (jabberd2) silently stop reading a stream that brings a larger one.
  // With stream management the stanza is kept, from `local`, until the peer acknowledges
  // it; `resends` says how many broken streams it has come back from already.
  bool send_stanza(const std::string& local, std::string_view xml, int resends = 0);
  // XEP-0198: what the peer has not acknowledged, given back when the stream is done, so
  // that it goes on the next stream (or bounces).
  std::deque<AckQueue::Entry> take_unacked() { return acks_.take(); }
  bool stream_management() const { return sm_; }
  std::size_t unacked() const { return acks_.unacked(); }
  // Ended by us (idle, xmppctl close s2s, the worker stopping), not broken.
  bool closed_by_us() const { return closed_by_us_; }
  // Why send_stanza refused a stanza, for its bounce.
  std::string size_refusal() const;
  // Our inbound side refused the peer's authentication of the pair while this stream waits.
  void note_refused_peer(const std::string& why) {
    if (state_ != State::kReady) refused_peer_ = why;
  }
  // The peer reads slower than stanzas come: hold them back (the federation's queue is
  // bounded) until the connection has drained, rather than pile them up in it. A stream
  // that answered true tells the federation when it has drained.
  // Stream management holds back too while the peer has not acknowledged AckQueue's bounds.
  bool congested() {
    held_back_ = held_back_ || (transport_ && transport_->queued() > kHighWater) || (sm_ && acks_.full());
    return held_back_;
  }
  static constexpr std::size_t kHighWater = 256 << 10;
  void send_verify(std::uint64_t request, const std::string& local, const std::string& stream_id,
                   const std::string& key);
  // Ends the stream (idle, or the worker stops).
  void close();
  // For xmppctl (stream_report.cc): what this stream is, at `now` (the loop's clock), and
  // whether it carries stanzas from `local` (its own domain or one added by dialback).
  void report(ipc::S2sStream& out, time_t now) const;
  bool carries(const std::string& local) const { return local == local_ || extra_locals_.count(local) > 0; }
  // Done and its connection closed: the federation may destroy it.
  bool finished() const { return state_ == State::kDone && (!transport_ || transport_closed_); }

  const std::string& local() const { return local_; }
  const std::string& remote() const { return remote_; }
  // Bidirectional (XEP-0288): while what the peer sends on it waits for the router.
  void pause_reading(bool paused) {
    reading_paused_ = paused;
    if (transport_) transport_->pause_reading(paused);
  }

 private:
  enum class State { kConnecting, kOpening, kStarttls, kTlsHandshake, kAuthenticating, kSaslRestart, kReady, kDone };

  // A connection's events reach the stream only while it is the current one: one given up
  // for the next address may still report its end.
  struct Sink final : stream::Transport::Events {
    OutboundStream* stream;
    explicit Sink(OutboundStream* s) : stream(s) {}
    void received(std::string_view bytes) override {
      if (stream) stream->received(bytes);
    }
    void tls_established() override {
      if (stream) stream->tls_established();
    }
    void closed(std::string_view why) override {
      if (stream) stream->closed(why);
    }
    void drained() override {
      if (!stream) return;
      // A batch has been written: the <r/> in it has gone, and its deadline counts from now;
      // time to ask for the batch's acknowledgement.
      stream->ack_request_written();
      stream->request_ack();
      stream->release_hold();
    }
  };
  struct Verify {
    std::uint64_t request;
    std::string local, stream_id, key;
  };
  using VerifyKey = std::tuple<std::string, std::string>;  // (stream id, local domain)

  void connect();
  bool retry_without_external(const std::string& why);
  void connected(Connected connection);
  void retire_transport();
  void open_stream();
  void secured(const xml::Element& features);
  void read_limits(const xml::Element& features);
  void authenticate(const xml::Element& features);
  void try_dialback();
  void dialback_answer(const xml::Element& result);
  void verify_answer(const xml::Element& verify);
  void become_ready();
  // Bidirectional streams (XEP-0288): asked for when the peer offers it and our host has it;
  // then the peer's stanzas on this stream are delivered as an inbound stream's are.
  void request_bidi(const xml::Element& features);
  void peer_stanza(xml::Element stanza);
  void flush_verifies();
  void fail(const std::string& why, bool retry_next_address = false);
  bool check_certificate();
  tls::PeerVerification judge_certificate(const std::string& local) const;
  // DANE (outbound_dane.cc). check_dane: false when the TLSA records refuse the peer (the
  // stream is then failing); with_dane: a verification made trusted by a DANE match.
  bool check_dane();
  tls::PeerVerification with_dane(const std::string& local, tls::PeerVerification pkix) const;
  std::string tls_summary() const;
  void expire_piggybacks();
  static void on_timer(evutil_socket_t, short, void* arg);
  // XEP-0198 (stream_acks.h): <enable/> once authenticated where the peer offers it, <r/>
  // after each batch written, the peer's <a/> and <r/>.
  void enable_acks();
  void request_ack();
  // The peer does not count after all: what is kept goes as it would without acknowledgements.
  void stop_acks();
  void ack_request_written();
  void arm_ack_deadline();
  void acknowledged(const xml::Element& a);
  void stream_management_element(const xml::Element& e);
  static void on_ack_timeout(evutil_socket_t, short, void* arg);
  // Lets the federation send again, once neither the connection nor the unacknowledged
  // queue is over its bound.
  void release_hold();

  void received(std::string_view bytes);
  void tls_established();
  void closed(std::string_view why);
  // xml::StreamParser::Handler
  void stream_opened(const xml::Element& header) override;
  void element(xml::Element element, std::size_t bytes) override;
  void stream_closed() override;

  Federation& federation_;
  std::string local_, remote_;
  State state_ = State::kConnecting;
  std::unique_ptr<ConnectAttempt> attempt_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<stream::Transport> transport_;
  bool transport_closed_ = false;
  // Connections given up for the next address, closing.
  std::vector<std::pair<std::unique_ptr<Sink>, std::unique_ptr<stream::Transport>>> retired_;
  xml::StreamParser parser_;
  Target target_{};
  std::string address_;
  std::string stream_id_;        // the receiving server's id: part of the dialback key
  bool peer_dialback_ = false;   // the dialback feature, or a pre-1.0 server
  bool header_seen_ = false;
  bool connected_once_ = false;  // a TCP connection was made to some address
  bool sasl_tried_ = false;
  bool sasl_done_ = false;            // authenticated by SASL EXTERNAL, not dialback
  bool external_broke_peer_ = false;  // the peer closed on our SASL EXTERNAL: dialback only
  bool dialback_sent_ = false;   // our own db:result is out: only then is an answer taken
  bool bidi_ = false;            // we sent <bidi/>: the peer may send on this stream once ready
  tls::PeerVerification certificate_;
  DaneLookup dane_;           // the TLSA records of this connection's target
  std::string dane_outcome_;  // "DANE-EE matched", "no DANE (unsigned)"...: empty without use_dane
  bool dane_matched_ = false;
  std::size_t peer_max_bytes_ = 0;  // 0: not advertised
  std::size_t send_limit_ = 0;      // what send_stanza() allows, set when the stream is ready
  std::string refused_peer_;        // note_refused_peer()
  std::vector<Verify> verifies_;    // not yet sent
  std::map<VerifyKey, std::uint64_t> waiting_;  // sent, by what the answer carries
  // Local domains added after the first: when their db:result went out, and whether the
  // peer has accepted it.
  struct Extra {
    std::chrono::steady_clock::time_point asked;
    bool accepted = false;
  };
  std::map<std::string, Extra> extra_locals_;
  ipc::EventPtr timer_;
  bool sent_since_tick_ = false;
  bool held_back_ = false;  // congested() said so, and the transport has not drained since
  bool sm_offered_ = false;         // the features after authentication (or the only ones) had <sm/>
  bool sm_ = false;                 // <enable/> sent: what goes out is counted and kept
  bool sm_peer_enabled_ = false;    // <enabled/> received: the peer's stanzas (bidi) are counted
  bool ack_requested_ = false;      // an <r/> is out, not yet answered
  std::uint32_t requested_at_ = 0;  // the count sent when the last <r/> went: no ping-pong
  bool closed_by_us_ = false;
  AckQueue acks_;
  HandledCount handled_;  // the peer's stanzas on a bidirectional stream
  ipc::EventPtr ack_timer_;
  // The <r/>'s deadline counts from when it was written to the connection: until then it
  // waits behind what the peer has not read, and is extended while the peer keeps reading
  // (what the transport has written grows) or while we are not reading its answer (the
  // router is behind). A slow but live peer, or our own pause, is not a dead link.
  bool ack_request_written_ = false;
  std::uint64_t written_at_deadline_ = 0;
  bool reading_paused_ = false;
  int idle_ticks_ = 0;
  time_t started_ = 0;        // made (loop clock): xmppctl's age
  time_t last_received_ = 0;  // the peer's last byte: xmppctl's idle time
};

}  // namespace xmppd::s2s
