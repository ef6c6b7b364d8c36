// Who may read /metrics: openmetrics_allow_ips (addresses) and openmetrics_allow_cidr (one
// prefix), as Prosody's mod_http_openmetrics; loopback only by default. Parsed once when the
// configuration comes, so that a request costs a comparison of bytes. Pure: unit-tested.
//
// Trusts the configuration (from the parent); the address tested is the peer's, as the
// kernel gave it (RequestInfo::address), parsed here again and refused if it does not parse.
// An IPv4-mapped IPv6 address (a dual-stack listener's IPv4 peer) counts as its IPv4 address.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::http {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4
  bool operator==(const IpAddress&) const = default;
};

// "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" (as 192.0.2.1); false for anything else.
bool parse_ip(std::string_view text, IpAddress& out);

class MetricsAccess {
 public:
  // False and why ("openmetrics_allow_cidr: ...") for an address or prefix that does not parse.
  bool configure(const std::vector<std::string>& ips, std::string_view cidr, std::string& error);
  bool allows(std::string_view address) const;

 private:
  std::vector<IpAddress> ips_;
  bool has_prefix_ = false;
  IpAddress prefix_;
  unsigned prefix_bits_ = 0;
};

}  // namespace xmppd::http
