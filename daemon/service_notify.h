// What the parent tells the service manager (systemd's sd_notify protocol, under a unit of
// Type=notify): ready once every child has answered Ready, reloading around a SIGHUP, stopping.
// Without libsystemd at build time (OpenBSD, or a Linux built without it) each call does nothing.
// Trusts nothing it is given: it sends fixed messages to the socket the manager named.
#pragma once

namespace xmppd::parent::service_notify {

// All four children answered Ready: the service is up (sent once; a restarted child later
// does not make the service "start" again).
void ready();
// The configuration is being read again; ends with the ReloadScope that sent it.
void reloading();
// A stop has begun: the children are being told to end.
void stopping();

// RELOADING=1 for as long as it lives, READY=1 when it ends, whichever way reload() returns.
class ReloadScope {
 public:
  ReloadScope() { reloading(); }
  ~ReloadScope();
  ReloadScope(const ReloadScope&) = delete;
  ReloadScope& operator=(const ReloadScope&) = delete;
};

}  // namespace xmppd::parent::service_notify
