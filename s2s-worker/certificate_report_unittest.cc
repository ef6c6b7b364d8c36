// certificate_report.h: the verdicts xmppctl shows for a peer's certificate, and the chain's
// subjects as the worker reports them.
#include "s2s-worker/certificate_report.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

#include "common/utf8_text.h"

namespace xmppd::s2s {
namespace {

using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

tls::PeerVerification verdict(tls::ChainStatus chain, tls::IdentityStatus identity, std::string detail = {}) {
  tls::PeerVerification v;
  v.chain = chain;
  v.identity = identity;
  v.detail = std::move(detail);
  return v;
}

Cert self_signed(const char* common_name) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                          EVP_PKEY_free);
  Cert cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  X509_sign(cert.get(), key.get(), EVP_sha256());
  return cert;
}

TEST(CertificateReport, StatusNamesWhatAnAdminActsOn) {
  using tls::ChainStatus;
  using tls::IdentityStatus;
  EXPECT_EQ(certificate_status(verdict(ChainStatus::kTrusted, IdentityStatus::kMatches), false),
            ipc::CERTIFICATE_TRUSTED);
  EXPECT_EQ(certificate_status(verdict(ChainStatus::kTrusted, IdentityStatus::kMismatch), false),
            ipc::CERTIFICATE_WRONG_NAME);
  EXPECT_EQ(certificate_status(verdict(ChainStatus::kSelfSigned, IdentityStatus::kMatches), false),
            ipc::CERTIFICATE_UNTRUSTED);
  EXPECT_EQ(certificate_status(verdict(ChainStatus::kUntrustedIssuer, IdentityStatus::kMismatch), false),
            ipc::CERTIFICATE_UNTRUSTED);
  EXPECT_EQ(certificate_status(verdict(ChainStatus::kExpired, IdentityStatus::kMatches), false),
            ipc::CERTIFICATE_EXPIRED);
  EXPECT_EQ(certificate_status(verdict(ChainStatus::kNotYetValid, IdentityStatus::kMatches), false),
            ipc::CERTIFICATE_EXPIRED);
  EXPECT_EQ(certificate_status(verdict(ChainStatus::kWrongPurpose, IdentityStatus::kMatches), false),
            ipc::CERTIFICATE_UNTRUSTED);
  EXPECT_EQ(certificate_status(tls::PeerVerification(), false), ipc::CERTIFICATE_NONE);
  // A DANE match stands for PKIX (RFC 7673).
  EXPECT_EQ(certificate_status(verdict(ChainStatus::kSelfSigned, IdentityStatus::kMismatch), true),
            ipc::CERTIFICATE_TRUSTED);
}

TEST(CertificateReport, ErrorGivesOpenSslsMessageAndTheName) {
  using tls::ChainStatus;
  using tls::IdentityStatus;
  EXPECT_EQ(certificate_error(verdict(ChainStatus::kTrusted, IdentityStatus::kMatches), "a.test", false), "");
  EXPECT_EQ(certificate_error(verdict(ChainStatus::kSelfSigned, IdentityStatus::kMatches, "self-signed certificate"),
                              "a.test", false),
            "self-signed certificate");
  EXPECT_EQ(certificate_error(verdict(ChainStatus::kTrusted, IdentityStatus::kMismatch), "a.test", false),
            "the certificate does not name a.test");
  EXPECT_EQ(certificate_error(verdict(ChainStatus::kExpired, IdentityStatus::kMismatch, "certificate has expired"),
                              "a.test", false),
            "certificate has expired; the certificate does not name a.test");
  EXPECT_EQ(certificate_error(tls::PeerVerification(), "a.test", false), "");
  EXPECT_EQ(certificate_error(verdict(ChainStatus::kSelfSigned, IdentityStatus::kMismatch, "x"), "a.test", true), "");
}

