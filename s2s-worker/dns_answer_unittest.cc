// The DNS answer parser against hand-built packets: what it takes, what it ignores, and that
// hostile packets (truncations, pointer loops, oversized names) are refused without harm.
#include "s2s-worker/dns_answer.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::s2s {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint16_t kTypeCname = 5;
constexpr std::uint16_t kTypeTxt = 16;
constexpr std::uint16_t kClassIn = 1;
constexpr std::uint16_t kClassCh = 3;
constexpr std::size_t kQuestionOffset = 12;  // where the first question's name starts

// Appends DNS wire-format pieces; offsets it reports are absolute, for compression pointers.
class Wire {
 public:
  std::size_t here() const { return bytes_.size(); }
  const Bytes& bytes() const { return bytes_; }

  Wire& u8(std::uint8_t value) {
    bytes_.push_back(value);
    return *this;
  }
  Wire& u16(std::uint16_t value) { return u8(static_cast<std::uint8_t>(value >> 8)).u8(value & 0xFF); }
  Wire& u32(std::uint32_t value) { return u16(static_cast<std::uint16_t>(value >> 16)).u16(value & 0xFFFF); }
  Wire& raw(const Bytes& more) {
    bytes_.insert(bytes_.end(), more.begin(), more.end());
    return *this;
  }

  // Labels of a dotted name, without the terminating zero (so a pointer may follow).
  Wire& labels(std::string_view dotted) {
    while (!dotted.empty()) {
      const std::size_t dot = dotted.find('.');
      const std::string_view label = dotted.substr(0, dot);
      u8(static_cast<std::uint8_t>(label.size()));
      bytes_.insert(bytes_.end(), label.begin(), label.end());
      dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    }
    return *this;
  }
  Wire& name(std::string_view dotted) { return labels(dotted).u8(0); }
  Wire& pointer(std::size_t offset) { return u16(static_cast<std::uint16_t>(0xC000 | offset)); }

  Wire& header(std::uint16_t questions, std::uint16_t answers) {
    return u16(0x1234).u16(0x8180).u16(questions).u16(answers).u16(0).u16(0);
  }
  Wire& question(std::string_view dotted, std::uint16_t type) { return name(dotted).u16(type).u16(kClassIn); }
  // TYPE, CLASS, TTL and RDLENGTH, after the owner name the caller wrote.
  Wire& fixed(std::uint16_t type, std::uint16_t klass, std::size_t rdlength) {
    return u16(type).u16(klass).u32(300).u16(static_cast<std::uint16_t>(rdlength));
  }
  Wire& rdata(std::uint16_t type, std::uint16_t klass, const Bytes& data) {
    return fixed(type, klass, data.size()).raw(data);
  }

 private:
  Bytes bytes_;
};

Bytes srv_rdata(std::uint16_t priority, std::uint16_t weight, std::uint16_t port, std::string_view target) {
  return Wire().u16(priority).u16(weight).u16(port).name(target).bytes();
}

Bytes name_rdata(std::string_view target) { return Wire().name(target).bytes(); }

std::string label_of(std::size_t size) { return std::string(size, 'a'); }

constexpr std::string_view kService = "_xmpp-server._tcp.example.com";

std::vector<SrvRecord> srv_ok(const Bytes& packet, std::string_view name = kService) {
  std::vector<SrvRecord> out;
  EXPECT_EQ(parse_srv(packet, name, out), DnsParse::kOk);
  return out;
}

std::vector<std::string> addresses_ok(const Bytes& packet, std::string_view name, std::uint16_t type) {
  std::vector<Address> out;
  EXPECT_EQ(parse_addresses(packet, name, type, out), DnsParse::kOk);
  std::vector<std::string> texts;
  for (const Address& address : out) texts.push_back(address.text());
  return texts;
}

