#include "tls-helper/key_store.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstring>

namespace xmppd::tls_helper {
namespace {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

std::string openssl_error(const char* if_none) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return if_none;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// Never prompt: an encrypted key cannot be unlocked by a daemon.
int no_passphrase(char*, int, int, void*) { return -1; }

bool read_chain(const std::string& path, const std::string& pem, std::vector<X509Ptr>& chain, LoadReport& report) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) chain.emplace_back(cert);
  ERR_clear_error();
  if (chain.empty()) report.errors.push_back(path + ": no certificate in the file");
  return !chain.empty();
}

EvpPkeyPtr read_key(const std::string& path, const std::string& pem, LoadReport& report) {
  if (pem.find("ENCRYPTED") != std::string::npos) {
    report.errors.push_back(path + ": the private key is encrypted; a daemon cannot unlock it (decrypt it with "
                            "openssl pkey -in FILE -out FILE and keep it readable by root only)");
    return nullptr;
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) report.errors.push_back(path + ": cannot read a private key (" + openssl_error("no PEM key found") + ")");
  return key;
}

bool key_type(const std::string& path, EVP_PKEY* key, ipc::KeyType& type, LoadReport& report) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_get_bits(key) < 2048) {
      report.errors.push_back(path + ": RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) +
                              " bits; at least 2048 are needed");
      return false;
    }
    type = ipc::KEY_TYPE_RSA;
    return true;
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = "";
    EVP_PKEY_get_group_name(key, group, sizeof group, nullptr);
    if (std::strcmp(group, "prime256v1") != 0 && std::strcmp(group, "secp384r1") != 0 &&
        std::strcmp(group, "secp521r1") != 0) {
      report.errors.push_back(path + ": EC key on curve " + group + "; P-256, P-384 or P-521 are needed");
      return false;
    }
    type = ipc::KEY_TYPE_EC;
    return true;
  }
  if (EVP_PKEY_is_a(key, "ED25519")) {
    type = ipc::KEY_TYPE_ED25519;
    return true;
  }
  report.errors.push_back(path + ": unsupported key type " + EVP_PKEY_get0_type_name(key) +
                          " (RSA, EC or Ed25519 are supported)");
  return false;
}

void check_validity(const std::string& path, X509* leaf, std::time_t now, LoadReport& report) {
  if (X509_cmp_time(X509_get0_notAfter(leaf), &now) < 0)
    report.warnings.push_back(path + ": certificate has EXPIRED; it is served anyway, renew it");
  else if (X509_cmp_time(X509_get0_notBefore(leaf), &now) > 0)
    report.warnings.push_back(path + ": certificate is not valid yet; it is served anyway");
}

const std::string* file(const std::map<std::string, std::string>& files, const std::string& path,
                        LoadReport& report) {
  auto it = files.find(path);
  if (it == files.end()) {
    report.errors.push_back(path + ": file was not received from the parent");
    return nullptr;
  }
  return &it->second;
}

std::optional<HeldKey> load_one(const ipc::Credential& c, const std::map<std::string, std::string>& files,
                                std::uint32_t key_id, LoadReport& report, std::time_t now) {
  const std::string* cert_pem = file(files, c.certificate_path(), report);
  const std::string* key_pem = file(files, c.key_path(), report);
  if (cert_pem == nullptr || key_pem == nullptr) return std::nullopt;
  std::vector<X509Ptr> chain;
  EvpPkeyPtr key = read_key(c.key_path(), *key_pem, report);
  if (!read_chain(c.certificate_path(), *cert_pem, chain, report) || !key) return std::nullopt;
  ipc::KeyType type;
  if (!key_type(c.key_path(), key.get(), type, report)) return std::nullopt;
  if (X509_check_private_key(chain[0].get(), key.get()) != 1) {
    ERR_clear_error();
    report.errors.push_back(c.key_path() + ": key does not match the certificate in " + c.certificate_path());
    return std::nullopt;
  }
  check_validity(c.certificate_path(), chain[0].get(), now, report);

  HeldKey held{c.host(), c.service(), key_id, type, std::move(key), {}};
  for (const X509Ptr& cert : chain) {
    unsigned char* der = nullptr;
    int len = i2d_X509(cert.get(), &der);
    if (len <= 0) return std::nullopt;
    held.chain.emplace_back(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
  }
  return held;
}

}  // namespace

