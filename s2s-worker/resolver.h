// DNS for federation: SRV, A, AAAA and TLSA lookups through libunbound on the s2s worker's own
// event loop (ub_ctx_create_event: no thread, no helper process), DNSSEC-validating when a
// trust anchor is configured. Everything it reads from files (resolv.conf, hosts, the
// trust anchor) is read when it is created, before the sandbox.
#pragma once

#include <event2/event.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "s2s-worker/dns_answer.h"
#include "s2s-worker/srv_order.h"

struct ub_ctx;

namespace xmppd::s2s {

struct ResolverOptions {
  std::string resolvconf;                      // empty: none
  std::string hosts;                           // empty: none
  std::vector<std::string> forwarders;         // IP addresses; override resolv.conf
  std::string trust_anchor;                    // file; empty: no DNSSEC validation
  std::vector<std::string> transparent_zones;  // special-use zones to forward ("test")
};

enum class DnsStatus { kOk, kNoRecords, kError, kBogus };

struct SrvAnswer {
  DnsStatus status;
  std::vector<SrvRecord> records;
  bool secure = false;  // DNSSEC-validated
};

struct AddressAnswer {
  DnsStatus status;
  std::vector<Address> addresses;
  bool secure = false;
};

struct TlsaAnswer {
  DnsStatus status;
  std::vector<TlsaRecord> records;
  bool secure = false;
};

class Resolver {
 public:
  static std::unique_ptr<Resolver> create(struct event_base* base, const ResolverOptions& options, std::string& error);
  ~Resolver();

  void srv(const std::string& name, std::function<void(SrvAnswer)> done);
  // type: kDnsTypeA or kDnsTypeAaaa.
  void addresses(const std::string& host, std::uint16_t type, std::function<void(AddressAnswer)> done);
  // `name` is the TLSA owner, "_5269._tcp.host" (RFC 6698 §3).
  void tlsa(const std::string& name, std::function<void(TlsaAnswer)> done);

 private:
  explicit Resolver(ub_ctx* ctx) : ctx_(ctx) {}
  struct Query;
  static void on_answer(void* arg, int rcode, void* packet, int length, int sec, char* why_bogus, int ratelimited);
  void start(std::unique_ptr<Query> query, int type);

  ub_ctx* ctx_;
};

}  // namespace xmppd::s2s
