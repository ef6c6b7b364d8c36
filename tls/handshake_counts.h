// TLS handshakes this process ended, for /metrics: completed, or failed (router and s2s
// worker: an error from the handshake, the peer leaving during it included; HTTP: a fatal
// alert before it was done). One set per process (each
// network process is single-threaded); stream/transport.cc counts the router's and the s2s
// worker's, http/http_server.cc the HTTP process's, and each role reports them.
#pragma once

#include <cstdint>

namespace xmppd::tls {

struct HandshakeCounts {
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
};

HandshakeCounts& handshake_counts();

}  // namespace xmppd::tls
