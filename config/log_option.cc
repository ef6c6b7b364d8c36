// Reads the `log` option into LogSinks; see log_option.h. Trusts only the configuration file.
#include "config/log_option.h"

#include <algorithm>
#include <array>
#include <string>

#include "config/settings.h"

namespace xmppd::config {
namespace {

using Sink = LogSink;

// Prosody's levels, lowest first, and the syslog(3) priorities each stands for in xmppd.
struct LevelName {
  std::string_view name;
  unsigned priorities;
};
constexpr std::array<LevelName, 4> kLevels = {{
    {"debug", 1u << 7},
    {"info", (1u << 6) | (1u << 5)},  // xmppd's info and notice
    {"warn", 1u << 4},
    {"error", 1u << 3},
}};
constexpr unsigned kEveryLevel = (1u << 8) - (1u << 3);

std::optional<std::size_t> level_index(std::string_view name) {
  for (std::size_t i = 0; i < kLevels.size(); ++i)
    if (kLevels[i].name == name) return i;
  return std::nullopt;
}

// From level `first` to level `last`, both included.
unsigned level_range(std::size_t first, std::size_t last) {
  unsigned set = 0;
  for (std::size_t i = first; i <= last; ++i) set |= kLevels[i].priorities;
  return set;
}

Problem problem(const Value& at, std::string message) { return Problem{false, std::move(message), at.line}; }

std::optional<Problem> unknown_level(const Value& at, std::string_view name) {
  return problem(at, "names the level \"" + std::string(name) +
                         "\", which Prosody does not have "
                         "(debug, info, warn or error)");
}

// A level's name, or a list and a { min, max } range of them, as a sink's `levels` holds.
std::optional<Problem> read_levels(const Value& v, unsigned& out) {
  if (v.is_string()) {
    auto i = level_index(v.as_string());
    if (!i) return unknown_level(v, v.as_string());
    out = kLevels[*i].priorities;
    return std::nullopt;
  }
  if (!v.is_table()) return problem(v, "expects levels as a name, a list or { min = ..., max = ... }");
  std::optional<std::size_t> min, max;
  out = 0;
  for (const TableEntry& e : v.as_table().entries) {
    if (!e.value.is_string())
      return problem(e.value, "expects level names in levels, got " + std::string(type_name(e.value)));
    auto i = level_index(e.value.as_string());
    if (!i) return unknown_level(e.value, e.value.as_string());
    if (!e.key)
      out |= kLevels[*i].priorities;
    else if (*e.key == "min")
      min = i;
    else if (*e.key == "max")
      max = i;
    else
      return problem(e.value, "has levels." + *e.key + ", which is neither min nor max");
  }
  if (min || max) {
    if (min.value_or(0) > max.value_or(kLevels.size() - 1))
      return problem(v, "has levels whose min is above their max");
    out |= level_range(min.value_or(0), max.value_or(kLevels.size() - 1));
  }
  if (out == 0) return problem(v, "has an empty levels table");
  return std::nullopt;
}

std::optional<Problem> file_name(const Value& v, Sink& sink) {
  if (v.as_string().empty() || v.as_string().front() != '/')
    return problem(v, "expects an absolute file name, got \"" + v.as_string() + "\"");
  sink.to = Sink::To::kFile;
  sink.filename = v.as_string();
  return std::nullopt;
}

// "*syslog", "*console" (or Prosody's "*stdout"), or a file name when `files` allows one.
std::optional<Problem> destination(const Value& v, Sink& sink, bool files) {
  const std::string& s = v.as_string();
  if (s == "*syslog") {
    sink.to = Sink::To::kSyslog;
  } else if (s == "*console" || s == "*stdout") {
    sink.to = Sink::To::kConsole;
  } else if (!s.empty() && s.front() == '*') {
    return problem(v, "names the sink \"" + s + "\", which xmppd does not have (\"*syslog\", \"*console\" or a file)");
  } else if (!files) {
    return problem(v, "has the file \"" + s + "\" in its list part, without a level: write info = \"" + s +
                          "\" or { to = \"file\", filename = \"" + s + "\" }");
  } else {
    return file_name(v, sink);
  }
  return std::nullopt;
}

std::optional<Problem> read_facility(const Value& v, Sink& sink) {
  if (auto p = check_syslog_facility(v)) {
    p->line = v.line;
    p->message = "has a sink whose syslog_facility " + p->message;
    return p;
  }
  sink.syslog_facility = v.as_string();
  return std::nullopt;
}

// { to = "file" | "syslog" | "console", filename = "...", levels = ..., syslog_facility = "..." }
std::optional<Problem> read_sink_table(const Value& v, Sink& sink) {
  const Value* to = nullptr;
  const Value* filename = nullptr;
  sink.levels = kEveryLevel;  // Prosody: a rule without levels takes every level
  for (const TableEntry& e : v.as_table().entries) {
    if (!e.key) return problem(e.value, "has a sink with a list entry; a sink has only named keys");
    const std::string& key = *e.key;
    if (key == "levels") {
      if (auto p = read_levels(e.value, sink.levels)) return p;
      continue;
    }
    if (key == "timestamps") continue;  // xmppd's lines always start with an ISO 8601 time
    if (key != "to" && key != "filename" && key != "syslog_facility")
      return problem(e.value, "has a sink with the key " + key +
                                  ", which xmppd does not read (to, filename, levels, syslog_facility, timestamps)");
    if (!e.value.is_string())
      return problem(e.value, "expects a string for " + key + ", got " + std::string(type_name(e.value)));
    if (key == "to")
      to = &e.value;
    else if (key == "filename")
      filename = &e.value;
    else if (auto p = read_facility(e.value, sink))
      return p;
  }
  if (!to) return problem(v, "has a sink without to = \"file\", \"syslog\" or \"console\"");
  const std::string& kind = to->as_string();
  if (kind == "file") {
    if (!filename) return problem(v, "has a sink to = \"file\" without a filename");
    return file_name(*filename, sink);
  }
  if (filename) return problem(*filename, "has a filename in a sink to = \"" + kind + "\"; only files have one");
  if (kind == "syslog")
    sink.to = Sink::To::kSyslog;
  else if (kind == "console" || kind == "stdout")
    sink.to = Sink::To::kConsole;
  else
    return problem(*to, "has a sink to = \"" + kind + "\", which xmppd does not have (file, syslog or console)");
  return std::nullopt;
}

std::optional<Problem> read_entry(const TableEntry& e, std::vector<Sink>& out) {
  Sink sink;
  if (e.key) {  // info = "/var/log/xmppd.log": that level and up, to a file or "*syslog"
    auto i = level_index(*e.key);
    if (!i) return unknown_level(e.value, *e.key);
    if (!e.value.is_string())
      return problem(e.value,
                     "expects a file name or \"*syslog\" for " + *e.key + ", got " + std::string(type_name(e.value)));
    if (auto p = destination(e.value, sink, true)) return p;
    sink.levels = level_range(*i, kLevels.size() - 1);
  } else if (e.value.is_string()) {  // "*syslog" in the list part: every level
    if (auto p = destination(e.value, sink, false)) return p;
    sink.levels = kEveryLevel;
  } else if (e.value.is_table()) {
    if (auto p = read_sink_table(e.value, sink)) return p;
  } else {
    return problem(e.value, "expects sinks as strings or tables, got " + std::string(type_name(e.value)));
  }
  out.push_back(std::move(sink));
  return std::nullopt;
}

std::optional<Problem> read_log(const Value& v, std::vector<Sink>& out) {
  out.clear();
  if (v.is_string()) {  // a file takes info and up, as Prosody's default file logging
    Sink sink;
    if (auto p = destination(v, sink, true)) return p;
    sink.levels = sink.to == Sink::To::kFile ? level_range(1, kLevels.size() - 1) : kEveryLevel;
    out.push_back(std::move(sink));
    return std::nullopt;
  }
  if (!v.is_table()) return problem(v, "expects a file name, \"*syslog\" or a table of sinks");
  for (const TableEntry& e : v.as_table().entries)
    if (auto p = read_entry(e, out)) return p;
  return std::nullopt;
}

}  // namespace

std::optional<Problem> check_log(const Value& value) {
  std::vector<Sink> sinks;
  return read_log(value, sinks);
}

void store_log(const Value& value, Settings& settings, HostSettings&) { read_log(value, settings.log); }

const std::vector<std::string_view>& syslog_facilities() {
  static const std::vector<std::string_view> kFacilities = {
      "auth",   "authpriv", "cron",   "daemon", "ftp", "kern", "local0", "local1", "local2", "local3",
      "local4", "local5",   "local6", "local7", "lpr", "mail", "news",   "syslog", "user",   "uucp"};
  return kFacilities;
}

std::optional<Problem> check_syslog_facility(const Value& value) {
  const auto& all = syslog_facilities();
  if (std::find(all.begin(), all.end(), value.as_string()) != all.end()) return std::nullopt;
  return Problem{false,
                 "must be a syslog(3) facility such as \"daemon\" or \"local0\", got \"" + value.as_string() + "\""};
}

}  // namespace xmppd::config
