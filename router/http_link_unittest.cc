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
}

}  // namespace
}  // namespace xmppd::router
