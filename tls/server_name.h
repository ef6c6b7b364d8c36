// The host name a TLS client asks for, read from the raw server_name extension of its
// ClientHello (RFC 6066 §3). Trusts nothing: the bytes are the client's.
//
// libssl parses SNI only after it has chosen the protocol version, too late for per-host
// `ssl.protocol`; the ClientHello callback (server_contexts.cc) sees the raw extension alone.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace xmppd::tls {

// The first host_name entry, in ASCII lowercase; nullopt when the extension is malformed
// (a length that overruns, bytes left over), names no host, or the name is empty, longer
// than 255 octets, or holds a byte no DNS name has (NUL, controls, space, non-ASCII), or
// ends with a dot (RFC 6066 forbids it).
std::optional<std::string> server_name_from_extension(std::span<const std::uint8_t> extension);

}  // namespace xmppd::tls
