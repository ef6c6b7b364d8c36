// The auth helper's login limits with a time the tests move by hand: attempt slots per
// prefix and in all, exponential delays per key, and tables that stay bounded and cheap
// however many keys they see.
#include "auth-helper/login_limits.h"

#include <gtest/gtest.h>

#include <string>

namespace xmppd::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kStart = TimePoint() + std::chrono::hours(1000);

TEST(AttemptSlots, OnePrefixCannotTakeThemAll) {
  AttemptSlots slots(10, 3);
  // While the pool is less than half full, one prefix may go past its share...
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(slots.take("4:192.0.2.1"));
  // ...but no further once half is taken.
  EXPECT_FALSE(slots.take("4:192.0.2.1"));
  EXPECT_EQ(slots.in_use("4:192.0.2.1"), 5u);
  // Every other prefix still gets its share, and no more.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(slots.take("4:192.0.2.2"));
  EXPECT_FALSE(slots.take("4:192.0.2.2"));
  EXPECT_TRUE(slots.take("4:192.0.2.3"));
  EXPECT_TRUE(slots.take("4:192.0.2.3"));
  EXPECT_FALSE(slots.take("4:192.0.2.4"));  // the pool is full
  EXPECT_EQ(slots.in_use(), 10u);
  slots.release("4:192.0.2.2");
  EXPECT_TRUE(slots.take("4:192.0.2.4"));  // a finished attempt gives its slot back
  EXPECT_FALSE(slots.take("4:192.0.2.1"));
}

TEST(AttemptSlots, ThePoolIsBoundedToo) {
  AttemptSlots slots(5, 2);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(slots.take("4:192.0.2." + std::to_string(i / 2)));
  EXPECT_FALSE(slots.take("4:198.51.100.1"));
  slots.release("4:192.0.2.0");
  EXPECT_TRUE(slots.take("4:198.51.100.1"));
  slots.release("4:203.0.113.9");  // never taken: no effect
  EXPECT_EQ(slots.in_use(), 5u);
  slots.clear();
  EXPECT_EQ(slots.in_use(), 0u);
}

TEST(FailureDelays, ExponentialAndCapped) {
  EXPECT_EQ(FailureDelays::delay_after(0), seconds(0));
  EXPECT_EQ(FailureDelays::delay_after(1), seconds(0));
  EXPECT_EQ(FailureDelays::delay_after(2), seconds(1));
  EXPECT_EQ(FailureDelays::delay_after(3), seconds(2));
  EXPECT_EQ(FailureDelays::delay_after(4), seconds(4));
  EXPECT_EQ(FailureDelays::delay_after(5), seconds(8));
  EXPECT_EQ(FailureDelays::delay_after(1000), seconds(8));
}

TEST(FailureDelays, PerKeyAndForgottenInTime) {
  FailureDelays delays(100);
  TimePoint t = kStart;
  EXPECT_EQ(delays.not_before("account", t), t);
  delays.failed("account", t);
  EXPECT_EQ(delays.not_before("account", t), t);  // the first failure costs nothing
  delays.failed("account", t);
  EXPECT_EQ(delays.not_before("account", t), t + seconds(1));
  delays.failed("account", t + seconds(1));
  delays.failed("account", t + seconds(3));
  EXPECT_EQ(delays.not_before("account", t + seconds(3)), t + seconds(7));
  EXPECT_EQ(delays.not_before("other", t), t);  // keys are independent
  // Delays, never lockouts: the wait is over once its time has passed.
  EXPECT_EQ(delays.not_before("account", t + seconds(60)), t + seconds(60));
  // Ten minutes after the last failure the count starts again.
  t += seconds(3) + FailureDelays::kForget + seconds(1);
  delays.failed("account", t);
  EXPECT_EQ(delays.not_before("account", t), t);
}

// The account's own table (all prefixes together) is capped lower: its failures must not
// hold back the owner's login from elsewhere for long.
TEST(FailureDelays, ACapPerTable) {
  FailureDelays delays(100, seconds(1));
  const TimePoint t = kStart;
  EXPECT_FALSE(delays.failed_recently("account", t));
  for (int i = 0; i < 10; ++i) delays.failed("account", t);
  EXPECT_EQ(delays.not_before("account", t), t + seconds(1));
  EXPECT_TRUE(delays.failed_recently("account", t + FailureDelays::kForget));
  EXPECT_FALSE(delays.failed_recently("account", t + FailureDelays::kForget + seconds(1)));
  EXPECT_FALSE(delays.failed_recently("other", t));
}

TEST(BoundedTable, DropsTheLeastRecentlyTouched) {
  BoundedTable<int> table(3);
  table.touch("a") = 1;
  table.touch("b") = 2;
  table.touch("c") = 3;
  table.touch("a");      // now the most recent
  table.touch("d") = 4;  // drops "b"
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.find("b"), nullptr);
  ASSERT_NE(table.find("a"), nullptr);
  EXPECT_EQ(*table.find("a"), 1);
  EXPECT_EQ(*table.find("d"), 4);
}

// The table the router used to keep scanned all its entries at every failure once it held
// more than 65,536: a million failures from distinct keys then took hours. Bounded and
// O(1) per failure, they take well under a second; the margin is generous for a loaded host.
TEST(FailureDelays, StaysBoundedAndCheapWithManyKeys) {
  constexpr std::size_t kCapacity = 65536;
  FailureDelays delays(kCapacity);
  const auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < 1'000'000; ++i) delays.failed("6:" + std::to_string(i), kStart + milliseconds(i));
  const auto took = std::chrono::steady_clock::now() - began;
  EXPECT_EQ(delays.size(), kCapacity);
  EXPECT_LT(took, seconds(20));
  // The most recent keys are the ones kept.
  delays.failed("6:999999", kStart + seconds(1000));
  EXPECT_EQ(delays.not_before("6:999999", kStart + seconds(1000)), kStart + seconds(1001));
}

}  // namespace
}  // namespace xmppd::auth
