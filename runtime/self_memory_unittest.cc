// /proc/self/statm parsing (runtime/self_memory.h), and that the descriptor kept open reads
// live values: what a sandboxed child answers to xmppctl status.
#include "runtime/self_memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>

namespace xmppd::runtime {
namespace {

TEST(ParseStatm, TheFirstTwoFieldsInBytes) {
  auto usage = parse_statm("2530 410 350 62 0 213 0\n", 4096);
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->address_space_bytes, 2530u * 4096);
  EXPECT_EQ(usage->resident_bytes, 410u * 4096);
}

TEST(ParseStatm, RefusesWhatIsNotStatm) {
  for (std::string_view text : {"", "\n", "12", "12 ", "12 x 3", "-1 2 3", "12  3 4", "2 3 4\n",
                                "12345678901234567 1 0", "12\t3 4", "VmRSS: 12 kB"})
    EXPECT_FALSE(parse_statm(text, 4096)) << text;
}

TEST(SelfMemory, ReadsLiveValuesThroughTheKeptDescriptor) {
  SelfMemory memory;
  std::string error;
  ASSERT_TRUE(memory.open(error)) << error;
  auto before = memory.read();
  ASSERT_TRUE(before);
  EXPECT_GT(before->resident_bytes, 0u);
  constexpr std::size_t kBytes = 64 << 20;
  void* p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  std::memset(p, 1, kBytes);
  auto after = memory.read();
  ASSERT_TRUE(after);
  EXPECT_GE(after->resident_bytes, before->resident_bytes + kBytes / 2);
  EXPECT_GE(after->address_space_bytes, before->address_space_bytes + kBytes);
  munmap(p, kBytes);
}

TEST(SelfMemory, NotOpenedReadsNothing) { EXPECT_FALSE(SelfMemory().read()); }

}  // namespace
}  // namespace xmppd::runtime
