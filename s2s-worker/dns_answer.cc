#include "s2s-worker/dns_answer.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace xmppd::s2s {
namespace {

using Packet = std::span<const std::uint8_t>;

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kQuestionFixedSize = 4;  // QTYPE, QCLASS
constexpr std::size_t kRecordFixedSize = 10;   // TYPE, CLASS, TTL, RDLENGTH
constexpr std::size_t kSrvFixedSize = 6;       // priority, weight, port
constexpr std::size_t kTlsaFixedSize = 3;      // usage, selector, matching type
constexpr std::size_t kMaxNameWire = 255;      // RFC 1035 §2.3.4, length octets included
constexpr std::uint8_t kLabelTypeMask = 0xC0;
constexpr std::uint8_t kPointerType = 0xC0;
constexpr int kMaxJumps = 64;  // belt and braces: backward-only jumps already end
constexpr int kMaxCnames = 8;
constexpr std::uint16_t kTypeCname = 5;
constexpr std::uint16_t kClassIn = 1;

// Callers check bounds first.
std::uint16_t read_u16(Packet packet, std::size_t at) {
  return static_cast<std::uint16_t>((packet[at] << 8) | packet[at + 1]);
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Escapes what would make the dotted form ambiguous ('.' inside a label) or unprintable, so a
// single label "a.b" can never pass for the two labels "a" and "b".
void append_label(std::string& out, Packet label) {
  for (std::uint8_t byte : label) {
    if (byte == '.' || byte == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(byte));
    } else if (byte <= 0x20 || byte >= 0x7F) {
      out.push_back('\\');
      out.push_back(static_cast<char>('0' + byte / 100));
      out.push_back(static_cast<char>('0' + byte / 10 % 10));
      out.push_back(static_cast<char>('0' + byte % 10));
    } else {
      out.push_back(ascii_lower(static_cast<char>(byte)));
    }
  }
}

// Decodes the (possibly compressed) name starting at `offset` into lowercase dotted text.
// On success `end` is the first byte after the name's in-place part. Every pointer must jump
// strictly below the start of the stretch of labels it ends, so targets strictly decrease and
// no loop is possible; pointers into the header are refused as no encoder produces them.
bool read_name(Packet packet, std::size_t offset, std::size_t& end, std::string& name) {
  name.clear();
  std::size_t pos = offset;
  std::size_t floor = offset;
  std::size_t wire_size = 1;  // the terminating zero octet
  int jumps = 0;
  bool jumped = false;
  while (pos < packet.size()) {
    const std::uint8_t length = packet[pos];
    if ((length & kLabelTypeMask) == kPointerType) {
      if (pos + 1 >= packet.size()) return false;
      const std::size_t target = static_cast<std::size_t>(read_u16(packet, pos) & 0x3FFF);
      if (target >= floor || target < kHeaderSize || ++jumps > kMaxJumps) return false;
      if (!jumped) end = pos + 2;
      jumped = true;
      pos = floor = target;
      continue;
    }
    // 0x40 (RFC 6891 extended) and 0x80 (reserved) label types; also every length over 63.
    if ((length & kLabelTypeMask) != 0) return false;
    if (length == 0) {
      if (!jumped) end = pos + 1;
      return true;
    }
    wire_size += 1 + length;
    if (wire_size > kMaxNameWire || packet.size() - pos - 1 < length) return false;
    if (!name.empty()) name.push_back('.');
    append_label(name, packet.subspan(pos + 1, length));
    pos += 1 + length;
  }
  return false;
}

// A name that must fill rdata exactly. Cutting the packet at rdata's end keeps the in-place
// labels inside rdata; pointers only go backwards, so they are unaffected.
bool read_rdata_name(Packet packet, std::size_t start, std::size_t rdata_end, std::string& name) {
  std::size_t end = 0;
  return read_name(packet.first(rdata_end), start, end, name) && end == rdata_end;
}

std::string normalize(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

struct Record {
  std::string owner;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::size_t rdata = 0;  // offset into the packet
  std::size_t rdlength = 0;
  std::string alias;  // the canonical name, for IN CNAME records
};

bool skip_questions(Packet packet, std::size_t count, std::size_t& pos) {
  std::string scratch;
  for (std::size_t i = 0; i < count; ++i) {
    if (!read_name(packet, pos, pos, scratch) || packet.size() - pos < kQuestionFixedSize) return false;
    pos += kQuestionFixedSize;
  }
  return true;
}

bool read_record(Packet packet, std::size_t& pos, Record& record) {
  if (!read_name(packet, pos, pos, record.owner) || packet.size() - pos < kRecordFixedSize) return false;
  record.type = read_u16(packet, pos);
  record.klass = read_u16(packet, pos + 2);
  record.rdlength = read_u16(packet, pos + 8);  // after the 4-byte TTL
  pos += kRecordFixedSize;
  if (packet.size() - pos < record.rdlength) return false;
  record.rdata = pos;
  pos += record.rdlength;
  if (record.type == kTypeCname && record.klass == kClassIn) {
    return read_rdata_name(packet, record.rdata, pos, record.alias);
  }
  return true;
}

// The answer section's records; the authority and additional sections are never looked at.
bool read_answers(Packet packet, std::vector<Record>& records) {
  if (packet.size() < kHeaderSize) return false;
  std::size_t pos = kHeaderSize;
  if (!skip_questions(packet, read_u16(packet, 4), pos)) return false;
  const std::size_t answers = read_u16(packet, 6);
  for (std::size_t i = 0; i < answers; ++i) {
    Record record;
    if (!read_record(packet, pos, record)) return false;
    records.push_back(std::move(record));
  }
  return true;
}

// `name` followed by the names its CNAME chain leads to, at most kMaxCnames links.
std::vector<std::string> alias_chain(const std::vector<Record>& records, std::string_view name) {
  std::vector<std::string> chain{normalize(name)};
  for (int link = 0; link < kMaxCnames; ++link) {
    auto cname = std::find_if(records.begin(), records.end(), [&](const Record& r) {
      return r.type == kTypeCname && r.klass == kClassIn && r.owner == chain.back();
    });
    if (cname == records.end()) break;
    chain.push_back(cname->alias);
  }
  return chain;
}

bool in_chain(const std::vector<std::string>& chain, const std::string& owner) {
  return std::find(chain.begin(), chain.end(), owner) != chain.end();
}

bool read_srv(Packet packet, const Record& record, SrvRecord& srv) {
  if (record.rdlength < kSrvFixedSize) return false;
  srv.priority = read_u16(packet, record.rdata);
  srv.weight = read_u16(packet, record.rdata + 2);
  srv.port = read_u16(packet, record.rdata + 4);
  return read_rdata_name(packet, record.rdata + kSrvFixedSize, record.rdata + record.rdlength, srv.target);
}

bool read_address(Packet packet, const Record& record, Address& address) {
  const std::size_t size = record.type == kDnsTypeA ? 4 : 16;
  if (record.rdlength != size) return false;
  address.family = record.type == kDnsTypeA ? AF_INET : AF_INET6;
  address.bytes.fill(0);
  std::copy_n(packet.begin() + static_cast<std::ptrdiff_t>(record.rdata), size, address.bytes.begin());
  return true;
}

bool read_tlsa(Packet packet, const Record& record, TlsaRecord& tlsa) {
  if (record.rdlength < kTlsaFixedSize) return false;
  tlsa.usage = packet[record.rdata];
  tlsa.selector = packet[record.rdata + 1];
  tlsa.matching_type = packet[record.rdata + 2];
  Packet data = packet.subspan(record.rdata + kTlsaFixedSize, record.rdlength - kTlsaFixedSize);
  tlsa.data.assign(data.begin(), data.end());
  return true;
}

}  // namespace

std::string Address::text() const {
  if (family != AF_INET && family != AF_INET6) return {};
  char buffer[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, bytes.data(), buffer, sizeof buffer) == nullptr) return {};
  return buffer;
}

