// The key under which one client or peer is counted against a per-address limit: the
// router's connection limits (stream/connection_limits.h), the auth helper's login slots
// and delays (auth-helper/login_limits.h) and the s2s worker's dialback verification shares
// (s2s-worker/verify_shares.h). Trusts nothing: the text is only parsed.
#pragma once

#include <string>
#include <string_view>

namespace xmppd::net {

// The unit one party is assumed to control: an IPv4 address (/32), or an IPv6 /64 (the
// smallest prefix a site is routed; every address inside it costs an attacker nothing). An
// IPv4-mapped IPv6 address counts as its IPv4 address. The key is printable, for logs:
// "192.0.2.7", "2001:db8:1:2::/64".
//
// `address` is an address as inet_ntop(3) writes it, with or without a "%zone" (dropped:
// link-local addresses fall into fe80::/64, the prefix every host on a link shares), and
// may be followed by " port N" as net::accept_connection writes a peer. Anything else maps
// to "?" and the text before any space, which no address's key starts with; so malformed
// input shares a key with nothing real and gains nothing from a changing port.
std::string prefix_key(std::string_view address);

}  // namespace xmppd::net
