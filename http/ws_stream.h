// RFC 7395 framing <-> a plain XMPP client stream, both ways, with no I/O: what the HTTP
// process (http/websocket.cc) runs between a WebSocket client and the router's end of a
// socketpair, so that the router sees an ordinary client stream.
//
// Trust: the client's messages are hostile; each must be exactly one complete element,
// which is parsed (xml/fragment.h, RFC 6120 §11 restrictions and limits) and serialized
// again, so the router never gets a byte the translator did not parse. The router's output
// is parsed incrementally too (xml/stream_parser.h) and held to a size limit: the router
// also reads hostile bytes and is not trusted more than that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "xml/fragment.h"
#include "xml/stream_parser.h"

namespace xmppd::http {

inline constexpr std::string_view kFramingNs = "urn:ietf:params:xml:ns:xmpp-framing";

// WebSocket close codes (RFC 6455 §7.4.1) the translator asks for.
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseInvalidPayload = 1007;
inline constexpr std::uint16_t kCloseTooBig = 1009;
inline constexpr std::uint16_t kCloseInternalError = 1011;

class WsStream {
 public:
  // What went wrong, as the client is told: a stream error condition (RFC 6120 §4.9.3), a
  // text, and the WebSocket close code that follows.
  struct Failure {
    std::string condition;
    std::string text;
    std::uint16_t close_code = 0;
  };

  // `max_message`: the largest client message (and element); `max_router_element`: the
  // largest element the router may send.
  WsStream(std::size_t max_message, std::size_t max_router_element);
  WsStream(const WsStream&) = delete;
  WsStream& operator=(const WsStream&) = delete;
  ~WsStream();
  // The hosts that enable "websocket": an <open/> to another is refused with host-unknown
  // (the router serves every host; this service is per host, as Prosody's module is).
  void set_hosts(std::set<std::string> hosts) { hosts_ = std::move(hosts); }

  // One text message from the client: the stream bytes for the router are appended to
  // `to_router`. False when the message breaks RFC 7395 (failed() says how); nothing of it
  // is appended then, and nothing more may be fed.
  bool client_message(std::string_view message, std::string& to_router);
  // Bytes the router wrote: each complete message for the client is appended to `to_client`.
  // False when the router's stream is not well-formed XML or over the limit.
  bool router_bytes(std::string_view bytes, std::vector<std::string>& to_client);

  // The messages that end the client's stream after a failure: <open/> if none was sent,
  // the stream error, <close/>. The WebSocket close with failure().close_code follows.
  std::vector<std::string> failure_messages() const;
  bool failed() const { return !failure_.condition.empty(); }
  const Failure& failure() const { return failure_; }

  bool client_closed() const { return client_ == ClientState::kClosed; }  // sent <close/>
  bool router_closed() const { return router_closed_; }                   // sent </stream:stream>

 private:
  enum class ClientState { kAwaitOpen, kOpen, kClosed };
  struct RouterSide;  // the router's stream parser and its handler

  bool fail(std::string condition, std::string text, std::uint16_t code);
  void open_stream(const xml::Element& open, std::string& to_router);
  // The router's stream events, as messages for the client.
  void router_opened(const xml::Element& header);
  void router_element(const xml::Element& element);
  void router_stream_closed();

  std::size_t max_message_;
  xml::FragmentParser client_parser_;
  std::unique_ptr<RouterSide> router_;
  ClientState client_ = ClientState::kAwaitOpen;
  bool router_opened_ = false;   // an <open/> went to the client
  bool router_closed_ = false;
  std::vector<std::string>* out_ = nullptr;  // where router events go during router_bytes()
  Failure failure_;
  std::set<std::string> hosts_;
};

}  // namespace xmppd::http
