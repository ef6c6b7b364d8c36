#ifndef XMPPD_CONFIG_OPTION_TYPES_H
#define XMPPD_CONFIG_OPTION_TYPES_H

// Checks a value read from the file against its option's type and rules, and
// brings it to the one shape the store functions expect: a single port
// becomes a list, relative paths become absolute, a TLS table keeps only
// known keys.

#include <optional>
#include <string>
#include <vector>

#include "config/diagnostic.h"
#include "config/options.h"
#include "config/value.h"

namespace xmppd::config {

struct ConvertContext {
  std::string base_dir;  // directory of the main file, for relative paths
  std::string file;      // where the value was written
  int line = 0;
  std::vector<Diagnostic>* diags = nullptr;
};

// nullopt after reporting an error; warnings are reported and the value kept.
std::optional<Value> convert_option(const OptionSpec& spec, const Value& raw,
                                    const ConvertContext& ctx);

// base_dir / path, normalised; absolute and empty paths are returned as they are.
std::string resolve_path(const std::string& base_dir, const std::string& path);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_OPTION_TYPES_H
