// The HTTP process's Configure (http_settings.h), built from the configuration.
#include "daemon/http_settings.h"

#include <openssl/rand.h>

#include "common/log.h"

namespace xmppd::parent {
namespace {

std::string https_base(const config::Settings& settings, const std::string& domain) {
  const config::HttpSettings& http = settings.http;
  std::string base = http.external_url;
  if (base.empty()) {
    if (!http.https_ports.empty())
      base = "https://" + domain + ":" + std::to_string(http.https_ports.front()) + "/";
    else if (!http.http_ports.empty())
      base = "http://" + domain + ":" + std::to_string(http.http_ports.front()) + "/";
  }
  if (!base.empty() && !base.ends_with("/")) base += '/';
  return base;
}

const config::HostSettings* parent_host(const std::string& domain, const config::Settings& settings) {
  const config::HostSettings* parent = nullptr;
  for (const config::HostSettings& h : settings.hosts) {
    bool below = domain.size() > h.name.size() && domain.ends_with("." + h.name);
    if (h.enabled && below && (parent == nullptr || h.name.size() > parent->name.size())) parent = &h;
  }
  return parent;
}

}  // namespace

ipc::HostTls host_tls(const std::string& host, const config::TlsSettings& ssl) {
  ipc::HostTls tls;
  tls.set_host(host);
  tls.set_protocol(ssl.protocol);
  tls.set_ciphers(ssl.ciphers);
  tls.set_ciphersuites(ssl.ciphersuites);
  return tls;
}

const std::string& slot_key() {
  static const std::string key = [] {
    std::string k(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(k.data()), static_cast<int>(k.size())) != 1)
      log::fatal("cannot make the upload slot key: no randomness");
    return k;
  }();
  return key;
}

ipc::FileShareService file_share_service(const config::HostSettings& c, const config::Settings& settings) {
  ipc::FileShareService s;
  s.set_domain(c.name);
  if (const config::HostSettings* parent = parent_host(c.name, settings)) s.set_parent_host(parent->name);
  const config::FileShareSettings& o = c.file_share;
  s.set_size_limit(o.size_limit);
  s.set_expires_after(o.expires_after);
  s.set_daily_quota(o.effective_daily_quota());
  s.set_global_quota(o.global_quota);
  for (const std::string& t : o.allowed_file_types) s.add_allowed_file_types(t);
  for (const std::string& t : o.safe_file_types) s.add_safe_file_types(t);
  for (const std::string& a : o.access) s.add_access(a);
  s.set_base_url(https_base(settings, c.name));
  return s;
}

ipc::HttpSettings http_settings(const config::Settings& settings) {
  const config::HttpSettings& http = settings.http;
  ipc::HttpSettings out;
  out.set_max_content_size(http.max_content_size);
  out.set_consider_websocket_secure(http.consider_websocket_secure);
  for (const config::HostSettings& host : settings.hosts) {
    if (!host.enabled) continue;
    if (host.module_enabled("websocket")) out.add_websocket_hosts(host.name);
    *out.add_tls() = host_tls(host.name, host.c2s_ssl);
  }
  for (const config::HostSettings& c : settings.components) {
    if (!c.enabled || c.component_module != "http_file_share") continue;
    *out.add_file_share() = file_share_service(c, settings);
    *out.add_tls() = host_tls(c.name, c.ssl);
  }
  out.set_slot_key(slot_key());
  out.set_metrics(settings.global.module_enabled("http_openmetrics"));
  for (const std::string& ip : http.openmetrics_allow_ips) out.add_metrics_allow_ips(ip);
  out.set_metrics_allow_cidr(http.openmetrics_allow_cidr);
  for (const std::string& proxy : http.trusted_proxies) out.add_trusted_proxies(proxy);
  ipc::StreamLimits& limits = *out.mutable_limits();
  limits.set_max_connections_per_address(static_cast<unsigned>(settings.max_connections_per_address));
  limits.set_max_unauthenticated_per_address(static_cast<unsigned>(settings.max_unauthenticated_per_address));
  limits.set_max_connections(static_cast<unsigned>(settings.max_connections));
  out.set_external_url(http.external_url);
  out.set_https_port(http.https_ports.empty() ? 0 : static_cast<unsigned>(http.https_ports.front()));
  out.set_http_port(http.http_ports.empty() ? 0 : static_cast<unsigned>(http.http_ports.front()));
  return out;
}

}  // namespace xmppd::parent
