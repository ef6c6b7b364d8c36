// The framing of import prosody's stream to its children (import.proto): a 4-byte
// big-endian length, then that many bytes of one message. Used by root xmppctl, which writes
// its own frames, and by the children, which trust the stream only as far as its bounds: a
// frame longer than kMaxImportFrame, cut short or that does not parse is an error.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include <google/protobuf/message_lite.h>

namespace xmppd::ctl {

// Room files and archives are at most 64 MiB each (import_prosody.cc): a room, or a user with
// a few dozen files, stays well below.
constexpr std::size_t kMaxImportFrame = 512u << 20;

// False when `message` is larger than a frame may be or the socket failed.
inline bool write_frame(int fd, const google::protobuf::MessageLite& message) {
  const std::size_t size = message.ByteSizeLong();
  if (size > kMaxImportFrame) return false;
  std::string bytes(4, '\0');
  bytes[0] = static_cast<char>(size >> 24);
  bytes[1] = static_cast<char>(size >> 16);
  bytes[2] = static_cast<char>(size >> 8);
  bytes[3] = static_cast<char>(size);
  if (!message.AppendToString(&bytes) || bytes.size() != size + 4) return false;
  for (std::size_t sent = 0; sent < bytes.size();) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

namespace frame_detail {
inline bool read_exactly(int fd, char* out, std::size_t size) {
  for (std::size_t got = 0; got < size;) {
    const ssize_t n = read(fd, out + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}
}  // namespace frame_detail

// False on the end of the stream, a read error, a frame too long, or bytes that do not parse.
inline bool read_frame(int fd, google::protobuf::MessageLite& message) {
  unsigned char head[4];
  if (!frame_detail::read_exactly(fd, reinterpret_cast<char*>(head), sizeof head)) return false;
  const std::size_t size = std::size_t{head[0]} << 24 | std::size_t{head[1]} << 16 | std::size_t{head[2]} << 8 | head[3];
  if (size > kMaxImportFrame) return false;
  std::string bytes(size, '\0');
  return frame_detail::read_exactly(fd, bytes.data(), size) && message.ParseFromString(bytes);
}

}  // namespace xmppd::ctl
