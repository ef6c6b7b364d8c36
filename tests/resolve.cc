// The s2s worker's resolver, inside the s2s worker's sandbox, against a DNS server the test
// starts: proof that lookups work under the real syscall policy.
//
//   resolve FORWARDER ZONE srv|a|aaaa NAME   (prints one answer line per record)
#include <event2/event.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "s2s-worker/resolver.h"
#include "sandbox/sandbox.h"

int main(int argc, char** argv) {
  using namespace xmppd::s2s;
  if (argc != 5) return 2;
  struct event_base* base = event_base_new();
  ResolverOptions options;
  options.forwarders = {argv[1]};
  options.transparent_zones = {argv[2]};
  std::string error;
  auto resolver = Resolver::create(base, options, error);
  if (!resolver) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  // stdio would fstat(2) stdout to size its buffer at the first printf, inside the sandbox.
  static char out_buffer[4096];
  std::setvbuf(stdout, out_buffer, _IOLBF, sizeof out_buffer);
  if (!xmppd::sandbox::enter(xmppd::sandbox::Role::kS2s, xmppd::sandbox::build_mode(), error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  std::string kind = argv[3], name = argv[4];
  int status = 0;
  auto label = [](DnsStatus s) {
    return s == DnsStatus::kOk ? "ok" : s == DnsStatus::kNoRecords ? "no-records" : s == DnsStatus::kBogus ? "bogus" : "error";
  };
  if (kind == "srv") {
    resolver->srv(name, [&](SrvAnswer a) {
      std::printf("%s\n", label(a.status));
      for (const auto& r : a.records) std::printf("%u %u %u %s\n", r.priority, r.weight, r.port, r.target.c_str());
      status = a.status == DnsStatus::kOk ? 0 : 1;
    });
  } else {
    resolver->addresses(name, kind == "a" ? kDnsTypeA : kDnsTypeAaaa, [&](AddressAnswer a) {
      std::printf("%s\n", label(a.status));
      for (const auto& addr : a.addresses) std::printf("%s\n", addr.text().c_str());
      status = a.status == DnsStatus::kOk ? 0 : 1;
    });
  }
  event_base_dispatch(base);
  resolver.reset();
  return status;
}
