// stream::Transport over a plaintext socketpair: output sent in one loop turn leaves
// together at its end, and reading pauses and resumes without losing what is sent or read.
#include "stream/transport.h"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "tests/support/test_certificates.h"

namespace xmppd::stream {
namespace {

struct Recorder final : Transport::Events {
  void received(std::string_view bytes) override {
    data.append(bytes);
    if (on_received) on_received();
  }
  void tls_established() override {}
  void closed(std::string_view why) override { closed_why = why; }
  std::string data;
  std::string closed_why;
  std::function<void()> on_received;
};

struct Pair {
  // send_buffer: the transport's socket buffer (SO_SNDBUFFORCE, as root), 0 for the default.
  explicit Pair(int send_buffer = 0) : base(event_base_new()) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    if (send_buffer != 0) {
      EXPECT_EQ(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUFFORCE, &send_buffer, sizeof send_buffer), 0) << "needs root";
    }
    peer = UniqueFd(fds[1]);
    transport = std::make_unique<Transport>(base, UniqueFd(fds[0]), "peer", events);
    transport->start();
  }
  ~Pair() {
    transport.reset();
    event_base_free(base);
  }
  void run_briefly() {
    timeval tv{0, 30 * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
  }
  std::string read_peer() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(peer.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
  void write_peer(std::string_view bytes) { ASSERT_EQ(::write(peer.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())); }

  struct event_base* base;
  Recorder events;
  UniqueFd peer;
  std::unique_ptr<Transport> transport;
};

TEST(Transport, SendsOfOneTurnLeaveTogetherAtItsEnd) {
  Pair p;
  p.transport->send("<a/>");
  p.transport->send("<b/>");
  EXPECT_EQ(p.transport->queued(), 8u);  // nothing written yet
  EXPECT_EQ(p.read_peer(), "");
  p.run_briefly();
  EXPECT_EQ(p.transport->queued(), 0u);
  EXPECT_EQ(p.read_peer(), "<a/><b/>");
}

TEST(Transport, PausedReadingTakesNothingUntilResumed) {
  Pair p;
  p.write_peer("one");
  p.run_briefly();
  EXPECT_EQ(p.events.data, "one");
  p.transport->pause_reading(true);
  p.write_peer("two");
  p.run_briefly();
  EXPECT_EQ(p.events.data, "one");
  // Output still goes out while reading is paused.
  p.transport->send("<out/>");
  p.run_briefly();
  EXPECT_EQ(p.read_peer(), "<out/>");
  p.transport->pause_reading(false);
  p.run_briefly();
  EXPECT_EQ(p.events.data, "onetwo");
}

// A handler that answers and then pauses within the same read: the answer, scheduled to
// leave at the end of the turn, still leaves.
TEST(Transport, PausingAfterASendInTheSameTurnKeepsTheSend) {
  Pair p;
  p.events.on_received = [&] {
    p.transport->send("<answer/>");
    p.transport->pause_reading(true);
  };
  p.write_peer("<question/>");
  p.run_briefly();
  EXPECT_EQ(p.read_peer(), "<answer/>");
  p.events.on_received = nullptr;
  p.write_peer("later");
  p.run_briefly();
  EXPECT_EQ(p.events.data, "<question/>");
  p.transport->pause_reading(false);
  p.run_briefly();
  EXPECT_EQ(p.events.data, "<question/>later");
}

// A turn that sends more than the output limit to a peer that takes it all is not a peer
// that does not read: what waits for the end of the turn goes out as it grows.
TEST(Transport, ABigTurnToAReadingPeerIsNotCutOff) {
  Pair p(16 << 20);
  std::string all;
  for (int i = 0; i < 70; ++i) all += std::string(64 << 10, static_cast<char>('a' + i % 26));
  for (int i = 0; i < 70; ++i) p.transport->send(std::string_view(all).substr(static_cast<std::size_t>(i) << 16, 64 << 10));
  std::string got;
  for (int i = 0; i < 100 && got.size() < all.size(); ++i) {
    got += p.read_peer();
    p.run_briefly();
  }
  EXPECT_EQ(p.events.closed_why, "");
  EXPECT_EQ(got.size(), all.size());
  EXPECT_TRUE(got == all);
}

// A server context with a fresh certificate for chat.test, made in a folder of its own.
SSL_CTX* test_server_context(const std::string& name) {
  std::string dir = ::testing::TempDir() + name;
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  testing::TestCertificate cert;
  if (!testing::make_test_certificate(dir, "chat.test", "ec", cert)) return nullptr;
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (SSL_CTX_use_certificate(ctx, cert.certificate) != 1 || SSL_CTX_use_PrivateKey(ctx, cert.key) != 1) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

// Reading paused for stanzas before STARTTLS: the handshake still reads, and resuming
// afterwards reads the stream.
TEST(Transport, PausedReadingDoesNotStallAHandshake) {
  SSL_CTX* server_ctx = test_server_context("transport-tls");
  ASSERT_NE(server_ctx, nullptr);
  SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
  Pair p;
  p.transport->pause_reading(true);
  p.transport->start_tls(tls::SslPtr(SSL_new(server_ctx)));
  SSL* client = SSL_new(client_ctx);
  SSL_set_fd(client, p.peer.get());
  SSL_set_connect_state(client);
  int rc = 0;
  for (int i = 0; i < 100 && (rc = SSL_do_handshake(client)) != 1; ++i) p.run_briefly();
  ASSERT_EQ(rc, 1) << "the server side never finished its handshake";
  p.run_briefly();
  p.transport->pause_reading(false);
  ASSERT_GT(SSL_write(client, "<stream/>", 9), 0);
  for (int i = 0; i < 20 && p.events.data.empty(); ++i) p.run_briefly();
  EXPECT_EQ(p.events.data, "<stream/>");
  SSL_free(client);
  SSL_CTX_free(client_ctx);
  SSL_CTX_free(server_ctx);
}

// RFC 6120 §5.4.3.3: after <starttls/> not a plaintext byte is read, even while the
// <proceed/> still waits in the output queue for a peer that does not read: what follows
// on the connection belongs to the TLS handshake (here it is no ClientHello, so the
// handshake fails and the connection is closed), never to the XML stream.
TEST(Transport, NoPlaintextIsReadAfterStarttls) {
  SSL_CTX* server_ctx = test_server_context("transport-starttls");
  ASSERT_NE(server_ctx, nullptr);
  Pair p(4096);
  // Output the peer does not read yet: the <proceed/> stays queued behind it.
  std::string backlog(256 << 10, 'x');
  p.transport->send(backlog);
  p.transport->send("<proceed/>");
  p.run_briefly();
  ASSERT_GT(p.transport->queued(), 0u);
  p.transport->start_tls(tls::SslPtr(SSL_new(server_ctx)));
  p.write_peer("<message>injected in plaintext</message>");
  for (int i = 0; i < 5; ++i) p.run_briefly();
  EXPECT_EQ(p.events.data, "");
  // The peer takes the backlog and the <proceed/>; the handshake then reads the plaintext.
  std::string got;
  for (int i = 0; i < 200 && p.events.closed_why.empty(); ++i) {
    got += p.read_peer();
    p.run_briefly();
  }
  got += p.read_peer();
  EXPECT_EQ(got.size(), backlog.size() + 10);
  EXPECT_EQ(p.events.data, "");
  EXPECT_NE(p.events.closed_why.find("TLS handshake failed"), std::string::npos) << p.events.closed_why;
  SSL_CTX_free(server_ctx);
}

// Prosody's `limits`: a peer sending faster than the rate is read at the rate, and every
// byte arrives. 60,000 bytes at 20,000 B/s with a 10,000-byte burst take at least 2.5 s;
// the bounds are generous, as the machine running the test may be loaded.
TEST(Transport, RateLimitSlowsReadingAndLosesNothing) {
  Pair p(1 << 20);
  p.transport->set_rate_limit(RateLimit{20000, 0.5});
  std::string sent;
  for (int i = 0; i < 60000; ++i) sent.push_back(static_cast<char>('a' + i % 26));
  auto start = std::chrono::steady_clock::now();
  p.write_peer(sent);
  for (int i = 0; i < 1000 && p.events.data.size() < sent.size(); ++i) p.run_briefly();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(p.events.data == sent);
  EXPECT_GE(seconds, 2.0);
  EXPECT_LE(seconds, 20.0);
  // Lifted, the next bytes are read at once.
  p.transport->set_rate_limit(RateLimit{});
  p.write_peer(sent);
  for (int i = 0; i < 20 && p.events.data.size() < 2 * sent.size(); ++i) p.run_briefly();
  EXPECT_EQ(p.events.data.size(), 2 * sent.size());
}

}  // namespace
}  // namespace xmppd::stream
