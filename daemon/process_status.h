// What `xmppctl status` says of one process's memory, read by the parent (root) from
// /proc/PID/status. Trusts the kernel's file only; a child cannot write it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

namespace xmppd::parent {

struct ProcessMemory {
  std::uint64_t resident_bytes = 0;       // VmRSS
  std::uint64_t address_space_bytes = 0;  // VmSize
};

// Zeros where there is no /proc (other platforms) or the process is gone.
ProcessMemory process_memory(pid_t pid);
// The two lines of a /proc/PID/status text ("VmRSS:  1234 kB"); exposed for the unit test.
ProcessMemory parse_process_status(std::string_view text);

}  // namespace xmppd::parent
