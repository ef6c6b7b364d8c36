// `xmppctl -R dns-check`: the DNS lookup child of check dns, a fresh process that xmppctl
// executes (check_dns.cc) with descriptor 3 a socket to xmppctl and 0-2 on /dev/null, in a
// session of its own (no controlling terminal). It trusts only its request on descriptor 3
// (from root xmppctl); every DNS answer it reads is hostile.
//
// Order, as the daemon's children: read the request; create the resolver (libunbound reads
// resolv.conf, hosts and the trust anchor now); chroot to empty_path and become xmppd_user
// (when root); no_new_privs; the s2s worker's seccomp allowlist (it does the same lookups);
// only then look up, judge (dns_findings.cc) and send the findings back.
#include <event2/event.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "check_dns.pb.h"
#include "sandbox/sandbox.h"
#include "xmppctl/dns_findings.h"

namespace xmppd::ctl {
namespace {

constexpr int kSocket = 3;
constexpr int kLookupSeconds = 20;            // the child's own limit; xmppctl's is longer
constexpr std::size_t kMaxRequestBytes = 1 << 20;
constexpr std::size_t kMaxTargetsPerService = 16;  // a hostile answer may list thousands

// Every lookup of every host, on one event loop; done when nothing is pending.
class Lookups {
 public:
  Lookups(event_base* base, s2s::Resolver& resolver) : base_(base), resolver_(resolver) {}

  void start(const std::string& host, const std::vector<XmppService>& services) {
    HostDns& dns = hosts_[host];
    dns.host = host;
    lookup_addresses(dns, host);
    for (const XmppService& service : services) {
      ++pending_;
      resolver_.srv(service.srv_prefix + "." + host, [this, &dns, prefix = service.srv_prefix](s2s::SrvAnswer answer) {
        if (answer.records.size() > kMaxTargetsPerService) {
          dns.srv_unchecked[prefix] = answer.records.size() - kMaxTargetsPerService;
          answer.records.resize(kMaxTargetsPerService);
        }
        for (const s2s::SrvRecord& r : answer.records)
          if (!r.target.empty() && r.target != ".") lookup_addresses(dns, r.target);
        dns.srv[prefix] = std::move(answer);
        finished();
      });
    }
  }

  bool done() const { return pending_ == 0; }
  const HostDns& of(const std::string& host) { return hosts_[host]; }

 private:
  void lookup_addresses(HostDns& dns, const std::string& name) {
    if (dns.addresses.count(name)) return;
    dns.addresses[name];
    for (std::uint16_t type : {s2s::kDnsTypeA, s2s::kDnsTypeAaaa}) {
      ++pending_;
      resolver_.addresses(name, type, [this, &dns, name](s2s::AddressAnswer answer) {
        NameAddresses& merged = dns.addresses[name];
        for (const s2s::Address& a : answer.addresses) merged.addresses.push_back(a.text());
        if (answer.status == s2s::DnsStatus::kOk && !merged.addresses.empty())
          merged.status = s2s::DnsStatus::kOk;
        else if (merged.status != s2s::DnsStatus::kOk && answer.status != s2s::DnsStatus::kNoRecords)
          merged.status = answer.status;
        finished();
      });
    }
  }

  void finished() {
    if (--pending_ == 0) event_base_loopbreak(base_);
  }

  event_base* base_;
  s2s::Resolver& resolver_;
  std::map<std::string, HostDns> hosts_;  // std::map: references stay valid as hosts are added
  int pending_ = 0;
};

void add(wire::DnsFindings& report, Level level, const std::string& subject, const std::string& message) {
  wire::DnsFinding* f = report.add_findings();
  f->set_level(level == Level::kOk        ? wire::DnsFinding::LEVEL_OK
               : level == Level::kWarning ? wire::DnsFinding::LEVEL_WARNING
                                          : wire::DnsFinding::LEVEL_ERROR);
  f->set_subject(subject);
  f->set_message(message);
}

std::vector<XmppService> services_from(const wire::DnsHost& host) {
  std::vector<XmppService> out;
  for (const wire::DnsService& s : host.services())
    out.push_back({s.srv_prefix(), s.ports_option(), {s.ports().begin(), s.ports().end()}, s.fallback_port(),
                   s.interfaces_option(), {s.interfaces().begin(), s.interfaces().end()}});
  return out;
}

bool read_request(wire::DnsRequest& request) {
  std::string bytes;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(kSocket, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
    if (bytes.size() > kMaxRequestBytes) return false;
  }
  // Nothing, or a request that would leave the child root (xmppctl always names a user when
  // it is root): refused before anything is done.
  return !bytes.empty() && request.ParseFromString(bytes) && (request.switch_user() || geteuid() != 0) &&
         (!request.switch_user() || !request.directory().empty());
}

bool confine(const wire::DnsRequest& request, std::string& error) {
  sandbox::Privsep privsep;
  privsep.switch_user = request.switch_user() && geteuid() == 0;
  privsep.uid = request.uid();
  privsep.gid = request.gid();
  if (privsep.switch_user) privsep.directory = request.directory();  // else: stay where we are
  if (!sandbox::drop_privileges(privsep, error)) return false;
  return sandbox::enter(sandbox::Role::kS2s, sandbox::build_mode(), error);
}

wire::DnsFindings look_up_and_judge(const wire::DnsRequest& request) {
  wire::DnsFindings report;
  std::unique_ptr<event_base, void (*)(event_base*)> base(event_base_new(), event_base_free);
  s2s::ResolverOptions options{request.resolvconf(), request.hosts_file(),
                               {request.forwarders().begin(), request.forwarders().end()}, request.trust_anchor(),
                               {request.transparent_zones().begin(), request.transparent_zones().end()}};
  std::string error;
  std::unique_ptr<s2s::Resolver> resolver = base ? s2s::Resolver::create(base.get(), options, error) : nullptr;
  if (!resolver) {
    add(report, Level::kError, "resolver", error.empty() ? "cannot create the resolver" : error);
    return report;
  }
  if (!confine(request, error)) {
    add(report, Level::kError, "resolver", "the lookup child cannot confine itself: " + error);
    return report;
  }
  Lookups lookups(base.get(), *resolver);
  for (const wire::DnsHost& h : request.hosts()) lookups.start(h.name(), services_from(h));
  timeval limit = {kLookupSeconds, 0};
  event_base_loopexit(base.get(), &limit);
  if (!lookups.done()) event_base_dispatch(base.get());
  if (!lookups.done()) {
    add(report, Level::kError, "resolver", "the lookups took longer than " + std::to_string(kLookupSeconds) + " s");
    return report;
  }
  std::set<std::string> local(request.local_addresses().begin(), request.local_addresses().end());
  Findings findings;
  for (const wire::DnsHost& h : request.hosts()) judge_host_dns(lookups.of(h.name()), services_from(h), local, findings);
  for (const Finding& f : findings) add(report, f.level, f.subject, f.message);
  return report;
}

}  // namespace

int dns_check_child() {
  wire::DnsRequest request;
  if (!read_request(request)) return 1;
  std::string bytes = look_up_and_judge(request).SerializeAsString();
  for (std::size_t sent = 0; sent < bytes.size();) {
    ssize_t n = write(kSocket, bytes.data() + sent, bytes.size() - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 1;
    sent += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace xmppd::ctl
