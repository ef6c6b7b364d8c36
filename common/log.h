// Logging for every xmppd process.
//
// The parent writes to its outputs: stderr (-d), syslog, or the files of the `log` option
// (xmppd.conf(5)), each output taking a set of levels. Children never open syslog or a file:
// they write "<priority>message\n" lines to descriptor 2, a pipe that the parent reads and
// relays with the child's role and pid. A sandboxed child thus needs only write(2) to log.
// Lines on stderr and in files start with an ISO 8601 UTC timestamp with milliseconds and the
// level; on a stderr that is systemd's journal (JOURNAL_STREAM), with "<priority>" instead.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"

namespace xmppd::log {

enum class Level { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

enum class Sink { kStderr, kSyslog, kParentPipe };

// A set of levels: bit (1 << level) for each level taken.
using LevelSet = unsigned;
constexpr LevelSet kAllLevels = 0xff;

// One destination of the parent's lines.
struct Output {
  enum class Kind { kStderr, kSyslog, kFile };
  Kind kind = Kind::kStderr;
  LevelSet levels = kAllLevels;
  UniqueFd file;            // kFile: opened for appending by the caller
  int syslog_facility = 0;  // kSyslog: LOG_DAEMON and the like
};

// verbosity 0 logs up to kNotice, 1 adds kInfo, 2 and more add kDebug. `sink` becomes the one
// output, taking every level (kParentPipe: the child's pipe).
void init(Sink sink, int verbosity, const char* ident);
// The parent's outputs from now on, in place of those before (closed when replaced).
void set_outputs(std::vector<Output> outputs);
void set_verbosity(int verbosity);
bool enabled(Level level);

void write(Level level, std::string_view message);

// Relays one line written by a child (with its "<N>" prefix) under "tag: ".
void relay(std::string_view tag, std::string_view line);

// "2026-12-05T07:15:52.123Z": the time now, UTC, as every stderr and file line starts.
std::string timestamp();
// "error", "warning", "notice", "info", "debug".
std::string_view level_name(Level level);

void error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void notice(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// An invariant broke: log and end the process; the parent restarts children.
[[noreturn]] void fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace xmppd::log