bool srv_malformed(const Bytes& packet) {
  std::vector<SrvRecord> out{{1, 2, 3, "stale"}};
  return parse_srv(packet, kService, out) == DnsParse::kMalformed && out.empty();
}

bool a_malformed(const Bytes& packet, std::string_view name = "example.com") {
  std::vector<Address> out;
  return parse_addresses(packet, name, kDnsTypeA, out) == DnsParse::kMalformed && out.empty();
}

// A typical compressed SRV answer: owners point at the question, targets share its suffix.
Bytes compressed_srv_packet() {
  Wire wire;
  wire.header(1, 2).question(kService, kDnsTypeSrv);
  const std::size_t example_com = kQuestionOffset + 1 + 12 + 1 + 4;  // past "_xmpp-server" and "_tcp"
  wire.pointer(kQuestionOffset).fixed(kDnsTypeSrv, kClassIn, 6 + 6 + 2);
  wire.u16(10).u16(60).u16(5269).labels("xmpp1").pointer(example_com);
  wire.pointer(kQuestionOffset).fixed(kDnsTypeSrv, kClassIn, 6 + 6 + 2);
  wire.u16(20).u16(0).u16(5270).labels("xmpp2").pointer(example_com);
  return wire.bytes();
}

// ---- What is taken -------------------------------------------------------------------------

TEST(DnsAnswerTest, SrvRecordsUncompressed) {
  Wire wire;
  wire.header(1, 3).question(kService, kDnsTypeSrv);
  wire.name(kService).rdata(kDnsTypeSrv, kClassIn, srv_rdata(10, 60, 5269, "XMPP1.Example.COM"));
  wire.name(kService).rdata(kDnsTypeSrv, kClassIn, srv_rdata(10, 40, 5269, "xmpp2.example.com"));
  wire.name(kService).rdata(kDnsTypeSrv, kClassIn, srv_rdata(20, 0, 443, "backup.example.net"));
  const std::vector<SrvRecord> records = srv_ok(wire.bytes());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].priority, 10);
  EXPECT_EQ(records[0].weight, 60);
  EXPECT_EQ(records[0].port, 5269);
  EXPECT_EQ(records[0].target, "xmpp1.example.com");
  EXPECT_EQ(records[1].weight, 40);
  EXPECT_EQ(records[1].target, "xmpp2.example.com");
  EXPECT_EQ(records[2].priority, 20);
  EXPECT_EQ(records[2].port, 443);
  EXPECT_EQ(records[2].target, "backup.example.net");
}

TEST(DnsAnswerTest, SrvRecordsCompressed) {
  const std::vector<SrvRecord> records = srv_ok(compressed_srv_packet());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].target, "xmpp1.example.com");
  EXPECT_EQ(records[0].port, 5269);
  EXPECT_EQ(records[1].target, "xmpp2.example.com");
  EXPECT_EQ(records[1].priority, 20);
  EXPECT_EQ(records[1].port, 5270);
}

TEST(DnsAnswerTest, SrvRootTargetBecomesEmpty) {
  Wire wire;
  wire.header(1, 1).question(kService, kDnsTypeSrv);
  wire.pointer(kQuestionOffset).rdata(kDnsTypeSrv, kClassIn, srv_rdata(0, 0, 0, ""));
  const std::vector<SrvRecord> records = srv_ok(wire.bytes());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].target, "");
  EXPECT_EQ(records[0].port, 0);
}

TEST(DnsAnswerTest, OwnerNameComparesCaseInsensitivelyAndIgnoresTrailingDot) {
  Wire wire;
  wire.header(0, 1);
  wire.name("_XMPP-Server._TCP.Example.COM").rdata(kDnsTypeSrv, kClassIn, srv_rdata(1, 1, 5269, "a.example.com"));
  EXPECT_EQ(srv_ok(wire.bytes(), "_xmpp-server._tcp.EXAMPLE.com.").size(), 1u);
  EXPECT_EQ(srv_ok(wire.bytes(), "_xmpp-server._tcp.example.com").size(), 1u);
}

