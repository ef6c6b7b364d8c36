// One TCP connection of an XMPP stream: plaintext first (for STARTTLS) or TLS from the
// start, non-blocking on the event loop, with an output queue. It knows nothing of XML.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/unique_fd.h"
#include "proto/channel.h"
#include "common/token_bucket.h"
#include "tls/server_contexts.h"

namespace xmppd::stream {

// Prosody's `limits`: the bytes per second a connection's reads may average, and how many
// seconds of that rate may come at once.
struct RateLimit {
  double bytes_per_second = 0;  // 0: no limit
  double burst_seconds = 2;
};

class Transport {
 public:
  class Events {
   public:
    virtual ~Events() = default;
    virtual void received(std::string_view bytes) = 0;
    virtual void tls_established() = 0;
    // The connection is gone (peer closed, error, or after close()). Always called from
    // the event loop, never from inside a call into the transport; the owner may then
    // destroy the transport, but not from inside this call.
    virtual void closed(std::string_view why) = 0;
    // What was queued has all gone out: at the end of the loop turn in which it was sent, or
    // once a slow peer read it. For owners that hold back while queued() is high.
    virtual void drained() {}
  };

  Transport(struct event_base* base, UniqueFd fd, std::string peer, Events& events);
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
  ~Transport();

  void start();
  void send(std::string_view bytes);
  enum class TlsSide { kServer, kClient };
  // STARTTLS (what is queued goes out in plaintext first), or, called before anything is
  // sent, TLS from the first byte on an outbound connection.
  void start_tls(tls::SslPtr ssl, TlsSide side = TlsSide::kServer);
  // Sends what is queued, then closes (TLS close_notify included).
  void close();
  // Stops reading, so that the peer's TCP window closes, while whatever consumes what it
  // sends is behind; or starts again. Output still goes out. At most the bytes of the read
  // under way are handled after a pause.
  void pause_reading(bool paused);
  // Reads average at most this rate: over it, reading stops until the bucket has refilled
  // (nothing is dropped; the peer's TCP window closes meanwhile). TLS handshakes are not
  // counted. Applies from the next read.
  void set_rate_limit(const RateLimit& limit);
  // Closes at once, without sending what is queued: for a peer that has not finished a
  // TLS handshake in time, to whom nothing can be said.
  void abort(std::string_view why) { finish(why); }
  // STARTTLS was asked for and TLS is not established yet (or a TLS handshake is under way).
  bool negotiating_tls() const { return tls_pending_ || state_ == State::kHandshake; }

  // The connection is a local socket from a process that ended the client's TLS itself (the
  // HTTP process, for WebSocket clients over https): it counts as encrypted, and has no TLS
  // of its own (ssl() is null, so there is nothing for channel binding). Before start().
  void set_secured_elsewhere() { secured_elsewhere_ = true; }
  bool encrypted() const { return state_ == State::kTls || secured_elsewhere_; }
  std::size_t queued() const { return out_.size() - out_pos_; }
  // Bytes handed to the connection so far: once the kernel's buffer is full, it only grows
  // while the peer reads (the s2s ack deadline's sign of a slow but live peer).
  std::uint64_t written() const { return written_; }
  // An idle connection keeps no output buffer.
  void release_buffers() {
    if (queued() == 0) {
      std::string().swap(out_);
      out_pos_ = 0;
    }
  }
  // Sends still go out: neither closed nor closing.
  bool open() const { return state_ != State::kClosed && state_ != State::kDraining && !closing_; }
  SSL* ssl() const { return ssl_.get(); }
  const std::string& peer() const { return peer_; }

 private:
  // kDraining: our side is shut down and input is read and dropped until the peer closes
  // (or a short while passes); closing with unread input would make the kernel reset the
  // connection and the peer could lose our last words, a stream error among them.
  enum class State { kPlain, kHandshake, kTls, kDraining, kClosed };
  static constexpr int kDrainSeconds = 2;
  // A peer that does not read what it is sent cannot make the server hold more than this.
  static constexpr std::size_t kMaxQueued = 4 << 20;
  static constexpr std::size_t kKeptBuffer = 16 << 10;
  // Output that does not wait for the end of the loop turn: four full TLS records.
  static constexpr std::size_t kWriteAtOnce = 64 << 10;

  static void on_event(evutil_socket_t, short what, void* arg);
  static void on_finished(evutil_socket_t, short, void* arg);
  static void on_rate_refilled(evutil_socket_t, short, void* arg);
  // Plaintext or TLS application data may be read: never between <starttls/> and the
  // established TLS session (RFC 6120 §5.4.3.3), never during a handshake.
  bool reads_data() const { return (state_ == State::kPlain && !tls_pending_) || state_ == State::kTls; }
  bool holding_reads() const { return reading_paused_ || rate_paused_; }
  // How much the next read may take under the rate limit; 0 pauses reading until it may.
  std::size_t read_allowance();
  void readable();
  void writable();
  void handshake();
  void flush();
  void consumed(std::size_t n);
  void want(short events);
  void finish(std::string_view why);
  void drain();
  static void configure(SSL* ssl);
  void read_buffered();
  void acknowledge_now();

  struct event_base* base_;
  UniqueFd fd_;
  std::string peer_;
  Events& events_;
  State state_ = State::kPlain;
  tls::SslPtr ssl_;
  std::string out_;
  std::size_t out_pos_ = 0;  // bytes at the front of out_ already written
  std::uint64_t written_ = 0;
  bool tls_pending_ = false;   // STARTTLS waits for the plaintext queue to drain
  bool closing_ = false;
  ipc::EventPtr event_;  // I/O, then the deferred end
  short wanted_ = 0;  // what the state asks for
  short armed_ = 0;   // what the event waits for: wanted_, without reading while paused
  bool reading_paused_ = false;
  std::optional<TokenBucket> rate_;
  bool rate_paused_ = false;
  ipc::EventPtr rate_timer_;
  bool write_wants_read_ = false;   // SSL_write needs the peer's bytes before it can go on
  bool secured_elsewhere_ = false;  // set_secured_elsewhere(): encrypted before it reached us
  std::string why_closed_;
};

}  // namespace xmppd::stream
