// The s2s worker's resolver, inside the s2s worker's sandbox, against a DNS server the test
// starts: proof that lookups work under the real syscall policy.
//
//   resolve [OPTIONS] FORWARDER ZONE srv|a|aaaa|tlsa NAME   (prints one answer line per record)
//   resolve FORWARDER ZONE connect DOMAIN    (one ConnectAttempt: its connection or why none)
//   resolve FORWARDER ZONE connect-all DOMAIN
//       (takes each connection as unusable and resumes: every target and address in turn)
//   resolve FORWARDER ZONE connect-cancel DOMAIN
//       (destroys the attempt 100 ms after its start, then runs the loop until the DNS
//       answers it left behind have come in: they must find nothing to call)
//
// A connection prints "connected HOST PORT direct|starttls IP port PORT", an attempt that
// gives up "failed REASON".
//
// OPTIONS, before FORWARDER in each form:
//   --trust-anchor FILE   validate DNSSEC with the anchors in FILE (dns_trust_anchor)
//   --dnssec              end each "connected" line and each status line but "bogus" with
//                         " secure" or " insecure": whether the answer that counted was
//                         DNSSEC-validated
//   --dane                look up TLSA records as use_dane does, and end each "connected" line
//                         with " dane N records" or " no-dane WHY"
//   --no-private          connect only to public addresses, as the worker does unless
//                         s2s_allow_private_addresses is true (the tests' are all loopback)
//   --resolvconf FILE     dns_resolvconf, given along with FORWARDER (which must win)
#include <event2/event.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "s2s-worker/connector.h"
#include "s2s-worker/resolver.h"
#include "sandbox/sandbox.h"

namespace {

using namespace xmppd::s2s;

// Returns the exit status: 0 when a connection was made.
int run_connect(struct event_base* base, Resolver& resolver, const std::string& domain, bool all, bool dnssec,
                bool allow_private, bool dane) {
  int status = 1;
  std::unique_ptr<ConnectAttempt> attempt;
  auto on_connected = [&](Connected c) {
    std::string dane_text;
    if (c.dane.state == DaneLookup::State::kRecords)
      dane_text = " dane " + std::to_string(c.dane.records.size()) + " records";
    else if (c.dane.state == DaneLookup::State::kNone)
      dane_text = " no-dane " + c.dane.none;
    std::printf("connected %s %u %s %s%s%s\n", c.target.host.c_str(), c.target.port,
                c.target.direct_tls ? "direct" : "starttls", c.address.c_str(),
                !dnssec ? "" : c.dnssec_secure ? " secure" : " insecure", dane_text.c_str());
    status = 0;
    if (all) {
      attempt->resume("dropped by the test");
      return;
    }
    // The owner may end the attempt from inside its callback: this one does.
    attempt.reset();
    event_base_loopbreak(base);
  };
  auto on_failed = [&](std::string reason) {
    std::printf("failed %s\n", reason.c_str());
    attempt.reset();
    event_base_loopbreak(base);
  };
  attempt = std::make_unique<ConnectAttempt>(base, resolver, domain, allow_private, on_connected, on_failed);
  attempt->set_dane(dane);
  attempt->start();
  event_base_dispatch(base);
  return status;
}

// Prints "cancelled" when the attempt is destroyed, "drained" when the loop has run dry.
int run_cancel(struct event_base* base, Resolver& resolver, const std::string& domain) {
  int status = 0;
  auto unexpected = [&](const char* what) {
    std::printf("unexpected %s\n", what);
    status = 1;
  };
  auto attempt = std::make_unique<ConnectAttempt>(
      base, resolver, domain, true, [&](Connected) { unexpected("connection"); },
      [&](std::string) { unexpected("failure"); });
  attempt->start();
  auto cancel = [](evutil_socket_t, short, void* arg) {
    static_cast<std::unique_ptr<ConnectAttempt>*>(arg)->reset();
    std::printf("cancelled\n");
  };
  const struct timeval delay = {0, 100000};
  event_base_once(base, -1, EV_TIMEOUT, cancel, &attempt, &delay);
  event_base_dispatch(base);
  std::printf("drained\n");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace xmppd::s2s;
  ResolverOptions options;
  bool dnssec = false, allow_private = true, dane = false;
  int arg = 1;
  for (; arg < argc && std::strncmp(argv[arg], "--", 2) == 0; ++arg) {
    if (std::strcmp(argv[arg], "--trust-anchor") == 0 && arg + 1 < argc)
      options.trust_anchor = argv[++arg];
    else if (std::strcmp(argv[arg], "--dnssec") == 0)
      dnssec = true;
    else if (std::strcmp(argv[arg], "--dane") == 0)
      dane = true;
    else if (std::strcmp(argv[arg], "--no-private") == 0)
      allow_private = false;
    else if (std::strcmp(argv[arg], "--resolvconf") == 0 && arg + 1 < argc)
      options.resolvconf = argv[++arg];
    else
      return 2;
  }
  if (argc - arg != 4) return 2;
  argv += arg - 1;
  struct event_base* base = event_base_new();
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
  // "bogus" says it all: a failed validation is neither.
  auto security = [dnssec](DnsStatus s, bool secure) {
    return !dnssec ? "" : secure ? " secure" : s == DnsStatus::kBogus ? "" : " insecure";
  };
  if (kind == "connect-cancel") {
    status = run_cancel(base, *resolver, name);
  } else if (kind == "connect" || kind == "connect-all") {
    status = run_connect(base, *resolver, name, kind == "connect-all", dnssec, allow_private, dane);
  } else if (kind == "srv") {
    resolver->srv(name, [&](SrvAnswer a) {
      std::printf("%s%s\n", label(a.status), security(a.status, a.secure));
      for (const auto& r : a.records) std::printf("%u %u %u %s\n", r.priority, r.weight, r.port, r.target.c_str());
      status = a.status == DnsStatus::kOk ? 0 : 1;
    });
  } else if (kind == "tlsa") {
    resolver->tlsa(name, [&](TlsaAnswer a) {
      std::printf("%s%s\n", label(a.status), security(a.status, a.secure));
      for (const auto& r : a.records) {
        std::printf("%u %u %u ", r.usage, r.selector, r.matching_type);
        for (std::uint8_t byte : r.data) std::printf("%02x", byte);
        std::printf("\n");
      }
      status = a.status == DnsStatus::kOk ? 0 : 1;
    });
  } else {
    resolver->addresses(name, kind == "a" ? kDnsTypeA : kDnsTypeAaaa, [&](AddressAnswer a) {
      std::printf("%s%s\n", label(a.status), security(a.status, a.secure));
      for (const auto& addr : a.addresses) std::printf("%s\n", addr.text().c_str());
      status = a.status == DnsStatus::kOk ? 0 : 1;
    });
  }
  event_base_dispatch(base);
  resolver.reset();
  event_base_free(base);
  return status;
}
