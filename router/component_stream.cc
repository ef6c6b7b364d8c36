#include "router/component_stream.h"

#include <utility>
#include <vector>

#include "common/log.h"
#include "common/utf8_text.h"
#include "router/component_stanza.h"
#include "router/router_metrics.h"
#include "router/routing.h"
#include "xmpp/jid.h"
#include "xmpp/namespaces.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

using xmpp::kClientNs;
using xmpp::kComponentNs;

// A component's own words in the log: at most this much of what it claimed.
constexpr std::size_t kLoggedBytes = 200;

}  // namespace

ComponentStream* ConnectedComponents::find(std::string_view domain) const {
  auto it = streams_.find(domain);
  return it != streams_.end() ? it->second : nullptr;
}

void ConnectedComponents::reconfigure(Tags tags) {
  tags_ = std::move(tags);
  std::vector<std::pair<ComponentStream*, bool>> ending;  // end() changes streams_
  for (const auto& [domain, stream] : streams_) {
    auto it = tags_.find(domain);
    if (it == tags_.end())
      ending.emplace_back(stream, true);
    else if (it->second != stream->secret_tag())
      ending.emplace_back(stream, false);
  }
  for (auto [stream, removed] : ending) {
    log::notice("component %s from %s: %s by reload: disconnected", stream->domain().c_str(), stream->peer().c_str(),
                removed ? "no longer configured" : "component_secret changed");
    if (removed)
      stream->end("host-gone", "This server has stopped serving " + stream->domain());
    else
      stream->end("reset", "The component_secret changed: connect again with the new one");
  }
}

ComponentStream::ComponentStream(stream::Session& session, AuthLink& auth, Routing& routing,
                                 ConnectedComponents& connected, std::size_t max_stanza_bytes)
    : session_(session), domain_(session.host()), auth_(auth), routing_(routing), connected_(connected),
      reparser_(kClientNs),
      max_stanza_bytes_(max_stanza_bytes) {
  ++router_counters().component_streams;
}

ComponentStream::~ComponentStream() {
  *alive_ = false;
  cancel_check();
  detach();
  --router_counters().component_streams;
}

void ComponentStream::detach() {
  if (state_ != State::kConnected) return;
  state_ = State::kEnded;
  --router_counters().components_connected;
  // Stanzas for the domain bounce with service-unavailable from now on (Routing::to_component).
  if (routing_.attached_component(domain_) == this) routing_.attach_component(domain_, nullptr);
  if (connected_.find(domain_) == this) connected_.streams_.erase(domain_);
  log::notice("component %s from %s disconnected", domain_.c_str(), session_.peer().c_str());
}

// A stream that goes away while the helper checks (a timeout, the router ending it) gives
// its place among the checks back at once rather than when the helper answers, which may be
// 30 s later for a domain under a penalty.
void ComponentStream::cancel_check() {
  if (check_ == 0) return;
  auth_.cancel_component(check_);
  check_ = 0;
}

void ComponentStream::element(xml::Element element) {
  switch (state_) {
    case State::kHandshake:
      if (element.is(kComponentNs, "handshake"))
        handshake(element);
      else
        session_.stream_error("not-authorized", "send the handshake first");
      return;
    case State::kChecking:  // reading is held meanwhile; what was read with it must wait
      session_.stream_error("not-authorized", "wait for the handshake's answer");
      return;
    case State::kConnected:
      stanza(element);
      return;
    case State::kEnded:
      return;
  }
}

// XEP-0114 §3: hex(SHA-1(stream id + secret)). The router checks only its form; the auth
// helper, which alone holds the secret, says whether it is right.
void ComponentStream::handshake(const xml::Element& element) {
  auto digest = handshake_digest(element.text());
  if (!digest) {
    log::warning("component %s from %s: malformed handshake", domain_.c_str(), session_.peer().c_str());
    session_.stream_error("not-authorized", "the handshake must be 40 hexadecimal digits");
    return;
  }
  state_ = State::kChecking;
  session_.hold_reading(true);
  const std::uint64_t check = auth_.check_component(
      domain_, session_.stream_id(), *digest,
      [this, alive = alive_](AuthLink::ComponentCheck result, const std::string& secret_tag) {
        if (*alive) verdict(result, secret_tag);
      });
  if (state_ == State::kChecking) check_ = check;  // not answered at once
}

