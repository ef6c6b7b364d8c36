#include "runtime/sigterm.h"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>

namespace xmppd::runtime {
namespace {

int write_end = -1;  // the handler's only state

void on_signal(int) {
  const char byte = 0;
  [[maybe_unused]] ssize_t n = write(write_end, &byte, 1);
}

}  // namespace

bool SigtermWatch::start(struct event_base* base, std::function<void()> on_term, std::string& error) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = "cannot make the SIGTERM pipe";
    return false;
  }
  read_end_ = UniqueFd(fds[0]);
  write_end = fds[1];  // kept open for the life of the process
  on_term_ = std::move(on_term);
  event_.reset(event_new(base, fds[0], EV_READ, on_readable, this));
  event_add(event_.get(), nullptr);
  struct sigaction action = {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (sigaction(SIGTERM, &action, nullptr) != 0) {
    error = "cannot catch SIGTERM";
    return false;
  }
  return true;
}

void SigtermWatch::on_readable(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<SigtermWatch*>(arg);
  if (self->on_term_) self->on_term_();
}

}  // namespace xmppd::runtime
