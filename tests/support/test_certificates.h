// Keys and self-signed certificates written to files, for tests and benchmarks.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>

namespace xmppd::testing {

struct TestCertificate {
  std::string certificate_path, key_path;
  EVP_PKEY* key = nullptr;  // owned
  X509* certificate = nullptr;  // owned
  TestCertificate() = default;
  TestCertificate(const TestCertificate&) = delete;
  TestCertificate& operator=(const TestCertificate&) = delete;
  ~TestCertificate();
};

// kind: "rsa" (2048), "ec" (P-256) or "ed25519". Files go to dir/host.crt and dir/host.key.
bool make_test_certificate(const std::string& dir, const std::string& host, const std::string& kind,
                           TestCertificate& out);

}  // namespace xmppd::testing
