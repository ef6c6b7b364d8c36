#include "config/parser.h"

#include <gtest/gtest.h>

namespace xmppd::config {
namespace {

using Strings = std::vector<std::string>;

struct Parsed {
  std::vector<Statement> statements;
  Strings messages;
};

Parsed parse(std::string_view text) {
  Parsed out;
  std::vector<Diagnostic> diags;
  out.statements = parse_statements(text, "t.cfg", diags);
  for (const Diagnostic& d : diags) out.messages.push_back(d.str());
  return out;
}

// The value of the single assignment in text, which must parse cleanly.
Value value_of(std::string_view text) {
  Parsed p = parse(text);
  EXPECT_EQ(p.messages, Strings{}) << text;
  EXPECT_EQ(p.statements.size(), 1u) << text;
  if (p.statements.size() != 1 || !std::holds_alternative<Assignment>(p.statements[0])) return {};
  return std::get<Assignment>(p.statements[0]).value;
}

Strings messages(std::string_view text) { return parse(text).messages; }

std::int64_t int_of(std::string_view text) {
  Value v = value_of(text);
  EXPECT_TRUE(v.is_integer()) << text << " gave " << to_lua(v);
  return v.is_integer() ? v.as_integer() : -1;
}

// ---- what is accepted ----

TEST(Parser, ScalarAssignments) {
  Parsed p = parse("a = \"x\"; b = 'y' c = true\nd = false;;\ne = 42\nf = [[long]]");
  ASSERT_EQ(p.messages, Strings{});
  ASSERT_EQ(p.statements.size(), 6u);
  auto at = [&](int i) { return std::get<Assignment>(p.statements[static_cast<std::size_t>(i)]); };
  EXPECT_EQ(at(0).key, "a");
  EXPECT_EQ(at(0).value.as_string(), "x");
  EXPECT_EQ(at(1).value.as_string(), "y");
  EXPECT_TRUE(at(2).value.as_bool());
  EXPECT_FALSE(at(3).value.as_bool());
  EXPECT_EQ(at(3).line, 2);
  EXPECT_EQ(at(4).value.as_integer(), 42);
  EXPECT_EQ(at(5).value.as_string(), "long");
  EXPECT_EQ(at(5).line, 4);
}

TEST(Parser, ArithmeticFollowsLuaPrecedence) {
  EXPECT_EQ(int_of("x = 512 * 1000"), 512000);
  EXPECT_EQ(int_of("x = 256 * 1024"), 262144);
  EXPECT_EQ(int_of("x = 2 + 3 * 4"), 14);
  EXPECT_EQ(int_of("x = (2 + 3) * 4"), 20);
  EXPECT_EQ(int_of("x = 10 - 4 - 3"), 3);
  EXPECT_EQ(int_of("x = 100 / 10 / 2"), 5);
  EXPECT_EQ(int_of("x = -2 * 3"), -6);
  EXPECT_EQ(int_of("x = - -2"), 2);
  EXPECT_EQ(int_of("x = -(1 + 2)"), -3);
  EXPECT_EQ(int_of("x = 2 * -3"), -6);
  EXPECT_EQ(int_of("x = 0x10 + 1"), 17);
  EXPECT_EQ(int_of("x = 60 * 60 * 24\n * 7"), 604800);
}

TEST(Parser, IntegralResultsAreIntegers) {
  EXPECT_EQ(int_of("x = 10 / 2"), 5);
  EXPECT_EQ(int_of("x = 1e4"), 10000);
  EXPECT_EQ(int_of("x = 2.0"), 2);
  EXPECT_EQ(int_of("x = 1.5 * 2"), 3);
  EXPECT_EQ(int_of("x = 0.5 + 0.5"), 1);
  Value v = value_of("x = 10 / 4");
  ASSERT_TRUE(v.is_float());
  EXPECT_DOUBLE_EQ(std::get<double>(v.data), 2.5);
  EXPECT_TRUE(value_of("x = -1.25").is_float());
}

TEST(Parser, ArithmeticErrors) {
  EXPECT_EQ(messages("x = 1 / 0"), Strings{"t.cfg:1: division by zero"});
  EXPECT_EQ(messages("x = 1 / (2 - 2.0)"), Strings{"t.cfg:1: division by zero"});
  EXPECT_EQ(messages("x = 9223372036854775807 + 1"),
            Strings{"t.cfg:1: integer overflow in arithmetic"});
  EXPECT_EQ(messages("x = 4611686018427387904 * 2"),
            Strings{"t.cfg:1: integer overflow in arithmetic"});
  EXPECT_EQ(messages("x = -9223372036854775807 - 2"),
            Strings{"t.cfg:1: integer overflow in arithmetic"});
  EXPECT_EQ(messages("x = -(-9223372036854775807 - 1)"),
            Strings{"t.cfg:1: integer overflow in arithmetic"});
  EXPECT_EQ(messages("x = 1e308 * 10"), Strings{"t.cfg:1: number out of range"});
  EXPECT_EQ(messages("x = \"10\" + 1"),
            Strings{"t.cfg:1: arithmetic on a string is not supported: '+' needs numbers"});
  EXPECT_EQ(messages("x = 2 * {}"),
            Strings{"t.cfg:1: arithmetic on a table is not supported: '*' needs numbers"});
  EXPECT_EQ(messages("x = true - 1"),
            Strings{"t.cfg:1: arithmetic on a boolean is not supported: '-' needs numbers"});
  EXPECT_EQ(messages("x = -\"a\""),
            Strings{"t.cfg:1: arithmetic on a string is not supported: '-' needs a number"});
}

TEST(Parser, Tables) {
  Value v = value_of(R"(x = { "a", "b"; k = 1, ["with space"] = true, nested = { y = [[z]] }, })");
  ASSERT_TRUE(v.is_table());
  const Table& t = v.as_table();
  ASSERT_EQ(t.entries.size(), 5u);
  EXPECT_FALSE(t.entries[0].key.has_value());
  EXPECT_EQ(t.entries[1].value.as_string(), "b");
  EXPECT_EQ(*t.entries[2].key, "k");
  EXPECT_EQ(*t.entries[3].key, "with space");
  EXPECT_TRUE(t.entries[3].value.as_bool());
  EXPECT_EQ(t.entries[4].value.as_table().entries[0].value.as_string(), "z");
  EXPECT_FALSE(is_list(t));
  EXPECT_TRUE(is_list(value_of("x = { 1; 2; }").as_table()));
  EXPECT_TRUE(value_of("x = {}").as_table().entries.empty());
}

TEST(Parser, TableEntriesKeepTheirLines) {
  Value v = value_of("x = {\n  a = 1;\n  b = 2;\n}");
  EXPECT_EQ(v.line, 1);
  EXPECT_EQ(v.as_table().entries[1].value.line, 3);
}

TEST(Parser, RepeatedTableKeyTakesTheLastValue) {
  Value v = value_of(R"(x = { a = 1, b = 2, ["a"] = 3 })");
  ASSERT_EQ(v.as_table().entries.size(), 2u);
  EXPECT_EQ(v.as_table().entries[0].value.as_integer(), 3);
}

TEST(Parser, SectionsAndIncludes) {
  Parsed p = parse(
      "VirtualHost \"a.example\"\nHost 'b.example'\nVirtualHost(\"c.example\")\n"
      "Component \"conf.example\" \"muc\"\nComponent(\"d.example\")(\"muc\")\n"
      "Component \"e.example\"\nInclude \"x.cfg\"\nInclude(\"conf.d/*.cfg.lua\")\n"
      "VirtualHost [[f.example]]");
  ASSERT_EQ(p.messages, Strings{});
  ASSERT_EQ(p.statements.size(), 9u);
  auto header = [&](std::size_t i) { return std::get<SectionHeader>(p.statements[i]); };
  EXPECT_EQ(header(0).name, "a.example");
  EXPECT_EQ(header(0).kind, SectionHeader::Kind::kVirtualHost);
  EXPECT_EQ(header(1).name, "b.example");
  EXPECT_EQ(header(1).kind, SectionHeader::Kind::kVirtualHost);
  EXPECT_EQ(header(2).name, "c.example");
  EXPECT_EQ(header(3).kind, SectionHeader::Kind::kComponent);
  EXPECT_EQ(header(3).name, "conf.example");
  EXPECT_EQ(header(4).name, "d.example");
  EXPECT_EQ(header(5).line, 6);
  EXPECT_EQ(std::get<IncludeDirective>(p.statements[6]).pattern, "x.cfg");
  EXPECT_EQ(std::get<IncludeDirective>(p.statements[7]).pattern, "conf.d/*.cfg.lua");
  EXPECT_EQ(std::get<IncludeDirective>(p.statements[7]).line, 8);
  EXPECT_EQ(header(8).name, "f.example");
}

TEST(Parser, ParseValueForDefaults) {
  std::vector<Diagnostic> diags;
  std::optional<Value> v = parse_value("{ \"*\", \"::\" }", "d", diags);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->as_table().entries.size(), 2u);
  EXPECT_EQ(parse_value("256 * 1024", "d", diags)->as_integer(), 262144);
  EXPECT_TRUE(diags.empty());
  EXPECT_FALSE(parse_value("1 2", "d", diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].str(), "d:1: unexpected number '2' after the value");
}

// ---- what is refused ----

TEST(Parser, RefusesStatementKeywords) {
  const std::string tail =
      " is not supported: the configuration is declarative (key = value, sections and Include)";
  EXPECT_EQ(messages("local x = 1"), Strings{"t.cfg:1: 'local'" + tail});
  EXPECT_EQ(messages("return { }"), Strings{"t.cfg:1: 'return'" + tail});
  EXPECT_EQ(messages("break"), Strings{"t.cfg:1: 'break'" + tail});
  EXPECT_EQ(messages("goto done"), Strings{"t.cfg:1: 'goto'" + tail});
  // The body of a refused block is skipped, not read as settings.
  EXPECT_EQ(messages("function f()\n  x = 1\nend"), Strings{"t.cfg:1: 'function'" + tail});
  EXPECT_EQ(messages("local function f()\n  x = 1\nend"), Strings{"t.cfg:1: 'local'" + tail});
  EXPECT_EQ(messages("if a then\n  x = 1\nelse\n  y = 2\nend"), Strings{"t.cfg:1: 'if'" + tail});
  EXPECT_EQ(messages("for i = 1, 3 do\n  x = i\nend"), Strings{"t.cfg:1: 'for'" + tail});
  EXPECT_EQ(messages("while true do\n  if x then y = 1 end\nend"),
            Strings{"t.cfg:1: 'while'" + tail});
  EXPECT_EQ(messages("do\n  x = 1\nend"), Strings{"t.cfg:1: 'do'" + tail});
  EXPECT_EQ(messages("repeat\n  x = 1\nuntil true"), Strings{"t.cfg:1: 'repeat'" + tail});
}

TEST(Parser, SettingsAfterARefusedBlockAreStillRead) {
  Parsed p = parse("if x then\n  a = 1\nend\nb = 2");
  ASSERT_EQ(p.messages.size(), 1u);
  ASSERT_EQ(p.statements.size(), 1u);
  EXPECT_EQ(std::get<Assignment>(p.statements[0]).key, "b");
}

TEST(Parser, RefusesStrayKeywords) {
  EXPECT_EQ(messages("end"), Strings{"t.cfg:1: unexpected 'end'"});
  EXPECT_EQ(messages("true = 1"), Strings{"t.cfg:1: unexpected 'true'"});
  EXPECT_EQ(messages("x = end"), Strings{"t.cfg:1: unexpected 'end', expected a value"});
}

TEST(Parser, RefusesVariables) {
  EXPECT_EQ(messages("x = y"),
            Strings{"t.cfg:1: variables are not supported: write the value itself instead of 'y'"});
  EXPECT_EQ(messages("x = { \"a\", other }"),
            Strings{"t.cfg:1: variables are not supported: write the value itself instead of "
                    "'other'"});
  EXPECT_EQ(messages("x = 2 * limit"),
            Strings{"t.cfg:1: variables are not supported: write the value itself instead of "
                    "'limit'"});
}

TEST(Parser, RefusesConcatenation) {
  EXPECT_EQ(messages("x = \"/etc/\" .. \"xmppd\""),
            Strings{"t.cfg:1: string concatenation '..' is not supported: write the whole string"});
  EXPECT_EQ(messages("x = { a = \"b\" .. \"c\" }"),
            Strings{"t.cfg:1: string concatenation '..' is not supported: write the whole string"});
}

TEST(Parser, RefusesOtherOperators) {
  EXPECT_EQ(messages("x = 7 % 2"), Strings{"t.cfg:1: operator '%' is not supported"});
  EXPECT_EQ(messages("x = 2 ^ 10"), Strings{"t.cfg:1: operator '^' is not supported"});
  EXPECT_EQ(messages("x = 7 // 2"), Strings{"t.cfg:1: operator '//' is not supported"});
  EXPECT_EQ(messages("x = 1 == 1"), Strings{"t.cfg:1: comparisons ('==') are not supported"});
  EXPECT_EQ(messages("x = 1 ~= 1"), Strings{"t.cfg:1: comparisons ('~=') are not supported"});
  EXPECT_EQ(messages("x = 1 < 2"), Strings{"t.cfg:1: comparisons ('<') are not supported"});
  EXPECT_EQ(messages("x = 1 >= 2"), Strings{"t.cfg:1: comparisons ('>=') are not supported"});
  EXPECT_EQ(messages("x = 1 <= 2"), Strings{"t.cfg:1: comparisons ('<=') are not supported"});
  EXPECT_EQ(messages("x = 1 > 2"), Strings{"t.cfg:1: comparisons ('>') are not supported"});
  EXPECT_EQ(messages("x = true and false"),
            Strings{"t.cfg:1: logical operators ('and') are not supported"});
  EXPECT_EQ(messages("x = true or false"),
            Strings{"t.cfg:1: logical operators ('or') are not supported"});
  EXPECT_EQ(messages("x = 1 & 3"), Strings{"t.cfg:1: bitwise operators ('&') are not supported"});
  EXPECT_EQ(messages("x = 1 | 3"), Strings{"t.cfg:1: bitwise operators ('|') are not supported"});
  EXPECT_EQ(messages("x = 1 ~ 3"), Strings{"t.cfg:1: bitwise operators ('~') are not supported"});
  EXPECT_EQ(messages("x = 1 << 3"), Strings{"t.cfg:1: bitwise operators ('<<') are not supported"});
  EXPECT_EQ(messages("x = 1 >> 3"), Strings{"t.cfg:1: bitwise operators ('>>') are not supported"});
  EXPECT_EQ(messages("x = not true"), Strings{"t.cfg:1: operator 'not' is not supported"});
  EXPECT_EQ(messages("x = #\"abc\""), Strings{"t.cfg:1: operator '#' is not supported"});
  EXPECT_EQ(messages("x = ~1"), Strings{"t.cfg:1: operator '~' is not supported"});
}

TEST(Parser, RefusesNilAndFunctions) {
  EXPECT_EQ(messages("x = nil"),
            Strings{"t.cfg:1: nil is not supported: leave the option out instead"});
  EXPECT_EQ(messages("x = function() return 1 end"),
            Strings{"t.cfg:1: function definitions are not supported"});
  EXPECT_EQ(messages("x = ..."), Strings{"t.cfg:1: unexpected '...', expected a value"});
}

TEST(Parser, RefusesUnknownFunctionCalls) {
  EXPECT_EQ(messages("FileContents \"x\""), Strings{"t.cfg:1: FileContents is not supported"});
  EXPECT_EQ(messages("x = FileContents \"cert.pem\""),
            Strings{"t.cfg:1: FileContents is not supported"});
  EXPECT_EQ(messages("x = os.getenv(\"HOME\")"),
            Strings{"t.cfg:1: indexing ('os.getenv') is not supported: write the value itself"});
  EXPECT_EQ(messages("x = Credential(\"db\")"), Strings{"t.cfg:1: Credential is not supported"});
  EXPECT_EQ(messages("x = f { 1 }"), Strings{"t.cfg:1: f is not supported"});
  EXPECT_EQ(messages("print(\"hi\")"), Strings{"t.cfg:1: print is not supported"});
  EXPECT_EQ(messages("RunScript [[x.lua]]"), Strings{"t.cfg:1: RunScript is not supported"});
  EXPECT_EQ(messages("x = (\"a\")(\"b\")"), Strings{"t.cfg:1: function calls are not supported"});
}

TEST(Parser, RefusesMethodCallsAndIndexing) {
  EXPECT_EQ(messages("x = (\"abc\"):upper()"), Strings{"t.cfg:1: method calls are not supported"});
  EXPECT_EQ(messages("x = s:upper()"), Strings{"t.cfg:1: method calls are not supported"});
  EXPECT_EQ(messages("obj:method()"), Strings{"t.cfg:1: method calls are not supported"});
  EXPECT_EQ(messages("x = a.b"),
            Strings{"t.cfg:1: indexing ('a.b') is not supported: write the value itself"});
  EXPECT_EQ(messages("x = a[1]"),
            Strings{"t.cfg:1: indexing ('a[...]') is not supported: write the value itself"});
  EXPECT_EQ(messages("x = ({ 1 })[1]"), Strings{"t.cfg:1: indexing is not supported"});
  EXPECT_EQ(messages("a.b = 1"),
            Strings{"t.cfg:1: indexing ('a.b') is not supported: option names are plain "
                    "identifiers"});
  EXPECT_EQ(messages("a[\"b\"] = 1"),
            Strings{"t.cfg:1: indexing ('a[...]') is not supported: option names are plain "
                    "identifiers"});
}

TEST(Parser, RefusesMultipleAssignment) {
  EXPECT_EQ(messages("a, b = 1, 2"),
            Strings{"t.cfg:1: assigning several options at once ('a, ...') is not supported"});
  EXPECT_EQ(messages("a = 1, 2"),
            Strings{"t.cfg:1: several values for one option ('a = a, b') are not supported: use "
                    "a table, { a, b }"});
}

TEST(Parser, MalformedStatements) {
  EXPECT_EQ(messages("x"), Strings{"t.cfg:1: expected '=' after 'x'"});
  EXPECT_EQ(messages("x 1"), Strings{"t.cfg:1: expected '=' after 'x'"});
  EXPECT_EQ(messages("\"x\" = 1"),
            Strings{"t.cfg:1: unexpected string, expected an option name or a section"});
  EXPECT_EQ(messages("42"),
            Strings{"t.cfg:1: unexpected number '42', expected an option name or a section"});
  EXPECT_EQ(messages("= 1"),
            Strings{"t.cfg:1: unexpected '=', expected an option name or a section"});
  EXPECT_EQ(messages("x ="), Strings{"t.cfg:1: unexpected end of file, expected a value"});
  EXPECT_EQ(messages("x = )"), Strings{"t.cfg:1: unexpected ')', expected a value"});
  EXPECT_EQ(messages("x = (1 + 2"),
            Strings{"t.cfg:1: expected ')' to close '(' at line 1, found end of file"});
}

TEST(Parser, MalformedTables) {
  EXPECT_EQ(messages("x = { \"a\",\n \"b\"\n"), Strings{"t.cfg:1: unterminated table"});
  // Reported where the table opens, however far away the file ends.
  EXPECT_EQ(messages("a = 1\nx = {\n  a = { 1 },\n  b = 2,\n\n"),
            Strings{"t.cfg:2: unterminated table"});
  EXPECT_EQ(
      messages("x = { \"a\" \"b\" }"),
      Strings{"t.cfg:1: expected ',', ';' or '}' in the table opened at line 1, found string"});
  EXPECT_EQ(messages("x = { [1] = \"a\" }"),
            Strings{"t.cfg:1: table keys must be strings, got an integer"});
  EXPECT_EQ(messages("x = { [\"a\" = 1 }"), Strings{"t.cfg:1: expected '] =' after a table key"});
  EXPECT_EQ(messages("x = { a = }"), Strings{"t.cfg:1: unexpected '}', expected a value"});
}

TEST(Parser, MalformedSections) {
  EXPECT_EQ(messages("VirtualHost example"),
            Strings{"t.cfg:1: VirtualHost expects a host name in quotes"});
  EXPECT_EQ(messages("Host = \"a\""), Strings{"t.cfg:1: Host expects a host name in quotes"});
  EXPECT_EQ(messages("VirtualHost(1)"),
            Strings{"t.cfg:1: VirtualHost expects a host name in quotes, got an integer"});
  EXPECT_EQ(messages("VirtualHost(\"a\""),
            Strings{"t.cfg:1: expected ')' after the argument of VirtualHost"});
  EXPECT_EQ(messages("Component \"c\" (2)"),
            Strings{"t.cfg:1: Component expects a module name in quotes, got an integer"});
  EXPECT_EQ(messages("Include"), Strings{"t.cfg:1: Include expects a file name in quotes"});
  EXPECT_EQ(messages("Include \"\""), Strings{"t.cfg:1: Include expects a file name, got \"\""});
  EXPECT_EQ(messages("VirtualHost \"a\" { enabled = true }"),
            Strings{"t.cfg:1: a table of options after VirtualHost is not supported: write the "
                    "options on the lines after the section header"});
}

TEST(Parser, ReportsSeveralErrorsInOneRun) {
  Parsed p = parse(
      "a = 1\n"
      "b = c\n"
      "local d = 2\n"
      "e = \"x\" .. \"y\"\n"
      "f = {\n  g = h;\n  i = 2;\n}\n"
      "j = @\n"
      "k = 3\n");
  EXPECT_EQ(p.messages,
            (Strings{"t.cfg:2: variables are not supported: write the value itself instead of 'c'",
                     "t.cfg:3: 'local' is not supported: the configuration is declarative (key = "
                     "value, sections and Include)",
                     "t.cfg:4: string concatenation '..' is not supported: write the whole string",
                     "t.cfg:6: variables are not supported: write the value itself instead of 'h'",
                     "t.cfg:9: unexpected character '@'"}));
  ASSERT_EQ(p.statements.size(), 2u);
  EXPECT_EQ(std::get<Assignment>(p.statements[0]).key, "a");
  EXPECT_EQ(std::get<Assignment>(p.statements[1]).key, "k");
}

TEST(Parser, RecoversAfterAMissingComma) {
  Parsed p = parse("x = {\n  \"a\"\n  \"b\"\n}\ny = 1");
  EXPECT_EQ(
      p.messages,
      Strings{"t.cfg:3: expected ',', ';' or '}' in the table opened at line 1, found string"});
  ASSERT_EQ(p.statements.size(), 1u);
  EXPECT_EQ(std::get<Assignment>(p.statements[0]).key, "y");
}

TEST(Parser, RecoversAfterAMissingBrace) {
  Parsed p = parse("x = { a = \"b\"\ny = 1\n");
  EXPECT_EQ(p.messages,
            Strings{"t.cfg:2: expected ',', ';' or '}' in the table opened at line 1, found 'y'"});
  ASSERT_EQ(p.statements.size(), 1u);
  EXPECT_EQ(std::get<Assignment>(p.statements[0]).key, "y");
}

TEST(Parser, LexerAndParserMessagesAreInLineOrder) {
  Parsed p = parse("a = b\nc = \"unterminated\nd = e\n");
  ASSERT_EQ(p.messages.size(), 3u);
  EXPECT_EQ(p.messages[0].substr(0, 8), "t.cfg:1:");
  EXPECT_EQ(p.messages[1], "t.cfg:2: unterminated string");
  EXPECT_EQ(p.messages[2].substr(0, 8), "t.cfg:3:");
}

}  // namespace
}  // namespace xmppd::config
