// The tls helper's keys: what load_keys accepts and refuses, what KeyStore keeps and hands
// out (certificates, never keys), and that sign() produces signatures the certificate's
// public key verifies, for exactly the schemes that fit the key.
#include "tls-helper/key_store.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ui.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xmppd::tls_helper {
namespace {

// Any fixed instant: the store compares times, it never reads the clock.
const KeyStore::Clock::time_point kT0 = KeyStore::Clock::time_point() + std::chrono::hours(1000);

using Bytes = std::vector<std::uint8_t>;

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using UiMethodPtr = std::unique_ptr<UI_METHOD, Deleter<UI_destroy_method>>;

// The moment load_keys is told it is: 2025-06-15. Certificates are valid around it unless a
// test says otherwise.
constexpr std::time_t kNow = 1'750'000'000;
constexpr std::time_t kDay = 86400;

// ---------------------------------------------------------------------------------------
// Keys, certificates and their PEM files, made in memory

EvpPkeyPtr generate(std::string_view kind) {
  if (kind == "RSA-2048") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
  if (kind == "RSA-1024") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
  if (kind == "P-256") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (kind == "P-384") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  if (kind == "P-521") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"));
  if (kind == "secp256k1") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  if (kind == "Ed25519") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (kind == "Ed448") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
  return nullptr;
}

// Key generation (RSA above all) is slow: each distinct (kind, n) is made once per run.
EVP_PKEY* key(const std::string& kind, int n = 0) {
  static std::map<std::pair<std::string, int>, EvpPkeyPtr> keys;
  EvpPkeyPtr& k = keys[{kind, n}];
  if (!k) k = generate(kind);
  return k.get();
}

EvpPkeyPtr owned(EVP_PKEY* k) {
  EVP_PKEY_up_ref(k);
  return EvpPkeyPtr(k);
}

ipc::KeyType type_of(std::string_view kind) {
  if (kind.starts_with("RSA")) return ipc::KEY_TYPE_RSA;
  if (kind == "Ed25519") return ipc::KEY_TYPE_ED25519;
  return ipc::KEY_TYPE_EC;
}

bool signs_without_digest(EVP_PKEY* k) { return EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448"); }

// A certificate for `subject_key`, signed by `issuer_key` (self-signed when that is null).
X509Ptr certificate(EVP_PKEY* subject_key, const std::string& cn, EVP_PKEY* issuer_key = nullptr,
                    const X509* issuer = nullptr, std::time_t not_before = kNow - kDay,
                    std::time_t not_after = kNow + 30 * kDay) {
  X509Ptr x(X509_new());
  if (!x || subject_key == nullptr) return nullptr;
  static long serial = 1;
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial++);
  ASN1_TIME_set(X509_getm_notBefore(x.get()), not_before);
  ASN1_TIME_set(X509_getm_notAfter(x.get()), not_after);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x.get()));
  X509_set_pubkey(x.get(), subject_key);
  EVP_PKEY* signer = issuer_key ? issuer_key : subject_key;
  if (X509_sign(x.get(), signer, signs_without_digest(signer) ? nullptr : EVP_sha256()) <= 0) return nullptr;
  return x;
}

std::string contents(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::string pem(const X509* x) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), x) != 1) return {};
  return contents(bio.get());
}

std::string pem(const EVP_PKEY* k) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), k, nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  return contents(bio.get());
}

std::string der(const X509* x) {
  unsigned char* out = nullptr;
  int length = i2d_X509(x, &out);
  if (length <= 0) return {};
  std::string result(reinterpret_cast<char*>(out), static_cast<std::size_t>(length));
  OPENSSL_free(out);
  return result;
}

// ---------------------------------------------------------------------------------------
// Loading

// Whether some message names `path` and says `what`; lists the messages when not.
::testing::AssertionResult has_message(const std::vector<std::string>& messages, const std::string& path,
                                       std::string_view what) {
  for (const std::string& m : messages)
    if (m.find(path) != std::string::npos && m.find(what) != std::string::npos) return ::testing::AssertionSuccess();
  auto failure = ::testing::AssertionFailure() << "no message names \"" << path << "\" and says \"" << what
                                               << "\"; there are " << messages.size() << ":";
  for (const std::string& m : messages) failure << "\n  " << m;
  return failure;
}

class LoadKeys : public ::testing::Test {
 protected:
  static std::string cert_path(const std::string& name) { return "/etc/xmppd/tls/" + name + ".crt"; }
  static std::string key_path(const std::string& name) { return "/etc/xmppd/tls/" + name + ".key"; }

  // A credential whose files hold `cert_pem` and `key_pem`; std::nullopt leaves a file out.
  void add(const std::string& name, ipc::Service service, std::optional<std::string> cert_pem,
           std::optional<std::string> key_pem, const std::string& host = "") {
    ipc::Credential* c = settings.add_credentials();
    c->set_host(host.empty() ? name + ".example" : host);
    c->set_service(service);
    c->set_certificate_path(cert_path(name));
    c->set_key_path(key_path(name));
    if (cert_pem) files[cert_path(name)] = *cert_pem;
    if (key_pem) files[key_path(name)] = *key_pem;
  }

  // A credential for `k` with a self-signed certificate for it.
  void add_key(const std::string& name, EVP_PKEY* k, ipc::Service service = ipc::SERVICE_C2S) {
    X509Ptr cert = certificate(k, name + ".example");
    ASSERT_TRUE(cert);
    add(name, service, pem(cert.get()), pem(k));
  }

  std::optional<std::vector<HeldKey>> load(std::time_t now = kNow) {
    return load_keys(settings, files, next_key_id, report, now);
  }

  ipc::TlsSettings settings;
  std::map<std::string, std::string> files;
  std::uint32_t next_key_id = 1;
  LoadReport report;
};

