// X-Forwarded-For from trusted proxies (forwarded.h says what is trusted).
#include "http/forwarded.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace xmppd::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One entry of X-Forwarded-For as an address: only an address's characters (inet_pton would
// stop at a NUL and take what is before), no port, no brackets.
bool entry_address(std::string_view entry, IpAddress& out) {
  return entry.find_first_not_of("0123456789abcdefABCDEF.:") == std::string_view::npos && parse_ip(entry, out);
}

// No address at all, which no allow-list or exemption matches, should a caller not refuse it.
ForwardedPeer refused(ForwardedPeer out, std::string why) {
  out.address.clear();
  out.problem = std::move(why);
  return out;
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
    IpNetwork net;
    if (!parse_network(entry, true, net)) {
      nets_.clear();
      error = "trusted_proxies: \"" + entry + "\" is not an IP address or address/prefix-length";
      return false;
    }
    nets_.push_back(net);
  }
  return true;
}

bool TrustedProxies::trusts(const IpAddress& address) const {
  for (const IpNetwork& n : nets_)
    if (n.contains(address)) return true;
  return false;
}

bool TrustedProxies::trusts(std::string_view address) const {
  IpAddress a;
  return address.find('\0') == std::string_view::npos && parse_ip(address, a) && trusts(a);
}

// As Prosody: the header's lines are joined with ',' (HAProxy adds a line where nginx appends),
// and the entries are walked from the right, past trusted proxies; the first other one is the
// client's, and what is to its left (the client's own, to be ignored) is not read. If every
// entry is a trusted proxy, the peer's own address stays. An entry in the client's place that
// is not an address, or a header over the bounds, refuses the request: falling back to the
// proxy's address would give a client behind it the proxy's (loopback) rights.
ForwardedPeer forwarded_peer(std::string_view peer, bool tls, std::span<const std::string_view> forwarded_for,
                             std::string_view forwarded_proto, const TrustedProxies& trusted) {
  ForwardedPeer out{std::string(peer), tls, false, {}};
  if (!trusted.trusts(peer) || forwarded_for.empty()) return out;
  std::string joined;
  for (std::size_t i = 0; i < forwarded_for.size(); ++i) {
    if (joined.size() + (i > 0 ? 1 : 0) + forwarded_for[i].size() > kMaxForwardedBytes) {
      return refused(std::move(out), "X-Forwarded-For is over " + std::to_string(kMaxForwardedBytes) + " bytes");
    }
    if (i > 0) joined += ',';
    joined += forwarded_for[i];
  }
  std::string_view rest(joined);
  for (std::size_t walked = 0;; ++walked) {
    if (walked == kMaxForwardedEntries) {
      return refused(std::move(out),
                     "X-Forwarded-For has over " + std::to_string(kMaxForwardedEntries) + " trusted proxies");
    }
    const std::size_t comma = rest.rfind(',');
    const std::string_view entry = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    IpAddress a;
    if (!entry_address(entry, a)) {
      return refused(std::move(out), "X-Forwarded-For's client entry is not an IP address");
    }
    if (!trusted.trusts(a)) {
      out.address = address_text(a);
      out.forwarded = true;
      break;
    }
    if (comma == std::string_view::npos) break;  // all trusted: the peer's own address stays
    rest = rest.substr(0, comma);
  }
  // X-Forwarded-Proto only with a valid X-Forwarded-For: a proxy configured to forward.
  out.secure = tls || lower_equals(trim(forwarded_proto), "https");
  return out;
}

}  // namespace xmppd::http
