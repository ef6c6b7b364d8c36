// check ports: each configured listening address and port is free for xmppd to bind, or is
// already held by xmppd. A port held by another program is an error: xmppd would not start.
// It binds (without listening) the way daemon/listeners.cc does, and finds a holder through
// the kernel's own tables (/proc/net/tcp, /proc/PID/fd, /proc/PID/exe and stat, the pidfile):
// nothing from the network. A holder counts as xmppd by its pid, never by the name it gives itself.
#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>

#include "common/unique_fd.h"
#include "xmppctl/check.h"
#include "xmppctl/control_client.h"

namespace xmppd::ctl {
namespace {

// The inodes of listening TCP sockets on `port`, from /proc/net/tcp and tcp6.
std::vector<std::string> listening_inodes(int port) {
  std::vector<std::string> inodes;
  char want[8];
  std::snprintf(want, sizeof want, ":%04X", port);
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the heading
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
      if (state == "0A" && local.size() > 5 && local.compare(local.size() - 5, 5, want) == 0) inodes.push_back(inode);
    }
  }
  return inodes;
}

struct Holder {
  std::string name;  // "xmppd-router (pid 123)": its comm, which it may set itself, for display only
  pid_t pid = 0;
  bool found() const { return pid > 0; }
};

// The process holding socket `inode`; none if not found.
Holder holder_of(const std::string& inode) {
  std::string target = "socket:[" + inode + "]";
  std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), closedir);
  if (!proc) return {};
  while (struct dirent* entry = readdir(proc.get())) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::string pid = entry->d_name;
    std::string fd_dir = "/proc/" + pid + "/fd";
    std::unique_ptr<DIR, int (*)(DIR*)> fds(opendir(fd_dir.c_str()), closedir);
    if (!fds) continue;
    while (struct dirent* fd = readdir(fds.get())) {
      char link[64];
      ssize_t n = readlink((fd_dir + "/" + fd->d_name).c_str(), link, sizeof link - 1);
      if (n <= 0 || std::string_view(link, static_cast<std::size_t>(n)) != target) continue;
      std::ifstream comm("/proc/" + pid + "/comm");
      std::string name;
      std::getline(comm, name);
      return {name + " (pid " + pid + ")", static_cast<pid_t>(std::stol(pid))};
    }
  }
  return {};
}

pid_t parent_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t close = text.rfind(')');  // comm, in parentheses, may hold spaces and ')'
  std::istringstream rest(close == std::string::npos ? "" : text.substr(close + 1));
  std::string state;
  long ppid = 0;
  rest >> state >> ppid;
  return static_cast<pid_t>(ppid);
}

// The running xmppd's parent: the pid in `pidfile` (written by root) whose executable is an
// xmppd. 0 if none. A process's name (comm, PR_SET_NAME) proves nothing: any user sets it.
pid_t xmppd_pid(const std::string& pidfile) {
  std::ifstream in(pidfile);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  char exe[4096];
  ssize_t n = readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof exe - 1);
  if (n <= 0) return 0;
  std::string path(exe, static_cast<std::size_t>(n));
  if (path.size() > 10 && path.compare(path.size() - 10, 10, " (deleted)") == 0) path.resize(path.size() - 10);
  return path.size() >= 6 && path.compare(path.size() - 6, 6, "/xmppd") == 0 ? static_cast<pid_t>(pid) : 0;
}

// Whether the holder is xmppd: its parent (which binds the ports) or one of its children.
bool held_by_xmppd(const Holder& holder, pid_t xmppd) {
  return xmppd > 0 && holder.found() && (holder.pid == xmppd || parent_of(holder.pid) == xmppd);
}

// 0 if the address and port could be bound now, else errno.
int try_bind(const std::string& interface, int port) {
  struct addrinfo hints = {};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* ai = nullptr;
  std::string service = std::to_string(port);
  if (getaddrinfo(interface == "*" ? "0.0.0.0" : interface.c_str(), service.c_str(), &hints, &ai) != 0) return EINVAL;
  UniqueFd fd(socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int on = 1;
  int error = 0;
  if (!fd || setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      (ai->ai_family == AF_INET6 && setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) ||
      bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0)
    error = errno;
  freeaddrinfo(ai);
  return error;
}

void check_one(const std::string& interface, int port, const char* kind, bool xmppd_runs, pid_t xmppd,
               Findings& out) {
  std::string subject = interface + " port " + std::to_string(port);
  int error = try_bind(interface, port);
  if (error == 0 && xmppd_runs) {
    // xmppd binds its ports once, at start-up: a reload does not take new ones.
    out.push_back({Level::kWarning, "ports", subject,
                   std::string(kind) + ": xmppd runs but does not listen here; restart it to take this port"});
    return;
  }
  if (error == 0) {
    out.push_back({Level::kOk, "ports", subject, std::string(kind) + ": free for xmppd"});
    return;
  }
  if (error == EINVAL) {
    out.push_back(
        {Level::kError, "ports", subject, std::string(kind) + ": interfaces must be IP addresses, \"*\" or \"::\""});
    return;
  }
  if (error != EADDRINUSE) {
    out.push_back({Level::kWarning, "ports", subject, std::string(kind) + ": cannot check: " + std::strerror(error)});
    return;
  }
  Holder holder;
  for (const std::string& inode : listening_inodes(port))
    if (holder = holder_of(inode); holder.found()) break;
  if (held_by_xmppd(holder, xmppd))
    out.push_back({Level::kOk, "ports", subject, std::string(kind) + ": held by " + holder.name});
  else
    out.push_back({Level::kError, "ports", subject,
                   std::string(kind) + ": in use by " + (holder.found() ? holder.name : "another program") +
                       "; xmppd cannot listen here"});
}

}  // namespace

void check_ports(const Context& context, Findings& out) {
  const config::Settings& s = context.settings;
  // The component ports are listened on only when an external component is configured.
  bool external_components = s.has_external_components();
  static const std::vector<int> kNone;
  struct {
    const char* kind;
    const std::vector<std::string>& interfaces;
    const std::vector<int>& ports;
  } uses[] = {{"c2s", s.c2s_interfaces, s.c2s_ports},
              {"c2s direct TLS", s.c2s_interfaces, s.c2s_direct_tls_ports},
              {"s2s", s.s2s_interfaces, s.s2s_ports},
              {"s2s direct TLS", s.s2s_interfaces, s.s2s_direct_tls_ports},
              {"component", s.component_interfaces, external_components ? s.component_ports : kNone}};
  bool xmppd_runs = server_running(context);
  pid_t xmppd = xmppd_runs ? xmppd_pid(s.pidfile) : 0;
  std::map<int, const char*> kind_of_port;
  for (const auto& use : uses) {
    for (int port : use.ports) {
      auto [it, fresh] = kind_of_port.emplace(port, use.kind);
      if (!fresh && std::strcmp(it->second, use.kind) != 0)
        out.push_back({Level::kError, "ports", "port " + std::to_string(port),
                       std::string("configured for both ") + it->second + " and " + use.kind});
      for (const std::string& interface : use.interfaces) check_one(interface, port, use.kind, xmppd_runs, xmppd, out);
    }
  }
}

}  // namespace xmppd::ctl
