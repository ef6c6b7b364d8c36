// Where every process's log lines go; see log.h. Trusts nothing in the messages: control
// characters are replaced, so that a peer's bytes cannot forge a line.
#include "common/log.h"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace xmppd::log {
namespace {

bool g_to_parent = false;          // a child: every line goes to the pipe, whatever the outputs
std::vector<Output> g_outputs(1);  // stderr until init
int g_verbosity = 0;
const char* g_ident = "xmppd";
bool g_stderr_is_journal = false;

// systemd sets JOURNAL_STREAM to the device and inode of the stream it gave as standard error
// (systemd.exec(5)). The journal stamps each line itself and takes a "<N>" prefix as its
// priority (sd-daemon(3)), so lines for it carry that instead of a time and a level name.
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  unsigned long long dev = 0, ino = 0;
  if (stream == nullptr || std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  return fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// "TIMESTAMP LEVEL TAG: message\n", one write(2): O_APPEND keeps lines whole in a file.
std::string stamped(Level level, std::string_view tag, std::string_view message) {
  std::string line = timestamp();
  line += ' ';
  line += level_name(level);
  line += ' ';
  line += tag.empty() ? std::string_view(g_ident) : tag;
  line += ": ";
  line.append(message);
  line.push_back('\n');
  return line;
}

void emit(Level level, std::string_view tag, std::string_view message) {
  if (g_to_parent) {
    std::string line = "<" + std::to_string(static_cast<int>(level)) + ">";
    line.append(message);
    line.push_back('\n');
    write_all(STDERR_FILENO, line);
    return;
  }
  std::string line;  // made once, for the first output that writes text
  for (const Output& out : g_outputs) {
    if ((out.levels & (1u << static_cast<int>(level))) == 0) continue;
    if (out.kind == Output::Kind::kSyslog) {
      syslog(out.syslog_facility | static_cast<int>(level), "%.*s%s%.*s", static_cast<int>(tag.size()), tag.data(),
             tag.empty() ? "" : ": ", static_cast<int>(message.size()), message.data());
    } else if (out.kind == Output::Kind::kStderr && g_stderr_is_journal) {
      std::string journal_line = "<" + std::to_string(static_cast<int>(level)) + ">";
      journal_line += tag.empty() ? std::string_view(g_ident) : tag;
      journal_line += ": ";
      journal_line.append(message);
      journal_line.push_back('\n');
      write_all(STDERR_FILENO, journal_line);
    } else {
      if (line.empty()) line = stamped(level, tag, message);
      write_all(out.kind == Output::Kind::kFile ? out.file.get() : STDERR_FILENO, line);
    }
  }
}

// Control characters from peers must not forge log lines.
std::string sanitize(std::string_view text) {
  std::string clean(text);
  for (char& c : clean) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return clean;
}

void vlog(Level level, const char* fmt, va_list ap) {
  if (!enabled(level)) return;
  char buf[2048];
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  if (n < 0) return;
  size_t len = std::min(static_cast<size_t>(n), sizeof buf - 1);
  write(level, std::string_view(buf, len));
}

}  // namespace

void init(Sink sink, int verbosity, const char* ident) {
  g_to_parent = sink == Sink::kParentPipe;
  g_verbosity = verbosity;
  g_ident = ident;
  g_stderr_is_journal = !g_to_parent && stderr_is_journal();
  std::vector<Output> outputs(1);
  if (sink == Sink::kSyslog) {
    outputs[0].kind = Output::Kind::kSyslog;
    outputs[0].syslog_facility = LOG_DAEMON;
  }
  set_outputs(std::move(outputs));
}

void set_outputs(std::vector<Output> outputs) {
  bool syslog_wanted = false;
  for (const Output& o : outputs) syslog_wanted |= o.kind == Output::Kind::kSyslog;
  // Opened once, before any sandbox or chroot could hide /dev/log; each line names its facility.
  static bool syslog_open = false;
  if (syslog_wanted && !syslog_open) {
    openlog(g_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    syslog_open = true;
  }
  g_outputs = std::move(outputs);
}

// Calendar arithmetic alone: glibc's gmtime_r loads the time zone (/etc/localtime) on its
// first call, which a sandboxed process's seccomp filter answers with SIGSYS.
std::string timestamp() {
  using namespace std::chrono;
  const auto now = time_point_cast<milliseconds>(system_clock::now());
  const auto day = floor<days>(now);
  const year_month_day date(day);
  const hh_mm_ss<milliseconds> time(now - day);
  char buf[64];  // room for any int the compiler imagines in each field
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
  return buf;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kError:
      return "error";
    case Level::kWarning:
      return "warning";
    case Level::kNotice:
      return "notice";
    case Level::kInfo:
      return "info";
    case Level::kDebug:
      return "debug";
  }
  return "notice";
}

void set_verbosity(int verbosity) { g_verbosity = verbosity; }

bool enabled(Level level) {
  int max = static_cast<int>(Level::kNotice) + g_verbosity;
  return static_cast<int>(level) <= max;
}

void write(Level level, std::string_view message) { emit(level, {}, sanitize(message)); }

void relay(std::string_view tag, std::string_view line) {
  Level level = Level::kNotice;
  if (line.size() >= 3 && line[0] == '<' && line[2] == '>' && line[1] >= '0' && line[1] <= '7') {
    // A child's own words: emergencies and alerts are errors here, the highest level xmppd has.
    level = static_cast<Level>(std::max(line[1] - '0', static_cast<int>(Level::kError)));
    line.remove_prefix(3);
  }
  emit(level, tag, sanitize(line));
}

#define XMPPD_LOG_FN(name, level)   \
  void name(const char* fmt, ...) { \
    va_list ap;                     \
    va_start(ap, fmt);              \
    vlog(level, fmt, ap);           \
    va_end(ap);                     \
  }
XMPPD_LOG_FN(error, Level::kError)
XMPPD_LOG_FN(warning, Level::kWarning)
XMPPD_LOG_FN(notice, Level::kNotice)
XMPPD_LOG_FN(info, Level::kInfo)
XMPPD_LOG_FN(debug, Level::kDebug)
#undef XMPPD_LOG_FN

void fatal(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(Level::kError, fmt, ap);
  va_end(ap);
  _exit(1);
}

}  // namespace xmppd::log
