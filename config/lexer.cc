#include "config/lexer.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace xmppd::config {
namespace {

constexpr std::array<std::string_view, 22> kKeywords = {
    "and",      "break",  "do",   "else", "elseif", "end",  "false", "for",
    "function", "goto",   "if",   "in",   "local",  "nil",  "not",   "or",
    "repeat",   "return", "then", "true", "until",  "while"};

// Longest first, so that ".." is not read as two ".".
constexpr std::array<std::string_view, 10> kLongPuncts = {
    "...", "..", "==", "~=", "<=", ">=", "//", "::", "<<", ">>"};
constexpr std::string_view kShortPuncts = "+-*/%^#&~|<>=(){}[];:,.";

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool is_newline(char c) { return c == '\n' || c == '\r'; }

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Scanner {
 public:
  Scanner(std::string_view text, const std::string& file, std::vector<Diagnostic>& diags)
      : text_(text), file_(file), diags_(diags) {}

  std::vector<Token> run();

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void error(int line, std::string message) {
    diags_.push_back({Diagnostic::Severity::kError, file_, line, std::move(message)});
  }
  void push(TokenKind kind, std::string text, int line) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.line = line;
    tokens_.push_back(std::move(t));
  }

  void consume_newline();
  void skip_space_and_comments();
  int long_bracket_level() const;
  bool read_long_bracket(int level, std::string* out);
  void scan_name();
  void scan_number();
  void scan_string();
  bool scan_escape(std::string& out);
  bool scan_utf8_escape(std::string& out);
  void scan_long_string();
  void scan_punct();

  std::string_view text_;
  const std::string& file_;
  std::vector<Diagnostic>& diags_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

// Lua counts "\r\n" and "\n\r" as one line break.
void Scanner::consume_newline() {
  char first = peek();
  ++pos_;
  if (is_newline(peek()) && peek() != first) ++pos_;
  ++line_;
}

void Scanner::skip_space_and_comments() {
  while (!at_end()) {
    char c = peek();
    if (is_newline(c)) {
      consume_newline();
    } else if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
      ++pos_;
    } else if (c == '-' && peek(1) == '-') {
      pos_ += 2;
      int level = long_bracket_level();
      if (level >= 0) {
        int opened = line_;
        if (!read_long_bracket(level, nullptr)) error(opened, "unterminated comment");
      } else {
        while (!at_end() && !is_newline(peek())) ++pos_;
      }
    } else {
      return;
    }
  }
}

// At "[", "[=", "[==" ...: the number of '=' when a long bracket opens here, else -1.
int Scanner::long_bracket_level() const {
  if (peek() != '[') return -1;
  std::size_t n = 1;
  while (peek(n) == '=') ++n;
  return peek(n) == '[' ? static_cast<int>(n - 1) : -1;
}

// Reads from an opening long bracket to its matching close; false at end of input.
bool Scanner::read_long_bracket(int level, std::string* out) {
  pos_ += static_cast<std::size_t>(level) + 2;
  if (is_newline(peek())) consume_newline();  // Lua drops a newline right after the opening
  while (!at_end()) {
    char c = peek();
    if (c == ']') {
      std::size_t n = 1;
      while (peek(n) == '=') ++n;
      if (peek(n) == ']' && static_cast<int>(n - 1) == level) {
        pos_ += n + 1;
        return true;
      }
      if (out) out->append(text_.substr(pos_, n));
      pos_ += n;
    } else if (is_newline(c)) {
      consume_newline();
      if (out) *out += '\n';
    } else {
      if (out) *out += c;
      ++pos_;
    }
  }
  return false;
}

void Scanner::scan_name() {
  std::size_t start = pos_;
  while (is_name_char(peek())) ++pos_;
  push(TokenKind::kName, std::string(text_.substr(start, pos_ - start)), line_);
}

