// The token bucket with a time the tests move by hand: filling at the rate up to the
// capacity, overdrafts paid back, waits bounded, and the average rate over a long run.
#include "common/token_bucket.h"

#include <gtest/gtest.h>

namespace xmppd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = TokenBucket::Clock::time_point;

const TimePoint kT0 = TimePoint() + std::chrono::hours(1000);

TEST(TokenBucket, StartsFullAndRefillsAtItsRate) {
  TokenBucket bucket(1000, 2000, kT0);  // 1000 B/s, burst 2 s
  EXPECT_EQ(bucket.available(), 2000u);
  bucket.take(2000);
  EXPECT_EQ(bucket.available(), 0u);
  bucket.refill(kT0 + milliseconds(500));
  EXPECT_EQ(bucket.available(), 500u);
  bucket.refill(kT0 + seconds(10));  // never more than the capacity
  EXPECT_EQ(bucket.available(), 2000u);
  bucket.refill(kT0 + std::chrono::hours(10));
  EXPECT_EQ(bucket.available(), 2000u) << "ten idle hours do not save up more";
}

TEST(TokenBucket, OverdraftIsPaidBackBeforeMoreIsAvailable) {
  TokenBucket bucket(100, 100, kT0);
  bucket.take(300);  // a read took more than there was
  bucket.refill(kT0 + seconds(1));
  EXPECT_EQ(bucket.available(), 0u);
  EXPECT_EQ(bucket.ready_at(50), kT0 + milliseconds(2501));  // 1.5 s more, and the margin
  bucket.refill(kT0 + milliseconds(2500));
  EXPECT_EQ(bucket.available(), 50u);
}

TEST(TokenBucket, WaitsAreBoundedByTheCapacity) {
  TokenBucket bucket(10, 20, kT0);
  bucket.take(20);
  EXPECT_EQ(bucket.ready_at(1000), kT0 + milliseconds(2001));
  EXPECT_EQ(bucket.ready_at(0), kT0);
  bucket.refill(kT0 - seconds(5));  // a clock going backwards earns nothing
  EXPECT_EQ(bucket.available(), 0u);
  bucket.take(std::uint64_t{1} << 62);  // a debt that could never be paid back
  EXPECT_LE(bucket.ready_at(1), kT0 + std::chrono::hours(25));
}

TEST(TokenBucket, ATimerSetForReadyAtFindsTheTokensThere) {
  TokenBucket bucket(1000, 3000, kT0);
  bucket.take(2500);
  bucket.take(2500);  // -2000
  const TimePoint next = bucket.ready_at(1);
  EXPECT_GT(next, kT0 + milliseconds(2000));
  EXPECT_LT(next, kT0 + milliseconds(2100));
  bucket.refill(next);
  EXPECT_GE(bucket.available(), 1u);
  EXPECT_EQ(bucket.ready_at(1), next);
}

// Over a long run the takes average out at the rate, whatever the capacity and whatever
// each take costs (the auth helper's PBKDF2 budget: a check starts once anything is left).
TEST(TokenBucket, LongRunAveragesTheRate) {
  TimePoint t = kT0;
  TokenBucket bucket(1000, 3000, t);
  int takes = 0;
  for (const TimePoint end = t + seconds(100); t < end; t = bucket.ready_at(1)) {
    bucket.refill(t);
    bucket.take(100);
    ++takes;
  }
  EXPECT_GE(takes, 990 + 30);  // 100 s at the rate, and the full bucket at the start
  EXPECT_LE(takes, 1010 + 30);
}

TEST(TokenBucket, RateAndCapacityHaveAFloor) {
  TokenBucket bucket(0, 0, kT0);
  EXPECT_EQ(bucket.available(), 1u);
  bucket.take(1);
  EXPECT_EQ(bucket.ready_at(1), kT0 + milliseconds(1001)) << "a rate of 0 would never fill it again";
}

}  // namespace
}  // namespace xmppd
