#include "config/parser.h"

#include <algorithm>

#include "config/expression.h"
#include "config/lexer.h"
#include "config/token_cursor.h"

namespace xmppd::config {
namespace {

constexpr std::string_view kDeclarativeOnly =
    " is not supported: the configuration is declarative (key = value, sections and Include)";

bool is_statement_keyword(std::string_view name) {
  for (std::string_view k :
       {"local", "function", "if", "for", "while", "repeat", "do", "return", "break", "goto"})
    if (k == name) return true;
  return false;
}

bool opens_block(std::string_view name) {
  for (std::string_view k : {"function", "if", "for", "while", "repeat", "do"})
    if (k == name) return true;
  return false;
}

bool starts_call(const Token& t) {
  return t.is_punct("(") || t.kind == TokenKind::kString || t.is_punct("{");
}

class StatementParser {
 public:
  explicit StatementParser(TokenCursor& cursor) : cursor_(cursor) {}

  std::vector<Statement> run();

 private:
  void statement();
  void name_statement();
  void keyword_statement();
  void assignment();
  void section(SectionHeader::Kind kind);
  void include();
  std::optional<std::string> string_argument(const Token& callee, std::string_view what);
  void refuse_options_table(const Token& callee);
  void fail(int line, std::string message) {
    cursor_.error(line, std::move(message));
    cursor_.skip_statement();
  }