TEST(DnsAnswerTest, ARecords) {
  Wire wire;
  wire.header(1, 2).question("example.com", kDnsTypeA);
  wire.pointer(kQuestionOffset).rdata(kDnsTypeA, kClassIn, {192, 0, 2, 1});
  wire.pointer(kQuestionOffset).rdata(kDnsTypeA, kClassIn, {127, 0, 0, 1});
  std::vector<Address> out;
  ASSERT_EQ(parse_addresses(wire.bytes(), "example.com", kDnsTypeA, out), DnsParse::kOk);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].family, AF_INET);
  EXPECT_EQ(out[0].text(), "192.0.2.1");
  EXPECT_EQ(out[1].text(), "127.0.0.1");
}

TEST(DnsAnswerTest, AaaaRecords) {
  Bytes loopback(16, 0);
  loopback[15] = 1;
  const Bytes documentation{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
  Wire wire;
  wire.header(1, 2).question("example.com", kDnsTypeAaaa);
  wire.pointer(kQuestionOffset).rdata(kDnsTypeAaaa, kClassIn, loopback);
  wire.pointer(kQuestionOffset).rdata(kDnsTypeAaaa, kClassIn, documentation);
  std::vector<Address> out;
  ASSERT_EQ(parse_addresses(wire.bytes(), "example.com", kDnsTypeAaaa, out), DnsParse::kOk);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].family, AF_INET6);
  EXPECT_EQ(out[0].text(), "::1");
  EXPECT_EQ(out[1].text(), "2001:db8::5");
}

TEST(DnsAnswerTest, TextOfUnknownFamilyIsEmpty) {
  const Address address{0, {}};
  EXPECT_EQ(address.text(), "");
}

TEST(DnsAnswerTest, FollowsCnameChain) {
  Wire wire;
  wire.header(1, 4).question("example.com", kDnsTypeA);
  wire.pointer(kQuestionOffset).rdata(kTypeCname, kClassIn, name_rdata("a.example.net"));
  const std::size_t a_example_net = wire.here() - name_rdata("a.example.net").size();
  wire.pointer(a_example_net).rdata(kTypeCname, kClassIn, Wire().labels("b").pointer(kQuestionOffset).bytes());
  wire.name("B.Example.COM").rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  wire.name("elsewhere.example.org").rdata(kDnsTypeA, kClassIn, {10, 9, 9, 9});
  EXPECT_EQ(addresses_ok(wire.bytes(), "example.com", kDnsTypeA), std::vector<std::string>{"10.0.0.1"});
  // Asked about a name in the middle of the chain, only what it leads to counts.
  EXPECT_EQ(addresses_ok(wire.bytes(), "b.example.com", kDnsTypeA), std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(addresses_ok(wire.bytes(), "elsewhere.example.org", kDnsTypeA), std::vector<std::string>{"10.9.9.9"});
}

// name0 -> name1 -> ... -> name<links>, which holds the A record.
Bytes cname_chain_packet(int links) {
  Wire wire;
  wire.header(0, static_cast<std::uint16_t>(links + 1));
  for (int i = 0; i < links; ++i) {
    wire.name("name" + std::to_string(i) + ".test")
        .rdata(kTypeCname, kClassIn, name_rdata("name" + std::to_string(i + 1) + ".test"));
  }
  wire.name("name" + std::to_string(links) + ".test").rdata(kDnsTypeA, kClassIn, {192, 0, 2, 7});
  return wire.bytes();
}

TEST(DnsAnswerTest, FollowsAtMostEightCnames) {
  EXPECT_EQ(addresses_ok(cname_chain_packet(8), "name0.test", kDnsTypeA), std::vector<std::string>{"192.0.2.7"});
  EXPECT_TRUE(addresses_ok(cname_chain_packet(9), "name0.test", kDnsTypeA).empty());
}

TEST(DnsAnswerTest, CnameLoopEnds) {
  Wire wire;
  wire.header(0, 2);
  wire.name("a.test").rdata(kTypeCname, kClassIn, name_rdata("b.test"));
  wire.name("b.test").rdata(kTypeCname, kClassIn, name_rdata("a.test"));
  EXPECT_TRUE(addresses_ok(wire.bytes(), "a.test", kDnsTypeA).empty());
}

// ---- TLSA ----------------------------------------------------------------------------------

constexpr std::string_view kTlsaName = "_5269._tcp.xmpp.example.com";

TEST(DnsAnswerTlsaTest, RecordsAreTakenAsPublished) {
  Wire wire;
  wire.header(1, 4).question(kTlsaName, kDnsTypeTlsa);
  wire.pointer(kQuestionOffset).rdata(kDnsTypeTlsa, kClassIn, {3, 1, 1, 0xde, 0xad, 0xbe, 0xef});
  wire.pointer(kQuestionOffset).rdata(kDnsTypeTlsa, kClassIn, {2, 0, 0, 0x30, 0x82});
  // Usages, selectors and matching types the client does not know are still records.
  wire.pointer(kQuestionOffset).rdata(kDnsTypeTlsa, kClassIn, {255, 7, 9});
  wire.name("_5269._tcp.other.example.com").rdata(kDnsTypeTlsa, kClassIn, {3, 1, 1, 1});
  std::vector<TlsaRecord> out;
  ASSERT_EQ(parse_tlsa(wire.bytes(), "_5269._TCP.xmpp.Example.com.", out), DnsParse::kOk);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], (TlsaRecord{3, 1, 1, {0xde, 0xad, 0xbe, 0xef}}));
  EXPECT_EQ(out[1], (TlsaRecord{2, 0, 0, {0x30, 0x82}}));
  EXPECT_EQ(out[2], (TlsaRecord{255, 7, 9, {}}));
}

