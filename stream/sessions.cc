#include "stream/sessions.h"

namespace xmppd::stream {

Sessions::Sessions(struct event_base* base, StreamKind kind, const tls::ServerContexts& tls)
    : base_(base) {
  config_.kind = kind;
  if (kind == StreamKind::kServer) config_.idle_timeout = kServerIdleTimeout;
  config_.hosts = &hosts_;
  config_.tls = &tls;
  config_.per_host = &per_host_;
  reap_.reset(event_new(base_, -1, 0, on_reap, this));
  sweep_.reset(event_new(base_, -1, EV_PERSIST, on_sweep, this));
  timeval tv{kSweepSeconds, 0};
  event_add(sweep_.get(), &tv);
}

// Streams quiet for a while give back their parser and buffers (Session::hibernate): most
// of the memory an idle connection would otherwise hold.
void Sessions::on_sweep(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Sessions*>(arg);
  timeval now;
  event_base_gettimeofday_cached(self->base_, &now);
  for (auto& [session, owned] : self->sessions_) session->hibernate_if_idle(now.tv_sec - kQuietSeconds);
}

Sessions::~Sessions() = default;

void Sessions::configure(std::set<std::string> hosts, const ipc::StreamLimits& limits) {
  hosts_ = std::move(hosts);
  config_.require_encryption = limits.require_encryption();
  config_.max_stanza_bytes = limits.max_stanza_bytes();
  per_host_.clear();
  for (const auto& [host, l] : limits.per_host())
    per_host_[host] = SessionConfig::HostLimits{l.require_encryption(), l.max_stanza_bytes()};
}

void Sessions::add_listener(UniqueFd listener) {
  listeners_.push_back(std::make_unique<net::Listener>(
      base_, std::move(listener), config_.kind == StreamKind::kClient ? "c2s" : "s2s",
      [this](UniqueFd conn, std::string peer) { create(std::move(conn), std::move(peer)).start(); }));
}

Session& Sessions::create(UniqueFd fd, std::string peer) {
  auto session = std::make_unique<Session>(base_, std::move(fd), std::move(peer), config_, [this](Session* s) {
    gone_.push_back(s);
    event_active(reap_.get(), 0, 0);
  });
  Session& ref = *session;
  sessions_[&ref] = std::move(session);
  return ref;
}

void Sessions::adopt(tls::Established established) {
  create(std::move(established.fd), std::move(established.peer)).start_tls_established(std::move(established.ssl));
}

void Sessions::on_reap(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Sessions*>(arg);
  for (Session* s : self->gone_) self->sessions_.erase(s);
  self->gone_.clear();
}

}  // namespace xmppd::stream
