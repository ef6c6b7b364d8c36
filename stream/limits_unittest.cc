// The connection limits' pieces: the accounting of open and unauthenticated connections per
// address and in all, and the cap derived from the descriptor limit. (The address keys and
// the token bucket behind Prosody's `limits` are common/'s, tested there.)
#include <gtest/gtest.h>

#include "stream/connection_limits.h"

namespace xmppd::stream {
namespace {

TEST(ConnectionCap, LeavesHeadroomBelowTheDescriptorLimit) {
  EXPECT_EQ(default_connection_cap(1024), 768u);
  EXPECT_EQ(default_connection_cap(65536), 49152u);
  EXPECT_EQ(default_connection_cap(256), 128u);
  EXPECT_EQ(default_connection_cap(100), 16u);  // a floor, whatever the limit
  EXPECT_GT(default_connection_cap(), 0u);
}

TEST(ConnectionLimits, RefusesOverThePerAddressLimitOnly) {
  ConnectionLimits limits({3, 0, 0});
  std::vector<ConnectionLimits::Ticket> held(3);
  for (auto& t : held) ASSERT_EQ(limits.admit("a", t), ConnectionLimits::Verdict::kAdmitted);
  ConnectionLimits::Ticket refused;
  EXPECT_EQ(limits.admit("a", refused), ConnectionLimits::Verdict::kPerAddress);
  EXPECT_EQ(limits.open("a"), 3u);
  // Another address is not affected.
  ConnectionLimits::Ticket other;
  EXPECT_EQ(limits.admit("b", other), ConnectionLimits::Verdict::kAdmitted);
  // A closed connection makes room again.
  held.pop_back();
  EXPECT_EQ(limits.open("a"), 2u);
  EXPECT_EQ(limits.admit("a", refused), ConnectionLimits::Verdict::kAdmitted);
  EXPECT_EQ(limits.total(), 4u);
}

TEST(ConnectionLimits, UnauthenticatedShareIsGivenBackOnAuthentication) {
  ConnectionLimits limits({10, 2, 0});
  ConnectionLimits::Ticket a, b, c;
  ASSERT_EQ(limits.admit("x", a), ConnectionLimits::Verdict::kAdmitted);
  ASSERT_EQ(limits.admit("x", b), ConnectionLimits::Verdict::kAdmitted);
  EXPECT_EQ(limits.admit("x", c), ConnectionLimits::Verdict::kUnauthenticated);
  a.authenticated();
  a.authenticated();  // twice is once
  EXPECT_EQ(limits.unauthenticated("x"), 1u);
  ASSERT_EQ(limits.admit("x", c), ConnectionLimits::Verdict::kAdmitted);
  EXPECT_EQ(limits.open("x"), 3u);
  a.release();
  EXPECT_EQ(limits.open("x"), 2u);
  EXPECT_EQ(limits.unauthenticated("x"), 2u);  // the authenticated one gave back only its place
}

TEST(ConnectionLimits, GlobalCapCountsEveryAddress) {
  ConnectionLimits limits({0, 0, 2});
  ConnectionLimits::Ticket a, b, c;
  ASSERT_EQ(limits.admit("x", a), ConnectionLimits::Verdict::kAdmitted);
  ASSERT_EQ(limits.admit("y", b), ConnectionLimits::Verdict::kAdmitted);
  EXPECT_EQ(limits.admit("z", c), ConnectionLimits::Verdict::kTotal);
  b = std::move(a);  // b's own share is given back; a's moves over
  EXPECT_EQ(limits.total(), 1u);
  EXPECT_EQ(limits.open("y"), 0u);
  EXPECT_EQ(limits.addresses(), 1u);  // emptied addresses are forgotten
  EXPECT_EQ(limits.admit("z", c), ConnectionLimits::Verdict::kAdmitted);
}

TEST(ConnectionLimits, ZeroMeansNoLimit) {
  ConnectionLimits limits({0, 0, 0});
  std::vector<ConnectionLimits::Ticket> held(1000);
  for (auto& t : held) ASSERT_EQ(limits.admit("a", t), ConnectionLimits::Verdict::kAdmitted);
  held.clear();
  EXPECT_EQ(limits.total(), 0u);
  EXPECT_EQ(limits.addresses(), 0u);
}

}  // namespace
}  // namespace xmppd::stream
