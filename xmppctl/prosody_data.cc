// The parser of Prosody's data files (xmppctl/prosody_data.h). A recursive-descent parser
// over the bytes, with one counter for the depth and one for the values, so that no input
// makes it recurse or allocate without bound. It trusts nothing in the file.
#include "xmppctl/prosody_data.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace xmppd::prosody {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool same_key(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::kBoolean:
      return a.boolean == b.boolean;
    case Value::Kind::kNumber:
      return a.number == b.number;
    case Value::Kind::kString:
      return a.string == b.string;
    default:
      return false;
  }
}

class Parser {
 public:
  Parser(std::string_view name, std::string_view text, const Limits& limits)
      : name_(name), text_(text), limits_(limits) {}

  std::optional<Value> dat() {
    if (!check_size()) return std::nullopt;
    skip_space();
    if (!keyword("return")) return fail("expected \"return\"");
    std::optional<Value> value = parse_value();
    if (!value) return std::nullopt;
    skip_space();
    if (peek() == ';') ++pos_;
    skip_space();
    if (pos_ != text_.size()) return fail("unexpected text after the value");
    return value;
  }

  std::optional<std::vector<Value>> list() {
    if (!check_size()) return std::nullopt;
    std::vector<Value> items;
    for (skip_space(); pos_ < text_.size(); skip_space()) {
      if (!keyword("item")) return fail("expected \"item(\"");
      skip_space();
      if (peek() != '(') return fail("expected \"(\" after item");
      ++pos_;
      std::optional<Value> value = parse_value();
      if (!value) return std::nullopt;
      skip_space();
      if (peek() != ')') return fail("expected \")\"");
      ++pos_;
      skip_space();
      if (peek() == ';') ++pos_;
      items.push_back(std::move(*value));
    }
    return items;
  }

  std::string error() const { return error_; }

