// Reading and judging certificate and key files for check certs and cert import. The files are
// the administrator's (or certbot's); they are trusted as files but judged as certificates.
#include "xmppctl/cert_files.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/unique_fd.h"
#include "tls/peer_verify.h"

namespace xmppd::ctl {
namespace {

struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileClose>;

FilePtr open_file(const std::string& path, std::string& error) {
  FilePtr f(std::fopen(path.c_str(), "re"));
  if (!f) error = path + ": " + std::strerror(errno);
  return f;
}

// Refuses to ask for a passphrase: an encrypted key reads as unreadable.
int no_passphrase(char*, int, int, void*) { return 0; }

constexpr std::size_t kMaxFileBytes = 1 << 20;  // a chain is a few KiB

}  // namespace

void scrub(std::string& secret) {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

bool read_file(const std::string& path, std::string& out, std::string& error) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd || fstat(fd.get(), &st) != 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) > kMaxFileBytes) {
    error = path + ": not a regular file of at most 1 MiB";
    return false;
  }
  out.assign(static_cast<std::size_t>(st.st_size) + 1, '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = read(fd.get(), out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  if (done == out.size()) {  // it grew while being read: certbot is renewing it; try later
    scrub(out);
    error = path + ": changed while being read";
    return false;
  }
  out.resize(done);
  return true;
}

bool read_chain(const std::string& path, CertificateChain& out, std::string& error) {
  FilePtr f = open_file(path, error);
  if (!f) return false;
  out.certificates.clear();
  while (X509* x = PEM_read_X509(f.get(), nullptr, nullptr, nullptr)) out.certificates.emplace_back(x);
  ERR_clear_error();  // the read that ends the loop leaves "no start line" behind
  if (out.certificates.empty()) {
    error = path + ": no PEM certificate in it";
    return false;
  }
  return true;
}

bool read_key(const std::string& path, KeyPtr& out, std::string& error) {
  // Not through stdio: its buffer would be freed with the key still in it.
  std::string pem;
  bool ok = read_file(path, pem, error) && parse_key(pem, path, out, error);
  scrub(pem);
  return ok;
}

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::unique_ptr<BIO, BioFree> memory_bio(std::string_view pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

}  // namespace

bool parse_chain(std::string_view pem, const std::string& name, CertificateChain& out, std::string& error) {
  auto bio = memory_bio(pem);
  out.certificates.clear();
  while (bio) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (x == nullptr) break;
    out.certificates.emplace_back(x);
  }
  ERR_clear_error();
  if (out.certificates.empty()) {
    error = name + ": no PEM certificate in it";
    return false;
  }
  return true;
}

bool parse_key(std::string_view pem, const std::string& name, KeyPtr& out, std::string& error) {
  auto bio = memory_bio(pem);
  out.reset(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  ERR_clear_error();
  if (!out) {
    error = name + ": no unencrypted PEM private key in it";
    return false;
  }
  return true;
}

bool key_matches(X509* leaf, EVP_PKEY* key) {
  bool match = X509_check_private_key(leaf, key) == 1;
  ERR_clear_error();
  return match;
}

long days_left(X509* leaf, std::time_t now) {
  int days = 0, seconds = 0;
  ASN1_TIME* at = ASN1_TIME_set(nullptr, now);
  bool ok = at != nullptr && ASN1_TIME_diff(&days, &seconds, at, X509_get0_notAfter(leaf)) == 1;
  ASN1_TIME_free(at);
  if (!ok) return -1;
  return seconds < 0 && days == 0 ? -1 : days;
}

bool not_yet_valid(X509* leaf, std::time_t now) { return X509_cmp_time(X509_get0_notBefore(leaf), &now) > 0; }

std::string expiry_date(X509* leaf) {
  struct tm when = {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &when) != 1) return "?";
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d", &when);
  return text;
}

bool covers(X509* leaf, std::string_view host) {
  return tls::match_identity(leaf, host) == tls::IdentityStatus::kMatches;
}

bool covers_for_clients(X509* leaf, std::string_view host) {
  std::string matched;
  return tls::match_identity(leaf, host, &matched) == tls::IdentityStatus::kMatches &&
         (matched.rfind("DNS-ID", 0) == 0 || matched.rfind("CN-ID", 0) == 0);
}

bool allows_client_auth(X509* leaf) {
  return (X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) == 0 || (X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT) != 0;
}

std::vector<std::string> names_for(std::string_view host) {
  std::vector<std::string> names = {std::string(host)};
  // As daemon/credentials.cc: a parent domain only when it is not a top-level domain.
  if (auto dot = host.find('.'); dot != std::string_view::npos && host.find('.', dot + 1) != std::string_view::npos)
    names.emplace_back(host.substr(dot + 1));
  return names;
}

std::vector<CandidatePair> candidate_pairs(std::string_view dir, std::string_view name) {
  std::string base(dir);
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::string in_dir = base + "/" + std::string(name);
  return {
      {in_dir + "/fullchain.pem", in_dir + "/privkey.pem"},
      {in_dir + ".crt", in_dir + ".key"},
      {in_dir + "/" + std::string(name) + ".crt", in_dir + "/" + std::string(name) + ".key"},
  };
}

}  // namespace xmppd::ctl
