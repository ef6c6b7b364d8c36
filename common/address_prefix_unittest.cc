// Address prefix keys: /32 for IPv4, /64 for IPv6, IPv4-mapped as IPv4, zones and ports
// dropped, and malformed text kept apart from every real address.
#include "common/address_prefix.h"

#include <gtest/gtest.h>

namespace xmppd::net {
namespace {

TEST(PrefixKey, Ipv4IsTheWholeAddress) {
  EXPECT_EQ(prefix_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(prefix_key("192.0.2.7 port 5222"), "192.0.2.7");
  EXPECT_EQ(prefix_key("192.0.2.7 port 1"), prefix_key("192.0.2.7 port 2"));
  EXPECT_NE(prefix_key("192.0.2.7"), prefix_key("192.0.2.8"));
}

TEST(PrefixKey, Ipv6IsItsSlash64) {
  EXPECT_EQ(prefix_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(prefix_key("2001:db8:1:2::1 port 1"), prefix_key("2001:db8:1:2:ffff::9 port 2"));
  EXPECT_NE(prefix_key("2001:db8:1:2::1"), prefix_key("2001:db8:1:3::1"));
  EXPECT_NE(prefix_key("2001:db8:1:2::1"), prefix_key("2001:db9:1:2::1"));
  EXPECT_EQ(prefix_key("::1"), "::/64");
  // Another spelling of the same /64 is the same key.
  EXPECT_EQ(prefix_key("2001:0DB8:0001:0002:0:0:0:1"), "2001:db8:1:2::/64");
}

TEST(PrefixKey, Ipv4MappedIsTheIpv4Address) {
  EXPECT_EQ(prefix_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(prefix_key("::ffff:192.0.2.7 port 5222"), prefix_key("192.0.2.7 port 5269"));
  EXPECT_EQ(prefix_key("::ffff:c000:207"), "192.0.2.7");
}

TEST(PrefixKey, ZonesAreDropped) {
  EXPECT_EQ(prefix_key("fe80::1%eth0"), "fe80::/64");
  EXPECT_EQ(prefix_key("fe80::1%eth0 port 5222"), "fe80::/64");
  EXPECT_EQ(prefix_key("fe80::1%2"), prefix_key("fe80::2"));
  EXPECT_EQ(prefix_key("fe80::1%eth0"), prefix_key("fe80::1%eth0x"));
}

TEST(PrefixKey, MalformedTextIsItsOwnKeyAndNoAddress) {
  EXPECT_EQ(prefix_key(""), "?");
  EXPECT_EQ(prefix_key("not-an-address"), "?not-an-address");
  EXPECT_NE(prefix_key("a"), prefix_key("b"));
  // A key given back as input is not an address: it cannot take that address's place.
  EXPECT_EQ(prefix_key("2001:db8:1:2::/64"), "?2001:db8:1:2::/64");
  EXPECT_EQ(prefix_key("192.0.2.7/32"), "?192.0.2.7/32");
  // The port does not count, here either: "? port N" is what accept_connection writes for
  // an address family it does not know.
  EXPECT_EQ(prefix_key("? port 1"), prefix_key("? port 2"));
  EXPECT_EQ(prefix_key("unix socket"), "?unix");
  EXPECT_EQ(prefix_key("192.0.2.300"), "?192.0.2.300");
  EXPECT_EQ(prefix_key("%eth0"), "?%eth0");
  for (const char* real : {"192.0.2.7", "::ffff:192.0.2.7", "2001:db8::1", "fe80::1%eth0", "::"})
    EXPECT_NE(prefix_key(real).front(), '?') << real;
}

}  // namespace
}  // namespace xmppd::net
