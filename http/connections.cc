// Connection limits and the slow-request rule of the HTTP server (connections.h).
#include "http/connections.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <string>

#include "common/address_prefix.h"
#include "common/log.h"
#include "http/forwarded.h"

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

// Tells the peer the connection is over. evhttp would see the end only once it has read what the
// peer keeps sending: Connections::cut frees the connection too.
void shut(bufferevent* bev) {
  evutil_socket_t fd = bufferevent_getfd(bev);
  if (fd >= 0) shutdown(fd, SHUT_RDWR);
}

}  // namespace

Connections* Connections::instance_ = nullptr;

void RateWindow::start(std::chrono::steady_clock::time_point now) {
  start_ = now;
  second_ = 0;
  buckets_.fill(0);
}

bool RateWindow::add(std::chrono::steady_clock::time_point now, std::size_t bytes) {
  const auto elapsed = now - start_;
  const std::int64_t second = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
  // The buckets of the seconds that went by without a byte are emptied.
  if (second - second_ >= kWindowSeconds) {
    buckets_.fill(0);
  } else {
    for (std::int64_t s = second_ + 1; s <= second; ++s) buckets_[s % kWindowSeconds] = 0;
  }
  second_ = std::max(second_, second);
  buckets_[second_ % kWindowSeconds] += bytes;
  if (elapsed <= kGrace) return false;
  return std::accumulate(buckets_.begin(), buckets_.end(), std::size_t{0}) < kMinRate * kWindowSeconds;
}

std::size_t address_share(std::size_t buffered, std::size_t max_read) {
  return std::min(buffered, std::max(2 * max_read, buffered / 8));
}

std::size_t proxies_share(std::size_t whole) { return whole / 4 * 3 + whole % 4 * 3 / 4; }

Connections::Connections() { instance_ = this; }
Connections::~Connections() { instance_ = nullptr; }

// Not from the callback that found the connection over a limit (evhttp's read callback runs
// right after it, on the connection): from the loop, as evhttp frees a connection that fails.
void Connections::cut(bufferevent* bev, State& state) {
  done_reading(state);
  state.cut = true;
  state.deadline.reset();
  shut(bev);
  if (reaper_ == nullptr) reaper_.reset(event_new(bufferevent_get_base(bev), -1, 0, on_reap, this));
  if (reaper_ == nullptr) return;  // out of memory: the peer's end, read, ends it
  to_free_.push_back(bev);
  event_active(reaper_.get(), EV_TIMEOUT, 0);
}

void Connections::on_reap(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Connections*>(arg);
  std::vector<bufferevent*> doomed;
  doomed.swap(self->to_free_);
  for (bufferevent* bev : doomed) {
    // Only those still open (on_close takes a closed one off to_free_).
    if (self->states_.find(bev) == self->states_.end()) continue;
    void* evcon = nullptr;
    bufferevent_getcb(bev, nullptr, nullptr, nullptr, &evcon);
    if (evcon != nullptr) evhttp_connection_free(static_cast<evhttp_connection*>(evcon));
  }
}

// evhttp gives the bufferevent its socket, and itself as the callbacks' argument, only after
// this returns: the connection is counted from a zero-delay timer. The reference keeps the
// bufferevent's memory until then, should evhttp free it first (its callbacks are then unset).
void Connections::watch(bufferevent* bev) {
  evbuffer_add_cb(bufferevent_get_input(bev), on_input, bev);
  bufferevent_incref(bev);
  const timeval now{0, 0};
  if (event_base_once(bufferevent_get_base(bev), -1, EV_TIMEOUT, on_accepted, bev, &now) != 0) bufferevent_decref(bev);
}

void Connections::on_accepted(evutil_socket_t, short, void* arg) {
  auto* bev = static_cast<bufferevent*>(arg);
  if (instance_ != nullptr) (void)instance_->track(bev);
  bufferevent_decref(bev);
}

