// X-Forwarded-For from trusted proxies (forwarded.h says what is trusted).
#include "http/forwarded.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace xmppd::http {
namespace {

bool in_net(const IpAddress& a, const IpAddress& prefix, unsigned bits) {
  if (a.v6 != prefix.v6) return false;
  const unsigned whole = bits / 8, rest = bits % 8;
  if (std::memcmp(a.bytes.data(), prefix.bytes.data(), whole) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.bytes[whole] & mask) == (prefix.bytes[whole] & mask);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The entries of X-Forwarded-For, left to right; false when one is not an IP address or the
// header is over the bounds.
bool split_addresses(std::string_view header, std::vector<IpAddress>& out, std::string& problem) {
  if (header.size() > kMaxForwardedBytes) {
    problem = "X-Forwarded-For is over " + std::to_string(kMaxForwardedBytes) + " bytes";
    return false;
  }
  while (true) {
    const std::size_t comma = header.find(',');
    const std::string_view entry = trim(header.substr(0, comma));
    if (out.size() == kMaxForwardedEntries) {
      problem = "X-Forwarded-For has over " + std::to_string(kMaxForwardedEntries) + " addresses";
      return false;
    }
    IpAddress a;
    // Only an address's characters: inet_pton would stop at a NUL and take what is before.
    if (entry.find_first_not_of("0123456789abcdefABCDEF.:") != std::string_view::npos || !parse_ip(entry, a)) {
      problem = "X-Forwarded-For has an entry that is not an IP address";
      return false;
    }
    out.push_back(a);
    if (comma == std::string_view::npos) return true;
    header.remove_prefix(comma + 1);
  }
}

bool lower_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char c = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (c != b[i]) return false;
  }
  return true;
}

}  // namespace

std::string address_text(const IpAddress& address) {
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), text, sizeof text);
  return text;
}

bool TrustedProxies::configure(const std::vector<std::string>& entries, std::string& error) {
  nets_.clear();
  for (const std::string& entry : entries) {
    const std::string_view e(entry);
    const std::size_t slash = e.find('/');
    Net net;
    bool ok = parse_ip(e.substr(0, slash), net.prefix);
    net.bits = net.prefix.v6 ? 128 : 32;
    if (ok && slash != std::string_view::npos) {
      const char* end = e.data() + e.size();
      unsigned bits = 0;
      ok = slash + 1 < e.size() && std::from_chars(e.data() + slash + 1, end, bits).ptr == end && bits <= net.bits;
      net.bits = bits;
    }
    if (!ok) {
      nets_.clear();
      error = "trusted_proxies: \"" + entry + "\" is not an IP address or address/prefix-length";
      return false;
    }
    nets_.push_back(net);
  }
  return true;
}

bool TrustedProxies::trusts(const IpAddress& address) const {
  for (const Net& n : nets_)
    if (in_net(address, n.prefix, n.bits)) return true;
  return false;
}

bool TrustedProxies::trusts(std::string_view address) const {
  IpAddress a;
  return address.find('\0') == std::string_view::npos && parse_ip(address, a) && trusts(a);
}

// As Prosody: the peer's address is put after the header's entries, and the last of them all
// that is not a trusted proxy wins; if every one is trusted, the peer's own address stays.
ForwardedPeer forwarded_peer(std::string_view peer, bool tls, std::span<const std::string_view> forwarded_for,
                             std::string_view forwarded_proto, const TrustedProxies& trusted) {
  ForwardedPeer out{std::string(peer), tls, false, {}};
  if (!trusted.trusts(peer)) return out;
  out.secure = tls || lower_equals(trim(forwarded_proto), "https");
  if (forwarded_for.empty()) return out;
  if (forwarded_for.size() > 1) {
    out.problem = "X-Forwarded-For is repeated";
    return out;
  }
  std::vector<IpAddress> chain;
  if (!split_addresses(forwarded_for.front(), chain, out.problem)) return out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (trusted.trusts(*it)) continue;
    out.address = address_text(*it);
    out.forwarded = true;
    break;
  }
  return out;
}

}  // namespace xmppd::http
