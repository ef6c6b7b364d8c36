// Who may read /metrics: the allowed addresses and the prefix, IPv4 and IPv6.
#include "http/metrics_access.h"

#include <gtest/gtest.h>

namespace xmppd::http {
namespace {

TEST(MetricsAccess, LoopbackByDefault) {
  MetricsAccess access;
  std::string error;
  ASSERT_TRUE(access.configure({"::1", "127.0.0.1"}, "", error)) << error;
  EXPECT_TRUE(access.allows("127.0.0.1"));
  EXPECT_TRUE(access.allows("::1"));
  EXPECT_TRUE(access.allows("0:0:0:0:0:0:0:1"));
  EXPECT_TRUE(access.allows("::ffff:127.0.0.1"));  // a dual-stack listener's IPv4 peer
  EXPECT_FALSE(access.allows("127.0.0.2"));
  EXPECT_FALSE(access.allows("::2"));
  EXPECT_FALSE(access.allows(""));
  EXPECT_FALSE(access.allows("127.0.0.1 port 80"));
  EXPECT_FALSE(access.allows("localhost"));
}

TEST(MetricsAccess, Prefixes) {
  MetricsAccess access;
  std::string error;
  ASSERT_TRUE(access.configure({}, "10.1.0.0/16", error)) << error;
  EXPECT_TRUE(access.allows("10.1.255.3"));
  EXPECT_FALSE(access.allows("10.2.0.1"));
  EXPECT_FALSE(access.allows("::ffff:10.2.0.1"));
  ASSERT_TRUE(access.configure({}, "2001:db8:80::/41", error)) << error;
  EXPECT_TRUE(access.allows("2001:db8:ff::1"));
  EXPECT_FALSE(access.allows("2001:db8:100::1"));
  EXPECT_FALSE(access.allows("10.1.0.1"));
  ASSERT_TRUE(access.configure({}, "0.0.0.0/0", error)) << error;
  EXPECT_TRUE(access.allows("192.0.2.1"));
  EXPECT_FALSE(access.allows("::1"));  // an IPv4 prefix takes no IPv6 address
}

TEST(MetricsAccess, RefusesWhatDoesNotParse) {
  MetricsAccess access;
  std::string error;
  EXPECT_FALSE(access.configure({"127.0.0.256"}, "", error));
  EXPECT_NE(error.find("openmetrics_allow_ips"), std::string::npos);
  for (const char* bad : {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "::/129", "x/8", "10.0.0.0/8 "}) {
    EXPECT_FALSE(access.configure({}, bad, error)) << bad;
    EXPECT_NE(error.find("openmetrics_allow_cidr"), std::string::npos);
  }
}

}  // namespace
}  // namespace xmppd::http
