// Which federation a local host allows, and how a remote domain must prove itself:
// the s2s_* options of xmppd.conf(5), per VirtualHost.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>

#include "control.pb.h"

namespace xmppd::s2s {

// The text of the bounce for a stanza over what `remote` accepts: `limit` is what it
// announced (XEP-0478) or, when it announced nothing, s2s_peer_stanza_size_limit's.
std::string peer_size_refusal(const std::string& remote, std::size_t limit, bool announced);

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
  // dialback_without_dialback: a trusted certificate valid for the domain stands in for the
  // dialback callback even where no certificate is required (XEP-0344).
  bool dialback_without_dialback(const std::string& local) const;
  // Why s2s_blacklist or s2s_whitelist refuses `remote` for `local`, in both directions;
  // empty when it is allowed.
  std::string domain_refusal(const std::string& local, const std::string& remote) const;
  std::size_t max_stanza_bytes(const std::string& local) const;
  // The largest stanza sent to a peer that advertises no limit (XEP-0478).
  std::size_t peer_max_stanza_bytes(const std::string& local, const std::string& remote) const;
  std::chrono::seconds timeout(const std::string& local) const;
  // use_dane: TLSA records of the remote's SRV targets are checked (s2s-worker/outbound_dane.cc).
  bool use_dane(const std::string& local) const;
  // Bidirectional streams (XEP-0288) for this host: "s2s_bidi" in modules_enabled.
  bool bidi(const std::string& local) const;
  // XEP-0198 acknowledgements on this host's streams: smacks_enabled_s2s.
  bool stream_management(const std::string& local) const;

  static constexpr std::size_t kDefaultPeerStanzaBytes = 65535;  // jabberd2's s2s stanzasize

 private:
  struct Host {
    bool enabled = false;
    bool require_encryption = true;
    bool secure_auth = false;
    bool dialback_without_dialback = false;
    std::set<std::string> secure_domains, insecure_domains, blacklist, whitelist;
    std::size_t max_stanza_bytes = 512 * 1024;
    std::size_t peer_max_stanza_bytes = kDefaultPeerStanzaBytes;
    std::map<std::string, std::size_t> peer_max_stanza_bytes_by_domain;
    std::chrono::seconds timeout{90};
    bool use_dane = false;
    bool bidi = false;
    bool stream_management = false;
  };
  const Host* find(const std::string& local) const;

  std::set<std::string> hosts_;
  std::map<std::string, Host> by_host_;
};

}  // namespace xmppd::s2s