  TokenCursor& cursor_;
  std::vector<Statement> statements_;
};

std::vector<Statement> StatementParser::run() {
  while (!cursor_.at_end()) statement();
  return std::move(statements_);
}

void StatementParser::statement() {
  const Token& t = cursor_.peek();
  if (t.is_punct(";")) {
    cursor_.next();
  } else if (t.kind == TokenKind::kName) {
    name_statement();
  } else if (t.kind == TokenKind::kError) {
    cursor_.next();  // the lexer has reported it
    cursor_.skip_statement();
  } else {
    cursor_.next();
    fail(t.line, "unexpected " + describe(t) + ", expected an option name or a section");
  }
}

void StatementParser::name_statement() {
  const Token& name = cursor_.peek();
  const Token& after = cursor_.peek(1);
  if (is_lua_keyword(name.text)) return keyword_statement();
  if (name.text == "VirtualHost" || name.text == "Host")
    return section(SectionHeader::Kind::kVirtualHost);
  if (name.text == "Component") return section(SectionHeader::Kind::kComponent);
  if (name.text == "Include") return include();
  if (after.is_punct("=")) return assignment();
  cursor_.next();
  if (after.is_punct(","))
    fail(name.line,
         "assigning several options at once ('" + name.text + ", ...') is not supported");
  else if (after.is_punct(".") || after.is_punct("["))
    fail(name.line, "indexing ('" + describe_index(name, after, cursor_.peek(1)) +
                        "') is not supported: option names are plain identifiers");
  else if (after.is_punct(":"))
    fail(name.line, "method calls are not supported");
  else if (starts_call(after))
    fail(name.line, name.text + " is not supported");
  else
    fail(name.line, "expected '=' after '" + name.text + "'");
}

void StatementParser::keyword_statement() {
  const Token& kw = cursor_.peek();
  if (!is_statement_keyword(kw.text)) {
    cursor_.next();
    return fail(kw.line, "unexpected '" + kw.text + "'");
  }
  cursor_.error(kw.line, "'" + kw.text + "'" + std::string(kDeclarativeOnly));
  if (kw.text == "local") cursor_.next();  // "local function f() ... end" is a block too
  if (opens_block(cursor_.peek().text) && cursor_.peek().kind == TokenKind::kName) {
    cursor_.skip_block();
    if (cursor_.previous().is_name("until")) cursor_.skip_statement();  // its condition
  } else {
    if (kw.text != "local") cursor_.next();
    cursor_.skip_statement();
  }
}

void StatementParser::assignment() {
  const Token& key = cursor_.next();
  cursor_.next();  // '='
  std::optional<Value> value = parse_expression(cursor_);
  if (!value) return cursor_.skip_statement();
  if (cursor_.peek().is_punct(",")) {
    cursor_.next();
    return fail(key.line, "several values for one option ('" + key.text +
                              " = a, b') are not supported: use a table, { a, b }");
  }
  statements_.push_back(Assignment{key.text, std::move(*value), key.line});
}

// Accepts NAME "arg", NAME [[arg]] and NAME("arg").
std::optional<std::string> StatementParser::string_argument(const Token& callee,
                                                            std::string_view what) {
  const Token& t = cursor_.peek();
  if (t.kind == TokenKind::kString) {
    cursor_.next();
    return t.text;
  }
  if (t.kind == TokenKind::kError) {
    cursor_.next();
    return std::nullopt;
  }
  if (!t.is_punct("(")) {
    cursor_.error(callee.line, callee.text + " expects " + std::string(what) + " in quotes");
    return std::nullopt;
  }
  cursor_.next();
  std::optional<Value> v = parse_expression(cursor_);
  if (!v) return std::nullopt;
  if (!cursor_.accept(")")) {
    cursor_.error(cursor_.peek().line, "expected ')' after the argument of " + callee.text);
    return std::nullopt;
  }
  if (!v->is_string()) {
    cursor_.error(callee.line, callee.text + " expects " + std::string(what) + " in quotes, got " +
                                   std::string(type_name(*v)));
    return std::nullopt;
  }
  return v->as_string();
}

void StatementParser::section(SectionHeader::Kind kind) {
  const Token& callee = cursor_.next();
  std::optional<std::string> name = string_argument(callee, "a host name");
  if (!name) return cursor_.skip_statement();
  std::string module;
  if (kind == SectionHeader::Kind::kComponent &&
      (cursor_.peek().kind == TokenKind::kString || cursor_.peek().is_punct("("))) {
    std::optional<std::string> named = string_argument(callee, "a module name");
    if (!named) return cursor_.skip_statement();
    module = std::move(*named);
  }
  statements_.push_back(SectionHeader{kind, std::move(*name), std::move(module), callee.line});
  if (cursor_.peek().is_punct("{")) refuse_options_table(callee);
}

// Prosody also takes VirtualHost "x" { options }; xmppd wants one way of
// writing a section, so the table form is refused (but still read, so that
// errors inside it are reported too).
void StatementParser::refuse_options_table(const Token& callee) {
  cursor_.error(cursor_.peek().line, "a table of options after " + callee.text +
                                         " is not supported: write the options on the lines "
                                         "after the section header");
  if (!parse_expression(cursor_)) cursor_.skip_statement();
}

void StatementParser::include() {
  const Token& callee = cursor_.next();
  std::optional<std::string> pattern = string_argument(callee, "a file name");
  if (!pattern) return cursor_.skip_statement();
  if (pattern->empty()) return fail(callee.line, "Include expects a file name, got \"\"");
  statements_.push_back(IncludeDirective{std::move(*pattern), callee.line});
}

}  // namespace

std::vector<Statement> parse_statements(std::string_view text, const std::string& file,
                                        std::vector<Diagnostic>& diags) {
  // The lexer reports while it reads the whole file, before the parser
  // starts; sorting puts both kinds of message back in line order.
  std::vector<Diagnostic> found;
  std::vector<Token> tokens = tokenize(text, file, found);
  TokenCursor cursor(tokens, file, found);
  std::vector<Statement> statements = StatementParser(cursor).run();
  std::stable_sort(found.begin(), found.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
  diags.insert(diags.end(), found.begin(), found.end());
  return statements;
}

std::optional<Value> parse_value(std::string_view text, const std::string& file,
                                 std::vector<Diagnostic>& diags) {
  std::vector<Token> tokens = tokenize(text, file, diags);
  TokenCursor cursor(tokens, file, diags);
  std::optional<Value> v = parse_expression(cursor);
  if (v && !cursor.at_end()) {
    cursor.error(cursor.peek().line, "unexpected " + describe(cursor.peek()) + " after the value");
    return std::nullopt;
  }
  return v;
}

}  // namespace xmppd::config
