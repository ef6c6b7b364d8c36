// stream::Transport over a plaintext socketpair: output sent in one loop turn leaves
// together at its end, and reading pauses and resumes without losing what is sent or read.
#include "stream/transport.h"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>

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
  Pair() : base(event_base_new()) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
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

}  // namespace
}  // namespace xmppd::stream
