// XEP-0198 on client streams: see stream_management.h. The nonzas here come from an
// authenticated client (or one authenticating: it gets <failed/>); every count it sends is
// checked against what was really sent before anything is dropped from the queue.
#include "router/stream_management.h"

#include <openssl/rand.h>

#include <utility>

#include "common/base64.h"
#include "common/log.h"
#include "router/c2s_stream.h"
#include "router/routing.h"
#include "router/sm_count.h"
#include "xml/fragment.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kStanzaErrorNs = "urn:ietf:params:xml:ns:xmpp-stanzas";
// Stanzas kept in the queue were written by us and are at most the stanza size limit.
constexpr std::size_t kMaxQueuedStanzaBytes = 4 << 20;
// Besides smacks_max_queue_size, the bytes a session may keep unacknowledged: 500 stanzas of
// the largest size would be 128 MiB. The same as the transport's output limit, which a
// connected client that reads nothing reaches first anyway.
constexpr std::size_t kMaxQueueBytes = 4 << 20;

std::string failed(std::string_view condition) {
  std::string out = "<failed xmlns='";
  out += kSmNs;
  out += "'><";
  out += condition;
  out += " xmlns='";
  out += kStanzaErrorNs;
  out += "'/></failed>";
  return out;
}

std::optional<std::uint32_t> parse_h(const xml::Element& e) {
  const std::string* text = e.attribute("h");
  return text != nullptr ? parse_sm_count(*text) : std::nullopt;
}

bool offered(const Routing& routing, std::string_view domain) {
  const HostConfig* host = routing.host(domain);
  const Module* smacks = routing.modules().find("smacks");
  return host != nullptr && smacks != nullptr && smacks->enabled(host->modules);
}

timeval seconds(std::size_t n) { return timeval{static_cast<time_t>(n), 0}; }

}  // namespace

StreamManagement::StreamManagement(ClientStream& stream, bool resumable, std::string token)
    : stream_(stream),
      resumable_(resumable),
      token_(std::move(token)),
      base_(stream.session_->base()),
      request_(evtimer_new(base_, on_request, this)),
      ack_timeout_(evtimer_new(base_, on_ack_timeout, this)),
      hibernation_timeout_(evtimer_new(base_, on_hibernation_timeout, this)) {}

Routing& StreamManagement::routing() { return stream_.routing_; }