TEST(DnsAnswerTlsaTest, FollowsCname) {
  Wire wire;
  wire.header(1, 2).question(kTlsaName, kDnsTypeTlsa);
  wire.pointer(kQuestionOffset).rdata(kTypeCname, kClassIn, name_rdata("tlsa.example.net"));
  wire.name("tlsa.example.net").rdata(kDnsTypeTlsa, kClassIn, {3, 0, 1, 0xaa});
  std::vector<TlsaRecord> out;
  ASSERT_EQ(parse_tlsa(wire.bytes(), kTlsaName, out), DnsParse::kOk);
  EXPECT_EQ(out, (std::vector<TlsaRecord>{{3, 0, 1, {0xaa}}}));
}

TEST(DnsAnswerTlsaTest, OtherTypesAndClassesAreIgnored) {
  Wire wire;
  wire.header(1, 3).question(kTlsaName, kDnsTypeTlsa);
  wire.pointer(kQuestionOffset).rdata(kTypeTxt, kClassIn, {2, 'h', 'i'});
  wire.pointer(kQuestionOffset).rdata(kDnsTypeTlsa, kClassCh, {3, 1});  // CH is never looked into
  wire.pointer(kQuestionOffset).rdata(kDnsTypeSrv, kClassIn, srv_rdata(0, 0, 5269, "x.example.com"));
  std::vector<TlsaRecord> out{{3, 1, 1, {1}}};
  ASSERT_EQ(parse_tlsa(wire.bytes(), kTlsaName, out), DnsParse::kOk);
  EXPECT_TRUE(out.empty());
}

