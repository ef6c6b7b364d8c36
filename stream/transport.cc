#include "stream/transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <utility>

#include "tls/handshake_counts.h"

namespace xmppd::stream {
namespace {

// One read buffer for every connection of the process: idle connections hold none.
char g_read_buffer[16384];

std::string tls_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "TLS connection closed";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

Transport::Transport(struct event_base* base, UniqueFd fd, std::string peer, Events& events)
    : base_(base), fd_(std::move(fd)), peer_(std::move(peer)), events_(events) {}

Transport::~Transport() = default;

void Transport::start() {
  want(EV_READ);
  read_buffered();
}

void Transport::want(short events) {
  if (state_ == State::kClosed) return;
  wanted_ = events;
  // A handshake reads whatever the stream above it wants: only stanzas are held back. After
  // <starttls/> nothing is read until the handshake, which takes the peer's next bytes.
  bool hold = (state_ == State::kPlain || state_ == State::kTls) && (holding_reads() || tls_pending_);
  short armed = hold ? static_cast<short>(events & ~EV_READ) : events;
  if (event_ && armed_ == armed) return;
  event_.reset(event_new(base_, fd_.get(), static_cast<short>(armed | EV_PERSIST), on_event, this));
  if (armed != 0) event_add(event_.get(), nullptr);
  armed_ = armed;
  // A flush scheduled on the event just replaced is not lost: output is either on its way
  // out at the end of this turn or waiting for the socket to take it.
  if (queued() > 0 && !(armed & EV_WRITE) && (state_ == State::kPlain || state_ == State::kTls))
    event_active(event_.get(), EV_WRITE, 0);
}

void Transport::pause_reading(bool paused) {
  if (paused == reading_paused_) return;
  reading_paused_ = paused;
  if (!event_ || (state_ != State::kPlain && state_ != State::kTls)) return;
  want(wanted_);
  if (!paused) read_buffered();
}

void Transport::on_event(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<Transport*>(arg);
  if (self->state_ == State::kDraining) {
    if (what & EV_TIMEOUT)
      self->finish("closed");
    else
      self->drain();
    return;
  }
  if (self->state_ == State::kHandshake) {
    self->handshake();
    return;
  }
  if (what & EV_WRITE) self->writable();
  // A write that finished a STARTTLS <proceed/> started the handshake: the bytes waiting
  // are the peer's ClientHello, for the handshake (readable() leaves them alone).
  if (self->state_ == State::kHandshake) return;
  if (self->state_ != State::kClosed && (what & EV_READ)) self->readable();
  if (self->state_ != State::kTls) return;
  // A write that had to wait for the peer's bytes (SSL_write wanting a read) goes on now.
  if (std::exchange(self->write_wants_read_, false)) self->flush();
  // A write may have let OpenSSL read ahead records that the socket's readiness cannot show.
  if (!(what & EV_READ)) self->read_buffered();
}

void Transport::send(std::string_view bytes) {
  if (state_ == State::kClosed || closing_) return;
  // What waits for the end of the turn may go now: only what the peer has not taken counts.
  if (queued() + bytes.size() > kMaxQueued && state_ != State::kHandshake) flush();
  if (state_ == State::kClosed) return;
  if (queued() + bytes.size() > kMaxQueued) {
    finish("the peer does not read what it is sent (output queue over " + std::to_string(kMaxQueued >> 20) + " MiB)");
    return;
  }
  bool was_empty = queued() == 0;
  out_.append(bytes);
  if (state_ == State::kHandshake) return;
  // Everything sent in this turn of the event loop goes out together at its end: one TLS
  // record and one system call for a burst of stanzas rather than one each. A turn that
  // sends much writes as it goes (unless the socket is full: it goes when it can take more).
  if (!event_ || (queued() >= kWriteAtOnce && !(armed_ & EV_WRITE))) {
    flush();
    return;
  }
  if (was_empty) event_active(event_.get(), EV_WRITE, 0);
}

void Transport::flush() {
  while (queued() > 0 && state_ != State::kClosed) {
    const char* data = out_.data() + out_pos_;
    std::size_t size = queued();
    if (state_ == State::kTls) {
      int n = SSL_write(ssl_.get(), data, static_cast<int>(std::min<std::size_t>(size, INT32_MAX)));
      if (n <= 0) {
        int err = SSL_get_error(ssl_.get(), n);
        if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
          write_wants_read_ = err == SSL_ERROR_WANT_READ;
          want(err == SSL_ERROR_WANT_WRITE ? EV_READ | EV_WRITE : EV_READ);
          return;
        }
        finish(tls_error());
        return;
      }
      consumed(static_cast<std::size_t>(n));
    } else {
      ssize_t n = ::write(fd_.get(), data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        want(EV_READ | EV_WRITE);
        return;
      }
      if (n < 0) {
        finish(std::strerror(errno));
        return;
      }
      consumed(static_cast<std::size_t>(n));
    }
  }
  if (state_ == State::kClosed) return;
  // Everything is out.
  if (tls_pending_) {
    tls_pending_ = false;
    state_ = State::kHandshake;
    handshake();
    return;
  }
  if (closing_) {
    if (ssl_ && state_ == State::kTls) SSL_shutdown(ssl_.get());
    ::shutdown(fd_.get(), SHUT_WR);
    state_ = State::kDraining;
    event_.reset(event_new(base_, fd_.get(), EV_READ | EV_PERSIST, on_event, this));
    timeval tv{kDrainSeconds, 0};
    event_add(event_.get(), &tv);
    return;
  }
  want(EV_READ);
}

// Written bytes leave the queue by an offset: erasing the front after every record would
// copy a long queue over and over. An emptied queue gives its memory back, so that a
// connection that once had a burst does not keep the buffer while idle.
void Transport::consumed(std::size_t n) {
  written_ += n;
  out_pos_ += n;
  if (out_pos_ == out_.size()) {
    if (out_.capacity() > kKeptBuffer)
      std::string().swap(out_);
    else
      out_.clear();
    out_pos_ = 0;
  } else if (out_pos_ > kKeptBuffer && out_pos_ > out_.size() / 2) {
    out_.erase(0, out_pos_);
    out_pos_ = 0;
  }
}

void Transport::writable() {
  bool had_queue = queued() > 0;
  flush();
  if (had_queue && queued() == 0 && (state_ == State::kPlain || state_ == State::kTls) && !closing_)
    events_.drained();
}

void Transport::set_rate_limit(const RateLimit& limit) {
  if (limit.bytes_per_second <= 0) {
    rate_.reset();
    rate_timer_.reset();
    if (std::exchange(rate_paused_, false) && reads_data()) {
      want(wanted_);
      read_buffered();
    }
    return;
  }
  rate_.emplace(limit.bytes_per_second, limit.bytes_per_second * limit.burst_seconds, TokenBucket::Clock::now());
}

std::size_t Transport::read_allowance() {
  if (!rate_) return sizeof g_read_buffer;
  const TokenBucket::Clock::time_point now = TokenBucket::Clock::now();
  rate_->refill(now);
  if (std::uint64_t available = rate_->available(); available > 0)
    return static_cast<std::size_t>(std::min<std::uint64_t>(available, sizeof g_read_buffer));
  // Over the rate: wait for a quarter of a second's worth (at least one byte), not for every
  // byte, so that a slow peer costs a few wake-ups a second.
  auto wanted = static_cast<std::uint64_t>(rate_->rate() / 4) + 1;
  auto wait = std::chrono::ceil<std::chrono::microseconds>(rate_->ready_at(wanted) - now);
  rate_paused_ = true;
  want(wanted_);
  if (!rate_timer_) rate_timer_.reset(evtimer_new(base_, on_rate_refilled, this));
  timeval tv{static_cast<time_t>(wait.count() / 1000000), static_cast<suseconds_t>(wait.count() % 1000000)};
  evtimer_add(rate_timer_.get(), &tv);
  return 0;
}

void Transport::on_rate_refilled(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Transport*>(arg);
  self->rate_paused_ = false;
  if (!self->reads_data() || !self->event_) return;
  self->want(self->wanted_);
  // What OpenSSL already holds, or (plaintext) what the socket holds, is read now.
  event_active(self->event_.get(), EV_READ, 0);
}

void Transport::readable() {
  while (reads_data() && !holding_reads()) {
    std::size_t allowance = read_allowance();
    if (allowance == 0) return;
    if (state_ == State::kTls) {
      int n = SSL_read(ssl_.get(), g_read_buffer, static_cast<int>(allowance));
      if (n <= 0) {
        int err = SSL_get_error(ssl_.get(), n);
        if (err == SSL_ERROR_WANT_READ) return;
        if (err == SSL_ERROR_WANT_WRITE) {
          want(EV_READ | EV_WRITE);
          return;
        }
        finish(err == SSL_ERROR_ZERO_RETURN ? "closed by peer" : tls_error());
        return;
      }
      if (rate_) rate_->take(static_cast<std::size_t>(n));
      events_.received(std::string_view(g_read_buffer, static_cast<std::size_t>(n)));
    } else {
      ssize_t n = ::read(fd_.get(), g_read_buffer, allowance);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) {
        finish(n == 0 ? "closed by peer" : std::strerror(errno));
        return;
      }
      if (rate_) rate_->take(static_cast<std::size_t>(n));
      events_.received(std::string_view(g_read_buffer, static_cast<std::size_t>(n)));
    }
    // The handler may have started TLS, closed the connection or paused reading.
    if (closing_) return;
  }
}