 private:
  char peek(std::size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  bool at_end() const { return pos_ >= text_.size(); }

  bool check_size() {
    if (text_.size() <= limits_.max_file_bytes) return true;
    line_ = 1;
    fail("the file is larger than " + std::to_string(limits_.max_file_bytes) + " bytes");
    return false;
  }

  std::nullopt_t fail(const std::string& message) {
    if (error_.empty()) error_ = std::string(name_) + ":" + std::to_string(line_) + ": " + message;
    return std::nullopt;
  }

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) {
      if (text_[pos_] == '\n') ++line_;
      ++pos_;
    }
  }

  // A whole word: "return" does not match "returned".
  bool keyword(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word || is_alnum(peek(word.size()))) return false;
    pos_ += word.size();
    return true;
  }

  std::string_view identifier() {
    const std::size_t start = pos_;
    if (!is_alpha(peek())) return {};
    while (is_alnum(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  bool count_value() {
    if (++values_ <= limits_.max_values) return true;
    fail("more than " + std::to_string(limits_.max_values) + " values");
    return false;
  }

  std::optional<Value> parse_value() {
    skip_space();
    const std::size_t line = line_;
    std::optional<Value> value = parse_any();
    if (value) value->line = line;
    return value;
  }

  std::optional<Value> parse_any() {
    if (!count_value()) return std::nullopt;
    const char c = peek();
    if (c == '{') return parse_table();
    if (c == '"' || c == '\'') return parse_string();
    if (c == '-' || c == '.' || is_digit(c) || c == '(') return parse_number();
    Value value;
    if (keyword("true") || keyword("false")) {
      value.kind = Value::Kind::kBoolean;
      value.boolean = text_[pos_ - 4] == 't';  // "true" is four letters, "false" five
      return value;
    }
    if (keyword("nil")) return value;
    if (at_end()) return fail("unexpected end of file");
    return fail("unexpected character '" + printable(c) + "'");
  }

  static std::string printable(char c) {
    if (c >= 0x20 && c < 0x7f) return std::string(1, c);
    static constexpr char kHex[] = "0123456789abcdef";
    const auto byte = static_cast<unsigned char>(c);
    return std::string("\\x") + kHex[byte >> 4] + kHex[byte & 15];
  }

  std::optional<Value> parse_table() {
    if (++depth_ > limits_.max_depth) return fail("tables nested deeper than " + std::to_string(limits_.max_depth));
    ++pos_;  // '{'
    Value table;
    table.kind = Value::Kind::kTable;
    for (;;) {
      skip_space();
      if (peek() == '}') break;
      if (!parse_field(table)) return std::nullopt;
      skip_space();
      if (peek() == ';' || peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') return at_end() ? fail("unexpected end of file in a table") : fail("expected \";\" or \"}\"");
    }
    ++pos_;  // '}'
    --depth_;
    return table;
  }

  bool parse_field(Value& table) {
    const std::size_t line = line_;
    Value key;
    if (peek() == '[') {
      ++pos_;
      std::optional<Value> parsed = parse_value();
      if (!parsed) return false;
      if (parsed->is_table() || parsed->kind == Value::Kind::kNil)
        return fail("a table key must be a string, number or boolean"), false;
      if (parsed->is_number() && std::isnan(parsed->number)) return fail("a table key may not be NaN"), false;
      skip_space();
      if (peek() != ']') return fail("expected \"]\""), false;
      ++pos_;
      key = std::move(*parsed);
    } else if (is_alpha(peek())) {
      const std::size_t start = pos_;
      std::string_view name = identifier();
      skip_space();
      if (peek() != '=' || peek(1) == '=' || name == "true" || name == "false" || name == "nil") {
        pos_ = start;  // a positional value such as true
        line_ = line;
        return positional(table);
      }
      key.kind = Value::Kind::kString;
      key.string = std::string(name);
    } else {
      return positional(table);
    }
    skip_space();
    if (peek() != '=') return fail("expected \"=\""), false;
    ++pos_;
    std::optional<Value> value = parse_value();
    if (!value) return false;
    // Lua's t[1] = x is the array part; Prosody writes positional values, but accept both.
    if (key.is_number() && key.number == static_cast<double>(table.array.size() + 1)) {
      table.array.push_back(std::move(*value));
      return true;
    }
    for (const Entry& e : table.fields)
      if (same_key(e.key, key)) return line_ = line, fail("a key appears twice in a table"), false;
    table.fields.push_back({std::move(key), std::move(*value)});
    return true;
  }

  bool positional(Value& table) {
    std::optional<Value> value = parse_value();
    if (!value) return false;
    table.array.push_back(std::move(*value));
    return true;
  }

  std::optional<Value> parse_string() {
    const char quote = text_[pos_++];
    Value value;
    value.kind = Value::Kind::kString;
    std::string& out = value.string;
    for (;;) {
      if (at_end()) return fail("unfinished string");
      const char c = text_[pos_++];
      if (c == quote) break;
      if (c == '\n') return fail("unfinished string");
      if (c != '\\') {
        out += c;
      } else if (!escape(out)) {
        return std::nullopt;
      }
      if (out.size() > limits_.max_string_bytes)
        return fail("a string longer than " + std::to_string(limits_.max_string_bytes) + " bytes");
    }
    return value;
  }

  bool escape(std::string& out) {
    if (at_end()) return fail("unfinished string"), false;
    const char c = text_[pos_++];
    switch (c) {
      case 'a':
        out += '\a';
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'v':
        out += '\v';
        return true;
      case '\\':
        out += '\\';
        return true;
      case '"':
        out += '"';
        return true;
      case '\'':
        out += '\'';
        return true;
      case '\n':  // "\" at the end of a line: the newline itself (Lua's %q writes these)
        ++line_;
        out += '\n';
        return true;
      case 'x': {
        int byte = 0;
        for (int i = 0; i < 2; ++i) {
          const char h = peek();
          const int digit = hex_value(h);
          if (digit < 0) return fail("\\x needs two hexadecimal digits"), false;
          byte = byte * 16 + digit;
          ++pos_;
        }
        out += static_cast<char>(byte);
        return true;
      }
      default:
        break;
    }
    if (!is_digit(c)) return fail("unknown escape \\" + printable(c) + " in a string"), false;
    int byte = c - '0';
    for (int i = 0; i < 2 && is_digit(peek()); ++i) byte = byte * 10 + (text_[pos_++] - '0');
    if (byte > 255) return fail("escape \\" + std::to_string(byte) + " is not a byte"), false;
    out += static_cast<char>(byte);
    return true;
  }

  // Decimal numbers as Prosody writes them ("%d" or "%.18g"), and its (1/0), (-1/0), (0/0).
  std::optional<Value> parse_number() {
    Value value;
    value.kind = Value::Kind::kNumber;
    for (auto [text, number] : {std::pair<std::string_view, double>{"(1/0)", std::numeric_limits<double>::infinity()},
                                {"(-1/0)", -std::numeric_limits<double>::infinity()},
                                {"(0/0)", std::numeric_limits<double>::quiet_NaN()}}) {
      if (text_.substr(pos_, text.size()) == text) {
        pos_ += text.size();
        value.number = number;
        return value;
      }
    }
    const std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    std::size_t digits = 0;
    while (is_digit(peek())) ++pos_, ++digits;
    if (peek() == '.') {
      ++pos_;
      while (is_digit(peek())) ++pos_, ++digits;
    }
    if (digits == 0) return fail("malformed number");
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!is_digit(peek())) return fail("malformed number");
      while (is_digit(peek())) ++pos_;
    }
    if (is_alpha(peek())) return fail("malformed number");
    if (pos_ - start > 64) return fail("a number of more than 64 characters");
    const std::string literal(text_.substr(start, pos_ - start));
    char* end = nullptr;
    value.number = std::strtod(literal.c_str(), &end);
    if (end != literal.c_str() + literal.size()) return fail("malformed number");
    return value;
  }

  std::string_view name_;
  std::string_view text_;
  const Limits& limits_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t depth_ = 0;
  std::size_t values_ = 0;
  std::string error_;
};

std::string encode(std::string_view part, bool keep_underscore) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : part) {
    if ((is_alnum(c) && c != '_') || (keep_underscore && c == '_')) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

}  // namespace

