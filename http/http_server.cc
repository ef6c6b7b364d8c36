// The HTTP server of xmppd-http (http_server.h): evhttp per kind of listener, the checks every
// request goes through, and the dispatch by longest prefix. Everything in a request is the
// client's: the path is decoded once here and refused when it could name a file outside the
// handler's tree.
#include "http/http_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "http/forwarded.h"
#include "tls/handshake_counts.h"

namespace xmppd::http {
namespace {

constexpr int kKeepAliveSeconds = 60;
constexpr int kAllowedMethods = EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_OPTIONS |
                                EVHTTP_REQ_POST;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// "Example.ORG:5281" -> "example.org"; "[::1]:5280" -> "::1".
std::string host_of(const char* header) {
  if (header == nullptr) return {};
  std::string_view h(header);
  if (h.starts_with("[")) {
    std::size_t close = h.find(']');
    return close == std::string_view::npos ? std::string() : lower(h.substr(1, close - 1));
  }
  return lower(h.substr(0, h.find(':')));
}

std::size_t header_lines(evhttp_request* req) {
  std::size_t n = 0;
  const evkeyvalq* headers = evhttp_request_get_input_headers(req);
  for (const evkeyval* h = headers->tqh_first; h != nullptr; h = h->next.tqe_next) ++n;
  return n;
}

// The client's address and whether it is secure: the TCP peer's, unless that is a trusted
// proxy (http/forwarded.h); every X-Forwarded-For line is passed, to be joined. False when a
// trusted proxy's X-Forwarded-For names no client it can be (the request gets 400).
bool fill_peer(evhttp_request* req, bool tls, const TrustedProxies& trusted, RequestInfo& info) {
  char* address = nullptr;
  ev_uint16_t port = 0;
  evhttp_connection_get_peer(evhttp_request_get_connection(req), &address, &port);
  const std::string tcp_peer = address != nullptr ? address : "";
  std::vector<std::string_view> forwarded_for;
  const char* proto = nullptr;
  const evkeyvalq* headers = evhttp_request_get_input_headers(req);
  for (const evkeyval* h = headers->tqh_first; h != nullptr; h = h->next.tqe_next) {
    if (evutil_ascii_strcasecmp(h->key, "X-Forwarded-For") == 0) forwarded_for.emplace_back(h->value);
    if (evutil_ascii_strcasecmp(h->key, "X-Forwarded-Proto") == 0 && proto == nullptr) proto = h->value;
  }
  ForwardedPeer p = forwarded_peer(tcp_peer, tls, forwarded_for, proto != nullptr ? proto : "", trusted);
  if (!p.problem.empty()) {
    log::info("http: %s port %u: %s; refused (400)", tcp_peer.c_str(), static_cast<unsigned>(port),
              p.problem.c_str());
    return false;
  }
  info.tls = tls;
  info.secure = p.secure;
  info.address = std::move(p.address);
  if (p.forwarded) info.proxy = tcp_peer;
  info.peer = info.address + " " + std::to_string(port);
  return true;
}

bool fill_info(evhttp_request* req, bool tls, const TrustedProxies& trusted, RequestInfo& info, int& status) {
  status = 400;
  if (!fill_peer(req, tls, trusted, info)) return false;
  info.host = host_of(evhttp_find_header(evhttp_request_get_input_headers(req), "Host"));
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* raw = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  if (raw == nullptr) return false;
  std::size_t length = 0;
  char* decoded = evhttp_uridecode(raw, 0, &length);
  if (decoded == nullptr) return false;
  info.path.assign(decoded, length);
  std::free(decoded);
  if (std::string why = path_problem(info.path); !why.empty()) {
    log::debug("http: %s: path refused: %s", info.peer.c_str(), why.c_str());
    return false;
  }
  return true;
}

}  // namespace

std::string path_problem(std::string_view p) {
  if (p.empty() || p.front() != '/') return "not absolute";
  if (p.find('\0') != std::string_view::npos) return "a NUL byte";
  if (p.find('\\') != std::string_view::npos) return "a backslash";
  std::size_t start = 0;
  while (start < p.size()) {
    std::size_t end = p.find('/', start + 1);
    if (end == std::string_view::npos) end = p.size();
    if (p.substr(start + 1, end - start - 1) == "..") return "a \"..\" segment";
    start = end;
  }
  return {};
}

void add_security_headers(evhttp_request* req) {
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
  evhttp_add_header(out, "X-Frame-Options", "DENY");
  evhttp_add_header(out, "Referrer-Policy", "no-referrer");
}

void send_error(evhttp_request* req, int code) {
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_remove_header(out, "Content-Type");
  evhttp_add_header(out, "Content-Type", "text/plain; charset=utf-8");
  if (code == 405) evhttp_add_header(out, "Allow", "GET, HEAD, PUT, POST, OPTIONS");
  evbuffer* body = evbuffer_new();
  evbuffer_add_printf(body, "%d\n", code);
  evhttp_send_reply(req, code, nullptr, body);  // evhttp's own reason phrase
  evbuffer_free(body);
}

std::size_t buffered_cap(std::uint64_t max_read, std::uint64_t address_space) {
  std::uint64_t cap = std::max<std::uint64_t>(256u << 20, 4 * max_read);
  if (address_space != 0) cap = std::min(cap, address_space / 2);
  return static_cast<std::size_t>(cap);
}

namespace {
// The process's address space limit (RLIMIT_AS, set by the parent before exec), or 0.
std::uint64_t address_space_limit() {
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) != 0 || as.rlim_cur == RLIM_INFINITY) return 0;
  return as.rlim_cur;
}
}  // namespace