void ComponentStream::verdict(AuthLink::ComponentCheck check, const std::string& secret_tag) {
  using Check = AuthLink::ComponentCheck;
  if (state_ != State::kChecking) return;
  check_ = 0;
  session_.hold_reading(false);
  if (check == Check::kUnavailable) {
    state_ = State::kEnded;
    session_.stream_error("internal-server-error", "the handshake cannot be checked now");
    return;
  }
  if (check == Check::kBusy) {
    state_ = State::kEnded;
    log::warning("component %s from %s: handshake refused: too many handshakes for the domain wait already",
                 domain_.c_str(), session_.peer().c_str());
    session_.stream_error("not-authorized", "too many handshakes for this component wait already: try again later");
    return;
  }
  if (check == Check::kRefused) {
    state_ = State::kEnded;
    log::warning("component %s from %s: handshake refused: wrong secret", domain_.c_str(), session_.peer().c_str());
    session_.stream_error("not-authorized", "wrong handshake");
    return;
  }
  // A reload while the helper checked: the domain removed, or its secret changed.
  if (const char* refusal = accepted_handshake_refusal(connected_.tags_, domain_, secret_tag)) {
    state_ = State::kEnded;
    if (std::string_view(refusal) == "host-unknown") {
      session_.stream_error("host-unknown", "This server does not serve " + domain_);
    } else {
      log::notice("component %s from %s: handshake checked with a component_secret a reload changed: refused",
                  domain_.c_str(), session_.peer().c_str());
      session_.stream_error("reset", "The component_secret changed: connect again with the new one");
    }
    return;
  }
  // One connection per component, as Prosody's mod_component: the first one keeps it.
  if (routing_.attached_component(domain_) != nullptr || connected_.find(domain_) != nullptr) {
    state_ = State::kEnded;
    log::warning("component %s from %s: refused, the component is connected already", domain_.c_str(),
                 session_.peer().c_str());
    session_.stream_error("conflict", "the component is connected already");
    return;
  }
  state_ = State::kConnected;
  secret_tag_ = secret_tag;
  since_ = std::time(nullptr);
  ++router_counters().components_connected;
  routing_.attach_component(domain_, this);
  connected_.streams_[domain_] = this;
  session_.established();
  session_.send("<handshake/>");
  log::notice("component %s connected from %s", domain_.c_str(), session_.peer().c_str());
}

void ComponentStream::stanza(const xml::Element& element) {
  using Verdict = ComponentStanza::Verdict;
  ComponentStanza read = read_component_stanza(element, domain_, reparser_, max_stanza_bytes_);
  switch (read.verdict) {
    case Verdict::kRoute:
      ++stanzas_in_;
      routing_.from_component(std::move(*read.stanza));
      return;
    case Verdict::kNotAStanza:
      session_.stream_error("unsupported-stanza-type", "only message, presence and iq are routed");
      return;
    case Verdict::kInvalidFrom: {
      const std::string* from = element.attribute("from");
      log::warning("component %s from %s: stanza from %s, outside its domain", domain_.c_str(), session_.peer().c_str(),
                   from != nullptr ? utf8_prefix(*from, kLoggedBytes).c_str() : "(no from)");
      session_.stream_error("invalid-from", "a component sends from its own domain");
      return;
    }
    case Verdict::kNoTo:
    case Verdict::kBadTo:
      // As Prosody: the stanza is answered, the stream goes on.
      if (!xmpp::is_error(*read.stanza))
        receive(xmpp::error_reply(*read.stanza, "modify", read.verdict == Verdict::kNoTo ? "bad-request" : "jid-malformed",
                                  read.verdict == Verdict::kNoTo ? "A component's stanzas must have a 'to'"
                                                                 : "The 'to' is no valid address"),
                *read.from, *read.from);
      return;
    case Verdict::kTooBig:
      session_.stream_error("policy-violation", "the stanza is too big", "<stanza-too-big xmlns='urn:xmpp:errors'/>");
      return;
  }
}

void ComponentStream::receive(const xml::Element& stanza, const xmpp::Jid&, const xmpp::Jid&) {
  if (state_ != State::kConnected) return;
  std::string out;
  stanza.serialize(out, kClientNs);  // the stanza namespace stays implicit: the stream's own
  // Over the transport's output limit, a component that does not read is cut, as a client is.
  session_.send(out);
  ++stanzas_out_;
}

void ComponentStream::end(std::string_view condition, std::string_view text) {
  if (state_ != State::kConnected) return;
  detach();
  session_.stream_error(condition, text);
}

void ComponentStream::closed() {
  *alive_ = false;
  cancel_check();
  detach();
}

}  // namespace xmppd::router
