// Inbound DANE's verdict over a domain's SRV targets: any match certifies, records that match
// nothing refuse, and bogus, unsigned or unusable answers leave PKIX to decide.
#include "s2s-worker/dane_verdict.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <memory>

namespace xmppd::s2s {
namespace {

struct Cert {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
  std::unique_ptr<X509, decltype(&X509_free)> x509{nullptr, X509_free};
};

Cert self_signed(const char* cn) {
  Cert c;
  c.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  c.x509.reset(X509_new());
  X509* x = c.x509.get();
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509_set_pubkey(x, c.key.get());
  EXPECT_GT(X509_sign(x, c.key.get(), EVP_sha256()), 0);
  return c;
}

TlsaRecord ee_spki(const Cert& c, std::uint8_t usage = 3) {
  unsigned char* der = nullptr;
  int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c.x509.get()), &der);
  TlsaRecord r{usage, 1, 1, std::vector<std::uint8_t>(SHA256_DIGEST_LENGTH)};
  SHA256(der, static_cast<size_t>(length), r.data.data());
  OPENSSL_free(der);
  return r;
}

std::pair<std::string, DaneLookup> target(const std::string& host, std::vector<TlsaRecord> records,
                                          std::string none = {}) {
  DaneLookup lookup;
  lookup.name = "_5269._tcp." + host;
  lookup.state = records.empty() ? DaneLookup::State::kNone : DaneLookup::State::kRecords;
  lookup.none = std::move(none);
  lookup.records = std::move(records);
  return {host, std::move(lookup)};
}

class DaneVerdictTest : public ::testing::Test {
 protected:
  DaneVerdict judge(const DomainDane& dane) { return judge_domain_dane(peer.x509.get(), nullptr, dane, "peer.test"); }
  Cert peer = self_signed("peer.test");
  Cert other = self_signed("other.test");
};

TEST_F(DaneVerdictTest, AMatchAtAnyTargetCertifies) {
  DomainDane dane{{target("a.peer.test", {ee_spki(other)}), target("b.peer.test", {ee_spki(peer)})}, {}, {}};
  DaneVerdict v = judge(dane);
  EXPECT_EQ(v.kind, DaneVerdict::Kind::kMatched);
  EXPECT_EQ(v.outcome, "DANE-EE matched");
  EXPECT_EQ(v.detail, "DANE-EE(3) SPKI(1) SHA2-256(1) at depth 0 of _5269._tcp.b.peer.test");
}

TEST_F(DaneVerdictTest, RecordsThatMatchNothingRefuseEvenBesideABogusAnswer) {
  DomainDane dane{{target("a.peer.test", {ee_spki(other)}), target("b.peer.test", {}, "no TLSA records")},
                  {"DNSSEC validation failed for _5269._tcp.c.peer.test (TLSA)"},
                  {}};
  DaneVerdict v = judge(dane);
  EXPECT_EQ(v.kind, DaneVerdict::Kind::kMismatch);
  EXPECT_EQ(v.outcome, "TLSA present, none matched");
  EXPECT_EQ(v.detail.rfind("TLSA records for _5269._tcp.a.peer.test exist and none matches (", 0), 0u) << v.detail;
}

TEST_F(DaneVerdictTest, ABogusAnswerWithoutRecordsLeavesPkixToDecide) {
  DomainDane dane{
      {target("a.peer.test", {}, "unsigned")}, {"DNSSEC validation failed for _5269._tcp.b.peer.test (TLSA)"}, {}};
  DaneVerdict v = judge(dane);
  EXPECT_EQ(v.kind, DaneVerdict::Kind::kBogus);
  EXPECT_EQ(v.outcome, "no DANE (DNSSEC validation failed for _5269._tcp.b.peer.test (TLSA))");
}

TEST_F(DaneVerdictTest, UnusableRecordsAreNoDane) {
  // PKIX-EE(1) is not used (tls/dane.h): as if there were no records.
  DomainDane dane{{target("a.peer.test", {ee_spki(other, 1)})}, {}, {}};
  DaneVerdict v = judge(dane);
  EXPECT_EQ(v.kind, DaneVerdict::Kind::kNone);
  EXPECT_EQ(v.outcome, "no DANE (no usable TLSA records for _5269._tcp.a.peer.test)");
}

TEST_F(DaneVerdictTest, NoValidatedTargetIsNoDane) {
  DaneVerdict v = judge(DomainDane{{}, {}, "unsigned"});
  EXPECT_EQ(v.kind, DaneVerdict::Kind::kNone);
  EXPECT_EQ(v.outcome, "no DANE (unsigned)");
}

TEST_F(DaneVerdictTest, NoCertificateMatchesNothing) {
  DomainDane dane{{target("a.peer.test", {ee_spki(peer)})}, {}, {}};
  EXPECT_EQ(judge_domain_dane(nullptr, nullptr, dane, "peer.test").kind, DaneVerdict::Kind::kMismatch);
}

}  // namespace
}  // namespace xmppd::s2s
