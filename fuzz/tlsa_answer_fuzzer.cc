// TLSA answers as libunbound hands them to the s2s worker (parse_tlsa, s2s-worker/dns_answer.h).
//
// Input: one selector byte, then the raw packet. The selector picks the queried name (one the
// seeds answer, or an odd spelling of it). Beyond "no crash" it checks: a malformed packet
// yields nothing; no more records than the packet has room for, none with more data than the
// packet holds; the query name compared case-insensitively; and the records, written back
// into a plain uncompressed answer, parse to the same records.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "s2s-worker/dns_answer.h"

namespace {

using xmppd::s2s::DnsParse;
using xmppd::s2s::TlsaRecord;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

constexpr std::string_view kNames[] = {
    "_5269._tcp.xmpp.example.com", "_5269._TCP.Xmpp.Example.COM.", "_5270._tcp.example.com", "", "a",
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

void u16(std::vector<std::uint8_t>& out, std::size_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

// An answer to `name` holding `records`, every owner written out in full. Only called for
// names that are plain dotted labels (kNames), so no escapes need undoing.
std::vector<std::uint8_t> encode(std::string_view name, const std::vector<TlsaRecord>& records) {
  std::vector<std::uint8_t> owner;
  std::string_view rest = name;
  if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
  while (!rest.empty()) {
    std::size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    owner.push_back(static_cast<std::uint8_t>(label.size()));
    owner.insert(owner.end(), label.begin(), label.end());
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  owner.push_back(0);
  std::vector<std::uint8_t> out{0x12, 0x34, 0x81, 0x80, 0, 0};
  u16(out, records.size());
  out.insert(out.end(), {0, 0, 0, 0});
  for (const TlsaRecord& r : records) {
    out.insert(out.end(), owner.begin(), owner.end());
    u16(out, xmppd::s2s::kDnsTypeTlsa);
    u16(out, 1);
    out.insert(out.end(), {0, 0, 1, 0x2c});
    u16(out, 3 + r.data.size());
    out.insert(out.end(), {r.usage, r.selector, r.matching_type});
    out.insert(out.end(), r.data.begin(), r.data.end());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::span<const std::uint8_t> packet(data + 1, size - 1);
  const std::string_view name = kNames[data[0] % std::size(kNames)];
  // Header (12) plus the smallest record: a one-octet owner, 10 octets of fixed fields and
  // the 3 fixed octets of TLSA rdata.
  const std::size_t room = packet.size() > 12 ? (packet.size() - 12) / 14 : 0;

  std::vector<TlsaRecord> records{TlsaRecord{3, 1, 1, {1, 2, 3}}};
  if (xmppd::s2s::parse_tlsa(packet, name, records) == DnsParse::kMalformed) {
    check(records.empty(), "records left after kMalformed");
    return 0;
  }
  check(records.size() <= room, "more TLSA records than the packet holds");
  std::size_t total = 0;
  for (const TlsaRecord& r : records) total += r.data.size();
  check(total <= packet.size(), "more association data than the packet holds");

  std::vector<TlsaRecord> again;
  check(xmppd::s2s::parse_tlsa(packet, upper(name), again) == DnsParse::kOk && again == records,
        "query name compared case-sensitively");
  // Records of a 65535-octet rdata cannot be re-encoded past 64 KiB per packet; the inputs
  // here are far below that.
  if (name.empty() || records.size() > 1000) return 0;
  std::vector<TlsaRecord> round;
  check(xmppd::s2s::parse_tlsa(encode(name, records), name, round) == DnsParse::kOk && round == records,
        "records written back do not parse to the same records");
  return 0;
}
