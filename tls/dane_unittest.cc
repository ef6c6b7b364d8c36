// DANE matching through OpenSSL, against certificates made here: which records authenticate
// which certificates, and that everything else is refused or ignored as RFC 7671 says.
#include "tls/dane.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

namespace xmppd::tls {
namespace {

template <auto kFree>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using StackPtr = std::unique_ptr<STACK_OF(X509), StackFree>;

using Bytes = std::vector<std::uint8_t>;

constexpr time_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
constexpr time_t kDay = 86400;

struct Cert {
  KeyPtr key;
  X509Ptr x509;
  X509* get() const { return x509.get(); }
};

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  ASSERT_EQ(X509_add_ext(cert, ext, -1), 1);
  X509_EXTENSION_free(ext);
}

// Self-signed without an issuer. `san` in openssl.cnf syntax ("DNS:a.example"), or none.
Cert make(const char* cn, const char* san, bool ca, const Cert* issuer = nullptr, long until_days = 365) {
  static long serial = 1;
  Cert cert{KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")), X509Ptr(X509_new())};
  X509* x = cert.get();
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_time_adj_ex(X509_getm_notBefore(x), -30, 0, const_cast<time_t*>(&kNow));
  X509_time_adj_ex(X509_getm_notAfter(x), until_days, 0, const_cast<time_t*>(&kNow));
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->get()) : X509_get_subject_name(x));
  X509_set_pubkey(x, cert.key.get());
  add_extension(x, issuer ? issuer->get() : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (san) add_extension(x, issuer ? issuer->get() : x, NID_subject_alt_name, san);
  EXPECT_GT(X509_sign(x, issuer ? issuer->key.get() : cert.key.get(), EVP_sha256()), 0);
  return cert;
}

Bytes der(X509* cert) {
  unsigned char* out = nullptr;
  int length = i2d_X509(cert, &out);
  Bytes bytes(out, out + (length > 0 ? length : 0));
  OPENSSL_free(out);
  return bytes;
}

Bytes spki(X509* cert) {
  unsigned char* out = nullptr;
  int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &out);
  Bytes bytes(out, out + (length > 0 ? length : 0));
  OPENSSL_free(out);
  return bytes;
}

Bytes sha256(const Bytes& in) {
  Bytes digest(SHA256_DIGEST_LENGTH);
  SHA256(in.data(), in.size(), digest.data());
  return digest;
}

DaneVerification check(const Cert& leaf, const std::vector<DaneRecord>& records,
                       const std::vector<const Cert*>& chain = {}, std::string_view domain = "example.test",
                       std::string_view host = "xmpp.example.test", time_t at = kNow) {
  StackPtr stack(sk_X509_new_null());
  for (const Cert* c : chain) sk_X509_push(stack.get(), c->get());
  return verify_dane(leaf.get(), stack.get(), records, domain, host, at);
}

TEST(DaneTest, DaneEeSpkiDigestAuthenticatesASelfSignedCertificateForAnyName) {
  Cert self = make("whatever", "DNS:unrelated.example", false);
  DaneVerification v = check(self, {{3, 1, 1, sha256(spki(self.get()))}});
  EXPECT_EQ(v.status, DaneStatus::kEeMatched) << v.detail;
  EXPECT_EQ(v.detail, "DANE-EE(3) SPKI(1) SHA2-256(1) at depth 0");
}

TEST(DaneTest, DaneEeIgnoresExpiry) {
  Cert expired = make("old", nullptr, false, nullptr, -1);
  EXPECT_EQ(check(expired, {{3, 0, 0, der(expired.get())}}).status, DaneStatus::kEeMatched);
}

TEST(DaneTest, DaneEeOfAnotherKeyDoesNotMatch) {
  Cert self = make("a", nullptr, false), other = make("b", nullptr, false);
  DaneVerification v = check(self, {{3, 1, 1, sha256(spki(other.get()))}});
  EXPECT_EQ(v.status, DaneStatus::kNoMatch);
  EXPECT_FALSE(v.detail.empty());
}

TEST(DaneTest, OneMatchingRecordAmongOthersIsEnough) {
  Cert self = make("a", nullptr, false), other = make("b", nullptr, false);
  EXPECT_EQ(check(self, {{3, 1, 1, sha256(spki(other.get()))}, {3, 1, 1, sha256(spki(self.get()))}}).status,
            DaneStatus::kEeMatched);
}

