// One WebSocket client of the HTTP process after the upgrade (RFC 6455, RFC 7395): the
// connection taken over from evhttp, framed by wslay, translated by WsStream to a plain
// client stream on one end of a socketpair whose other end the router reads.
//
// Trust: the client's frames are hostile (wslay checks masking, opcodes, UTF-8 and sizes;
// this file the fragment count and the opcodes XMPP allows), and so is the router's output,
// which WsStream parses before any of it becomes a frame.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <wslay/wslay.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <utility>
#include <string>
#include <string_view>

#include "common/event_ptr.h"
#include "common/unique_fd.h"
#include "http/ws_stream.h"

namespace xmppd::http {

struct WebSocketLimits {
  // Prosody's websocket_frame_buffer_limit: twice c2s_stanza_size_limit's default.
  std::size_t max_message = 2 * 256 * 1024;
  // Prosody's websocket_frame_fragment_limit.
  std::size_t max_fragments = 8;
  // Bytes waiting for the router or the client before the other side stops being read.
  std::size_t max_queued = 1 << 20;
  // What the router may send as one element (its own answers can be large: a roster).
  std::size_t max_router_element = 4 << 20;
};

class WebSocketConnection {
 public:
  // Called once, from the loop, when the connection is over: the owner then destroys it.
  using Done = std::function<void(WebSocketConnection*)>;

  // `evcon`: the connection whose 101 answer evhttp has just queued. `router`: this
  // process's end of the socketpair.
  WebSocketConnection(struct event_base* base, evhttp_connection* evcon, UniqueFd router, std::string peer,
                      const WebSocketLimits& limits, std::set<std::string> hosts, Done done);
  WebSocketConnection(const WebSocketConnection&) = delete;
  WebSocketConnection& operator=(const WebSocketConnection&) = delete;
  ~WebSocketConnection();

  // Takes the connection from evhttp: from now on only this object reads and writes it,
  // and frees it (evhttp_connection_free, once). Its owner must go before the evhttp.
  bool start();
  const std::string& peer() const { return peer_; }

 private:
  // libevent and wslay callbacks.
  static void on_client_read(bufferevent*, void* self);
  static void on_client_write(bufferevent*, void* self);
  static void on_client_event(bufferevent*, short what, void* self);
  static void on_router_read(bufferevent*, void* self);
  static void on_router_write(bufferevent*, void* self);
  static void on_router_event(bufferevent*, short what, void* self);
  static void on_linger_over(evutil_socket_t, short, void* self);
  static ssize_t wslay_recv(wslay_event_context_ptr, std::uint8_t* buf, std::size_t len, int, void* self);
  static ssize_t wslay_send(wslay_event_context_ptr, const std::uint8_t* data, std::size_t len, int, void* self);
  static void wslay_frame_start(wslay_event_context_ptr, const wslay_event_on_frame_recv_start_arg* arg, void* self);
  static void wslay_message(wslay_event_context_ptr, const wslay_event_on_msg_recv_arg* arg, void* self);

  void client_readable();
  void router_readable();
  void text_message(std::string_view message);
  void send_text(const std::string& message);
  // Ends the WebSocket with `code` (RFC 6455 §7.4.1) after what is queued; nothing more is read.
  void close_websocket(std::uint16_t code, std::string_view reason);
  // The translator failed: the stream error, <close/>, then the close frame.
  void translation_failed();
  void close_router();
  void pump();
  void finish();

  struct event_base* base_;
  evhttp_connection* evcon_;
  bufferevent* client_ = nullptr;  // evhttp's, freed with evcon_
  bufferevent* router_ = nullptr;  // ours
  UniqueFd router_fd_;             // until start()
  std::string peer_;
  WebSocketLimits limits_;
  Done done_;
  WsStream ws_;
  wslay_event_context_ptr wslay_ = nullptr;
  std::size_t fragments_ = 0;      // frames of the message being received
  bool router_closing_ = false;    // free router_ once its output is written
  bool closing_ = false;           // our close frame is queued; linger_ bounds the rest
  bool lingering_ = false;         // our close is out; waiting for the client's or its EOF
  bool finished_ = false;
  std::optional<std::pair<std::uint16_t, std::string>> pending_close_;  // close_websocket() before pump()
  EventPtr linger_;
};

}  // namespace xmppd::http