TEST(DnsAnswerTlsaTest, RecordShorterThanItsFixedPartIsMalformed) {
  for (const Bytes& rdata : {Bytes{}, Bytes{3}, Bytes{3, 1}}) {
    Wire wire;
    wire.header(1, 2).question(kTlsaName, kDnsTypeTlsa);
    wire.pointer(kQuestionOffset).rdata(kDnsTypeTlsa, kClassIn, {3, 1, 1, 0xaa});
    // Even under another owner: a broken record spoils the packet.
    wire.name("elsewhere.example.com").rdata(kDnsTypeTlsa, kClassIn, rdata);
    std::vector<TlsaRecord> out{{3, 1, 1, {1}}};
    EXPECT_EQ(parse_tlsa(wire.bytes(), kTlsaName, out), DnsParse::kMalformed) << rdata.size();
    EXPECT_TRUE(out.empty());
  }
}

TEST(DnsAnswerTlsaTest, RdataPastTheEndIsMalformed) {
  Wire wire;
  wire.header(1, 1).question(kTlsaName, kDnsTypeTlsa);
  wire.pointer(kQuestionOffset).fixed(kDnsTypeTlsa, kClassIn, 40).raw({3, 1, 1, 0xaa});
  std::vector<TlsaRecord> out;
  EXPECT_EQ(parse_tlsa(wire.bytes(), kTlsaName, out), DnsParse::kMalformed);
  EXPECT_TRUE(out.empty());
}

// ---- What is ignored -----------------------------------------------------------------------

TEST(DnsAnswerTest, IgnoresOtherNamesClassesAndTypes) {
  Wire wire;
  wire.header(1, 6).question("example.com", kDnsTypeA);
  wire.name("other.example.com").rdata(kDnsTypeA, kClassIn, {10, 0, 0, 2});
  wire.name("example.com.evil").rdata(kDnsTypeA, kClassIn, {10, 0, 0, 3});
  wire.pointer(kQuestionOffset).rdata(kDnsTypeA, kClassCh, {10, 0, 0, 4});
  wire.pointer(kQuestionOffset).rdata(kDnsTypeA, kClassCh, {1, 2, 3, 4, 5});  // CH is never looked into
  wire.pointer(kQuestionOffset).rdata(kTypeTxt, kClassIn, {3, 'a', 'b', 'c'});
  wire.pointer(kQuestionOffset).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_EQ(addresses_ok(wire.bytes(), "example.com", kDnsTypeA), std::vector<std::string>{"10.0.0.1"});
  EXPECT_TRUE(addresses_ok(wire.bytes(), "example.com", kDnsTypeAaaa).empty());
  EXPECT_TRUE(srv_ok(wire.bytes(), "example.com").empty());
}

TEST(DnsAnswerTest, CnameOfClassChIsNotFollowed) {
  Wire wire;
  wire.header(0, 2);
  wire.name("example.com").rdata(kTypeCname, kClassCh, name_rdata("target.test"));
  wire.name("target.test").rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_TRUE(addresses_ok(wire.bytes(), "example.com", kDnsTypeA).empty());
}

TEST(DnsAnswerTest, EmptyAnswer) {
  Wire wire;
  wire.header(1, 0).question(kService, kDnsTypeSrv);
  EXPECT_TRUE(srv_ok(wire.bytes()).empty());
}

TEST(DnsAnswerTest, DotInsideLabelDoesNotPassForTwoLabels) {
  Wire wire;
  wire.header(0, 1);
  wire.u8(11).raw({'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm'}).u8(0);
  wire.rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_TRUE(addresses_ok(wire.bytes(), "example.com", kDnsTypeA).empty());
  EXPECT_EQ(addresses_ok(wire.bytes(), "example\\.com", kDnsTypeA), std::vector<std::string>{"10.0.0.1"});
}

TEST(DnsAnswerTest, NameOfExactly255OctetsIsAccepted) {
  // 3 * (1 + 63) + (1 + 61) + 1 = 255
  const std::string name = label_of(63) + "." + label_of(63) + "." + label_of(63) + "." + label_of(61);
  Wire wire;
  wire.header(0, 1).name(name).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_EQ(addresses_ok(wire.bytes(), name, kDnsTypeA), std::vector<std::string>{"10.0.0.1"});
}

