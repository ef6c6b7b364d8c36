#include "s2s-worker/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <span>

namespace xmppd::s2s {
namespace {

struct Range4 {
  std::uint32_t prefix;  // host order
  int length;
  const char* what;
};

constexpr std::uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d) { return a << 24 | b << 16 | c << 8 | d; }

// RFC 6890 and the IANA IPv4 Special-Purpose Address Registry: the blocks that are not
// globally reachable, and multicast. The broadcast address comes before the reserved /4 that
// holds it, so that it is named as what it is.
constexpr Range4 kSpecial4[] = {
    {ip4(0, 0, 0, 0), 8, "\"this network\" (0.0.0.0/8)"},
    {ip4(10, 0, 0, 0), 8, "private (10.0.0.0/8)"},
    {ip4(100, 64, 0, 0), 10, "shared address space, CGNAT (100.64.0.0/10)"},
    {ip4(127, 0, 0, 0), 8, "loopback (127.0.0.0/8)"},
    {ip4(169, 254, 0, 0), 16, "link-local (169.254.0.0/16)"},
    {ip4(172, 16, 0, 0), 12, "private (172.16.0.0/12)"},
    {ip4(192, 0, 0, 0), 24, "IETF protocol assignments (192.0.0.0/24)"},
    {ip4(192, 0, 2, 0), 24, "documentation (192.0.2.0/24)"},
    {ip4(192, 88, 99, 0), 24, "deprecated 6to4 relay anycast (192.88.99.0/24)"},
    {ip4(192, 168, 0, 0), 16, "private (192.168.0.0/16)"},
    {ip4(198, 18, 0, 0), 15, "benchmarking (198.18.0.0/15)"},
    {ip4(198, 51, 100, 0), 24, "documentation (198.51.100.0/24)"},
    {ip4(203, 0, 113, 0), 24, "documentation (203.0.113.0/24)"},
    {ip4(224, 0, 0, 0), 4, "multicast (224.0.0.0/4)"},
    {ip4(255, 255, 255, 255), 32, "broadcast (255.255.255.255)"},
    {ip4(240, 0, 0, 0), 4, "reserved (240.0.0.0/4)"},
};

struct Range6 {
  std::array<std::uint8_t, 16> prefix;
  int length;
  const char* what;
};

// The IANA IPv6 Special-Purpose Address Registry's blocks that are not globally reachable,
// plus the spaces outside global unicast that have a name. Anything else outside 2000::/3 is
// refused as reserved (kGlobalUnicast below). Blocks that embed an IPv4 address are handled
// apart (ipv6_special).
constexpr Range6 kSpecial6[] = {
    {{}, 128, "unspecified (::)"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback (::1)"},
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, "local-use NAT64 (64:ff9b:1::/48)"},
    {{0x01, 0x00}, 64, "discard-only (100::/64)"},
    {{0xfe, 0x80}, 10, "link-local (fe80::/10)"},
    {{0xfe, 0xc0}, 10, "deprecated site-local (fec0::/10)"},
    {{0xfc, 0x00}, 7, "unique local (fc00::/7)"},
    {{0xff, 0x00}, 8, "multicast (ff00::/8)"},
    {{0x20, 0x01, 0x00, 0x00}, 32, "Teredo (2001::/32)"},
    {{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, "benchmarking (2001:2::/48)"},
    {{0x20, 0x01, 0x00, 0x10}, 28, "deprecated ORCHID (2001:10::/28)"},
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation (2001:db8::/32)"},
    {{0x3f, 0xff, 0x00}, 20, "documentation (3fff::/20)"},
};
constexpr Range6 kGlobalUnicast = {{0x20}, 3, "reserved (outside 2000::/3, the global unicast space)"};

bool in_range(std::span<const std::uint8_t> address, std::span<const std::uint8_t> prefix, int length) {
  const int whole = length / 8;
  if (std::memcmp(address.data(), prefix.data(), static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (address[static_cast<std::size_t>(whole)] & mask) == (prefix[static_cast<std::size_t>(whole)] & mask);
}

const char* ipv4_special(std::span<const std::uint8_t> bytes) {
  const std::uint32_t value = ip4(bytes[0], bytes[1], bytes[2], bytes[3]);
  for (const Range4& range : kSpecial4) {
    const std::uint32_t mask = range.length == 0 ? 0 : ~std::uint32_t{0} << (32 - range.length);
    if ((value & mask) == range.prefix) return range.what;
  }
  return nullptr;
}

// An IPv6 address that stands for an IPv4 one is as good as that IPv4 address.
struct Embedding {
  std::array<std::uint8_t, 16> prefix;
  int length;
  std::size_t ipv4_at;  // where the IPv4 address sits
  const char* name;
};
constexpr Embedding kEmbeddings[] = {
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, 12, "IPv4-mapped"},
    {{0x00, 0x64, 0xff, 0x9b}, 96, 12, "NAT64"},  // 64:ff9b::/96, RFC 6052
    {{0x20, 0x02}, 16, 2, "6to4"},                // 2002::/16, RFC 3056
};

std::string ipv6_special(std::span<const std::uint8_t> bytes) {
  for (const Embedding& e : kEmbeddings) {
    if (!in_range(bytes, e.prefix, e.length)) continue;
    const char* why = ipv4_special(bytes.subspan(e.ipv4_at, 4));
    return why == nullptr ? std::string() : std::string(e.name) + ": " + why;
  }
  for (const Range6& range : kSpecial6)
    if (in_range(bytes, range.prefix, range.length)) return range.what;
  if (!in_range(bytes, kGlobalUnicast.prefix, kGlobalUnicast.length)) return kGlobalUnicast.what;
  return {};
}

}  // namespace

std::string special_purpose(const Address& address) {
  if (address.family == AF_INET) {
    const char* why = ipv4_special(std::span(address.bytes).first(4));
    return why == nullptr ? std::string() : why;
  }
  if (address.family == AF_INET6) return ipv6_special(address.bytes);
  return "not an IPv4 or IPv6 address";
}

}  // namespace xmppd::s2s
