#ifndef XMPPD_CONFIG_TOKEN_CURSOR_H
#define XMPPD_CONFIG_TOKEN_CURSOR_H

// A read position in a token list shared by the statement and expression
// parsers, with the error-reporting and resynchronisation they both need.

#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.h"
#include "config/lexer.h"

namespace xmppd::config {

class TokenCursor {
 public:
  TokenCursor(const std::vector<Token>& tokens, const std::string& file,
              std::vector<Diagnostic>& diags)
      : tokens_(tokens), file_(file), diags_(diags) {}

  // The token list always ends with kEnd; looking past it yields that kEnd.
  const Token& peek(std::size_t ahead = 0) const {
    std::size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  // The last token read; the first token before anything was read.
  const Token& previous() const { return tokens_[pos_ > 0 ? pos_ - 1 : 0]; }
  const Token& next() {
    const Token& t = peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return t;
  }
  bool at_end() const { return peek().kind == TokenKind::kEnd; }
  bool accept(std::string_view punct) {
    if (!peek().is_punct(punct)) return false;
    next();
    return true;
  }

  void error(int line, std::string message) {
    diags_.push_back({Diagnostic::Severity::kError, file_, line, std::move(message)});
  }
  void warning(int line, std::string message) {
    diags_.push_back({Diagnostic::Severity::kWarning, file_, line, std::move(message)});
  }

  // Skips what is left of a broken table entry: stops before the ',', ';' or
  // '}' that ends it, stepping over anything nested.
  void skip_table_entry();

  // Skips what is left of a broken statement: the rest of the line of the
  // last token read, and any brackets opened there; stops before the next
  // name on a later line, or after a ';'.
  void skip_statement();

  // Skips a Lua block opened by the current keyword up to its matching 'end'
  // or 'until', so that the body of a refused 'if' or 'function' is not read
  // as settings.
  void skip_block();

 private:
  const std::vector<Token>& tokens_;
  const std::string& file_;
  std::vector<Diagnostic>& diags_;
  std::size_t pos_ = 0;
};

// How a token reads in a message: "'..'", "string", "end of file".
std::string describe(const Token& token);

// How an indexing expression reads in a message: "os.getenv" or "t[...]".
std::string describe_index(const Token& name, const Token& op, const Token& key);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_TOKEN_CURSOR_H
