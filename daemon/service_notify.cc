// sd_notify messages for the service manager (service_notify.h). libsystemd does the work:
// it finds $NOTIFY_SOCKET and sends the datagram with the parent's credentials, which is
// what NotifyAccess=main checks. The children never see $NOTIFY_SOCKET (child_process.cc
// gives them a clean environment), so only the parent can speak for the service.
#include "daemon/service_notify.h"

#include <time.h>

#include <cstdio>

#include "build_config.h"

#if XMPPD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace xmppd::parent::service_notify {
namespace {

void send([[maybe_unused]] const char* state) {
#if XMPPD_HAVE_SYSTEMD
  // Outside systemd there is no socket and sd_notify returns 0; a failure to reach the
  // manager changes nothing in the server, so the result is not acted on.
  sd_notify(0, state);
#endif
}

// The service's state as the manager was told it: a Type=notify start-up ends with READY=1,
// and a stop is never undone. Only the parent's single thread calls these.
bool ready_sent = false;
bool stop_begun = false;

bool reloading() {
  if (!ready_sent || stop_begun) return false;
  // systemd 253 and later match the reload to this timestamp (CLOCK_MONOTONIC, in µs); 252 ignores it.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  char message[96];
  const unsigned long long usec =
      static_cast<unsigned long long>(now.tv_sec) * 1000000ULL + static_cast<unsigned long long>(now.tv_nsec) / 1000;
  std::snprintf(message, sizeof message, "RELOADING=1\nMONOTONIC_USEC=%llu", usec);
  send(message);
  return true;
}

}  // namespace

void ready() {
  if (ready_sent || stop_begun) return;
  ready_sent = true;
  send("READY=1\nSTATUS=serving: every process is ready");
}

void stopping() {
  stop_begun = true;
  send("STOPPING=1");
}

ReloadScope::ReloadScope() : announced_(reloading()) {}

ReloadScope::~ReloadScope() {
  if (announced_ && !stop_begun) send("READY=1");
}

}  // namespace xmppd::parent::service_notify