TEST(DnsAnswerTest, UnsupportedAddressTypeIsRefused) {
  Wire wire;
  wire.header(0, 0);
  std::vector<Address> out;
  EXPECT_EQ(parse_addresses(wire.bytes(), "example.com", kDnsTypeSrv, out), DnsParse::kMalformed);
}

// ---- What is refused -----------------------------------------------------------------------

TEST(DnsAnswerMalformedTest, TruncatedHeader) {
  EXPECT_TRUE(srv_malformed({}));
  const Bytes header = Wire().header(0, 0).bytes();
  EXPECT_TRUE(srv_malformed(Bytes(header.begin(), header.end() - 1)));
  EXPECT_TRUE(a_malformed(Bytes(header.begin(), header.begin() + 5)));
}

TEST(DnsAnswerMalformedTest, TruncatedQuestion) {
  const Bytes full = Wire().header(1, 0).question(kService, kDnsTypeSrv).bytes();
  EXPECT_TRUE(srv_malformed(Bytes(full.begin(), full.end() - 1)));                          // QCLASS cut
  EXPECT_TRUE(srv_malformed(Bytes(full.begin(), full.end() - 5)));                          // terminating zero missing
  EXPECT_TRUE(srv_malformed(Bytes(full.begin(), full.begin() + 20)));                       // inside a label
  EXPECT_TRUE(srv_malformed(Wire().header(2, 0).question(kService, kDnsTypeSrv).bytes()));  // count too high
}

TEST(DnsAnswerMalformedTest, TruncatedRecords) {
  const Bytes full = compressed_srv_packet();
  for (std::size_t cut = 1; cut < full.size() - (Wire().header(1, 0).question(kService, 33).here()); ++cut) {
    EXPECT_TRUE(srv_malformed(Bytes(full.begin(), full.end() - static_cast<std::ptrdiff_t>(cut)))) << cut;
  }
}

TEST(DnsAnswerMalformedTest, RdlengthPastEnd) {
  Wire wire;
  wire.header(1, 1).question("example.com", kDnsTypeA);
  wire.pointer(kQuestionOffset).fixed(kDnsTypeA, kClassIn, 4).u8(10).u8(0).u8(0);
  EXPECT_TRUE(a_malformed(wire.bytes()));
  // Even for a record that would be ignored.
  Wire other;
  other.header(0, 1).name("x.test").fixed(kTypeTxt, kClassCh, 200).u8(1);
  EXPECT_TRUE(a_malformed(other.bytes()));
}

TEST(DnsAnswerMalformedTest, PointerToItself) {
  Wire wire;
  wire.header(0, 1);
  wire.pointer(wire.here()).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_TRUE(a_malformed(wire.bytes()));
}

TEST(DnsAnswerMalformedTest, TwoPointersAtEachOther) {
  Wire wire;
  wire.header(0, 1);
  const std::size_t first = wire.here();
  wire.pointer(first + 2).pointer(first).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_TRUE(a_malformed(wire.bytes()));
  // The same pair, entered from a later name through a backward pointer.
  Wire later;
  later.header(1, 1);
  const std::size_t pair = later.here();
  later.pointer(pair + 2).pointer(pair).u16(kDnsTypeA).u16(kClassIn);
  later.pointer(pair).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_TRUE(a_malformed(later.bytes()));
}

TEST(DnsAnswerMalformedTest, PointerBackToStartOfItsOwnName) {
  // "a" followed by a pointer to the "a": backward, yet a loop.
  Wire wire;
  wire.header(0, 1);
  const std::size_t start = wire.here();
  wire.labels("a").pointer(start).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_TRUE(a_malformed(wire.bytes()));
}

