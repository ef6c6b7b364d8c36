// The pure pieces of the HTTP process: which decoded paths are refused, and the host-meta
// documents and URLs (XEP-0156).
#include <gtest/gtest.h>

#include "http/connections.h"
#include "http/host_meta.h"
#include "http/http_server.h"

namespace xmppd::http {
namespace {

TEST(PathProblem, AbsolutePathsWithoutTraversalPass) {
  EXPECT_EQ(path_problem("/"), "");
  EXPECT_EQ(path_problem("/file_share/abc/photo.png"), "");
  EXPECT_EQ(path_problem("/a/..b/c.."), "");  // ".." only as a whole segment
  EXPECT_EQ(path_problem("/.well-known/host-meta"), "");
}

TEST(PathProblem, TraversalNulBackslashAndRelativeAreRefused) {
  EXPECT_NE(path_problem(""), "");
  EXPECT_NE(path_problem("file_share/x"), "");
  EXPECT_NE(path_problem("/.."), "");
  EXPECT_NE(path_problem("/file_share/../etc/passwd"), "");
  EXPECT_NE(path_problem("/file_share/x/.."), "");
  EXPECT_NE(path_problem(std::string("/a\0b", 4)), "");
  EXPECT_NE(path_problem("/a\\..\\b"), "");
}

// Slowloris: after a 10 s grace, a request must bring 1 KiB a second over the last 10 s.
TEST(SlowRequest, GraceThenAKibibyteASecondOverTheWindow) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  const auto t0 = std::chrono::steady_clock::time_point{} + seconds(1000);
  RateWindow w;
  w.start(t0);
  EXPECT_FALSE(w.add(t0, 100));
  EXPECT_FALSE(w.add(t0 + seconds(10), 0));  // nothing but the grace
  EXPECT_TRUE(w.add(t0 + milliseconds(11000), 100));  // a header line a second
  w.start(t0);
  for (int s = 0; s <= 30; ++s) EXPECT_FALSE(w.add(t0 + seconds(s), 1100)) << s;  // steady, just over
  w.start(t0);
  for (int s = 0; s <= 30; ++s) {
    if (w.add(t0 + seconds(s), 900)) {
      EXPECT_EQ(s, 11);  // steady, just under: cut once past the grace
      break;
    }
  }
}

// The reviewer's lockout: a body sent at once does not buy hours of trickling afterwards.
TEST(SlowRequest, ABurstThenATrickleIsCut) {
  using std::chrono::seconds;
  const auto t0 = std::chrono::steady_clock::time_point{} + seconds(1000);
  RateWindow w;
  w.start(t0);
  EXPECT_FALSE(w.add(t0, 10u << 20));
  EXPECT_FALSE(w.add(t0 + seconds(5), 1));
  EXPECT_FALSE(w.add(t0 + seconds(10), 1));
  EXPECT_TRUE(w.add(t0 + seconds(15), 1));
  // A silence longer than the window empties it.
  w.start(t0);
  EXPECT_FALSE(w.add(t0 + seconds(5), 20 * 1024));
  EXPECT_TRUE(w.add(t0 + seconds(40), 1));
}

// One address gets a share of the bytes all requests being read may hold, not all of them.
TEST(BufferedBudget, AnAddressGetsAShare) {
  EXPECT_EQ(address_share(256u << 20, 10u << 20), 32u << 20);   // an eighth
  EXPECT_EQ(address_share(256u << 20, 64u << 20), 128u << 20);  // two of the largest requests
  EXPECT_EQ(address_share(256u << 20, 512u << 20), 256u << 20);  // never over the whole
}

// Bodies are held in memory: the budget stays under half the address space limit.
TEST(BufferedBudget, TrustedProxiesTogetherGetThreeQuarters) {
  EXPECT_EQ(proxies_share(0), 0u);  // no bound
  EXPECT_EQ(proxies_share(8), 6u);
  EXPECT_EQ(proxies_share(1000), 750u);
  EXPECT_EQ(proxies_share(std::size_t{256} << 20), std::size_t{192} << 20);
  EXPECT_EQ(proxies_share(SIZE_MAX), SIZE_MAX / 4 * 3 + 2);  // no overflow
}

TEST(BufferedBudget, CappedByHalfTheAddressSpace) {
  EXPECT_EQ(buffered_cap(10u << 20, 0), 256u << 20);
  EXPECT_EQ(buffered_cap(128u << 20, 0), 512u << 20);
  EXPECT_EQ(buffered_cap(128u << 20, 2048ull << 20), 512u << 20);
  EXPECT_EQ(buffered_cap(512u << 20, 2048ull << 20), 1024u << 20);
  EXPECT_EQ(buffered_cap(10u << 20, 256u << 20), 128u << 20);
}

TEST(HostMeta, UrlFromTheHttpsPortElseThePlainOne) {
  ipc::HttpSettings s;
  s.set_https_port(5281);
  s.set_http_port(5280);
  EXPECT_EQ(websocket_url(s, "a.test"), "wss://a.test:5281/xmpp-websocket");
  s.set_https_port(0);
  EXPECT_EQ(websocket_url(s, "a.test"), "ws://a.test:5280/xmpp-websocket");
}

TEST(HostMeta, ExternalUrlWins) {
  ipc::HttpSettings s;
  s.set_https_port(5281);
  s.set_external_url("https://chat.example.org/xmpp");
  EXPECT_EQ(websocket_url(s, "a.test"), "wss://chat.example.org/xmpp/xmpp-websocket");
  s.set_external_url("http://proxy.example.org/");
  EXPECT_EQ(websocket_url(s, "a.test"), "ws://proxy.example.org/xmpp-websocket");
}

TEST(HostMeta, Documents) {
  EXPECT_EQ(host_meta_json("wss://a.test:5281/xmpp-websocket"),
            "{\"links\":[{\"rel\":\"urn:xmpp:alt-connections:websocket\",\"href\":\"wss://a.test:5281/"
            "xmpp-websocket\"}]}\n");
  std::string xrd = host_meta_xrd("wss://a.test/x?a=1&b='2'");
  EXPECT_NE(xrd.find("href='wss://a.test/x?a=1&amp;b=&apos;2&apos;'"), std::string::npos) << xrd;
  EXPECT_NE(xrd.find("<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>"), std::string::npos);
}

}  // namespace
}  // namespace xmppd::http