TEST_F(LoadKeys, LoadsRsaEcAndEd25519KeysWithConsecutiveIdsFromNextKeyId) {
  const std::vector<std::string> kinds = {"RSA-2048", "P-256", "P-384", "Ed25519"};
  std::vector<X509Ptr> certs;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    certs.push_back(certificate(key(kinds[i]), "host" + std::to_string(i)));
    ASSERT_TRUE(certs.back());
    add("host" + std::to_string(i), i % 2 ? ipc::SERVICE_S2S : ipc::SERVICE_C2S, pem(certs.back().get()),
        pem(key(kinds[i])));
  }
  next_key_id = 41;
  auto keys = load();
  ASSERT_TRUE(keys) << ::testing::PrintToString(report.errors);
  EXPECT_TRUE(report.errors.empty());
  EXPECT_TRUE(report.warnings.empty()) << ::testing::PrintToString(report.warnings);
  ASSERT_EQ(keys->size(), kinds.size());
  EXPECT_EQ(next_key_id, 45u);
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const HeldKey& k = (*keys)[i];
    SCOPED_TRACE(kinds[i]);
    EXPECT_EQ(k.key_id, 41u + i);
    EXPECT_EQ(k.type, type_of(kinds[i]));
    EXPECT_EQ(k.host, "host" + std::to_string(i) + ".example");
    EXPECT_EQ(k.service, i % 2 ? ipc::SERVICE_S2S : ipc::SERVICE_C2S);
    ASSERT_TRUE(k.key);
    EXPECT_EQ(EVP_PKEY_eq(k.key.get(), key(kinds[i])), 1) << "the key of the file";
    ASSERT_EQ(k.chain.size(), 1u);
    EXPECT_EQ(k.chain[0], der(certs[i].get()));
  }
}

TEST_F(LoadKeys, AHostLimitedToTls12ExemptsOnlyItsOwnKeyFromTheDowngradeSentinel) {
  add_key("chat", key("P-256"), ipc::SERVICE_C2S);
  add_key("legacy", key("P-256"), ipc::SERVICE_C2S);
  add_key("fed", key("P-256"), ipc::SERVICE_S2S);
  settings.mutable_credentials(1)->set_protocol("tlsv1_2");
  settings.mutable_credentials(2)->set_protocol("tlsv1_2+");
  auto keys = load();
  ASSERT_TRUE(keys && keys->size() == 3) << ::testing::PrintToString(report.errors);
  // Per host: SNI moves a handshake to its host's versions before they are chosen, so
  // legacy's TLS 1.2 limit exempts legacy's key alone from the sentinel.
  EXPECT_EQ((*keys)[0].versions, ServerVersions::kTls13Allowed);
  EXPECT_EQ((*keys)[1].versions, ServerVersions::kUpToTls12);
  EXPECT_EQ((*keys)[2].versions, ServerVersions::kTls13Allowed);

  for (const char* protocol : {"", "tlsv1_2+", "tlsv1_3", "tlsv1_3+"}) {
    settings.mutable_credentials(1)->set_protocol(protocol);
    EXPECT_EQ(credential_versions(settings.credentials(1)), ServerVersions::kTls13Allowed) << '"' << protocol << '"';
  }
}

TEST_F(LoadKeys, LoadsP521Key) {
  add_key("p521", key("P-521"));
  auto keys = load();
  ASSERT_TRUE(keys) << ::testing::PrintToString(report.errors);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].type, ipc::KEY_TYPE_EC);
}

TEST_F(LoadKeys, KeyIdsAreNeverReusedAcrossLoads) {
  add_key("a", key("P-256"));
  add_key("b", key("Ed25519"));
  auto first = load();
  ASSERT_TRUE(first);
  auto second = load();
  ASSERT_TRUE(second);
  ASSERT_EQ(first->size(), 2u);
  ASSERT_EQ(second->size(), 2u);
  EXPECT_EQ((*first)[0].key_id, 1u);
  EXPECT_EQ((*first)[1].key_id, 2u);
  EXPECT_EQ((*second)[0].key_id, 3u);
  EXPECT_EQ((*second)[1].key_id, 4u);
  EXPECT_EQ(next_key_id, 5u);
}

TEST_F(LoadKeys, NoCredentialsLoadAnEmptySet) {
  next_key_id = 9;
  auto keys = load();
  ASSERT_TRUE(keys);
  EXPECT_TRUE(keys->empty());
  EXPECT_EQ(next_key_id, 9u);
}

TEST_F(LoadKeys, ChainHoldsLeafFirstThenIntermediate) {
  EVP_PKEY* ca_key = key("P-384", 1);
  EVP_PKEY* leaf_key = key("P-256", 1);
  X509Ptr intermediate = certificate(ca_key, "Example Intermediate CA");
  X509Ptr leaf = certificate(leaf_key, "chat.example", ca_key, intermediate.get());
  ASSERT_TRUE(intermediate && leaf);
  add("chat", ipc::SERVICE_C2S, pem(leaf.get()) + pem(intermediate.get()), pem(leaf_key));
  auto keys = load();
  ASSERT_TRUE(keys) << ::testing::PrintToString(report.errors);
  ASSERT_EQ(keys->size(), 1u);
  const HeldKey& k = (*keys)[0];
  ASSERT_EQ(k.chain.size(), 2u);
  EXPECT_EQ(k.chain[0], der(leaf.get()));
  EXPECT_EQ(k.chain[1], der(intermediate.get()));
  EXPECT_EQ(k.type, ipc::KEY_TYPE_EC);
  EXPECT_EQ(EVP_PKEY_eq(k.key.get(), leaf_key), 1);
}

TEST_F(LoadKeys, FirstCertificateOfTheFileIsTakenAsTheLeaf) {
  // The intermediate first: the key belongs to the second certificate, which is not the leaf.
  EVP_PKEY* ca_key = key("P-384", 1);
  EVP_PKEY* leaf_key = key("P-256", 1);
  X509Ptr intermediate = certificate(ca_key, "Example Intermediate CA");
  X509Ptr leaf = certificate(leaf_key, "chat.example", ca_key, intermediate.get());
  ASSERT_TRUE(intermediate && leaf);
  add("chat", ipc::SERVICE_C2S, pem(intermediate.get()) + pem(leaf.get()), pem(leaf_key));
  EXPECT_FALSE(load());
  EXPECT_TRUE(has_message(report.errors, key_path("chat"), "does not match"));
}

