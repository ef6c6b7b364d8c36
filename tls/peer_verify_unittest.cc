#include "tls/peer_verify.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

namespace xmppd::tls {
namespace {

using namespace std::string_literals;  // "...\0..."s keeps embedded NULs

template <auto kFree>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
struct X509StackFree {  // frees the stack only: the certificates belong to their Cert
  void operator()(STACK_OF(X509)* s) const { sk_X509_free(s); }
};

using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using StringPtr = std::unique_ptr<ASN1_STRING, Deleter<ASN1_STRING_free>>;
using TypePtr = std::unique_ptr<ASN1_TYPE, Deleter<ASN1_TYPE_free>>;
using ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT_free>>;

// A fixed "now" (2026-01-01T00:00:00Z) keeps validity tests off the clock.
constexpr time_t kNow = 1767225600;
constexpr time_t kDay = 86400;

constexpr const char* kSrvIdOid = "1.3.6.1.5.5.7.8.7";
constexpr const char* kXmppAddrOid = "1.3.6.1.5.5.7.8.5";

// One subjectAltName entry; oid is set for otherName entries.
struct San {
  int type;
  const char* oid;
  int string_type;
  std::string value;
};
San dns(std::string name) { return {GEN_DNS, nullptr, V_ASN1_IA5STRING, std::move(name)}; }
San email(std::string address) { return {GEN_EMAIL, nullptr, V_ASN1_IA5STRING, std::move(address)}; }
San srv_id(std::string name) { return {GEN_OTHERNAME, kSrvIdOid, V_ASN1_IA5STRING, std::move(name)}; }
San xmpp_addr(std::string jid) { return {GEN_OTHERNAME, kXmppAddrOid, V_ASN1_UTF8STRING, std::move(jid)}; }

struct CertSpec {
  std::vector<std::string> common_names;
  std::vector<San> sans;
  bool ca = false;
  time_t base = kNow;
  long valid_from_days = -30;  // relative to base
  long valid_until_days = 365;
  const char* eku = nullptr;  // extendedKeyUsage in openssl.cnf syntax
  const char* name_constraints = nullptr;  // nameConstraints in openssl.cnf syntax
};

struct Cert {
  KeyPtr key;
  X509Ptr x509;
  X509* get() const { return x509.get(); }
};

KeyPtr new_key() { return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

StringPtr asn1_string(int type, const std::string& value) {
  StringPtr s(ASN1_STRING_type_new(type));
  if (s && ASN1_STRING_set(s.get(), value.data(), static_cast<int>(value.size())) != 1) s.reset();
  return s;
}

GeneralNamePtr general_name(const San& san) {
  GeneralNamePtr name(GENERAL_NAME_new());
  StringPtr text = asn1_string(san.string_type, san.value);
  if (!name || !text) return nullptr;
  if (san.type != GEN_OTHERNAME) {
    GENERAL_NAME_set0_value(name.get(), san.type, text.release());
    return name;
  }
  ObjectPtr oid(OBJ_txt2obj(san.oid, 1));
  TypePtr value(ASN1_TYPE_new());
  if (!oid || !value) return nullptr;
  ASN1_TYPE_set(value.get(), san.string_type, text.release());
  if (GENERAL_NAME_set0_othername(name.get(), oid.get(), value.get()) != 1) return nullptr;
  oid.release();
  value.release();
  return name;
}

void add_sans(X509* cert, const std::vector<San>& sans) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  ASSERT_TRUE(names);
  for (const San& san : sans) {
    GeneralNamePtr name = general_name(san);
    ASSERT_TRUE(name);
    ASSERT_GT(sk_GENERAL_NAME_push(names.get(), name.get()), 0);
    name.release();
  }
  ASSERT_EQ(X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT), 1);
}

void add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, nullptr, cert, nullptr, nullptr, 0);
  ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  ASSERT_TRUE(ext) << value;
  ASSERT_EQ(X509_add_ext(cert, ext.get(), -1), 1);
}

X509_NAME* subject_of(X509* cert, const std::vector<std::string>& common_names) {
  X509_NAME* name = X509_get_subject_name(cert);
  for (const std::string& cn : common_names) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(cn.data());
    EXPECT_EQ(
        X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, bytes, static_cast<int>(cn.size()), -1, 0), 1);
  }
  return name;
}

