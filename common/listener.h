// A listening TCP socket on the event loop: accepts what is pending and hands each new
// connection on.
//
// When the process or the system is out of descriptors or memory, the socket stays readable
// while accept(2) keeps failing: a level-triggered event would then spin. The listener
// stops for a moment instead, says so once, and tries again; connections wait in the
// kernel's backlog meanwhile.
#pragma once

#include <event2/event.h>

#include <functional>
#include <string>

#include "common/event_ptr.h"
#include "common/unique_fd.h"

namespace xmppd::net {

class Listener {
 public:
  // The connection (non-blocking, close-on-exec) and "address port" of its peer.
  using OnConnection = std::function<void(UniqueFd fd, std::string peer)>;
  static constexpr int kPauseSeconds = 1;

  // `service` names the listener in logs.
  Listener(struct event_base* base, UniqueFd fd, std::string service, OnConnection on_connection);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  bool paused() const { return paused_; }

 private:
  // One wake-up takes at most this many, so that other events get their turn.
  static constexpr int kBurst = 64;

  static void on_readable(evutil_socket_t, short, void* arg);
  static void on_resume(evutil_socket_t, short, void* arg);
  void accept_pending();
  void pause(int error);

  UniqueFd fd_;
  std::string service_;
  OnConnection on_connection_;
  EventPtr readable_;
  EventPtr resume_;
  bool paused_ = false;
};

}  // namespace xmppd::net
