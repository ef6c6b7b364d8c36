#include "tests/support/test_certificates.h"

#include <openssl/pem.h>

#include <cstdio>

namespace xmppd::testing {

TestCertificate::~TestCertificate() {
  EVP_PKEY_free(key);
  X509_free(certificate);
}

bool make_test_certificate(const std::string& dir, const std::string& host, const std::string& kind,
                           TestCertificate& out) {
  if (kind == "rsa")
    out.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  else if (kind == "ec")
    out.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else
    out.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (out.key == nullptr) return false;
  X509* x = out.certificate = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(host.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509_set_pubkey(x, out.key);
  if (X509_sign(x, out.key, kind == "ed25519" ? nullptr : EVP_sha256()) <= 0) return false;

  out.certificate_path = dir + "/" + host + ".crt";
  out.key_path = dir + "/" + host + ".key";
  FILE* c = fopen(out.certificate_path.c_str(), "w");
  FILE* k = fopen(out.key_path.c_str(), "w");
  bool ok = c && k && PEM_write_X509(c, x) == 1 && PEM_write_PrivateKey(k, out.key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (c) fclose(c);
  if (k) fclose(k);
  return ok;
}

}  // namespace xmppd::testing
