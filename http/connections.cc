// Connection limits and the slow-request rule of the HTTP server (connections.h).
#include "http/connections.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "common/address_prefix.h"
#include "common/log.h"

namespace xmppd::http {
namespace {

std::string peer_address(evutil_socket_t fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  char text[INET6_ADDRSTRLEN] = "?";
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return text;
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, text, sizeof text);
  else if (ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, text, sizeof text);
  return text;
}

// Ends a connection the way a peer's close would: evhttp reads the end and frees its state.
void cut(bufferevent* bev) {
  evutil_socket_t fd = bufferevent_getfd(bev);
  if (fd >= 0) shutdown(fd, SHUT_RDWR);
}

}  // namespace

Connections* Connections::instance_ = nullptr;

bool too_slow(std::chrono::steady_clock::duration elapsed, std::size_t bytes) {
  if (elapsed <= kGrace) return false;
  const auto late = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed - kGrace).count();
  return static_cast<double>(bytes) < static_cast<double>(late) * kMinRate / 1000.0;
}

Connections::Connections() { instance_ = this; }
Connections::~Connections() { instance_ = nullptr; }

void Connections::watch(bufferevent* bev) { evbuffer_add_cb(bufferevent_get_input(bev), on_input, bev); }

void Connections::on_input(evbuffer*, const evbuffer_cb_info* info, void* bev) {
  if (info->n_added > 0 && instance_ != nullptr) instance_->input(static_cast<bufferevent*>(bev), info->n_added);
}

void Connections::on_close(evhttp_connection* evcon, void* self) {
  static_cast<Connections*>(self)->states_.erase(evhttp_connection_get_bufferevent(evcon));
}

bool Connections::admit(bufferevent* bev, State& state) {
  const std::string address = peer_address(bufferevent_getfd(bev));
  switch (limits_.admit(net::prefix_key(address), state.ticket)) {
    case stream::ConnectionLimits::Verdict::kAdmitted:
      state.ticket.authenticated();  // HTTP has no unauthenticated stage of its own
      return true;
    case stream::ConnectionLimits::Verdict::kTotal:
      log::warning("http: %s refused: %zu connections are open", address.c_str(), limits_.total());
      return false;
    default:
      log::warning("http: %s refused: too many connections from its address", address.c_str());
      return false;
  }
}

void Connections::input(bufferevent* bev, std::size_t added) {
  auto it = states_.find(bev);
  if (it == states_.end()) {
    // The first byte: evhttp set up the connection when it accepted, so its callbacks' argument
    // is the connection, which tells us when it closes.
    void* evcon = nullptr;
    bufferevent_getcb(bev, nullptr, nullptr, nullptr, &evcon);
    if (evcon == nullptr) return;
    it = states_.try_emplace(bev).first;
    evhttp_connection_set_closecb(static_cast<evhttp_connection*>(evcon), on_close, this);
    if (!admit(bev, it->second)) {
      ++refused_;
      states_.erase(it);
      return cut(bev);
    }
  }
  State& state = it->second;
  if (state.upgraded) return;
  const auto now = std::chrono::steady_clock::now();
  if (!state.reading) {
    state.reading = true;
    state.start = now;
    state.bytes = 0;
  }
  state.bytes += added;
  if (!http::too_slow(now - state.start, state.bytes)) return;
  ++too_slow_;
  log::info("http: %s: a request too slow (%zu bytes in %lld s); closed", peer_address(bufferevent_getfd(bev)).c_str(),
            state.bytes,
            static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(now - state.start).count()));
  cut(bev);
}

void Connections::upgraded(bufferevent* bev) {
  auto it = states_.find(bev);
  if (it != states_.end()) it->second.upgraded = true;
}

void connection_upgraded(evhttp_connection* evcon) {
  if (Connections::instance_ != nullptr) Connections::instance_->upgraded(evhttp_connection_get_bufferevent(evcon));
}

void Connections::request_read(evhttp_request* req) {
  auto it = states_.find(evhttp_connection_get_bufferevent(evhttp_request_get_connection(req)));
  if (it != states_.end()) it->second.reading = false;
}

}  // namespace xmppd::http
