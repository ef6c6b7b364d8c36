// A non-blocking IPC channel on a libevent loop: records out (queued while the socket is
// full) and records in, each checked against the channel's limits before anyone sees it.
//
// TypedChannel<Envelope> adds the message layer: a record must decode as the channel's
// envelope with exactly one known message set, and each message type is accepted only if a
// handler was registered for it, with exactly the number of descriptors that type carries.
// Anything else is a protocol violation: the channel closes and reports why. Receivers do
// not trust their peers.
#pragma once

#include <event2/event.h>
#include <google/protobuf/message_lite.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/event_ptr.h"
#include "common/unique_fd.h"
#include "proto/frame.h"

namespace xmppd::ipc {

using xmppd::EventPtr;

enum class CloseReason {
  kPeerClosed,  // the peer ended the link (it exited or closed its end)
  kViolation,   // the peer broke the protocol; `detail` says how
  kIoError,
};

class Channel {
 public:
  // Returns false when the record is a violation; `why` then says what was wrong.
  using RecordHandler =
      std::function<bool(std::span<const std::uint8_t> bytes, std::vector<UniqueFd>& fds, std::string& why)>;
  using CloseHandler = std::function<void(CloseReason reason, std::string_view detail)>;

  Channel(struct event_base* base, UniqueFd sock, Limits in, Limits out, std::string name);
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel();

  void start(RecordHandler on_record, CloseHandler on_close);
  // Queues the record when the socket is full. False when the message is over the
  // outbound limit or the channel is closed. When the queue would pass the outbound
  // max_queued, the queue is dropped, send returns false and the channel closes from the
  // loop as a violation (the peer stopped reading): never from inside send, whose caller
  // may be the owner that the close handler destroys.
  bool send(const google::protobuf::MessageLite& message, std::span<const int> fds = {});
  bool send_bytes(std::span<const std::uint8_t> bytes, std::span<const int> fds = {});
  bool open() const { return sock_.get() >= 0; }
  const std::string& name() const { return name_; }
  std::size_t queued() const { return queue_.size(); }
  std::size_t queued_bytes() const { return queued_bytes_; }
  // What one queued record costs beyond its bytes, for the max_queued account.
  static constexpr std::size_t kQueuedRecordOverhead = 64;
  // Called from the loop when records were queued and all have gone out.
  void set_on_drained(std::function<void()> on_drained) { on_drained_ = std::move(on_drained); }

 private:
  struct Pending {
    std::vector<std::uint8_t> bytes;
    std::vector<UniqueFd> fds;  // duplicates, so the caller may close its own at once
  };

  static void on_event(evutil_socket_t fd, short what, void* arg);
  void read_ready();
  void write_ready();
  void fail(CloseReason reason, std::string_view detail);
  void overflow();

  struct event_base* base_;
  UniqueFd sock_;
  Limits in_, out_;
  std::string name_;
  std::vector<std::uint8_t> buffer_;
  std::vector<std::uint8_t> scratch_;
  std::deque<Pending> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t max_queued_;
  bool overflowed_ = false;  // the queue passed max_queued_; the loop closes the channel
  EventPtr read_event_, write_event_;
  RecordHandler on_record_;
  CloseHandler on_close_;
  std::function<void()> on_drained_;
  // Cleared by the destructor so that a handler that destroys its channel stops the loop
  // over further records.
  std::shared_ptr<bool> alive_;
};

// The lite runtime keeps unknown fields but has no public way to ask for them; the member
// that holds them is protected in MessageLite, and a pointer to it can be formed here.
struct UnknownFieldsProbe : google::protobuf::MessageLite {
  static bool present(const google::protobuf::MessageLite& message) {
    return (message.*(&UnknownFieldsProbe::_internal_metadata_)).have_unknown_fields();
  }
};

// Decodes an envelope strictly: it must parse, carry no field this side does not know, and
// have its oneof set. Returns an explanation on failure.
template <class Envelope>
bool decode_envelope(Envelope& envelope, std::span<const std::uint8_t> bytes, std::string& why) {
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX) ||
      !envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    why = "record does not decode";
    return false;
  }
  if (UnknownFieldsProbe::present(envelope)) {
    why = "record carries fields this channel does not define";
    return false;
  }
  if (envelope.msg_case() == Envelope::MSG_NOT_SET) {
    why = "record carries no message";
    return false;
  }
  return true;
}

template <class Envelope>
class TypedChannel {
 public:
  using Case = typename Envelope::MsgCase;
  using Handler = std::function<void(const Envelope&, std::vector<UniqueFd>&)>;

  TypedChannel(struct event_base* base, UniqueFd sock, Limits in, Limits out, std::string name)
      : channel_(base, std::move(sock), in, out, std::move(name)) {}

  // Registers the only way a message of this type may arrive: with exactly `fds` descriptors.
  void on(Case kind, std::size_t fds, Handler handler) {
    rules_[static_cast<int>(kind)] = Rule{fds, std::move(handler)};
  }
  // The handler registered for `kind`, empty if none: for a handler that wraps it.
  Handler handler(Case kind) const {
    auto rule = rules_.find(static_cast<int>(kind));
    return rule == rules_.end() ? Handler() : rule->second.handler;
  }

  void start(Channel::CloseHandler on_close) {
    channel_.start([this](auto bytes, auto& fds, auto& why) { return dispatch(bytes, fds, why); },
                   std::move(on_close));
  }

  template <class Message>
  bool send(const Message& message, std::span<const int> fds = {}) {
    return channel_.send(message, fds);
  }
  Channel& raw() { return channel_; }

 private:
  struct Rule {
    std::size_t fds;
    Handler handler;
  };

  bool dispatch(std::span<const std::uint8_t> bytes, std::vector<UniqueFd>& fds, std::string& why) {
    Envelope envelope;
    if (!decode_envelope(envelope, bytes, why)) return false;
    auto rule = rules_.find(static_cast<int>(envelope.msg_case()));
    if (rule == rules_.end()) {
      why = "message type " + std::to_string(envelope.msg_case()) + " is not accepted on this channel";
      return false;
    }
    if (fds.size() != rule->second.fds) {
      why = "message type " + std::to_string(envelope.msg_case()) + " arrived with " +
            std::to_string(fds.size()) + " descriptors, expected " + std::to_string(rule->second.fds);
      return false;
    }
    rule->second.handler(envelope, fds);
    return true;
  }

  Channel channel_;
  std::map<int, Rule> rules_;
};

}  // namespace xmppd::ipc