const Value* Value::get(std::string_view key) const {
  for (const Entry& e : fields)
    if (e.key.is_string() && e.key.string == key) return &e.value;
  return nullptr;
}

const Value* Value::boolean_key(bool key) const {
  for (const Entry& e : fields)
    if (e.key.is_boolean() && e.key.boolean == key) return &e.value;
  return nullptr;
}

std::optional<std::string> Value::text(std::string_view key) const {
  const Value* v = get(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->string;
}

std::optional<Value> parse_dat(std::string_view name, std::string_view text, std::string& error, const Limits& limits) {
  Parser parser(name, text, limits);
  std::optional<Value> value = parser.dat();
  if (!value) error = parser.error();
  return value;
}

std::optional<std::vector<Value>> parse_list(std::string_view name, std::string_view text, std::string& error,
                                             const Limits& limits) {
  Parser parser(name, text, limits);
  auto items = parser.list();
  if (!items) error = parser.error();
  return items;
}

std::string encode_path_part(std::string_view part) { return encode(part, false); }
std::string encode_store_name(std::string_view store) { return encode(store, true); }

std::optional<std::string> decode_path_part(std::string_view part) {
  std::string out;
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (part[i] != '%') {
      out += part[i];
      continue;
    }
    const int high = i + 1 < part.size() ? hex_value(part[i + 1]) : -1;
    const int low = i + 2 < part.size() ? hex_value(part[i + 2]) : -1;
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

}  // namespace xmppd::prosody
