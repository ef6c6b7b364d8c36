// The address classifier: every special-purpose range at its first and last address, the
// public addresses just outside each, and the IPv6 forms that embed an IPv4 address.
#include "s2s-worker/address_policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

namespace xmppd::s2s {
namespace {

Address parse(const std::string& text) {
  Address address{};
  address.family = text.find(':') == std::string::npos ? AF_INET : AF_INET6;
  if (inet_pton(address.family, text.c_str(), address.bytes.data()) != 1) ADD_FAILURE() << "bad test address " << text;
  return address;
}

std::string why(const std::string& text) { return special_purpose(parse(text)); }

// Each range: its first and last address are refused with its name, the addresses on either
// side are public.
struct RangeCase {
  const char* first;
  const char* last;
  const char* named;   // a part of the reason
  const char* before;  // nullptr when the range starts the space
  const char* after;   // nullptr when the range ends it, or the neighbour is special too
};

constexpr RangeCase kIpv4Ranges[] = {
    {"0.0.0.0", "0.255.255.255", "this network", nullptr, "1.0.0.0"},
    {"10.0.0.0", "10.255.255.255", "private (10.0.0.0/8)", "9.255.255.255", "11.0.0.0"},
    {"100.64.0.0", "100.127.255.255", "CGNAT", "100.63.255.255", "100.128.0.0"},
    {"127.0.0.0", "127.255.255.255", "loopback", "126.255.255.255", "128.0.0.0"},
    {"169.254.0.0", "169.254.255.255", "link-local", "169.253.255.255", "169.255.0.0"},
    {"172.16.0.0", "172.31.255.255", "private (172.16.0.0/12)", "172.15.255.255", "172.32.0.0"},
    {"192.0.0.0", "192.0.0.255", "IETF protocol assignments", "191.255.255.255", "192.0.1.0"},
    {"192.0.2.0", "192.0.2.255", "documentation", "192.0.1.255", "192.0.3.0"},
    {"192.88.99.0", "192.88.99.255", "6to4 relay", "192.88.98.255", "192.88.100.0"},
    {"192.168.0.0", "192.168.255.255", "private (192.168.0.0/16)", "192.167.255.255", "192.169.0.0"},
    {"198.18.0.0", "198.19.255.255", "benchmarking", "198.17.255.255", "198.20.0.0"},
    {"198.51.100.0", "198.51.100.255", "documentation", "198.51.99.255", "198.51.101.0"},
    {"203.0.113.0", "203.0.113.255", "documentation", "203.0.112.255", "203.0.114.0"},
    {"224.0.0.0", "239.255.255.255", "multicast", "223.255.255.255", nullptr},
    {"240.0.0.0", "255.255.255.254", "reserved (240.0.0.0/4)", nullptr, nullptr},
    {"255.255.255.255", "255.255.255.255", "broadcast", nullptr, nullptr},
};

constexpr RangeCase kIpv6Ranges[] = {
    {"::", "::", "unspecified", nullptr, nullptr},
    {"::1", "::1", "loopback (::1)", nullptr, nullptr},
    {"64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "local-use NAT64", nullptr, nullptr},
    {"100::", "100::ffff:ffff:ffff:ffff", "discard-only", nullptr, nullptr},
    {"fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link-local", nullptr, nullptr},
    {"fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "site-local", nullptr, nullptr},
    {"fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique local", nullptr, nullptr},
    {"ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "multicast", nullptr, nullptr},
    {"2001::", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", "Teredo", nullptr, "2001:1::1"},
    {"2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff", "benchmarking", "2001:1:ffff:ffff:ffff:ffff:ffff:ffff",
     "2001:2:1::"},
    {"2001:10::", "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", "ORCHID", "2001:f:ffff:ffff:ffff:ffff:ffff:ffff",
     "2001:20::"},
    {"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "documentation", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
     "2001:db9::"},
    {"3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "documentation (3fff::/20)",
     "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nullptr},
};

void check(const RangeCase& range) {
  SCOPED_TRACE(range.first);
  EXPECT_NE(why(range.first).find(range.named), std::string::npos) << why(range.first);
  EXPECT_NE(why(range.last).find(range.named), std::string::npos) << why(range.last);
  if (range.before != nullptr) {
    EXPECT_EQ(why(range.before), "") << range.before;
  }
  if (range.after != nullptr) {
    EXPECT_EQ(why(range.after), "") << range.after;
  }
}

TEST(SpecialPurpose, EveryIpv4RangeAtBothEnds) {
  for (const RangeCase& range : kIpv4Ranges) check(range);
}

TEST(SpecialPurpose, EveryIpv6RangeAtBothEnds) {
  for (const RangeCase& range : kIpv6Ranges) check(range);
}

TEST(SpecialPurpose, PublicAddressesPass) {
  for (const char* address : {"1.1.1.1", "8.8.8.8", "192.0.1.1", "223.255.255.255", "2606:4700:4700::1111",
                              "2a00:1450:4001:80b::200e", "2001:1::1", "2001:4:112::1", "2001:20::1", "3fff:1000::"})
    EXPECT_EQ(why(address), "") << address;
}

TEST(SpecialPurpose, Ipv6OutsideGlobalUnicastIsReserved) {
  for (const char* address : {"::2", "::127.0.0.1", "::10.0.0.5", "1::", "4000::", "5f00::1",
                              "e000::", "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"})
    EXPECT_NE(why(address).find("outside 2000::/3"), std::string::npos) << address << ": " << why(address);
  EXPECT_EQ(why("2000::"), "");
  EXPECT_EQ(why("3fff:1000::1"), "");
}

TEST(SpecialPurpose, Ipv4MappedIsJudgedAsIpv4) {
  EXPECT_EQ(why("::ffff:127.0.0.1"), "IPv4-mapped: loopback (127.0.0.0/8)");
  EXPECT_EQ(why("::ffff:10.0.0.5"), "IPv4-mapped: private (10.0.0.0/8)");
  EXPECT_EQ(why("::ffff:100.64.0.1"), "IPv4-mapped: shared address space, CGNAT (100.64.0.0/10)");
  EXPECT_EQ(why("::ffff:0.0.0.0"), "IPv4-mapped: \"this network\" (0.0.0.0/8)");
  EXPECT_EQ(why("::ffff:8.8.8.8"), "");
  // The prefix must be exact: ::fffe:... is not a mapped address.
  EXPECT_NE(why("::fffe:808:808").find("outside 2000::/3"), std::string::npos);
}

TEST(SpecialPurpose, Nat64And6to4AreJudgedByTheIpv4TheyCarry) {
  EXPECT_EQ(why("64:ff9b::808:808"), "");
  EXPECT_EQ(why("64:ff9b::a00:5"), "NAT64: private (10.0.0.0/8)");
  EXPECT_EQ(why("64:ff9b::7f00:1"), "NAT64: loopback (127.0.0.0/8)");
  EXPECT_EQ(why("2002:808:808::1"), "");
  EXPECT_EQ(why("2002:c0a8:101::1"), "6to4: private (192.168.0.0/16)");
  EXPECT_EQ(why("2002:a9fe:1::"), "6to4: link-local (169.254.0.0/16)");
}

TEST(SpecialPurpose, UnknownFamilyIsRefused) {
  Address address{};
  address.family = AF_UNIX;
  EXPECT_NE(special_purpose(address), "");
}

}  // namespace
}  // namespace xmppd::s2s