// Issued by issuer, or self-signed without one. signer replaces the issuer's
// key, to forge a signature that does not verify.
Cert issue(const CertSpec& spec, const Cert* issuer = nullptr, EVP_PKEY* signer = nullptr) {
  static long serial = 1;
  Cert cert{new_key(), X509Ptr(X509_new())};
  X509* x = cert.get();
  EXPECT_TRUE(cert.key && x);
  if (!cert.key || !x) return cert;
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  ASN1_TIME_adj(X509_getm_notBefore(x), spec.base, static_cast<int>(spec.valid_from_days), 0);
  ASN1_TIME_adj(X509_getm_notAfter(x), spec.base, static_cast<int>(spec.valid_until_days), 0);
  X509_NAME* subject = subject_of(x, spec.common_names);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->get()) : subject);
  X509_set_pubkey(x, cert.key.get());
  if (spec.ca) add_extension(x, NID_basic_constraints, "critical,CA:TRUE");
  if (spec.eku) add_extension(x, NID_ext_key_usage, spec.eku);
  if (spec.name_constraints) add_extension(x, NID_name_constraints, spec.name_constraints);
  if (!spec.sans.empty()) add_sans(x, spec.sans);
  if (!signer) signer = issuer ? issuer->key.get() : cert.key.get();
  EXPECT_GT(X509_sign(x, signer, EVP_sha256()), 0);
  return cert;
}

CertSpec ca_spec(std::string name) {
  CertSpec spec;
  spec.common_names = {std::move(name)};
  spec.ca = true;
  // Wide enough to stay valid both at kNow and at the real time of the run.
  spec.valid_from_days = -3650;
  spec.valid_until_days = 36500;
  return spec;
}
Cert make_root(std::string name) { return issue(ca_spec(std::move(name))); }
Cert make_intermediate(std::string name, const Cert& root) { return issue(ca_spec(std::move(name)), &root); }

CertSpec server_spec(std::string domain = "example.com") {
  CertSpec spec;
  spec.common_names = {domain};
  spec.sans = {dns(domain)};
  return spec;
}

// A self-signed certificate carrying only these names: enough for identity checks.
Cert named(std::vector<San> sans, std::vector<std::string> common_names = {}) {
  CertSpec spec;
  spec.common_names = std::move(common_names);
  spec.sans = std::move(sans);
  return issue(spec);
}

constexpr const char* kMismatch = "(mismatch)";

// The matched identifier, or why there is none.
std::string identity_of(const Cert& cert, std::string_view domain) {
  std::string matched;
  switch (match_identity(cert.get(), domain, &matched)) {
    case IdentityStatus::kMatches:
      return matched;
    case IdentityStatus::kMismatch:
      return kMismatch;
    case IdentityStatus::kNoCertificate:
      return "(no certificate)";
  }
  return "(unknown)";
}

std::string error_text(int error) { return X509_verify_cert_error_string(error); }

// ---- Chain ----

class VerifyPeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_);
    ASSERT_EQ(X509_STORE_add_cert(store_.get(), root_.get()), 1);
  }

  PeerVerification verify(const Cert& leaf, const std::vector<const Cert*>& sent, std::optional<time_t> at = kNow,
                          std::string_view domain = "example.com") {
    StackPtr chain(sk_X509_new_null());
    for (const Cert* cert : sent) EXPECT_GT(sk_X509_push(chain.get(), cert->get()), 0);
    return verify_peer(leaf.get(), chain.get(), store_.get(), domain, at);
  }

  Cert root_ = make_root("Test Root");
  Cert intermediate_ = make_intermediate("Test Intermediate", root_);
  StorePtr store_{X509_STORE_new()};
};

TEST_F(VerifyPeerTest, TrustedThroughIntermediate) {
  Cert leaf = issue(server_spec(), &intermediate_);
  PeerVerification v = verify(leaf, {&intermediate_});
  EXPECT_EQ(v.chain, ChainStatus::kTrusted);
  EXPECT_EQ(v.detail, "");
  EXPECT_EQ(v.identity, IdentityStatus::kMatches);
  EXPECT_EQ(v.matched, "DNS-ID example.com");
  EXPECT_TRUE(v.trusted_for("example.com"));
}

TEST_F(VerifyPeerTest, TrustedChainForAnotherDomainIsNotTrustedFor) {
  Cert leaf = issue(server_spec(), &intermediate_);
  PeerVerification v = verify(leaf, {&intermediate_}, kNow, "example.org");
  EXPECT_EQ(v.chain, ChainStatus::kTrusted);
  EXPECT_EQ(v.identity, IdentityStatus::kMismatch);
  EXPECT_EQ(v.matched, "");
  EXPECT_FALSE(v.trusted_for("example.org"));
}

TEST_F(VerifyPeerTest, ChainThatRepeatsTheLeafIsTrusted) {
  // SSL_get_peer_cert_chain includes the leaf on the connecting side.
  Cert leaf = issue(server_spec(), &intermediate_);
  EXPECT_EQ(verify(leaf, {&leaf, &intermediate_}).chain, ChainStatus::kTrusted);
}

