// daemon/process_status.h: what xmppctl status reports of each process's memory.
#include "daemon/process_status.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace xmppd::parent {
namespace {

TEST(ProcessStatus, ReadsResidentAndAddressSpace) {
  ProcessMemory m = parse_process_status("Name:\txmppd\nVmSize:\t  10240 kB\nVmLck:\t 0 kB\nVmRSS:\t    512 kB\n");
  EXPECT_EQ(m.address_space_bytes, 10240u * 1024);
  EXPECT_EQ(m.resident_bytes, 512u * 1024);
  EXPECT_EQ(parse_process_status("VmRSS: lots\n").resident_bytes, 0u);
  // This very process, on a system with /proc.
  if (access("/proc/self/status", R_OK) == 0) {
    EXPECT_GT(process_memory(getpid()).resident_bytes, 0u);
  }
  EXPECT_EQ(process_memory(0).resident_bytes, 0u);
}

}  // namespace
}  // namespace xmppd::parent
