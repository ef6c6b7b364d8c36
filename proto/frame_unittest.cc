// The framing layer and the typed channel, over real SOCK_SEQPACKET socketpairs.
#include <dirent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "control.pb.h"
#include "proto/channel.h"
#include "proto/frame.h"

namespace xmppd::ipc {
namespace {

int open_fd_count() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (struct dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n - 1;  // the directory stream itself
}

struct Pair {
  UniqueFd a, b;
  Pair(std::size_t max = 1 << 16) { EXPECT_TRUE(make_seqpacket_pair(max, a, b)); }
};

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

TEST(Frame, RecordKeepsItsBoundaryAndDescriptor) {
  Pair p;
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  ASSERT_EQ(send_record(p.a.get(), bytes_of("first"), {}), SendStatus::kSent);
  ASSERT_EQ(send_record(p.a.get(), bytes_of("second"), std::span(&pipefd[1], 1)), SendStatus::kSent);
  close(pipefd[1]);

  std::vector<std::uint8_t> buf(64);
  std::vector<UniqueFd> fds;
  std::size_t len = 0;
  ASSERT_EQ(recv_record(p.b.get(), buf, 1, len, fds), RecvStatus::kRecord);
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + len), "first");
  EXPECT_TRUE(fds.empty());  // the descriptor did not slide onto the earlier record
  ASSERT_EQ(recv_record(p.b.get(), buf, 1, len, fds), RecvStatus::kRecord);
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + len), "second");
  ASSERT_EQ(fds.size(), 1u);
  // The passed descriptor is the pipe's write end: what goes in comes out at the other end.
  ASSERT_EQ(write(fds[0].get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(read(pipefd[0], &c, 1), 1);
  EXPECT_EQ(c, 'x');
  EXPECT_TRUE(fcntl(fds[0].get(), F_GETFD) & FD_CLOEXEC);
  close(pipefd[0]);
}

TEST(Frame, OversizedRecordIsDetectedNotCut) {
  Pair p;
  std::vector<std::uint8_t> big(200, 'a'), buf(101);
  ASSERT_EQ(send_record(p.a.get(), big, {}), SendStatus::kSent);
  std::vector<UniqueFd> fds;
  std::size_t len = 0;
  EXPECT_EQ(recv_record(p.b.get(), buf, 0, len, fds), RecvStatus::kOversized);
}

TEST(Frame, RecordOfExactlyTheMaximumPasses) {
  Pair p;
  std::vector<std::uint8_t> rec(100, 'a'), buf(101);
  ASSERT_EQ(send_record(p.a.get(), rec, {}), SendStatus::kSent);
  std::vector<UniqueFd> fds;
  std::size_t len = 0;
  ASSERT_EQ(recv_record(p.b.get(), buf, 0, len, fds), RecvStatus::kRecord);
  EXPECT_EQ(len, 100u);
}

TEST(Frame, TooManyDescriptorsAreRefusedAndNoneLeak) {
  Pair p;
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  int three[] = {pipefd[0], pipefd[1], pipefd[0]};
  ASSERT_EQ(send_record(p.a.get(), bytes_of("x"), three), SendStatus::kSent);
  ASSERT_EQ(send_record(p.a.get(), bytes_of("y"), std::span(three, 1)), SendStatus::kSent);
  int before = open_fd_count();
  std::vector<std::uint8_t> buf(64);
  std::size_t len = 0;
  {
    std::vector<UniqueFd> fds;
    EXPECT_EQ(recv_record(p.b.get(), buf, 1, len, fds), RecvStatus::kTooManyFds);
  }
  {
    // A channel that takes no descriptors at all refuses even one.
    std::vector<UniqueFd> fds;
    EXPECT_EQ(recv_record(p.b.get(), buf, 0, len, fds), RecvStatus::kTooManyFds);
  }
  EXPECT_EQ(open_fd_count(), before);
  close(pipefd[0]);
  close(pipefd[1]);
}

TEST(Frame, PeerClosingIsReported) {
  Pair p;
  ASSERT_EQ(send_record(p.a.get(), bytes_of("last words"), {}), SendStatus::kSent);
  p.a.reset();
  std::vector<std::uint8_t> buf(64);
  std::vector<UniqueFd> fds;
  std::size_t len = 0;
  ASSERT_EQ(recv_record(p.b.get(), buf, 0, len, fds), RecvStatus::kRecord);  // sent before the end: kept
  EXPECT_EQ(recv_record(p.b.get(), buf, 0, len, fds), RecvStatus::kClosed);
  // Writing to a closed peer is an error, not a SIGPIPE.
  EXPECT_EQ(send_record(p.b.get(), bytes_of("anyone?"), {}), SendStatus::kError);
}

// --- the typed channel on a real event loop ---

struct Loop {
  struct event_base* base = event_base_new();
  ~Loop() { event_base_free(base); }
  void run_briefly() {
    timeval tv{0, 50 * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
  }
};

struct Receiver {
  Loop loop;
  Pair pair;
  TypedChannel<ParentToChild> channel{loop.base, std::move(pair.b), {4096, 1}, {4096, 1}, "test"};
  int configures = 0, links = 0;
  bool closed = false;
  CloseReason reason{};
  std::string detail;

  Receiver() {
    channel.on(ParentToChild::kConfigure, 0, [this](const ParentToChild&, auto&) { ++configures; });
    channel.on(ParentToChild::kPeerLink, 1, [this](const ParentToChild&, auto&) { ++links; });
    channel.start([this](CloseReason r, std::string_view d) {
      closed = true;
      reason = r;
      detail = d;
    });
  }
  void send_raw(const std::string& bytes, std::span<const int> fds = {}) {
    ASSERT_EQ(send_record(pair.a.get(), bytes_of(bytes), fds), SendStatus::kSent);
  }
  void send(const ParentToChild& m, std::span<const int> fds = {}) { send_raw(m.SerializeAsString(), fds); }
};

ParentToChild a_configure() {
  ParentToChild m;
  m.mutable_configure()->set_role(ROLE_TLS);
  m.mutable_configure()->mutable_privsep()->set_directory(std::string(300, '/'));
  return m;
}

TEST(TypedChannel, AcceptsRegisteredMessages) {
  Receiver r;
  r.send(a_configure());
  r.send(a_configure());
  r.loop.run_briefly();
  EXPECT_EQ(r.configures, 2);
  EXPECT_FALSE(r.closed);
}

TEST(TypedChannel, GarbageIsAViolation) {
  Receiver r;
  r.send_raw(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11));
  r.loop.run_briefly();
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.reason, CloseReason::kViolation);
  EXPECT_EQ(r.detail, "record does not decode");
}