TEST_F(VerifyPeerTest, MissingIntermediateIsUntrustedIssuer) {
  Cert leaf = issue(server_spec(), &intermediate_);
  PeerVerification v = verify(leaf, {});
  EXPECT_EQ(v.chain, ChainStatus::kUntrustedIssuer);
  EXPECT_NE(v.detail, "");
}

TEST_F(VerifyPeerTest, SelfSignedLeaf) {
  Cert leaf = issue(server_spec());
  PeerVerification v = verify(leaf, {});
  EXPECT_EQ(v.chain, ChainStatus::kSelfSigned);
  EXPECT_EQ(v.detail, error_text(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT));
  // The identity verdict stands on its own: dialback may still rescue this peer.
  EXPECT_EQ(v.identity, IdentityStatus::kMatches);
  EXPECT_EQ(v.matched, "DNS-ID example.com");
  EXPECT_FALSE(v.trusted_for("example.com"));
}

TEST_F(VerifyPeerTest, SelfSignedRootNotInStore) {
  Cert other_root = make_root("Other Root");
  Cert leaf = issue(server_spec(), &other_root);
  PeerVerification v = verify(leaf, {&other_root});
  EXPECT_EQ(v.chain, ChainStatus::kSelfSigned);
  EXPECT_NE(v.detail.find(error_text(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)), std::string::npos) << v.detail;
}

TEST_F(VerifyPeerTest, UnknownIssuerNotSent) {
  Cert other_root = make_root("Other Root");
  Cert leaf = issue(server_spec(), &other_root);
  PeerVerification v = verify(leaf, {});
  EXPECT_EQ(v.chain, ChainStatus::kUntrustedIssuer);
  EXPECT_EQ(v.identity, IdentityStatus::kMatches);
}

TEST_F(VerifyPeerTest, NoTrustStoreMeansUntrustedIssuer) {
  Cert leaf = issue(server_spec(), &intermediate_);
  StackPtr chain(sk_X509_new_null());
  ASSERT_GT(sk_X509_push(chain.get(), intermediate_.get()), 0);
  PeerVerification v = verify_peer(leaf.get(), chain.get(), nullptr, "example.com", kNow);
  EXPECT_EQ(v.chain, ChainStatus::kUntrustedIssuer);
}

TEST_F(VerifyPeerTest, ExpiredLeaf) {
  CertSpec spec = server_spec();
  spec.valid_until_days = 30;
  Cert leaf = issue(spec, &intermediate_);
  EXPECT_EQ(verify(leaf, {&intermediate_}, kNow).chain, ChainStatus::kTrusted);
  PeerVerification v = verify(leaf, {&intermediate_}, kNow + 60 * kDay);
  EXPECT_EQ(v.chain, ChainStatus::kExpired);
  EXPECT_EQ(v.detail, "certificate has expired");
}

TEST_F(VerifyPeerTest, ExpiredIntermediate) {
  CertSpec spec = ca_spec("Short Intermediate");
  spec.valid_until_days = 10;
  Cert short_lived = issue(spec, &root_);
  Cert leaf = issue(server_spec(), &short_lived);
  EXPECT_EQ(verify(leaf, {&short_lived}, kNow).chain, ChainStatus::kTrusted);
  EXPECT_EQ(verify(leaf, {&short_lived}, kNow + 20 * kDay).chain, ChainStatus::kExpired);
}

TEST_F(VerifyPeerTest, NotYetValidLeaf) {
  CertSpec spec = server_spec();
  spec.valid_from_days = 10;
  Cert leaf = issue(spec, &intermediate_);
  PeerVerification v = verify(leaf, {&intermediate_}, kNow);
  EXPECT_EQ(v.chain, ChainStatus::kNotYetValid);
  EXPECT_EQ(v.detail, error_text(X509_V_ERR_CERT_NOT_YET_VALID));
  EXPECT_EQ(verify(leaf, {&intermediate_}, kNow + 11 * kDay).chain, ChainStatus::kTrusted);
}

TEST_F(VerifyPeerTest, SelfSignedOutranksExpired) {
  CertSpec spec = server_spec();
  spec.valid_until_days = 30;
  Cert leaf = issue(spec);
  PeerVerification v = verify(leaf, {}, kNow + 60 * kDay);
  EXPECT_EQ(v.chain, ChainStatus::kSelfSigned);
  // Every problem is still reported for the logs.
  EXPECT_EQ(v.detail, error_text(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) + "; " + "certificate has expired");
}

