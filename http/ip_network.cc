#include "http/ip_network.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace xmppd::http {

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

bool IpNetwork::contains(const IpAddress& address) const {
  if (address.v6 != prefix.v6) return false;
  const unsigned whole = bits / 8, rest = bits % 8;
  if (std::memcmp(address.bytes.data(), prefix.bytes.data(), whole) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (address.bytes[whole] & mask) == (prefix.bytes[whole] & mask);
}

bool parse_network(std::string_view text, bool bare_address_allowed, IpNetwork& out) {
  const std::size_t slash = text.find('/');
  if (!parse_ip(text.substr(0, slash), out.prefix)) return false;
  const unsigned width = out.prefix.v6 ? 128 : 32;
  out.bits = width;
  if (slash == std::string_view::npos) return bare_address_allowed;
  const char* end = text.data() + text.size();
  unsigned bits = 0;
  if (slash + 1 == text.size() || std::from_chars(text.data() + slash + 1, end, bits).ptr != end || bits > width)
    return false;
  out.bits = bits;
  return true;
}

}  // namespace xmppd::http