void StreamManagement::element(ClientStream& stream, const xml::Element& e) {
  stream::Session* session = stream.session_;
  if (session == nullptr) return;
  if (!offered(stream.routing_, stream.domain())) {
    session->send(failed("feature-not-implemented"));
    return;
  }
  const std::string& name = e.name();
  if (name == "resume") {
    if (stream.state_ != ClientStream::State::kBinding)
      session->send(failed("unexpected-request"));
    else
      resume(stream, e);
    return;
  }
  if (name == "enable") {
    // After resource binding, once (XEP-0198 §3).
    if (stream.state_ != ClientStream::State::kEstablished || stream.sm_) {
      session->send(failed("unexpected-request"));
      return;
    }
    std::string resume = e.attribute_or("resume");
    const bool resumable = resume == "true" || resume == "1";
    stream.sm_ = std::make_unique<StreamManagement>(stream, resumable, resumable ? SmacksSessions::new_token() : "");
    stream.sm_->enable(e);
    return;
  }
  if (!stream.sm_) {
    session->send(failed("unexpected-request"));
    return;
  }
  if (name == "r") {
    session->send("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(stream.sm_->handled_) + "'/>");
  } else if (name == "a") {
    stream.sm_->acknowledged(e);
  } else {
    session->stream_error("unsupported-stanza-type", "unknown stream management element");
  }
}

void StreamManagement::enable(const xml::Element&) {
  std::string out = "<enabled xmlns='urn:xmpp:sm:3'";
  if (resumable_) {
    routing().smacks().add(token_, stream_);
    out +=
        " id='" + token_ + "' resume='true' max='" + std::to_string(routing().smacks().limits().hibernation_time) + "'";
  }
  out += "/>";
  stream_.session_->send(out);
  log::info("c2s %s: stream management enabled%s", stream_.full().c_str(), resumable_ ? ", resumable" : "");
}

bool StreamManagement::sent(std::string_view serialized) {
  const SmacksLimits& limits = routing().smacks().limits();
  // Kept even past the limit, so that the session's end handles it with the rest.
  queue_.emplace_back(serialized);
  queue_bytes_ += serialized.size();
  if (queue_.size() > limits.max_queue_size || queue_bytes_ > kMaxQueueBytes) {
    // As Prosody: a client that acknowledges nothing cannot make the server keep more; its
    // session ends (when hibernating, as if its time were up, from the loop).
    log::info("c2s %s: %zu stanzas unacknowledged, the session ends", stream_.full().c_str(), queue_.size());
    if (stream_.session_ != nullptr) {
      stream_.session_->stream_error("resource-constraint", "too many unacknowledged stanzas");
    } else if (stream_.hibernating_) {
      timeval now{0, 0};
      evtimer_add(hibernation_timeout_.get(), &now);
    }
    return false;
  }
  if (!stream_.hibernating_) request_soon();
  return true;
}

void StreamManagement::acknowledged(const xml::Element& a) {
  auto h = parse_h(a);
  if (!h) {
    stream_.session_->stream_error("bad-format", "<a/> without a valid h");
    return;
  }
  awaiting_ack_ = false;
  evtimer_del(ack_timeout_.get());
  if (!apply_ack(*h)) return;
  request_soon();
}

bool StreamManagement::apply_ack(std::uint32_t h) {
  auto newly = newly_acknowledged(acked_, h, queue_.size());
  if (!newly) {
    std::string detail = "<handled-count-too-high xmlns='urn:xmpp:sm:3' h='" + std::to_string(h) + "' send-count='" +
                         std::to_string(sent_count()) + "'/>";
    stream_.session_->stream_error("undefined-condition", "the client acknowledged more stanzas than were sent",
                                   detail);
    return false;
  }
  for (std::uint32_t i = 0; i < *newly; ++i) {
    queue_bytes_ -= queue_.front().size();
    queue_.pop_front();
  }
  acked_ = h;
  return true;
}

// Prosody's default (smacks_max_unacked_stanzas = 0): an <r/> after each batch of stanzas,
// once the loop has written them, and no second one until it is answered.
void StreamManagement::request_soon() {
  const SmacksLimits& limits = routing().smacks().limits();
  if (awaiting_ack_ || request_scheduled_ || stream_.session_ == nullptr) return;
  if (queue_.size() <= limits.max_unacked_stanzas || sent_count() == last_requested_) return;
  request_scheduled_ = true;
  event_active(request_.get(), EV_TIMEOUT, 1);
}

void StreamManagement::on_request(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<StreamManagement*>(arg);
  self->request_scheduled_ = false;
  if (self->stream_.session_ == nullptr || self->stream_.session_->ending() || self->awaiting_ack_) return;
  if (self->queue_.size() <= self->routing().smacks().limits().max_unacked_stanzas) return;
  self->request_now();
}

void StreamManagement::request_now() {
  stream_.session_->send("<r xmlns='urn:xmpp:sm:3'/>");
  awaiting_ack_ = true;
  last_requested_ = sent_count();
  timeval delay = seconds(routing().smacks().limits().max_ack_delay);
  evtimer_add(ack_timeout_.get(), &delay);
}

// No answer to an <r/> in smacks_max_ack_delay: the connection is taken as dead (a phone
// that left the network sends no FIN); a resumable session hibernates now rather than when
// TCP gives up, minutes later.
void StreamManagement::on_ack_timeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<StreamManagement*>(arg);
  if (self->stream_.session_ == nullptr || self->stream_.session_->ending()) return;
  log::info("c2s %s: no acknowledgement within %zu s, the connection is taken as lost", self->stream_.full().c_str(),
            self->routing().smacks().limits().max_ack_delay);
  if (self->resumable_ && self->stream_.state_ == ClientStream::State::kEstablished)
    self->hibernate(true);
  else
    self->stream_.session_->stream_error("connection-timeout", "no acknowledgement");
}

bool StreamManagement::connection_lost(ClientStream& stream) {
  StreamManagement* sm = stream.sm_.get();
  if (sm == nullptr || !sm->resumable_ || stream.session_ == nullptr || stream.session_->ending()) return false;
  sm->hibernate(false);
  return true;
}

void StreamManagement::hibernate(bool close) {
  stream::Session* connection = std::exchange(stream_.session_, nullptr);
  std::unique_ptr<stream::StreamHandler> self = connection->release_handler();
  // Not </stream:stream>: a clean close ends the session for the client (XEP-0198 §5), and
  // the client, if it is alive after all, should resume this hibernation.
  if (close) connection->cut("no acknowledgement");
  stream_.hibernating_ = true;
  hibernated_ = true;
  awaiting_ack_ = false;
  evtimer_del(ack_timeout_.get());
  timeval wait = seconds(routing().smacks().limits().hibernation_time);
  evtimer_add(hibernation_timeout_.get(), &wait);
  log::info("c2s %s: connection lost, the session hibernates for %zu s with %zu unacknowledged stanzas",
            stream_.full().c_str(), routing().smacks().limits().hibernation_time, queue_.size());
  routing().hibernated(stream_);
  const HostConfig* host = routing().host(stream_.domain());
  // Before the registry may end the oldest: this one is counted with the others.
  routing().smacks().hibernate(stream_, std::move(self));
  if (host != nullptr && stream_.hibernating_)
    routing().modules().hooks().session_hibernated.fire(host->modules, stream_);
}

