#include "config/lexer.h"

#include <gtest/gtest.h>

namespace xmppd::config {
namespace {

struct Lexed {
  std::vector<Token> tokens;
  std::vector<std::string> messages;
};

Lexed lex(std::string_view text) {
  Lexed out;
  std::vector<Diagnostic> diags;
  out.tokens = tokenize(text, "t.cfg", diags);
  for (const Diagnostic& d : diags) out.messages.push_back(d.str());
  return out;
}

// The single string token of text, which must lex cleanly.
std::string string_of(std::string_view text) {
  Lexed l = lex(text);
  EXPECT_TRUE(l.messages.empty()) << text << ": " << (l.messages.empty() ? "" : l.messages[0]);
  EXPECT_EQ(l.tokens.size(), 2u) << text;
  EXPECT_EQ(l.tokens[0].kind, TokenKind::kString) << text;
  return l.tokens[0].text;
}

TEST(Lexer, NamesKeywordsAndPunctuation) {
  Lexed l = lex("s2s_ports = { 1 } ; VirtualHost .. ... == ~= <= >= // :: << >> local");
  ASSERT_TRUE(l.messages.empty());
  std::vector<std::string> texts;
  for (const Token& t : l.tokens) texts.push_back(t.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"s2s_ports", "=", "{", "1", "}", ";", "VirtualHost",
                                             "..", "...", "==", "~=", "<=", ">=", "//", "::", "<<",
                                             ">>", "local", ""}));
  EXPECT_EQ(l.tokens[0].kind, TokenKind::kName);
  EXPECT_EQ(l.tokens[1].kind, TokenKind::kPunct);
  EXPECT_EQ(l.tokens.back().kind, TokenKind::kEnd);
  EXPECT_TRUE(is_lua_keyword("local"));
  EXPECT_FALSE(is_lua_keyword("VirtualHost"));
}

TEST(Lexer, Numbers) {
  Lexed l = lex("42 0x1F 0XfF 3.5 .5 5. 1e3 2E-1 1.5e+2 0x1p4 9223372036854775807");
  ASSERT_TRUE(l.messages.empty());
  EXPECT_EQ(l.tokens[0].kind, TokenKind::kInteger);
  EXPECT_EQ(l.tokens[0].integer, 42);
  EXPECT_EQ(l.tokens[1].integer, 31);
  EXPECT_EQ(l.tokens[2].integer, 255);
  EXPECT_EQ(l.tokens[3].kind, TokenKind::kFloat);
  EXPECT_DOUBLE_EQ(l.tokens[3].number, 3.5);
  EXPECT_DOUBLE_EQ(l.tokens[4].number, 0.5);
  EXPECT_DOUBLE_EQ(l.tokens[5].number, 5.0);
  EXPECT_DOUBLE_EQ(l.tokens[6].number, 1000.0);
  EXPECT_DOUBLE_EQ(l.tokens[7].number, 0.2);
  EXPECT_DOUBLE_EQ(l.tokens[8].number, 150.0);
  EXPECT_DOUBLE_EQ(l.tokens[9].number, 16.0);
  EXPECT_EQ(l.tokens[10].kind, TokenKind::kInteger);
  EXPECT_EQ(l.tokens[10].integer, 9223372036854775807);
}

TEST(Lexer, NumbersBeyondIntegersFollowLua) {
  Lexed l = lex("9223372036854775808 0xffffffffffffffff");
  ASSERT_TRUE(l.messages.empty());
  EXPECT_EQ(l.tokens[0].kind, TokenKind::kFloat);    // decimal overflow becomes a float
  EXPECT_EQ(l.tokens[1].kind, TokenKind::kInteger);  // hexadecimal wraps around
  EXPECT_EQ(l.tokens[1].integer, -1);
}

TEST(Lexer, MalformedNumbers) {
  EXPECT_EQ(lex("x = 3abc").messages, std::vector<std::string>{"t.cfg:1: malformed number '3abc'"});
  EXPECT_EQ(lex("1..2").messages, std::vector<std::string>{"t.cfg:1: malformed number '1..2'"});
  EXPECT_EQ(lex("0x").messages, std::vector<std::string>{"t.cfg:1: malformed number '0x'"});
  EXPECT_EQ(lex("\n1e").messages, std::vector<std::string>{"t.cfg:2: malformed number '1e'"});
  EXPECT_EQ(lex("1e").tokens[0].kind, TokenKind::kError);
}

TEST(Lexer, ShortStringEscapes) {
  EXPECT_EQ(string_of(R"("a\nb\tc\rd\\e\"f\'g")"), "a\nb\tc\rd\\e\"f'g");
  EXPECT_EQ(string_of(R"('\a\b\f\v')"), "\a\b\f\v");
}

