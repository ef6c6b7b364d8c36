#include "daemon/log_outputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

namespace xmppd::parent {
namespace {

int facility_code(const std::string& name) {
  static const std::map<std::string, int> kCodes = {
      {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},     {"daemon", LOG_DAEMON},
      {"ftp", LOG_FTP},       {"kern", LOG_KERN},         {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
      {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},     {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
      {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},     {"lpr", LOG_LPR},       {"mail", LOG_MAIL},
      {"news", LOG_NEWS},     {"syslog", LOG_SYSLOG},     {"user", LOG_USER},     {"uucp", LOG_UUCP}};
  auto it = kCodes.find(name);
  return it == kCodes.end() ? LOG_DAEMON : it->second;  // the option's check allows only these
}

// What -v asks for: notice and up, info with -v, debug with -vv.
log::LevelSet levels_up_to(int verbosity) {
  log::LevelSet set = 0;
  for (int level = static_cast<int>(log::Level::kError);
       level <= static_cast<int>(log::Level::kNotice) + verbosity && level <= static_cast<int>(log::Level::kDebug);
       ++level)
    set |= 1u << level;
  return set;
}

log::Output stderr_output(log::LevelSet levels) {
  log::Output out;
  out.kind = log::Output::Kind::kStderr;
  out.levels = levels;
  return out;
}

log::Output syslog_output(log::LevelSet levels, int facility) {
  log::Output out;
  out.kind = log::Output::Kind::kSyslog;
  out.levels = levels;
  out.syslog_facility = facility;
  return out;
}

// A new file is made 0640 whatever the umask, owned by the parent's user: logs name accounts
// and addresses. An existing one keeps the mode and owner it has (logrotate's "create" sets them).
bool open_file(const std::string& path, log::Output& out, std::string& error) {
  constexpr int kFlags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
  UniqueFd fd(open(path.c_str(), kFlags | O_CREAT | O_EXCL, 0640));
  if (fd && fchmod(fd.get(), 0640) != 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  if (!fd && errno == EEXIST) fd.reset(open(path.c_str(), kFlags));
  if (!fd) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    return false;
  }
  out.kind = log::Output::Kind::kFile;
  out.file = std::move(fd);
  return true;
}

}  // namespace

bool open_log_outputs(const config::Settings& settings, bool foreground, int verbosity, std::vector<log::Output>& out,
                      std::string& error) {
  const int default_facility = facility_code(settings.syslog_facility);
  std::vector<log::Output> outputs;
  if (settings.log.empty() && !foreground) outputs.push_back(syslog_output(log::kAllLevels, default_facility));
  // One standard error and one descriptor per file, each taking the levels of every sink
  // that names it.
  log::LevelSet console = foreground ? levels_up_to(verbosity) : 0;
  std::map<std::string, log::LevelSet> files;
  for (const config::LogSink& sink : settings.log) {
    switch (sink.to) {
      case config::LogSink::To::kFile:
        files[sink.filename] |= sink.levels;
        break;
      case config::LogSink::To::kConsole:
        console |= sink.levels;
        break;
      case config::LogSink::To::kSyslog:
        outputs.push_back(syslog_output(
            sink.levels, sink.syslog_facility.empty() ? default_facility : facility_code(sink.syslog_facility)));
        break;
    }
  }
  if (console != 0) outputs.push_back(stderr_output(console));
  for (const auto& [path, levels] : files) {
    log::Output file;
    file.levels = levels;
    if (!open_file(path, file, error)) return false;
    outputs.push_back(std::move(file));
  }
  out = std::move(outputs);
  return true;
}

int log_verbosity(const config::Settings& settings, int command_line) {
  log::LevelSet wanted = 0;
  for (const config::LogSink& sink : settings.log) wanted |= sink.levels;
  int needed = 0;
  if (wanted & (1u << static_cast<int>(log::Level::kDebug)))
    needed = 2;
  else if (wanted & (1u << static_cast<int>(log::Level::kInfo)))
    needed = 1;
  return std::max(command_line, needed);
}

}  // namespace xmppd::parent
