// XEP-0198 acknowledgements on an outbound server-to-server stream, without resumption (as
// Prosody 0.12 does them): once the stream is authenticated and the peer offers <sm/>, we
// send <enable/>, keep every stanza sent until the peer's <a h/> covers it, and ask with
// <r/> after each batch written. An <r/> unanswered within s2s_timeout of being written
// (while the peer reads nothing more of ours) means the link is dead (packets dropped, no
// reset ever comes): the stream fails, and the federation sends
// what was not acknowledged again on a new stream (federation.cc). Everything here comes
// from the peer and is checked: an 'h' above what was sent ends the stream.
#include "common/log.h"
#include "s2s-worker/outbound.h"
#include "s2s-worker/s2s_xml.h"

namespace xmppd::s2s {

void OutboundStream::enable_acks() {
  if (!sm_offered_ || !federation_.policy().stream_management(local_)) return;
  sm_ = true;
  transport_->send("<enable xmlns='urn:xmpp:sm:3'/>");
  ack_timer_.reset(evtimer_new(federation_.base(), on_ack_timeout, this));
  // Until <enabled/> no <r/> goes (the peer may not count yet); a peer that answers neither
  // <enabled/> nor <failed/> within the deadline is treated as one that failed, rather than
  // as a dead link whose stanzas go again.
  arm_ack_deadline();
}

void OutboundStream::stop_acks() {
  sm_ = false;
  ack_requested_ = false;
  acks_.take();
  ack_timer_.reset();
  release_hold();
}

void OutboundStream::request_ack() {
  if (!sm_ || !sm_peer_enabled_ || ack_requested_ || acks_.unacked() == 0 || state_ != State::kReady) return;
  ack_requested_ = true;
  requested_at_ = acks_.sent_count();
  transport_->send("<r xmlns='urn:xmpp:sm:3'/>");
  ack_request_written_ = false;
  arm_ack_deadline();
}

void OutboundStream::ack_request_written() {
  if (!ack_requested_ || ack_request_written_ || !ack_timer_) return;
  ack_request_written_ = true;
  arm_ack_deadline();
}

void OutboundStream::arm_ack_deadline() {
  written_at_deadline_ = transport_ ? transport_->written() : 0;
  timeval tv{static_cast<time_t>(federation_.policy().timeout(local_).count()), 0};
  event_add(ack_timer_.get(), &tv);
}

void OutboundStream::release_hold() {
  if (!held_back_ || (transport_ && transport_->queued() > kHighWater) || (sm_ && acks_.full())) return;
  held_back_ = false;
  federation_.stream_drained(*this);
}

void OutboundStream::stream_management_element(const xml::Element& e) {
  if (e.name() == "enabled" && sm_) {
    sm_peer_enabled_ = true;
    log::info("s2s outbound %s -> %s via %s: acknowledgements (XEP-0198) enabled", local_.c_str(), remote_.c_str(),
              address_.c_str());
    event_del(ack_timer_.get());
    request_ack();  // for what went out meanwhile
  } else if (e.name() == "failed" && sm_) {
    // The peer will not count: what went out goes as it would without stream management.
    log::info("s2s outbound %s -> %s: the peer refused stream management (XEP-0198)", local_.c_str(), remote_.c_str());
    stop_acks();
  } else if (e.name() == "a" && sm_) {
    acknowledged(e);
  } else if (e.name() == "r" && sm_peer_enabled_) {
    transport_->send("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(handled_.h()) + "'/>");
  }
  // Anything else (an <a/> or <r/> before we enabled) is not ours to act on, as Prosody.
}

void OutboundStream::acknowledged(const xml::Element& a) {
  std::optional<std::uint32_t> h = parse_h(a.attribute_or("h"));
  if (!h) {
    transport_->send(
        "<stream:error><invalid-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>");
    fail("the peer sent an <a/> without a valid 'h'");
    return;
  }
  std::uint32_t sent = acks_.sent_count();
  if (!acks_.acknowledge(*h)) {
    // XEP-0198 §4: the stream ends; what it holds is sent again on the next one.
    transport_->send(
        "<stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
        "<handled-count-too-high xmlns='urn:xmpp:sm:3' h='" +
        std::to_string(*h) + "' send-count='" + std::to_string(sent) + "'/></stream:error></stream:stream>");
    fail("the peer acknowledged " + std::to_string(*h) + " stanzas, " + std::to_string(sent) + " were sent");
    return;
  }
  ack_requested_ = false;
  event_del(ack_timer_.get());
  // Stanzas sent since the <r/> went out are asked for at once (as Prosody); a peer that
  // answers with less than it had been sent waits for the next batch, or it could keep us
  // asking without end.
  if (acks_.unacked() > 0 && sent != requested_at_) request_ack();
  release_hold();
}

void OutboundStream::on_ack_timeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<OutboundStream*>(arg);
  if (self->state_ != State::kReady) return;
  if (!self->sm_peer_enabled_) {
    log::info("s2s outbound %s -> %s: no answer to <enable/> (XEP-0198); going on without acknowledgements",
              self->local_.c_str(), self->remote_.c_str());
    self->stop_acks();  // frees this timer: nothing of it is used after
    return;
  }
  // The <r/> waits behind what the peer has not read yet: while it keeps reading, or while
  // we do not read its answer, the link is not dead.
  bool peer_reading =
      !self->ack_request_written_ && self->transport_ && self->transport_->written() != self->written_at_deadline_;
  if (self->reading_paused_ || peer_reading) {
    self->arm_ack_deadline();
    return;
  }
  self->fail("no acknowledgement (XEP-0198) within " +
             std::to_string(self->federation_.policy().timeout(self->local_).count()) + " s: the link is dead");
}

}  // namespace xmppd::s2s
