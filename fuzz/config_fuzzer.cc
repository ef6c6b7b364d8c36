// The configuration reader (config/) on any text: the lexer, the statement parser and the
// whole load to Settings. Nothing crashes; every finding names the file and a line that
// exists (or 0 for the file as a whole); the load fails exactly when an error was reported.
//
// Include statements are followed as in a real load: relative ones lead into a folder that
// does not exist, absolute ones may read real files, which only ever gives diagnostics.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.h"
#include "config/lexer.h"
#include "config/parser.h"
#include "config/settings.h"

namespace {

using xmppd::config::Diagnostic;

const std::string kName = "/nonexistent/xmppd-fuzz/fuzz.conf";

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "invariant broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void check_diagnostics(const std::vector<Diagnostic>& diags, int lines) {
  for (const Diagnostic& d : diags) {
    if (d.file.empty() || d.message.empty()) fail("a diagnostic without a file or message", d.str());
    if (d.line < 0) fail("a negative line", d.str());
    if (d.file == kName && d.line > lines) fail("a line past the end of the text", d.str());
    if (d.str().rfind(d.file + ":", 0) != 0) fail("str() does not start with file:", d.str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // As in Lua, a lone CR breaks a line too (and CR LF, LF CR once): every CR or LF at most.
  int lines =
      static_cast<int>(std::count_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; })) + 1;

  std::vector<Diagnostic> diags;
  auto tokens = xmppd::config::tokenize(text, kName, diags);
  if (tokens.empty() || tokens.back().kind != xmppd::config::TokenKind::kEnd) fail("tokens do not end with kEnd", "");
  int last = 1;
  for (const auto& token : tokens) {
    if (token.line < last || token.line > lines) fail("a token's line is out of order or range", token.text);
    last = token.line;
  }
  check_diagnostics(diags, lines);

  diags.clear();
  auto statements = xmppd::config::parse_statements(text, kName, diags);
  check_diagnostics(diags, lines);
  for (const auto& statement : statements) {
    int line = std::visit([](const auto& s) { return s.line; }, statement);
    if (line < 1 || line > lines) fail("a statement's line is out of range", std::to_string(line));
  }

  diags.clear();
  auto settings = xmppd::config::load_string(text, kName, diags);
  check_diagnostics(diags, lines);
  if (settings.has_value() == xmppd::config::has_error(diags))
    fail("the load's result disagrees with its errors", settings ? "loaded with an error" : "failed without an error");
  return 0;
}
