#include "s2s-worker/s2s_policy.h"

#include "xmpp/jid.h"

namespace xmppd::s2s {
namespace {

// Prepared as the domains of streams are (domain_attribute), so that they compare alike; a
// name that is no domain could never match one.
void add_domain(std::set<std::string>& to, const std::string& name) {
  if (auto domain = xmpp::prepare_domainpart(name)) to.insert(*domain);
}

}  // namespace

std::string peer_size_refusal(const std::string& remote, std::size_t limit, bool announced) {
  return remote + " accepts stanzas of at most " + std::to_string(limit) + " bytes" +
         (announced ? " (XEP-0478)" : " (it announces no limit: s2s_peer_stanza_size_limit)");
}

void S2sPolicy::configure(const ipc::S2sSettings& settings) {
  hosts_ = {settings.hosts().begin(), settings.hosts().end()};
  by_host_.clear();
  for (const std::string& name : settings.hosts()) {
    Host host;
    host.require_encryption = settings.s2s().require_encryption();
    host.max_stanza_bytes = settings.s2s().max_stanza_bytes();
    if (auto it = settings.s2s().per_host().find(name); it != settings.s2s().per_host().end()) {
      host.require_encryption = it->second.require_encryption();
      host.max_stanza_bytes = it->second.max_stanza_bytes();
    }
    if (auto it = settings.policy().find(name); it != settings.policy().end()) {
      const ipc::S2sHostPolicy& p = it->second;
      host.enabled = p.enabled();
      host.secure_auth = p.secure_auth();
      for (const std::string& d : p.secure_domains()) add_domain(host.secure_domains, d);
      for (const std::string& d : p.insecure_domains()) add_domain(host.insecure_domains, d);
      if (p.timeout_seconds() > 0) host.timeout = std::chrono::seconds(p.timeout_seconds());
      host.dialback_without_dialback = p.dialback_without_dialback();
      for (const std::string& d : p.blacklist()) add_domain(host.blacklist, d);
      for (const std::string& d : p.whitelist()) add_domain(host.whitelist, d);
      if (p.peer_stanza_size_limit() > 0) host.peer_max_stanza_bytes = p.peer_stanza_size_limit();
      for (const auto& [name, bytes] : p.peer_stanza_size_limits())
        if (auto domain = xmpp::prepare_domainpart(name); domain && bytes > 0)
          host.peer_max_stanza_bytes_by_domain[*domain] = bytes;
      host.use_dane = p.use_dane();
      host.bidi = p.bidi();
      host.stream_management = p.stream_management();
    }
    by_host_[name] = std::move(host);
  }
}

const S2sPolicy::Host* S2sPolicy::find(const std::string& local) const {
  auto it = by_host_.find(local);
  return it == by_host_.end() ? nullptr : &it->second;
}

bool S2sPolicy::enabled(const std::string& local) const {
  const Host* h = find(local);
  return h != nullptr && h->enabled;
}

bool S2sPolicy::require_encryption(const std::string& local) const {
  const Host* h = find(local);
  return h == nullptr || h->require_encryption;
}

bool S2sPolicy::requires_certificate(const std::string& local, const std::string& remote) const {
  const Host* h = find(local);
  if (h == nullptr) return true;
  // s2s_secure_domains wins over everything; s2s_insecure_domains exempts from s2s_secure_auth.
  if (h->secure_domains.count(remote)) return true;
  return h->secure_auth && h->insecure_domains.count(remote) == 0;
}

bool S2sPolicy::stream_management(const std::string& local) const {
  const Host* h = find(local);
  return h != nullptr && h->stream_management;
}

bool S2sPolicy::dialback_without_dialback(const std::string& local) const {
  const Host* h = find(local);
  return h != nullptr && h->dialback_without_dialback;
}

std::string S2sPolicy::domain_refusal(const std::string& local, const std::string& remote) const {
  const Host* h = find(local);
  if (h == nullptr) return {};
  if (h->blacklist.count(remote)) return remote + " is in the s2s_blacklist of " + local;
  if (!h->whitelist.empty() && !h->whitelist.count(remote)) return remote + " is not in the s2s_whitelist of " + local;
  return {};
}

std::size_t S2sPolicy::peer_max_stanza_bytes(const std::string& local, const std::string& remote) const {
  const Host* h = find(local);
  if (h == nullptr) return kDefaultPeerStanzaBytes;
  auto it = h->peer_max_stanza_bytes_by_domain.find(remote);
  return it != h->peer_max_stanza_bytes_by_domain.end() ? it->second : h->peer_max_stanza_bytes;
}

std::size_t S2sPolicy::max_stanza_bytes(const std::string& local) const {
  const Host* h = find(local);
  return h != nullptr ? h->max_stanza_bytes : 512 * 1024;
}

std::chrono::seconds S2sPolicy::timeout(const std::string& local) const {
  const Host* h = find(local);
  return h != nullptr ? h->timeout : std::chrono::seconds(90);
}

bool S2sPolicy::use_dane(const std::string& local) const {
  const Host* h = find(local);
  return h != nullptr && h->use_dane;
}

bool S2sPolicy::bidi(const std::string& local) const {
  const Host* h = find(local);
  return h != nullptr && h->enabled && h->bidi;
}

}  // namespace xmppd::s2s
