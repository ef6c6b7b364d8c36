// The router's end of its link to the HTTP process (proto/router_http.proto): WebSocket
// clients (RFC 7395) arrive as one end of a socketpair on which the HTTP process writes a
// plain client stream. The HTTP process parses hostile bytes too and is trusted no more
// than a client: the descriptor must be a connected socket, the peer an address, the
// TLS facts short printable text, and records come at a bounded rate (HandoverRate); the
// stream itself is read by the same code, under the same limits, as a TCP client's.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proto/channel.h"
#include "router_http.pb.h"
#include "stream/session.h"

namespace xmppd::router {

// Why a WebSocketClient record cannot be taken, or nullptr: for a unit test and the link.
const char* refused_websocket_client(const ipc::WebSocketClient& client, int fd);

// How many WebSocketClient records the router takes: kBurst at once, then kPerSecond. A
// compromised HTTP process chooses each record's peer, so the per-address limits do not
// bound it; this does, independent of the configuration (each record costs an fd and a
// session until at least the negotiation timeout).
class HandoverRate {
 public:
  static constexpr double kPerSecond = 50;
  static constexpr double kBurst = 200;
  // Whether one more record may be taken at `now`.
  bool take(std::chrono::steady_clock::time_point now);

 private:
  double tokens_ = kBurst;
  std::chrono::steady_clock::time_point last_{};
};

class HttpLink {
 public:
  // `adopt` starts the client stream (stream::Service::adopt) and returns why it refused it,
  // or an empty string.
  using Adopt = std::function<std::string(UniqueFd fd, std::string peer, stream::RelayedClient facts)>;

  HttpLink(struct event_base* base, Adopt adopt, std::function<void(std::string_view)> on_violation);
  // A fresh link (either process started again) replaces the old one; streams already
  // handed over carry on.
  void link(UniqueFd sock);

 private:
  using Channel = ipc::TypedChannel<ipc::HttpToRouter>;
  void websocket_client(const ipc::WebSocketClient& client, UniqueFd fd);

  struct event_base* base_;
  Adopt adopt_;
  std::function<void(std::string_view)> on_violation_;
  std::unique_ptr<Channel> channel_;
  HandoverRate rate_;
};

}  // namespace xmppd::router
