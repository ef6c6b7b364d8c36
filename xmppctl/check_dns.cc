// check dns: SRV and address records of every VirtualHost, looked up with the s2s worker's own
// resolver (libunbound, configured from dns_resolvconf, dns_hosts, dns_forwarders,
// dns_trust_anchor and dns_transparent_zones as the worker is).
//
// DNS answers are network bytes, and xmppd's rule is that root never parses them: xmppctl
// forks a child that drops to xmppd_user (groups, gid, uid, no new privileges) before it
// creates the resolver, does every lookup, judges the answers (dns_findings.cc) and writes
// only its findings back over a pipe (check_dns.proto). xmppctl waits at most kDeadline for
// them and kills the child if it is late.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "check_dns.pb.h"
#include "common/unique_fd.h"
#include "xmppctl/dns_findings.h"

namespace xmppd::ctl {
namespace {

constexpr int kLookupSeconds = 20;      // the child's own limit on its lookups
constexpr int kDeadlineMs = 30 * 1000;  // xmppctl's limit on the child
constexpr std::size_t kMaxReportBytes = 1 << 20;

std::set<std::string> local_addresses() {
  std::set<std::string> out;
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (struct ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    char text[INET6_ADDRSTRLEN];
    const void* bytes = nullptr;
    if (i->ifa_addr->sa_family == AF_INET) bytes = &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr;
    if (i->ifa_addr->sa_family == AF_INET6) bytes = &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr;
    if (bytes != nullptr && inet_ntop(i->ifa_addr->sa_family, bytes, text, sizeof text)) out.insert(text);
  }
  freeifaddrs(list);
  return out;
}

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

// In the child, unprivileged: every lookup, judged.
wire::DnsFindings look_up_and_judge(const config::Settings& s) {
  wire::DnsFindings report;
  std::unique_ptr<event_base, void (*)(event_base*)> base(event_base_new(), event_base_free);
  s2s::ResolverOptions options{s.dns.resolvconf, s.dns.hosts, s.dns.forwarders, s.dns.trust_anchor,
                               s.dns.transparent_zones};
  std::string error;
  std::unique_ptr<s2s::Resolver> resolver = base ? s2s::Resolver::create(base.get(), options, error) : nullptr;
  if (!resolver) {
    add(report, Level::kError, "resolver", error.empty() ? "cannot create the resolver" : error);
    return report;
  }
  Lookups lookups(base.get(), *resolver);
  std::vector<const config::HostSettings*> hosts;
  for (const config::HostSettings& h : s.hosts)
    if (h.enabled) {
      hosts.push_back(&h);
      lookups.start(h.name, services_of(s, h));
    }
  timeval limit = {kLookupSeconds, 0};
  event_base_loopexit(base.get(), &limit);
  if (!lookups.done()) event_base_dispatch(base.get());
  if (!lookups.done()) {
    add(report, Level::kError, "resolver", "the lookups took longer than " + std::to_string(kLookupSeconds) + " s");
    return report;
  }
  std::set<std::string> local = local_addresses();
  Findings findings;
  for (const config::HostSettings* h : hosts) judge_host_dns(lookups.of(h->name), services_of(s, *h), local, findings);
  for (const Finding& f : findings) add(report, f.level, f.subject, f.message);
  return report;
}

// Root's groups, gid and uid traded for xmppd_user's, for good.
bool drop_root(const struct passwd& user, std::string& error) {
  if (geteuid() == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(user.pw_gid) != 0 || setuid(user.pw_uid) != 0 ||
        (user.pw_uid != 0 && setuid(0) == 0)) {
      error = std::string("cannot switch to the user ") + user.pw_name + ": " + std::strerror(errno);
      return false;
    }
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    error = std::string("PR_SET_NO_NEW_PRIVS: ") + std::strerror(errno);
    return false;
  }
  return true;
}

[[noreturn]] void child(int out, const config::Settings& settings, const struct passwd& user) {
  wire::DnsFindings report;
  std::string error;
  if (drop_root(user, error))
    report = look_up_and_judge(settings);
  else
    add(report, Level::kError, "resolver", error);
  std::string bytes = report.SerializeAsString();
  for (std::size_t sent = 0; sent < bytes.size();) {
    ssize_t n = write(out, bytes.data() + sent, bytes.size() - sent);
    if (n <= 0) _exit(1);
    sent += static_cast<std::size_t>(n);
  }
  _exit(0);
}

// The child's report, read with a deadline; false with `error` if it is late, too long or broken.
bool read_report(int in, wire::DnsFindings& report, std::string& error) {
  std::string bytes;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDeadlineMs);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    struct pollfd p = {in, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) != 1) {
      error = "the DNS lookups did not finish in " + std::to_string(kDeadlineMs / 1000) + " s";
      return false;
    }
    char buffer[4096];
    ssize_t n = read(in, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
    if (bytes.size() > kMaxReportBytes) {
      error = "the DNS lookup child sent too much";
      return false;
    }
  }
  if (!report.ParseFromString(bytes)) {
    error = "the DNS lookup child's report is not understood";
    return false;
  }
  return true;
}

}  // namespace

void check_dns(const Context& context, Findings& out) {
  const config::Settings& s = context.settings;
  // Looked up before the fork: the child's name service switch lookups would run unprivileged.
  struct passwd* entry = getpwnam(s.xmppd_user.c_str());
  if (entry == nullptr && geteuid() == 0) {
    out.push_back({Level::kError, "dns", "resolver",
                   "the user " + s.xmppd_user + " does not exist; DNS answers are only read by an unprivileged child"});
    return;
  }
  struct passwd user = {};
  std::string name = entry ? entry->pw_name : "";
  if (entry != nullptr) user = *entry;
  user.pw_name = name.data();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) fail(kExitFailed, std::string("pipe: ") + std::strerror(errno));
  UniqueFd in(fds[0]), child_out(fds[1]);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) fail(kExitFailed, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    in.reset();
    child(child_out.get(), s, user);
  }
  child_out.reset();
  wire::DnsFindings report;
  std::string error;
  bool ok = read_report(in.get(), report, error);
  if (!ok) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!ok) {
    out.push_back({Level::kError, "dns", "resolver", error});
    return;
  }
  for (const wire::DnsFinding& f : report.findings()) {
    Level level = f.level() == wire::DnsFinding::LEVEL_OK        ? Level::kOk
                  : f.level() == wire::DnsFinding::LEVEL_WARNING ? Level::kWarning
                                                                 : Level::kError;
    out.push_back({level, "dns", f.subject(), f.message()});
  }
}

}  // namespace xmppd::ctl
