// Which federation a local host allows, and how a remote domain must prove itself:
// the s2s_* options of xmppd.conf(5), per VirtualHost.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>

#include "control.pb.h"

namespace xmppd::s2s {

class S2sPolicy {
 public:
  void configure(const ipc::S2sSettings& settings);

  bool is_local(const std::string& domain) const { return hosts_.count(domain) > 0; }
  // Federation is enabled for this local host ("s2s" not in modules_disabled).
  bool enabled(const std::string& local) const;
  bool require_encryption(const std::string& local) const;
  // A trusted certificate valid for `remote` is required (s2s_secure_auth, s2s_secure_domains,
  // s2s_insecure_domains): dialback is then refused.
  bool requires_certificate(const std::string& local, const std::string& remote) const;
  std::size_t max_stanza_bytes(const std::string& local) const;
  std::chrono::seconds timeout(const std::string& local) const;
  // Bidirectional streams (XEP-0288) for this host: "s2s_bidi" in modules_enabled.
  bool bidi(const std::string& local) const;

 private:
  struct Host {
    bool enabled = false;
    bool require_encryption = true;
    bool secure_auth = false;
    std::set<std::string> secure_domains, insecure_domains;
    std::size_t max_stanza_bytes = 512 * 1024;
    std::chrono::seconds timeout{90};
    bool bidi = false;
  };
  const Host* find(const std::string& local) const;

  std::set<std::string> hosts_;
  std::map<std::string, Host> by_host_;
};

}  // namespace xmppd::s2s
