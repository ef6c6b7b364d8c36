// net::Listener at the open-files limit: it stops listening for a while instead of spinning
// on a socket that stays readable, and takes the waiting connections once descriptors are
// free again.
#include "common/listener.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace xmppd::net {
namespace {

struct Base {
  Base() : base(event_base_new()) {}
  ~Base() { event_base_free(base); }
  struct event_base* base;
};

// A loopback listening socket on a port of the kernel's choice.
UniqueFd listen_loopback(sockaddr_in& address) {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(listen(fd.get(), 64), 0);
  EXPECT_EQ(getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  return fd;
}

// Runs the loop for `ms` milliseconds; how many times it woke up for an event.
int run_for(struct event_base* base, int ms) {
  int wakeups = 0;
  timeval end;
  gettimeofday(&end, nullptr);
  long long until = end.tv_sec * 1000LL + end.tv_usec / 1000 + ms;
  for (;;) {
    timeval now;
    gettimeofday(&now, nullptr);
    long long left = until - (now.tv_sec * 1000LL + now.tv_usec / 1000);
    if (left <= 0) return wakeups;
    EventPtr stop(evtimer_new(base, [](evutil_socket_t, short, void*) {}, nullptr));
    timeval tv{static_cast<time_t>(left / 1000), static_cast<suseconds_t>((left % 1000) * 1000)};
    evtimer_add(stop.get(), &tv);
    event_base_loop(base, EVLOOP_ONCE);
    ++wakeups;
  }
}

TEST(Listener, PausesAtTheOpenFilesLimitAndResumes) {
  Base b;
  sockaddr_in address;
  std::vector<UniqueFd> accepted;
  Listener listener(b.base, listen_loopback(address), "test",
                    [&](UniqueFd fd, std::string peer) {
                      EXPECT_NE(peer.find("127.0.0.1 port"), std::string::npos);
                      accepted.push_back(std::move(fd));
                    });
  constexpr int kClients = 20;
  std::vector<UniqueFd> clients;
  int highest = 0;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(connect(clients.back().get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    highest = std::max(highest, clients.back().get());
  }
  // Room for three more descriptors: the rest of the connections meet EMFILE.
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(highest + 1 + 3);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  int wakeups = run_for(b.base, 300);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(accepted.size(), 3u);
  EXPECT_TRUE(listener.paused());
  // A spinning listener wakes the loop thousands of times in 300 ms; a paused one, once or
  // twice for the timer that ends each round here.
  EXPECT_LT(wakeups, 20);
  // The limit is lifted: within the pause and one more, every waiting connection is taken.
  run_for(b.base, (Listener::kPauseSeconds * 1000) + 300);
  EXPECT_EQ(accepted.size(), static_cast<std::size_t>(kClients));
  EXPECT_FALSE(listener.paused());
}

}  // namespace
}  // namespace xmppd::net
