// The shares of dialback verifications: each limit refuses on its own, a refusal takes
// nothing, and what is given back can be taken again.
#include "s2s-worker/verify_shares.h"

#include <gtest/gtest.h>

#include <string>

namespace xmppd::s2s {
namespace {

using Refusal = VerifyShares::Refusal;

TEST(VerifyShares, OneStreamGetsItsShareAndNoMore) {
  VerifyShares shares;
  for (int i = 0; i < 8; ++i) EXPECT_EQ(shares.take(1, "192.0.2.1"), Refusal::kNone);
  EXPECT_EQ(shares.take(1, "192.0.2.1"), Refusal::kStream);
  EXPECT_EQ(shares.take(1, "192.0.2.1"), Refusal::kStream);
  EXPECT_EQ(shares.in_flight(), 8u);  // refusals take nothing
  EXPECT_EQ(shares.of_stream(1), 8u);
}

TEST(VerifyShares, ManyStreamsFromOneAddressShareItsLimit) {
  VerifyShares shares;
  for (std::uint64_t stream = 1; stream <= 4; ++stream) {
    EXPECT_EQ(shares.take(stream, "192.0.2.1"), Refusal::kNone);
    EXPECT_EQ(shares.take(stream, "192.0.2.1"), Refusal::kNone);
  }
  EXPECT_EQ(shares.take(5, "192.0.2.1"), Refusal::kAddress);
  EXPECT_EQ(shares.of_address("192.0.2.1"), 8u);
  EXPECT_EQ(shares.of_stream(5), 0u);
  // Another address is not affected.
  EXPECT_EQ(shares.take(5, "192.0.2.2"), Refusal::kNone);
}

TEST(VerifyShares, TheTotalLimitHoldsAcrossAddresses) {
  VerifyShares shares(VerifyShares::Limits{20, 8, 8});
  for (std::uint64_t stream = 1; stream <= 20; ++stream)
    EXPECT_EQ(shares.take(stream, "192.0.2." + std::to_string(stream)), Refusal::kNone);
  EXPECT_EQ(shares.take(21, "192.0.2.21"), Refusal::kTotal);
  EXPECT_EQ(shares.in_flight(), 20u);
}

// With the default limits, one address cannot fill the pool however many streams it opens:
// the others still find slots.
TEST(VerifyShares, OnePeerCannotTakeEverySlot) {
  VerifyShares shares;
  std::size_t taken = 0;
  for (std::uint64_t stream = 1; stream <= 100; ++stream)
    for (int claim = 0; claim < 32; ++claim) taken += shares.take(stream, "203.0.113.9") == Refusal::kNone;
  EXPECT_EQ(taken, 8u);
  EXPECT_EQ(shares.take(1000, "198.51.100.1"), Refusal::kNone);
  EXPECT_LT(shares.in_flight(), shares.limits().total);
}

TEST(VerifyShares, GivenBackSlotsCanBeTakenAgain) {
  VerifyShares shares;
  for (int i = 0; i < 8; ++i) shares.take(1, "192.0.2.1");
  shares.give_back(1, "192.0.2.1");
  EXPECT_EQ(shares.of_stream(1), 7u);
  EXPECT_EQ(shares.take(1, "192.0.2.1"), Refusal::kNone);
  for (int i = 0; i < 8; ++i) shares.give_back(1, "192.0.2.1");
  EXPECT_EQ(shares.in_flight(), 0u);
  EXPECT_EQ(shares.of_stream(1), 0u);
  EXPECT_EQ(shares.of_address("192.0.2.1"), 0u);
}

TEST(VerifyShares, RefusalsAreDescribed) {
  EXPECT_STREQ(describe(Refusal::kNone), "");
  for (Refusal r : {Refusal::kTotal, Refusal::kStream, Refusal::kAddress})
    EXPECT_NE(std::string(describe(r)).find("too many dialback verifications"), std::string::npos);
}

}  // namespace
}  // namespace xmppd::s2s