void Connections::on_deadline(evutil_socket_t, short, void* arg) {
  auto* bev = static_cast<bufferevent*>(arg);
  if (instance_ == nullptr) return;
  auto it = instance_->states_.find(bev);
  if (it == instance_->states_.end()) return;
  ++instance_->too_slow_;
  log::info("http: %s: no request within %lld s of the connection (a TLS handshake included); closed",
            peer_address(bufferevent_getfd(bev)).c_str(), static_cast<long long>(kGrace.count()));
  instance_->cut(bev, it->second);
}

void Connections::on_input(evbuffer*, const evbuffer_cb_info* info, void* bev) {
  if (info->n_added > 0 && instance_ != nullptr) instance_->input(static_cast<bufferevent*>(bev), info->n_added);
}

void Connections::on_close(evhttp_connection* evcon, void* self) {
  auto* connections = static_cast<Connections*>(self);
  auto it = connections->states_.find(evhttp_connection_get_bufferevent(evcon));
  if (it == connections->states_.end()) return;
  connections->done_reading(it->second);
  connections->drop_client(it->second);
  if (it->second.proxy) --connections->proxies_open_;
  std::erase(connections->to_free_, it->first);
  connections->states_.erase(it);
}

void Connections::drop_client(State& state) {
  if (state.client.empty()) return;
  auto it = clients_open_.find(state.client);
  if (it != clients_open_.end() && --it->second == 0) clients_open_.erase(it);
  state.client.clear();
}

bool Connections::forwarded(evhttp_request* req, const std::string& address) {
  auto it = states_.find(evhttp_connection_get_bufferevent(evhttp_request_get_connection(req)));
  if (it == states_.end() || !it->second.proxy) return true;
  State& state = it->second;
  const std::string key = net::prefix_key(address);
  if (key == state.client) return true;
  drop_client(state);
  const std::size_t cap = limits_.settings().per_address;
  const std::size_t held = (clients_open_.contains(key) ? clients_open_[key] : 0) + limits_.open(key);
  if (cap != 0 && held >= cap) {
    log::warning("http: %s (via a trusted proxy) refused: too many connections from its address", address.c_str());
    ++refused_;
    return false;
  }
  ++clients_open_[key];
  state.client = key;
  return true;
}

void Connections::done_reading(State& state) {
  if (state.reading) {
    buffered_ -= state.bytes;
    if (state.proxy) proxies_buffered_ -= state.bytes;
    auto it = buffered_by_address_.find(state.byte_key);
    if (it != buffered_by_address_.end() && (it->second -= state.bytes) == 0) buffered_by_address_.erase(it);
  }
  state.reading = false;
  state.bytes = 0;
}

Connections::State* Connections::track(bufferevent* bev) {
  if (auto it = states_.find(bev); it != states_.end()) return it->second.cut ? nullptr : &it->second;
  // evhttp set up the connection when it accepted, so its callbacks' argument is the
  // connection, which tells us when it closes; unset, evhttp has freed it already.
  void* evcon = nullptr;
  bufferevent_getcb(bev, nullptr, nullptr, nullptr, &evcon);
  if (evcon == nullptr || bufferevent_getfd(bev) < 0) return nullptr;
  State& state = states_.try_emplace(bev).first->second;
  evhttp_connection_set_closecb(static_cast<evhttp_connection*>(evcon), on_close, this);
  const std::string address = peer_address(bufferevent_getfd(bev));
  // A trusted proxy's connection is a key of its own: see set_trusted_proxies.
  const bool proxy = trusted_ != nullptr && trusted_->trusts(address);
  state.key = proxy ? "proxy " + address + " #" + std::to_string(++proxied_) : net::prefix_key(address);
  const std::size_t proxies_cap = proxies_share(limits_.settings().total);
  const auto verdict = proxy && proxies_cap != 0 && proxies_open_ >= proxies_cap
                           ? std::optional<stream::ConnectionLimits::Verdict>()
                           : limits_.admit(state.key, state.ticket);
  switch (verdict.value_or(stream::ConnectionLimits::Verdict::kTotal)) {
    case stream::ConnectionLimits::Verdict::kAdmitted: {
      state.ticket.authenticated();  // HTTP has no unauthenticated stage of its own
      state.proxy = proxy;
      if (proxy) ++proxies_open_;
      state.deadline.reset(event_new(bufferevent_get_base(bev), -1, 0, on_deadline, bev));
      const timeval grace{static_cast<time_t>(kGrace.count()), 0};
      if (state.deadline != nullptr) event_add(state.deadline.get(), &grace);
      return &state;
    }
    case stream::ConnectionLimits::Verdict::kTotal:
      if (!verdict)
        log::warning("http: %s refused: trusted proxies hold %zu connections, their share of %zu", address.c_str(),
                     proxies_open_, limits_.settings().total);
      else
        log::warning("http: %s refused: %zu connections are open", address.c_str(), limits_.total());
      break;
    default:
      log::warning("http: %s refused: too many connections from its address", address.c_str());
      break;
  }
  // Kept, marked cut, until it closes: its bytes meanwhile are neither counted nor admitted again.
  ++refused_;
  cut(bev, state);
  return nullptr;
}

