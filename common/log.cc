#include "common/log.h"

#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace xmppd::log {
namespace {

Sink g_sink = Sink::kStderr;
int g_verbosity = 0;
const char* g_ident = "xmppd";

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

void emit(Level level, std::string_view tag, std::string_view message) {
  switch (g_sink) {
    case Sink::kSyslog:
      syslog(static_cast<int>(level), "%.*s%s%.*s", static_cast<int>(tag.size()), tag.data(),
             tag.empty() ? "" : ": ", static_cast<int>(message.size()), message.data());
      return;
    case Sink::kParentPipe: {
      std::string line = "<" + std::to_string(static_cast<int>(level)) + ">";
      line.append(message);
      line.push_back('\n');
      write_all(STDERR_FILENO, line);
      return;
    }
    case Sink::kStderr: {
      std::string line(tag.empty() ? std::string_view(g_ident) : tag);
      line += ": ";
      line.append(message);
      line.push_back('\n');
      write_all(STDERR_FILENO, line);
      return;
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
  g_sink = sink;
  g_verbosity = verbosity;
  g_ident = ident;
  if (sink == Sink::kSyslog) openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void set_verbosity(int verbosity) { g_verbosity = verbosity; }

bool enabled(Level level) {
  int max = static_cast<int>(Level::kNotice) + g_verbosity;
  return static_cast<int>(level) <= max;
}

void write(Level level, std::string_view message) {
  emit(level, {}, sanitize(message));
}

void relay(std::string_view tag, std::string_view line) {
  Level level = Level::kNotice;
  if (line.size() >= 3 && line[0] == '<' && line[2] == '>' && line[1] >= '0' && line[1] <= '7') {
    level = static_cast<Level>(line[1] - '0');
    line.remove_prefix(3);
  }
  emit(level, tag, sanitize(line));
}

#define XMPPD_LOG_FN(name, level)  \
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