void Transport::drain() {
  for (;;) {
    ssize_t n = ::read(fd_.get(), g_read_buffer, sizeof g_read_buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    finish("closed");
    return;
  }
}

void Transport::start_tls(tls::SslPtr ssl, TlsSide side) {
  if (!ssl || SSL_set_fd(ssl.get(), fd_.get()) != 1) {
    finish("no TLS context for this host");
    return;
  }
  configure(ssl.get());
  if (side == TlsSide::kServer)
    SSL_set_accept_state(ssl.get());
  else
    SSL_set_connect_state(ssl.get());
  ssl_ = std::move(ssl);
  tls_pending_ = true;
  flush();
}

// Read-ahead lets OpenSSL take whatever the socket holds in one read(2), rather than each
// record's header and body in two. What it read beyond the record it returns stays in the
// SSL object, where the socket's readiness cannot show it: see read_buffered().
void Transport::configure(SSL* ssl) {
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_read_ahead(ssl, 1);
}

// Records that arrived together with the last handshake message are read now, from the loop.
void Transport::read_buffered() {
  if (ssl_ && event_ && SSL_has_pending(ssl_.get())) event_active(event_.get(), EV_READ, 0);
}

void Transport::handshake() {
  int rc = SSL_do_handshake(ssl_.get());
  if (rc == 1) {
    ++tls::handshake_counts().completed;
    state_ = State::kTls;
    acknowledge_now();
    want(EV_READ);
    read_buffered();
    events_.tls_established();
    if (state_ == State::kTls) flush();
    return;
  }
  int err = SSL_get_error(ssl_.get(), rc);
  if (err == SSL_ERROR_WANT_READ) {
    want(EV_READ);
  } else if (err == SSL_ERROR_WANT_WRITE) {
    want(EV_READ | EV_WRITE);
  } else {
    ++tls::handshake_counts().failed;
    finish("TLS handshake failed: " + tls_error());
  }
}

// A TLS 1.3 server whose handshake ends has nothing to send (no session ticket: see
// tls/server_contexts.cc), so the kernel would delay its acknowledgement of the peer's
// Finished by up to 40 ms; a peer with Nagle's algorithm on holds its first stream header
// until then. Acknowledging at once costs nothing and takes that wait out of every login.
void Transport::acknowledge_now() {
#ifdef TCP_QUICKACK
  int on = 1;
  setsockopt(fd_.get(), IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
#endif
}

void Transport::close() {
  if (state_ == State::kClosed) return;
  closing_ = true;
  if (state_ != State::kHandshake) flush();
}

// The owner hears of the end from the event loop, never from inside a call it made
// (send, close, start_tls): it may then destroy what it likes, the transport included.
void Transport::finish(std::string_view why) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  event_.reset();
  rate_timer_.reset();
  fd_.reset();
  why_closed_ = why;
  event_.reset(event_new(base_, -1, 0, on_finished, this));
  event_active(event_.get(), EV_TIMEOUT, 0);
}

void Transport::on_finished(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Transport*>(arg);
  self->events_.closed(self->why_closed_);
}

}  // namespace xmppd::stream