std::vector<Token> Scanner::run() {
  for (;;) {
    skip_space_and_comments();
    if (at_end()) break;
    char c = peek();
    if (is_name_start(c)) {
      scan_name();
    } else if (is_digit(c) || (c == '.' && is_digit(peek(1)))) {
      scan_number();
    } else if (c == '"' || c == '\'') {
      scan_string();
    } else if (long_bracket_level() >= 0) {
      scan_long_string();
    } else {
      scan_punct();
    }
  }
  push(TokenKind::kEnd, "", line_);
  return std::move(tokens_);
}

void Scanner::scan_long_string() {
  int opened = line_;
  std::string contents;
  if (read_long_bracket(long_bracket_level(), &contents)) {
    push(TokenKind::kString, std::move(contents), opened);
  } else {
    error(opened, "unterminated long string");
    push(TokenKind::kError, "", opened);
  }
}

void Scanner::scan_punct() {
  for (std::string_view p : kLongPuncts) {
    if (text_.substr(pos_, p.size()) == p) {
      pos_ += p.size();
      push(TokenKind::kPunct, std::string(p), line_);
      return;
    }
  }
  char c = peek();
  ++pos_;
  if (kShortPuncts.find(c) != std::string_view::npos) {
    push(TokenKind::kPunct, std::string(1, c), line_);
    return;
  }
  auto u = static_cast<unsigned char>(c);
  if (std::isprint(u)) {
    error(line_, std::string("unexpected character '") + c + "'");
  } else {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", u);
    error(line_, std::string("unexpected byte ") + buf);
  }
  push(TokenKind::kError, "", line_);
}

// Lua semantics: a decimal integer too big for 64 bits becomes a float, while a
// hexadecimal one wraps around.
bool convert_number(std::string_view spelling, Token& token) {
  const char* end = spelling.data() + spelling.size();
  bool hex =
      spelling.size() > 1 && spelling[0] == '0' && (spelling[1] == 'x' || spelling[1] == 'X');
  std::string_view digits = hex ? spelling.substr(2) : spelling;
  bool all_digits = !digits.empty();
  for (char c : digits) all_digits = all_digits && (hex ? is_hex(c) : is_digit(c));
  if (hex && all_digits) {
    std::uint64_t v = 0;
    for (char c : digits) v = v * 16 + static_cast<std::uint64_t>(hex_value(c));
    token.kind = TokenKind::kInteger;
    token.integer = static_cast<std::int64_t>(v);
    return true;
  }
  if (all_digits) {
    auto [ptr, ec] = std::from_chars(digits.data(), end, token.integer);
    if (ec == std::errc() && ptr == end) {
      token.kind = TokenKind::kInteger;
      return true;
    }
  }
  auto format = hex ? std::chars_format::hex : std::chars_format::general;
  auto [ptr, ec] = std::from_chars(digits.data(), end, token.number, format);
  if (digits.empty() || ec != std::errc() || ptr != end) return false;
  token.kind = TokenKind::kFloat;
  return true;
}

void Scanner::scan_number() {
  std::size_t start = pos_;
  bool hex = peek() == '0' && (peek(1) == 'x' || peek(1) == 'X');
  if (hex) pos_ += 2;
  char exponent = hex ? 'p' : 'e';
  // Like Lua, take every character that could continue a numeral, so that
  // "3abc" is one malformed number rather than a number and a name.
  for (;;) {
    char c = peek();
    if (std::tolower(static_cast<unsigned char>(c)) == exponent &&
        (peek(1) == '+' || peek(1) == '-'))
      pos_ += 2;
    else if (is_name_char(c) || c == '.')
      ++pos_;
    else
      break;
  }
  std::string_view spelling = text_.substr(start, pos_ - start);
  Token token;
  token.line = line_;
  token.text = std::string(spelling);
  if (!convert_number(spelling, token)) {
    error(line_, "malformed number '" + token.text + "'");
    token.kind = TokenKind::kError;
  }
  tokens_.push_back(std::move(token));
}

