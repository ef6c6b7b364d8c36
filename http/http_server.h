// The HTTP/1.1 server of the HTTP process (xmppd-http): libevent's evhttp on the listening
// sockets the parent bound, plain and TLS, and the table of handlers by path prefix
// (http/handler.h). Trusts nothing of what a client sends: evhttp parses the request, this
// file checks the path and applies the limits every request shares; the handler of the
// longest matching prefix answers, and a path no prefix matches gets 404.
#pragma once

#include <event2/event.h>
#include <event2/http.h>

#include <openssl/ssl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "http/connections.h"
#include "http/forwarded.h"
#include "http/handler.h"

namespace xmppd::http {

// Limits of every request and connection (HttpSettings.max_content_size, file_share and .limits).
struct ServerLimits {
  std::uint64_t max_body = 10 * 1024 * 1024;  // http_max_content_size: what a handler takes by default
  // What evhttp reads of a body at most (413 beyond): max_body, or a file sharing service's
  // larger size_limit. evhttp 2.1 hands a request over only once its body is read, so a
  // handler's smaller max_body is applied then.
  std::uint64_t max_read = 10 * 1024 * 1024;
  std::size_t max_header_bytes = 8 * 1024;    // request line and headers, as Prosody's mod_http
  std::size_t max_header_lines = 50;
  stream::ConnectionLimitSettings connections;  // per address and in all; no unauthenticated stage
};

// Why a decoded request path is refused (400), or empty when it is fine: not absolute, a NUL,
// a backslash or a ".." segment, after percent-decoding.
std::string path_problem(std::string_view decoded);

// The bytes all requests being read may hold at once (evhttp 2.1 keeps a body in memory until
// it is whole): room for several of the largest requests, never less than 256 MiB, and never
// more than half the process's address space limit (`address_space`, 0: none), so that bodies
// in progress are cut before they drive the process out of memory.
std::size_t buffered_cap(std::uint64_t max_read, std::uint64_t address_space);

// For /metrics (the HTTP process's MetricsQuery answer).
struct ServerCounters {
  std::uint64_t requests = 0;      // read whole and dispatched
  std::uint64_t responses[6] = {};  // sent, by class: [2] is 2xx ... [5] is 5xx
};

class HttpServer {
 public:
  explicit HttpServer(struct event_base* base);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void set_limits(const ServerLimits& limits);
  // trusted_proxies: whose X-Forwarded-For and X-Forwarded-Proto RequestInfo believes, and
  // whose connections Connections exempts from the per-address cap. None until called.
  void set_trusted_proxies(const TrustedProxies& trusted);
  // `handler` answers every path that starts with `prefix` ("/file_share/"), unless a longer
  // prefix matches too. The handler outlives the server.
  void add(std::string prefix, Handler& handler);
  // A listening socket the parent bound: plain HTTP, or HTTPS (TLS from the first byte).
  bool add_listener(UniqueFd fd, bool tls, std::string& error);
  // Where each https connection's SSL comes from (the tls helper's chains, by SNI); null
  // while none has arrived, when the connection's handshake fails.
  void set_tls(std::function<SSL*()> new_ssl) { new_ssl_ = std::move(new_ssl); }

  const ServerCounters& counters() const { return counters_; }
  const Connections& connections() const { return connections_; }

 private:
  struct Route {
    std::string prefix;
    Handler* handler;
  };
  static bufferevent* new_plain_connection(event_base* base, void* arg);
  static bufferevent* new_tls_connection(event_base* base, void* arg);
  static void on_plain_request(evhttp_request* req, void* arg);
  static void on_complete(evhttp_request* req, void* arg);
  static void on_secure_request(evhttp_request* req, void* arg);
  void dispatch(evhttp_request* req, bool tls);
  Handler* find(std::string_view path) const;
  struct evhttp* make_evhttp(bool tls);

  struct event_base* base_;
  ServerLimits limits_;
  struct evhttp* plain_ = nullptr;
  struct evhttp* secure_ = nullptr;
  std::vector<Route> routes_;
  TrustedProxies trusted_;
  Connections connections_;
  ServerCounters counters_;
  static void on_tls_info(const SSL* ssl, int where, int ret);
  std::function<SSL*()> new_ssl_;
  SSL_CTX* refusing_ = nullptr;  // no certificate: the handshake of a connection with no SSL fails
  std::uint64_t address_space_ = 0;  // RLIMIT_AS, 0: none
};

// The headers every answer carries: no sniffing of types, no framing by other sites.
void add_security_headers(evhttp_request* req);
// A short plain-text error page with `code` and evhttp's reason phrase.
void send_error(evhttp_request* req, int code);

}  // namespace xmppd::http
