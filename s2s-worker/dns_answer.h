// Reads the records the s2s worker needs (SRV, A, AAAA, TLSA) out of a raw DNS response.
//
// libunbound's event API hands its callback the answer as a wire-format packet (RFC 1035 §4).
// Those bytes come from the network, so this parser trusts nothing in them: every read is
// bounds-checked, compression pointers may only jump backwards (no loops), and names and labels
// are held to RFC 1035's limits (255 and 63 octets). It does no I/O and keeps no state.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "s2s-worker/srv_order.h"  // SrvRecord

namespace xmppd::s2s {

inline constexpr std::uint16_t kDnsTypeA = 1;
inline constexpr std::uint16_t kDnsTypeAaaa = 28;
inline constexpr std::uint16_t kDnsTypeSrv = 33;
inline constexpr std::uint16_t kDnsTypeTlsa = 52;

// One A or AAAA record's address.
struct Address {
  int family;                          // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes;  // network order; only the first 4 are used for AF_INET

  // "192.0.2.1" or "2001:db8::1" (inet_ntop's form); "" for an unknown family.
  std::string text() const;
};

// One TLSA record (RFC 6698 §2.1): what to match (usage, selector, matching type) and the
// certificate, key or digest to match it against. Values are as published: judging which are
// usable is for the caller (tls/dane.h).
struct TlsaRecord {
  std::uint8_t usage = 0;
  std::uint8_t selector = 0;
  std::uint8_t matching_type = 0;
  std::vector<std::uint8_t> data;

  bool operator==(const TlsaRecord&) const = default;
};

enum class DnsParse {
  kOk,         // `out` holds every matching record (possibly none)
  kMalformed,  // the packet is broken; `out` is empty
};

// Both functions take the records of one type from the ANSWER section whose owner name is
// `name` (ASCII case-insensitive, a trailing dot ignored) or is reached from `name` through at
// most 8 CNAME records of the same answer. Records of other names, types or classes than IN are
// ignored. Names are returned lowercase without the trailing dot; the root becomes "". Label
// bytes that a dotted name cannot show plainly are written RFC 1035 §5.1 style ("\." "\\" "\DDD").
// `out` is cleared first.

// SRV (RFC 2782) records.
DnsParse parse_srv(std::span<const std::uint8_t> packet, std::string_view name, std::vector<SrvRecord>& out);

// A (`type` == kDnsTypeA) or AAAA (`type` == kDnsTypeAaaa, RFC 3596) records. Any other `type`
// is a caller error and gives kMalformed.
DnsParse parse_addresses(std::span<const std::uint8_t> packet, std::string_view name, std::uint16_t type,
                         std::vector<Address>& out);

// TLSA (RFC 6698 §2) records. A record with less than its three fixed octets is malformed;
// one with no association data is returned as published (RFC 6698 does not forbid it, and it
// can match nothing).
DnsParse parse_tlsa(std::span<const std::uint8_t> packet, std::string_view name, std::vector<TlsaRecord>& out);

}  // namespace xmppd::s2s
