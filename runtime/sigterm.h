// SIGTERM (the parent stopping the service) as an event of a child's loop, for the roles that
// must finish something first: the router commits its batch, the s2s worker ends its inbound
// streams with their final XEP-0198 acknowledgement. A self-pipe: the handler only writes a
// byte with write(2), which every role's sandbox allows; the pipe is made before the sandbox.
// One per process (a signal handler has one place to write to).
#pragma once

#include <event2/event.h>

#include <functional>
#include <string>

#include "common/unique_fd.h"
#include "proto/channel.h"

namespace xmppd::runtime {

class SigtermWatch {
 public:
  // From now on SIGTERM runs `on_term` from the loop of `base`, after the event under way;
  // false, with `error`, when the pipe or the handler cannot be set up.
  bool start(struct event_base* base, std::function<void()> on_term, std::string& error);

 private:
  static void on_readable(evutil_socket_t, short, void* arg);

  std::function<void()> on_term_;
  UniqueFd read_end_;
  ipc::EventPtr event_;
};

}  // namespace xmppd::runtime
