#include "common/listener.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/log.h"
#include "common/net.h"

namespace xmppd::net {
namespace {

// Errors that last until something else in the process or the system lets go.
bool out_of_resources(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace

Listener::Listener(struct event_base* base, UniqueFd fd, std::string service, OnConnection on_connection)
    : fd_(std::move(fd)), service_(std::move(service)), on_connection_(std::move(on_connection)) {
  readable_.reset(event_new(base, fd_.get(), EV_READ | EV_PERSIST, on_readable, this));
  resume_.reset(evtimer_new(base, on_resume, this));
  event_add(readable_.get(), nullptr);
}

void Listener::on_readable(evutil_socket_t, short, void* arg) { static_cast<Listener*>(arg)->accept_pending(); }

void Listener::on_resume(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  self->paused_ = false;
  event_add(self->readable_.get(), nullptr);
  log::info("%s: accepting connections again", self->service_.c_str());
}

void Listener::accept_pending() {
  for (int i = 0; i < kBurst; ++i) {
    std::string peer;
    UniqueFd conn = accept_connection(fd_.get(), peer);
    if (conn) {
      on_connection_(std::move(conn), std::move(peer));
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (out_of_resources(errno)) {
      pause(errno);
      return;
    }
    // The connection went away before it was taken (ECONNABORTED), a firewall refused it
    // (EPERM), or a network error was reported early (Linux): only that one is lost.
    if (errno != ECONNABORTED && errno != EINTR) log::warning("%s: accept: %s", service_.c_str(), std::strerror(errno));
  }
}

void Listener::pause(int error) {
  log::warning("%s: accept: %s; not accepting connections for %d s", service_.c_str(), std::strerror(error),
               kPauseSeconds);
  paused_ = true;
  event_del(readable_.get());
  timeval tv{kPauseSeconds, 0};
  evtimer_add(resume_.get(), &tv);
}

}  // namespace xmppd::net