// The refusing context and the address space limit are read now, before the sandbox: making a
// context may read OpenSSL's files, and getrlimit is not on the sandbox's list.
HttpServer::HttpServer(struct event_base* base)
    : base_(base), refusing_(SSL_CTX_new(TLS_server_method())), address_space_(address_space_limit()) {}

HttpServer::~HttpServer() {
  for (struct evhttp* h : {plain_, secure_})
    if (h != nullptr) evhttp_free(h);
  SSL_CTX_free(refusing_);
}

void HttpServer::set_limits(const ServerLimits& limits) {
  limits_ = limits;
  for (struct evhttp* h : {plain_, secure_}) {
    if (h == nullptr) continue;
    evhttp_set_max_headers_size(h, static_cast<ev_ssize_t>(limits_.max_header_bytes));
    evhttp_set_max_body_size(h, static_cast<ev_ssize_t>(std::max(limits_.max_read, limits_.max_body)));
  }
  connections_.configure(limits_.connections, buffered_cap(limits_.max_read, address_space_), limits_.max_read);
}

void HttpServer::set_trusted_proxies(const TrustedProxies& trusted) {
  trusted_ = trusted;
  connections_.set_trusted_proxies(&trusted_);
}

void HttpServer::add(std::string prefix, Handler& handler) {
  routes_.push_back({std::move(prefix), &handler});
  // Longest first, so that the first match is the longest one.
  std::stable_sort(routes_.begin(), routes_.end(),
                   [](const Route& a, const Route& b) { return a.prefix.size() > b.prefix.size(); });
}

Handler* HttpServer::find(std::string_view path) const {
  for (const Route& r : routes_)
    if (path.starts_with(r.prefix)) return r.handler;
  return nullptr;
}

struct evhttp* HttpServer::make_evhttp(bool tls) {
  struct evhttp* h = evhttp_new(base_);
  if (h == nullptr) return nullptr;
  // Every method reaches dispatch(), which answers 405 (evhttp's own refusal is a 501).
  evhttp_set_allowed_methods(h, 0xffff);
  evhttp_set_default_content_type(h, "text/plain; charset=utf-8");
  // A connection idle for this long is closed; after its first request, the keep-alive time
  // (dispatch). A new connection's first byte and a slow sender are Connections' business.
  evhttp_set_timeout(h, static_cast<int>(kGrace.count()));
  evhttp_set_bevcb(h, tls ? new_tls_connection : new_plain_connection, this);
  // The callback's argument says which kind of listener the request came in on.
  evhttp_set_gencb(h, tls ? on_secure_request : on_plain_request, this);
  return h;
}

bool HttpServer::add_listener(UniqueFd fd, bool tls, std::string& error) {
  struct evhttp*& h = tls ? secure_ : plain_;
  if (h == nullptr && (h = make_evhttp(tls)) == nullptr) {
    error = "cannot create an HTTP server";
    return false;
  }
  set_limits(limits_);
  // evhttp closes the socket when it is freed.
  if (evhttp_accept_socket_with_handle(h, fd.get()) == nullptr) {
    error = std::string("cannot accept on the listener: ") + std::strerror(errno);
    return false;
  }
  (void)fd.release();
  return true;
}

