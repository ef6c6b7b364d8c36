// What serves one path prefix of the HTTP process (xmppd-http): file sharing
// (http/file_share*.cc), WebSocket (http/websocket*.cc), host-meta (http/host_meta.cc),
// metrics (http/metrics*.cc). The server (http/http_server.cc) parses HTTP with libevent's
// evhttp, applies the limits every request shares (headers, body size, time, connections per
// address) and hands each request to the handler of the longest matching prefix. Handlers
// trust nothing in the request: the path, headers and body are the client's.
#pragma once

#include <event2/http.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace xmppd::http {

// Facts about a request that evhttp does not keep in one place.
struct RequestInfo {
  // The client's: the TCP peer's, or behind a trusted proxy the address its X-Forwarded-For
  // gives (http/forwarded.h), with the proxy connection's port.
  std::string peer;     // "address port", as other processes log peers
  std::string address;  // the address alone ("127.0.0.1", "::1")
  std::string proxy;    // the trusted proxy's address when `address` was forwarded; else empty
  bool tls = false;     // arrived on an https port
  bool secure = false;  // tls, or a trusted proxy's X-Forwarded-Proto: https
  std::string host;     // the Host header, lowercased, without a port; empty if absent
  std::string path;     // the decoded path ("/file_share/ID/name.png"), never with "..": refused before
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Once the request is read whole (evhttp 2.1 reads the body before it hands a request over,
  // and offers no hook on a server request's headers), before on_request: 0 to go on, or an
  // HTTP status to answer instead (401/403 for a PUT without a valid slot...). Connections
  // (http/connections.h) bounds what bodies being read may hold meanwhile.
  virtual int on_headers(evhttp_request* req, const RequestInfo& info) {
    (void)req;
    (void)info;
    return 0;
  }
  // The largest body this handler takes for this request (PUT of an upload: the slot's
  // size); the server refuses a longer one with 413, once it is read (evhttp itself refuses
  // one over ServerLimits::max_read before). Default: http_max_content_size.
  virtual std::uint64_t max_body(evhttp_request* req, const RequestInfo& info, std::uint64_t configured) {
    (void)req;
    (void)info;
    return configured;
  }
  // The whole request is read: answer it (evhttp_send_reply and friends), now or later.
  virtual void on_request(evhttp_request* req, const RequestInfo& info) = 0;
};

}  // namespace xmppd::http
