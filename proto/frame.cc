#include "proto/frame.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace xmppd::ipc {
namespace {

// Room for one SCM_RIGHTS header with up to this many descriptors; receiving more sets
// MSG_CTRUNC and the kernel closes the ones that did not fit.
constexpr std::size_t kMaxFdsAtAll = 8;

void set_buffer(int fd, int force_opt, int opt, int bytes) {
  // SO_*BUFFORCE needs CAP_NET_ADMIN; without it the plain option is capped by
  // net.core.{w,r}mem_max, and the channel's maximum must stay under what was granted.
  if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) == 0) return;
  setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}

}  // namespace

RecvStatus recv_record(int sock, std::span<std::uint8_t> buffer, std::size_t max_fds,
                       std::size_t& length, std::vector<UniqueFd>& fds) {
  alignas(struct cmsghdr) char control[CMSG_SPACE(kMaxFdsAtAll * sizeof(int))];
  struct iovec iov = {buffer.data(), buffer.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(std::min(max_fds, kMaxFdsAtAll) * sizeof(int));
  if (max_fds == 0) msg.msg_controllen = CMSG_SPACE(sizeof(int));

  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? RecvStatus::kWouldBlock : RecvStatus::kError;

  // Take ownership of every descriptor first, so that none leaks whatever we decide.
  fds.clear();
  bool bad_control = false;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
      bad_control = true;
      continue;
    }
    std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.emplace_back(fd);
    }
  }
  // A zero-length read is the peer's end: no message of ours serializes to nothing.
  if (n == 0 && fds.empty()) return RecvStatus::kClosed;
  if (msg.msg_flags & MSG_TRUNC) return RecvStatus::kOversized;
  if ((msg.msg_flags & MSG_CTRUNC) || fds.size() > max_fds) return RecvStatus::kTooManyFds;
  if (bad_control) return RecvStatus::kBadControl;
  if (static_cast<std::size_t>(n) >= buffer.size()) return RecvStatus::kOversized;
  length = static_cast<std::size_t>(n);
  return RecvStatus::kRecord;
}

SendStatus send_record(int sock, std::span<const std::uint8_t> bytes, std::span<const int> fds) {
  alignas(struct cmsghdr) char control[CMSG_SPACE(kMaxFdsAtAll * sizeof(int))] = {};
  if (fds.size() > kMaxFdsAtAll) {
    errno = EINVAL;
    return SendStatus::kError;
  }
  struct iovec iov = {const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? SendStatus::kWouldBlock : SendStatus::kError;
  return SendStatus::kSent;
}

bool make_seqpacket_pair(std::size_t max_record, UniqueFd& a, UniqueFd& b) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return false;
  a.reset(sv[0]);
  b.reset(sv[1]);
  // The kernel needs some room beyond the payload for each queued record.
  int bytes = static_cast<int>(2 * max_record + 64 * 1024);
  for (int fd : sv) {
    set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, bytes);
    set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, bytes);
  }
  return true;
}

bool set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

const char* describe(RecvStatus status) {
  switch (status) {
    case RecvStatus::kRecord: return "record";
    case RecvStatus::kWouldBlock: return "would block";
    case RecvStatus::kClosed: return "closed by peer";
    case RecvStatus::kOversized: return "record over the channel's maximum";
    case RecvStatus::kTooManyFds: return "too many descriptors with one record";
    case RecvStatus::kBadControl: return "unexpected ancillary data";
    case RecvStatus::kError: return "receive error";
  }
  return "?";
}

}  // namespace xmppd::ipc
