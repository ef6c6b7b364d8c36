// The HTTP server's watch over its connections (http_server.h): how many one address holds and
// how many are open in all (stream/connection_limits.h), counted from the accept on; how long a
// new connection may take to send its first byte (a TLS handshake included); how slowly a
// request may arrive; and how many bytes of requests being read one address and all hold.
// evhttp itself has only an idle timeout, which a client sending a byte every few seconds
// never meets (slowloris). Trusts nothing of the peer but its address and the time its bytes
// take; parses none of them.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include <event2/event.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "stream/connection_limits.h"

namespace xmppd::http {
class TrustedProxies;
}

namespace xmppd::http {

// A new connection must bring its first byte (after the TLS handshake, on https) within
// kGrace of its accept, or it is cut. A request (line, headers and body) must be read whole
// within kGrace of its first byte, or afterwards bring kMinRate bytes a second over every
// kWindow: a window, not the average since the first byte, so that a client cannot send a
// body at once and then trickle for as long as that average lasts (hours for 10 MiB).
inline constexpr std::chrono::seconds kGrace{10};
inline constexpr std::size_t kMinRate = 1024;
inline constexpr int kWindowSeconds = 10;

// The bytes of one request over the last kWindowSeconds, by second since its first byte.
class RateWindow {
 public:
  void start(std::chrono::steady_clock::time_point now);
  // Counts `bytes` that arrived at `now`; true when the request is too slow: past kGrace from
  // its first byte, with fewer than kMinRate * kWindowSeconds bytes in the last window.
  bool add(std::chrono::steady_clock::time_point now, std::size_t bytes);

 private:
  std::chrono::steady_clock::time_point start_;
  std::int64_t second_ = 0;  // of the newest bucket, since start_
  std::array<std::size_t, kWindowSeconds> buckets_{};
};

// What the requests being read of one address may hold at once: a share of the whole
// `buffered` budget, so that one address cannot fill it and lock every other client out; at
// least two of the largest requests.
std::size_t address_share(std::size_t buffered, std::size_t max_read);

// What the trusted proxies' connections may hold together: 3/4 of max_connections and of the
// byte budget (0: no bound), so that the clients behind them, whom a proxy's connection keys
// cannot tell apart until a request is read, leave room for direct clients.
std::size_t proxies_share(std::size_t whole);

// A connection that became something else than HTTP requests (a WebSocket after its upgrade):
// its bytes are no longer timed as a request's; it still counts against the limits until it
// closes. The handler that takes a connection over calls this.
void connection_upgraded(evhttp_connection* evcon);

class Connections {
 public:
  Connections();
  ~Connections();
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  // `buffered`: the bytes all requests being read may hold at once (evhttp keeps a body in
  // memory until it is whole); `address_share` of it for one address. The connection that
  // brings its address over its share is cut; past the whole budget, the one whose bytes pass it.
  void configure(stream::ConnectionLimitSettings limits, std::size_t buffered, std::size_t max_read) {
    limits_.configure(limits);
    max_buffered_ = buffered;
    max_per_address_ = buffered == 0 ? 0 : address_share(buffered, max_read);
  }
  // trusted_proxies (http/forwarded.h; outlives this). A trusted proxy's connections carry
  // many clients from one address, and which one is known only once a request is whole
  // (evhttp 2.1 has no hook on a server request's headers). Until then each of its
  // connections counts as an address of its own, for the per-address connection cap and the
  // per-address share of bytes being read; all of them together are held to proxies_share()
  // of max_connections and of the byte budget, so that a client behind a proxy (or, with the
  // loopback default, any local process) cannot take every connection and byte from direct
  // clients. Once a request names its client (forwarded()), the connection counts under that
  // address: for its cap, and for the byte share of its later requests (a keep-alive or
  // upgraded connection). Each connection stays under the slow-request rule; what is per
  // client beyond (the router's c2s limits, /metrics's access list, logs) uses the forwarded
  // address. null: none trusted.
  void set_trusted_proxies(const TrustedProxies* trusted) { trusted_ = trusted; }
  // A request of a trusted proxy's connection named its client's `address` (dispatch): the
  // connection counts under it from now on. False when that address holds its
  // max_connections_per_address already (its direct connections with those forwarded): the
  // request is to be refused (429) and the connection closed. True for a direct connection.
  bool forwarded(evhttp_request* req, const std::string& address);
  // A bufferevent evhttp is about to read a new connection with (evhttp_set_bevcb): it is
  // counted, and its first-byte deadline starts, once evhttp has given it its socket.
  void watch(bufferevent* bev);
  // A request of this connection was read whole: the clock of the next starts at its first byte.
  void request_read(evhttp_request* req);
  std::size_t open() const { return states_.size(); }
  std::uint64_t refused() const { return refused_; }  // over a connection limit
  std::uint64_t too_slow() const { return too_slow_; }  // cut by the slow-request rule
  std::size_t buffered() const { return buffered_; }    // bytes of requests being read
  void upgraded(bufferevent* bev);

 private:
  struct EventFree {
    void operator()(event* e) const { event_free(e); }
  };
  struct State {
    RateWindow rate;
    std::size_t bytes = 0;
    bool reading = false;
    bool upgraded = false;  // connection_upgraded(): not timed
    bool cut = false;       // over a limit: to be freed (on_reap), its bytes no longer counted
    bool proxy = false;     // admitted from a trusted proxy: counts in proxies_open_
    std::string key;        // net::prefix_key of the peer's address, or a proxy connection's own
    std::string client;     // a proxy connection's: prefix_key of its last request's forwarded address
    std::string byte_key;   // what the request being read counts under in buffered_by_address_
    std::unique_ptr<event, EventFree> deadline;  // until the first byte
    stream::ConnectionLimits::Ticket ticket;
  };
  static void on_accepted(evutil_socket_t, short, void* bev);
  static void on_reap(evutil_socket_t, short, void* self);
  void cut(bufferevent* bev, State& state);
  static void on_deadline(evutil_socket_t, short, void* bev);
  static void on_input(evbuffer* buffer, const evbuffer_cb_info* info, void* bev);
  static void on_close(evhttp_connection* evcon, void* self);
  void input(bufferevent* bev, std::size_t added);
  void done_reading(State& state);
  void drop_client(State& state);
  bool over_byte_share(bufferevent* bev, const State& state, std::size_t mine);
  // The state of a connection evhttp set up, made (and the connection admitted) at the first
  // call; null when it was refused and cut, or is not evhttp's (yet).
  State* track(bufferevent* bev);

  stream::ConnectionLimits limits_;
  std::map<bufferevent*, State> states_;  // accepted connections, until they close
  std::map<std::string, std::size_t> buffered_by_address_;
  std::vector<bufferevent*> to_free_;  // cut, freed by reaper_ from the loop
  std::unique_ptr<event, EventFree> reaper_;
  std::uint64_t refused_ = 0, too_slow_ = 0;
  std::size_t buffered_ = 0, max_buffered_ = 0, max_per_address_ = 0;  // 0: no bound
  const TrustedProxies* trusted_ = nullptr;
  std::uint64_t proxied_ = 0;  // numbers a trusted proxy's connections, each its own key
  std::size_t proxies_open_ = 0, proxies_buffered_ = 0;  // bounded by proxies_share()
  std::map<std::string, std::size_t> clients_open_;  // proxy connections by forwarded address
  static Connections* instance_;          // the process's one server (evbuffer callbacks carry the bev)
  friend void connection_upgraded(evhttp_connection* evcon);
};

}  // namespace xmppd::http
