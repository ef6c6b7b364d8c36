// An outbound server-to-server stream from one local domain to one remote domain: it
// connects (connector.h), secures the stream with STARTTLS or direct TLS, judges the peer's
// certificate, authenticates with SASL EXTERNAL or else dialback as policy allows, and then
// carries the stanzas the federation hands it. It also carries dialback verification
// requests (db:verify) for inbound streams claiming the remote domain.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "s2s-worker/connector.h"
#include "s2s-worker/federation.h"
#include "stream/transport.h"
#include "tls/peer_verify.h"
#include "xml/stream_parser.h"

namespace xmppd::s2s {

class OutboundStream final : stream::Transport::Events, xml::StreamParser::Handler {
 public:
  OutboundStream(Federation& federation, std::string local, std::string remote);
  ~OutboundStream() override;

  void start();
  bool ready() const { return state_ == State::kReady; }
  // Whether stanzas from `local` may go on this stream: the domain of its header once the
  // stream is ready, or another local domain that dialback has added.
  bool ready_for(const std::string& local) const;
  // Piggybacking (XEP-0220 §4.3): another local domain asks to use this ready stream. It is
  // proven with dialback on its own; false when that cannot work here (the peer does not do
  // dialback, or policy wants a certificate this peer's does not satisfy).
  bool add_local(const std::string& local);
  // Only once ready(). False when the stanza is over what the peer said it accepts
  // (XEP-0478 max-bytes).
  bool send_stanza(std::string_view xml);
  void send_verify(std::uint64_t request, const std::string& local, const std::string& stream_id,
                   const std::string& key);
  // Ends the stream (idle, or the worker stops).
  void close();

  const std::string& local() const { return local_; }
  const std::string& remote() const { return remote_; }

 private:
  enum class State { kConnecting, kOpening, kStarttls, kTlsHandshake, kAuthenticating, kSaslRestart, kReady, kDone };

  void connected(Connected connection);
  void open_stream();
  void secured(const xml::Element& features);
  void authenticate(const xml::Element& features);
  void try_dialback();
  void become_ready();
  void flush_verifies();
  void fail(const std::string& why, bool retry_next_address = false);
  void check_certificate();
  std::string tls_summary() const;
  static void on_timer(evutil_socket_t, short, void* arg);

  // Transport::Events
  void received(std::string_view bytes) override;
  void tls_established() override;
  void closed(std::string_view why) override;
  // xml::StreamParser::Handler
  void stream_opened(const xml::Element& header) override;
  void element(xml::Element element, std::size_t bytes) override;
  void stream_closed() override;

  Federation& federation_;
  std::string local_, remote_;
  State state_ = State::kConnecting;
  std::unique_ptr<ConnectAttempt> attempt_;
  std::unique_ptr<stream::Transport> transport_;
  // Transports of connections given up while inside their own callbacks.
  std::vector<std::unique_ptr<stream::Transport>> retired_;
  xml::StreamParser parser_;
  Target target_{};
  std::string address_;
  std::string stream_id_;        // the receiving server's id: part of the dialback key
  bool peer_dialback_ = false;   // xmlns:db on the header or the dialback feature
  bool header_seen_ = false;
  bool connected_once_ = false;   // a TCP connection was made to some address
  bool sasl_tried_ = false;
  tls::PeerVerification certificate_;
  std::size_t peer_max_bytes_ = 0;  // 0: not advertised
  struct Verify {
    std::uint64_t request;
    std::string local, stream_id, key;
  };
  void dialback_answer(const xml::Element& result);
  std::vector<Verify> verifies_;       // not yet sent
  std::vector<std::uint64_t> waiting_; // sent, awaiting the answer (answers carry ids, not ours)
  std::map<std::string, std::uint64_t> by_stream_id_;
  // Local domains added after the first: false while their dialback is in progress.
  std::map<std::string, bool> extra_locals_;
  ipc::EventPtr timer_;
  bool sent_since_tick_ = false;
  int idle_ticks_ = 0;
};

}  // namespace xmppd::s2s
