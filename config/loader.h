#ifndef XMPPD_CONFIG_LOADER_H
#define XMPPD_CONFIG_LOADER_H

// Reads the main file and every file it includes, keeps track of which
// section is in force, and flattens the lot into one ordered list of events
// for the settings builder. Options inside the section of a component xmppd
// does not provide, and after an invalid host name, are dropped here.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/diagnostic.h"
#include "config/value.h"

namespace xmppd::config {

// A VirtualHost or Component header with a valid name (lowercased). A host may
// appear several times; its options merge.
struct HostEvent {
  std::string name;
  std::string file;
  int line = 0;
  bool component = false;
  std::string component_module;  // "muc"; empty for an external component (XEP-0114)
};

// The component modules xmppd provides (Component "name" "module").
inline constexpr std::string_view kComponentModules[] = {"muc", "http_file_share"};

struct OptionEvent {
  std::string host;  // empty for the global section
  std::string key;
  Value value;
  std::string file;
  int line = 0;
};

using Event = std::variant<Diagnostic, HostEvent, OptionEvent>;

// Deeper Include chains are refused; they are nearly always a loop through
// a glob that matches the including file.
inline constexpr int kMaxIncludeDepth = 16;

// Events in file order, diagnostics among them. Relative Include paths are
// taken from the directory of the file that holds the Include.
std::vector<Event> load_events_from_file(const std::string& path);
std::vector<Event> load_events_from_string(std::string_view text, const std::string& name);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_LOADER_H