TEST_F(VerifyPeerTest, UntrustedIssuerOutranksExpired) {
  CertSpec spec = server_spec();
  spec.valid_until_days = 30;
  Cert leaf = issue(spec, &intermediate_);
  PeerVerification v = verify(leaf, {}, kNow + 60 * kDay);
  EXPECT_EQ(v.chain, ChainStatus::kUntrustedIssuer);
  EXPECT_NE(v.detail.find("certificate has expired"), std::string::npos) << v.detail;
}

TEST_F(VerifyPeerTest, ExpiredOutranksNotYetValid) {
  // The intermediate's validity ended before the leaf's began.
  CertSpec ca = ca_spec("Old Intermediate");
  ca.valid_until_days = 5;
  Cert old_intermediate = issue(ca, &root_);
  CertSpec spec = server_spec();
  spec.valid_from_days = 10;
  Cert leaf = issue(spec, &old_intermediate);
  PeerVerification v = verify(leaf, {&old_intermediate}, kNow + 7 * kDay);
  EXPECT_EQ(v.chain, ChainStatus::kExpired);
  EXPECT_NE(v.detail.find(error_text(X509_V_ERR_CERT_NOT_YET_VALID)), std::string::npos) << v.detail;
}

TEST_F(VerifyPeerTest, SignatureByAnotherKeyIsInvalid) {
  KeyPtr impostor = new_key();
  ASSERT_TRUE(impostor);
  Cert leaf = issue(server_spec(), &intermediate_, impostor.get());
  PeerVerification v = verify(leaf, {&intermediate_});
  EXPECT_EQ(v.chain, ChainStatus::kInvalid);
  EXPECT_EQ(v.detail, error_text(X509_V_ERR_CERT_SIGNATURE_FAILURE));
}

TEST_F(VerifyPeerTest, ServerAuthOnlyCertificateIsTrusted) {
  // Public CAs stopped putting clientAuth in server certificates; s2s must not need it.
  CertSpec spec = server_spec();
  spec.eku = "serverAuth";
  Cert leaf = issue(spec, &intermediate_);
  PeerVerification v = verify(leaf, {&intermediate_});
  EXPECT_EQ(v.chain, ChainStatus::kTrusted) << v.detail;
  EXPECT_TRUE(v.trusted_for("example.com"));
}

TEST_F(VerifyPeerTest, CertificateForAnotherPurposeIsNotTrusted) {
  CertSpec spec = server_spec();
  spec.eku = "codeSigning,emailProtection";
  Cert leaf = issue(spec, &intermediate_);
  PeerVerification v = verify(leaf, {&intermediate_});
  EXPECT_EQ(v.chain, ChainStatus::kWrongPurpose) << v.detail;
  EXPECT_FALSE(v.trusted_for("example.com"));
  EXPECT_EQ(describe_shortfall(v, "example.com"),
            "the certificate is not for TLS authentication (extended key usage without serverAuth or clientAuth)");
  // Either TLS purpose is enough, as is a client certificate's.
  spec.eku = "clientAuth";
  EXPECT_TRUE(verify(issue(spec, &intermediate_), {&intermediate_}).trusted_for("example.com"));
}

TEST_F(VerifyPeerTest, ShortfallNamesWhatIsMissing) {
  Cert leaf = issue(server_spec(), &intermediate_);
  EXPECT_EQ(describe_shortfall(verify(leaf, {&intermediate_}), "example.com"), "");
  EXPECT_EQ(describe_shortfall(verify(leaf, {&intermediate_}, kNow, "other.test"), "other.test"),
            "the certificate is not valid for other.test");
  EXPECT_EQ(describe_shortfall(verify(leaf, {}), "example.com"), "the certificate's issuer is not trusted");
  EXPECT_EQ(describe_shortfall(verify(leaf, {}, kNow, "other.test"), "other.test"),
            "the certificate's issuer is not trusted, and it is not valid for other.test");
  EXPECT_EQ(describe_shortfall(PeerVerification(), "example.com"), "no certificate was presented");
}

TEST_F(VerifyPeerTest, DefaultTimeIsNow) {
  CertSpec spec = server_spec();
  spec.base = time(nullptr);
  spec.valid_from_days = -10;
  spec.valid_until_days = -1;
  Cert leaf = issue(spec, &intermediate_);
  EXPECT_EQ(verify(leaf, {&intermediate_}, std::nullopt).chain, ChainStatus::kExpired);
  EXPECT_EQ(verify(leaf, {&intermediate_}, spec.base - 5 * kDay).chain, ChainStatus::kTrusted);
}

TEST_F(VerifyPeerTest, NoCertificate) {
  StackPtr chain(sk_X509_new_null());
  PeerVerification v = verify_peer(nullptr, chain.get(), store_.get(), "example.com");
  EXPECT_EQ(v.chain, ChainStatus::kNoCertificate);
  EXPECT_EQ(v.identity, IdentityStatus::kNoCertificate);
  EXPECT_FALSE(v.trusted_for("example.com"));
  EXPECT_EQ(verify_peer(nullptr, nullptr, nullptr, "example.com").chain, ChainStatus::kNoCertificate);
}