void Connections::input(bufferevent* bev, std::size_t added) {
  State* found = track(bev);
  if (found == nullptr) return;
  State& state = *found;
  if (state.cut || state.upgraded) return;
  state.deadline.reset();  // the first byte came: the slow-request rule takes over
  const auto now = std::chrono::steady_clock::now();
  if (!state.reading) {
    state.reading = true;
    state.rate.start(now);
    state.bytes = 0;
    // A proxy's connection whose last request named its client: that client's share.
    state.byte_key = state.client.empty() ? state.key : state.client;
  }
  state.bytes += added;
  buffered_ += added;
  if (state.proxy) proxies_buffered_ += added;
  std::size_t& mine = buffered_by_address_[state.byte_key];
  mine += added;
  if (over_byte_share(bev, state, mine)) return cut(bev, state);
  if (!state.rate.add(now, added)) return;
  ++too_slow_;
  log::info("http: %s: a request too slow (%zu bytes, under %zu a second over %d s); closed",
            peer_address(bufferevent_getfd(bev)).c_str(), state.bytes, kMinRate, kWindowSeconds);
  cut(bev, state);
}

bool Connections::over_byte_share(bufferevent* bev, const State& state, std::size_t mine) {
  const auto peer = [bev] { return peer_address(bufferevent_getfd(bev)); };  // only to log
  if (max_per_address_ != 0 && mine > max_per_address_) {
    log::warning("http: %s: requests being read from its address%s hold %zu bytes, over its share %zu; this one is cut",
                 peer().c_str(), state.byte_key == state.client ? " (forwarded)" : "", mine, max_per_address_);
    return true;
  }
  if (max_buffered_ != 0 && buffered_ > max_buffered_) {
    log::warning("http: %s: requests being read hold %zu bytes, over %zu; this one is cut", peer().c_str(), buffered_,
                 max_buffered_);
    return true;
  }
  if (state.proxy && max_buffered_ != 0 && proxies_buffered_ > proxies_share(max_buffered_)) {
    log::warning("http: %s: requests being read from trusted proxies hold %zu bytes, over their share %zu; this one is cut",
                 peer().c_str(), proxies_buffered_, proxies_share(max_buffered_));
    return true;
  }
  return false;
}

void Connections::upgraded(bufferevent* bev) {
  auto it = states_.find(bev);
  if (it == states_.end()) return;
  done_reading(it->second);
  it->second.upgraded = true;
}

void connection_upgraded(evhttp_connection* evcon) {
  if (Connections::instance_ != nullptr) Connections::instance_->upgraded(evhttp_connection_get_bufferevent(evcon));
}

void Connections::request_read(evhttp_request* req) {
  auto it = states_.find(evhttp_connection_get_bufferevent(evhttp_request_get_connection(req)));
  if (it != states_.end()) done_reading(it->second);
}

}  // namespace xmppd::http
