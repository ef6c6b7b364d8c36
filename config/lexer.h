#ifndef XMPPD_CONFIG_LEXER_H
#define XMPPD_CONFIG_LEXER_H

// Splits configuration text into Lua tokens. It knows all of Lua's lexical
// grammar, not just the declarative subset, so that the parser can name what
// it refuses ("'..' is not supported") instead of calling it garbage.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.h"

namespace xmppd::config {

enum class TokenKind {
  kName,     // identifier or keyword; text holds it
  kString,   // text holds the decoded contents
  kInteger,  // integer holds the value
  kFloat,    // number holds the value
  kPunct,    // text holds the operator or separator, e.g. "=", "..", "{"
  kError,    // a malformed token, already reported
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  std::int64_t integer = 0;
  double number = 0;
  int line = 0;

  bool is_punct(std::string_view p) const { return kind == TokenKind::kPunct && text == p; }
  bool is_name(std::string_view n) const { return kind == TokenKind::kName && text == n; }
};

// Reports malformed tokens to diags (as errors) and always ends with kEnd.
std::vector<Token> tokenize(std::string_view text, const std::string& file,
                            std::vector<Diagnostic>& diags);

bool is_lua_keyword(std::string_view name);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_LEXER_H
