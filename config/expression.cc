#include "config/expression.h"

#include <cmath>
#include <limits>

namespace xmppd::config {
namespace {

// Binary operators Lua has and xmppd refuses, with what to write instead.
struct Refused {
  std::string_view op;
  std::string_view message;
};
constexpr Refused kRefusedBinary[] = {
    {"..", "string concatenation '..' is not supported: write the whole string"},
    {"%", "operator '%' is not supported"},
    {"^", "operator '^' is not supported"},
    {"//", "operator '//' is not supported"},
    {"==", "comparisons ('==') are not supported"},
    {"~=", "comparisons ('~=') are not supported"},
    {"<", "comparisons ('<') are not supported"},
    {"<=", "comparisons ('<=') are not supported"},
    {">", "comparisons ('>') are not supported"},
    {">=", "comparisons ('>=') are not supported"},
    {"&", "bitwise operators ('&') are not supported"},
    {"|", "bitwise operators ('|') are not supported"},
    {"~", "bitwise operators ('~') are not supported"},
    {"<<", "bitwise operators ('<<') are not supported"},
    {">>", "bitwise operators ('>>') are not supported"},
    {"and", "logical operators ('and') are not supported"},
    {"or", "logical operators ('or') are not supported"},
};

const Refused* refused_binary(const Token& t) {
  if (t.kind != TokenKind::kPunct && t.kind != TokenKind::kName) return nullptr;
  for (const Refused& r : kRefusedBinary)
    if (t.text == r.op) return &r;
  return nullptr;
}

bool is_number(const Value& v) { return v.is_integer() || v.is_float(); }
double to_double(const Value& v) {
  return v.is_integer() ? static_cast<double>(v.as_integer()) : std::get<double>(v.data);
}

// An integral float counts as an integer, so that 1e4 and 10 / 2 can fill
// integer options the way admins expect.
std::optional<Value> make_number(double d, int line, TokenCursor& cursor) {
  if (!std::isfinite(d)) {
    cursor.error(line, "number out of range");
    return std::nullopt;
  }
  Value v;
  v.line = line;
  constexpr double kLimit = 9223372036854775808.0;  // 2^63
  if (d == std::trunc(d) && d >= -kLimit && d < kLimit)
    v.data = static_cast<std::int64_t>(d);
  else
    v.data = d;
  return v;
}

class ExpressionParser {
 public:
  explicit ExpressionParser(TokenCursor& cursor) : cursor_(cursor) {}

  std::optional<Value> expression();

 private:
  std::optional<Value> additive();
  std::optional<Value> multiplicative();
  std::optional<Value> unary();
  std::optional<Value> primary();
  std::optional<Value> parenthesised();
  std::optional<Value> table();
  bool table_entry(Table& table);
  std::optional<Value> name_in_value();
  bool refuse_suffix();
  std::optional<Value> arithmetic(char op, const Value& lhs, const Value& rhs, int line);
  std::optional<Value> negate(const Value& operand, int line);