// ---- Name constraints ----

// A CA that may issue for good.example only, as a registrar's or company's sub-CA would
// be. OpenSSL holds DNS-IDs to that; it has no rule for SRV-ID or XmppAddr.
class NameConstraintsTest : public ::testing::Test {
 protected:
  static Cert constrained_ca(const Cert* issuer = nullptr) {
    CertSpec spec = ca_spec(issuer ? "Constrained Intermediate" : "Constrained Root");
    spec.name_constraints = "critical,permitted;DNS:good.example";
    return issue(spec, issuer);
  }
  // No CN that looks like a host name: OpenSSL would hold a CN-ID to the constraints too.
  static Cert leaf_with(std::vector<San> sans, const Cert& issuer) {
    CertSpec spec;
    spec.common_names = {"Some Server"};
    spec.sans = std::move(sans);
    return issue(spec, &issuer);
  }
  PeerVerification verify(const Cert& leaf, const Cert& anchor, std::string_view domain,
                          const std::vector<const Cert*>& sent = {}) {
    StorePtr store(X509_STORE_new());
    EXPECT_EQ(X509_STORE_add_cert(store.get(), anchor.get()), 1);
    StackPtr chain(sk_X509_new_null());
    for (const Cert* cert : sent) EXPECT_GT(sk_X509_push(chain.get(), cert->get()), 0);
    return verify_peer(leaf.get(), chain.get(), store.get(), domain, kNow);
  }
  Cert constrained_ = constrained_ca();
  Cert open_ = make_root("Open Root");
};

TEST_F(NameConstraintsTest, XmppAddrOutsideTheConstraintsIsRefused) {
  Cert leaf = leaf_with({xmpp_addr("evil.example")}, constrained_);
  PeerVerification v = verify(leaf, constrained_, "evil.example");
  EXPECT_EQ(v.chain, ChainStatus::kTrusted) << "OpenSSL does not hold an XmppAddr to dNSName constraints";
  EXPECT_EQ(v.identity, IdentityStatus::kMismatch);
  EXPECT_FALSE(v.trusted_for("evil.example"));
}

TEST_F(NameConstraintsTest, SameXmppAddrFromAnUnconstrainedCaIsAccepted) {
  Cert leaf = leaf_with({xmpp_addr("evil.example")}, open_);
  PeerVerification v = verify(leaf, open_, "evil.example");
  EXPECT_EQ(v.chain, ChainStatus::kTrusted);
  EXPECT_EQ(v.matched, "XmppAddr evil.example");
  EXPECT_TRUE(v.trusted_for("evil.example"));
}

TEST_F(NameConstraintsTest, SrvIdOutsideTheConstraintsIsRefusedButAcceptedUnconstrained) {
  Cert constrained_leaf = leaf_with({srv_id("_xmpp-server.evil.example")}, constrained_);
  EXPECT_EQ(verify(constrained_leaf, constrained_, "evil.example").identity, IdentityStatus::kMismatch);
  Cert open_leaf = leaf_with({srv_id("_xmpp-server.evil.example")}, open_);
  EXPECT_EQ(verify(open_leaf, open_, "evil.example").matched, "SRV-ID _xmpp-server.evil.example");
}

TEST_F(NameConstraintsTest, ConstraintsOnAnIntermediateCountToo) {
  Cert intermediate = constrained_ca(&open_);
  Cert leaf = leaf_with({xmpp_addr("evil.example")}, intermediate);
  PeerVerification v = verify(leaf, open_, "evil.example", {&intermediate});
  EXPECT_EQ(v.chain, ChainStatus::kTrusted);
  EXPECT_EQ(v.identity, IdentityStatus::kMismatch);
}

TEST_F(NameConstraintsTest, EvenAnXmppAddrInsideTheConstraintsIsNotUsedButADnsIdIs) {
  // The XmppAddr is not judged against the constraints at all; a DNS-ID beside it is, by
  // OpenSSL, and carries the match.
  Cert xmpp_only = leaf_with({xmpp_addr("good.example")}, constrained_);
  EXPECT_EQ(verify(xmpp_only, constrained_, "good.example").identity, IdentityStatus::kMismatch);
  Cert both = leaf_with({xmpp_addr("good.example"), dns("good.example")}, constrained_);
  PeerVerification v = verify(both, constrained_, "good.example");
  EXPECT_EQ(v.chain, ChainStatus::kTrusted);
  EXPECT_EQ(v.matched, "DNS-ID good.example");
}

