#include "daemon/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace xmppd::parent {
namespace {

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Candidate (certificate, key) pairs in the certificates folder, best first: the host's own,
// then its parent domain's (a wildcard, or a certificate naming the component's domain too,
// as conference.localhost beside localhost), never a top-level domain's unless it is a host.
std::vector<std::pair<std::string, std::string>> candidates(const config::Settings& settings, const std::string& host) {
  const std::string& dir = settings.certificates;
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> names = {host};
  if (auto dot = host.find('.'); dot != std::string::npos) {
    std::string parent = host.substr(dot + 1);
    if (parent.find('.') != std::string::npos || settings.find_host(parent) != nullptr) names.push_back(parent);
  }
  for (const std::string& name : names) {
    out.emplace_back(dir + "/" + name + ".crt", dir + "/" + name + ".key");
    out.emplace_back(dir + "/" + name + "/fullchain.pem", dir + "/" + name + "/privkey.pem");
  }
  return out;
}

bool find_pair(const config::Settings& settings, const std::string& host, const config::TlsSettings& ssl,
               std::pair<std::string, std::string>& found, OpenCredentials& out) {
  if (!ssl.certificate.empty() || !ssl.key.empty()) {
    if (ssl.certificate.empty() || ssl.key.empty()) {
      out.errors.push_back(host + ": ssl sets " + (ssl.key.empty() ? "a certificate without a key" : "a key without a certificate"));
      return false;
    }
    found = {ssl.certificate, ssl.key};
    return true;
  }
  for (auto& pair : candidates(settings, host)) {
    if (exists(pair.first) && exists(pair.second)) {
      found = pair;
      return true;
    }
  }
  std::string warning = "no certificate for " + host + " in " + settings.certificates + " (looked for " + host +
                        ".crt and " + host + "/fullchain.pem): TLS for it will fail";
  if (out.warnings.empty() || out.warnings.back() != warning) out.warnings.push_back(warning);
  return false;
}

void open_once(const std::string& path, std::map<std::string, bool>& opened, OpenCredentials& out) {
  if (opened.count(path)) return;
  opened[path] = true;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    out.errors.push_back(path + ": " + std::strerror(errno));
    return;
  }
  out.files.emplace_back(path, std::move(fd));
}

void add_credential(const std::string& host, ipc::Service service, const config::TlsSettings& ssl,
                    const std::pair<std::string, std::string>& pair, std::map<std::string, bool>& opened,
                    OpenCredentials& out) {
  ipc::Credential* c = out.settings.add_credentials();
  c->set_host(host);
  c->set_service(service);
  c->set_certificate_path(pair.first);
  c->set_key_path(pair.second);
  c->set_protocol(ssl.protocol);
  open_once(pair.first, opened, out);
  open_once(pair.second, opened, out);
}

// The HTTP process's https: every enabled host (its `ssl`), and every file sharing
// component, whose certificate is its own or, as candidates() looks, its parent domain's.
void add_https(const config::Settings& settings, std::map<std::string, bool>& opened, OpenCredentials& out) {
  std::vector<const config::HostSettings*> served;
  for (const config::HostSettings& host : settings.hosts)
    if (host.enabled) served.push_back(&host);
  for (const config::HostSettings& c : settings.components)
    if (c.enabled && c.component_module == "http_file_share") served.push_back(&c);
  for (const config::HostSettings* host : served) {
    std::pair<std::string, std::string> pair;
    if (find_pair(settings, host->name, host->ssl, pair, out))
      add_credential(host->name, ipc::SERVICE_HTTPS, host->ssl, pair, opened, out);
  }
}

}  // namespace

OpenCredentials open_credentials(const config::Settings& settings) {
  OpenCredentials out;
  std::map<std::string, bool> opened;
  // A component has no clients of its own; it federates as a host does.
  for (const config::HostSettings& host : settings.federating()) {
    if (!host.enabled) continue;
    struct {
      ipc::Service service;
      const config::TlsSettings& ssl;
      bool wanted;
    } uses[] = {{ipc::SERVICE_C2S, host.c2s_ssl, !host.component},
                {ipc::SERVICE_S2S, host.s2s_ssl, host.module_enabled("s2s")}};
    for (const auto& use : uses) {
      std::pair<std::string, std::string> pair;
      if (!use.wanted || !find_pair(settings, host.name, use.ssl, pair, out)) continue;
      ipc::Credential* c = out.settings.add_credentials();
      c->set_host(host.name);
      c->set_service(use.service);
      c->set_certificate_path(pair.first);
      c->set_key_path(pair.second);
      c->set_protocol(use.ssl.protocol);
      open_once(pair.first, opened, out);
      open_once(pair.second, opened, out);
    }
  }
  if (settings.serves_http()) add_https(settings, opened, out);
  return out;
}

}  // namespace xmppd::parent
