// check dns: SRV and address records of every VirtualHost, looked up with the s2s worker's own
// resolver (libunbound, configured from dns_resolvconf, dns_hosts, dns_forwarders,
// dns_trust_anchor and dns_transparent_zones as the worker is).
//
// DNS answers are network bytes, and xmppd's rule is that root never parses them. xmppctl
// does not fork a copy of itself (that copy would hold the whole configuration, secrets
// included, and root's terminal): it executes itself afresh in the hidden role
// `-R dns-check` (dns_child.cc) with only a socket (descriptor 3) and /dev/null, in a new
// session, and sends it only what the lookups need (check_dns.proto). xmppctl trusts nothing
// of the answer: it waits at most kDeadlineMs, reads at most kMaxReportBytes, keeps at most
// kMaxFindings findings of bounded length, and always reaps the child (killing it if needed).
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "check_dns.pb.h"
#include "common/unique_fd.h"
#include "xmppctl/dns_findings.h"
#include "xmppctl/table.h"

extern char** environ;

namespace xmppd::ctl {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kDeadlineMs = 30 * 1000;  // xmppctl's limit on the child (its own is 20 s)
constexpr int kExitGraceMs = 1000;      // after the report, how long the child may take to exit
constexpr std::size_t kMaxReportBytes = 1 << 20;
constexpr int kMaxFindings = 200;
constexpr std::size_t kMaxTextBytes = 300;

std::vector<std::string> local_addresses() {
  std::vector<std::string> out;
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (struct ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    char text[INET6_ADDRSTRLEN];
    const void* bytes = nullptr;
    if (i->ifa_addr->sa_family == AF_INET) bytes = &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr;
    if (i->ifa_addr->sa_family == AF_INET6) bytes = &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr;
    if (bytes != nullptr && inet_ntop(i->ifa_addr->sa_family, bytes, text, sizeof text)) out.push_back(text);
  }
  freeifaddrs(list);
  return out;
}

wire::DnsRequest make_request(const config::Settings& s, const struct passwd* user) {
  wire::DnsRequest r;
  r.set_resolvconf(s.dns.resolvconf);
  r.set_hosts_file(s.dns.hosts);
  for (const std::string& f : s.dns.forwarders) r.add_forwarders(f);
  r.set_trust_anchor(s.dns.trust_anchor);
  for (const std::string& z : s.dns.transparent_zones) r.add_transparent_zones(z);
  for (const config::HostSettings& h : s.federating()) {
    if (!h.enabled || (h.component && !h.module_enabled("s2s"))) continue;
    wire::DnsHost* host = r.add_hosts();
    host->set_name(h.name);
    for (const XmppService& service : services_of(s, h)) {
      wire::DnsService* w = host->add_services();
      w->set_srv_prefix(service.srv_prefix);
      w->set_ports_option(service.ports_option);
      for (int p : service.ports) w->add_ports(p);
      w->set_fallback_port(service.fallback_port);
      w->set_interfaces_option(service.interfaces_option);
      for (const std::string& i : service.interfaces) w->add_interfaces(i);
    }
  }
  for (const std::string& a : local_addresses()) r.add_local_addresses(a);
  if (user != nullptr && geteuid() == 0) {
    r.set_switch_user(true);
    r.set_uid(user->pw_uid);
    r.set_gid(user->pw_gid);
    r.set_directory(s.empty_path);
  }
  return r;
}

// The sanitizer runtimes' settings pass to the child; nothing else of the environment does.
std::vector<char*> child_environment() {
  std::vector<char*> out;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "ASAN_", 5) == 0 || std::strncmp(*e, "UBSAN_", 6) == 0 || std::strncmp(*e, "LSAN_", 5) == 0)
      out.push_back(*e);
  out.push_back(nullptr);
  return out;
}

// In the forked process, before exec: only async-signal-safe calls. A new session (no
// controlling terminal: no TIOCSTI into root's shell), /dev/null on 0-2, the socket on 3,
// nothing else open.
[[noreturn]] void exec_child(int socket, int devnull, char* const* env) {
  static char arg0[] = "xmppctl", arg1[] = "-R", arg2[] = "dns-check";
  char* const argv[] = {arg0, arg1, arg2, nullptr};
  int high = fcntl(socket, F_DUPFD, 10);
  if (setsid() < 0 || high < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0 ||
      dup2(high, 3) < 0 || close_range(4, ~0U, 0) != 0)
    _exit(126);
  execve("/proc/self/exe", argv, env);
  _exit(127);
}

