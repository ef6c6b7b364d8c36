#include "s2s-worker/resolver.h"

#include <unbound-event.h>
#include <unbound.h>
#include <unistd.h>

#include "common/log.h"

namespace xmppd::s2s {

struct Resolver::Query {
  std::string name;
  std::uint16_t type;
  std::function<void(SrvAnswer)> srv_done;
  std::function<void(AddressAnswer)> address_done;
  std::function<void(TlsaAnswer)> tlsa_done;
};

std::unique_ptr<Resolver> Resolver::create(struct event_base* base, const ResolverOptions& options,
                                           std::string& error) {
  ub_ctx* ctx = ub_ctx_create_event(base);
  if (ctx == nullptr) {
    error = "cannot create the DNS resolver";
    return nullptr;
  }
  std::unique_ptr<Resolver> resolver(new Resolver(ctx));
  auto check = [&](int rc, const std::string& what) {
    if (rc == 0) return true;
    error = what + ": " + ub_strerror(rc);
    return false;
  };
  for (const std::string& zone : options.transparent_zones)
    // libunbound answers special-use names (.test, .localhost...) itself unless told not to.
    if (!check(ub_ctx_set_option(ctx, "local-zone:", (zone + ". transparent").c_str()), "local-zone " + zone))
      return nullptr;
  // A system without these files (a minimal container, a chroot) still federates: without
  // resolv.conf libunbound resolves from the root servers itself.
  auto present = [](const std::string& path, const char* what) {
    if (path.empty()) return false;
    if (::access(path.c_str(), F_OK) == 0) return true;
    log::warning("DNS: %s %s does not exist; going on without it", what, path.c_str());
    return false;
  };
  // dns_forwarders replace the servers of dns_resolvconf (xmppd.conf(5)): loading both would
  // send each query to either, and a resolv.conf server that answers otherwise would decide
  // some lookups.
  if (!options.forwarders.empty()) {
    if (!options.resolvconf.empty())
      log::info("DNS: asking dns_forwarders only; %s is not read", options.resolvconf.c_str());
  } else if (present(options.resolvconf, "dns_resolvconf") &&
             !check(ub_ctx_resolvconf(ctx, options.resolvconf.c_str()), options.resolvconf)) {
    return nullptr;
  }
  if (present(options.hosts, "dns_hosts") && !check(ub_ctx_hosts(ctx, options.hosts.c_str()), options.hosts))
    return nullptr;
  for (const std::string& forwarder : options.forwarders)
    if (!check(ub_ctx_set_fwd(ctx, forwarder.c_str()), "forwarder " + forwarder)) return nullptr;
  if (!options.trust_anchor.empty() &&
      !check(ub_ctx_add_ta_file(ctx, options.trust_anchor.c_str()), options.trust_anchor))
    return nullptr;
  // libunbound opens the trust anchor file when it finalizes its configuration, by default at
  // the first query, inside the sandbox, where open(2) is fatal. Removing a local zone that
  // does not exist finalizes it now (and reports an unreadable trust anchor here).
  std::string what = options.trust_anchor.empty() ? "DNS resolver configuration"
                                                   : "DNS resolver configuration (dns_trust_anchor " +
                                                         options.trust_anchor + ")";
  if (!check(ub_ctx_zone_remove(ctx, "finalize.invalid."), what)) return nullptr;
  return resolver;
}

Resolver::~Resolver() { ub_ctx_delete(ctx_); }

void Resolver::srv(const std::string& name, std::function<void(SrvAnswer)> done) {
  auto query = std::make_unique<Query>();
  query->name = name;
  query->type = kDnsTypeSrv;
  query->srv_done = std::move(done);
  start(std::move(query), kDnsTypeSrv);
}

void Resolver::addresses(const std::string& host, std::uint16_t type, std::function<void(AddressAnswer)> done) {
  auto query = std::make_unique<Query>();
  query->name = host;
  query->type = type;
  query->address_done = std::move(done);
  start(std::move(query), type);
}

void Resolver::tlsa(const std::string& name, std::function<void(TlsaAnswer)> done) {
  auto query = std::make_unique<Query>();
  query->name = name;
  query->type = kDnsTypeTlsa;
  query->tlsa_done = std::move(done);
  start(std::move(query), kDnsTypeTlsa);
}

void Resolver::start(std::unique_ptr<Query> query, int type) {
  Query* raw = query.release();  // owned by libunbound until on_answer
  int rc = ub_resolve_event(ctx_, raw->name.c_str(), type, 1, raw, on_answer, nullptr);
  if (rc != 0) {
    log::warning("DNS query for %s: %s", raw->name.c_str(), ub_strerror(rc));
    on_answer(raw, 2, nullptr, 0, 0, nullptr, 0);
  }
}

// rcode 3 is NXDOMAIN; an answer without records of the type is NODATA: both "no records".
void Resolver::on_answer(void* arg, int rcode, void* packet, int length, int sec, char* why_bogus, int) {
  std::unique_ptr<Query> query(static_cast<Query*>(arg));
  std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(packet), packet ? static_cast<std::size_t>(length) : 0);
  DnsStatus status = rcode == 0 ? DnsStatus::kOk : rcode == 3 ? DnsStatus::kNoRecords : DnsStatus::kError;
  if (sec == 1) {
    log::warning("DNS answer for %s failed DNSSEC validation: %s", query->name.c_str(), why_bogus ? why_bogus : "?");
    status = DnsStatus::kBogus;
  }
  if (query->type == kDnsTypeSrv) {
    SrvAnswer answer{status, {}, sec == 2};
    if (status == DnsStatus::kOk && parse_srv(bytes, query->name, answer.records) != DnsParse::kOk)
      answer.status = DnsStatus::kError;
    if (answer.status == DnsStatus::kOk && answer.records.empty()) answer.status = DnsStatus::kNoRecords;
    query->srv_done(std::move(answer));
    return;
  }
  if (query->type == kDnsTypeTlsa) {
    TlsaAnswer answer{status, {}, sec == 2};
    if (status == DnsStatus::kOk && parse_tlsa(bytes, query->name, answer.records) != DnsParse::kOk)
      answer.status = DnsStatus::kError;
    if (answer.status == DnsStatus::kOk && answer.records.empty()) answer.status = DnsStatus::kNoRecords;
    query->tlsa_done(std::move(answer));
    return;
  }
  AddressAnswer answer{status, {}, sec == 2};
  if (status == DnsStatus::kOk && parse_addresses(bytes, query->name, query->type, answer.addresses) != DnsParse::kOk)
    answer.status = DnsStatus::kError;
  if (answer.status == DnsStatus::kOk && answer.addresses.empty()) answer.status = DnsStatus::kNoRecords;
  query->address_done(std::move(answer));
}

}  // namespace xmppd::s2s