void Scanner::scan_string() {
  char quote = peek();
  int opened = line_;
  bool ok = true;
  std::string contents;
  ++pos_;
  for (;;) {
    if (at_end() || is_newline(peek())) {
      error(opened, "unterminated string");
      push(TokenKind::kError, "", opened);
      return;
    }
    char c = peek();
    if (c == quote) break;
    if (c == '\\') {
      ok = scan_escape(contents) && ok;
    } else {
      contents += c;
      ++pos_;
    }
  }
  ++pos_;
  push(ok ? TokenKind::kString : TokenKind::kError, std::move(contents), opened);
}

// At a backslash inside a short string. Reports a bad escape and carries on
// with the rest of the string, so one typo gives one message.
bool Scanner::scan_escape(std::string& out) {
  ++pos_;
  char c = peek();
  static constexpr std::string_view kFrom = "ntrabfv\\\"'";
  static constexpr std::string_view kTo = "\n\t\r\a\b\f\v\\\"'";
  if (auto i = kFrom.find(c); c != '\0' && i != std::string_view::npos) {
    out += kTo[i];
    ++pos_;
    return true;
  }
  if (is_newline(c)) {
    out += '\n';
    consume_newline();
    return true;
  }
  if (c == 'z') {
    ++pos_;
    while (!at_end() && std::isspace(static_cast<unsigned char>(peek()))) {
      if (is_newline(peek()))
        consume_newline();
      else
        ++pos_;
    }
    return true;
  }
  if (c == 'x') {
    ++pos_;
    if (!is_hex(peek()) || !is_hex(peek(1))) {
      error(line_, "invalid escape '\\x': expected two hexadecimal digits");
      return false;
    }
    out += static_cast<char>(hex_value(peek()) * 16 + hex_value(peek(1)));
    pos_ += 2;
    return true;
  }
  if (is_digit(c)) {
    int v = 0;
    for (int n = 0; n < 3 && is_digit(peek()); ++n, ++pos_) v = v * 10 + (peek() - '0');
    if (v > 255) {
      error(line_, "decimal escape too large (" + std::to_string(v) + " > 255)");
      return false;
    }
    out += static_cast<char>(v);
    return true;
  }
  if (c == 'u') return scan_utf8_escape(out);
  if (at_end()) return true;  // the caller reports the unterminated string
  ++pos_;
  if (std::isprint(static_cast<unsigned char>(c)))
    error(line_, std::string("invalid escape sequence '\\") + c + "'");
  else
    error(line_, "invalid escape sequence (backslash before a control character)");
  return false;
}

bool Scanner::scan_utf8_escape(std::string& out) {
  ++pos_;
  if (peek() != '{' || !is_hex(peek(1))) {
    error(line_, "invalid escape '\\u': expected '{' and hexadecimal digits");
    return false;
  }
  ++pos_;
  std::uint32_t cp = 0;
  bool too_big = false;
  for (; is_hex(peek()); ++pos_) {
    too_big = too_big || cp > 0x10FFFF;
    cp = too_big ? cp : cp * 16 + static_cast<std::uint32_t>(hex_value(peek()));
  }
  if (peek() != '}') {
    error(line_, "invalid escape '\\u': missing '}'");
    return false;
  }
  ++pos_;
  if (too_big || cp > 0x10FFFF) {
    error(line_, "UTF-8 escape out of range (maximum is \\u{10FFFF})");
    return false;
  }
  append_utf8(out, cp);
  return true;
}
}  // namespace

bool is_lua_keyword(std::string_view name) {
  for (std::string_view k : kKeywords)
    if (k == name) return true;
  return false;
}

std::vector<Token> tokenize(std::string_view text, const std::string& file,
                            std::vector<Diagnostic>& diags) {
  return Scanner(text, file, diags).run();
}

}  // namespace xmppd::config
