// /xmpp-websocket (websocket.h says what is trusted).
#include "http/websocket.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cstring>

#include "common/log.h"
#include "http/websocket_upgrade.h"

namespace xmppd::http {
namespace {

// A handover record: an address and two TLS names, with one descriptor.
constexpr ipc::Limits kToRouter{4 << 10, 1};
constexpr ipc::Limits kFromRouter{4 << 10, 0};

constexpr char kTextPage[] =
    "This is the XMPP WebSocket endpoint (RFC 7395) of xmppd: point your WebSocket client here, "
    "with the xmpp subprotocol.\n";

std::optional<std::string_view> header(evhttp_request* req, const char* name) {
  const char* value = evhttp_find_header(evhttp_request_get_input_headers(req), name);
  if (value == nullptr) return std::nullopt;
  return std::string_view(value);
}

void reply(evhttp_request* req, int status, const char* reason, std::string_view body) {
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_remove_header(out, "Content-Type");
  evhttp_add_header(out, "Content-Type", "text/plain; charset=utf-8");
  if (status == 426) evhttp_add_header(out, "Sec-WebSocket-Version", "13");
  evbuffer* buf = evbuffer_new();
  evbuffer_add(buf, body.data(), body.size());
  evhttp_send_reply(req, status, reason, buf);
  evbuffer_free(buf);
}

}  // namespace

WebSocketHandler::WebSocketHandler(struct event_base* base, const ipc::HttpSettings& settings) : base_(base) {
  reap_.reset(event_new(base_, -1, 0, on_reap, this));
  configure(settings);
}

WebSocketHandler::~WebSocketHandler() = default;

void WebSocketHandler::configure(const ipc::HttpSettings& settings) {
  hosts_.clear();
  for (const std::string& host : settings.websocket_hosts()) hosts_.insert(host);
  consider_secure_ = settings.consider_websocket_secure();
}

void WebSocketHandler::link_router(UniqueFd sock) {
  router_ = std::make_unique<ipc::TypedChannel<ipc::RouterToHttp>>(base_, std::move(sock), kFromRouter, kToRouter,
                                                                  "router");
  // The router wrote its refusal (a stream error) into the client's stream itself.
  router_->on(ipc::RouterToHttp::kWebsocketRefused, 0, [](const ipc::RouterToHttp& m, auto&) {
    log::info("websocket from %.80s: refused by the router: %.200s", m.websocket_refused().peer().c_str(),
              m.websocket_refused().reason().c_str());
  });
  router_->start([this](ipc::CloseReason, std::string_view detail) {
    log::info("link to the router closed%s%.*s; WebSocket upgrades wait until it is back", detail.empty() ? "" : ": ",
              static_cast<int>(detail.size()), detail.data());
    router_.reset();
  });
}

// RFC 7395 §3.1: wss://, a trusted proxy's X-Forwarded-Proto: https, or a TLS proxy in front
// (consider_websocket_secure, as in Prosody), counts as encrypted for c2s_require_encryption.
// A loopback peer alone does not: a local reverse proxy may be serving plain ws:// to the whole
// network.
bool WebSocketHandler::secure(const RequestInfo& info) const {
  return info.secure || consider_secure_;
}

void WebSocketHandler::on_request(evhttp_request* req, const RequestInfo& info) {
  if (hosts_.empty()) return reply(req, 404, "Not Found", "404 Not Found\n");
  UpgradeRequest r;
  r.get = evhttp_request_get_command(req) == EVHTTP_REQ_GET;
  r.connection = header(req, "Connection");
  r.upgrade = header(req, "Upgrade");
  r.version = header(req, "Sec-WebSocket-Version");
  r.key = header(req, "Sec-WebSocket-Key");
  r.protocol = header(req, "Sec-WebSocket-Protocol");
  UpgradeVerdict verdict = check_upgrade(r);
  switch (verdict.kind) {
    case UpgradeVerdict::Kind::kTextPage: return reply(req, 200, "OK", kTextPage);
    case UpgradeVerdict::Kind::kRefuse:
      log::debug("websocket from %s: %d: %s", info.peer.c_str(), verdict.status, verdict.reason.c_str());
      return reply(req, verdict.status, nullptr, std::to_string(verdict.status) + " " + verdict.reason + "\n");
    case UpgradeVerdict::Kind::kUpgrade: return upgrade(req, info, verdict.accept);
  }
}

void WebSocketHandler::upgrade(evhttp_request* req, const RequestInfo& info, const std::string& accept) {
  int pair[2];
  if (!router_ || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0)
    return reply(req, 503, "Service Unavailable", "503 the XMPP service is not available\n");
  UniqueFd ours(pair[0]), theirs(pair[1]);
  // "ADDRESS port N", as the router's other peers are written.
  std::string port = info.peer.substr(info.peer.rfind(' ') + 1);
  ipc::HttpToRouter handover;
  ipc::WebSocketClient& client = *handover.mutable_websocket_client();
  client.set_peer(info.address + " port " + port);
  client.set_secure(secure(info));
  evhttp_connection* evcon = evhttp_request_get_connection(req);
  if (SSL* ssl = info.tls ? bufferevent_openssl_get_ssl(evhttp_connection_get_bufferevent(evcon)) : nullptr) {
    client.set_tls_version(SSL_get_version(ssl));
    if (const char* cipher = SSL_get_cipher_name(ssl)) client.set_cipher(cipher);
  }
  const int fds[] = {theirs.get()};
  if (!router_->send(handover, fds)) return reply(req, 503, "Service Unavailable", "503 the XMPP service is busy\n");
  theirs.reset();  // the channel keeps a duplicate until the record is sent
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_remove_header(out, "Content-Type");
  evhttp_add_header(out, "Upgrade", "websocket");
  evhttp_add_header(out, "Connection", "Upgrade");
  evhttp_add_header(out, "Sec-WebSocket-Accept", accept.c_str());
  evhttp_add_header(out, "Sec-WebSocket-Protocol", "xmpp");
  evhttp_send_reply(req, 101, "Switching Protocols", nullptr);
  auto connection = std::make_unique<WebSocketConnection>(base_, evcon, std::move(ours), client.peer(), WebSocketLimits{}, hosts_,
                                                          [this](WebSocketConnection* c) {
                                                            gone_.push_back(c);
                                                            event_active(reap_.get(), 0, 0);
                                                          });
  WebSocketConnection& ref = *connection;
  connections_[&ref] = std::move(connection);
  if (!ref.start()) {
    log::warning("websocket from %s: cannot take the connection over", info.peer.c_str());
    gone_.push_back(&ref);
    event_active(reap_.get(), 0, 0);
    return;
  }
  log::info("websocket from %s%s%s: handed to the router%s", ref.peer().c_str(), info.proxy.empty() ? "" : " via ",
            info.proxy.c_str(), client.secure() ? " (secure)" : "");
}

void WebSocketHandler::on_reap(evutil_socket_t, short, void* p) {
  auto* self = static_cast<WebSocketHandler*>(p);
  for (WebSocketConnection* c : std::exchange(self->gone_, {})) self->connections_.erase(c);
}

}  // namespace xmppd::http