TEST_F(LoadKeys, KeyNotMatchingTheCertificateIsRefused) {
  X509Ptr cert = certificate(key("P-256", 1), "mismatch.example");
  ASSERT_TRUE(cert);
  add("mismatch", ipc::SERVICE_C2S, pem(cert.get()), pem(key("P-256", 2)));
  EXPECT_FALSE(load());
  EXPECT_TRUE(has_message(report.errors, key_path("mismatch"), "does not match"));
  EXPECT_TRUE(has_message(report.errors, cert_path("mismatch"), "does not match"));
}

TEST_F(LoadKeys, KeyOfAnotherTypeThanTheCertificateIsRefused) {
  X509Ptr cert = certificate(key("Ed25519"), "mixed.example");
  ASSERT_TRUE(cert);
  add("mixed", ipc::SERVICE_C2S, pem(cert.get()), pem(key("P-256")));
  EXPECT_FALSE(load());
  EXPECT_TRUE(has_message(report.errors, key_path("mixed"), "does not match"));
}

TEST_F(LoadKeys, Rsa1024KeyIsRefused) {
  add_key("weak", key("RSA-1024"));
  EXPECT_FALSE(load());
  EXPECT_TRUE(has_message(report.errors, key_path("weak"), "at least 2048"));
}

TEST_F(LoadKeys, EcKeyOnSecp256k1IsRefused) {
  EVP_PKEY* k = key("secp256k1");
  ASSERT_NE(k, nullptr);
  add_key("koblitz", k);
  EXPECT_FALSE(load());
  EXPECT_TRUE(has_message(report.errors, key_path("koblitz"), "secp256k1"));
}

TEST_F(LoadKeys, Ed448KeyIsRefusedAsUnsupported) {
  EVP_PKEY* k = key("Ed448");
  ASSERT_NE(k, nullptr);
  add_key("ed448", k);
  EXPECT_FALSE(load());
  EXPECT_TRUE(has_message(report.errors, key_path("ed448"), "unsupported key type"));
}

// Answers any passphrase prompt with the right passphrase, and counts the prompts: installed
// as OpenSSL's default UI, it is what PEM_def_callback (used when no callback is given) asks.
constexpr char kPassphrase[] = "correct horse battery staple";
int prompts = 0;

int answer_prompt(UI* ui, UI_STRING* uis) {
  switch (UI_get_string_type(uis)) {
    case UIT_PROMPT:
    case UIT_VERIFY:
      ++prompts;
      return UI_set_result(ui, uis, kPassphrase) >= 0 ? 1 : 0;
    default:
      return 1;
  }
}

class DefaultUiAnswers {
 public:
  DefaultUiAnswers() : method_(UI_create_method("passphrase answering test UI")), previous_(UI_get_default_method()) {
    UI_method_set_reader(method_.get(), answer_prompt);
    UI_set_default_method(method_.get());
    prompts = 0;
  }
  ~DefaultUiAnswers() { UI_set_default_method(previous_); }
  DefaultUiAnswers(const DefaultUiAnswers&) = delete;
  DefaultUiAnswers& operator=(const DefaultUiAnswers&) = delete;

 private:
  UiMethodPtr method_;
  const UI_METHOD* previous_;
};

enum class KeyFormat { kPkcs8, kTraditional };

std::string encrypted_pem(const EVP_PKEY* k, KeyFormat format) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  auto pass = reinterpret_cast<const unsigned char*>(kPassphrase);
  int length = static_cast<int>(sizeof kPassphrase - 1);
  int ok = format == KeyFormat::kPkcs8
               ? PEM_write_bio_PrivateKey(bio.get(), k, EVP_aes_256_cbc(), pass, length, nullptr, nullptr)
               : PEM_write_bio_PrivateKey_traditional(bio.get(), k, EVP_aes_256_cbc(), pass, length, nullptr, nullptr);
  return ok == 1 ? contents(bio.get()) : std::string();
}

