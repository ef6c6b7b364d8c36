#include "daemon/trust_anchors.h"

#include <dirent.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>
#include <set>

namespace xmppd::parent {
namespace {

// Appends the certificates of one PEM file; returns how many, or -1 if it cannot be read.
int read_pem_file(const std::string& path, std::set<std::string>& seen, ipc::TrustStore& out) {
  struct FileCloser {
    void operator()(FILE* f) const { fclose(f); }
  };
  std::unique_ptr<FILE, FileCloser> f(fopen(path.c_str(), "r"));
  if (!f) return -1;
  int count = 0;
  while (X509* cert = PEM_read_X509(f.get(), nullptr, nullptr, nullptr)) {
    unsigned char* der = nullptr;
    int len = i2d_X509(cert, &der);
    X509_free(cert);
    if (len <= 0) continue;
    std::string bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    if (seen.insert(bytes).second) {
      out.add_anchors(bytes);
      ++count;
    }
  }
  ERR_clear_error();
  return count;
}

// OpenSSL's hashed directories hold links named HASH.N next to the files: each
// certificate is read once whatever the name.
bool read_directory(const std::string& dir, std::set<std::string>& seen, ipc::TrustStore& out) {
  struct DirCloser {
    void operator()(DIR* d) const { closedir(d); }
  };
  std::unique_ptr<DIR, DirCloser> d(opendir(dir.c_str()));
  if (!d) return false;
  while (struct dirent* e = readdir(d.get()))
    if (e->d_name[0] != '.') read_pem_file(dir + "/" + e->d_name, seen, out);
  return true;
}

}  // namespace

bool load_trust_anchors(const std::string& cafile, const std::string& capath, ipc::TrustStore& out,
                        std::vector<std::string>& warnings, std::string& error) {
  std::set<std::string> seen;
  if (cafile.empty() && capath.empty()) {
    const char* file = getenv(X509_get_default_cert_file_env());
    std::string path = file ? file : X509_get_default_cert_file();
    out.set_source("system store " + path);
    read_pem_file(path, seen, out);
    if (out.anchors_size() == 0)
      warnings.push_back("no trusted certificates in the system store " + path +
                         " (install ca-certificates, or set ssl.cafile): no remote server can be verified");
    return true;
  }
  out.set_source(cafile.empty() ? capath : capath.empty() ? cafile : cafile + " and " + capath);
  if (!cafile.empty() && read_pem_file(cafile, seen, out) <= 0) {
    error = cafile + ": no certificate could be read (cafile)";
    return false;
  }
  if (!capath.empty() && !read_directory(capath, seen, out)) {
    error = capath + ": cannot read the directory (capath)";
    return false;
  }
  if (out.anchors_size() == 0) {
    error = out.source() + ": no trusted certificate found";
    return false;
  }
  return true;
}

bool load_s2s_trust(const config::Settings& settings, S2sTrust& out, std::vector<std::string>& warnings,
                    std::string& error) {
  std::map<std::pair<std::string, std::string>, std::uint32_t> index;
  for (const config::HostSettings& host : settings.federating()) {
    if (!host.enabled || !host.module_enabled("s2s")) continue;
    auto key = std::make_pair(host.s2s_ssl.cafile, host.s2s_ssl.capath);
    auto it = index.find(key);
    if (it == index.end()) {
      ipc::TrustStore store;
      if (!load_trust_anchors(key.first, key.second, store, warnings, error)) return false;
      it = index.emplace(key, static_cast<std::uint32_t>(out.stores.size())).first;
      out.stores.push_back(std::move(store));
    }
    out.store_of_host[host.name] = it->second;
  }
  return true;
}

}  // namespace xmppd::parent
