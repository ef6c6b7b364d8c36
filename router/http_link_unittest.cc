// What the router takes from the HTTP process in a WebSocketClient record.
#include "router/http_link.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

namespace xmppd::router {
namespace {

ipc::WebSocketClient client(std::string peer, bool secure = true, std::string tls = "TLSv1.3") {
  ipc::WebSocketClient c;
  c.set_peer(std::move(peer));
  c.set_secure(secure);
  c.set_tls_version(std::move(tls));
  c.set_cipher("TLS_AES_128_GCM_SHA256");
  return c;
}

TEST(HttpLink, WebSocketClientChecks) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  UniqueFd a(pair[0]), b(pair[1]);
  EXPECT_EQ(refused_websocket_client(client("127.0.0.1 port 4000"), a.get()), nullptr);
  EXPECT_EQ(refused_websocket_client(client("2001:db8::1 port 4000"), a.get()), nullptr);
  EXPECT_EQ(refused_websocket_client(client("::1 port 1", false, ""), a.get()), nullptr);
  // A peer the connection limits cannot key would share "?" with every other such peer.
  EXPECT_NE(refused_websocket_client(client(""), a.get()), nullptr);
  EXPECT_NE(refused_websocket_client(client("somewhere"), a.get()), nullptr);
  EXPECT_NE(refused_websocket_client(client("127.0.0.1 port 1", true, "TLS\x01"), a.get()), nullptr);
  EXPECT_NE(refused_websocket_client(client("127.0.0.1 port 1", true, std::string(100, 'T')), a.get()), nullptr);
  EXPECT_NE(refused_websocket_client(client("127.0.0.1 port 1", false, "TLSv1.3"), a.get()), nullptr);
  // Not a socket: a file the HTTP process could have opened.
  UniqueFd file(open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_NE(refused_websocket_client(client("127.0.0.1 port 1"), file.get()), nullptr);
  // A socket, but not connected: a listener of the HTTP process, or one never connected.
  UniqueFd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(listen(listener.get(), 1), 0);
  EXPECT_NE(refused_websocket_client(client("127.0.0.1 port 1"), listener.get()), nullptr);
  UniqueFd unconnected(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_NE(refused_websocket_client(client("127.0.0.1 port 1"), unconnected.get()), nullptr);
  // A connected one with bytes waiting is still taken (the peek leaves them).
  ASSERT_EQ(write(b.get(), "<", 1), 1);
  EXPECT_EQ(refused_websocket_client(client("127.0.0.1 port 1"), a.get()), nullptr);
  char c = 0;
  EXPECT_EQ(read(a.get(), &c, 1), 1);
  EXPECT_EQ(c, '<');
}

// A compromised HTTP process choosing a fresh peer for every record is still bounded.
TEST(HttpLink, HandoverRate) {
  HandoverRate rate;
  auto now = std::chrono::steady_clock::now();
  int taken = 0;
  for (int i = 0; i < 1000; ++i) taken += rate.take(now);
  EXPECT_EQ(taken, static_cast<int>(HandoverRate::kBurst));
  EXPECT_FALSE(rate.take(now));
  now += std::chrono::seconds(1);
  taken = 0;
  for (int i = 0; i < 1000; ++i) taken += rate.take(now);
  EXPECT_EQ(taken, static_cast<int>(HandoverRate::kPerSecond));
  now += std::chrono::hours(1);
  taken = 0;
  for (int i = 0; i < 1000; ++i) taken += rate.take(now);
  EXPECT_EQ(taken, static_cast<int>(HandoverRate::kBurst));
}

}  // namespace
}  // namespace xmppd::router