TEST_F(LoadKeys, EncryptedKeyIsRefusedWithoutPrompting) {
  DefaultUiAnswers ui;
  EVP_PKEY* k = key("P-256");
  X509Ptr cert = certificate(k, "locked.example");
  ASSERT_TRUE(cert);
  for (KeyFormat format : {KeyFormat::kPkcs8, KeyFormat::kTraditional}) {
    SCOPED_TRACE(format == KeyFormat::kPkcs8 ? "PKCS#8" : "traditional");
    std::string locked = encrypted_pem(k, format);
    ASSERT_NE(locked.find("ENCRYPTED"), std::string::npos) << locked;

    // The trap works: a reader that lets OpenSSL prompt gets the key from the test's UI.
    prompts = 0;
    BioPtr bio(BIO_new_mem_buf(locked.data(), static_cast<int>(locked.size())));
    EvpPkeyPtr prompted(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    ASSERT_TRUE(prompted) << "the test UI did not answer OpenSSL's prompt";
    ASSERT_GT(prompts, 0);

    prompts = 0;
    settings.Clear();
    files.clear();
    report = {};
    add("locked", ipc::SERVICE_C2S, pem(cert.get()), locked);
    EXPECT_FALSE(load());
    EXPECT_EQ(prompts, 0) << "load_keys asked for a passphrase";
    EXPECT_TRUE(has_message(report.errors, key_path("locked"), "the private key is encrypted"));
  }
}

TEST_F(LoadKeys, CertificateFileWithoutCertificateIsRefused) {
  EVP_PKEY* k = key("P-256");
  const std::pair<const char*, std::string> cases[] = {
      {"empty", ""},
      {"garbage", "this is not a certificate\n"},
      {"only the key", pem(k)},
      {"truncated", pem(certificate(k, "cut.example").get()).substr(0, 200)},
  };
  for (const auto& [what, contents] : cases) {
    SCOPED_TRACE(what);
    settings.Clear();
    files.clear();
    report = {};
    add("nocert", ipc::SERVICE_C2S, contents, pem(k));
    EXPECT_FALSE(load());
    EXPECT_TRUE(has_message(report.errors, cert_path("nocert"), "no certificate"));
  }
}

TEST_F(LoadKeys, UnreadableKeyFileIsRefused) {
  EVP_PKEY* k = key("P-256");
  X509Ptr cert = certificate(k, "garbage.example");
  ASSERT_TRUE(cert);
  std::string key_pem = pem(k);
  const std::pair<const char*, std::string> cases[] = {
      {"empty", ""},
      {"garbage", "\x01\x02garbage\xff\n"},
      {"PEM armour around garbage",
       "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n"},
      {"truncated", key_pem.substr(0, key_pem.size() / 2)},
      {"a certificate", pem(cert.get())},
  };
  for (const auto& [what, contents] : cases) {
    SCOPED_TRACE(what);
    settings.Clear();
    files.clear();
    report = {};
    add("garbage", ipc::SERVICE_C2S, pem(cert.get()), contents);
    EXPECT_FALSE(load());
    EXPECT_TRUE(has_message(report.errors, key_path("garbage"), "cannot read a private key"));
  }
}

TEST_F(LoadKeys, FileNotReceivedIsRefused) {
  EVP_PKEY* k = key("P-256");
  X509Ptr cert = certificate(k, "missing.example");
  ASSERT_TRUE(cert);

  add("nokey", ipc::SERVICE_C2S, pem(cert.get()), std::nullopt);
  EXPECT_FALSE(load());
  EXPECT_TRUE(has_message(report.errors, key_path("nokey"), "was not received"));

  settings.Clear();
  files.clear();
  report = {};
  add("nocert", ipc::SERVICE_C2S, std::nullopt, pem(k));
  EXPECT_FALSE(load());
  EXPECT_TRUE(has_message(report.errors, cert_path("nocert"), "was not received"));

  settings.Clear();
  files.clear();
  report = {};
  add("neither", ipc::SERVICE_C2S, std::nullopt, std::nullopt);
  EXPECT_FALSE(load());
  EXPECT_TRUE(has_message(report.errors, cert_path("neither"), "was not received"));
  EXPECT_TRUE(has_message(report.errors, key_path("neither"), "was not received"));
}

TEST_F(LoadKeys, OneBadCredentialMeansNothingIsLoaded) {
  for (int bad_position = 0; bad_position < 3; ++bad_position) {
    SCOPED_TRACE("bad credential at position " + std::to_string(bad_position));
    settings.Clear();
    files.clear();
    report = {};
    for (int i = 0; i < 3; ++i) {
      std::string name = "cred" + std::to_string(i);
      if (i == bad_position)
        add_key(name, key("RSA-1024"));
      else
        add_key(name, key(i == 0 ? "P-256" : "Ed25519"));
    }
    EXPECT_FALSE(load());
    ASSERT_EQ(report.errors.size(), 1u) << ::testing::PrintToString(report.errors);
    EXPECT_TRUE(has_message(report.errors, key_path("cred" + std::to_string(bad_position)), "at least 2048"));
  }
}

TEST_F(LoadKeys, EveryBadCredentialIsReported) {
  add_key("good", key("P-256"));
  add_key("weak", key("RSA-1024"));
  add("lost", ipc::SERVICE_S2S, std::nullopt, pem(key("P-256")));
  EXPECT_FALSE(load());
  EXPECT_TRUE(has_message(report.errors, key_path("weak"), "at least 2048"));
  EXPECT_TRUE(has_message(report.errors, cert_path("lost"), "was not received"));
  EXPECT_EQ(report.errors.size(), 2u) << ::testing::PrintToString(report.errors);
}

TEST_F(LoadKeys, ExpiredCertificateLoadsWithWarning) {
  EVP_PKEY* k = key("P-256");
  X509Ptr cert = certificate(k, "old.example", nullptr, nullptr, kNow - 400 * kDay, kNow - 10 * kDay);
  ASSERT_TRUE(cert);
  add("old", ipc::SERVICE_C2S, pem(cert.get()), pem(k));
  auto keys = load();
  ASSERT_TRUE(keys) << ::testing::PrintToString(report.errors);
  EXPECT_EQ(keys->size(), 1u);
  EXPECT_TRUE(report.errors.empty());
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_TRUE(has_message(report.warnings, cert_path("old"), "EXPIRED"));
}

TEST_F(LoadKeys, NotYetValidCertificateLoadsWithWarning) {
  EVP_PKEY* k = key("Ed25519");
  X509Ptr cert = certificate(k, "early.example", nullptr, nullptr, kNow + 10 * kDay, kNow + 400 * kDay);
  ASSERT_TRUE(cert);
  add("early", ipc::SERVICE_S2S, pem(cert.get()), pem(k));
  auto keys = load();
  ASSERT_TRUE(keys) << ::testing::PrintToString(report.errors);
  EXPECT_EQ(keys->size(), 1u);
  EXPECT_TRUE(report.errors.empty());
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_TRUE(has_message(report.warnings, cert_path("early"), "not valid yet"));
}

TEST_F(LoadKeys, ValidityIsJudgedAtNowNotByTheClock) {
  // Valid for 2001 only: long expired by the clock.
  constexpr std::time_t k2001 = 978'307'200;
  EVP_PKEY* k = key("P-256");
  X509Ptr cert = certificate(k, "y2k1.example", nullptr, nullptr, k2001, k2001 + 364 * kDay);
  ASSERT_TRUE(cert);
  add("y2k1", ipc::SERVICE_C2S, pem(cert.get()), pem(k));

  ASSERT_TRUE(load(k2001 + 180 * kDay));
  EXPECT_TRUE(report.warnings.empty()) << ::testing::PrintToString(report.warnings);

  report = {};
  ASSERT_TRUE(load(k2001 + 365 * kDay));
  EXPECT_TRUE(has_message(report.warnings, cert_path("y2k1"), "EXPIRED"));

  report = {};
  ASSERT_TRUE(load(k2001 - kDay));
  EXPECT_TRUE(has_message(report.warnings, cert_path("y2k1"), "not valid yet"));
}

// ---------------------------------------------------------------------------------------
// KeyStore

struct StoreKey {
  std::uint32_t id;
  std::string host;
  ipc::Service service;
  std::string kind;
};

std::vector<HeldKey> held_keys(std::initializer_list<StoreKey> specs) {
  std::vector<HeldKey> out;
  for (const StoreKey& s : specs) {
    EVP_PKEY* k = key(s.kind);
    X509Ptr cert = certificate(k, s.host);
    out.push_back(HeldKey{s.host, s.service, s.id, type_of(s.kind), owned(k), {der(cert.get())}});
  }
  return out;
}

TEST(KeyStore, FindsNothingWhenEmpty) {
  KeyStore store;
  EXPECT_EQ(store.find(0, kT0), nullptr);
  EXPECT_EQ(store.find(1, kT0), nullptr);
  EXPECT_EQ(store.certificates_for(ipc::SERVICE_C2S, 1).certificates_size(), 0);
}

TEST(KeyStore, FindsEachKeyOfTheCurrentGenerationById) {
  KeyStore store;
  store.replace(held_keys({{1, "a.example", ipc::SERVICE_C2S, "P-256"}, {2, "b.example", ipc::SERVICE_S2S, "Ed25519"}}),
                kT0);
  const HeldKey* a = store.find(1, kT0);
  const HeldKey* b = store.find(2, kT0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->host, "a.example");
  EXPECT_EQ(b->host, "b.example");
  EXPECT_EQ(EVP_PKEY_eq(b->key.get(), key("Ed25519")), 1);
  EXPECT_EQ(store.find(3, kT0), nullptr);
}

TEST(KeyStore, ReplaceKeepsThePreviousGenerationFindableButNotTheOneBefore) {
  KeyStore store;
  store.replace(held_keys({{1, "one.example", ipc::SERVICE_C2S, "P-256"}}), kT0);
  store.replace(held_keys({{2, "two.example", ipc::SERVICE_C2S, "P-256"}}), kT0);
  ASSERT_NE(store.find(1, kT0), nullptr) << "a handshake begun before the reload still needs its key";
  ASSERT_NE(store.find(2, kT0), nullptr);
  EXPECT_EQ(store.find(1, kT0)->host, "one.example");
  EXPECT_TRUE(store.find(1, kT0)->key) << "the previous generation's key is still there";

  store.replace(held_keys({{3, "three.example", ipc::SERVICE_C2S, "P-256"}}), kT0);
  EXPECT_EQ(store.find(1, kT0), nullptr) << "two reloads ago";
  ASSERT_NE(store.find(2, kT0), nullptr);
  EXPECT_TRUE(store.find(2, kT0)->key);
  ASSERT_NE(store.find(3, kT0), nullptr);

  store.replace({}, kT0);
  EXPECT_EQ(store.find(2, kT0), nullptr);
  EXPECT_NE(store.find(3, kT0), nullptr);
  store.replace({}, kT0);
  EXPECT_EQ(store.find(3, kT0), nullptr);
}

TEST(KeyStore, PreviousGenerationSignsOnlyDuringItsGrace) {
  KeyStore store;
  store.replace(held_keys({{1, "old.example", ipc::SERVICE_C2S, "P-256"}}), kT0);
  const auto reload = kT0 + std::chrono::seconds(5);
  store.replace(held_keys({{2, "new.example", ipc::SERVICE_C2S, "P-256"}}), reload);
  EXPECT_EQ(kPreviousGenerationGrace, std::chrono::seconds(60)) << "docs/design.md names this number";

  const auto last_moment = reload + kPreviousGenerationGrace - std::chrono::milliseconds(1);
  ASSERT_NE(store.find(1, last_moment), nullptr) << "a handshake begun before the reload may still sign";
  EXPECT_EQ(store.find(1, reload + kPreviousGenerationGrace), nullptr) << "retired once the grace is over";
  EXPECT_EQ(store.find(1, reload + std::chrono::hours(24)), nullptr);
  EXPECT_NE(store.find(2, reload + std::chrono::hours(24)), nullptr) << "the current generation never expires";
}

TEST(KeyStore, RetireExpiredFreesThePreviousKeysOnlyAfterTheGrace) {
  KeyStore store;
  EXPECT_FALSE(store.previous_retires_at()) << "nothing to retire before any reload";
  store.replace(held_keys({{1, "old.example", ipc::SERVICE_C2S, "P-256"}}), kT0);
  store.replace(held_keys({{2, "new.example", ipc::SERVICE_C2S, "P-256"}}), kT0);
  ASSERT_EQ(store.previous_retires_at(), kT0 + kPreviousGenerationGrace);

  store.retire_expired(kT0 + std::chrono::seconds(1));
  EXPECT_NE(store.find(1, kT0 + std::chrono::seconds(1)), nullptr) << "an early timer retires nothing";
  store.retire_expired(kT0 + kPreviousGenerationGrace);
  EXPECT_FALSE(store.previous_retires_at());
  EXPECT_EQ(store.find(1, kT0), nullptr) << "the key is gone, not only hidden by the time check";
  EXPECT_NE(store.find(2, kT0 + kPreviousGenerationGrace), nullptr);
}

TEST(KeyStore, ReloadWithinTheGraceDropsTheGenerationBeforeAtOnce) {
  KeyStore store;
  store.replace(held_keys({{1, "first.example", ipc::SERVICE_C2S, "P-256"}}), kT0);
  store.replace(held_keys({{2, "second.example", ipc::SERVICE_C2S, "P-256"}}), kT0);
  const auto soon = kT0 + std::chrono::seconds(1);
  store.replace(held_keys({{3, "third.example", ipc::SERVICE_C2S, "P-256"}}), soon);
  EXPECT_EQ(store.find(1, soon), nullptr) << "only one generation is kept in grace";
  EXPECT_NE(store.find(2, soon), nullptr);
  EXPECT_EQ(store.previous_retires_at(), soon + kPreviousGenerationGrace) << "the grace restarts at each reload";
}

TEST(KeyStore, CertificatesForListsOnlyThatServicesCurrentCertificates) {
  EVP_PKEY* ca_key = key("P-384", 1);
  X509Ptr intermediate = certificate(ca_key, "Example CA");
  X509Ptr leaf = certificate(key("P-256"), "chat.example", ca_key, intermediate.get());
  ASSERT_TRUE(intermediate && leaf);

  KeyStore store;
  store.replace(held_keys({{1, "stale.example", ipc::SERVICE_C2S, "P-256"}}), kT0);
  std::vector<HeldKey> keys =
      held_keys({{7, "example.net", ipc::SERVICE_C2S, "Ed25519"}, {8, "example.com", ipc::SERVICE_S2S, "RSA-2048"}});
  keys.push_back(HeldKey{"chat.example",
                         ipc::SERVICE_C2S,
                         9,
                         ipc::KEY_TYPE_EC,
                         owned(key("P-256")),
                         {der(leaf.get()), der(intermediate.get())}});
  std::vector<std::vector<std::string>> chains;
  for (const HeldKey& k : keys) chains.push_back(k.chain);
  store.replace(std::move(keys), kT0);

  ipc::CertificateSet c2s = store.certificates_for(ipc::SERVICE_C2S, 17);
  EXPECT_EQ(c2s.generation(), 17u);
  ASSERT_EQ(c2s.certificates_size(), 2) << "the previous generation's and the s2s certificates are not listed";
  EXPECT_EQ(c2s.certificates(0).host(), "example.net");
  EXPECT_EQ(c2s.certificates(0).key_id(), 7u);
  EXPECT_EQ(c2s.certificates(0).key_type(), ipc::KEY_TYPE_ED25519);
  ASSERT_EQ(c2s.certificates(0).chain_size(), 1);
  EXPECT_EQ(c2s.certificates(0).chain(0), chains[0][0]);
  EXPECT_EQ(c2s.certificates(1).host(), "chat.example");
  EXPECT_EQ(c2s.certificates(1).key_id(), 9u);
  EXPECT_EQ(c2s.certificates(1).key_type(), ipc::KEY_TYPE_EC);
  ASSERT_EQ(c2s.certificates(1).chain_size(), 2);
  EXPECT_EQ(c2s.certificates(1).chain(0), der(leaf.get()));
  EXPECT_EQ(c2s.certificates(1).chain(1), der(intermediate.get()));

  ipc::CertificateSet s2s = store.certificates_for(ipc::SERVICE_S2S, 17);
  ASSERT_EQ(s2s.certificates_size(), 1);
  EXPECT_EQ(s2s.certificates(0).host(), "example.com");
  EXPECT_EQ(s2s.certificates(0).key_id(), 8u);
  EXPECT_EQ(s2s.certificates(0).key_type(), ipc::KEY_TYPE_RSA);
  ASSERT_EQ(s2s.certificates(0).chain_size(), 1);
  EXPECT_EQ(s2s.certificates(0).chain(0), chains[1][0]);

  EXPECT_EQ(store.certificates_for(ipc::SERVICE_UNSPECIFIED, 17).certificates_size(), 0);
}

// Every encoding of the private key a leak could use: PEM, traditional DER, PKCS#8 DER, and
// the bare secret (RSA d, EC scalar, Ed25519 seed).
std::vector<std::pair<std::string, std::string>> private_encodings(EVP_PKEY* k) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("PEM", pem(k));
  unsigned char* buf = nullptr;
  int length = i2d_PrivateKey(k, &buf);
  if (length > 0) out.emplace_back("i2d_PrivateKey", std::string(reinterpret_cast<char*>(buf), length));
  OPENSSL_free(buf);
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (i2d_PKCS8PrivateKey_bio(bio.get(), k, nullptr, nullptr, 0, nullptr, nullptr) == 1)
    out.emplace_back("PKCS#8", contents(bio.get()));
  if (EVP_PKEY_is_a(k, "ED25519")) {
    std::string raw(32, '\0');
    std::size_t n = raw.size();
    if (EVP_PKEY_get_raw_private_key(k, reinterpret_cast<unsigned char*>(raw.data()), &n) == 1)
      out.emplace_back("raw private key", raw.substr(0, n));
  } else {
    BIGNUM* bn = nullptr;
    const char* param = EVP_PKEY_is_a(k, "RSA") ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY;
    if (EVP_PKEY_get_bn_param(k, param, &bn) == 1) {
      BignumPtr secret(bn);
      // At full width, as keys are stored: a P-256 scalar has a leading zero byte once in 256.
      std::size_t width = std::max<std::size_t>(static_cast<std::size_t>(BN_num_bytes(secret.get())), 32);
      std::string bytes(width, '\0');
      BN_bn2binpad(secret.get(), reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(width));
      out.emplace_back(param, bytes);
    }
  }
  return out;
}

