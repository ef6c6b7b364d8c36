#ifndef XMPPD_CONFIG_OPTIONS_H
#define XMPPD_CONFIG_OPTIONS_H

// The option schema: every option xmppd reads, in one table, so that the
// builder, the man page and the tests agree on names, types and defaults.

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/value.h"

namespace xmppd::config {

struct Settings;
struct HostSettings;

enum class OptionType {
  kBool,
  kInteger,
  kString,
  kPath,        // a string; relative means relative to the main file's directory
  kStringList,  // { "a", "b" }
  kPortList,    // { 5222 } or a single number
  kTls,         // { certificate = "...", key = "...", ... }
  kModuleList,  // a string list of module names
  kTable,       // a table whose shape the option's validator checks (limits)
  kLog,         // a string or a table of sinks, which the validator checks (config/log_option.h)
  kBackend,     // a backend name or a table of them by store (storage; config/sql_option.h)
  kScalar,      // a string, number or boolean, which the validator checks (archive_expires_after)
  kNumber,      // an integer or a decimal number (muc_event_rate)
};

enum class OptionScope {
  kGlobal,  // global section only
  kHost,    // global section and VirtualHost; the host's value wins
};

// A rule beyond the type. The message follows the option's name, as in
// "s2s_timeout must be from 1 to 3600 seconds, got 0". A warning still
// accepts the value.
struct Problem {
  bool warning = false;
  std::string message;
  int line = 0;  // of the entry at fault in a table written over several lines; 0 for the option's
};
using Validator = std::optional<Problem> (*)(const Value& value);

// Writes an already converted and validated value into the typed settings:
// a global option into Settings, a host option into the HostSettings being built.
using Store = void (*)(const Value& value, Settings& settings, HostSettings& host);

struct OptionSpec {
  std::string_view name;
  OptionType type;
  OptionScope scope;
  std::string_view default_value;  // in configuration syntax; empty when derived (see doc)
  Validator validate;              // nullptr when the type says it all
  std::string_view doc;
  Store store;  // nullptr for the TLS tables, which the builder overlays itself
};

// Options Prosody has that xmppd reads past on purpose, with the reason. Those that change
// nothing a user would miss (plugin_paths) are read past without a warning.
struct IgnoredOption {
  std::string_view name;
  std::string_view why;
  bool warn;
};

// A Prosody module xmppd has no module for, and why: named in modules_enabled, a built-in one
// is accepted without a warning (xmppd does its work itself), a missing one with a warning
// that gives the reason.
struct ModuleNote {
  std::string_view name;
  std::string_view why;
};

const std::vector<OptionSpec>& option_specs();
const OptionSpec* find_option(std::string_view name);
const std::vector<IgnoredOption>& ignored_options();
const IgnoredOption* find_ignored_option(std::string_view name);

// Loaded unless disabled: the modules every host starts with.
const std::set<std::string>& default_modules();
// Every module name xmppd provides; others in modules_enabled are warned about.
const std::set<std::string>& known_modules();
// Prosody's modules whose work xmppd does without a module (posix, admin_shell, ...).
const std::vector<ModuleNote>& builtin_modules();
// Prosody's modules xmppd lacks, where a reason or an alternative helps (invites, smacks, ...).
const std::vector<ModuleNote>& missing_modules();
const ModuleNote* find_module_note(const std::vector<ModuleNote>& notes, std::string_view name);

// The fields of contact_info (XEP-0157's, as Prosody's mod_server_contact_info names them).
const std::vector<std::string_view>& contact_info_fields();

// The keys a TLS table may hold, and the protocol values it accepts.
const std::vector<std::string_view>& tls_keys();
const std::vector<std::string_view>& tls_protocols();

// How the man page names a type: "boolean", "integer", "string", ...
std::string_view type_name(OptionType type);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_OPTIONS_H
