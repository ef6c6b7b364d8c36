// Requests through a reverse proxy (Prosody 0.12's mod_http behaviour): `trusted_proxies`
// lists addresses and networks ("10.0.0.0/8") whose X-Forwarded-For and X-Forwarded-Proto
// are believed. When the TCP peer is one of them, the request's address is the last address
// in X-Forwarded-For that is not a trusted proxy, and "X-Forwarded-Proto: https" makes it
// secure if X-Forwarded-For was valid too; an untrusted peer's headers are ignored entirely.
//
// Trusts the configuration (from the parent). The headers are the client's (or a proxy's,
// copied from the client): bounded in length and in trusted entries walked; an entry in the
// client's place that is not an IP address refuses the request (never the proxy's own
// address, which may be allowed what its clients are not). Pure: unit-tested and fuzzed
// (fuzz/forwarded_fuzzer.cc).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/ip_network.h"

namespace xmppd::http {

// Bounds on X-Forwarded-For (all its lines joined) and on the trusted proxies walked from its
// right: a chain of proxies is short; a request over them is refused.
inline constexpr std::size_t kMaxForwardedBytes = 1024;
inline constexpr std::size_t kMaxForwardedEntries = 16;

class TrustedProxies {
 public:
  // Addresses or address/prefix-length; false and why for one that does not parse (nothing
  // is trusted then).
  bool configure(const std::vector<std::string>& entries, std::string& error);
  bool trusts(std::string_view address) const;
  bool trusts(const IpAddress& address) const;
  bool empty() const { return nets_.empty(); }

 private:
  std::vector<IpNetwork> nets_;
};

struct ForwardedPeer {
  std::string address;  // the client's, as text; the TCP peer's when nothing is forwarded; empty if refused
  // TLS on this connection, or a trusted proxy's X-Forwarded-Proto: https with a valid
  // X-Forwarded-For (a proxy that forwards neither may be passing the client's through).
  bool secure = false;
  bool forwarded = false;  // `address` came from X-Forwarded-For
  std::string problem;  // not empty: the request is to be refused (400), and why
};

// `peer`: the TCP peer's address; `tls`: this connection's. `forwarded_for`: every
// X-Forwarded-For header line (joined with ',', as a proxy may add a line instead of
// appending); `forwarded_proto`: X-Forwarded-Proto's, empty when absent.
ForwardedPeer forwarded_peer(std::string_view peer, bool tls, std::span<const std::string_view> forwarded_for,
                             std::string_view forwarded_proto, const TrustedProxies& trusted);

// The canonical text of an address ("::1", "192.0.2.1"), as inet_ntop writes it.
std::string address_text(const IpAddress& address);

}  // namespace xmppd::http