TEST(DnsAnswerMalformedTest, ForwardPointer) {
  Wire wire;
  wire.header(0, 1);
  const std::size_t owner = wire.here();
  // Owner points past its own record, at a valid name appended after it.
  const std::size_t after = owner + 2 + 10 + 4;
  wire.pointer(after).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1}).name("example.com");
  ASSERT_EQ(wire.here(), after + 13);
  EXPECT_TRUE(a_malformed(wire.bytes()));
}

TEST(DnsAnswerMalformedTest, PointerIntoHeaderOrCut) {
  Wire header_pointer;
  header_pointer.header(0, 1).pointer(2).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_TRUE(a_malformed(header_pointer.bytes()));
  Wire cut;
  cut.header(1, 0).u8(0xC0);
  EXPECT_TRUE(a_malformed(cut.bytes()));
}

TEST(DnsAnswerMalformedTest, LabelOver63) {
  // A length octet over 63 always has one of the two high bits set.
  Wire wire;
  wire.header(0, 1).u8(64).raw(Bytes(64, 'a')).u8(0).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_TRUE(a_malformed(wire.bytes()));
  Wire max;
  max.header(0, 1).name(label_of(63)).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_EQ(addresses_ok(max.bytes(), label_of(63), kDnsTypeA), std::vector<std::string>{"10.0.0.1"});
}

TEST(DnsAnswerMalformedTest, ExtendedAndReservedLabelTypes) {
  for (std::uint8_t type : {0x40, 0x41, 0x80, 0xBF}) {
    Wire wire;
    wire.header(0, 1).u8(type).u8(1).u8(0).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
    EXPECT_TRUE(a_malformed(wire.bytes())) << int{type};
  }
}

TEST(DnsAnswerMalformedTest, NameOver255) {
  // 4 * (1 + 63) + 1 = 257
  const std::string name = label_of(63) + "." + label_of(63) + "." + label_of(63) + "." + label_of(63);
  Wire wire;
  wire.header(0, 1).name(name).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_TRUE(a_malformed(wire.bytes(), name));
  // 253 + 2 = 255 fits; one more octet does not, even when the excess arrives through a pointer.
  const std::string long_name = label_of(63) + "." + label_of(63) + "." + label_of(63) + "." + label_of(59);
  Wire compressed;
  compressed.header(1, 1);
  const std::size_t start = compressed.here();
  compressed.question(long_name, kDnsTypeA);
  compressed.labels("ab").pointer(start).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_TRUE(a_malformed(compressed.bytes()));
  Wire fits;
  fits.header(1, 1);
  fits.question(long_name, kDnsTypeA).labels("a").pointer(start).rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  EXPECT_EQ(addresses_ok(fits.bytes(), "a." + long_name, kDnsTypeA), std::vector<std::string>{"10.0.0.1"});
}

TEST(DnsAnswerMalformedTest, AddressOfWrongLength) {
  Wire five;
  five.header(0, 1).name("example.com").rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1, 0});
  EXPECT_TRUE(a_malformed(five.bytes()));
  Wire three;
  three.header(0, 1).name("example.com").rdata(kDnsTypeA, kClassIn, {10, 0, 0});
  EXPECT_TRUE(a_malformed(three.bytes()));
  Wire aaaa;
  aaaa.header(0, 1).name("example.com").rdata(kDnsTypeAaaa, kClassIn, {10, 0, 0, 1});
  std::vector<Address> out;
  EXPECT_EQ(parse_addresses(aaaa.bytes(), "example.com", kDnsTypeAaaa, out), DnsParse::kMalformed);
}

