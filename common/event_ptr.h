// A libevent event owned by exactly one object: freed (and so removed from its loop) when
// the owner goes away.
#pragma once

#include <event2/event.h>

#include <memory>

namespace xmppd {

struct EventDeleter {
  void operator()(struct event* ev) const { event_free(ev); }
};
using EventPtr = std::unique_ptr<struct event, EventDeleter>;

}  // namespace xmppd
