#ifndef XMPPD_CONFIG_VALUE_H
#define XMPPD_CONFIG_VALUE_H

// The constant values a configuration file can hold once its expressions are
// folded. Internal to the config library.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace xmppd::config {

struct TableEntry;

struct Table {
  std::vector<TableEntry> entries;  // in source order; a later key replaces an earlier one
};

struct Value {
  std::variant<bool, std::int64_t, double, std::string, Table> data;
  int line = 0;

  bool is_bool() const { return std::holds_alternative<bool>(data); }
  bool is_integer() const { return std::holds_alternative<std::int64_t>(data); }
  bool is_float() const { return std::holds_alternative<double>(data); }
  bool is_string() const { return std::holds_alternative<std::string>(data); }
  bool is_table() const { return std::holds_alternative<Table>(data); }

  bool as_bool() const { return std::get<bool>(data); }
  std::int64_t as_integer() const { return std::get<std::int64_t>(data); }
  const std::string& as_string() const { return std::get<std::string>(data); }
  const Table& as_table() const { return std::get<Table>(data); }
  // An integer or a float, as a float (OptionType::kNumber).
  double as_number() const { return is_integer() ? static_cast<double>(as_integer()) : std::get<double>(data); }
};

struct TableEntry {
  std::optional<std::string> key;  // nullopt for a positional ("list") entry
  Value value;
};

// "a boolean", "an integer", ... for messages such as "expects X, got Y".
std::string_view type_name(const Value& value);

// Positional entries only, as in { "a", "b" }.
bool is_list(const Table& table);

// Lua-like rendering, used when the man page or a message shows a value.
std::string to_lua(const Value& value);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_VALUE_H
