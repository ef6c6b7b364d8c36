#include "s2s-worker/federation.h"

#include <algorithm>
#include <utility>

#include "common/address_prefix.h"
#include "common/log.h"
#include "s2s-worker/inbound.h"
#include "s2s-worker/outbound.h"
#include "s2s-worker/s2s_xml.h"
#include "xml/fragment.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

namespace xmppd::s2s {
namespace {

// A stanza's kind, as /metrics labels it: 0 message, 1 presence, 2 iq, 3 other.
std::size_t stanza_kind(std::string_view name) {
  return name == "message" ? 0 : name == "presence" ? 1 : name == "iq" ? 2 : 3;
}

// Why a stanza the router passed for (local, remote) is not one; empty when it is.
std::string refusal(const xml::Element& stanza, const std::string& local, const std::string& remote) {
  if (stanza.ns() != xmpp::kClientNs ||
      (stanza.name() != "message" && stanza.name() != "presence" && stanza.name() != "iq"))
    return "not a stanza";
  auto from = xmpp::Jid::parse(stanza.attribute_or("from", ""));
  auto to = xmpp::Jid::parse(stanza.attribute_or("to", ""));
  if (!from || !to || from->domain() != local || to->domain() != remote) return "addresses do not match its domains";
  return {};
}

}  // namespace

Federation::Federation(struct event_base* base, const S2sPolicy& policy, const tls::TrustStores& trust)
    : base_(base), policy_(policy), trust_(trust) {
  reap_.reset(evtimer_new(base_, on_reap, this));
}

Federation::~Federation() = default;

void Federation::link_router(UniqueFd sock, std::function<void(std::string_view)> on_violation) {
  router_caught_up();  // a replaced link is not waited for
  router_ = std::make_unique<Link>(
      base_, std::move(sock), "router", [this](const ipc::RemoteStanza& s) { from_router(s); },
      [this, on_violation](ipc::CloseReason reason, std::string_view detail) {
        if (reason == ipc::CloseReason::kViolation)
          on_violation(detail);
        else
          log::info("link to the router closed; waiting for a new one");
        router_caught_up();  // nothing to wait for any more
      },
      [this] { router_caught_up(); });
}

void Federation::router_caught_up() {
  for (stream::Session* session : std::exchange(held_for_router_, {})) session->pause_reading(false);
  for (OutboundStream* stream : std::exchange(outbound_held_for_router_, {})) stream->pause_reading(false);
}

// The router is not trusted to have checked: the same rules apply here, and its bytes must
// be one stanza of the pair it names, so that nothing else reaches a stream.
bool Federation::acceptable_from_router(const ipc::RemoteStanza& stanza) {
  const std::string& local = stanza.from_domain();
  const std::string& remote = stanza.to_domain();
  std::string why;
  if (!policy_.is_local(local) || policy_.is_local(remote) || remote.empty())
    why = "not for federation";
  else if (auto element = parser_.parse(stanza.xml(), Link::kMaxRecord, &why))
    why = refusal(*element, local, remote);
  if (why.empty()) return true;
  log::warning("router sent a stanza from %s to %s that is refused (%s); dropped", local.c_str(), remote.c_str(),
               why.c_str());
  return false;
}

const Federation::Backoff* Federation::backing_off(const Pair& pair) {
  auto it = backoff_.find(pair);
  if (it == backoff_.end()) return nullptr;
  return std::chrono::steady_clock::now() < it->second.until ? &it->second : nullptr;
}

void Federation::back_off(const Pair& pair, bool never_connected, const std::string& why) {
  auto now = std::chrono::steady_clock::now();
  // Entries long expired are forgotten, so that the map holds only recent failures.
  if (backoff_.size() > 1024)
    std::erase_if(backoff_, [now](const auto& entry) { return now > entry.second.until + kMaxBackoff; });
  Backoff& b = backoff_[pair];
  bool recent = b.delay.count() != 0 && now < b.until + kMaxBackoff;
  b.delay = recent ? std::min(b.delay * 2, kMaxBackoff) : kFirstBackoff;
  b.until = now + b.delay;
  b.never_connected = never_connected;
  b.why = why;
}

void Federation::from_router(const ipc::RemoteStanza& stanza) {
  if (!acceptable_from_router(stanza)) return;
  const std::string& local = stanza.from_domain();
  const std::string& remote = stanza.to_domain();
  if (!policy_.enabled(local)) {
    bounce(stanza.xml(), "cancel", "not-allowed", "Communication with remote domains is not enabled");
    return;
  }
  if (std::string why = policy_.domain_refusal(local, remote); !why.empty()) {
    bounce(stanza.xml(), "cancel", "not-allowed", "Communication with " + remote + " is not allowed: " + why);
    return;
  }
  send_out({local, remote}, stanza.xml());
}

void Federation::send_out(const Pair& pair, std::string_view xml) {
  auto it = routes_.find(pair);
  // A bidirectional inbound stream serves the pair while it is open, whatever outbound
  // attempts have failed.
  if (it != routes_.end() && it->second.bidi != nullptr && it->second.bidi->sending()) {
    Route& route = it->second;
    if (route.queue.empty() && route.bidi->queued() <= OutboundStream::kHighWater)
      send_bidi(pair, route, xml);
    else
      enqueue(pair, route, xml);
    return;
  }
  if (const Backoff* b = backing_off(pair)) {
    bounce(xml, "cancel", b->never_connected ? "remote-server-not-found" : "remote-server-timeout",
           "Server-to-server connection failed: " + b->why);
    return;
  }
  Route& route = it != routes_.end() ? it->second : routes_[pair];
  OutboundStream* stream = route.stream;
  if (stream != nullptr && route.queue.empty() && stream->ready_for(pair.first) && !stream->congested()) {
    if (stream->send_stanza(pair.first, xml))
      count_out(xml);
    else
      bounce(xml, "modify", "policy-violation", stream->size_refusal());
    return;
  }
  if (enqueue(pair, route, xml) && stream == nullptr) stream_for(pair);
}

bool Federation::enqueue(const Pair& pair, Route& route, std::string_view xml) {
  if (route.queue.size() >= kMaxQueuedStanzas || route.queued_bytes + xml.size() > kMaxQueuedBytes) {
    bounce(xml, "wait", "resource-constraint", "Too many stanzas are waiting for " + pair.second);
    return false;
  }
  route.queue.push_back(Queued{std::string(xml)});
  route.queued_bytes += xml.size();
  return true;
}

// A ready stream to the same remote domain that can take `pair`'s local domain too.
OutboundStream* Federation::shareable_stream(const Pair& pair) {
  for (auto& [stream, owned] : streams_)
    if (stream->remote() == pair.second && stream->add_local(pair.first)) return stream;
  return nullptr;
}

OutboundStream& Federation::stream_for(const Pair& pair) {
  Route& route = routes_[pair];
  if (route.stream != nullptr) return *route.stream;
  if (!route.own_stream) route.stream = shareable_stream(pair);
  if (route.stream == nullptr) {
    auto stream = std::make_unique<OutboundStream>(*this, pair.first, pair.second);
    route.stream = stream.get();
    streams_[stream.get()] = std::move(stream);
    start_when_allowed(*route.stream);
  }
  return *route.stream;
}

void Federation::set_outbound_limits(bool allow_private_addresses, std::size_t max_concurrent_connects) {
  allow_private_addresses_ = allow_private_addresses;
  max_concurrent_connects_ = std::max<std::size_t>(1, max_concurrent_connects);
  // A higher limit lets waiting streams go now.
  while (!waiting_.empty() && connecting_.size() < max_concurrent_connects_) {
    OutboundStream* next = waiting_.front();
    waiting_.pop_front();
    connecting_.insert(next);
    next->start();
  }
}

void Federation::start_when_allowed(OutboundStream& stream) {
  if (connecting_.size() < max_concurrent_connects_) {
    connecting_.insert(&stream);
    stream.start();
    return;
  }
  log::info("s2s outbound %s -> %s: waiting, %zu connections are being set up (s2s_max_concurrent_connects)",
            stream.local().c_str(), stream.remote().c_str(), connecting_.size());
  waiting_.push_back(&stream);
}

// Starting the next one from here is safe: start() calls nobody back before it returns.
void Federation::connect_over(OutboundStream& stream) {
  std::erase(waiting_, &stream);
  if (connecting_.erase(&stream) == 0) return;
  while (!waiting_.empty() && connecting_.size() < max_concurrent_connects_) {
    OutboundStream* next = waiting_.front();
    waiting_.pop_front();
    connecting_.insert(next);
    log::info("s2s outbound %s -> %s: connecting after waiting its turn", next->local().c_str(),
              next->remote().c_str());
    next->start();
  }
}

void Federation::stream_ready(OutboundStream& stream, const std::string& local) {
  connect_over(stream);
  Pair pair{local, stream.remote()};
  backoff_.erase(pair);
  auto it = routes_.find(pair);
  if (it != routes_.end() && it->second.stream == &stream) flush_route(it->second, stream, local);
}

void Federation::stream_drained(OutboundStream& stream) {
  for (auto& [pair, route] : routes_)
    if (route.stream == &stream) flush_route(route, stream, pair.first);
}

// The stream may stop being usable, or fill up, while the queue goes out; what is left
// then waits for it to drain, or bounces when it fails.
void Federation::flush_route(Route& route, OutboundStream& stream, const std::string& local) {
  while (!route.queue.empty() && stream.ready_for(local) && !stream.congested()) {
    Queued q = std::move(route.queue.front());
    route.queue.pop_front();
    route.queued_bytes -= q.xml.size();
    if (stream.send_stanza(local, q.xml, q.resends))
      count_out(q.xml);
    else
      bounce(q.xml, "modify", "policy-violation", stream.size_refusal());
  }
}

// A peer on a stream it opened has announced no limits (the initiating side sends no
// features): it gets what s2s_peer_stanza_size_limit allows, as an outbound stream's peer
// that announces none.
void Federation::send_bidi(const Pair& pair, Route& route, std::string_view xml) {
  std::size_t limit = policy_.peer_max_stanza_bytes(pair.first, pair.second);
  if (xml.size() > limit) {
    bounce(xml, "modify", "policy-violation", peer_size_refusal(pair.second, limit, false));
    return;
  }
  route.bidi->send(xml);
  count_out(xml);
  auto in = inbound_by_session_.find(route.bidi);
  if (in != inbound_by_session_.end()) in->second->sent_stanza();
}

void Federation::add_inbound(InboundStream& stream) {
  inbound_.insert(&stream);
  inbound_by_session_[&stream.session()] = &stream;
}

void Federation::end_inbound() {
  for (InboundStream* stream : std::set<InboundStream*>(inbound_)) stream->end();
}

void Federation::remove_inbound(InboundStream& stream) {
  inbound_.erase(&stream);
  inbound_by_session_.erase(&stream.session());
}

void Federation::flush_bidi(const Pair& pair, Route& route, bool recovered_too) {
  while (!route.queue.empty() && route.bidi->sending() && route.bidi->queued() <= OutboundStream::kHighWater &&
         (recovered_too || route.queue.front().resends == 0)) {
    Queued q = std::move(route.queue.front());
    route.queue.pop_front();
    route.queued_bytes -= q.xml.size();
    send_bidi(pair, route, q.xml);
  }
}

void Federation::bidi_ready(stream::Session& inbound, const std::string& local, const std::string& remote) {
  Pair pair{local, remote};
  Route& route = routes_[pair];
  if (route.bidi != nullptr && route.bidi != &inbound && route.bidi->sending()) return;  // the first one stays
  route.bidi = &inbound;
  backoff_.erase(pair);
  log::info("s2s inbound %s -> %s from %s: bidirectional, carries %s -> %s too", remote.c_str(), local.c_str(),
            inbound.peer().c_str(), local.c_str(), remote.c_str());
  flush_bidi(pair, route);
}

void Federation::bidi_drained(stream::Session& inbound) {
  for (auto& [pair, route] : routes_)
    if (route.bidi == &inbound) flush_bidi(pair, route);
}

void Federation::release(stream::Session& inbound) {
  held_for_router_.erase(&inbound);
  for (auto it = routes_.begin(); it != routes_.end();) {
    Route& route = it->second;
    if (route.bidi != &inbound) {
      ++it;
      continue;
    }
    route.bidi = nullptr;
    // A route left with nothing is forgotten, so that peers cannot grow the map; what the
    // stream still held goes the usual way.
    if (route.stream == nullptr && route.queue.empty()) {
      it = routes_.erase(it);
      continue;
    }
    if (route.stream == nullptr) stream_for(it->first);
    ++it;
  }
}

void Federation::piggyback_failed(OutboundStream& stream, const std::string& local, const std::string&) {
  auto it = routes_.find({local, stream.remote()});
  if (it == routes_.end() || it->second.stream != &stream) return;
  it->second.stream = nullptr;
  it->second.own_stream = true;
  stream_for(it->first);
}

void Federation::bounce_queue(Route& route, bool never_connected, const std::string& why) {
  for (const Queued& q : route.queue)
    bounce(q.xml, "cancel", never_connected ? "remote-server-not-found" : "remote-server-timeout",
           "Server-to-server connection failed: " + why);
  route.queue.clear();
  route.queued_bytes = 0;
}

void Federation::inbound_refused(const std::string& local, const std::string& remote, const std::string& why) {
  auto it = routes_.find({local, remote});
  if (it != routes_.end() && it->second.stream != nullptr) it->second.stream->note_refused_peer(why);
}

// A stream that worked and broke (an error, a reset, no acknowledgement in time) gives back
// what the peer did not acknowledge: it goes on a new stream, opened at once, and bounces
// only if that one cannot be made. One we closed ourselves (idle, the administrator, the
// worker stopping) bounces it, as Prosody does by default.
void Federation::stream_failed(OutboundStream& stream, bool never_connected, bool was_ready, const std::string& why) {
  connect_over(stream);
  outbound_held_for_router_.erase(&stream);
  // Without stream management nothing changes: what waits bounces, as it always has.
  bool resend = was_ready && !stream.closed_by_us() && stream.stream_management();
  std::set<Pair> retry = take_back_unacked(stream, resend, why);
  for (auto it = routes_.begin(); it != routes_.end();) {
    if (resend && it->second.stream == &stream && !it->second.queue.empty()) {
      it->second.stream = nullptr;
      retry.insert(it->first);
    }
    if (it->second.stream != &stream) {
      ++it;
      continue;
    }
    // A bidirectional inbound stream serves the pair: what waited goes on it.
    if (it->second.bidi != nullptr && it->second.bidi->sending()) {
      it->second.stream = nullptr;
      flush_bidi(it->first, it->second, !resend);
      ++it;
      continue;
    }
    // A stream that worked and ended (idle, or the peer restarting) is no reason to wait.
    if (!was_ready) back_off(it->first, never_connected, why);
    bounce_queue(it->second, never_connected, why);
    it = routes_.erase(it);
  }
  for (const Pair& pair : retry) resume_route(pair);
  if (stream.finished()) stream_finished(stream);
}

std::set<Federation::Pair> Federation::take_back_unacked(OutboundStream& stream, bool resend, const std::string& why) {
  std::deque<AckQueue::Entry> unacked = stream.take_unacked();
  std::set<Pair> pairs;
  if (!unacked.empty())
    log::info("s2s outbound %s -> %s: %zu stanzas not acknowledged; %s", stream.local().c_str(),
              stream.remote().c_str(), unacked.size(), resend ? "sending them again" : "bounced");
  // Newest first, each in front: the queue keeps the order they were sent in.
  for (auto it = unacked.rbegin(); it != unacked.rend(); ++it) {
    if (!resend || it->resends >= kMaxResends) {
      bounce(it->xml, "cancel", "remote-server-timeout", "Server-to-server connection failed: " + why);
      continue;
    }
    Pair pair{it->local, stream.remote()};
    Route& route = routes_[pair];
    // The queue's bounds hold for what comes back too (the oldest bounce when it is full),
    // so that a new stream is never handed more than a connection's output cap.
    if (route.queue.size() >= kMaxQueuedStanzas || route.queued_bytes + it->xml.size() > kMaxQueuedBytes) {
      bounce(it->xml, "wait", "resource-constraint", "Too many stanzas are waiting for " + pair.second);
      continue;
    }
    route.queued_bytes += it->xml.size();
    route.queue.push_front(Queued{std::move(it->xml), it->resends + 1});
    pairs.insert(pair);
  }
  return pairs;
}

// A route that got stanzas back goes on: on the bidirectional stream that serves it, on its
// own ready stream, or on a new one.
void Federation::resume_route(const Pair& pair) {
  auto it = routes_.find(pair);
  if (it == routes_.end() || it->second.queue.empty()) return;
  Route& route = it->second;
  // Stanzas taken back go on an outbound stream, which keeps them until acknowledged: the
  // bidirectional stream would not, and they have already been lost once.
  bool recovered = route.queue.front().resends > 0;
  if (!recovered && route.bidi != nullptr && route.bidi->sending()) {
    flush_bidi(pair, route);
  } else if (route.stream == nullptr || route.stream->done()) {
    route.stream = nullptr;
    stream_for(pair);
  } else if (route.stream->ready_for(pair.first)) {
    flush_route(route, *route.stream, pair.first);
  }
}

void Federation::stream_finished(OutboundStream& stream) {
  auto owned = streams_.find(&stream);
  if (owned == streams_.end()) return;
  connect_over(stream);
  outbound_held_for_router_.erase(&stream);
  // Destroyed from the loop: this is inside the stream's own callbacks.
  dead_.push_back(std::move(owned->second));
  streams_.erase(owned);
  event_active(reap_.get(), EV_TIMEOUT, 0);
}

void Federation::on_reap(evutil_socket_t, short, void* arg) { static_cast<Federation*>(arg)->dead_.clear(); }

// A serialized stanza ("<message ..."): its kind from its first name.
void Federation::count_out(std::string_view xml) {
  const std::size_t end = xml.find_first_of(" />", 1);
  ++stanzas_out_[stanza_kind(xml.size() > 1 && end != std::string_view::npos ? xml.substr(1, end - 1) : "")];
}

// RFC 6120 §8.3.1: from the remote domain's address, never in reply to an error.
void Federation::bounce(std::string_view xml, std::string_view type, std::string_view condition,
                        std::string_view text) {
  auto stanza = xml::parse_fragment(xml, xmpp::kClientNs, xml.size());
  if (!stanza || xmpp::is_error(*stanza) || !router_) return;
  // By condition, for /metrics: the worker's own constants (remote-server-not-found, ...).
  auto counted = bounces_.find(condition);
  if (counted == bounces_.end()) counted = bounces_.emplace(std::string(condition), 0).first;
  ++counted->second;
  const std::string* to = stanza->attribute("to");
  const std::string* from = stanza->attribute("from");
  if (to == nullptr || from == nullptr) return;
  xml::Element error = xmpp::error_reply(*stanza, type, condition, text);
  error.set_attribute("from", *to);
  std::string out;
  error.serialize(out, xmpp::kClientNs);
  std::string from_domain = to->substr(to->find('@') == std::string::npos ? 0 : to->find('@') + 1);
  from_domain = from_domain.substr(0, from_domain.find('/'));
  std::string to_domain = from->substr(from->find('@') == std::string::npos ? 0 : from->find('@') + 1);
  to_domain = to_domain.substr(0, to_domain.find('/'));
  router_->send(from_domain, to_domain, out);
}

void Federation::deliver(stream::Session& from, const std::string& from_domain, const std::string& to_domain,
                         const xml::Element& stanza) {
  if (to_router(from_domain, to_domain, stanza) && router_->congested() && held_for_router_.insert(&from).second)
    from.pause_reading(true);
}

void Federation::deliver(OutboundStream& from, const std::string& from_domain, const std::string& to_domain,
                         const xml::Element& stanza) {
  if (to_router(from_domain, to_domain, stanza) && router_->congested() &&
      outbound_held_for_router_.insert(&from).second)
    from.pause_reading(true);
}

bool Federation::to_router(const std::string& from_domain, const std::string& to_domain, const xml::Element& stanza) {
  std::string out;
  stanza.serialize(out, kServerNs);
  // The router holds what comes from here to the stream's own size limit. Escaping can make
  // a stanza longer than it was on the wire: one that grew past the limit stops here.
  if (out.size() > policy_.max_stanza_bytes(to_domain)) {
    answer_sender(from_domain, to_domain, out, "modify", "policy-violation", "The stanza is too big");
    return false;
  }
  if (router_ && router_->send(from_domain, to_domain, out)) {
    ++stanzas_in_[stanza_kind(stanza.name())];
    return true;
  }
  answer_sender(from_domain, to_domain, out, "wait", "resource-constraint", "The server is busy");
  return false;
}

// A stanza the router will not get: the sender hears it, in the router's form (the stanza's
// namespace implicit), from the address it wrote to. Never in reply to an error.
void Federation::answer_sender(const std::string& from_domain, const std::string& to_domain, std::string_view xml,
                               std::string_view type, std::string_view condition, std::string_view text) {
  auto copy = xml::parse_fragment(xml, xmpp::kClientNs, xml.size());
  if (!copy || xmpp::is_error(*copy)) return;
  std::string error;
  xmpp::error_reply(*copy, type, condition, text).serialize(error, xmpp::kClientNs);
  send_out({to_domain, from_domain}, error);
}

std::uint64_t Federation::verify(const std::string& local, const std::string& remote, const std::string& stream_id,
                                 const std::string& key, std::uint64_t asker, const std::string& peer,
                                 VerifyDone done) {
  Pair pair{local, remote};
  if (const Backoff* b = backing_off(pair)) {
    done(DialbackVerdict::kError, b->why);
    return 0;
  }
  std::string share_key = net::prefix_key(peer);
  if (VerifyShares::Refusal refusal = shares_.take(asker, share_key); refusal != VerifyShares::Refusal::kNone) {
    done(DialbackVerdict::kBusy, describe(refusal));
    return 0;
  }
  std::uint64_t id = next_verify_++;
  verifies_[id] = PendingVerify{pair, std::move(done), asker, std::move(share_key)};
  stream_for(pair).send_verify(id, local, stream_id, key);
  return id;
}

void Federation::cancel_verify(std::uint64_t id) {
  auto it = verifies_.find(id);
  if (it == verifies_.end()) return;
  shares_.give_back(it->second.asker, it->second.share_key);
  verifies_.erase(it);
}

void Federation::verify_answered(std::uint64_t id, DialbackVerdict verdict, std::string why) {
  auto it = verifies_.find(id);
  if (it == verifies_.end()) return;
  VerifyDone done = std::move(it->second.done);
  shares_.give_back(it->second.asker, it->second.share_key);
  verifies_.erase(it);
  done(verdict, why);
}

}  // namespace xmppd::s2s
