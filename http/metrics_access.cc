#include "http/metrics_access.h"

namespace xmppd::http {

bool MetricsAccess::configure(const std::vector<std::string>& ips, std::string_view cidr, std::string& error) {
  ips_.clear();
  network_.reset();
  for (const std::string& ip : ips) {
    IpAddress a;
    if (!parse_ip(ip, a)) {
      error = "openmetrics_allow_ips: \"" + ip + "\" is not an IP address";
      return false;
    }
    ips_.push_back(a);
  }
  if (cidr.empty()) return true;
  IpNetwork network;
  if (!parse_network(cidr, false, network)) {
    error = "openmetrics_allow_cidr: \"" + std::string(cidr) + "\" is not an address/prefix-length";
    return false;
  }
  network_ = network;
  return true;
}

bool MetricsAccess::allows(std::string_view address) const {
  IpAddress a;
  if (!parse_ip(address, a)) return false;
  for (const IpAddress& ip : ips_)
    if (ip == a) return true;
  return network_ && network_->contains(a);
}

}  // namespace xmppd::http