TEST(DnsAnswerMalformedTest, SrvTargetMustFillRdataExactly) {
  const Bytes rdata = srv_rdata(1, 1, 5269, "xmpp.example.com");
  Wire overrun;  // rdlength one short: the target's zero octet lies outside
  overrun.header(0, 1).name(kService).fixed(kDnsTypeSrv, kClassIn, rdata.size() - 1).raw(rdata);
  EXPECT_TRUE(srv_malformed(overrun.bytes()));
  Wire trailing;  // one byte left over after the target
  trailing.header(0, 1).name(kService).fixed(kDnsTypeSrv, kClassIn, rdata.size() + 1).raw(rdata).u8(0);
  EXPECT_TRUE(srv_malformed(trailing.bytes()));
  Wire short_fixed;
  short_fixed.header(0, 1).name(kService).rdata(kDnsTypeSrv, kClassIn, {0, 1, 0, 1, 0x14});
  EXPECT_TRUE(srv_malformed(short_fixed.bytes()));
  Wire no_target;
  no_target.header(0, 1).name(kService).rdata(kDnsTypeSrv, kClassIn, {0, 1, 0, 1, 0x14, 0x95});
  EXPECT_TRUE(srv_malformed(no_target.bytes()));
}

TEST(DnsAnswerMalformedTest, BrokenCnameRdata) {
  const Bytes rdata = name_rdata("target.test");
  Wire wire;
  wire.header(0, 1).name("example.com").fixed(kTypeCname, kClassIn, rdata.size() - 1).raw(rdata);
  EXPECT_TRUE(a_malformed(wire.bytes()));
}

TEST(DnsAnswerMalformedTest, BrokenRecordForAnotherNameSpoilsThePacket) {
  Wire wire;
  wire.header(0, 2);
  wire.name("example.com").rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1});
  wire.name("other.test").rdata(kDnsTypeA, kClassIn, {10, 0, 0, 1, 2});
  EXPECT_TRUE(a_malformed(wire.bytes()));
}

// ---- Robustness ----------------------------------------------------------------------------

Bytes cname_a_packet() {
  Wire wire;
  wire.header(1, 3).question("example.com", kDnsTypeA);
  wire.pointer(kQuestionOffset).rdata(kTypeCname, kClassIn, Wire().labels("www").pointer(kQuestionOffset).bytes());
  const std::size_t www = wire.here() - 6;
  wire.pointer(www).rdata(kDnsTypeA, kClassIn, {192, 0, 2, 1});
  wire.pointer(www).rdata(kDnsTypeAaaa, kClassIn, Bytes(16, 1));
  return wire.bytes();
}

TEST(DnsAnswerRobustnessTest, RandomMutationsNeverCrash) {
  const std::vector<Bytes> seeds{compressed_srv_packet(), cname_a_packet()};
  ASSERT_EQ(addresses_ok(seeds[1], "example.com", kDnsTypeA), std::vector<std::string>{"192.0.2.1"});
  std::mt19937 random(20240601);
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes packet = seeds[static_cast<std::size_t>(round) % seeds.size()];
    const int flips = std::uniform_int_distribution<int>(0, 4)(random);
    for (int i = 0; i < flips; ++i) {
      packet[std::uniform_int_distribution<std::size_t>(0, packet.size() - 1)(random)] =
          static_cast<std::uint8_t>(std::uniform_int_distribution<int>(0, 255)(random));
    }
    if (std::uniform_int_distribution<int>(0, 3)(random) == 0) {
      packet.resize(std::uniform_int_distribution<std::size_t>(0, packet.size())(random));
    }
    std::vector<SrvRecord> srv;
    std::vector<Address> addresses;
    const DnsParse srv_result = parse_srv(packet, kService, srv);
    const DnsParse a_result = parse_addresses(packet, "example.com", kDnsTypeA, addresses);
    if (srv_result == DnsParse::kMalformed) {
      EXPECT_TRUE(srv.empty());
    }
    if (a_result == DnsParse::kMalformed) {
      EXPECT_TRUE(addresses.empty());
    }
    for (const Address& address : addresses) EXPECT_FALSE(address.text().empty());
    accepted += srv_result == DnsParse::kOk ? 1 : 0;
  }
  // Both outcomes must actually have been exercised.
  EXPECT_GT(accepted, 0u);
  EXPECT_LT(accepted, 20000u);
}

}  // namespace
}  // namespace xmppd::s2s
