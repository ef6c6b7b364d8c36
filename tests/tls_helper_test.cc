// The real xmppd-tls process under its real sandbox, asked by a client playing the router
// or the s2s worker: what it signs, what it refuses, and what it never sends.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <poll.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "proto/channel.h"
#include "proto/frame.h"
#include "tests/support/test_certificates.h"
#include "tests/support/tls_helper_process.h"
#include "tls_signer.pb.h"

namespace xmppd::testing {
namespace {

std::vector<std::uint8_t> tls13_certificate_verify(const std::string& side) {
  std::vector<std::uint8_t> m(64, 0x20);
  std::string context = "TLS 1.3, " + side + " CertificateVerify";
  m.insert(m.end(), context.begin(), context.end());
  m.push_back(0);
  m.insert(m.end(), 32, 0xab);  // a SHA-256 transcript hash
  return m;
}

class TlsHelperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/xmppd-tls-helper-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(make_test_certificate(dir_, "client.test", "ec", c2s_));
    ASSERT_TRUE(make_test_certificate(dir_, "server.test", "rsa", s2s_));
    std::string error;
    ASSERT_TRUE(helper_.start(build_path("tls-helper/xmppd-tls"),
                              {{"client.test", ipc::SERVICE_C2S, c2s_.certificate_path, c2s_.key_path},
                               {"server.test", ipc::SERVICE_S2S, s2s_.certificate_path, s2s_.key_path}},
                              error))
        << error;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  // Reads one record from a link; false on end of link or timeout.
  static bool read(int fd, ipc::FromTlsHelper& message) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return false;
    std::vector<std::uint8_t> buffer(1 << 20);
    std::vector<UniqueFd> fds;
    std::size_t length = 0;
    std::string why;
    return ipc::recv_record(fd, buffer, 0, length, fds) == ipc::RecvStatus::kRecord &&
           ipc::decode_envelope(message, std::span(buffer.data(), length), why);
  }

  static ipc::SignResponse ask(int fd, std::uint32_t key_id, ipc::SignatureScheme scheme, const std::string& digest,
                               const std::vector<std::uint8_t>& message) {
    static std::uint64_t next = 1;
    ipc::ToTlsHelper request;
    request.mutable_sign()->set_request_id(next++);
    request.mutable_sign()->set_key_id(key_id);
    request.mutable_sign()->set_scheme(scheme);
    request.mutable_sign()->set_digest(digest);
    request.mutable_sign()->set_message(message.data(), message.size());
    std::string bytes = request.SerializeAsString();
    EXPECT_EQ(ipc::send_record(fd, std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), {}),
              ipc::SendStatus::kSent);
    ipc::FromTlsHelper answer;
    EXPECT_TRUE(read(fd, answer));
    EXPECT_TRUE(answer.has_signature());
    EXPECT_EQ(answer.signature().request_id(), request.sign().request_id());
    return answer.signature();
  }

  // Links as `role` and returns the key id of the one certificate the helper announces.
  std::uint32_t connect(ipc::Role role, UniqueFd& link, const std::string& expected_host) {
    link = helper_.link(role);
    ipc::FromTlsHelper first;
    EXPECT_TRUE(read(link.get(), first));
    EXPECT_TRUE(first.has_certificates());
    EXPECT_EQ(first.certificates().certificates_size(), 1);
    if (first.certificates().certificates_size() != 1) return 0;
    EXPECT_EQ(first.certificates().certificates(0).host(), expected_host);
    return first.certificates().certificates(0).key_id();
  }

  static bool verifies(EVP_PKEY* key, const std::string& digest, bool pss, const std::vector<std::uint8_t>& message,
                       const std::string& signature) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    bool ok = EVP_DigestVerifyInit_ex(ctx, &pctx, digest.empty() ? nullptr : digest.c_str(), nullptr, nullptr, key,
                                      nullptr) == 1;
    if (ok && pss)
      ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    ok = ok && EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                message.data(), message.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
  }

  std::string dir_;
  TestCertificate c2s_, s2s_;
  TlsHelperProcess helper_;
};

TEST_F(TlsHelperTest, EachClientSeesOnlyTheCertificatesOfItsService) {
  UniqueFd router, s2s;
  EXPECT_NE(connect(ipc::ROLE_ROUTER, router, "client.test"), 0u);
  EXPECT_NE(connect(ipc::ROLE_S2S, s2s, "server.test"), 0u);
}

