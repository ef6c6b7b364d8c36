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

// Slowloris: a request is cut once it falls below 1 KiB/s on average after a 10 s grace.
TEST(SlowRequest, GraceThenAKibibyteASecond) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  EXPECT_FALSE(too_slow(seconds(10), 0));  // nothing but the grace
  EXPECT_TRUE(too_slow(seconds(11), 100));  // a header line a second
  EXPECT_FALSE(too_slow(seconds(11), 1024));
  EXPECT_FALSE(too_slow(seconds(30), 20 * 1024));
  EXPECT_TRUE(too_slow(seconds(30), 19 * 1024));
  EXPECT_FALSE(too_slow(milliseconds(10500), 600));
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
