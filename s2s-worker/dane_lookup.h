// Inbound DANE's DNS (Prosody's mod_s2s_auth_dane_in): the TLSA records a remote domain
// publishes for its own servers, found as an outbound connection to it would find them. Its
// _xmpps-server and _xmpp-server SRV answers, where DNSSEC-validated, name the targets (RFC
// 7673 §3.1); each target's "_PORT._tcp.HOST" TLSA answer is read by read_tlsa_answer
// (connector.h), as the connector reads it. The certificate is judged by dane_verdict.h.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "s2s-worker/connector.h"
#include "s2s-worker/resolver.h"

namespace xmppd::s2s {

struct DomainDane {
  std::vector<std::pair<std::string, DaneLookup>> targets;  // (SRV target host, its TLSA state)
  std::vector<std::string> bogus;                           // names whose answers failed validation or could not be had
  std::string none;                                         // no target: why ("unsigned", "no SRV record")
};

class DomainDaneLookup {
 public:
  // A domain may name many targets: only the first this many (in answer order) are asked about.
  static constexpr std::size_t kMaxTargets = 8;
  using Done = std::function<void(DomainDane)>;

  // `done` may be called from inside start(); the owner may destroy the lookup from inside
  // it, or at any time (answers that arrive later are dropped). `resolver` must outlive it.
  DomainDaneLookup(Resolver& resolver, std::string domain, Done done);
  DomainDaneLookup(const DomainDaneLookup&) = delete;
  DomainDaneLookup& operator=(const DomainDaneLookup&) = delete;
  ~DomainDaneLookup();
  void start();

 private:
  void srv_answered(bool direct_tls, SrvAnswer answer);
  void tlsa_answered(std::size_t index, TlsaAnswer answer);
  void finish();

  Resolver& resolver_;
  std::string domain_;
  Done done_;
  std::shared_ptr<DomainDaneLookup*> self_;
  std::optional<SrvAnswer> xmpps_, xmpp_;
  DomainDane result_;
  std::vector<bool> answered_;
  std::size_t pending_ = 0;
};

}  // namespace xmppd::s2s
