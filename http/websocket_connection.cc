// One WebSocket client after the upgrade (websocket_connection.h says what is trusted).
#include "http/websocket_connection.h"

#include <event2/buffer.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "common/log.h"
#include "http/connections.h"

namespace xmppd::http {
namespace {

constexpr std::uint16_t kCloseUnsupported = 1003;  // RFC 6455 §7.4.1: binary data
constexpr int kLingerSeconds = 2;
// From our close frame being queued to the client having taken it and what came before: a
// client that does not read is not waited for longer (its output may be max_queued).
constexpr int kCloseSeconds = 5;
// A client whose output makes no progress for this long is gone (evhttp's own timeouts end
// with the take-over; this one holds while anything is waiting for the client).
constexpr int kWriteTimeoutSeconds = 60;

WebSocketConnection* self_of(void* p) { return static_cast<WebSocketConnection*>(p); }

}  // namespace

WebSocketConnection::WebSocketConnection(struct event_base* base, evhttp_connection* evcon, UniqueFd router,
                                         std::string peer, const WebSocketLimits& limits, std::set<std::string> hosts,
                                         Done done)
    : base_(base),
      evcon_(evcon),
      router_fd_(std::move(router)),
      peer_(std::move(peer)),
      limits_(limits),
      done_(std::move(done)),
      ws_(limits.max_message, limits.max_router_element) {
  ws_.set_hosts(std::move(hosts));
}

WebSocketConnection::~WebSocketConnection() {
  if (wslay_ != nullptr) wslay_event_context_free(wslay_);
  if (router_ != nullptr) {
    // What the client said last (its </stream:stream>) goes out before the end of the
    // socket, so that the router sees a closed stream rather than a cut one.
    (void)evbuffer_write(bufferevent_get_output(router_), bufferevent_getfd(router_));
    bufferevent_free(router_);
  }
  // Ours since start(): evhttp frees it (the request, the bufferevent, the socket) once, and
  // tells the server's connection count (http/connections.cc) through its close callback.
  if (evcon_ != nullptr) evhttp_connection_free(evcon_);
}

bool WebSocketConnection::start() {
  client_ = evhttp_connection_get_bufferevent(evcon_);
  if (client_ == nullptr) return false;
  router_ = bufferevent_socket_new(base_, router_fd_.get(), BEV_OPT_CLOSE_ON_FREE);
  if (router_ == nullptr) return false;
  // The bufferevent closes it from now on, also when start() fails below: closing it here
  // too would close it twice (the second time perhaps someone else's descriptor).
  (void)router_fd_.release();
  wslay_event_callbacks callbacks{wslay_recv, wslay_send, nullptr, wslay_frame_start, nullptr, nullptr, wslay_message};
  if (wslay_event_context_server_init(&wslay_, &callbacks, this) != 0) {
    wslay_ = nullptr;
    return false;
  }
  wslay_event_config_set_max_recv_msg_length(wslay_, limits_.max_message);
  // evhttp's callbacks are replaced, so it never reads or writes this connection again; the
  // request it still holds goes when the connection is freed (by the destructor, which runs
  // before evhttp_free: the handler is destroyed before the server). Its idle timeout goes
  // too, and the slow-request rule: the router's own timeouts apply to the stream, and a
  // write timeout here to a client that stops reading.
  connection_upgraded(evcon_);
  bufferevent_setcb(client_, on_client_read, on_client_write, on_client_event, this);
  timeval write_timeout{kWriteTimeoutSeconds, 0};
  bufferevent_set_timeouts(client_, nullptr, &write_timeout);
  // on_client_write runs once the client's output is down to half of max_queued: reading
  // the client (stopped in wslay_recv) resumes before the output is empty.
  bufferevent_setwatermark(client_, EV_WRITE, limits_.max_queued / 2, 0);
  bufferevent_enable(client_, EV_READ | EV_WRITE);
  bufferevent_setcb(router_, on_router_read, on_router_write, on_router_event, this);
  bufferevent_enable(router_, EV_READ | EV_WRITE);
  linger_.reset(evtimer_new(base_, on_linger_over, this));
  // Frames that came with the upgrade request are already in the buffer.
  if (evbuffer_get_length(bufferevent_get_input(client_)) > 0) client_readable();
  return true;
}

ssize_t WebSocketConnection::wslay_recv(wslay_event_context_ptr ctx, std::uint8_t* buf, std::size_t len, int,
                                        void* p) {
  auto* self = self_of(p);
  // Backpressure: while the router has not taken what it was given, the client waits; and
  // while the client has not taken what it was sent, since wslay answers its pings (and
  // closes) by itself, so reading it can grow its output without the router writing.
  if ((self->router_ != nullptr &&
       evbuffer_get_length(bufferevent_get_output(self->router_)) > self->limits_.max_queued) ||
      evbuffer_get_length(bufferevent_get_output(self->client_)) > self->limits_.max_queued) {
    bufferevent_disable(self->client_, EV_READ);
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  int n = evbuffer_remove(bufferevent_get_input(self->client_), buf, len);
  if (n <= 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  return n;
}

ssize_t WebSocketConnection::wslay_send(wslay_event_context_ptr ctx, const std::uint8_t* data, std::size_t len, int,
                                        void* p) {
  auto* self = self_of(p);
  if (self->client_ == nullptr || bufferevent_write(self->client_, data, len) != 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  return static_cast<ssize_t>(len);
}

// Checks wslay leaves to its user: RFC 7395 §3.2 carries text only, and a message in more
// than max_fragments frames is refused as Prosody refuses it (each frame costs a buffer).
void WebSocketConnection::wslay_frame_start(wslay_event_context_ptr, const wslay_event_on_frame_recv_start_arg* arg,
                                            void* p) {
  auto* self = self_of(p);
  if (arg->opcode & 0x8) return;  // control frames: ping, pong, close
  if (arg->opcode == WSLAY_BINARY_FRAME) {
    self->close_websocket(kCloseUnsupported, "only text frames carry XMPP (RFC 7395)");
    return;
  }
  if (++self->fragments_ > self->limits_.max_fragments)
    self->close_websocket(kCloseTooBig, "too many fragments in one message");
}

void WebSocketConnection::wslay_message(wslay_event_context_ptr, const wslay_event_on_msg_recv_arg* arg, void* p) {
  auto* self = self_of(p);
  if (arg->opcode == WSLAY_TEXT_FRAME) {
    self->fragments_ = 0;
    self->text_message(std::string_view(reinterpret_cast<const char*>(arg->msg), arg->msg_length));
  } else if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
    // wslay answers the close frame; the router's stream ends without a </stream:stream>.
    self->close_router();
  }
}

void WebSocketConnection::text_message(std::string_view message) {
  if (router_ == nullptr || router_closing_) return;
  std::string to_router;
  if (!ws_.client_message(message, to_router)) {
    translation_failed();
    return;
  }
  bufferevent_write(router_, to_router.data(), to_router.size());
}

void WebSocketConnection::send_text(const std::string& message) {
  wslay_event_msg msg{WSLAY_TEXT_FRAME, reinterpret_cast<const std::uint8_t*>(message.data()), message.size()};
  wslay_event_queue_msg(wslay_, &msg);  // refused only once our close is queued
}

void WebSocketConnection::close_websocket(std::uint16_t code, std::string_view reason) {
  log::info("websocket from %s: closing with %u: %.*s", peer_.c_str(), code, static_cast<int>(reason.size()),
            reason.data());
  // wslay sends control frames before queued messages: the close waits until the messages
  // before it (a stream error, <close/>) are out (pump()).
  if (!pending_close_) pending_close_.emplace(code, std::string(reason.substr(0, 120)));
  // After an error nothing more of the client's is parsed; after a clean end its answering
  // close frame still is, so that the connection ends as soon as it comes.
  if (code != kCloseNormal) wslay_event_shutdown_read(wslay_);
  close_router();
}

void WebSocketConnection::translation_failed() {
  const WsStream::Failure& f = ws_.failure();
  log::info("websocket from %s: stream error %s: %s", peer_.c_str(), f.condition.c_str(), f.text.c_str());
  for (const std::string& m : ws_.failure_messages()) send_text(m);
  close_websocket(f.close_code, f.condition);
}

void WebSocketConnection::on_client_read(bufferevent*, void* p) { self_of(p)->client_readable(); }

void WebSocketConnection::client_readable() {
  if (finished_ || client_ == nullptr) return;
  if (!wslay_event_get_read_enabled(wslay_)) {
    // After our close frame: what the client still sends is dropped until it closes too.
    evbuffer_drain(bufferevent_get_input(client_), evbuffer_get_length(bufferevent_get_input(client_)));
  } else if (wslay_event_recv(wslay_) != 0) {
    wslay_event_shutdown_read(wslay_);
  }
  // wslay stops reading once it has queued a close of its own (a protocol error) or
  // answered the client's.
  if (!wslay_event_get_read_enabled(wslay_)) close_router();
  pump();
}

void WebSocketConnection::on_client_write(bufferevent*, void* p) {
  auto* self = self_of(p);
  // The client has taken what it was sent (down to the low-water mark): the router and the
  // client may be read again.
  if (self->router_ != nullptr && !self->router_closing_) bufferevent_enable(self->router_, EV_READ);
  if (!self->finished_ && self->client_ != nullptr && wslay_event_get_read_enabled(self->wslay_)) {
    bufferevent_enable(self->client_, EV_READ);
    self->client_readable();  // pumps
    return;
  }
  self->pump();
}

void WebSocketConnection::on_client_event(bufferevent*, short what, void* p) {
  auto* self = self_of(p);
  // A timeout is the write timeout: the client has not read for kWriteTimeoutSeconds.
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
    self->close_router();
    self->finish();
  }
}

void WebSocketConnection::on_router_read(bufferevent*, void* p) { self_of(p)->router_readable(); }

void WebSocketConnection::router_readable() {
  if (finished_ || router_ == nullptr) return;
  evbuffer* in = bufferevent_get_input(router_);
  std::vector<std::string> messages;
  bool ok = true;
  while (ok && evbuffer_get_length(in) > 0 && !ws_.router_closed()) {
    char chunk[16384];
    int n = evbuffer_remove(in, chunk, sizeof chunk);
    if (n <= 0) break;
    ok = ws_.router_bytes(std::string_view(chunk, static_cast<std::size_t>(n)), messages);
  }
  for (const std::string& m : messages) send_text(m);
  if (!ok) {
    log::warning("websocket from %s: the router's stream: %s", peer_.c_str(), ws_.failure().text.c_str());
    translation_failed();
  } else if (ws_.router_closed()) {
    close_websocket(kCloseNormal, "stream closed");
  } else if (client_ != nullptr && evbuffer_get_length(bufferevent_get_output(client_)) > limits_.max_queued) {
    bufferevent_disable(router_, EV_READ);  // until the client has read (on_client_write)
  }
  pump();
}

void WebSocketConnection::on_router_write(bufferevent*, void* p) {
  auto* self = self_of(p);
  if (self->router_closing_) {
    bufferevent_free(self->router_);
    self->router_ = nullptr;
    self->pump();
    return;
  }
  // The router has taken what the client sent: the client may be read again.
  if (self->client_ != nullptr && wslay_event_get_read_enabled(self->wslay_)) {
    bufferevent_enable(self->client_, EV_READ);
    self->client_readable();
  }
}

void WebSocketConnection::on_router_event(bufferevent*, short what, void* p) {
  auto* self = self_of(p);
  if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) return;
  bufferevent_free(self->router_);
  self->router_ = nullptr;
  // A router that ended its stream properly has been answered already; one that went away
  // (restarted) leaves the client a close it can reconnect after.
  if (!self->ws_.router_closed() && !wslay_event_get_close_sent(self->wslay_))
    self->close_websocket(kCloseInternalError, "the server's stream ended");
  self->pump();
}

// The router's end sees EOF once what it was given has been written.
void WebSocketConnection::close_router() {
  if (router_ == nullptr || router_closing_) return;
  router_closing_ = true;
  bufferevent_disable(router_, EV_READ);
  if (evbuffer_get_length(bufferevent_get_output(router_)) == 0) {
    bufferevent_free(router_);
    router_ = nullptr;
  }
}

// Sends what wslay has queued. Once our close frame is queued the connection has
// kCloseSeconds for the client to take it; once it has, our side of the connection is shut
// (the client reads the end right after the close code) and the connection lingers until the
// client closes too, at most kLingerSeconds more: closing with its frames unread would reset
// the connection, and the client could lose the close code.
void WebSocketConnection::pump() {
  if (finished_ || client_ == nullptr) return;
  if (wslay_event_want_write(wslay_) && wslay_event_send(wslay_) != 0) {
    finish();
    return;
  }
  if (pending_close_ && wslay_event_get_queued_msg_count(wslay_) == 0) {
    const auto& [code, reason] = *pending_close_;
    wslay_event_queue_close(wslay_, code, reinterpret_cast<const std::uint8_t*>(reason.data()), reason.size());
    pending_close_.reset();
    if (wslay_event_send(wslay_) != 0) {
      finish();
      return;
    }
  }
  if (!wslay_event_get_close_sent(wslay_)) return;
  if (!closing_) {
    closing_ = true;
    timeval tv{kCloseSeconds, 0};
    evtimer_add(linger_.get(), &tv);
  }
  if (evbuffer_get_length(bufferevent_get_output(client_)) > 0) return;
  if (wslay_event_get_close_received(wslay_)) {
    finish();
    return;
  }
  if (lingering_) return;
  lingering_ = true;
  if (evutil_socket_t fd = bufferevent_getfd(client_); fd >= 0) shutdown(fd, SHUT_WR);
  timeval tv{kLingerSeconds, 0};
  evtimer_add(linger_.get(), &tv);  // replaces what is left of kCloseSeconds
}

void WebSocketConnection::on_linger_over(evutil_socket_t, short, void* p) { self_of(p)->finish(); }

void WebSocketConnection::finish() {
  if (finished_) return;
  finished_ = true;
  if (client_ != nullptr) bufferevent_disable(client_, EV_READ | EV_WRITE);
  if (router_ != nullptr && !router_closing_) close_router();
  done_(this);
}

}  // namespace xmppd::http
