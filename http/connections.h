// The HTTP server's watch over its connections (http_server.h): how many one address holds and
// how many are open in all (stream/connection_limits.h), and how slowly a request may arrive.
// evhttp itself has only an idle timeout, which a client sending a byte every few seconds
// never meets (slowloris). Trusts nothing of the peer but its address and the time its bytes
// take; parses none of them.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>

#include "stream/connection_limits.h"

namespace xmppd::http {

// A request (line, headers and body) must be read whole within kGrace of its first byte, or
// afterwards keep up an average of kMinRate bytes a second from that first byte on; evhttp's
// idle timeout closes a connection that sends nothing at all.
inline constexpr std::chrono::seconds kGrace{10};
inline constexpr std::size_t kMinRate = 1024;

// A connection that became something else than HTTP requests (a WebSocket after its upgrade):
// its bytes are no longer timed as a request's; it still counts against the limits until it
// closes. The handler that takes a connection over calls this.
void connection_upgraded(evhttp_connection* evcon);

// Whether a request whose first byte came `elapsed` ago, with `bytes` read so far, is too slow.
bool too_slow(std::chrono::steady_clock::duration elapsed, std::size_t bytes);

class Connections {
 public:
  Connections();
  ~Connections();
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  void configure(stream::ConnectionLimitSettings limits) { limits_.configure(limits); }
  // A bufferevent evhttp is about to read a new connection with (evhttp_set_bevcb).
  void watch(bufferevent* bev);
  // A request of this connection was read whole: the clock of the next starts at its first byte.
  void request_read(evhttp_request* req);
  std::size_t open() const { return states_.size(); }
  std::uint64_t refused() const { return refused_; }  // over a connection limit
  std::uint64_t too_slow() const { return too_slow_; }  // cut by the slow-request rule
  void upgraded(bufferevent* bev);

 private:
  struct State {
    std::chrono::steady_clock::time_point start;
    std::size_t bytes = 0;
    bool reading = false;
    bool upgraded = false;  // connection_upgraded(): not timed
    stream::ConnectionLimits::Ticket ticket;
  };
  static void on_input(evbuffer* buffer, const evbuffer_cb_info* info, void* bev);
  static void on_close(evhttp_connection* evcon, void* self);
  void input(bufferevent* bev, std::size_t added);
  bool admit(bufferevent* bev, State& state);

  stream::ConnectionLimits limits_;
  std::map<bufferevent*, State> states_;
  std::uint64_t refused_ = 0, too_slow_ = 0;  // connections that sent a byte, until they close
  static Connections* instance_;          // the process's one server (evbuffer callbacks carry the bev)
  friend void connection_upgraded(evhttp_connection* evcon);
};

}  // namespace xmppd::http
