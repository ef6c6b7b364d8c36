// Logging for every xmppd process.
//
// The parent writes to stderr (-d) or syslog. Children never open syslog: they write
// "<priority>message\n" lines to descriptor 2, a pipe that the parent reads and relays
// with the child's role and pid. A sandboxed child thus needs only write(2) to log.
#pragma once

#include <string_view>

namespace xmppd::log {

enum class Level { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

enum class Sink { kStderr, kSyslog, kParentPipe };

// verbosity 0 logs up to kNotice, 1 adds kInfo, 2 and more add kDebug.
void init(Sink sink, int verbosity, const char* ident);
void set_verbosity(int verbosity);
bool enabled(Level level);

void write(Level level, std::string_view message);

// Relays one line written by a child (with its "<N>" prefix) under "tag: ".
void relay(std::string_view tag, std::string_view line);

void error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void notice(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// An invariant broke: log and end the process; the parent restarts children.
[[noreturn]] void fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace xmppd::log