void StreamManagement::on_hibernation_timeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<StreamManagement*>(arg);
  if (!self->stream_.hibernating_) return;
  log::info("c2s %s: not resumed in time, the session ends", self->stream_.full().c_str());
  self->hibernation_over();
}

void StreamManagement::hibernation_over() {
  std::unique_ptr<stream::StreamHandler> self = routing().smacks().wake(stream_);
  evtimer_del(hibernation_timeout_.get());
  stream_.hibernating_ = false;
  stream_.end_session();
  // Destroyed from the loop: this may run inside a timer of ours or a caller's loop.
  if (self) routing().smacks().discard(std::move(self), base_);
}

// What the client never acknowledged, as Prosody 0.12's mod_smacks handles it: a chat or
// normal message goes to offline storage when no other session of the account remains (or
// when it came from there), else its sender learns it was not delivered; an IQ
// request is answered with recipient-unavailable; errors, results, presence, headlines and
// what the server or the account itself sent (carbon copies, PEP) are dropped.
void StreamManagement::session_ended() {
  std::deque<std::string> unacked = std::exchange(queue_, {});
  queue_bytes_ = 0;
  if (resumable_) routing().smacks().forget(token_, stream_);
  resumable_ = false;
  if (unacked.empty()) return;
  xml::FragmentParser parser(xmpp::kClientNs);
  const bool others = !routing().sessions().resources(stream_.bare()).empty();
  std::size_t kept = 0, bounced = 0;
  for (const std::string& text : unacked) {
    std::optional<xml::Element> stanza = parser.parse(text, kMaxQueuedStanzaBytes);
    if (!stanza) continue;
    const std::string type = stanza->attribute_or("type");
    const std::string from = stanza->attribute_or("from");
    auto sender = xmpp::Jid::parse(from);
    if (!sender || type == "error" || sender->bare() == stream_.bare() || routing().is_local(from)) continue;
    // Past the archive and push hooks: the message was archived (its stanza-id kept) when it
    // arrived, and pushed then or at hibernation; one a session that never hibernated held
    // (its stream closed as the message came) is announced now. One that came from offline
    // storage goes back there whatever other sessions there are: it was never meant for
    // them, and was announced when first kept.
    const bool was_offline = routing().was_offline(*stanza, stream_.domain());
    if (stanza->name() == "message" && (type.empty() || type == "normal" || type == "chat") &&
        (!others || was_offline)) {
      routing().keep_unacknowledged(*stanza, stream_.bare(), !hibernated_ && !others && !was_offline);
      ++kept;
    } else if ((stanza->name() == "message" && type != "headline") ||
               (stanza->name() == "iq" && (type == "get" || type == "set"))) {
      routing().bounce(*stanza, "cancel", "recipient-unavailable");
      ++bounced;
    }
  }
  log::info("c2s %s: %zu unacknowledged stanzas: %zu messages kept for the account, %zu returned",
            stream_.full().c_str(), unacked.size(), kept, bounced);
}

void StreamManagement::resume(ClientStream& newcomer, const xml::Element& e) {
  stream::Session& connection = *newcomer.session_;
  auto h = parse_h(e);
  const std::string* previd = e.attribute("previd");
  if (!h || previd == nullptr) {
    connection.send(failed("bad-request"));
    return;
  }
  ClientStream* old = newcomer.routing_.smacks().find(*previd);
  // Bound to the account: someone else's token is as unknown as a forged one.
  // A stream being ended on purpose (kicked, revoked, replaced, closed, a stream error) is
  // not resumable: only a cut one is (XEP-0198 §5).
  if (old == nullptr || old->bare() != newcomer.bare() || !old->sm_ ||
      old->state_ != ClientStream::State::kEstablished ||
      (old->session_ != nullptr && old->session_->ending())) {
    log::info("c2s %s: resumption refused for %s: no such session", connection.peer().c_str(), newcomer.bare().c_str());
    connection.send(failed("item-not-found"));
    return;
  }
  old->sm_->take_over(newcomer, *h);
}

