// Full TLS handshakes in memory whose server key lives behind a RemoteSigner that applies the
// tls helper's own checks and signing code: RSA, ECDSA and Ed25519 in TLS 1.2 and 1.3.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "tls-helper/key_store.h"
#include "tls-helper/signing_input.h"
#include "tls/remote_key.h"
#include "tls/server_contexts.h"

namespace xmppd::tls {
namespace {

using tls_helper::EvpPkeyPtr;

struct Environment : ::testing::Environment {
  void SetUp() override { ASSERT_TRUE(init_remote_keys()); }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new Environment);

// What the tls helper does with a request, in-process.
struct LocalHolder : RemoteSigner {
  tls_helper::HeldKey key{"example.com", ipc::SERVICE_C2S, 7, ipc::KEY_TYPE_UNSPECIFIED, nullptr, {}};
  std::vector<ipc::SignatureScheme> schemes;
  std::vector<tls_helper::SigningInput> inputs;
  bool refuse = false;
  tls_helper::ServerVersions versions = tls_helper::ServerVersions::kTls13Allowed;

  bool sign(std::uint32_t key_id, ipc::SignatureScheme scheme, std::string_view digest,
            std::span<const std::uint8_t> message, std::vector<std::uint8_t>& signature) override {
    if (refuse || key_id != key.key_id) return false;
    auto input = tls_helper::classify_signing_input(message, versions);
    inputs.push_back(input);
    schemes.push_back(scheme);
    if (!tls_helper::scheme_allowed(input, scheme)) return false;
    std::string error;
    auto result = tls_helper::sign(key, scheme, digest, message, error);
    if (!result) return false;
    signature = std::move(*result);
    return true;
  }
};

ipc::KeyType type_of(const std::string& kind) {
  return kind == "RSA" ? ipc::KEY_TYPE_RSA : kind == "Ed25519" ? ipc::KEY_TYPE_ED25519 : ipc::KEY_TYPE_EC;
}

EvpPkeyPtr generate(const std::string& kind) {
  if (kind == "RSA") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  if (kind == "P-256") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (kind == "P-384") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
}

X509* self_signed(EVP_PKEY* key) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("example.com"), -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509_set_pubkey(x, key);
  bool ed = EVP_PKEY_is_a(key, "ED25519");
  X509_sign(x, key, ed ? nullptr : EVP_sha256());
  return x;
}

struct HandshakeResult {
  bool ok = false;
  std::string version;
};

// Runs client and server against each other through a BIO pair until both are done.
HandshakeResult handshake(SSL_CTX* server_ctx, X509* trusted, int version) {
  SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(client_ctx, version);
  SSL_CTX_set_max_proto_version(client_ctx, version);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx), trusted);
  SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, nullptr);
  SSL* client = SSL_new(client_ctx);
  SSL* server = SSL_new(server_ctx);
  BIO *client_bio, *server_bio;
  BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
  SSL_set_bio(client, client_bio, client_bio);
  SSL_set_bio(server, server_bio, server_bio);
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
  HandshakeResult result;
  bool client_done = false, server_done = false;
  for (int i = 0; i < 100 && !(client_done && server_done); ++i) {
    if (!client_done) {
      int rc = SSL_do_handshake(client);
      client_done = rc == 1;
      if (rc <= 0 && SSL_get_error(client, rc) != SSL_ERROR_WANT_READ) break;
    }
    if (!server_done) {
      int rc = SSL_do_handshake(server);
      server_done = rc == 1;
      if (rc <= 0 && SSL_get_error(server, rc) != SSL_ERROR_WANT_READ) break;
    }
  }
  result.ok = client_done && server_done && SSL_get_verify_result(client) == X509_V_OK;
  result.version = SSL_get_version(client);
  if (getenv("DEBUG_TLS")) ERR_print_errors_fp(stderr);
  ERR_clear_error();
  SSL_free(client);
  SSL_free(server);
  SSL_CTX_free(client_ctx);
  return result;
}

struct Case {
  std::string key;
  int version;
  ipc::SignatureScheme expected;
};

class RemoteKeyHandshake : public ::testing::TestWithParam<Case> {};

TEST_P(RemoteKeyHandshake, CompletesWithTheKeyElsewhere) {
  const Case& c = GetParam();
  LocalHolder holder;
  holder.key.key = generate(c.key);
  holder.key.type = type_of(c.key);
  ASSERT_TRUE(holder.key.key);
  X509* cert = self_signed(holder.key.key.get());
  set_remote_signer(&holder);

  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  ipc::HostTls options;
  std::string error;
  ASSERT_TRUE(apply_tls_options(ctx.get(), options, error)) << error;
  ASSERT_EQ(SSL_CTX_use_certificate(ctx.get(), cert), 1);
  EVP_PKEY* remote = make_remote_key(cert, holder.key.key_id);
  ASSERT_NE(remote, nullptr);
  ASSERT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), remote), 1);
  EVP_PKEY_free(remote);

  HandshakeResult r = handshake(ctx.get(), cert, c.version);
  EXPECT_TRUE(r.ok) << "handshake as " << r.version;
  ASSERT_EQ(holder.schemes.size(), 1u) << "exactly one signature per handshake";
  EXPECT_EQ(holder.schemes[0], c.expected);
  EXPECT_EQ(holder.inputs[0], c.version == TLS1_3_VERSION ? tls_helper::SigningInput::kTls13ServerCertificateVerify
                                                          : tls_helper::SigningInput::kTls12ServerKeyExchange);
  set_remote_signer(nullptr);
  X509_free(cert);
}

