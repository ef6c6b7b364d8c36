#include "xmppctl/table.h"

#include <algorithm>

namespace xmppd::ctl {
namespace {

// Length in code points of valid UTF-8 (printable() made it valid).
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Bytes of the UTF-8 sequence starting at `text[0]`, or 0 if it is not a valid one.
std::size_t utf8_sequence(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(0);
  std::size_t length = lead < 0x80 ? 1 : lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
                                       : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
  if (length == 0 || length > text.size()) return 0;
  for (std::size_t i = 1; i < length; ++i)
    if ((byte(i) & 0xC0) != 0x80) return 0;
  if (length == 3 && ((lead == 0xE0 && byte(1) < 0xA0) || (lead == 0xED && byte(1) >= 0xA0))) return 0;
  if (length == 4 && ((lead == 0xF0 && byte(1) < 0x90) || (lead == 0xF4 && byte(1) >= 0x90))) return 0;
  return length;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    std::size_t n = utf8_sequence(text);
    auto lead = static_cast<unsigned char>(text[0]);
    bool control = (n == 1 && (lead < 0x20 || lead == 0x7F)) ||
                   (n == 2 && lead == 0xC2 && static_cast<unsigned char>(text[1]) < 0xA0);  // C1
    if (n == 0 || control) {
      out += '?';
      n = std::max<std::size_t>(n, 1);
    } else {
      out.append(text.substr(0, n));
    }
    text.remove_prefix(n);
  }
  return out;
}

std::string json_string(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : printable(text)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {  // printable() leaves none; kept for safety
      out += "\\u00";
      out += kHex[(c >> 4) & 0xF];
      out += kHex[c & 0xF];
    } else {
      out += c;
    }
  }
  return out + '"';
}

std::string duration(unsigned long long seconds) {
  struct Unit {
    unsigned long long size;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  std::string out;
  int shown = 0;
  for (const Unit& unit : kUnits) {
    unsigned long long n = seconds / unit.size;
    if (n == 0 && out.empty() && unit.size != 1) continue;
    if (shown == 2 || (n == 0 && !out.empty())) break;
    if (!out.empty()) out += ' ';
    out += std::to_string(n) + unit.name;
    seconds %= unit.size;
    ++shown;
  }
  return out;
}

void Table::add(std::vector<std::string> row) {
  row.resize(columns_.size());
  for (auto& cell : row) cell = printable(cell);
  rows_.push_back(std::move(row));
}

void Table::print(std::FILE* out) const {
  std::vector<std::size_t> widths;
  for (const Column& c : columns_) widths.push_back(display_width(c.header));
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i]));
  auto line = [&](auto cell_of) {
    std::string text;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      std::string cell = cell_of(i);
      std::string pad(widths[i] - display_width(cell), ' ');
      bool last = i + 1 == columns_.size();
      text += columns_[i].numeric ? pad + cell : last ? cell : cell + pad;
      if (!last) text += "  ";
    }
    std::fprintf(out, "%s\n", text.c_str());
  };
  line([&](std::size_t i) { return columns_[i].header; });
  for (const auto& row : rows_) line([&](std::size_t i) { return row[i]; });
}

void Table::output(bool as_json) const {
  if (as_json)
    std::printf("%s\n", json().c_str());
  else
    print(stdout);
}

std::string Table::json() const {
  std::string out = "[";
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    out += r == 0 ? "\n  {" : ",\n  {";
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) out += ", ";
      const std::string& cell = rows_[r][i];
      out += json_string(columns_[i].key) + ": ";
      if (columns_[i].boolean && (cell == "yes" || cell == "no"))
        out += cell == "yes" ? "true" : "false";
      else
        out += columns_[i].numeric && !cell.empty() ? cell : json_string(cell);
    }
    out += '}';
  }
  return out + (rows_.empty() ? "]" : "\n]");
}

}  // namespace xmppd::ctl
