#include "proto/channel.h"

#include <google/protobuf/message_lite.h>

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/log.h"

namespace xmppd::ipc {

Channel::Channel(struct event_base* base, UniqueFd sock, Limits in, Limits out, std::string name)
    : base_(base),
      sock_(std::move(sock)),
      in_(in),
      out_(out),
      name_(std::move(name)),
      max_queued_(out.max_queued ? out.max_queued : default_max_queued(out.max_record)),
      alive_(std::make_shared<bool>(true)) {}

Channel::~Channel() { *alive_ = false; }

void Channel::start(RecordHandler on_record, CloseHandler on_close) {
  on_record_ = std::move(on_record);
  on_close_ = std::move(on_close);
  set_nonblocking(sock_.get());
  buffer_.resize(in_.max_record + 1);
  read_event_.reset(event_new(base_, sock_.get(), EV_READ | EV_PERSIST, on_event, this));
  write_event_.reset(event_new(base_, sock_.get(), EV_WRITE, on_event, this));
  if (!read_event_ || !write_event_ || event_add(read_event_.get(), nullptr) != 0)
    log::fatal("%s: cannot register channel events", name_.c_str());
}

void Channel::on_event(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<Channel*>(arg);
  std::shared_ptr<bool> alive = self->alive_;
  if (what & EV_WRITE) self->write_ready();
  if (*alive && self->open() && (what & EV_READ)) self->read_ready();
}

void Channel::read_ready() {
  std::shared_ptr<bool> alive = alive_;
  std::vector<UniqueFd> fds;
  // Bounded so that one busy peer cannot starve the rest of the loop.
  for (int i = 0; i < 64 && *alive && open(); ++i) {
    std::size_t length = 0;
    RecvStatus status = recv_record(sock_.get(), buffer_, in_.max_fds, length, fds);
    switch (status) {
      case RecvStatus::kRecord: {
        std::string why;
        if (!on_record_(std::span(buffer_.data(), length), fds, why)) {
          if (*alive) fail(CloseReason::kViolation, why);
          return;
        }
        continue;
      }
      case RecvStatus::kWouldBlock:
        return;
      case RecvStatus::kClosed:
        fail(CloseReason::kPeerClosed, describe(status));
        return;
      case RecvStatus::kError:
        fail(CloseReason::kIoError, std::strerror(errno));
        return;
      case RecvStatus::kOversized:
      case RecvStatus::kTooManyFds:
      case RecvStatus::kBadControl:
        fail(CloseReason::kViolation, describe(status));
        return;
    }
  }
}

bool Channel::send(const google::protobuf::MessageLite& message, std::span<const int> fds) {
  std::size_t size = message.ByteSizeLong();
  if (size > out_.max_record) {
    log::error("%s: outgoing message of %zu bytes over the channel's maximum", name_.c_str(), size);
    return false;
  }
  scratch_.resize(size);
  message.SerializeWithCachedSizesToArray(scratch_.data());
  return send_bytes(scratch_, fds);
}

bool Channel::send_bytes(std::span<const std::uint8_t> bytes, std::span<const int> fds) {
  if (!open() || overflowed_ || fds.size() > out_.max_fds) return false;
  if (queue_.empty()) {
    switch (send_record(sock_.get(), bytes, fds)) {
      case SendStatus::kSent:
        return true;
      case SendStatus::kError:
        // Not closed here: the caller may be this channel's owner mid-call. The read side
        // sees the same broken link and reports it from the loop.
        log::debug("%s: send failed: %s", name_.c_str(), std::strerror(errno));
        return false;
      case SendStatus::kWouldBlock:
        break;
    }
  }
  std::size_t cost = bytes.size() + kQueuedRecordOverhead;
  if (queued_bytes_ + cost > max_queued_) {
    overflow();
    return false;
  }
  Pending pending{std::vector<std::uint8_t>(bytes.begin(), bytes.end()), {}};
  for (int fd : fds) {
    UniqueFd copy(fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!copy) {
      log::error("%s: cannot keep a descriptor for a queued record: %s", name_.c_str(), std::strerror(errno));
      return false;
    }
    pending.fds.push_back(std::move(copy));
  }
  queue_.push_back(std::move(pending));
  queued_bytes_ += cost;
  event_add(write_event_.get(), nullptr);
  return true;
}

void Channel::overflow() {
  log::debug("%s: %zu bytes in %zu records wait for the peer to read", name_.c_str(), queued_bytes_, queue_.size());
  overflowed_ = true;
  // The memory goes back at once; the records were for a peer that is about to be dropped.
  queue_.clear();
  queued_bytes_ = 0;
  event_active(write_event_.get(), EV_WRITE, 0);
}

void Channel::write_ready() {
  if (overflowed_) {
    fail(CloseReason::kViolation,
         "peer stopped reading: over " + std::to_string(max_queued_) + " bytes waiting for it");
    return;
  }
  while (!queue_.empty()) {
    Pending& head = queue_.front();
    std::vector<int> raw;
    for (auto& fd : head.fds) raw.push_back(fd.get());
    switch (send_record(sock_.get(), head.bytes, raw)) {
      case SendStatus::kSent:
        queued_bytes_ -= head.bytes.size() + kQueuedRecordOverhead;
        queue_.pop_front();
        continue;
      case SendStatus::kWouldBlock:
        event_add(write_event_.get(), nullptr);
        return;
      case SendStatus::kError:
        fail(CloseReason::kIoError, std::strerror(errno));
        return;
    }
  }
  if (on_drained_) on_drained_();
}

void Channel::fail(CloseReason reason, std::string_view detail) {
  read_event_.reset();
  write_event_.reset();
  sock_.reset();
  queue_.clear();
  queued_bytes_ = 0;
  if (on_close_) {
    // The handler may destroy this channel: move it out first.
    CloseHandler handler = std::move(on_close_);
    handler(reason, detail);
  }
}

}  // namespace xmppd::ipc
