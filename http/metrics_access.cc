#include "http/metrics_access.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace xmppd::http {
namespace {

bool prefix_matches(const IpAddress& a, const IpAddress& prefix, unsigned bits) {
  if (a.v6 != prefix.v6) return false;
  const unsigned whole = bits / 8, rest = bits % 8;
  if (std::memcmp(a.bytes.data(), prefix.bytes.data(), whole) != 0) return false;
  if (rest == 0) return true;
  const std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.bytes[whole] & mask) == (prefix.bytes[whole] & mask);
}

}  // namespace

bool parse_ip(std::string_view text, IpAddress& out) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char buffer[INET6_ADDRSTRLEN];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  out = IpAddress{};
  if (inet_pton(AF_INET, buffer, out.bytes.data()) == 1) return true;
  if (inet_pton(AF_INET6, buffer, out.bytes.data()) != 1) return false;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(out.bytes.data(), kMapped, sizeof kMapped) == 0) {
    std::memmove(out.bytes.data(), out.bytes.data() + 12, 4);
    std::memset(out.bytes.data() + 4, 0, 12);
    return true;
  }
  out.v6 = true;
  return true;
}

bool MetricsAccess::configure(const std::vector<std::string>& ips, std::string_view cidr, std::string& error) {
  ips_.clear();
  has_prefix_ = false;
  for (const std::string& ip : ips) {
    IpAddress a;
    if (!parse_ip(ip, a)) {
      error = "openmetrics_allow_ips: \"" + ip + "\" is not an IP address";
      return false;
    }
    ips_.push_back(a);
  }
  if (cidr.empty()) return true;
  const std::size_t slash = cidr.find('/');
  unsigned bits = 0;
  const char* end = cidr.data() + cidr.size();
  if (slash == std::string_view::npos || !parse_ip(cidr.substr(0, slash), prefix_) ||
      std::from_chars(cidr.data() + slash + 1, end, bits).ptr != end || slash + 1 == cidr.size() ||
      bits > (prefix_.v6 ? 128u : 32u)) {
    error = "openmetrics_allow_cidr: \"" + std::string(cidr) + "\" is not an address/prefix-length";
    return false;
  }
  prefix_bits_ = bits;
  has_prefix_ = true;
  return true;
}

bool MetricsAccess::allows(std::string_view address) const {
  IpAddress a;
  if (!parse_ip(address, a)) return false;
  for (const IpAddress& ip : ips_)
    if (ip == a) return true;
  return has_prefix_ && prefix_matches(a, prefix_, prefix_bits_);
}

}  // namespace xmppd::http