// Every IN record of the wanted type is checked, even for names we skip: a packet with a broken
// record is not one to trust for the others.
DnsParse parse_srv(std::span<const std::uint8_t> packet, std::string_view name, std::vector<SrvRecord>& out) {
  out.clear();
  std::vector<Record> records;
  if (!read_answers(packet, records)) return DnsParse::kMalformed;
  const std::vector<std::string> chain = alias_chain(records, name);
  for (const Record& record : records) {
    if (record.type != kDnsTypeSrv || record.klass != kClassIn) continue;
    SrvRecord srv{};
    if (!read_srv(packet, record, srv)) {
      out.clear();
      return DnsParse::kMalformed;
    }
    if (in_chain(chain, record.owner)) out.push_back(std::move(srv));
  }
  return DnsParse::kOk;
}

DnsParse parse_addresses(std::span<const std::uint8_t> packet, std::string_view name, std::uint16_t type,
                         std::vector<Address>& out) {
  out.clear();
  if (type != kDnsTypeA && type != kDnsTypeAaaa) return DnsParse::kMalformed;
  std::vector<Record> records;
  if (!read_answers(packet, records)) return DnsParse::kMalformed;
  const std::vector<std::string> chain = alias_chain(records, name);
  for (const Record& record : records) {
    if (record.type != type || record.klass != kClassIn) continue;
    Address address{};
    if (!read_address(packet, record, address)) {
      out.clear();
      return DnsParse::kMalformed;
    }
    if (in_chain(chain, record.owner)) out.push_back(address);
  }
  return DnsParse::kOk;
}

DnsParse parse_tlsa(std::span<const std::uint8_t> packet, std::string_view name, std::vector<TlsaRecord>& out) {
  out.clear();
  std::vector<Record> records;
  if (!read_answers(packet, records)) return DnsParse::kMalformed;
  const std::vector<std::string> chain = alias_chain(records, name);
  for (const Record& record : records) {
    if (record.type != kDnsTypeTlsa || record.klass != kClassIn) continue;
    TlsaRecord tlsa;
    if (!read_tlsa(packet, record, tlsa)) {
      out.clear();
      return DnsParse::kMalformed;
    }
    if (in_chain(chain, record.owner)) out.push_back(std::move(tlsa));
  }
  return DnsParse::kOk;
}

}  // namespace xmppd::s2s