TEST_F(TlsHelperTest, CertificateSetCarriesNoKeyMaterial) {
  UniqueFd router = helper_.link(ipc::ROLE_ROUTER);
  ipc::FromTlsHelper first;
  ASSERT_TRUE(read(router.get(), first));
  std::string bytes = first.SerializeAsString();
  unsigned char* der = nullptr;
  int len = i2d_PrivateKey(c2s_.key, &der);
  ASSERT_GT(len, 0);
  // The EC private key's DER holds the scalar; its last 32 bytes of the scalar must not appear.
  EXPECT_EQ(bytes.find(std::string(reinterpret_cast<char*>(der), static_cast<std::size_t>(len))), std::string::npos);
  EXPECT_EQ(bytes.find("PRIVATE KEY"), std::string::npos);
  OPENSSL_free(der);
}

TEST_F(TlsHelperTest, SignsATls13CertificateVerifyForItsOwnKey) {
  UniqueFd router;
  std::uint32_t key = connect(ipc::ROLE_ROUTER, router, "client.test");
  auto message = tls13_certificate_verify("server");
  ipc::SignResponse r = ask(router.get(), key, ipc::SCHEME_ECDSA, "SHA256", message);
  EXPECT_EQ(r.error(), "");
  EXPECT_TRUE(verifies(c2s_.key, "SHA256", false, message, r.signature()));
}

TEST_F(TlsHelperTest, SignsRsaPssForTheS2sWorker) {
  UniqueFd s2s;
  std::uint32_t key = connect(ipc::ROLE_S2S, s2s, "server.test");
  auto message = tls13_certificate_verify("server");
  ipc::SignResponse r = ask(s2s.get(), key, ipc::SCHEME_RSA_PSS, "SHA256", message);
  EXPECT_EQ(r.error(), "");
  EXPECT_TRUE(verifies(s2s_.key, "SHA256", true, message, r.signature()));
}

TEST_F(TlsHelperTest, RefusesArbitraryData) {
  UniqueFd router;
  std::uint32_t key = connect(ipc::ROLE_ROUTER, router, "client.test");
  std::string text = "{\"sub\":\"admin\",\"exp\":9999999999}";
  ipc::SignResponse r = ask(router.get(), key, ipc::SCHEME_ECDSA, "SHA256", {text.begin(), text.end()});
  EXPECT_TRUE(r.signature().empty());
  EXPECT_NE(r.error().find("not a TLS handshake signature input"), std::string::npos) << r.error();
}

TEST_F(TlsHelperTest, RefusesAKeyOfTheOtherService) {
  UniqueFd router, s2s;
  connect(ipc::ROLE_ROUTER, router, "client.test");
  std::uint32_t s2s_key = connect(ipc::ROLE_S2S, s2s, "server.test");
  ipc::SignResponse r =
      ask(router.get(), s2s_key, ipc::SCHEME_RSA_PSS, "SHA256", tls13_certificate_verify("server"));
  EXPECT_TRUE(r.signature().empty());
  EXPECT_NE(r.error().find("is not one this process uses"), std::string::npos) << r.error();
}

TEST_F(TlsHelperTest, ClientCertificateVerifyOnlyForTheS2sWorker) {
  UniqueFd router, s2s;
  std::uint32_t c2s_key = connect(ipc::ROLE_ROUTER, router, "client.test");
  std::uint32_t s2s_key = connect(ipc::ROLE_S2S, s2s, "server.test");
  auto message = tls13_certificate_verify("client");
  EXPECT_TRUE(ask(router.get(), c2s_key, ipc::SCHEME_ECDSA, "SHA256", message).signature().empty());
  EXPECT_FALSE(ask(s2s.get(), s2s_key, ipc::SCHEME_RSA_PSS, "SHA256", message).signature().empty());
}

TEST_F(TlsHelperTest, RefusesPkcs1InTls13) {
  UniqueFd s2s;
  std::uint32_t key = connect(ipc::ROLE_S2S, s2s, "server.test");
  EXPECT_TRUE(
      ask(s2s.get(), key, ipc::SCHEME_RSA_PKCS1, "SHA256", tls13_certificate_verify("server")).signature().empty());
}

TEST_F(TlsHelperTest, GarbageEndsTheLinkAndIsReportedToTheParent) {
  UniqueFd router;
  connect(ipc::ROLE_ROUTER, router, "client.test");
  const std::uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  ASSERT_EQ(ipc::send_record(router.get(), garbage, {}), ipc::SendStatus::kSent);
  ipc::FromTlsHelper none;
  EXPECT_FALSE(read(router.get(), none));  // the helper closed its end
  ipc::ChildToParent report;
  bool reported = false;
  while (!reported && helper_.receive(report, 5000)) reported = report.has_peer_violation();
  ASSERT_TRUE(reported);
  EXPECT_EQ(report.peer_violation().peer(), ipc::ROLE_ROUTER);
  EXPECT_EQ(report.peer_violation().reason(), "record does not decode");
}

}  // namespace
}  // namespace xmppd::testing
