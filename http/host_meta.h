// Connection discovery (XEP-0156) over HTTP: /.well-known/host-meta (XRD) and
// /.well-known/host-meta.json (JRD), naming the WebSocket endpoint of a host that enables
// "websocket". Trusts only the Host header's name, and only when it is one of those hosts.
#pragma once

#include <set>
#include <string>

#include "control.pb.h"
#include "http/handler.h"

namespace xmppd::http {

// The WebSocket URL of `host`: http_external_url's base, else wss://HOST:HTTPS_PORT/, else
// (no https port) ws://HOST:HTTP_PORT/; followed by "xmpp-websocket".
std::string websocket_url(const ipc::HttpSettings& settings, const std::string& host);
// The two documents for one URL.
std::string host_meta_xrd(const std::string& url);
std::string host_meta_json(const std::string& url);

class HostMeta final : public Handler {
 public:
  explicit HostMeta(const ipc::HttpSettings& settings) { configure(settings); }
  void configure(const ipc::HttpSettings& settings);
  std::uint64_t max_body(evhttp_request*, const RequestInfo&, std::uint64_t) override { return 0; }
  void on_request(evhttp_request* req, const RequestInfo& info) override;

 private:
  ipc::HttpSettings settings_;
  std::set<std::string> hosts_;
};

}  // namespace xmppd::http
