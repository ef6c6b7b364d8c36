#ifndef XMPPD_CONFIG_PARSER_H
#define XMPPD_CONFIG_PARSER_H

// The statement level of the configuration language: the raw parse tree of
// one file, before Include is followed and before options are checked.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/diagnostic.h"
#include "config/value.h"

namespace xmppd::config {

// key = value
struct Assignment {
  std::string key;
  Value value;
  int line = 0;
};

// VirtualHost "name", Host "name" or Component "name" ["module"].
struct SectionHeader {
  enum class Kind { kVirtualHost, kComponent };
  Kind kind = Kind::kVirtualHost;
  std::string name;  // as written; the loader validates and lowercases host names
  std::string module;  // Component's second argument: "muc"; empty for an external component
  int line = 0;
};

// Include "path-or-pattern"
struct IncludeDirective {
  std::string pattern;
  int line = 0;
};

using Statement = std::variant<Assignment, SectionHeader, IncludeDirective>;

// Parses one file's text. Every problem is appended to diags; a statement
// with an error is left out of the result, and parsing resumes after it so
// that one run reports as many errors as it can.
std::vector<Statement> parse_statements(std::string_view text, const std::string& file,
                                        std::vector<Diagnostic>& diags);

// Parses a lone expression, e.g. an option's default in the schema.
std::optional<Value> parse_value(std::string_view text, const std::string& file,
                                 std::vector<Diagnostic>& diags);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_PARSER_H