TEST(CertificateReport, ChainSubjectsLeafFirstWithoutRepeatingIt) {
  Cert leaf = self_signed("a.test");
  Cert ca = self_signed("Test CA");
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain(sk_X509_new_null(),
                                                                   [](STACK_OF(X509) * s) { sk_X509_free(s); });
  sk_X509_push(chain.get(), leaf.get());  // the client side's chain repeats the leaf
  sk_X509_push(chain.get(), ca.get());
  std::vector<std::string> subjects = chain_subjects(leaf.get(), chain.get());
  ASSERT_EQ(subjects.size(), 2u);
  EXPECT_EQ(subjects[0], "CN=a.test,O=Test");
  EXPECT_EQ(subjects[1], "CN=Test CA,O=Test");
  EXPECT_TRUE(chain_subjects(nullptr, nullptr).empty());
}

TEST(CertificateReport, LongStringsAreCut) {
  EXPECT_EQ(bounded(std::string(5000, 'x')).size(), kMaxReportedString);
  EXPECT_EQ(bounded("a.test"), "a.test");
}

// A peer's from='aaa…é' longer than the limit: cut at the byte limit, the 2-byte character
// would be split and the parent could not parse the report (review 14b, item 1).
TEST(CertificateReport, CutsBetweenCharactersNeverInsideOne) {
  std::string claimed = std::string(kMaxReportedString - 1, 'a') + "\xc3\xa9" + "b";
  std::string cut = bounded(claimed);
  EXPECT_EQ(cut, std::string(kMaxReportedString - 1, 'a'));
  EXPECT_TRUE(valid_utf8(cut));
  std::string euros;
  for (int i = 0; i < 200; ++i) euros += "\xe2\x82\xac";  // 600 bytes of 3-byte characters
  EXPECT_EQ(bounded(euros).size(), kMaxReportedString / 3 * 3);
  EXPECT_TRUE(valid_utf8(bounded(euros)));
  EXPECT_EQ(bounded("a\xff\xc3"), "a??");
}

TEST(CertificateReport, ErrorNamingALongNonAsciiDomainIsValidUtf8) {
  std::string domain = std::string(230, 'a') + "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9.test";
  std::string why = certificate_error(verdict(tls::ChainStatus::kTrusted, tls::IdentityStatus::kMismatch), domain, false);
  EXPECT_LE(why.size(), kMaxReportedString);
  EXPECT_TRUE(valid_utf8(why));
  // What the parent does with the report: serialize, then parse as a proto3 message.
  ipc::S2sStream stream;
  stream.set_certificate_error(why);
  stream.add_routes()->set_remote(bounded(domain));
  ipc::S2sStream parsed;
  EXPECT_TRUE(parsed.ParseFromString(stream.SerializeAsString()));
}

TEST(CertificateReport, ClaimedDomainOnlyWhenItIsOne) {
  EXPECT_EQ(claimed_domain("Jabber.ORG"), "jabber.org");
  EXPECT_EQ(claimed_domain("\xc3\xa9t\xc3\xa9.test"), "\xc3\xa9t\xc3\xa9.test");
  EXPECT_EQ(claimed_domain(""), kInvalidDomain);
  EXPECT_EQ(claimed_domain("a b.test"), kInvalidDomain);
  EXPECT_EQ(claimed_domain("\xc0\xaf.test"), kInvalidDomain);  // overlong '/'
  EXPECT_EQ(claimed_domain("\xed\xa0\x80.test"), kInvalidDomain);  // a surrogate
  EXPECT_EQ(claimed_domain(std::string(300, 'a')), kInvalidDomain);  // a label over 63
  std::string long_name;
  for (int i = 0; i < 6; ++i) long_name += std::string(60, 'a') + ".";
  EXPECT_EQ(claimed_domain(long_name + "test"), kInvalidDomain);  // valid, but over the limit
}

TEST(CertificateReport, NonAsciiSubjectIsValidUtf8) {
  Cert cert = self_signed("a.test");
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn;
  for (int i = 0; i < 60; ++i) cn += "\xc3\xa9";
  X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                             0);
  std::vector<std::string> subjects = chain_subjects(cert.get(), nullptr);
  ASSERT_EQ(subjects.size(), 1u);
  EXPECT_LE(subjects[0].size(), kMaxReportedString);
  EXPECT_TRUE(valid_utf8(subjects[0]));
}

}  // namespace
}  // namespace xmppd::s2s
