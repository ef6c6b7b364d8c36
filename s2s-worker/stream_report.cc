// xmppctl show s2s and close s2s, on the worker's side: reports of inbound and outbound
// streams and the federation's answers built from them. Everything the report holds may come
// from a peer (its domains, its certificate's subjects): each string is valid UTF-8 cut to
// kMaxReportedString (certificate_report.h) and a stream's domain pairs to kMaxReportedRoutes.
// A domain is reported as proven only once the stream proved it: before that the header's
// claim is listed unauthenticated (S2S_AUTH_UNSPECIFIED), and close s2s never matches it.
#include "s2s-worker/stream_report.h"

#include <vector>

#include "common/log.h"
#include "runtime/metric_samples.h"
#include "s2s-worker/certificate_report.h"
#include "s2s-worker/inbound.h"
#include "s2s-worker/outbound.h"
#include "tls/handshake_counts.h"

namespace xmppd::s2s {
namespace {

time_t loop_now(struct event_base* base) {
  timeval now;
  event_base_gettimeofday_cached(base, &now);
  return now.tv_sec;
}

// The log's "ADDRESS port N" as reports.proto has it: "ADDRESS N".
std::string report_address(const std::string& address) {
  std::size_t at = address.find(" port ");
  if (at == std::string::npos) return address;
  return address.substr(0, at) + " " + address.substr(at + 6);
}

std::uint64_t since(time_t now, time_t then) { return now > then ? static_cast<std::uint64_t>(now - then) : 0; }

void add_route(ipc::S2sStream& out, std::string_view local, std::string_view remote, ipc::S2sAuthMethod method,
               bool certified) {
  if (static_cast<std::size_t>(out.routes_size()) >= kMaxReportedRoutes) return;
  ipc::S2sRoute* route = out.add_routes();
  route->set_local(bounded(local));
  route->set_remote(bounded(remote));
  route->set_method(method);
  route->set_certified(certified);
}

}  // namespace

// ---- Inbound ----

void InboundStream::report(ipc::S2sStream& out, time_t now) {
  const std::string& local = session_.host();
  const std::string& remote = session_.peer_domain();
  out.set_direction(ipc::S2S_DIRECTION_INBOUND);
  for (const auto& [pair, method] : methods_)
    add_route(out, pair.second, pair.first, method,
              method == ipc::S2S_AUTH_SASL_EXTERNAL || certified(pair.first, pair.second));
  // Nothing proved yet: only what the header claims, which anyone may claim.
  if (methods_.empty()) add_route(out, local, claimed_domain(remote), ipc::S2S_AUTH_UNSPECIFIED, false);
  out.set_certificate(ipc::CERTIFICATE_NONE);
  if (session_.encrypted()) {
    report_tls(session_.ssl(), out);
    const DaneVerdict* dane = dane_verdict(remote, local);
    bool matched = dane != nullptr && dane->kind == DaneVerdict::Kind::kMatched;
    const tls::PeerVerification& v = certificate_for(remote);
    out.set_certificate(certificate_status(v, matched));
    out.set_certificate_error(certificate_error(v, remote, matched));
    out.set_dane(matched);
  }
  out.set_address(report_address(session_.peer()));
  out.set_direct_tls(session_.direct_tls());
  out.set_bidi(bidi_);
  out.set_sm(sm_);
  out.set_queue_length(federation_.queued_for(session_));
  out.set_age_seconds(since(now, session_.started_at()));
  out.set_idle_seconds(since(now, session_.last_read()));
}

bool InboundStream::claims(const std::string& remote) const {
  return methods_.empty() && claimed_domain(session_.peer_domain()) == remote;
}

bool InboundStream::carries(const std::string& remote, const std::string& local) const {
  for (const auto& [proved_remote, proved_local] : proved_)
    if (proved_remote == remote && (local.empty() || proved_local == local)) return true;
  return false;
}

void InboundStream::close() {
  log::info("s2s inbound %s -> %s from %s: closed at the administrator's request", session_.peer_domain().c_str(),
            session_.host().c_str(), session_.peer().c_str());
  session_.end_stream();
}

// ---- Outbound ----

void OutboundStream::report(ipc::S2sStream& out, time_t now) const {
  out.set_direction(ipc::S2S_DIRECTION_OUTBOUND);
  bool certified = certificate_.trusted_for(remote_);
  ipc::S2sAuthMethod method = state_ != State::kReady ? ipc::S2S_AUTH_UNSPECIFIED
                              : sasl_done_            ? ipc::S2S_AUTH_SASL_EXTERNAL
                                                      : ipc::S2S_AUTH_DIALBACK;
  add_route(out, local_, remote_, method, state_ == State::kReady && certified);
  for (const auto& [local, extra] : extra_locals_)
    add_route(out, local, remote_, extra.accepted ? ipc::S2S_AUTH_DIALBACK : ipc::S2S_AUTH_UNSPECIFIED,
              extra.accepted && judge_certificate(local).trusted_for(remote_));
  out.set_certificate(ipc::CERTIFICATE_NONE);
  if (SSL* ssl = transport_ ? transport_->ssl() : nullptr) {
    report_tls(ssl, out);
    out.set_certificate(certificate_status(certificate_, dane_matched_));
    out.set_certificate_error(certificate_error(certificate_, remote_, dane_matched_));
    out.set_dane(dane_matched_);
  }
  if (connected_once_) {
    out.set_address(report_address(address_));
    out.set_direct_tls(target_.direct_tls);
  }
  out.set_bidi(bidi_);
  out.set_sm(sm_);
  out.set_unacked(acks_.unacked());
  out.set_queue_length(federation_.queued_for(*this));
  out.set_age_seconds(since(now, started_));
  out.set_idle_seconds(since(now, last_received_));
}

// ---- Federation ----

std::size_t Federation::queued_for(const OutboundStream& stream) const {
  std::size_t n = 0;
  for (const auto& [pair, route] : routes_)
    if (route.stream == &stream) n += route.queue.size();
  return n;
}

std::size_t Federation::queued_for(const stream::Session& bidi) const {
  std::size_t n = 0;
  for (const auto& [pair, route] : routes_)
    if (route.bidi == &bidi && route.stream == nullptr) n += route.queue.size();
  return n;
}

void Federation::report(const ipc::S2sQuery& query, runtime::AdminPages& pages) {
  time_t now = loop_now(base_);
  const std::string& remote = query.remote();
  auto add = [&](auto& stream) {
    if (!pages.room()) return;  // kAdminMaxEntries: the last page says the list was cut
    ipc::S2sStream& entry = *pages.page().mutable_s2s()->add_streams();
    stream.report(entry, now);
    pages.added(entry.ByteSizeLong());
  };
  for (const auto& [stream, owned] : streams_)
    if (!stream->done() && (remote.empty() || stream->remote() == remote)) add(*stream);
  for (InboundStream* stream : inbound_)
    if (stream->open() && (remote.empty() || stream->carries(remote, {}) || stream->claims(remote))) add(*stream);
  pages.finish();
}

void Federation::metrics(ipc::Metrics& out) {
  const time_t now = loop_now(base_);
  // direction x method (unspecified, sasl external, dialback): small, fixed label sets.
  std::uint64_t streams[2][3] = {};
  std::uint64_t queued[2] = {};
  auto count = [&](auto& stream, int direction) {
    ipc::S2sStream entry;
    stream.report(entry, now);
    const int method = entry.routes_size() > 0 ? static_cast<int>(entry.routes(0).method()) : 0;
    ++streams[direction][method >= 0 && method < 3 ? method : 0];
    queued[direction] += entry.queue_length();
  };
  for (const auto& [stream, owned] : streams_)
    if (!stream->done()) count(*stream, 1);
  for (InboundStream* stream : inbound_)
    if (stream->open()) count(*stream, 0);
  static constexpr const char* kDirections[] = {"inbound", "outbound"};
  static constexpr const char* kMethods[] = {"none", "certificate", "dialback"};
  for (int d = 0; d < 2; ++d) {
    for (int m = 0; m < 3; ++m)
      runtime::add_gauge(out, "xmppd_s2s_streams", "Server-to-server streams, by direction and authentication method",
                         static_cast<double>(streams[d][m]), {{"direction", kDirections[d]}, {"auth", kMethods[m]}});
    runtime::add_gauge(out, "xmppd_s2s_queued_stanzas", "Stanzas waiting to be written on server-to-server streams",
                       static_cast<double>(queued[d]), {{"direction", kDirections[d]}});
  }
  static constexpr std::string_view kBounces = "Error replies the s2s worker made for stanzas it could not deliver";
  // The common conditions exist from the start, at 0: a dashboard sees 0 rather than no data.
  for (std::string_view condition : {"remote-server-not-found", "remote-server-timeout", "policy-violation"})
    if (bounces_.find(condition) == bounces_.end())
      runtime::add_counter(out, "xmppd_s2s_bounces", kBounces, 0, {{"condition", condition}});
  for (const auto& [condition, count] : bounces_)
    runtime::add_counter(out, "xmppd_s2s_bounces", kBounces, static_cast<double>(count), {{"condition", condition}});
  static constexpr std::string_view kKinds[] = {"message", "presence", "iq", "other"};
  for (std::size_t i = 0; i < 4; ++i) {
    runtime::add_counter(out, "xmppd_s2s_stanzas_in", "Stanzas from remote servers passed to the router, by kind",
                         static_cast<double>(stanzas_in_[i]), {{"kind", kKinds[i]}});
    runtime::add_counter(out, "xmppd_s2s_stanzas_out", "Stanzas written to remote servers, by kind",
                         static_cast<double>(stanzas_out_[i]), {{"kind", kKinds[i]}});
  }
  const tls::HandshakeCounts& handshakes = tls::handshake_counts();
  runtime::add_tls_handshakes(out, handshakes.completed, handshakes.failed);
}

std::uint32_t Federation::close_remote(const std::string& remote, const std::string& local) {
  auto ours = [&](const Pair& pair) { return pair.second == remote && (local.empty() || pair.first == local); };
  std::vector<OutboundStream*> outbound;
  for (const auto& [stream, owned] : streams_)
    if (!stream->done() && stream->remote() == remote && (local.empty() || stream->carries(local)))
      outbound.push_back(stream);
  std::vector<InboundStream*> inbound;
  for (InboundStream* stream : inbound_)
    if (stream->open() && stream->carries(remote, local)) inbound.push_back(stream);
  // No stream: nothing is done at all. The answer is "no stream", so the queues and the
  // backoff are left as they were rather than changed behind an error.
  if (outbound.empty() && inbound.empty()) return 0;
  // What waits now would otherwise go on the stream that replaces the closed one: it is
  // bounced, as for a failed stream, so that its senders hear of it.
  for (auto& [pair, route] : routes_)
    if (ours(pair)) bounce_queue(route, false, "the stream was closed by the administrator");
  for (OutboundStream* stream : outbound) {
    log::info("s2s outbound %s -> %s: closed at the administrator's request", stream->local().c_str(),
              stream->remote().c_str());
    stream->close();
  }
  for (InboundStream* stream : inbound) stream->close();
  // The next stanza connects again at once: a closed stream is no failure to wait out.
  std::erase_if(backoff_, [&](const auto& entry) { return ours(entry.first); });
  return static_cast<std::uint32_t>(outbound.size() + inbound.size());
}

}  // namespace xmppd::s2s
