// Reading and judging certificate and key files for check certs and cert import. The files are
// the administrator's (or certbot's); they are trusted as files but judged as certificates.
#include "xmppctl/cert_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

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

}  // namespace

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
  FilePtr f = open_file(path, error);
  if (!f) return false;
  out.reset(PEM_read_PrivateKey(f.get(), nullptr, no_passphrase, nullptr));
  ERR_clear_error();
  if (!out) {
    error = path + ": no unencrypted PEM private key in it";
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
