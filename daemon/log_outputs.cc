#include "daemon/log_outputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
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

std::string failed(const std::string& path, const std::string& why) { return path + ": " + why; }

std::string errno_text() { return std::strerror(errno); }

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// The directory that holds `path`, reached one component at a time without following a
// symbolic link (a link anywhere could be swapped by whoever owns its directory, and root
// would write where it points), and fit to hold root's log: owned by root or the parent's
// user and writable by nobody else, so no one else can put a file, FIFO or link in it.
// Sets `name` to the last component.
UniqueFd open_directory(const std::string& path, std::string& name, std::string& error) {
  const size_t slash = path.rfind('/');
  name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  constexpr int kDirFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd fd(open(dir[0] == '/' ? "/" : ".", kDirFlags));
  std::string walked = dir[0] == '/' ? "" : ".";
  for (size_t at = 0; fd && at < dir.size();) {
    size_t next = dir.find('/', at);
    if (next == std::string::npos) next = dir.size();
    const std::string part = dir.substr(at, next - at);
    at = next + 1;
    if (part.empty() || part == ".") continue;
    walked += "/" + part;
    struct stat st {};
    if (fstatat(fd.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
      error = failed(path, walked + " is a symbolic link; name the directory it points to");
      return UniqueFd();
    }
    fd.reset(openat(fd.get(), part.c_str(), kDirFlags));
  }
  struct stat st {};
  if (!fd || fstat(fd.get(), &st) != 0) {
    error = failed(path, errno_text());
    return UniqueFd();
  }
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    error = failed(path, "its directory " + dir + " belongs to uid " + std::to_string(st.st_uid) +
                             ", not to root: whoever owns it could replace the file");
    return UniqueFd();
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    error = failed(path, "its directory " + dir + " is writable by its group or others (mode " + octal(st.st_mode) +
                             "); make it writable by its owner alone");
    return UniqueFd();
  }
  return fd;
}

// A log file root may write: a regular file with no other name, owned by the parent's user.
// A FIFO would block or feed a reader, a hard link would make root write (and chmod) another
// file, and a file someone else made (0666, say) would let them read or truncate the log.
bool fit_for_log(const std::string& path, int fd, std::string& error) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    error = failed(path, errno_text());
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = failed(path, "not a regular file");
    return false;
  }
  if (st.st_uid != geteuid()) {
    error = failed(path, "belongs to uid " + std::to_string(st.st_uid) + ", not to xmppd's (uid " +
                             std::to_string(geteuid()) + "); remove it or chown it");
    return false;
  }
  if (st.st_nlink != 1) {
    error = failed(path, "has " + std::to_string(st.st_nlink) + " hard links; a log file must have one name");
    return false;
  }
  return true;
}

// Opened for appending without blocking (a FIFO at the path fails at once instead of hanging
// the parent at start or SIGHUP) and made 0640 whatever the umask or its old mode: logs name
// accounts and addresses. logrotate's "create" may still give it a group that reads.
bool open_file(const std::string& path, log::Output& out, std::string& error) {
  std::string name;
  UniqueFd dir = open_directory(path, name, error);
  if (!dir) return false;
  struct stat st {};
  if (fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
    error = failed(path, S_ISLNK(st.st_mode) ? "a symbolic link; name the file it points to" : "not a regular file");
    return false;
  }
  constexpr int kFlags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
  UniqueFd fd(openat(dir.get(), name.c_str(), kFlags | O_CREAT, 0640));
  if (!fd) {
    error = failed(path, errno == ENXIO || errno == ELOOP ? "not a regular file" : errno_text());
    return false;
  }
  if (!fit_for_log(path, fd.get(), error)) return false;
  if (fchmod(fd.get(), 0640) != 0) {
    error = failed(path, errno_text());
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
