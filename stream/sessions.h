// The streams of one service (c2s in the router, s2s in the s2s worker): accepted on plain
// listeners (STARTTLS) or handed over by a direct TLS listener after its handshake.
#pragma once

#include <event2/event.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "control.pb.h"
#include "common/listener.h"
#include "proto/channel.h"
#include "stream/session.h"
#include "tls/acceptor.h"

namespace xmppd::stream {

class Sessions {
 public:
  Sessions(struct event_base* base, StreamKind kind, const tls::ServerContexts& tls);
  Sessions(const Sessions&) = delete;
  Sessions& operator=(const Sessions&) = delete;
  ~Sessions();

  // New streams use these; open ones keep what they started with.
  void configure(std::set<std::string> hosts, const ipc::StreamLimits& limits);
  void set_handler_factory(HandlerFactory factory) { config_.make_handler = std::move(factory); }
  void set_host_refusal(std::function<std::string(const std::string&)> refuse) {
    config_.refuse_host = std::move(refuse);
  }
  void add_listener(UniqueFd listener);
  void adopt(tls::Established established);
  std::size_t size() const { return sessions_.size(); }

 private:
  static void on_reap(evutil_socket_t, short, void* arg);
  static void on_sweep(evutil_socket_t, short, void* arg);
  static constexpr int kSweepSeconds = 10;
  static constexpr int kQuietSeconds = 20;
  Session& create(UniqueFd fd, std::string peer);

  struct event_base* base_;
  SessionConfig config_;
  std::set<std::string> hosts_;
  std::map<std::string, SessionConfig::HostLimits> per_host_;
  std::vector<std::unique_ptr<net::Listener>> listeners_;
  std::map<Session*, std::unique_ptr<Session>> sessions_;
  std::vector<Session*> gone_;  // destroyed from the loop, never inside their own callbacks
  ipc::EventPtr reap_;
  ipc::EventPtr sweep_;
};

}  // namespace xmppd::stream