INSTANTIATE_TEST_SUITE_P(
    KeysAndVersions, RemoteKeyHandshake,
    ::testing::Values(Case{"RSA", TLS1_3_VERSION, ipc::SCHEME_RSA_PSS}, Case{"RSA", TLS1_2_VERSION, ipc::SCHEME_RSA_PSS},
                      Case{"P-256", TLS1_3_VERSION, ipc::SCHEME_ECDSA}, Case{"P-256", TLS1_2_VERSION, ipc::SCHEME_ECDSA},
                      Case{"P-384", TLS1_3_VERSION, ipc::SCHEME_ECDSA},
                      Case{"Ed25519", TLS1_3_VERSION, ipc::SCHEME_ED25519},
                      Case{"Ed25519", TLS1_2_VERSION, ipc::SCHEME_ED25519}),
    [](const auto& info) {
      std::string name = info.param.key + (info.param.version == TLS1_3_VERSION ? "_TLS13" : "_TLS12");
      for (char& ch : name)
        if (ch == '-') ch = '_';
      return name;
    });

// The downgrade sentinel as OpenSSL really sends it: a server that allows TLS 1.3 and meets
// a TLS 1.2 client puts it in its random (the TLS12 cases above pass the strict check); a
// server limited to TLS 1.2 does not, and the helper must be told so.
TEST(RemoteKey, ServerLimitedToTls12SendsNoDowngradeSentinel) {
  for (auto versions : {tls_helper::ServerVersions::kTls13Allowed, tls_helper::ServerVersions::kUpToTls12}) {
    LocalHolder holder;
    holder.versions = versions;
    holder.key.key = generate("P-256");
    holder.key.type = ipc::KEY_TYPE_EC;
    X509* cert = self_signed(holder.key.key.get());
    set_remote_signer(&holder);
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    ipc::HostTls options;
    options.set_protocol("tlsv1_2");
    std::string error;
    ASSERT_TRUE(apply_tls_options(ctx.get(), options, error)) << error;
    ASSERT_EQ(SSL_CTX_use_certificate(ctx.get(), cert), 1);
    EVP_PKEY* remote = make_remote_key(cert, holder.key.key_id);
    ASSERT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), remote), 1);
    EVP_PKEY_free(remote);

    HandshakeResult r = handshake(ctx.get(), cert, TLS1_2_VERSION);
    bool strict = versions == tls_helper::ServerVersions::kTls13Allowed;
    EXPECT_EQ(r.ok, !strict) << (strict ? "the strict check refuses" : "told the truth, the helper signs");
    ASSERT_EQ(holder.inputs.size(), 1u);
    EXPECT_EQ(holder.inputs[0],
              strict ? tls_helper::SigningInput::kUnknown : tls_helper::SigningInput::kTls12ServerKeyExchange);
    set_remote_signer(nullptr);
    X509_free(cert);
  }
}

TEST(RemoteKey, HandshakeFailsWhenTheHolderRefuses) {
  LocalHolder holder;
  holder.key.key = generate("P-256");
  holder.key.type = ipc::KEY_TYPE_EC;
  holder.refuse = true;
  X509* cert = self_signed(holder.key.key.get());
  set_remote_signer(&holder);
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_use_certificate(ctx.get(), cert);
  EVP_PKEY* remote = make_remote_key(cert, holder.key.key_id);
  SSL_CTX_use_PrivateKey(ctx.get(), remote);
  EVP_PKEY_free(remote);
  EXPECT_FALSE(handshake(ctx.get(), cert, TLS1_3_VERSION).ok);
  set_remote_signer(nullptr);
  X509_free(cert);
}

TEST(RemoteKey, HandshakeFailsWithoutASigner) {
  EvpPkeyPtr key = generate("P-256");
  X509* cert = self_signed(key.get());
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_use_certificate(ctx.get(), cert);
  EVP_PKEY* remote = make_remote_key(cert, 1);
  SSL_CTX_use_PrivateKey(ctx.get(), remote);
  EVP_PKEY_free(remote);
  EXPECT_FALSE(handshake(ctx.get(), cert, TLS1_3_VERSION).ok);
  X509_free(cert);
}

TEST(RemoteKey, RemoteKeyDoesNotMatchAnotherCertificate) {
  EvpPkeyPtr key = generate("P-256"), other = generate("P-256");
  X509* cert = self_signed(key.get());
  X509* other_cert = self_signed(other.get());
  EVP_PKEY* remote = make_remote_key(cert, 1);
  ASSERT_NE(remote, nullptr);
  EXPECT_EQ(X509_check_private_key(cert, remote), 1);
  EXPECT_NE(X509_check_private_key(other_cert, remote), 1);
  ERR_clear_error();
  EVP_PKEY_free(remote);
  X509_free(cert);
  X509_free(other_cert);
}

TEST(RemoteKey, HoldsNoPrivatePart) {
  EvpPkeyPtr key = generate("RSA");
  X509* cert = self_signed(key.get());
  EVP_PKEY* remote = make_remote_key(cert, 1);
  ASSERT_NE(remote, nullptr);
  BIGNUM* p = nullptr;
  EXPECT_NE(EVP_PKEY_get_bn_param(remote, OSSL_PKEY_PARAM_RSA_FACTOR1, &p), 1);
  BN_free(p);
  BIO* out = BIO_new(BIO_s_mem());
  EXPECT_NE(PEM_write_bio_PrivateKey(out, remote, nullptr, nullptr, 0, nullptr, nullptr), 1);
  BIO_free(out);
  ERR_clear_error();
  EVP_PKEY_free(remote);
  X509_free(cert);
}

}  // namespace
}  // namespace xmppd::tls
