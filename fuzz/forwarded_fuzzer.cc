// X-Forwarded-For and X-Forwarded-Proto as a client (through a proxy) sends them
// (http/forwarded.h), against a trusted_proxies list from the input.
//
// Input: lines; the first is the trusted_proxies entries (space-separated), the second the TCP
// peer, the third X-Forwarded-Proto, each further line one X-Forwarded-For header.
// Invariants: an untrusted peer keeps its address and TLS state; a refused request has no
// address; X-Forwarded-Proto counts only with a valid X-Forwarded-For; a forwarded address
// parses as an IP address, is canonical and is not trusted; otherwise the peer's address stays.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/forwarded.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

std::vector<std::string_view> split(std::string_view s, char c) {
  std::vector<std::string_view> out;
  while (true) {
    const std::size_t at = s.find(c);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool tls = (data[0] & 1) != 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string_view> lines = split(input, '\n');
  std::vector<std::string> entries;
  for (std::string_view e : split(lines[0], ' '))
    if (!e.empty()) entries.emplace_back(e);
  xmppd::http::TrustedProxies trusted;
  std::string error;
  if (!trusted.configure(entries, error)) check(!error.empty() && trusted.empty(), "a refused list says why");
  const std::string_view peer = lines.size() > 1 ? lines[1] : "127.0.0.1";
  const std::string_view proto = lines.size() > 2 ? lines[2] : "";
  std::vector<std::string_view> xff;
  for (std::size_t i = 3; i < lines.size(); ++i) xff.push_back(lines[i]);
  const xmppd::http::ForwardedPeer p = xmppd::http::forwarded_peer(peer, tls, xff, proto, trusted);
  if (tls) check(p.secure, "TLS is always secure");
  if (!trusted.trusts(peer)) {
    check(p.address == peer && p.secure == tls && !p.forwarded && p.problem.empty(), "an untrusted peer is kept");
    return 0;
  }
  if (p.secure && !tls) check(!xff.empty() && p.problem.empty(), "X-Forwarded-Proto only with X-Forwarded-For");
  if (!p.problem.empty()) {
    check(p.address.empty() && !p.forwarded && p.secure == tls, "a refused request has no address");
    return 0;
  }
  if (!p.forwarded) {
    check(p.address == peer, "the peer's address stays");
    return 0;
  }
  check(!xff.empty(), "forwarded from a header");
  xmppd::http::IpAddress a;
  check(xmppd::http::parse_ip(p.address, a), "a forwarded address parses");
  check(xmppd::http::address_text(a) == p.address, "a forwarded address is canonical");
  check(!trusted.trusts(a), "a forwarded address is not a trusted proxy");
  return 0;
}