TEST(Lexer, QuotesOfTheOtherKind) {
  EXPECT_EQ(string_of(R"("it's")"), "it's");
  EXPECT_EQ(string_of(R"('say "hi"')"), "say \"hi\"");
}

TEST(Lexer, NumericAndUnicodeEscapes) {
  EXPECT_EQ(string_of(R"("\65\066\0067")"),
            "AB\x06"
            "7");
  EXPECT_EQ(string_of(R"("\x41\x7a")"), "Az");
  EXPECT_EQ(string_of(R"("\u{41}\u{e9}\u{20AC}\u{1F600}")"),
            "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  EXPECT_EQ(string_of("\"\\0\"").size(), 1u);
}

TEST(Lexer, LineContinuationsInStrings) {
  EXPECT_EQ(string_of("\"a\\\nb\""), "a\nb");
  EXPECT_EQ(string_of("\"a\\z  \n\t  b\""), "ab");
  Lexed l = lex("\"a\\\nb\" x");
  EXPECT_EQ(l.tokens[0].line, 1);
  EXPECT_EQ(l.tokens[1].line, 2);
}

TEST(Lexer, LongStrings) {
  EXPECT_EQ(string_of("[[abc]]"), "abc");
  EXPECT_EQ(string_of("[[\nfirst newline dropped]]"), "first newline dropped");
  EXPECT_EQ(string_of("[[\r\nCRLF dropped too]]"), "CRLF dropped too");
  EXPECT_EQ(string_of("[==[a]]b]=]c]==]"), "a]]b]=]c");
  EXPECT_EQ(string_of("[=[x\r\ny]=]"), "x\ny");
  EXPECT_EQ(string_of("[[no \\n escapes]]"), "no \\n escapes");
  Lexed l = lex("[[a\nb\nc]] x");
  EXPECT_EQ(l.tokens[0].line, 1);
  EXPECT_EQ(l.tokens[1].line, 3);
}

TEST(Lexer, Comments) {
  Lexed l =
      lex("a -- line comment\n--[[ block\ncomment ]] b --[==[ ]] still\n]==] c\n--[ not long\nd");
  ASSERT_TRUE(l.messages.empty());
  ASSERT_EQ(l.tokens.size(), 5u);
  EXPECT_EQ(l.tokens[0].line, 1);
  EXPECT_EQ(l.tokens[1].text, "b");
  EXPECT_EQ(l.tokens[1].line, 3);
  EXPECT_EQ(l.tokens[2].text, "c");
  EXPECT_EQ(l.tokens[2].line, 4);
  EXPECT_EQ(l.tokens[3].text, "d");
  EXPECT_EQ(l.tokens[3].line, 6);
}

TEST(Lexer, LineEndings) {
  Lexed l = lex("a\r\nb\n\rc\rd");
  EXPECT_EQ(l.tokens[1].line, 2);
  EXPECT_EQ(l.tokens[2].line, 3);
  EXPECT_EQ(l.tokens[3].line, 4);
}

TEST(Lexer, StringErrors) {
  EXPECT_EQ(lex("x = \"abc").messages, std::vector<std::string>{"t.cfg:1: unterminated string"});
  EXPECT_EQ(lex("\nx = 'abc\ny = 1").messages,
            std::vector<std::string>{"t.cfg:2: unterminated string"});
  EXPECT_EQ(lex(R"("\q")").messages,
            std::vector<std::string>{"t.cfg:1: invalid escape sequence '\\q'"});
  EXPECT_EQ(lex("\"\\\x01\"").messages,
            std::vector<std::string>{
                "t.cfg:1: invalid escape sequence (backslash before a control character)"});
  EXPECT_EQ(
      lex(R"("\x4")").messages,
      std::vector<std::string>{"t.cfg:1: invalid escape '\\x': expected two hexadecimal digits"});
  EXPECT_EQ(lex(R"("\256")").messages,
            std::vector<std::string>{"t.cfg:1: decimal escape too large (256 > 255)"});
  EXPECT_EQ(lex(R"("\u41")").messages,
            std::vector<std::string>{
                "t.cfg:1: invalid escape '\\u': expected '{' and hexadecimal digits"});
  EXPECT_EQ(lex(R"("\u{41")").messages,
            std::vector<std::string>{"t.cfg:1: invalid escape '\\u': missing '}'"});
  EXPECT_EQ(
      lex(R"("\u{110000}")").messages,
      std::vector<std::string>{"t.cfg:1: UTF-8 escape out of range (maximum is \\u{10FFFF})"});
  EXPECT_EQ(
      lex(R"("\u{FFFFFFFFFFFF}")").messages,
      std::vector<std::string>{"t.cfg:1: UTF-8 escape out of range (maximum is \\u{10FFFF})"});
  EXPECT_EQ(lex(R"("\q")").tokens[0].kind, TokenKind::kError);
}

TEST(Lexer, OneBadEscapeGivesOneMessage) {
  Lexed l = lex(R"(a = "x\qy\w" b = 1)");
  EXPECT_EQ(l.messages, (std::vector<std::string>{"t.cfg:1: invalid escape sequence '\\q'",
                                                  "t.cfg:1: invalid escape sequence '\\w'"}));
  EXPECT_EQ(l.tokens[3].text, "b");  // the rest of the line is still read
}

TEST(Lexer, UnterminatedLongBrackets) {
  EXPECT_EQ(lex("x = [[abc\n\n").messages,
            std::vector<std::string>{"t.cfg:1: unterminated long string"});
  EXPECT_EQ(lex("x = [==[abc]]\n").messages,
            std::vector<std::string>{"t.cfg:1: unterminated long string"});
  EXPECT_EQ(lex("a = 1\n--[[ never closed\nb = 2\n").messages,
            std::vector<std::string>{"t.cfg:2: unterminated comment"});
}

TEST(Lexer, GarbageCharacters) {
  EXPECT_EQ(lex("x = @").messages, std::vector<std::string>{"t.cfg:1: unexpected character '@'"});
  EXPECT_EQ(lex("x = $1").messages, std::vector<std::string>{"t.cfg:1: unexpected character '$'"});
  EXPECT_EQ(lex(std::string("x = \0", 5)).messages,
            std::vector<std::string>{"t.cfg:1: unexpected byte 0x00"});
  EXPECT_EQ(
      lex("x = \xc3\xa9").messages,
      (std::vector<std::string>{"t.cfg:1: unexpected byte 0xc3", "t.cfg:1: unexpected byte 0xa9"}));
  EXPECT_EQ(lex("!").tokens[0].kind, TokenKind::kError);
}

}  // namespace
}  // namespace xmppd::config
