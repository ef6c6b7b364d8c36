// The connection limits' pieces: address keys (/32, /64, IPv4-mapped), the accounting of
// open and unauthenticated connections per address and in all, the cap derived from the
// descriptor limit, and the token bucket behind Prosody's `limits`.
#include <gtest/gtest.h>

#include "stream/connection_limits.h"
#include "stream/token_bucket.h"

namespace xmppd::stream {
namespace {

TEST(AddressKey, Ipv4IsTheWholeAddress) {
  EXPECT_EQ(address_key("192.0.2.7 port 5222"), "192.0.2.7");
  EXPECT_NE(address_key("192.0.2.7 port 1"), address_key("192.0.2.8 port 1"));
}

TEST(AddressKey, Ipv6IsItsSlash64) {
  EXPECT_EQ(address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd port 5222"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_key("2001:db8:1:2::1 port 1"), address_key("2001:db8:1:2:ffff::9 port 2"));
  EXPECT_NE(address_key("2001:db8:1:2::1 port 1"), address_key("2001:db8:1:3::1 port 1"));
  EXPECT_EQ(address_key("::1 port 5222"), "::/64");
  EXPECT_EQ(address_key("fe80::1%eth0 port 5222"), "fe80::/64");
}

TEST(AddressKey, MappedIpv4CountsAsIpv4) {
  EXPECT_EQ(address_key("::ffff:192.0.2.7 port 5222"), "192.0.2.7");
}

TEST(AddressKey, RejectsWhatIsNoAddress) {
  EXPECT_EQ(address_key("unix port 0"), std::nullopt);
  EXPECT_EQ(address_key(""), std::nullopt);
}

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

TEST(TokenBucket, StartsFullAndRefillsAtItsRate) {
  TokenBucket bucket(1000, 2000, 0);  // 1000 B/s, burst 2 s
  EXPECT_EQ(bucket.available(), 2000u);
  bucket.take(2000);
  EXPECT_EQ(bucket.available(), 0u);
  bucket.refill(0.5);
  EXPECT_EQ(bucket.available(), 500u);
  bucket.refill(10);  // never more than the capacity
  EXPECT_EQ(bucket.available(), 2000u);
}

TEST(TokenBucket, OverdraftIsPaidBackBeforeMoreIsAvailable) {
  TokenBucket bucket(100, 100, 0);
  bucket.take(300);  // a read took more than there was
  bucket.refill(1);
  EXPECT_EQ(bucket.available(), 0u);
  EXPECT_DOUBLE_EQ(bucket.seconds_until(50), 1.5);
  bucket.refill(2.5);
  EXPECT_EQ(bucket.available(), 50u);
}

TEST(TokenBucket, WaitsAreBoundedByTheCapacity) {
  TokenBucket bucket(10, 20, 0);
  bucket.take(20);
  EXPECT_DOUBLE_EQ(bucket.seconds_until(1000), 2.0);
  EXPECT_DOUBLE_EQ(bucket.seconds_until(0), 0.0);
  bucket.refill(-5);  // a clock going backwards earns nothing
  EXPECT_EQ(bucket.available(), 0u);
}

}  // namespace
}  // namespace xmppd::stream
