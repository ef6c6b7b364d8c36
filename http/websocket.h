// The handler of /xmpp-websocket (RFC 7395): the opening handshake (websocket_upgrade.h),
// the handover of each client to the router as a plain client stream on a socketpair
// (proto/router_http.proto), and the connections after the upgrade
// (websocket_connection.h). Nothing of a request is trusted; the router is told the
// client's address and whether its connection was secure, and applies its own limits.
#pragma once

#include <event2/event.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/event_ptr.h"
#include "control.pb.h"
#include "http/handler.h"
#include "http/websocket_connection.h"
#include "proto/channel.h"
#include "router_http.pb.h"

namespace xmppd::http {

class WebSocketHandler final : public Handler {
 public:
  WebSocketHandler(struct event_base* base, const ipc::HttpSettings& settings);
  ~WebSocketHandler() override;
  void configure(const ipc::HttpSettings& settings);
  // The link to the router (a fresh one replaces the old; handed-over clients carry on).
  void link_router(UniqueFd sock);
  void on_request(evhttp_request* req, const RequestInfo& info) override;

 private:
  static void on_reap(evutil_socket_t, short, void* self);
  void upgrade(evhttp_request* req, const RequestInfo& info, const std::string& accept);
  bool secure(const RequestInfo& info) const;

  struct event_base* base_;
  std::set<std::string> hosts_;  // those that enable "websocket"
  bool consider_secure_ = false;
  std::unique_ptr<ipc::TypedChannel<ipc::RouterToHttp>> router_;
  std::map<WebSocketConnection*, std::unique_ptr<WebSocketConnection>> connections_;
  std::vector<WebSocketConnection*> gone_;  // destroyed from the loop, never in their callbacks
  EventPtr reap_;
};

}  // namespace xmppd::http