std::optional<std::vector<HeldKey>> load_keys(const ipc::TlsSettings& settings,
                                              const std::map<std::string, std::string>& files,
                                              std::uint32_t& next_key_id, LoadReport& report, std::time_t now) {
  std::vector<HeldKey> keys;
  const std::size_t errors_before = report.errors.size();
  for (const ipc::Credential& c : settings.credentials())
    if (auto held = load_one(c, files, next_key_id, report, now)) {
      held->versions = credential_versions(c);
      keys.push_back(std::move(*held));
      ++next_key_id;
    }
  if (report.errors.size() != errors_before) return std::nullopt;
  return keys;
}

ServerVersions credential_versions(const ipc::Credential& credential) {
  return credential.protocol() == "tlsv1_2" ? ServerVersions::kUpToTls12 : ServerVersions::kTls13Allowed;
}

void KeyStore::replace(std::vector<HeldKey> keys, Clock::time_point now) {
  previous_ = std::move(current_);
  current_ = std::move(keys);
  previous_until_ = now + kPreviousGenerationGrace;
}

const HeldKey* KeyStore::find(std::uint32_t key_id, Clock::time_point now) const {
  for (const HeldKey& k : current_)
    if (k.key_id == key_id) return &k;
  // Checked here too, not only by retire_expired(): a late timer must not extend the grace.
  if (now >= previous_until_) return nullptr;
  for (const HeldKey& k : previous_)
    if (k.key_id == key_id) return &k;
  return nullptr;
}

void KeyStore::retire_expired(Clock::time_point now) {
  if (now >= previous_until_) previous_.clear();
}

std::optional<KeyStore::Clock::time_point> KeyStore::previous_retires_at() const {
  if (previous_.empty()) return std::nullopt;
  return previous_until_;
}

ipc::CertificateSet KeyStore::certificates_for(ipc::Service service, std::uint64_t generation) const {
  ipc::CertificateSet set;
  set.set_generation(generation);
  for (const HeldKey& k : current_) {
    if (k.service != service) continue;
    ipc::HostCertificate* c = set.add_certificates();
    c->set_host(k.host);
    c->set_key_id(k.key_id);
    c->set_key_type(k.type);
    for (const std::string& der : k.chain) c->add_chain(der);
  }
  return set;
}

std::optional<std::vector<std::uint8_t>> sign(const HeldKey& key, ipc::SignatureScheme scheme,
                                              std::string_view digest, std::span<const std::uint8_t> message,
                                              std::string& error) {
  bool fits = (key.type == ipc::KEY_TYPE_RSA && (scheme == ipc::SCHEME_RSA_PKCS1 || scheme == ipc::SCHEME_RSA_PSS)) ||
              (key.type == ipc::KEY_TYPE_EC && scheme == ipc::SCHEME_ECDSA) ||
              (key.type == ipc::KEY_TYPE_ED25519 && scheme == ipc::SCHEME_ED25519);
  bool digest_ok = scheme == ipc::SCHEME_ED25519 ? digest.empty()
                                                  : digest == "SHA256" || digest == "SHA384" || digest == "SHA512";
  if (!fits || !digest_ok) {
    error = "signature scheme or digest does not fit the key";
    return std::nullopt;
  }
  std::string md(digest);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = ctx && EVP_DigestSignInit_ex(ctx.get(), &pctx, md.empty() ? nullptr : md.c_str(), nullptr, nullptr,
                                         key.key.get(), nullptr) == 1;
  if (ok && scheme == ipc::SCHEME_RSA_PSS)
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  std::size_t length = 0;
  ok = ok && EVP_DigestSign(ctx.get(), nullptr, &length, message.data(), message.size()) == 1;
  std::vector<std::uint8_t> signature(length);
  ok = ok && EVP_DigestSign(ctx.get(), signature.data(), &length, message.data(), message.size()) == 1;
  if (!ok) {
    error = "signing failed: " + openssl_error("no reason given");
    return std::nullopt;
  }
  signature.resize(length);
  return signature;
}

}  // namespace xmppd::tls_helper