bufferevent* HttpServer::new_plain_connection(event_base* base, void* arg) {
  bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  if (bev != nullptr) static_cast<HttpServer*>(arg)->connections_.watch(bev);
  return bev;
}

// evhttp would read a connection it gets no bufferevent for in plain text: a connection
// without an SSL of its own gets one that has no certificate, and its handshake fails.
bufferevent* HttpServer::new_tls_connection(event_base* base, void* arg) {
  auto* self = static_cast<HttpServer*>(arg);
  SSL* ssl = self->new_ssl_ ? self->new_ssl_() : nullptr;
  if (ssl == nullptr && self->refusing_ != nullptr) ssl = SSL_new(self->refusing_);
  if (ssl == nullptr) log::fatal("http: cannot make an SSL");
  // An idle connection (keep-alive, or a handshake in progress) holds no record buffers.
  SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
  SSL_set_info_callback(ssl, on_tls_info);
  bufferevent* bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) return nullptr;
  // Browsers and curl often close without a close_notify: that is the end of the connection,
  // not an error (HTTP frames its own messages, so no truncation goes unnoticed).
  bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  self->connections_.watch(bev);
  return bev;
}

// libevent drives the handshake inside bufferevent_openssl, so its end is seen here: done, or
// a fatal alert sent or received before it was (a peer that leaves without one is not seen).
void HttpServer::on_tls_info(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_HANDSHAKE_DONE) != 0)
    ++tls::handshake_counts().completed;
  else if ((where & SSL_CB_ALERT) != 0 && (ret >> 8) == SSL3_AL_FATAL && !SSL_is_init_finished(ssl))
    ++tls::handshake_counts().failed;
}

void HttpServer::on_plain_request(evhttp_request* req, void* arg) {
  static_cast<HttpServer*>(arg)->dispatch(req, false);
}

void HttpServer::on_secure_request(evhttp_request* req, void* arg) {
  static_cast<HttpServer*>(arg)->dispatch(req, true);
}

void HttpServer::on_complete(evhttp_request* req, void* arg) {
  const int code = evhttp_request_get_response_code(req);
  if (code >= 100 && code < 600) ++static_cast<HttpServer*>(arg)->counters_.responses[code / 100];
}

void HttpServer::dispatch(evhttp_request* req, bool tls) {
  connections_.request_read(req);
  ++counters_.requests;
  evhttp_request_set_on_complete_cb(req, on_complete, this);
  add_security_headers(req);
  // evhttp answers in the version the request named, whatever it was: anything but HTTP/1.x
  // gets 505, in HTTP/1.1 (http_struct.h is the only way to those fields in libevent 2.1).
  if (req->major != 1) {
    req->major = 1;
    req->minor = 1;
    return send_error(req, 505);
  }
  evhttp_connection_set_timeout(evhttp_request_get_connection(req), kKeepAliveSeconds);
  if ((evhttp_request_get_command(req) & kAllowedMethods) == 0) return send_error(req, 405);
  // RFC 9110 §15.5.12: a PUT must say its length (an upload's slot is for a size), and
  // evhttp would read one without a Content-Length as empty.
  if (evhttp_request_get_command(req) == EVHTTP_REQ_PUT &&
      evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Length") == nullptr)
    return send_error(req, 411);
  if (header_lines(req) > limits_.max_header_lines) return send_error(req, 431);
  RequestInfo info;
  int status = 0;
  if (!fill_info(req, tls, trusted_, info, status)) return send_error(req, status);
  // A trusted proxy's connection counts under the client it names (connections.h).
  if (!info.proxy.empty() && !connections_.forwarded(req, info.address)) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
    return send_error(req, 429);
  }
  Handler* handler = find(info.path);
  if (handler == nullptr) return send_error(req, 404);
  const std::uint64_t body = evbuffer_get_length(evhttp_request_get_input_buffer(req));
  if (body > handler->max_body(req, info, limits_.max_body)) return send_error(req, 413);
  if (int refused = handler->on_headers(req, info); refused != 0) return send_error(req, refused);
  handler->on_request(req, info);
}

}  // namespace xmppd::http
