// The libpq connection string of the storage process, from the parent's StorageSettings:
// the server's address resolved once, before the chroot (no resolver in reach after it), and
// the timeouts that keep the router from waiting long on a server that is gone.
#pragma once

#include <string>

#include "control.pb.h"

namespace xmppd::storage {

// libpq's connect_timeout and the server's statement_timeout: both under the router's wait
// for an answer (store::RemoteDatabase::kAnswerTimeout, 5 s), so that the storage process
// always answers before the router gives up.
inline constexpr int kConnectTimeoutSeconds = 2;
inline constexpr int kStatementTimeoutMs = 4000;
// TCP keepalives and tcp_user_timeout: a server that vanished without closing the connection
// (a crash, a failover, a cut link) fails the statement in seconds, not after TCP's own
// retransmissions (about 15 minutes), during which the storage process answers nothing.
inline constexpr int kKeepaliveIdleSeconds = 5;
inline constexpr int kKeepaliveIntervalSeconds = 1;
inline constexpr int kKeepaliveCount = 3;
inline constexpr int kTcpUserTimeoutMs = 4000;

// Resolves settings.host to a numeric address (getaddrinfo; the first answer), or false with
// `error`. Called before the chroot.
bool resolve_host(const ipc::StorageSettings& settings, std::string& address, std::string& error);

// "host='...' hostaddr='...' port='...' ..." with libpq's quoting: every value in single
// quotes, a quote or a backslash in it escaped with a backslash. TLS is off (sslmode=disable):
// libpq would look for certificate files, which the chroot does not have (xmppd.conf(5)).
std::string conninfo(const ipc::StorageSettings& settings, const std::string& address);

// A numeric address of 127.0.0.0/8 or ::1 (also as ::ffff:127.x.y.z): the connection, without
// TLS, stays on this machine.
bool is_loopback(const std::string& address);

// libpq's quoting of one value.
std::string quote_value(const std::string& value);

}  // namespace xmppd::storage
