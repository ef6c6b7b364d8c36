// The streams of one service (c2s in the router, s2s in the s2s worker): accepted on plain
// listeners (STARTTLS) or direct TLS listeners, each admitted under the connection limits
// (per source address and in all) before any TLS or XML work is done for it.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "control.pb.h"
#include "common/listener.h"
#include "common/refusal_log.h"
#include "proto/channel.h"
#include "stream/connection_limits.h"
#include "stream/session.h"

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
  // `direct_tls`: the connection starts with a TLS handshake (XEP-0368), run by the session
  // under its stream header deadline.
  void add_listener(UniqueFd listener, bool direct_tls = false);
  std::size_t size() const { return sessions_.size(); }
  // A client stream another process passes on (stream/session.h RelayedClient), admitted
  // under the same limits by `peer`, the client's own address: empty, or why it was
  // refused (the refusal's stream error has then been written to `fd`).
  std::string adopt(UniqueFd fd, std::string peer, RelayedClient facts);
  const ConnectionLimits& limits() const { return limits_; }

 private:
  // Refusals are logged at most once per this interval, the rest counted: a flood of them
  // must not become a flood of log lines.
  static constexpr std::chrono::seconds kRefusalLogInterval{10};
  static void on_reap(evutil_socket_t, short, void* arg);
  static void on_sweep(evutil_socket_t, short, void* arg);
  static void on_refusal_log(evutil_socket_t, short, void* arg);
  static constexpr int kSweepSeconds = 10;
  static constexpr int kQuietSeconds = 20;
  const char* service() const { return service_name(config_.kind); }
  void accepted(UniqueFd fd, std::string peer, bool direct_tls);
  void refuse(UniqueFd fd, const std::string& address, ConnectionLimits::Verdict verdict, bool direct_tls);
  void log_refusal(const std::string& address, ConnectionLimits::Verdict verdict);
  void schedule_refusal_summary();
  Session& create(UniqueFd fd, std::string peer);

  struct event_base* base_;
  SessionConfig config_;
  std::set<std::string> hosts_;
  std::map<std::string, SessionConfig::HostLimits> per_host_;
  std::set<std::string> unlimited_jids_;
  // Read when the service is made, before the sandbox, which does not allow getrlimit(2).
  std::size_t derived_cap_ = default_connection_cap();
  // Before the sessions: their tickets give their shares back to it when they go.
  ConnectionLimits limits_;
  std::vector<std::unique_ptr<net::Listener>> listeners_;
  std::map<Session*, std::unique_ptr<Session>> sessions_;
  std::vector<Session*> gone_;  // destroyed from the loop, never inside their own callbacks
  ipc::EventPtr reap_;
  ipc::EventPtr sweep_;
  RefusalLog refusals_{"refused a connection to", kRefusalLogInterval};
  ipc::EventPtr refusal_log_;
};

}  // namespace xmppd::stream