TEST(TypedChannel, TruncatedRecordIsAViolation) {
  Receiver r;
  std::string whole = a_configure().SerializeAsString();
  r.send_raw(whole.substr(0, whole.size() / 2));
  r.loop.run_briefly();
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.detail, "record does not decode");
  EXPECT_EQ(r.configures, 0);
}

TEST(TypedChannel, OversizedRecordIsAViolation) {
  Receiver r;
  ParentToChild m = a_configure();
  m.mutable_configure()->mutable_privsep()->set_directory(std::string(5000, 'x'));
  r.send(m);
  r.loop.run_briefly();
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.reason, CloseReason::kViolation);
  EXPECT_EQ(r.detail, "record over the channel's maximum");
}

TEST(TypedChannel, DescriptorWithAMessageThatTakesNoneIsAViolation) {
  Receiver r;
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  r.send(a_configure(), std::span(pipefd, 1));
  r.loop.run_briefly();
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.configures, 0);
  EXPECT_NE(r.detail.find("arrived with 1 descriptors, expected 0"), std::string::npos) << r.detail;
  close(pipefd[0]);
  close(pipefd[1]);
}

TEST(TypedChannel, MessageMissingItsDescriptorIsAViolation) {
  Receiver r;
  ParentToChild m;
  m.mutable_peer_link()->set_peer(ROLE_ROUTER);
  r.send(m);
  r.loop.run_briefly();
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.links, 0);
  EXPECT_NE(r.detail.find("arrived with 0 descriptors, expected 1"), std::string::npos) << r.detail;
}

