// Trust stores built from DER anchors decide peer verification as the anchors say.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tls/peer_verify.h"
#include "tls/trust_store.h"

namespace xmppd::tls {
namespace {

struct Issued {
  EVP_PKEY* key;
  X509* cert;
  ~Issued() {
    EVP_PKEY_free(key);
    X509_free(cert);
  }
};

// A CA-less self-signed certificate is its own anchor; enough to tell trusted from not.
void make(Issued& out, const char* cn) {
  out.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  out.cert = X509_new();
  X509_set_version(out.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(out.cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(out.cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(out.cert), 3600);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(out.cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(out.cert, X509_get_subject_name(out.cert));
  X509_set_pubkey(out.cert, out.key);
  X509_sign(out.cert, out.key, EVP_sha256());
}

std::string der_of(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  std::string bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return bytes;
}

TEST(TrustStore, AnchorsDecideTrust) {
  Issued trusted, stranger;
  make(trusted, "trusted.example");
  make(stranger, "stranger.example");
  ipc::TrustStore anchors;
  anchors.add_anchors(der_of(trusted.cert));
  anchors.add_anchors("not a certificate");
  std::size_t loaded = 0;
  X509StorePtr store = build_trust_store(anchors, loaded);
  EXPECT_EQ(loaded, 1u);
  EXPECT_EQ(verify_peer(trusted.cert, nullptr, store.get(), "trusted.example").chain, ChainStatus::kTrusted);
  EXPECT_EQ(verify_peer(stranger.cert, nullptr, store.get(), "stranger.example").chain, ChainStatus::kSelfSigned);
}

TEST(TrustStore, EachHostGetsItsOwnStore) {
  Issued a;
  make(a, "a.example");
  ipc::S2sSettings settings;
  settings.add_trust_stores()->add_anchors(der_of(a.cert));
  settings.add_trust_stores();  // an empty store
  ipc::HostTls* first = settings.add_tls();
  first->set_host("one.test");
  first->set_trust_store(0);
  ipc::HostTls* second = settings.add_tls();
  second->set_host("two.test");
  second->set_trust_store(1);
  TrustStores stores;
  stores.configure(settings);
  EXPECT_EQ(verify_peer(a.cert, nullptr, stores.for_host("one.test"), "a.example").chain, ChainStatus::kTrusted);
  EXPECT_NE(verify_peer(a.cert, nullptr, stores.for_host("two.test"), "a.example").chain, ChainStatus::kTrusted);
  EXPECT_EQ(stores.for_host("three.test"), nullptr);
}

}  // namespace
}  // namespace xmppd::tls
