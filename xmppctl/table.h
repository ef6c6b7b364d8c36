// Output for people and for scripts: a table printed in aligned columns, or as a JSON array
// of objects (-j). Every cell is made printable first: JIDs, certificate subjects and error
// texts reach xmppctl from the network through the server, and must not move the terminal's
// cursor or forge lines.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::ctl {

class Table {
 public:
  struct Column {
    std::string key;     // the JSON member name, e.g. "jid"
    std::string header;  // the column heading, e.g. "JID"
    bool numeric = false;  // printed right-aligned and as a JSON number
    bool boolean = false;  // cells "yes" or "no", a JSON true or false
  };

  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
  // One cell per column, in order; a numeric cell holds decimal digits, a boolean one "yes"
  // or "no".
  void add(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }

  // A heading line, then one line per row, columns two spaces apart.
  void print(std::FILE* out) const;
  // [{"key": "value", ...}, ...]
  std::string json() const;
  // To standard output: json() when `as_json` (-j), else print().
  void output(bool as_json) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Control characters (C0, DEL, C1) and invalid UTF-8 replaced by '?'.
std::string printable(std::string_view text);
// A JSON string literal, quotes included.
std::string json_string(std::string_view text);
// "3d 4h", "5m 2s": a duration for people.
std::string duration(unsigned long long seconds);

}  // namespace xmppd::ctl
