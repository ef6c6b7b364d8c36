// One end of the stanza link between the router and the s2s worker (router_s2s.proto):
// stanzas queued during one turn of the event loop leave as one record.
#pragma once

#include <event2/event.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "proto/channel.h"
#include "router_s2s.pb.h"

namespace xmppd::ipc {

// Out and In are RouterToS2s and S2sToRouter (or the reverse); both carry `stanzas`.
template <class Out, class In>
class StanzaLink {
 public:
  // The socketpair's buffers are made for this (parent.cc); a stanza that cannot fit in
  // one record with its domains is refused by send().
  static constexpr std::size_t kMaxRecord = 1 << 20;
  // A batch leaves early once it holds this much, so one busy turn does not build a record
  // the size of the limit.
  static constexpr std::size_t kFlushBytes = 64 << 10;
  // From this many records waiting for the peer to read, the link is behind: congested()
  // says so, and whoever feeds it stops reading its own sources until on_caught_up.
  static constexpr std::size_t kBehindRecords = 16;
  // Records waiting, at most: what was already read when the link fell behind still fits,
  // beyond that send() refuses (the caller answers resource-constraint) instead of growing
  // this process.
  static constexpr std::size_t kMaxQueuedRecords = 64;

  using OnStanza = std::function<void(const RemoteStanza& stanza)>;
  using OnClose = std::function<void(CloseReason reason, std::string_view detail)>;

  // on_caught_up: the link said it was congested, and all it held has gone out since.
  StanzaLink(struct event_base* base, UniqueFd sock, std::string name, OnStanza on_stanza, OnClose on_close,
             std::function<void()> on_caught_up = {})
      : channel_(base, std::move(sock), Limits{kMaxRecord, 0}, Limits{kMaxRecord, 0}, std::move(name)),
        on_stanza_(std::move(on_stanza)),
        on_caught_up_(std::move(on_caught_up)) {
    flush_event_.reset(evtimer_new(base, on_flush, this));
    channel_.on(In::kStanzas, 0, [this](const In& in, std::vector<UniqueFd>&) {
      for (const RemoteStanza& s : in.stanzas().stanzas()) on_stanza_(s);
    });
    channel_.raw().set_on_drained([this] {
      if (!behind_) return;
      behind_ = false;
      if (on_caught_up_) on_caught_up_();
    });
    channel_.start(std::move(on_close));
  }

  // False when the stanza can never fit in a record, the link is down or full.
  bool send(std::string_view from_domain, std::string_view to_domain, std::string_view xml) {
    std::size_t size = from_domain.size() + to_domain.size() + xml.size() + 32;
    if (size > kMaxRecord - 64 || !channel_.raw().open() || channel_.raw().queued() >= kMaxQueuedRecords)
      return false;
    if (pending_bytes_ + size > kMaxRecord - 64) flush();
    RemoteStanza* s = batch_.mutable_stanzas()->add_stanzas();
    s->set_from_domain(from_domain.data(), from_domain.size());
    s->set_to_domain(to_domain.data(), to_domain.size());
    s->set_xml(xml.data(), xml.size());
    pending_bytes_ += size;
    if (pending_bytes_ >= kFlushBytes) {
      flush();
    } else if (!scheduled_) {
      scheduled_ = true;
      event_active(flush_event_.get(), EV_TIMEOUT, 0);
    }
    return true;
  }

  bool open() { return channel_.raw().open(); }
  bool congested() {
    behind_ = channel_.raw().open() && (behind_ || channel_.raw().queued() >= kBehindRecords);
    return behind_;
  }

 private:
  static void on_flush(evutil_socket_t, short, void* arg) { static_cast<StanzaLink*>(arg)->flush(); }

  void flush() {
    scheduled_ = false;
    if (pending_bytes_ == 0) return;
    channel_.send(batch_);
    batch_.Clear();
    pending_bytes_ = 0;
  }

  TypedChannel<In> channel_;
  OnStanza on_stanza_;
  std::function<void()> on_caught_up_;
  bool behind_ = false;  // congested() said so, and the channel has not drained since
  Out batch_;
  std::size_t pending_bytes_ = 0;
  bool scheduled_ = false;
  EventPtr flush_event_;
};

}  // namespace xmppd::ipc
