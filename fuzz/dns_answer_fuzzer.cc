// DNS answers as libunbound hands them to the s2s worker (s2s-worker/dns_answer.h).
//
// Input: one selector byte, then the raw packet. The selector picks the queried name (one the
// seeds answer, or an odd spelling of it) and the record type. Beyond "no crash" it checks
// what the resolver relies on: a malformed packet yields nothing; every name returned is
// lowercase, without a trailing dot, in labels of 1 to 63 octets and 255 octets in all, its
// escapes well-formed; no more records than the packet has room for; addresses of the
// family asked for; the query name compared case-insensitively, with or without its dot.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "s2s-worker/dns_answer.h"

namespace {

using xmppd::s2s::Address;
using xmppd::s2s::DnsParse;
using xmppd::s2s::SrvRecord;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// Undoes the RFC 1035 §5.1 escapes and checks the labels; the dotted root is "".
void check_name(std::string_view text) {
  check(text.empty() || text.back() != '.' || (text.size() >= 2 && text[text.size() - 2] == '\\'),
        "name ends with an unescaped dot");
  if (text.empty()) return;
  std::size_t wire = 1, label = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    check(c > 0x20 && c < 0x7f, "unprintable byte in a name");
    check(!(c >= 'A' && c <= 'Z'), "upper case in a name");
    if (c == '.') {
      check(label >= 1, "empty label");
      wire += 1 + label;
      label = 0;
      continue;
    }
    if (c == '\\') {
      check(i + 1 < text.size(), "escape at the end of a name");
      char next = text[i + 1];
      if (next >= '0' && next <= '9') {
        check(i + 3 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 2])) &&
                  std::isdigit(static_cast<unsigned char>(text[i + 3])),
              "short \\DDD escape");
        int value = (next - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
        check(value <= 255, "\\DDD above 255");
        check(value <= 0x20 || value >= 0x7f, "\\DDD for a printable byte");
        i += 3;
      } else {
        check(next == '.' || next == '\\', "escape of an ordinary byte");
        i += 1;
      }
    }
    ++label;
  }
  check(label >= 1, "empty last label");
  wire += 1 + label;
  check(wire <= 255, "name longer than 255 octets");
}

void check_labels_short(std::string_view text) {
  // Each label at most 63 octets: count octets between unescaped dots.
  std::size_t label = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '.') {
      label = 0;
      continue;
    }
    if (text[i] == '\\') i += (i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9') ? 3 : 1;
    check(++label <= 63, "label longer than 63 octets");
  }
}

constexpr std::string_view kNames[] = {
    "_xmpp-server._tcp.example.com", "_XMPPS-SERVER._tcp.Example.COM.", "example.com", "EXAMPLE.com.", "", "a",
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

bool same(const std::vector<SrvRecord>& a, const std::vector<SrvRecord>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].priority != b[i].priority || a[i].weight != b[i].weight || a[i].port != b[i].port ||
        a[i].target != b[i].target)
      return false;
  return true;
}

bool same(const std::vector<Address>& a, const std::vector<Address>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].family != b[i].family || a[i].bytes != b[i].bytes) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t selector = data[0];
  std::span<const std::uint8_t> packet(data + 1, size - 1);
  const std::string_view name = kNames[(selector & 0x3f) % std::size(kNames)];
  // Header (12) plus the smallest record: a one-octet owner, 10 octets of fixed fields, and
  // 4 octets of A rdata or 7 of SRV rdata.
  const std::size_t room = packet.size() > 12 ? (packet.size() - 12) / 15 : 0;

  if ((selector & 0x80) == 0) {
    std::vector<SrvRecord> records{SrvRecord{1, 2, 3, "stale"}};
    DnsParse result = xmppd::s2s::parse_srv(packet, name, records);
    if (result == DnsParse::kMalformed) {
      check(records.empty(), "records left after kMalformed");
      return 0;
    }
    check(records.size() <= room, "more SRV records than the packet holds");
    for (const SrvRecord& record : records) {
      check_name(record.target);
      check_labels_short(record.target);
    }
    std::vector<SrvRecord> again;
    check(xmppd::s2s::parse_srv(packet, upper(name), again) == DnsParse::kOk && same(records, again),
          "query name compared case-sensitively");
  } else {
    const std::uint16_t type = (selector & 0x40) ? xmppd::s2s::kDnsTypeAaaa : xmppd::s2s::kDnsTypeA;
    std::vector<Address> addresses{Address{AF_INET, {}}};
    DnsParse result = xmppd::s2s::parse_addresses(packet, name, type, addresses);
    if (result == DnsParse::kMalformed) {
      check(addresses.empty(), "addresses left after kMalformed");
      return 0;
    }
    check(addresses.size() <= room, "more addresses than the packet holds");
    const int family = type == xmppd::s2s::kDnsTypeA ? AF_INET : AF_INET6;
    for (const Address& address : addresses) {
      check(address.family == family, "address of the wrong family");
      std::string text = address.text();
      std::uint8_t back[16] = {};
      check(inet_pton(family, text.c_str(), back) == 1, "address text does not parse");
      check(std::equal(back, back + (family == AF_INET ? 4 : 16), address.bytes.begin()),
            "address text is not the address");
    }
    std::vector<Address> again;
    check(xmppd::s2s::parse_addresses(packet, upper(name), type, again) == DnsParse::kOk && same(addresses, again),
          "query name compared case-sensitively");
  }
  return 0;
}
