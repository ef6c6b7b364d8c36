// The refusal log as the tls helper uses it (one line per second per peer at most, and
// every refusal still counted in some line) and as the streams' listeners do.
#include "common/refusal_log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace xmppd {
namespace {

using namespace std::chrono_literals;
const RefusalLog::Clock::time_point kT0 = RefusalLog::Clock::time_point() + 1000h;

// The count in a summary line ("... N more times ..."), 1 for a first line.
std::uint64_t count_of(const std::string& line) {
  auto more = line.find(" more time");
  if (more == std::string::npos) return 1;
  auto start = line.rfind(' ', more - 1) + 1;
  return std::stoull(line.substr(start, more - start));
}

TEST(RefusalLog, FirstRefusalIsLoggedAtOnceAndTheNextOnesCounted) {
  RefusalLog log("refused to sign for");
  auto first = log.refused("router", "key 9 is not one this process uses", kT0);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "refused to sign for router: key 9 is not one this process uses");
  EXPECT_FALSE(log.next_flush()) << "nothing counted yet";
  EXPECT_FALSE(log.refused("router", "reason A", kT0 + 1ms));
  EXPECT_FALSE(log.refused("router", "reason B", kT0 + 2ms));
  ASSERT_EQ(log.next_flush(), kT0 + 1s);
  EXPECT_TRUE(log.flush(kT0 + 999ms).empty()) << "not due before the second is over";
  auto lines = log.flush(kT0 + 1s);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "refused to sign for router 2 more times in the last 1 s (last: reason B)");
  EXPECT_FALSE(log.next_flush());
}

TEST(RefusalLog, FloodGivesOneLinePerSecondAndLosesNoRefusal) {
  RefusalLog log("refused to sign for");
  std::vector<std::string> lines;
  constexpr int kRefusals = 100000;
  auto now = kT0;
  for (int i = 0; i < kRefusals; ++i) {
    now = kT0 + std::chrono::microseconds(35 * i);  // 3.5 s in all
    if (auto due = log.next_flush(); due && *due <= now)
      for (auto& l : log.flush(now)) lines.push_back(l);
    if (auto line = log.refused("s2s", "not a TLS handshake signature input", now)) lines.push_back(*line);
  }
  for (auto& l : log.flush(now + 1s)) lines.push_back(l);
  EXPECT_LE(lines.size(), 5u) << "3.5 s of flood, then the last summary";
  std::uint64_t total = 0;
  for (const auto& l : lines) total += count_of(l);
  EXPECT_EQ(total, static_cast<std::uint64_t>(kRefusals)) << "every refusal is in some line";
}

TEST(RefusalLog, PeersAreCountedApart) {
  RefusalLog log("refused to sign for");
  EXPECT_TRUE(log.refused("router", "x", kT0));
  EXPECT_TRUE(log.refused("s2s", "y", kT0)) << "a flood from the router does not silence the s2s worker";
  EXPECT_FALSE(log.refused("router", "x", kT0 + 1ms));
  auto lines = log.flush(kT0 + 1s);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("for router 1 more time in"), std::string::npos) << lines[0];
}

TEST(RefusalLog, AfterAQuietSecondTheNextRefusalIsLoggedAtOnce) {
  RefusalLog log("refused to sign for");
  EXPECT_TRUE(log.refused("router", "x", kT0));
  EXPECT_FALSE(log.refused("router", "x", kT0 + 999ms));
  EXPECT_EQ(log.flush(kT0 + 1s).size(), 1u);
  EXPECT_FALSE(log.refused("router", "x", kT0 + 1500ms)) << "still in the quiet second after a summary";
  EXPECT_EQ(log.flush(kT0 + 2s).size(), 1u);
  EXPECT_TRUE(log.refused("router", "x", kT0 + 3s + 1ms)) << "a second without refusals";
}

TEST(RefusalLog, SaysWhatWasRefusedAndItsInterval) {
  RefusalLog log("refused a connection to", 10s);
  auto first = log.refused("c2s", "from 192.0.2.7: the limit of connections per address", kT0);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "refused a connection to c2s: from 192.0.2.7: the limit of connections per address");
  EXPECT_FALSE(log.refused("c2s", "from 192.0.2.8: the server's connection limit", kT0 + 9s));
  EXPECT_TRUE(log.flush(kT0 + 9s).empty());
  auto lines = log.flush(kT0 + 10s);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "refused a connection to c2s 1 more time in the last 10 s (last: from 192.0.2.8: the server's connection "
            "limit)");
}

}  // namespace
}  // namespace xmppd
