// Which addresses the s2s worker may connect to.
//
// DNS is written by whoever controls a remote domain. Without a check, any peer could point
// an SRV or A record at 10.0.0.5:6379 or 127.0.0.1:25 and have the worker connect there on
// its behalf (an inbound db:result is enough to trigger it). So the worker connects only to
// addresses that are public unicast: not loopback, private, link-local, unique local,
// shared (CGNAT), multicast, unspecified, reserved, documentation or benchmarking space
// (the IANA special-purpose registries). Addresses that embed an IPv4 address
// (IPv4-mapped, NAT64, 6to4) are judged by the address they lead to.
//
// Trusts nothing: the input is a DNS answer or a peer's address.
#pragma once

#include <string>

#include "s2s-worker/dns_answer.h"

namespace xmppd::s2s {

// Why `address` is not a public unicast address, e.g. "loopback (127.0.0.0/8)" or
// "IPv4-mapped: private (10.0.0.0/8)"; "" when it is one. An unknown family is refused.
std::string special_purpose(const Address& address);

}  // namespace xmppd::s2s
