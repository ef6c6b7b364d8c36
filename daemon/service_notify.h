// What the parent tells the service manager (systemd's sd_notify protocol, under a unit of
// Type=notify): ready once every child has answered Ready, reloading around a SIGHUP, stopping.
// Without libsystemd at build time (OpenBSD, or a Linux built without it) each call does nothing.
// Trusts nothing it is given: it sends fixed messages to the socket the manager named.
#pragma once

namespace xmppd::parent::service_notify {

// All four children answered Ready: the service is up (sent once; a restarted child later
// does not make the service "start" again). Nothing once a stop has begun.
void ready();
// A stop has begun: the children are being told to end. After it nothing but STOPPING=1 is
// sent: a READY=1 then would tell the manager that a service on its way out is up.
void stopping();

// RELOADING=1 for as long as it lives, READY=1 when it ends, whichever way reload() returns;
// both only when the service has been reported ready and no stop has begun. A SIGHUP during
// start-up must not make the manager take the service as started before its children are
// ready, and Type=notify start-up ends with the first READY=1 alone.
class ReloadScope {
 public:
  ReloadScope();
  ~ReloadScope();
  ReloadScope(const ReloadScope&) = delete;
  ReloadScope& operator=(const ReloadScope&) = delete;

 private:
  bool announced_;  // RELOADING=1 was sent, so READY=1 must end it
};

}  // namespace xmppd::parent::service_notify