TEST(KeyStore, CertificatesCarryNoPrivateKeyMaterial) {
  // Loaded the real way, one credential from a file that holds its key next to the certificate.
  const std::vector<std::string> kinds = {"RSA-2048", "P-256", "Ed25519"};
  ipc::TlsSettings settings;
  std::map<std::string, std::string> files;
  for (const std::string& kind : kinds) {
    EVP_PKEY* k = key(kind);
    X509Ptr cert = certificate(k, kind + ".example");
    ipc::Credential* c = settings.add_credentials();
    c->set_host(kind + ".example");
    c->set_service(ipc::SERVICE_C2S);
    c->set_certificate_path("/tls/" + kind + ".pem");
    c->set_key_path("/tls/" + kind + ".key");
    files[c->certificate_path()] = (kind == "P-256" ? pem(k) : std::string()) + pem(cert.get());
    files[c->key_path()] = pem(k);
  }
  std::uint32_t next_key_id = 1;
  LoadReport report;
  auto keys = load_keys(settings, files, next_key_id, report, kNow);
  ASSERT_TRUE(keys) << ::testing::PrintToString(report.errors);
  std::vector<std::string> leaves;
  for (const HeldKey& k : *keys) leaves.push_back(k.chain.at(0));
  KeyStore store;
  store.replace(std::move(*keys), kT0);

  std::string wire = store.certificates_for(ipc::SERVICE_C2S, 1).SerializeAsString();
  ASSERT_EQ(leaves.size(), kinds.size());
  for (const std::string& leaf : leaves)
    ASSERT_NE(wire.find(leaf), std::string::npos) << "the search does find what is there";
  EXPECT_EQ(wire.find("PRIVATE KEY"), std::string::npos);
  for (const std::string& kind : kinds)
    for (const auto& [encoding, secret] : private_encodings(key(kind))) {
      ASSERT_GE(secret.size(), 32u) << kind << " " << encoding;
      EXPECT_EQ(wire.find(secret), std::string::npos) << kind << " key as " << encoding << " is in the certificates";
    }
}