bool send_request(int socket, const std::string& bytes) {
  for (std::size_t sent = 0; sent < bytes.size();) {
    ssize_t n = send(socket, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return shutdown(socket, SHUT_WR) == 0;
}

int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// The child's report, read until it closes the socket; false with `error` if it is late or too long.
bool read_report(int in, Clock::time_point deadline, std::string& bytes, std::string& error) {
  for (;;) {
    struct pollfd p = {in, POLLIN, 0};
    int left = ms_left(deadline);
    if (left == 0 || poll(&p, 1, left) != 1) {
      error = "the DNS lookups did not finish in " + std::to_string(kDeadlineMs / 1000) + " s";
      return false;
    }
    char buffer[4096];
    ssize_t n = read(in, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    bytes.append(buffer, static_cast<std::size_t>(n));
    if (bytes.size() > kMaxReportBytes) {
      error = "the DNS lookup child sent too much";
      return false;
    }
  }
}

std::string status_text(int status) {
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "exit status " + std::to_string(WEXITSTATUS(status));
}

// Reaps the child: it has a short grace to exit on its own, then is killed. Empty if it
// exited 0, else what became of it.
std::string reap(pid_t pid, Clock::time_point grace_until) {
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "" : status_text(status);
    if (r < 0 && errno != EINTR) return std::string("waitpid: ") + std::strerror(errno);
    if (Clock::now() >= grace_until) break;
    usleep(10 * 1000);
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return "killed by xmppctl: it did not exit";
}

std::string bounded(const std::string& text) {
  std::string out = printable(text);
  if (out.size() > kMaxTextBytes) out = out.substr(0, kMaxTextBytes) + "...";
  return out;
}

void take_findings(const wire::DnsFindings& report, Findings& out) {
  int kept = 0;
  for (const wire::DnsFinding& f : report.findings()) {
    if (kept++ == kMaxFindings) {
      out.push_back({Level::kWarning, "dns", "resolver",
                     std::to_string(report.findings_size() - kMaxFindings) + " more findings not shown"});
      return;
    }
    Level level = f.level() == wire::DnsFinding::LEVEL_OK        ? Level::kOk
                  : f.level() == wire::DnsFinding::LEVEL_WARNING ? Level::kWarning
                                                                 : Level::kError;
    out.push_back({level, "dns", bounded(f.subject()), bounded(f.message())});
  }
}

// The child's chroot, checked as xmppd checks it, and made as xmppd would make it at start.
bool empty_root_ready(const std::string& path, std::string& error) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  bool safe = lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 && (st.st_mode & 022) == 0;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(safe ? opendir(path.c_str()) : nullptr, closedir);
  int entries = 0;
  while (dir && readdir(dir.get()) != nullptr) ++entries;
  if (!dir || entries != 2) {
    error = path + " (empty_path) must be an empty directory owned by root and writable by nobody else";
    return false;
  }
  return true;
}

}  // namespace

void check_dns(const Context& context, Findings& out) {
  const config::Settings& s = context.settings;
  auto error_finding = [&](const std::string& message) { out.push_back({Level::kError, "dns", "resolver", message}); };
  // Looked up here: the child cannot (it has no name service switch files after its chroot).
  struct passwd* user = getpwnam(s.xmppd_user.c_str());
  if (geteuid() == 0 && (user == nullptr || user->pw_uid == 0)) {
    error_finding("the user " + s.xmppd_user + (user ? " is root" : " does not exist") +
                  "; DNS answers are only read by an unprivileged child");
    return;
  }
  if (std::string error; geteuid() == 0 && !empty_root_ready(s.empty_path, error)) return error_finding(error);
  std::string request = make_request(s, user).SerializeAsString();
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    fail(kExitFailed, std::string("socketpair: ") + std::strerror(errno));
  UniqueFd ours(pair[0]), theirs(pair[1]);
  UniqueFd devnull(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) fail(kExitFailed, std::string("/dev/null: ") + std::strerror(errno));
  std::vector<char*> env = child_environment();
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) fail(kExitFailed, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) exec_child(theirs.get(), devnull.get(), env.data());
  theirs.reset();
  auto deadline = Clock::now() + std::chrono::milliseconds(kDeadlineMs);
  std::string bytes, error;
  bool ok = send_request(ours.get(), request) && read_report(ours.get(), deadline, bytes, error);
  if (!ok && error.empty()) error = "the DNS lookup child did not take its request";
  std::string died =
      reap(pid, ok ? std::min(deadline, Clock::now() + std::chrono::milliseconds(kExitGraceMs)) : Clock::now());
  wire::DnsFindings report;
  if (ok && !died.empty()) error = "the DNS lookup child failed: " + died;
  if (ok && died.empty() && !report.ParseFromString(bytes)) error = "the DNS lookup child's report is not understood";
  if (!error.empty()) return error_finding(error);
  take_findings(report, out);
}

}  // namespace xmppd::ctl
