// trusted_proxies and X-Forwarded-For (http/forwarded.h).
#include "http/forwarded.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xmppd::http {
namespace {

TrustedProxies trusted(std::vector<std::string> entries) {
  TrustedProxies t;
  std::string error;
  EXPECT_TRUE(t.configure(entries, error)) << error;
  return t;
}

ForwardedPeer through(std::string_view peer, std::vector<std::string_view> xff, const TrustedProxies& t,
                      std::string_view proto = "", bool tls = false) {
  return forwarded_peer(peer, tls, xff, proto, t);
}

TEST(TrustedProxies, AddressesAndNetworks) {
  TrustedProxies t = trusted({"127.0.0.1", "::1", "10.0.0.0/8", "2001:db8::/32"});
  EXPECT_TRUE(t.trusts("127.0.0.1"));
  EXPECT_TRUE(t.trusts("::ffff:127.0.0.1"));  // a dual-stack listener's IPv4 peer
  EXPECT_TRUE(t.trusts("::1"));
  EXPECT_TRUE(t.trusts("10.200.3.4"));
  EXPECT_TRUE(t.trusts("2001:db8:5::1"));
  EXPECT_FALSE(t.trusts("127.0.0.2"));
  EXPECT_FALSE(t.trusts("11.0.0.1"));
  EXPECT_FALSE(t.trusts("2001:db9::1"));
  EXPECT_FALSE(t.trusts("not an address"));
}

TEST(TrustedProxies, BadEntriesAreRefusedWithTheirText) {
  for (const char* bad : {"localhost", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "", "1.2.3.4/8/8"}) {
    TrustedProxies t;
    std::string error;
    EXPECT_FALSE(t.configure({"127.0.0.1", bad}, error)) << bad;
    EXPECT_NE(error.find("trusted_proxies: \"" + std::string(bad) + "\""), std::string::npos) << error;
    EXPECT_TRUE(t.empty());
  }
}

TEST(Forwarded, TheLastUntrustedAddressIsTheClients) {
  TrustedProxies t = trusted({"127.0.0.1", "10.0.0.0/8"});
  ForwardedPeer p = through("127.0.0.1", {"127.0.0.2"}, t);
  EXPECT_EQ(p.address, "127.0.0.2");
  EXPECT_TRUE(p.forwarded);
  EXPECT_TRUE(p.problem.empty());
  // A spoofed first entry is before the one the proxy appended, and loses.
  EXPECT_EQ(through("127.0.0.1", {"192.0.2.66, 198.51.100.7"}, t).address, "198.51.100.7");
  // A chain of trusted proxies is skipped from the right.
  EXPECT_EQ(through("127.0.0.1", {" 198.51.100.7 ,10.1.1.1,\t10.2.2.2 "}, t).address, "198.51.100.7");
  // Canonical text, whatever the header wrote.
  EXPECT_EQ(through("127.0.0.1", {"2001:DB8:0:0::7"}, t).address, "2001:db8::7");
  EXPECT_EQ(through("127.0.0.1", {"::ffff:192.0.2.9"}, t).address, "192.0.2.9");
}

TEST(Forwarded, AllTrustedKeepsThePeer) {
  TrustedProxies t = trusted({"127.0.0.1", "10.0.0.0/8"});
  ForwardedPeer p = through("127.0.0.1", {"10.1.1.1"}, t);
  EXPECT_EQ(p.address, "127.0.0.1");
  EXPECT_FALSE(p.forwarded);
}

TEST(Forwarded, AnUntrustedPeersHeadersAreIgnored) {
  TrustedProxies t = trusted({"127.0.0.1"});
  ForwardedPeer p = through("127.0.0.3", {"192.0.2.1"}, t, "https");
  EXPECT_EQ(p.address, "127.0.0.3");
  EXPECT_FALSE(p.forwarded);
  EXPECT_FALSE(p.secure);
  EXPECT_TRUE(p.problem.empty());
  TrustedProxies none = trusted({});
  p = through("127.0.0.1", {"192.0.2.1"}, none, "https");
  EXPECT_EQ(p.address, "127.0.0.1");
  EXPECT_FALSE(p.secure);
}

TEST(Forwarded, ProtoHttpsFromATrustedProxyWithAValidForwardedForIsSecure) {
  TrustedProxies t = trusted({"127.0.0.1"});
  EXPECT_TRUE(through("127.0.0.1", {"192.0.2.1"}, t, "https").secure);
  EXPECT_TRUE(through("127.0.0.1", {"192.0.2.1"}, t, " HTTPS ").secure);
  EXPECT_TRUE(through("127.0.0.1", {"127.0.0.1"}, t, "https").secure);  // all trusted, but valid
  EXPECT_FALSE(through("127.0.0.1", {"192.0.2.1"}, t, "http").secure);
  EXPECT_FALSE(through("127.0.0.1", {"192.0.2.1"}, t, "https, http").secure);
  EXPECT_FALSE(through("127.0.0.1", {"192.0.2.1"}, t).secure);
  // Without X-Forwarded-For the proxy forwards nothing, and may pass the client's header on.
  EXPECT_FALSE(through("127.0.0.1", {}, t, "https").secure);
  EXPECT_FALSE(through("127.0.0.1", {"unknown"}, t, "https").secure);
  EXPECT_TRUE(through("127.0.0.1", {}, t, "", true).secure);  // TLS on the connection itself
  EXPECT_TRUE(through("127.0.0.5", {}, t, "", true).secure);
}

// Never the proxy's own address, which /metrics's defaults allow: the request is refused.
TEST(Forwarded, AMalformedClientEntryRefusesTheRequest) {
  TrustedProxies t = trusted({"127.0.0.1"});
  std::string long_header(kMaxForwardedBytes + 1, ' ');
  long_header += "192.0.2.1";
  std::string many_trusted;
  for (std::size_t i = 0; i <= kMaxForwardedEntries; ++i) many_trusted += (i ? ", " : "") + std::string("127.0.0.1");
  for (const std::string& bad : {std::string("192.0.2.1, unknown"), std::string(""), std::string("192.0.2.1,"),
                                 std::string("192.0.2.1:4000"), std::string("[2001:db8::1]"), long_header,
                                 many_trusted, std::string("192.0.2.1\0", 10), std::string("unknown, 127.0.0.1")}) {
    ForwardedPeer p = through("127.0.0.1", {bad}, t, "https");
    EXPECT_FALSE(p.problem.empty()) << bad;
    EXPECT_EQ(p.address, "") << bad;  // nothing an allow-list could match
    EXPECT_FALSE(p.forwarded);
    EXPECT_FALSE(p.secure);
  }
}

// What is left of the client's entry is the client's own, and not read (as Prosody).
TEST(Forwarded, JunkLeftOfTheClientsEntryIsIgnored) {
  TrustedProxies t = trusted({"127.0.0.1"});
  EXPECT_EQ(through("127.0.0.1", {"unknown, 198.51.100.7"}, t).address, "198.51.100.7");
  EXPECT_EQ(through("127.0.0.1", {"198.51.100.7:5555, 198.51.100.7"}, t).address, "198.51.100.7");
  std::string many;
  for (std::size_t i = 0; i <= kMaxForwardedEntries; ++i) many += (i ? ", " : "") + std::string("192.0.2.1");
  EXPECT_EQ(through("127.0.0.1", {many + ", 198.51.100.7"}, t).address, "198.51.100.7");
  std::string at_bound;
  for (std::size_t i = 0; i + 1 < kMaxForwardedEntries; ++i) at_bound += ",127.0.0.1";
  EXPECT_EQ(through("127.0.0.1", {"192.0.2.1" + at_bound}, t).address, "192.0.2.1");
}

// HAProxy adds a line rather than appending: the lines are joined in order.
TEST(Forwarded, RepeatedLinesAreJoined) {
  TrustedProxies t = trusted({"127.0.0.1"});
  ForwardedPeer p = through("127.0.0.1", {"192.0.2.1", "192.0.2.2"}, t);
  EXPECT_EQ(p.address, "192.0.2.2");
  EXPECT_TRUE(p.problem.empty());
  EXPECT_EQ(through("127.0.0.1", {"192.0.2.1", "127.0.0.1"}, t).address, "192.0.2.1");
  EXPECT_FALSE(through("127.0.0.1", {"192.0.2.1", ""}, t).problem.empty());
}

}  // namespace
}  // namespace xmppd::http
