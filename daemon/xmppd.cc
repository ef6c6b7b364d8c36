// xmppd: the parent process. See parent.h for what it does and README.md for the map of
// processes; xmppd(8) for the command line.
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "build_config.h"
#include "common/log.h"
#include "daemon/credentials.h"
#include "daemon/log_outputs.h"
#include "daemon/parent.h"

namespace {

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: xmppd [-dnv] [-f file]\n");
  std::exit(1);
}

bool write_pidfile(const std::string& path) {
  if (path.empty()) return true;
  std::ofstream out(path, std::ios::trunc);
  out << getpid() << "\n";
  return static_cast<bool>(out.flush());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace xmppd;
  parent::Options options;
  options.config_file = std::string(XMPPD_SYSCONFDIR) + "/xmppd.conf";
  bool check_only = false;
  int ch;
  while ((ch = getopt(argc, argv, "df:nv")) != -1) {
    switch (ch) {
      case 'd': options.foreground = true; break;
      case 'f': options.config_file = optarg; break;
      case 'n': check_only = true; break;
      case 'v': ++options.verbosity; break;
      default: usage();
    }
  }
  if (optind != argc) usage();

  std::vector<config::Diagnostic> diags;
  std::optional<config::Settings> settings = config::load_file(options.config_file, diags);
  for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.str().c_str());
  if (!settings) return 1;
  // Opened before anything is logged, and in a check too: a log file the parent cannot write
  // is an error now, on the terminal, not lines lost later.
  std::vector<log::Output> log_outputs;
  std::string error;
  if (!parent::open_log_outputs(*settings, options.foreground, options.verbosity, log_outputs, error)) {
    std::fprintf(stderr, "%s: log: %s\n", options.config_file.c_str(), error.c_str());
    return 1;
  }
  if (check_only) {
    std::fprintf(stderr, "configuration OK\n");
    return 0;
  }
  // Every client and server connection is a descriptor in the router or the s2s worker,
  // which inherit this: the usual soft limit of 1024 would cap a server at about a thousand.
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  log::init(options.foreground ? log::Sink::kStderr : log::Sink::kSyslog,
            parent::log_verbosity(*settings, options.verbosity), "xmppd");
  log::set_outputs(std::move(log_outputs));
  if (geteuid() != 0)
    log::notice("not started as root: children keep uid %u and run without chroot, still under seccomp",
                geteuid());

  parent::RolePrivsep privsep;
  std::vector<parent::ListenSocket> listeners;
  if (!parent::prepare_privsep(*settings, privsep, error) || !parent::open_listeners(*settings, listeners, error)) {
    log::error("%s", error.c_str());
    return 1;
  }
  // Unreadable certificate or key files stop the start here, on the terminal; their contents
  // are checked by the tls helper, which alone parses them.
  parent::OpenCredentials credentials = parent::open_credentials(*settings);
  for (const auto& e : credentials.errors) log::error("%s", e.c_str());
  if (!credentials.errors.empty()) return 1;
  credentials = {};
  parent::S2sTrust trust;
  std::vector<std::string> warnings;
  if (!parent::load_s2s_trust(*settings, trust, warnings, error)) {
    log::error("%s", error.c_str());
    return 1;
  }
  for (const auto& w : warnings) log::warning("%s", w.c_str());
  if (!options.foreground && daemon(0, 0) != 0) {
    log::error("daemon: %s", std::strerror(errno));
    return 1;
  }
  if (!write_pidfile(settings->pidfile)) {
    log::error("%s: cannot write the pid file", settings->pidfile.c_str());
    return 1;
  }
  log::notice("xmppd %s starting with %s", XMPPD_VERSION, options.config_file.c_str());
  std::string pidfile = settings->pidfile;
  int rc = parent::Parent(options, std::move(*settings), std::move(trust), std::move(privsep), std::move(listeners))
               .run();
  if (!pidfile.empty()) unlink(pidfile.c_str());
  return rc;
}