TEST_F(NameConstraintsTest, DnsIdOutsideTheConstraintsBreaksTheChain) {
  // The case OpenSSL covers itself: the verdict is the chain's, not the identity's.
  Cert leaf = leaf_with({dns("evil.example")}, constrained_);
  PeerVerification v = verify(leaf, constrained_, "evil.example");
  EXPECT_EQ(v.chain, ChainStatus::kInvalid) << v.detail;
  EXPECT_FALSE(v.trusted_for("evil.example"));
}

TEST(MatchIdentity, ConstrainedChainIgnoresXmppAddrAndSrvIdWithoutFallingBackToCn) {
  Cert cert = named({xmpp_addr("example.com"), srv_id("_xmpp-server.example.com")}, {"example.com"});
  std::string matched;
  EXPECT_EQ(match_identity(cert.get(), "example.com", &matched, NameConstraints::kInChain), IdentityStatus::kMismatch);
  EXPECT_EQ(match_identity(cert.get(), "example.com", &matched, NameConstraints::kNone), IdentityStatus::kMatches);
  EXPECT_EQ(matched, "XmppAddr example.com");
}

TEST(Describe, EveryStatus) {
  EXPECT_STREQ(describe(ChainStatus::kTrusted), "trusted");
  EXPECT_STREQ(describe(ChainStatus::kSelfSigned), "self-signed");
  EXPECT_STREQ(describe(ChainStatus::kUntrustedIssuer), "untrusted issuer");
  EXPECT_STREQ(describe(ChainStatus::kExpired), "expired");
  EXPECT_STREQ(describe(ChainStatus::kNotYetValid), "not yet valid");
  EXPECT_STREQ(describe(ChainStatus::kInvalid), "invalid");
  EXPECT_STREQ(describe(ChainStatus::kNoCertificate), "no certificate");
  EXPECT_STREQ(describe(IdentityStatus::kMatches), "valid for the domain");
  EXPECT_STREQ(describe(IdentityStatus::kMismatch), "not valid for the domain");
  EXPECT_STREQ(describe(IdentityStatus::kNoCertificate), "no certificate");
}

// One statement per verdict, never "self-signed, valid for the domain" side by side.
TEST(Describe, VerdictReadsAsOneStatement) {
  PeerVerification v;
  EXPECT_EQ(describe_verdict(v, "a.test"), "a.test presented no certificate");
  v.chain = ChainStatus::kTrusted;
  v.identity = IdentityStatus::kMatches;
  v.matched = "DNS-ID a.test";
  EXPECT_EQ(describe_verdict(v, "a.test"), "a.test's certificate is trusted (DNS-ID a.test)");
  v.identity = IdentityStatus::kMismatch;
  EXPECT_EQ(describe_verdict(v, "a.test"),
            "a.test's certificate is issued by a trusted CA but does not name a.test, so it is not trusted");
  v.chain = ChainStatus::kSelfSigned;
  v.identity = IdentityStatus::kMatches;
  EXPECT_EQ(describe_verdict(v, "a.test"),
            "a.test's certificate names a.test but is self-signed, so it is not trusted");
  v.chain = ChainStatus::kExpired;
  v.identity = IdentityStatus::kMismatch;
  EXPECT_EQ(describe_verdict(v, "a.test"),
            "a.test's certificate has expired and does not name a.test, so it is not trusted");
}

// ---- Identity ----

TEST(MatchIdentity, NoCertificate) {
  EXPECT_EQ(match_identity(nullptr, "example.com"), IdentityStatus::kNoCertificate);
}

TEST(MatchIdentity, DnsIdExact) {
  Cert cert = named({dns("example.com")});
  EXPECT_EQ(identity_of(cert, "example.com"), "DNS-ID example.com");
  EXPECT_EQ(identity_of(cert, "example.org"), kMismatch);
  EXPECT_EQ(identity_of(cert, "chat.example.com"), kMismatch);
  EXPECT_EQ(identity_of(cert, "notexample.com"), kMismatch);
  EXPECT_EQ(identity_of(cert, "example.co"), kMismatch);
}

TEST(MatchIdentity, DnsIdIgnoresAsciiCase) {
  EXPECT_EQ(identity_of(named({dns("example.com")}), "ExAmPlE.CoM"), "DNS-ID example.com");
  EXPECT_EQ(identity_of(named({dns("Example.COM")}), "example.com"), "DNS-ID Example.COM");
}

TEST(MatchIdentity, TrailingDotIsIgnored) {
  Cert cert = named({dns("example.com")});
  EXPECT_EQ(identity_of(cert, "example.com."), "DNS-ID example.com");
  EXPECT_EQ(identity_of(cert, "example.com.."), kMismatch);
  EXPECT_EQ(identity_of(named({dns("example.com.")}), "example.com"), "DNS-ID example.com.");
}

