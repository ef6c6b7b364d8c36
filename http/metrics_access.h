// Who may read /metrics: openmetrics_allow_ips (addresses) and openmetrics_allow_cidr (one
// prefix), as Prosody's mod_http_openmetrics; loopback only by default. Parsed once when the
// configuration comes, so that a request costs a comparison of bytes. Pure: unit-tested.
//
// Trusts the configuration (from the parent); the address tested is the peer's, as the
// kernel gave it (RequestInfo::address), parsed here again and refused if it does not parse.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/ip_network.h"

namespace xmppd::http {

class MetricsAccess {
 public:
  // False and why ("openmetrics_allow_cidr: ...") for an address or prefix that does not parse.
  bool configure(const std::vector<std::string>& ips, std::string_view cidr, std::string& error);
  bool allows(std::string_view address) const;

 private:
  std::vector<IpAddress> ips_;
  std::optional<IpNetwork> network_;  // openmetrics_allow_cidr
};

}  // namespace xmppd::http
