#include "config/token_cursor.h"

#include <algorithm>

namespace xmppd::config {
namespace {

// +1 for an opening bracket, -1 for a closing one, 0 otherwise.
int bracket_step(const Token& t) {
  if (t.kind != TokenKind::kPunct) return 0;
  if (t.text == "{" || t.text == "(" || t.text == "[") return 1;
  if (t.text == "}" || t.text == ")" || t.text == "]") return -1;
  return 0;
}

bool opens_block(const Token& t) {
  return t.is_name("function") || t.is_name("if") || t.is_name("do") || t.is_name("repeat");
}

bool closes_block(const Token& t) { return t.is_name("end") || t.is_name("until"); }

}  // namespace

void TokenCursor::skip_table_entry() {
  int depth = 0;
  while (!at_end()) {
    const Token& t = peek();
    if (depth == 0 && (t.is_punct(",") || t.is_punct(";") || t.is_punct("}"))) return;
    depth = std::max(0, depth + bracket_step(t));  // as in skip_statement
    next();
  }
}

void TokenCursor::skip_statement() {
  int error_line = previous().line;
  int depth = 0;
  while (!at_end()) {
    const Token& t = peek();
    if (depth == 0 && t.kind == TokenKind::kName && t.line > error_line) return;
    if (depth == 0 && t.is_punct(";")) {
      next();
      return;
    }
    // A closer with no opener belongs to a construct that already failed.
    depth = std::max(0, depth + bracket_step(t));
    next();
  }
}

void TokenCursor::skip_block() {
  int depth = 0;
  while (!at_end()) {
    const Token& t = next();
    // "while" and "for" are not counted: their "do" opens the block.
    if (opens_block(t)) {
      ++depth;
    } else if (closes_block(t)) {
      if (--depth <= 0) return;
    }
  }
}

std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kName: return "'" + token.text + "'";
    case TokenKind::kString: return "string";
    case TokenKind::kInteger:
    case TokenKind::kFloat: return "number '" + token.text + "'";
    case TokenKind::kPunct: return "'" + token.text + "'";
    case TokenKind::kError: return "malformed token";
    case TokenKind::kEnd: return "end of file";
  }
  return "token";
}

std::string describe_index(const Token& name, const Token& op, const Token& key) {
  if (op.is_punct("[")) return name.text + "[...]";
  return name.text + "." + (key.kind == TokenKind::kName ? key.text : "...");
}

}  // namespace xmppd::config