// ---------------------------------------------------------------------------------------
// sign

Bytes tls13_certificate_verify_input() {
  std::string m(64, ' ');
  m += "TLS 1.3, server CertificateVerify";
  m += '\0';
  for (int i = 0; i < 32; ++i) m += static_cast<char>(i * 7 + 1);
  return Bytes(m.begin(), m.end());
}

HeldKey held_key(const std::string& kind, ipc::KeyType type) {
  EVP_PKEY* k = key(kind);
  X509Ptr cert = certificate(k, "sign.example");
  return HeldKey{"sign.example", ipc::SERVICE_C2S, 5, type, owned(k), {der(cert.get())}};
}

// The public key of the leaf certificate, as a peer would get it.
EvpPkeyPtr certificate_public_key(const HeldKey& k) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(k.chain.at(0).data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(k.chain[0].size())));
  if (!cert) return nullptr;
  return EvpPkeyPtr(X509_get_pubkey(cert.get()));
}

enum class Padding { kDefault, kPkcs1, kPss };

bool verifies(EVP_PKEY* pub, Padding padding, const std::string& digest, const Bytes& message, const Bytes& signature) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), &pctx, digest.empty() ? nullptr : digest.c_str(), nullptr, nullptr,
                                      pub, nullptr) != 1) {
    ERR_clear_error();
    return false;
  }
  if (padding == Padding::kPkcs1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
  if (padding == Padding::kPss) {
    const EVP_MD* md = EVP_get_digestbyname(digest.c_str());
    if (md == nullptr || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, EVP_MD_get_size(md)) != 1)
      return false;
  }
  bool ok = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

