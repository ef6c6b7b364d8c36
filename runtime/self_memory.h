// A child's own memory for xmppctl status, read from /proc/self/statm. The parent cannot read
// its children's /proc entries under the systemd unit (ProtectProc=invisible, no
// CAP_SYS_PTRACE) and because children are not dumpable, so each child answers for itself.
// The file is opened before privileges are dropped (there is no /proc in the chroot) and read
// again from offset 0 with pread(2), which gives the live values on each read.
// Trusts the kernel's text only, and parses even that defensively.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/unique_fd.h"

namespace xmppd::runtime {

struct MemoryUsage {
  std::uint64_t resident_bytes = 0;
  std::uint64_t address_space_bytes = 0;
};

// "size resident shared text lib data dt\n" in pages: the first two, in bytes; nullopt for
// anything else (exposed for the unit test).
std::optional<MemoryUsage> parse_statm(std::string_view text, std::uint64_t page_size);

class SelfMemory {
 public:
  // Before the chroot: false and why when /proc/self/statm cannot be opened (no /proc).
  bool open(std::string& error);
  // Now; nullopt when the file was not opened or does not read.
  std::optional<MemoryUsage> read() const;

 private:
  UniqueFd fd_;
  std::uint64_t page_size_ = 4096;
};

}  // namespace xmppd::runtime
