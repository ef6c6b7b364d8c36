// IP addresses and networks as the HTTP process's access lists name them: /metrics's
// openmetrics_allow_ips and _cidr (metrics_access.h) and trusted_proxies (forwarded.h).
// Parsed once when the configuration comes, so that a request costs a comparison of bytes.
// Pure: unit-tested with its users.
//
// Trusts nothing: the text is the configuration's or a request's (a peer address, an
// X-Forwarded-For entry). An IPv4-mapped IPv6 address (a dual-stack listener's IPv4 peer)
// counts as its IPv4 address, so that one list entry matches both forms.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace xmppd::http {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4
  bool operator==(const IpAddress&) const = default;
};

// "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" (as 192.0.2.1); false for anything else.
bool parse_ip(std::string_view text, IpAddress& out);

struct IpNetwork {
  IpAddress prefix;
  unsigned bits = 0;
  bool contains(const IpAddress& address) const;
};

// "ADDRESS/BITS", or, if `bare_address_allowed`, an ADDRESS alone (the network of that one
// address); false for anything else, BITS past the family's width included.
bool parse_network(std::string_view text, bool bare_address_allowed, IpNetwork& out);

}  // namespace xmppd::http
