// One IPC record: the bytes of one message and the descriptors tied to it.
//
// Records travel over SOCK_SEQPACKET socketpairs, which keep record boundaries and keep the
// descriptors of one sendmsg(2) with that record (SOCK_STREAM can merge a descriptor-less
// message with the next one and its descriptor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/unique_fd.h"

namespace xmppd::ipc {

struct Limits {
  std::size_t max_record;  // bytes; a larger record is a protocol violation
  std::size_t max_fds;     // descriptors with one record
  // Outbound only: bytes that may wait for the peer to read, each record counted with a
  // fixed overhead; 0 means default_max_queued(max_record). A peer that lets more pile up
  // has stopped reading, which is as much a violation as a bad record.
  std::size_t max_queued = 0;
};

// 64 records of the channel's largest size, and never under 16 MiB: far above what a
// peer that reads leaves waiting, far below what would hurt the process.
constexpr std::size_t default_max_queued(std::size_t max_record) {
  return 64 * max_record > (16u << 20) ? 64 * max_record : (16u << 20);
}

enum class RecvStatus {
  kRecord,       // `length` bytes in the buffer, descriptors in `fds`
  kWouldBlock,
  kClosed,       // orderly end of the peer
  kOversized,    // the record did not fit in max_record
  kTooManyFds,   // more descriptors than max_fds (the extra ones were never installed)
  kBadControl,   // ancillary data other than SCM_RIGHTS
  kError,        // errno says why
};

// Receives one record into `buffer`, which must hold max_record + 1 bytes so that an
// oversized record is detected (MSG_TRUNC) rather than silently cut.
RecvStatus recv_record(int sock, std::span<std::uint8_t> buffer, std::size_t max_fds,
                       std::size_t& length, std::vector<UniqueFd>& fds);

enum class SendStatus { kSent, kWouldBlock, kError };

SendStatus send_record(int sock, std::span<const std::uint8_t> bytes, std::span<const int> fds);

// A connected SOCK_SEQPACKET pair, close-on-exec, with buffers large enough for
// `max_record` (root may exceed the system's default maximum).
bool make_seqpacket_pair(std::size_t max_record, UniqueFd& a, UniqueFd& b);

bool set_nonblocking(int fd);

const char* describe(RecvStatus status);

}  // namespace xmppd::ipc