TEST(TypedChannel, DescriptorTravelsWithItsMessage) {
  Receiver r;
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  ParentToChild m;
  m.mutable_peer_link()->set_peer(ROLE_ROUTER);
  r.send(m, std::span(pipefd, 1));
  r.loop.run_briefly();
  EXPECT_FALSE(r.closed);
  EXPECT_EQ(r.links, 1);
  close(pipefd[0]);
  close(pipefd[1]);
}

TEST(TypedChannel, UnregisteredMessageTypeIsAViolation) {
  Receiver r;
  ParentToChild m;
  m.mutable_listener()->set_port(5222);
  r.send(m);
  r.loop.run_briefly();
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.detail, "message type 3 is not accepted on this channel");
}

TEST(TypedChannel, UnknownFieldIsAViolation) {
  Receiver r;
  // Field 99, varint 1: a message from some other channel's envelope.
  r.send_raw(std::string("\x98\x06\x01", 3));
  r.loop.run_briefly();
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.detail, "record carries fields this channel does not define");
}

TEST(TypedChannel, EmptyEnvelopeIsAViolation) {
  Receiver r;
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  r.send_raw("", std::span(pipefd, 1));  // a zero-length record: only a descriptor makes it visible
  r.loop.run_briefly();
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.detail, "record carries no message");
  close(pipefd[0]);
  close(pipefd[1]);
}

TEST(TypedChannel, PeerClosingMidExchangeEndsTheChannelAfterWhatWasSent) {
  Receiver r;
  r.send(a_configure());
  r.pair.a.reset();
  r.loop.run_briefly();
  EXPECT_EQ(r.configures, 1);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.reason, CloseReason::kPeerClosed);
}

TEST(TypedChannel, FullSocketQueuesInOrderAndKeepsDescriptors) {
  Loop loop;
  UniqueFd a, b;
  ASSERT_TRUE(make_seqpacket_pair(4096, a, b));
  int small = 8192;
  setsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  Channel sender(loop.base, std::move(a), {4096, 1}, {4096, 1}, "sender");
  sender.start([](auto, auto&, std::string&) { return true; }, [](CloseReason, std::string_view) {});

  std::vector<int> seen;
  int with_fd = 0;
  TypedChannel<ChildToParent> receiver(loop.base, std::move(b), {4096, 1}, {4096, 1}, "receiver");
  receiver.on(ChildToParent::kReady, 0, [&](const ChildToParent& m, auto&) {
    seen.push_back(static_cast<int>(m.ready().generation()));
  });
  receiver.on(ChildToParent::kPeerViolation, 1, [&](const ChildToParent&, auto& fds) {
    with_fd += write(fds[0].get(), "z", 1) == 1;
  });
  receiver.start([](CloseReason, std::string_view) {});

  constexpr int kCount = 2000;
  for (int i = 1; i <= kCount; ++i) {
    ChildToParent m;
    m.mutable_ready()->set_generation(static_cast<std::uint64_t>(i));
    ASSERT_TRUE(sender.send(m));
  }
  EXPECT_GT(sender.queued(), 0u);  // the socket filled up
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  ChildToParent v;
  v.mutable_peer_violation()->set_reason("queued with a descriptor");
  ASSERT_TRUE(sender.send(v, std::span(&pipefd[1], 1)));
  close(pipefd[1]);  // the queued record keeps its own copy

  for (int i = 0; i < 50 && (seen.size() < kCount || with_fd == 0); ++i) loop.run_briefly();
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(seen[i], i + 1);
  EXPECT_EQ(with_fd, 1);
  char c;
  EXPECT_EQ(read(pipefd[0], &c, 1), 1);
  close(pipefd[0]);
}

