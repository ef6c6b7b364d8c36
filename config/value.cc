#include "config/value.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace xmppd::config {
namespace {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string format_double(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

}  // namespace

std::string_view type_name(const Value& value) {
  switch (value.data.index()) {
    case 0: return "a boolean";
    case 1: return "an integer";
    case 2: return "a non-integral number";
    case 3: return "a string";
    default: return "a table";
  }
}

bool is_list(const Table& table) {
  return std::all_of(table.entries.begin(), table.entries.end(),
                     [](const TableEntry& e) { return !e.key.has_value(); });
}

std::string to_lua(const Value& value) {
  if (value.is_bool()) return value.as_bool() ? "true" : "false";
  if (value.is_integer()) return std::to_string(value.as_integer());
  if (value.is_float()) return format_double(std::get<double>(value.data));
  if (value.is_string()) return quote(value.as_string());
  const Table& table = value.as_table();
  if (table.entries.empty()) return "{}";
  std::string out = "{ ";
  bool first = true;
  for (const TableEntry& e : table.entries) {
    if (!first) out += ", ";
    first = false;
    if (e.key) out += (is_identifier(*e.key) ? *e.key : "[" + quote(*e.key) + "]") + " = ";
    out += to_lua(e.value);
  }
  return out + " }";
}

}  // namespace xmppd::config
