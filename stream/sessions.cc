#include "stream/sessions.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "common/address_prefix.h"
#include "common/log.h"
#include "xmpp/namespaces.h"

namespace xmppd::stream {

Sessions::Sessions(struct event_base* base, StreamKind kind, const tls::ServerContexts& tls)
    : base_(base) {
  config_.kind = kind;
  if (kind == StreamKind::kServer) config_.idle_timeout = kServerIdleTimeout;
  config_.hosts = &hosts_;
  config_.tls = &tls;
  config_.per_host = &per_host_;
  config_.unlimited_jids = &unlimited_jids_;
  limits_.configure(ConnectionLimitSettings{.total = derived_cap_});  // until configure()
  reap_.reset(event_new(base_, -1, 0, on_reap, this));
  sweep_.reset(event_new(base_, -1, EV_PERSIST, on_sweep, this));
  refusal_log_.reset(evtimer_new(base_, on_refusal_log, this));
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

Sessions::~Sessions() {
  // The sessions' tickets refer to limits_, declared before them: end them first.
  sessions_.clear();
}

void Sessions::configure(std::set<std::string> hosts, const ipc::StreamLimits& limits) {
  hosts_ = std::move(hosts);
  // XEP-0114 has no TLS: a component's stream is plain (on loopback by default).
  config_.require_encryption = config_.kind != StreamKind::kComponent && limits.require_encryption();
  config_.max_stanza_bytes = limits.max_stanza_bytes();
  per_host_.clear();
  for (const auto& [host, l] : limits.per_host())
    per_host_[host] = SessionConfig::HostLimits{l.require_encryption(), l.max_stanza_bytes()};
  limits_.configure(ConnectionLimitSettings{
      limits.max_connections_per_address(), limits.max_unauthenticated_per_address(),
      limits.max_connections() != 0 ? limits.max_connections() : derived_cap_});
  if (limits.negotiation_seconds() != 0) config_.negotiation_timeout = std::chrono::seconds(limits.negotiation_seconds());
  // A component speaks for a whole domain, as another server does: no per-connection rate.
  if (config_.kind != StreamKind::kComponent)
    config_.rate = RateLimit{limits.rate().bytes_per_second(), limits.rate().burst_seconds()};
  unlimited_jids_ = {limits.unlimited_jids().begin(), limits.unlimited_jids().end()};
}

void Sessions::add_listener(UniqueFd listener, bool direct_tls) {
  std::string name = std::string(service()) + (direct_tls ? " direct TLS" : "");
  listeners_.push_back(std::make_unique<net::Listener>(
      base_, std::move(listener), name,
      [this, direct_tls](UniqueFd conn, std::string peer) { accepted(std::move(conn), std::move(peer), direct_tls); }));
}

void Sessions::accepted(UniqueFd fd, std::string peer, bool direct_tls) {
  std::string address = net::prefix_key(peer);
  ConnectionLimits::Ticket ticket;
  if (auto verdict = limits_.admit(address, ticket); verdict != ConnectionLimits::Verdict::kAdmitted) {
    refuse(std::move(fd), address, verdict, direct_tls);
    return;
  }
  if (!direct_tls) {
    Session& session = create(std::move(fd), std::move(peer));
    session.hold(std::move(ticket));
    session.start();
    return;
  }
  tls::SslPtr ssl = config_.tls->new_ssl();
  if (!ssl) {
    log::warning("%s direct TLS from %s: no certificate to offer; closed", service(), peer.c_str());
    return;
  }
  Session& session = create(std::move(fd), std::move(peer));
  session.hold(std::move(ticket));
  session.start_direct_tls(std::move(ssl));
}

std::string Sessions::adopt(UniqueFd fd, std::string peer, RelayedClient facts) {
  std::string address = net::prefix_key(peer);
  ConnectionLimits::Ticket ticket;
  if (auto verdict = limits_.admit(address, ticket); verdict != ConnectionLimits::Verdict::kAdmitted) {
    refuse(std::move(fd), address, verdict, false);
    return describe(verdict);
  }
  Session& session = create(std::move(fd), std::move(peer));
  session.hold(std::move(ticket));
  session.relayed(std::move(facts));
  session.start();
  return {};
}

// Refused before anything is read or any TLS work is done. On a plaintext connection one
// write of a stream header and error tells the peer why (a client would otherwise retry at
// once); on a direct TLS one nothing can be said, so it is just closed.
void Sessions::refuse(UniqueFd fd, const std::string& address, ConnectionLimits::Verdict verdict, bool direct_tls) {
  log_refusal(address, verdict);
  if (direct_tls) return;
  bool full = verdict == ConnectionLimits::Verdict::kTotal;
  std::string out = "<?xml version='1.0'?><stream:stream xmlns='";
  out += stream_ns(config_.kind);
  out += "' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:error><";
  // RFC 6120 §4.9.3.17 and §4.9.3.14.
  out += full ? "resource-constraint" : "policy-violation";
  out += " xmlns='";
  out += xmpp::kStreamErrorNs;
  out += "'/><text xmlns='";
  out += xmpp::kStreamErrorNs;
  out += "' xml:lang='en'>";
  out += full ? "the server has too many connections" : "too many connections from your address";
  out += "</text></stream:error></stream:stream>";
  // The socket is non-blocking and SIGPIPE ignored; write(2) is what the sandbox allows.
  (void)!::write(fd.get(), out.data(), out.size());
  ::shutdown(fd.get(), SHUT_WR);
  // A header that came with the connection is taken off the socket: closing with unread
  // input would reset the connection, and the peer could lose the error.
  char scratch[1024];
  (void)!::read(fd.get(), scratch, sizeof scratch);
}

// The first refusal of a quiet period is logged at once; those that follow within
// kRefusalLogInterval are counted and summed up in one line at its end. The source is the
// service, not the address: a flood from many addresses is still one line per interval.
void Sessions::log_refusal(const std::string& address, ConnectionLimits::Verdict verdict) {
  const std::string reason = "from " + address + ": " + describe(verdict);
  if (auto line = refusals_.refused(service(), reason, RefusalLog::Clock::now())) log::warning("%s", line->c_str());
  schedule_refusal_summary();
}

void Sessions::schedule_refusal_summary() {
  auto due = refusals_.next_flush();
  if (!due || evtimer_pending(refusal_log_.get(), nullptr)) return;
  auto wait = std::chrono::ceil<std::chrono::microseconds>(
      std::max<RefusalLog::Clock::duration>(*due - RefusalLog::Clock::now(), RefusalLog::Clock::duration::zero()));
  timeval tv{static_cast<time_t>(wait.count() / 1000000), static_cast<suseconds_t>(wait.count() % 1000000)};
  evtimer_add(refusal_log_.get(), &tv);
}

void Sessions::on_refusal_log(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Sessions*>(arg);
  for (const std::string& line : self->refusals_.flush(RefusalLog::Clock::now())) log::warning("%s", line.c_str());
  self->schedule_refusal_summary();
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

void Sessions::on_reap(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Sessions*>(arg);
  for (Session* s : self->gone_) self->sessions_.erase(s);
  self->gone_.clear();
}

}  // namespace xmppd::stream