TEST(MatchIdentity, BadReferenceDomainsNeverMatch) {
  // A reference must be a plain name, or a wildcard would match itself.
  EXPECT_EQ(identity_of(named({dns("*.example.com")}), "*.example.com"), kMismatch);
  Cert cert = named({dns("example.com")});
  EXPECT_EQ(identity_of(cert, ""), kMismatch);
  EXPECT_EQ(identity_of(cert, "."), kMismatch);
  EXPECT_EQ(identity_of(named({dns("example..com")}), "example..com"), kMismatch);
}

TEST(MatchIdentity, WildcardCoversExactlyOneLabel) {
  Cert cert = named({dns("*.example.com")});
  EXPECT_EQ(identity_of(cert, "chat.example.com"), "DNS-ID *.example.com");
  EXPECT_EQ(identity_of(cert, "CHAT.Example.Com."), "DNS-ID *.example.com");
  EXPECT_EQ(identity_of(cert, "example.com"), kMismatch);
  EXPECT_EQ(identity_of(cert, "a.b.example.com"), kMismatch);
  EXPECT_EQ(identity_of(cert, "chat.example.org"), kMismatch);
}

TEST(MatchIdentity, WildcardNeedsTwoFurtherLabels) {
  EXPECT_EQ(identity_of(named({dns("*.com")}), "example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({dns("*")}), "com"), kMismatch);
  EXPECT_EQ(identity_of(named({dns("*.")}), "com"), kMismatch);
}

TEST(MatchIdentity, PartialOrMisplacedWildcardsNeverMatch) {
  EXPECT_EQ(identity_of(named({dns("f*.example.com")}), "foo.example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({dns("*oo.example.com")}), "foo.example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({dns("f*o.example.com")}), "foo.example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({dns("**.example.com")}), "foo.example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({dns("chat.*.com")}), "chat.example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({dns("*.*.com")}), "chat.example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({dns("xn--*.example.com")}), "xn--bcher-kva.example.com"), kMismatch);
}

TEST(MatchIdentity, WildcardTakesAnALabelAsAWholeLabel) {
  EXPECT_EQ(identity_of(named({dns("*.example.com")}), "xn--bcher-kva.example.com"), "DNS-ID *.example.com");
  EXPECT_EQ(identity_of(named({dns("*.xn--bcher-kva.example")}), "chat.xn--bcher-kva.example"),
            "DNS-ID *.xn--bcher-kva.example");
}

TEST(MatchIdentity, SrvId) {
  Cert cert = named({srv_id("_xmpp-server.example.com")});
  EXPECT_EQ(identity_of(cert, "example.com"), "SRV-ID _xmpp-server.example.com");
  EXPECT_EQ(identity_of(cert, "EXAMPLE.com."), "SRV-ID _xmpp-server.example.com");
  EXPECT_EQ(identity_of(cert, "chat.example.com"), kMismatch);
  EXPECT_EQ(identity_of(cert, "_xmpp-server.example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({srv_id("_XMPP-Server.Example.COM")}), "example.com"), "SRV-ID _XMPP-Server.Example.COM");
}

TEST(MatchIdentity, SrvIdForAnotherServiceDoesNotMatch) {
  EXPECT_EQ(identity_of(named({srv_id("_xmpp-client.example.com")}), "example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({srv_id("example.com")}), "example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({srv_id("_xmpp-server.*.com")}), "example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({srv_id("_xmpp-server.*.example.com")}), "chat.example.com"), kMismatch);
}

TEST(MatchIdentity, SrvIdMustBeAnIa5String) {
  San utf8 = srv_id("_xmpp-server.example.com");
  utf8.string_type = V_ASN1_UTF8STRING;
  EXPECT_EQ(identity_of(named({utf8}), "example.com"), kMismatch);
}

TEST(MatchIdentity, XmppAddr) {
  EXPECT_EQ(identity_of(named({xmpp_addr("example.com")}), "example.com"), "XmppAddr example.com");
  EXPECT_EQ(identity_of(named({xmpp_addr("Example.com")}), "example.COM"), "XmppAddr Example.com");
  EXPECT_EQ(identity_of(named({xmpp_addr("example.com")}), "chat.example.com"), kMismatch);
}

TEST(MatchIdentity, XmppAddrOfAUserOrResourceDoesNotMatch) {
  EXPECT_EQ(identity_of(named({xmpp_addr("user@example.com")}), "example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({xmpp_addr("example.com/server")}), "example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({xmpp_addr("*.example.com")}), "chat.example.com"), kMismatch);
}

TEST(MatchIdentity, XmppAddrMustBeAUtf8String) {
  San ia5 = xmpp_addr("example.com");
  ia5.string_type = V_ASN1_IA5STRING;
  EXPECT_EQ(identity_of(named({ia5}), "example.com"), kMismatch);
}

TEST(MatchIdentity, FirstMatchingSanIsReported) {
  Cert cert = named({dns("other.example"), srv_id("_xmpp-server.example.com"), xmpp_addr("example.com")});
  EXPECT_EQ(identity_of(cert, "example.com"), "SRV-ID _xmpp-server.example.com");
  EXPECT_EQ(identity_of(cert, "other.example"), "DNS-ID other.example");
}

TEST(MatchIdentity, CnIdWithoutSubjectAltName) {
  Cert cert = named({}, {"example.com"});
  EXPECT_EQ(identity_of(cert, "example.com"), "CN-ID example.com");
  EXPECT_EQ(identity_of(cert, "EXAMPLE.COM."), "CN-ID example.com");
  EXPECT_EQ(identity_of(cert, "example.org"), kMismatch);
}

TEST(MatchIdentity, CnIgnoredWhenASupportedSanIsPresent) {
  EXPECT_EQ(identity_of(named({dns("other.example")}, {"example.com"}), "example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({xmpp_addr("other.example")}, {"example.com"}), "example.com"), kMismatch);
  // Even an SRV-ID for another service is a supported type.
  EXPECT_EQ(identity_of(named({srv_id("_xmpp-client.example.com")}, {"example.com"}), "example.com"), kMismatch);
}

TEST(MatchIdentity, CnUsedWhenOnlyUnsupportedSansArePresent) {
  San unknown_other_name{GEN_OTHERNAME, "1.3.6.1.4.1.99999.1", V_ASN1_UTF8STRING, "other.example"};
  Cert cert = named({email("admin@example.com"), unknown_other_name}, {"example.com"});
  EXPECT_EQ(identity_of(cert, "example.com"), "CN-ID example.com");
}

TEST(MatchIdentity, CnFollowsDnsIdRules) {
  Cert wildcard = named({}, {"*.example.com"});
  EXPECT_EQ(identity_of(wildcard, "chat.example.com"), "CN-ID *.example.com");
  EXPECT_EQ(identity_of(wildcard, "example.com"), kMismatch);
  EXPECT_EQ(identity_of(wildcard, "a.b.example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({}, {"f*.example.com"}), "foo.example.com"), kMismatch);
}

TEST(MatchIdentity, EveryCnIsTried) {
  Cert cert = named({}, {"Example Server", "example.com"});
  EXPECT_EQ(identity_of(cert, "example.com"), "CN-ID example.com");
}

TEST(MatchIdentity, UnreadableSubjectAltNameDoesNotFallBackToCn) {
  Cert cert = named({}, {"example.com"});
  // An OCTET STRING holding a truncated SEQUENCE: present, but not decodable.
  const unsigned char garbage[] = {0x30, 0x05, 0x82, 0x03};
  std::unique_ptr<ASN1_OCTET_STRING, Deleter<ASN1_OCTET_STRING_free>> value(ASN1_OCTET_STRING_new());
  ASSERT_TRUE(value);
  ASSERT_EQ(ASN1_OCTET_STRING_set(value.get(), garbage, sizeof garbage), 1);
  ExtensionPtr ext(X509_EXTENSION_create_by_NID(nullptr, NID_subject_alt_name, 0, value.get()));
  ASSERT_TRUE(ext);
  ASSERT_EQ(X509_add_ext(cert.get(), ext.get(), -1), 1);
  EXPECT_EQ(identity_of(cert, "example.com"), kMismatch);
}

TEST(MatchIdentity, NulBytesNeverMatch) {
  EXPECT_EQ(identity_of(named({dns("example.com\0.evil.example"s)}), "example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({dns("example.com\0"s)}), "example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({dns("*.example.com\0"s)}), "chat.example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({srv_id("_xmpp-server.example.com\0"s)}), "example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({xmpp_addr("example.com\0"s)}), "example.com"), kMismatch);
  EXPECT_EQ(identity_of(named({}, {"example.com\0.evil.example"s}), "example.com"), kMismatch);
  // Nor does a NUL in the reference let a presented name with the same bytes through.
  std::string with_nul = "example.com\0.evil.example"s;
  EXPECT_EQ(identity_of(named({dns(with_nul)}), with_nul), kMismatch);
  EXPECT_EQ(identity_of(named({dns("example.com")}), "example.com\0"s), kMismatch);
}

}  // namespace
}  // namespace xmppd::tls