// ---- The bound on what waits for the peer ----

struct Closed {
  bool closed = false;
  CloseReason reason{};
  std::string detail;
};

// A sender whose peer (`peer`) reads only when the test says so, with a small socket
// buffer so that records queue early.
struct SlowPeer {
  static constexpr std::size_t kBound = 64 << 10;
  Loop loop;
  UniqueFd peer;
  std::unique_ptr<Channel> sender;
  Closed closed;
  SlowPeer() {
    UniqueFd a;
    EXPECT_TRUE(make_seqpacket_pair(4096, a, peer));
    set_nonblocking(peer.get());
    int small = 8192;
    setsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    sender = std::make_unique<Channel>(loop.base, std::move(a), Limits{4096, 0}, Limits{4096, 0, kBound}, "slow");
    sender->start([](auto, auto&, std::string&) { return true; },
                  [this](CloseReason r, std::string_view d) {
                    closed = {true, r, std::string(d)};
                  });
  }
};

TEST(ChannelQueue, PeerThatNeverReadsIsDroppedAsAViolationAndTheQueueFreed) {
  SlowPeer s;
  const std::vector<std::uint8_t> record(1000, 0x42);
  int accepted = 0;
  while (s.sender->send_bytes(record)) {
    ASSERT_LE(s.sender->queued_bytes(), SlowPeer::kBound) << "after " << accepted << " records";
    ASSERT_LT(++accepted, 10000) << "the queue never filled";
  }
  EXPECT_GT(accepted, 50) << "the socket and the queue took records first";
  EXPECT_EQ(s.sender->queued(), 0u) << "the memory goes back at once";
  EXPECT_EQ(s.sender->queued_bytes(), 0u);
  EXPECT_FALSE(s.closed.closed) << "not closed from inside send: its caller may own the channel";
  EXPECT_FALSE(s.sender->send_bytes(record)) << "nothing more is taken";

  s.loop.run_briefly();
  EXPECT_TRUE(s.closed.closed);
  EXPECT_EQ(s.closed.reason, CloseReason::kViolation);
  EXPECT_NE(s.closed.detail.find("peer stopped reading"), std::string::npos) << s.closed.detail;
  EXPECT_FALSE(s.sender->open());
}

TEST(ChannelQueue, PeerThatReadsLateGetsEverythingUpToTheBound) {
  SlowPeer s;
  // Just under the bound: what the socket took plus what waits.
  std::vector<std::uint8_t> record(1000);
  int sent = 0;
  for (; s.sender->queued_bytes() + 2 * (record.size() + Channel::kQueuedRecordOverhead) <= SlowPeer::kBound; ++sent) {
    record[0] = static_cast<std::uint8_t>(sent);
    ASSERT_TRUE(s.sender->send_bytes(record));
  }
  ASSERT_GT(s.sender->queued(), 10u) << "the test needs records waiting";

  std::vector<std::uint8_t> buffer(4097);
  std::vector<UniqueFd> fds;
  int received = 0;
  for (int turn = 0; turn < 200 && received < sent; ++turn) {
    s.loop.run_briefly();
    std::size_t length = 0;
    while (recv_record(s.peer.get(), buffer, 0, length, fds) == RecvStatus::kRecord) {
      ASSERT_EQ(length, record.size());
      ASSERT_EQ(buffer[0], static_cast<std::uint8_t>(received)) << "in order";
      ++received;
    }
  }
  EXPECT_EQ(received, sent);
  EXPECT_FALSE(s.closed.closed);
  EXPECT_EQ(s.sender->queued_bytes(), 0u) << "the account comes back to zero";
}

TEST(ChannelQueue, DefaultBoundIsSixtyFourLargestRecordsAndAtLeastSixteenMebibytes) {
  EXPECT_EQ(default_max_queued(4096), 16u << 20);
  EXPECT_EQ(default_max_queued(1 << 20), 64u << 20);
}

}  // namespace
}  // namespace xmppd::ipc
