// The WebSocket handler on a real evhttp server over loopback, with the router played by the
// test on the other end of the handover link: the upgrade, the handover record and its
// descriptor, translation both ways, the close handshake, an unmasked frame, and connections
// still open when the handler goes. Under ASan (build-asan) this is what checks that a
// connection taken over from evhttp is freed once and never touched by evhttp again.
#include "http/websocket.h"

#include "build_config.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "http/http_server.h"
#include "proto/frame.h"

namespace xmppd::http {
namespace {

constexpr char kKey[] = "dGhlIHNhbXBsZSBub25jZQ==";

// A masked client frame (RFC 6455 §5.3), or an unmasked one when `masked` is false.
std::string frame(std::string_view payload, std::uint8_t opcode = 0x1, bool masked = true) {
  std::string out(1, static_cast<char>(0x80 | opcode));
  const unsigned char mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    out += static_cast<char>(mask_bit | payload.size());
  } else {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xff);
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked) out.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) out += masked ? static_cast<char>(payload[i] ^ mask[i % 4]) : payload[i];
  return out;
}

class WebSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = event_base_new();
    ASSERT_NE(base_, nullptr);
    server_ = std::make_unique<HttpServer>(base_);
    UniqueFd listener(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(listener.get(), 8), 0);
    socklen_t len = sizeof addr;
    getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    std::string error;
    ASSERT_TRUE(server_->add_listener(std::move(listener), false, error)) << error;
    ipc::HttpSettings settings;
    settings.add_websocket_hosts("example.test");
    handler_ = std::make_unique<WebSocketHandler>(base_, settings);
    server_->add("/xmpp-websocket", *handler_);
    UniqueFd ours;
    ASSERT_TRUE(ipc::make_seqpacket_pair(4096, ours, router_link_));
    handler_->link_router(std::move(ours));
  }

  void TearDown() override {
    handler_.reset();  // before the server, as in http.cc
    server_.reset();
    event_base_free(base_);
  }

  // Runs the loop until `done` or `limit` passes.
  template <class Predicate>
  bool spin(Predicate done, std::chrono::seconds limit = std::chrono::seconds(2)) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      event_base_loop(base_, EVLOOP_NONBLOCK);
      usleep(1000);
    }
    return true;
  }

  static bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
  }

  // Reads what a non-blocking socket holds now.
  static std::string drain(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

  // Connects, upgrades, and takes the router's end from the handover record.
  void open_client(UniqueFd& client, UniqueFd& router_end) {
    client.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    ASSERT_EQ(connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    std::string request = std::string("GET /xmpp-websocket HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\n") +
                          "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + kKey +
                          "\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n";
    ASSERT_EQ(send(client.get(), request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    ASSERT_TRUE(spin([&] { return readable(router_link_.get()); }));
    std::vector<std::uint8_t> buffer(4097);
    std::vector<UniqueFd> fds;
    std::size_t length = 0;
    ASSERT_EQ(ipc::recv_record(router_link_.get(), buffer, 1, length, fds), ipc::RecvStatus::kRecord);
    ipc::HttpToRouter record;
    ASSERT_TRUE(record.ParseFromArray(buffer.data(), static_cast<int>(length)));
    ASSERT_TRUE(record.has_websocket_client());
    EXPECT_TRUE(record.websocket_client().peer().starts_with("127.0.0.1 port "));
    // Plain ws:// from loopback is not secure without consider_websocket_secure (a local proxy).
    EXPECT_FALSE(record.websocket_client().secure());
    ASSERT_EQ(fds.size(), 1u);
    router_end = std::move(fds[0]);
    std::string answer;
    ASSERT_TRUE(spin([&] {
      answer += drain(client.get());
      return answer.find("\r\n\r\n") != std::string::npos;
    }));
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 101 ")) << answer;
    EXPECT_NE(answer.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << answer;
  }

  struct event_base* base_ = nullptr;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<WebSocketHandler> handler_;
  UniqueFd router_link_;
  std::uint16_t port_ = 0;
};

TEST_F(WebSocketTest, TranslatesBothWaysAndCloses) {
  UniqueFd client, router;
  open_client(client, router);
  std::string open = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.test' version='1.0'/>";
  std::string f = frame(open);
  ASSERT_EQ(send(client.get(), f.data(), f.size(), 0), static_cast<ssize_t>(f.size()));
  std::string at_router;
  ASSERT_TRUE(spin([&] {
    at_router += drain(router.get());
    return at_router.find('>') != std::string::npos;
  }));
  EXPECT_TRUE(at_router.starts_with("<?xml version='1.0'?><stream:stream xmlns='jabber:client'")) << at_router;
  std::string header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                       "xmlns:stream='http://etherx.jabber.org/streams' id='x1' from='example.test' version='1.0'>"
                       "<stream:features/>";
  ASSERT_EQ(write(router.get(), header.data(), header.size()), static_cast<ssize_t>(header.size()));
  std::string at_client;
  ASSERT_TRUE(spin([&] {
    at_client += drain(client.get());
    return at_client.find("<stream:features") != std::string::npos;
  }));
  EXPECT_NE(at_client.find("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.test' id='x1'"),
            std::string::npos);
  // The client's close frame: answered, and the router's end sees the end of the stream.
  std::string close = frame(std::string("\x03\xe8", 2), 0x8);
  ASSERT_EQ(send(client.get(), close.data(), close.size(), 0), static_cast<ssize_t>(close.size()));
  at_client.clear();
  ASSERT_TRUE(spin([&] {
    at_client += drain(client.get());
    return at_client.size() >= 4;
  }));
  EXPECT_EQ(static_cast<unsigned char>(at_client[0]), 0x88);
  char byte;
  ASSERT_TRUE(spin([&] { return readable(router.get()); }));
  EXPECT_EQ(read(router.get(), &byte, 1), 0);
}

TEST_F(WebSocketTest, AnUnmaskedFrameGets1002) {
  UniqueFd client, router;
  open_client(client, router);
  std::string f = frame("<open/>", 0x1, false);
  ASSERT_EQ(send(client.get(), f.data(), f.size(), 0), static_cast<ssize_t>(f.size()));
  std::string at_client;
  ASSERT_TRUE(spin([&] {
    at_client += drain(client.get());
    return at_client.size() >= 4;
  }));
  EXPECT_EQ(static_cast<unsigned char>(at_client[0]), 0x88);
  EXPECT_EQ((static_cast<unsigned char>(at_client[2]) << 8) | static_cast<unsigned char>(at_client[3]), 1002);
}

TEST_F(WebSocketTest, ConnectionsStillOpenGoWithTheHandler) {
  UniqueFd a, a_router, b, b_router;
  open_client(a, a_router);
  open_client(b, b_router);
  handler_.reset();  // frees both connections through evhttp, once; TearDown frees the server
  // libevent closes a freed bufferevent's socket from the loop (its finalizer).
  char byte;
  EXPECT_TRUE(spin([&] { return readable(a.get()) && readable(a_router.get()); }));
  EXPECT_EQ(read(a_router.get(), &byte, 1), 0);
}


long rss_kb() {
  FILE* f = std::fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f != nullptr && std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %ld", &kb) == 1) break;
  if (f != nullptr) std::fclose(f);
  return kb;
}

// wslay answers each ping by itself: a client that sends pings and never reads must stop
// being read once its own output holds max_queued, or the pongs grow without limit.
TEST_F(WebSocketTest, PingsFromAClientThatNeverReadsAreBounded) {
  UniqueFd client, router;
  open_client(client, router);
  int small = 4096;
  setsockopt(client.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  std::string ping = frame(std::string(125, 'p'), 0x9);
  std::string burst;
  for (int i = 0; i < 1000; ++i) burst += ping;
  long before = rss_kb();
  std::size_t sent = 0, off = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (sent < (std::size_t{64} << 20) && std::chrono::steady_clock::now() < until) {
    ssize_t n = send(client.get(), burst.data() + off, burst.size() - off, MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      off = (off + static_cast<std::size_t>(n)) % burst.size();  // frames stay whole
    }
    event_base_loop(base_, EVLOOP_NONBLOCK);
  }
  long grown_mib = (rss_kb() - before) >> 10;
  EXPECT_LT(sent, std::size_t{32} << 20);
  // Under a sanitizer its quarantine keeps freed blocks resident: only the bytes read tell.
  if (!XMPPD_SANITIZED) {
    EXPECT_LT(grown_mib, 24);
  }
}


// The router ends a stream while the client does not read: the close is queued behind what
// the client has not taken (its pongs), and the connection must still go within
// kCloseSeconds (5 s), not wait for an output that never drains.
TEST_F(WebSocketTest, AClientThatNeverReadsIsFreedAfterTheClose) {
  UniqueFd client, router;
  open_client(client, router);
  int small = 4096;
  setsockopt(client.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  std::string open = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.test' version='1.0'/>";
  std::string f = frame(open);
  ASSERT_EQ(send(client.get(), f.data(), f.size(), 0), static_cast<ssize_t>(f.size()));
  std::string header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                       "xmlns:stream='http://etherx.jabber.org/streams' id='x1' from='example.test' version='1.0'>";
  ASSERT_EQ(write(router.get(), header.data(), header.size()), static_cast<ssize_t>(header.size()));
  std::string ping = frame(std::string(125, 'p'), 0x9);
  std::string burst;
  for (int i = 0; i < 1000; ++i) burst += ping;
  std::size_t off = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < until) {
    ssize_t n = send(client.get(), burst.data() + off, burst.size() - off, MSG_DONTWAIT);
    if (n > 0) off = (off + static_cast<std::size_t>(n)) % burst.size();
    event_base_loop(base_, EVLOOP_NONBLOCK);
  }
  std::string end = "</stream:stream>";
  ASSERT_EQ(write(router.get(), end.data(), end.size()), static_cast<ssize_t>(end.size()));
  router.reset();
  EXPECT_TRUE(spin([&] { return server_->connections().open() == 0; }, std::chrono::seconds(8)));
}

}  // namespace
}  // namespace xmppd::http