struct SignCase {
  const char* name;
  std::string kind;
  ipc::SignatureScheme scheme;
  std::string digest;
};

// Names the case in gtest's messages instead of dumping its bytes.
void PrintTo(const SignCase& c, std::ostream* os) { *os << c.name; }

Padding padding_of(ipc::SignatureScheme scheme) {
  return scheme == ipc::SCHEME_RSA_PKCS1 ? Padding::kPkcs1
         : scheme == ipc::SCHEME_RSA_PSS ? Padding::kPss
                                         : Padding::kDefault;
}

class SignAllowed : public ::testing::TestWithParam<SignCase> {};

TEST_P(SignAllowed, SignatureVerifiesWithTheCertificatesPublicKey) {
  const SignCase& c = GetParam();
  HeldKey k = held_key(c.kind, type_of(c.kind));
  ASSERT_TRUE(k.key);
  EvpPkeyPtr pub = certificate_public_key(k);
  ASSERT_TRUE(pub);
  Bytes message = tls13_certificate_verify_input();
  std::string error;
  auto signature = sign(k, c.scheme, c.digest, message, error);
  ASSERT_TRUE(signature) << error;
  EXPECT_TRUE(error.empty()) << error;
  ASSERT_FALSE(signature->empty());
  Padding padding = padding_of(c.scheme);
  EXPECT_TRUE(verifies(pub.get(), padding, c.digest, message, *signature));

  // The signature is of this message, with this digest and padding, and of no other.
  Bytes altered = message;
  altered.back() ^= 0x01;
  EXPECT_FALSE(verifies(pub.get(), padding, c.digest, altered, *signature)) << "verifies for another message";
  if (!c.digest.empty()) {
    std::string other = c.digest == "SHA256" ? "SHA384" : "SHA256";
    EXPECT_FALSE(verifies(pub.get(), padding, other, message, *signature)) << "verifies with " << other;
  }
  if (padding == Padding::kPkcs1) {
    EXPECT_FALSE(verifies(pub.get(), Padding::kPss, c.digest, message, *signature)) << "verifies as PSS";
  }
  if (padding == Padding::kPss) {
    EXPECT_FALSE(verifies(pub.get(), Padding::kPkcs1, c.digest, message, *signature)) << "verifies as PKCS#1";
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, SignAllowed,
                         ::testing::Values(SignCase{"RsaPkcs1Sha256", "RSA-2048", ipc::SCHEME_RSA_PKCS1, "SHA256"},
                                           SignCase{"RsaPkcs1Sha384", "RSA-2048", ipc::SCHEME_RSA_PKCS1, "SHA384"},
                                           SignCase{"RsaPkcs1Sha512", "RSA-2048", ipc::SCHEME_RSA_PKCS1, "SHA512"},
                                           SignCase{"RsaPssSha256", "RSA-2048", ipc::SCHEME_RSA_PSS, "SHA256"},
                                           SignCase{"RsaPssSha384", "RSA-2048", ipc::SCHEME_RSA_PSS, "SHA384"},
                                           SignCase{"RsaPssSha512", "RSA-2048", ipc::SCHEME_RSA_PSS, "SHA512"},
                                           SignCase{"EcdsaP256Sha256", "P-256", ipc::SCHEME_ECDSA, "SHA256"},
                                           SignCase{"EcdsaP256Sha384", "P-256", ipc::SCHEME_ECDSA, "SHA384"},
                                           SignCase{"EcdsaP384Sha256", "P-384", ipc::SCHEME_ECDSA, "SHA256"},
                                           SignCase{"EcdsaP384Sha384", "P-384", ipc::SCHEME_ECDSA, "SHA384"},
                                           SignCase{"Ed25519", "Ed25519", ipc::SCHEME_ED25519, ""}),
                         [](const auto& info) { return std::string(info.param.name); });

class SignRefused : public ::testing::TestWithParam<SignCase> {};

TEST_P(SignRefused, SchemeOrDigestNotFittingTheKeyIsRefused) {
  const SignCase& c = GetParam();
  HeldKey k = held_key(c.kind, type_of(c.kind));
  ASSERT_TRUE(k.key);
  std::string error;
  auto signature = sign(k, c.scheme, c.digest, tls13_certificate_verify_input(), error);
  EXPECT_FALSE(signature) << "signed, " << signature.value_or(Bytes{}).size() << " bytes";
  EXPECT_FALSE(error.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Mismatches, SignRefused,
    ::testing::Values(SignCase{"EcdsaWithRsaKey", "RSA-2048", ipc::SCHEME_ECDSA, "SHA256"},
                      SignCase{"Ed25519WithRsaKey", "RSA-2048", ipc::SCHEME_ED25519, ""},
                      SignCase{"PssWithEcKey", "P-256", ipc::SCHEME_RSA_PSS, "SHA256"},
                      SignCase{"Pkcs1WithEcKey", "P-256", ipc::SCHEME_RSA_PKCS1, "SHA256"},
                      SignCase{"Ed25519WithEcKey", "P-256", ipc::SCHEME_ED25519, ""},
                      SignCase{"EcdsaWithEd25519Key", "Ed25519", ipc::SCHEME_ECDSA, "SHA256"},
                      SignCase{"PssWithEd25519Key", "Ed25519", ipc::SCHEME_RSA_PSS, "SHA256"},
                      SignCase{"Ed25519WithSha256Digest", "Ed25519", ipc::SCHEME_ED25519, "SHA256"},
                      SignCase{"Ed25519WithSha512Digest", "Ed25519", ipc::SCHEME_ED25519, "SHA512"},
                      SignCase{"Pkcs1WithEmptyDigest", "RSA-2048", ipc::SCHEME_RSA_PKCS1, ""},
                      SignCase{"PssWithEmptyDigest", "RSA-2048", ipc::SCHEME_RSA_PSS, ""},
                      SignCase{"EcdsaWithEmptyDigest", "P-256", ipc::SCHEME_ECDSA, ""},
                      SignCase{"Pkcs1WithMd5", "RSA-2048", ipc::SCHEME_RSA_PKCS1, "MD5"},
                      SignCase{"Pkcs1WithSha1", "RSA-2048", ipc::SCHEME_RSA_PKCS1, "SHA1"},
                      SignCase{"PssWithSha1", "RSA-2048", ipc::SCHEME_RSA_PSS, "SHA1"},
                      SignCase{"EcdsaWithSha1", "P-256", ipc::SCHEME_ECDSA, "SHA1"},
                      SignCase{"EcdsaWithMd5", "P-256", ipc::SCHEME_ECDSA, "MD5"},
                      SignCase{"UnspecifiedSchemeWithRsaKey", "RSA-2048", ipc::SCHEME_UNSPECIFIED, "SHA256"},
                      SignCase{"UnspecifiedSchemeWithEd25519Key", "Ed25519", ipc::SCHEME_UNSPECIFIED, ""},
                      SignCase{"OutOfRangeScheme", "RSA-2048", static_cast<ipc::SignatureScheme>(99), "SHA256"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Sign, KeyOfUnspecifiedTypeSignsNothing) {
  HeldKey k = held_key("P-256", ipc::KEY_TYPE_UNSPECIFIED);
  for (auto [scheme, digest] : {std::pair{ipc::SCHEME_ECDSA, "SHA256"}, std::pair{ipc::SCHEME_RSA_PSS, "SHA256"},
                                std::pair{ipc::SCHEME_ED25519, ""}}) {
    std::string error;
    EXPECT_FALSE(sign(k, scheme, digest, tls13_certificate_verify_input(), error)) << "scheme " << scheme;
    EXPECT_FALSE(error.empty());
  }
}

TEST(Sign, PssSignaturesAreRandomisedPkcs1AndEd25519AreNot) {
  // A sanity check that the padding asked for is the padding used, seen from outside.
  Bytes message = tls13_certificate_verify_input();
  std::string error;
  HeldKey rsa = held_key("RSA-2048", ipc::KEY_TYPE_RSA);
  auto pss1 = sign(rsa, ipc::SCHEME_RSA_PSS, "SHA256", message, error);
  auto pss2 = sign(rsa, ipc::SCHEME_RSA_PSS, "SHA256", message, error);
  auto pkcs1 = sign(rsa, ipc::SCHEME_RSA_PKCS1, "SHA256", message, error);
  auto pkcs1_again = sign(rsa, ipc::SCHEME_RSA_PKCS1, "SHA256", message, error);
  ASSERT_TRUE(pss1 && pss2 && pkcs1 && pkcs1_again) << error;
  EXPECT_NE(*pss1, *pss2);
  EXPECT_EQ(*pkcs1, *pkcs1_again);
  EXPECT_EQ(pss1->size(), 256u);
  EXPECT_EQ(pkcs1->size(), 256u);
  HeldKey ed = held_key("Ed25519", ipc::KEY_TYPE_ED25519);
  auto ed1 = sign(ed, ipc::SCHEME_ED25519, "", message, error);
  auto ed2 = sign(ed, ipc::SCHEME_ED25519, "", message, error);
  ASSERT_TRUE(ed1 && ed2) << error;
  EXPECT_EQ(ed1->size(), 64u);
  EXPECT_EQ(*ed1, *ed2);
}

}  // namespace
}  // namespace xmppd::tls_helper