  TokenCursor& cursor_;
};

std::optional<Value> ExpressionParser::expression() {
  std::optional<Value> v = additive();
  if (!v) return std::nullopt;
  if (const Refused* r = refused_binary(cursor_.peek())) {
    cursor_.error(cursor_.peek().line, std::string(r->message));
    return std::nullopt;
  }
  return v;
}

std::optional<Value> ExpressionParser::additive() {
  std::optional<Value> lhs = multiplicative();
  while (lhs && (cursor_.peek().is_punct("+") || cursor_.peek().is_punct("-"))) {
    const Token& op = cursor_.next();
    std::optional<Value> rhs = multiplicative();
    if (!rhs) return std::nullopt;
    lhs = arithmetic(op.text[0], *lhs, *rhs, op.line);
  }
  return lhs;
}

std::optional<Value> ExpressionParser::multiplicative() {
  std::optional<Value> lhs = unary();
  while (lhs && (cursor_.peek().is_punct("*") || cursor_.peek().is_punct("/"))) {
    const Token& op = cursor_.next();
    std::optional<Value> rhs = unary();
    if (!rhs) return std::nullopt;
    lhs = arithmetic(op.text[0], *lhs, *rhs, op.line);
  }
  return lhs;
}

std::optional<Value> ExpressionParser::unary() {
  const Token& t = cursor_.peek();
  if (t.is_punct("-")) {
    cursor_.next();
    std::optional<Value> operand = unary();
    return operand ? negate(*operand, t.line) : std::nullopt;
  }
  if (t.is_name("not") || t.is_punct("#") || t.is_punct("~")) {
    cursor_.error(t.line, "operator '" + t.text + "' is not supported");
    return std::nullopt;
  }
  return primary();
}

std::optional<Value> ExpressionParser::primary() {
  const Token& t = cursor_.peek();
  Value v;
  v.line = t.line;
  switch (t.kind) {
    case TokenKind::kString: v.data = t.text; break;
    case TokenKind::kInteger: v.data = t.integer; break;
    case TokenKind::kFloat: cursor_.next(); return make_number(t.number, t.line, cursor_);
    case TokenKind::kError:
      cursor_.next();  // already reported by the lexer
      return std::nullopt;
    case TokenKind::kEnd:
      cursor_.error(t.line, "unexpected end of file, expected a value");
      return std::nullopt;
    case TokenKind::kPunct:
      if (t.is_punct("{")) return table();
      if (t.is_punct("(")) return parenthesised();
      cursor_.error(t.line, "unexpected " + describe(t) + ", expected a value");
      return std::nullopt;
    case TokenKind::kName:
      if (t.text == "true" || t.text == "false") {
        v.data = t.text == "true";
        break;
      }
      return name_in_value();
  }
  cursor_.next();
  return v;
}

std::optional<Value> ExpressionParser::parenthesised() {
  const Token& open = cursor_.next();
  std::optional<Value> v = expression();
  if (!v) return std::nullopt;
  if (!cursor_.accept(")")) {
    cursor_.error(cursor_.peek().line, "expected ')' to close '(' at line " +
                                           std::to_string(open.line) + ", found " +
                                           describe(cursor_.peek()));
    return std::nullopt;
  }
  if (refuse_suffix()) return std::nullopt;
  return v;
}

// After something that Lua could call or index: ("x"):upper(), (t).k ...
bool ExpressionParser::refuse_suffix() {
  const Token& t = cursor_.peek();
  if (t.is_punct(":")) {
    cursor_.error(t.line, "method calls are not supported");
    return true;
  }
  if (t.is_punct(".") || t.is_punct("[")) {
    cursor_.error(t.line, "indexing is not supported");
    return true;
  }
  if (t.is_punct("(") || t.kind == TokenKind::kString || t.is_punct("{")) {
    cursor_.error(t.line, "function calls are not supported");
    return true;
  }
  return false;
}

// A name where a value belongs: a variable, a call or an index, all refused.
std::optional<Value> ExpressionParser::name_in_value() {
  const Token& name = cursor_.next();
  const Token& after = cursor_.peek();
  if (name.text == "nil") {
    cursor_.error(name.line, "nil is not supported: leave the option out instead");
  } else if (name.text == "function") {
    cursor_.error(name.line, "function definitions are not supported");
  } else if (is_lua_keyword(name.text)) {
    cursor_.error(name.line, "unexpected '" + name.text + "', expected a value");
  } else if (after.is_punct("(") || after.kind == TokenKind::kString || after.is_punct("{")) {
    cursor_.error(name.line, name.text + " is not supported");
  } else if (after.is_punct(".") || after.is_punct("[")) {
    cursor_.error(name.line, "indexing ('" + describe_index(name, after, cursor_.peek(1)) +
                                 "') is not supported: write the value itself");
  } else if (after.is_punct(":")) {
    cursor_.error(name.line, "method calls are not supported");
  } else {
    cursor_.error(name.line, "variables are not supported: write the value itself instead of '" +
                                 name.text + "'");
  }
  return std::nullopt;
}

std::optional<Value> ExpressionParser::table() {
  const Token& open = cursor_.next();
  Value v;
  v.line = open.line;
  Table& t = v.data.emplace<Table>();
  bool ok = true;
  for (;;) {
    if (cursor_.accept("}")) break;
    if (cursor_.at_end()) {
      cursor_.error(open.line, "unterminated table");
      return std::nullopt;
    }
    if (!table_entry(t)) {
      ok = false;
      cursor_.skip_table_entry();
    }
    if (cursor_.accept(",") || cursor_.accept(";") || cursor_.peek().is_punct("}")) continue;
    if (cursor_.at_end()) continue;  // reported as unterminated on the next turn
    cursor_.error(cursor_.peek().line, "expected ',', ';' or '}' in the table opened at line " +
                                           std::to_string(open.line) + ", found " +
                                           describe(cursor_.peek()));
    return std::nullopt;
  }
  if (!ok) return std::nullopt;
  return v;
}

// One "value", "name = value" or "[expr] = value"; a repeated key replaces
// the earlier one, as in Lua.
bool ExpressionParser::table_entry(Table& table) {
  TableEntry entry;
  const Token& first = cursor_.peek();
  if (first.kind == TokenKind::kName && !is_lua_keyword(first.text) &&
      cursor_.peek(1).is_punct("=")) {
    entry.key = first.text;
    cursor_.next();
    cursor_.next();
  } else if (first.is_punct("[")) {
    cursor_.next();
    std::optional<Value> key = expression();
    if (!key) return false;
    if (!key->is_string()) {
      cursor_.error(key->line, "table keys must be strings, got " + std::string(type_name(*key)));
      return false;
    }
    if (!cursor_.accept("]") || !cursor_.accept("=")) {
      cursor_.error(cursor_.peek().line, "expected '] =' after a table key");
      return false;
    }
    entry.key = key->as_string();
  }
  std::optional<Value> value = expression();
  if (!value) return false;
  entry.value = std::move(*value);
  if (entry.key) {
    for (TableEntry& e : table.entries) {
      if (e.key == entry.key) {
        e.value = std::move(entry.value);
        return true;
      }
    }
  }
  table.entries.push_back(std::move(entry));
  return true;
}

std::optional<Value> ExpressionParser::arithmetic(char op, const Value& lhs, const Value& rhs,
                                                  int line) {
  for (const Value* v : {&lhs, &rhs}) {
    if (!is_number(*v)) {
      cursor_.error(line, std::string("arithmetic on ") + std::string(type_name(*v)) +
                              " is not supported: '" + op + "' needs numbers");
      return std::nullopt;
    }
  }
  if (op == '/') {
    if (to_double(rhs) == 0) {
      cursor_.error(line, "division by zero");
      return std::nullopt;
    }
    return make_number(to_double(lhs) / to_double(rhs), lhs.line, cursor_);
  }
  if (lhs.is_integer() && rhs.is_integer()) {
    std::int64_t a = lhs.as_integer(), b = rhs.as_integer(), r = 0;
    bool overflow = op == '+'   ? __builtin_add_overflow(a, b, &r)
                    : op == '-' ? __builtin_sub_overflow(a, b, &r)
                                : __builtin_mul_overflow(a, b, &r);
    if (overflow) {
      cursor_.error(line, "integer overflow in arithmetic");
      return std::nullopt;
    }
    Value v;
    v.line = lhs.line;
    v.data = r;
    return v;
  }
  double a = to_double(lhs), b = to_double(rhs);
  return make_number(op == '+' ? a + b : op == '-' ? a - b : a * b, lhs.line, cursor_);
}

std::optional<Value> ExpressionParser::negate(const Value& operand, int line) {
  if (operand.is_integer()) {
    if (operand.as_integer() == std::numeric_limits<std::int64_t>::min()) {
      cursor_.error(line, "integer overflow in arithmetic");
      return std::nullopt;
    }
    Value v;
    v.line = line;
    v.data = -operand.as_integer();
    return v;
  }
  if (operand.is_float()) return make_number(-to_double(operand), line, cursor_);
  cursor_.error(line, "arithmetic on " + std::string(type_name(operand)) +
                          " is not supported: '-' needs a number");
  return std::nullopt;
}

}  // namespace

std::optional<Value> parse_expression(TokenCursor& cursor) {
  return ExpressionParser(cursor).expression();
}

}  // namespace xmppd::config
