// The real xmppd-tls process under its real sandbox, asked by a client playing the router
// or the s2s worker: what it signs, what it refuses, and what it never sends.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
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
    // The helper logs to its descriptor 2: a file here, so that tests can read its log.
    UniqueFd log(open((dir_ + "/helper.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    UniqueFd saved(fcntl(2, F_DUPFD_CLOEXEC, 0));
    ASSERT_TRUE(log && saved && dup2(log.get(), 2) == 2);
    bool started = helper_.start(build_path("tls-helper/xmppd-tls"), credentials(), error);
    dup2(saved.get(), 2);
    ASSERT_TRUE(started) << error << helper_log();
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "helper log:\n%s", helper_log().c_str());
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::vector<CredentialFiles> credentials() const {
    return {{"client.test", ipc::SERVICE_C2S, c2s_.certificate_path, c2s_.key_path},
            {"server.test", ipc::SERVICE_S2S, s2s_.certificate_path, s2s_.key_path}};
  }

  std::string helper_log() const {
    std::ifstream in(dir_ + "/helper.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

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

// Right after a reload both generations sign: handshakes begun before it still need the old
// key. (That the old one stops after kPreviousGenerationGrace, 60 s, is pinned down by
// key_store_unittest with the time given, not waited for here.)
TEST_F(TlsHelperTest, AfterAReloadThePreviousGenerationStillSignsDuringItsGrace) {
  UniqueFd router;
  std::uint32_t old_key = connect(ipc::ROLE_ROUTER, router, "client.test");
  std::string error;
  ASSERT_TRUE(helper_.load(credentials(), 2, error)) << error;
  ipc::FromTlsHelper update;
  ASSERT_TRUE(read(router.get(), update));
  ASSERT_TRUE(update.has_certificates());
  ASSERT_EQ(update.certificates().certificates_size(), 1);
  std::uint32_t new_key = update.certificates().certificates(0).key_id();
  EXPECT_NE(new_key, old_key) << "key ids are never reused";
  for (std::uint32_t key : {old_key, new_key}) {
    ipc::SignResponse r = ask(router.get(), key, ipc::SCHEME_ECDSA, "SHA256", tls13_certificate_verify("server"));
    EXPECT_FALSE(r.signature().empty()) << "key " << key << ": " << r.error();
  }
  EXPECT_EQ(kill(helper_.pid(), 0), 0) << "arming the retirement timer is within the sandbox";
}

// A compromised router that floods the helper with requests it refuses and never reads an
// answer: the answers pile up to the bound, the link is dropped and reported as a
// violation, the refusals make a few log lines instead of one each, and the s2s worker's
// link goes on signing.
TEST_F(TlsHelperTest, ClientThatNeverReadsIsDroppedAndItsRefusalsAreLoggedInSummary) {
  UniqueFd router, s2s;
  connect(ipc::ROLE_ROUTER, router, "client.test");
  std::uint32_t s2s_key = connect(ipc::ROLE_S2S, s2s, "server.test");

  ipc::ToTlsHelper request;
  request.mutable_sign()->set_key_id(424242);  // no such key: refused without any signing
  request.mutable_sign()->set_scheme(ipc::SCHEME_ECDSA);
  request.mutable_sign()->set_digest("SHA256");
  request.mutable_sign()->set_message(std::string(200, 'x'));
  int sent = 0;
  for (; sent < 500000; ++sent) {
    request.mutable_sign()->set_request_id(static_cast<std::uint64_t>(sent));
    std::string bytes = request.SerializeAsString();
    if (ipc::send_record(router.get(), std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                         {}) != ipc::SendStatus::kSent)
      break;
  }
  EXPECT_LT(sent, 500000) << "the helper never dropped the link";
  EXPECT_GT(sent, 1000) << "dropped before its queue could have filled";

  ipc::ChildToParent report;
  bool reported = false;
  while (!reported && helper_.receive(report, 10000)) reported = report.has_peer_violation();
  ASSERT_TRUE(reported);
  EXPECT_EQ(report.peer_violation().peer(), ipc::ROLE_ROUTER);
  EXPECT_NE(report.peer_violation().reason().find("peer stopped reading"), std::string::npos)
      << report.peer_violation().reason();

  // Nothing else was lost: the helper lives and the other link still signs.
  EXPECT_EQ(kill(helper_.pid(), 0), 0);
  ipc::SignResponse r = ask(s2s.get(), s2s_key, ipc::SCHEME_RSA_PSS, "SHA256", tls13_certificate_verify("server"));
  EXPECT_FALSE(r.signature().empty()) << r.error();

  // The summary of the counted refusals comes at the end of their second; wait for it
  // with a wide margin (a loaded machine).
  std::string log;
  for (int i = 0; i < 100 && log.find(" more times in the last 1 s") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    log = helper_log();
  }
  int lines = 0;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) lines += line.find("refused to sign for router") != std::string::npos;
  EXPECT_NE(log.find(" more times in the last 1 s (last: key 424242 is not one this process uses)"), std::string::npos);
  EXPECT_LE(lines, 30) << sent << " refusals, logged once a second at most";
}

}  // namespace
}  // namespace xmppd::testing