// The hibernating (or half-alive) session moves to the newcomer's connection, and the
// newcomer, a stream that only authenticated, is destroyed: from here on `newcomer` is not
// touched.
void StreamManagement::take_over(ClientStream& newcomer, std::uint32_t h) {
  stream::Session& connection = *newcomer.session_;
  std::unique_ptr<stream::StreamHandler> self;
  if (stream_.session_ != nullptr) {
    // The old connection is still up as far as we know: it is closed, without the end of
    // the session that its close would otherwise bring.
    self = stream_.session_->release_handler();
    stream_.session_->end_stream();
  } else {
    self = routing().smacks().wake(stream_);
  }
  evtimer_del(hibernation_timeout_.get());
  evtimer_del(ack_timeout_.get());
  awaiting_ack_ = false;
  stream_.mechanism_ = newcomer.mechanism_;
  std::unique_ptr<stream::StreamHandler> discarded = connection.adopt_handler(std::move(self));
  routing().smacks().discard(std::move(discarded), base_);
  stream_.session_ = &connection;
  const bool was_hibernating = std::exchange(stream_.hibernating_, false);
  connection.established();
  connection.send("<resumed xmlns='urn:xmpp:sm:3' h='" + std::to_string(handled_) + "' previd='" + token_ + "'/>");
  log::info("c2s %s resumed from %s with %zu unacknowledged stanzas, client h=%u", stream_.full().c_str(),
            connection.peer().c_str(), queue_.size(), h);
  if (!apply_ack(h)) return;
  resend();
  if (const HostConfig* host = routing().host(stream_.domain()); host != nullptr && was_hibernating)
    routing().modules().hooks().session_resumed.fire(host->modules, stream_);
  request_soon();
}

// Each stanza the client did not acknowledge, once, in order; they stay queued until it does.
void StreamManagement::resend() {
  for (const std::string& stanza : queue_) stream_.session_->send(stanza);
  last_requested_ = sent_count() - 1;  // a count to ask about again
}

std::string SmacksSessions::new_token() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no randomness: nothing safe to go on with
  std::string token = base64_encode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
  // base64url (RFC 4648 §5), without padding: safe in an attribute and in logs.
  while (!token.empty() && token.back() == '=') token.pop_back();
  for (char& c : token) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return token;
}

void SmacksSessions::forget(const std::string& token, const ClientStream& stream) {
  auto it = tokens_.find(token);
  if (it != tokens_.end() && it->second == &stream) tokens_.erase(it);
}

ClientStream* SmacksSessions::find(const std::string& token) const {
  auto it = tokens_.find(token);
  return it == tokens_.end() ? nullptr : it->second;
}

void SmacksSessions::hibernate(ClientStream& stream, std::unique_ptr<stream::StreamHandler> handler) {
  asleep_[&stream] = Asleep{++sequence_, std::move(handler)};
  // smacks_max_hibernated_sessions: the account's oldest hibernating session ends first.
  for (;;) {
    const ClientStream* oldest = nullptr;
    std::uint64_t since = 0;
    std::size_t count = 0;
    for (const auto& [s, asleep] : asleep_) {
      if (s->bare() != stream.bare()) continue;
      ++count;
      if (oldest == nullptr || asleep.since < since) {
        oldest = s;
        since = asleep.since;
      }
    }
    if (count <= limits_.max_hibernated_sessions || oldest == nullptr) return;
    log::info("c2s %s: more than %zu hibernating sessions for the account, the oldest ends", oldest->full().c_str(),
              limits_.max_hibernated_sessions);
    const_cast<ClientStream*>(oldest)->stream_management()->hibernation_over();
  }
}

std::unique_ptr<stream::StreamHandler> SmacksSessions::wake(const ClientStream& stream) {
  auto it = asleep_.find(&stream);
  if (it == asleep_.end()) return nullptr;
  std::unique_ptr<stream::StreamHandler> handler = std::move(it->second.handler);
  asleep_.erase(it);
  return handler;
}

void SmacksSessions::discard(std::unique_ptr<stream::StreamHandler> handler, struct event_base* base) {
  if (!handler) return;
  graveyard_.push_back(std::move(handler));
  if (!reap_) reap_.reset(event_new(base, -1, 0, on_reap, this));
  event_active(reap_.get(), EV_TIMEOUT, 1);
}

void SmacksSessions::on_reap(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<SmacksSessions*>(arg);
  // Destroying a session may discard no other, but take the list first all the same.
  std::vector<std::unique_ptr<stream::StreamHandler>> dead = std::move(self->graveyard_);
  self->graveyard_.clear();
}

}  // namespace xmppd::router