TEST(DaneTest, DaneTaMatchesAnIssuerSentInTheChainAndNeedsTheName) {
  Cert ca = make("private CA", nullptr, true);
  Cert leaf = make("example.test", "DNS:example.test", false, &ca);
  DaneVerification v = check(leaf, {{2, 0, 1, sha256(der(ca.get()))}}, {&ca});
  EXPECT_EQ(v.status, DaneStatus::kTaMatched) << v.detail;
  EXPECT_EQ(v.detail, "DANE-TA(2) Cert(0) SHA2-256(1) at depth 1, DNS-ID example.test");
  // The SRV target's name is as good (RFC 7673 §4).
  Cert by_host = make("xmpp", "DNS:xmpp.example.test", false, &ca);
  EXPECT_EQ(check(by_host, {{2, 1, 1, sha256(spki(ca.get()))}}, {&ca}).status, DaneStatus::kTaMatched);
  // Any other name is refused, though the record matched.
  Cert elsewhere = make("x", "DNS:other.test", false, &ca);
  v = check(elsewhere, {{2, 0, 1, sha256(der(ca.get()))}}, {&ca});
  EXPECT_EQ(v.status, DaneStatus::kNoMatch);
  EXPECT_NE(v.detail.find("valid for neither example.test nor xmpp.example.test"), std::string::npos) << v.detail;
}

TEST(DaneTest, DaneTaChecksDates) {
  Cert ca = make("private CA", nullptr, true);
  Cert leaf = make("example.test", "DNS:example.test", false, &ca, -1);
  EXPECT_EQ(check(leaf, {{2, 0, 1, sha256(der(ca.get()))}}, {&ca}).status, DaneStatus::kNoMatch);
}

TEST(DaneTest, DaneTaOfAnotherAuthorityDoesNotMatch) {
  Cert ca = make("private CA", nullptr, true), other = make("other CA", nullptr, true);
  Cert leaf = make("example.test", "DNS:example.test", false, &ca);
  EXPECT_EQ(check(leaf, {{2, 0, 1, sha256(der(other.get()))}}, {&ca}).status, DaneStatus::kNoMatch);
}

TEST(DaneTest, PkixUsagesAreNotUsed) {
  Cert self = make("a", nullptr, false);
  DaneVerification v = check(self, {{1, 1, 1, sha256(spki(self.get()))}, {0, 0, 0, der(self.get())}});
  EXPECT_EQ(v.status, DaneStatus::kNoUsable);
}

TEST(DaneTest, UnknownOrMalformedRecordsAreUnusable) {
  Cert self = make("a", nullptr, false);
  // Unknown usage, selector and matching type; a digest of the wrong length; a certificate
  // that does not decode.
  const std::vector<DaneRecord> unusable = {{4, 1, 1, sha256(spki(self.get()))}, {3, 2, 1, sha256(spki(self.get()))},
                                            {3, 1, 3, sha256(spki(self.get()))}, {3, 1, 1, {1, 2, 3}},
                                            {3, 0, 0, {0x30, 0x03, 1, 2, 3}},    {3, 1, 1, {}}};
  EXPECT_EQ(check(self, unusable).status, DaneStatus::kNoUsable);
  // Beside a usable record that does not match, they change nothing either.
  std::vector<DaneRecord> with_usable = unusable;
  with_usable.push_back({3, 1, 2, Bytes(64, 0xab)});
  EXPECT_EQ(check(self, with_usable).status, DaneStatus::kNoMatch);
}

TEST(DaneTest, NoCertificateIsNoMatch) {
  EXPECT_EQ(verify_dane(nullptr, nullptr, {{3, 1, 1, Bytes(32)}}, "example.test", "").status, DaneStatus::kNoMatch);
}

TEST(DaneTest, Describe) {
  EXPECT_EQ(describe(DaneRecord{3, 1, 1, {}}), "DANE-EE(3) SPKI(1) SHA2-256(1)");
  EXPECT_EQ(describe(DaneRecord{2, 0, 2, {}}), "DANE-TA(2) Cert(0) SHA2-512(2)");
  EXPECT_EQ(describe(DaneRecord{9, 5, 0, {}}), "unknown(9) unknown(5) Full(0)");
}

}  // namespace
}  // namespace xmppd::tls
