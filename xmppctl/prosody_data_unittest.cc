// The parser of Prosody's data files on what Prosody 0.12 writes and on what it must refuse,
// and the conversion of one user's files into xmppd's records.
#include "xmppctl/prosody_data.h"

#include <gtest/gtest.h>

#include <cmath>

#include "xmppctl/prosody_user.h"

namespace xmppd::prosody {
namespace {

// As Prosody 0.12's util.serialization writes an account of internal_hashed.
constexpr std::string_view kAccount = R"(return {
	["iteration_count"] = 10000;
	["server_key"] = "a91d5e6b4138fbcb663772bc3a8cb4349c7c8d12";
	["stored_key"] = "7b09a3936fa7732e3bb49286fe0461a0ff32347b";
	["salt"] = "a5bca20b-9aa5-4b27-b431-a3a22c3dacaf";
};
)";

TEST(ProsodyData, ReadsAnAccount) {
  std::string error;
  auto v = parse_dat("alice.dat", kAccount, error);
  ASSERT_TRUE(v) << error;
  ASSERT_TRUE(v->is_table());
  EXPECT_EQ(v->text("salt"), "a5bca20b-9aa5-4b27-b431-a3a22c3dacaf");
  ASSERT_NE(v->get("iteration_count"), nullptr);
  EXPECT_EQ(v->get("iteration_count")->number, 10000);
  EXPECT_EQ(v->get("iteration_count")->line, 2u);
}

TEST(ProsodyData, ReadsEscapesNumbersBooleansAndBooleanKeys) {
  std::string error;
  auto v = parse_dat("x.dat",
                     "return {\n[false] = { version = 3, pending = {} };\n"
                     "\"a\\\"b\\\\c\\n\\009\\255\\x41\"; 1.5e3; -2; (1/0); (0/0); true; false; nil;\n"
                     "['k'] = 'v'; name = \"n\" }",
                     error);
  ASSERT_TRUE(v) << error;
  ASSERT_NE(v->boolean_key(false), nullptr);
  EXPECT_EQ(v->boolean_key(false)->get("version")->number, 3);
  ASSERT_EQ(v->array.size(), 8u);
  EXPECT_EQ(v->array[0].string, std::string("a\"b\\c\n\t\xff"
                                            "A"));
  EXPECT_EQ(v->array[1].number, 1500);
  EXPECT_EQ(v->array[2].number, -2);
  EXPECT_TRUE(std::isinf(v->array[3].number));
  EXPECT_TRUE(std::isnan(v->array[4].number));
  EXPECT_TRUE(v->array[5].boolean);
  EXPECT_FALSE(v->array[6].boolean);
  EXPECT_TRUE(v->array[6].is_boolean());
  EXPECT_EQ(v->array[7].kind, Value::Kind::kNil);
  EXPECT_EQ(v->text("k"), "v");
  EXPECT_EQ(v->text("name"), "n");
  EXPECT_EQ(v->array[1].line, 3u);
}

TEST(ProsodyData, ReadsAList) {
  std::string error;
  auto items =
      parse_list("o.list", "item({ name = \"message\"; when = 1796455009 });\nitem({ [\"key\"] = \"b\" });\n", error);
  ASSERT_TRUE(items) << error;
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].text("name"), "message");
  EXPECT_EQ((*items)[1].text("key"), "b");
  auto empty = parse_list("e.list", "", error);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

std::string error_of(std::string_view text, const Limits& limits = {}) {
  std::string error;
  EXPECT_FALSE(parse_dat("bad.dat", text, error, limits)) << text;
  return error;
}

TEST(ProsodyData, RefusesWithFileAndLine) {
  EXPECT_EQ(error_of("return {\n  a = 1;\n  b = os.exit();\n}"), "bad.dat:3: unexpected character 'o'");
  EXPECT_EQ(error_of("x = 1"), "bad.dat:1: expected \"return\"");
  EXPECT_EQ(error_of("return {\n\"unfinished\n}"), "bad.dat:2: unfinished string");
  EXPECT_EQ(error_of("return { a = 1; a = 2 }"), "bad.dat:1: a key appears twice in a table");
  EXPECT_EQ(error_of("return {} extra"), "bad.dat:1: unexpected text after the value");
  EXPECT_EQ(error_of("return \"\\q\""), "bad.dat:1: unknown escape \\q in a string");
  EXPECT_EQ(error_of("return \"\\300\""), "bad.dat:1: escape \\300 is not a byte");
  EXPECT_EQ(error_of("return { [{}] = 1 }"), "bad.dat:1: a table key must be a string, number or boolean");
  EXPECT_EQ(error_of("return {\n\n"), "bad.dat:3: unexpected end of file");
  EXPECT_EQ(error_of("return function() end"), "bad.dat:1: unexpected character 'f'");
  EXPECT_EQ(error_of("return 12abc"), "bad.dat:1: malformed number");
  std::string error;
  EXPECT_FALSE(parse_list("bad.list", "item({});\nprint(1);\n", error));
  EXPECT_EQ(error, "bad.list:2: expected \"item(\"");
}

TEST(ProsodyData, Bounded) {
  Limits limits;
  limits.max_depth = 10;
  EXPECT_EQ(error_of("return " + std::string(11, '{') + std::string(11, '}'), limits),
            "bad.dat:1: tables nested deeper than 10");
  std::string error;
  EXPECT_TRUE(parse_dat("ok.dat", "return " + std::string(10, '{') + std::string(10, '}'), error, limits)) << error;
  limits.max_string_bytes = 4;
  EXPECT_EQ(error_of("return \"12345\"", limits), "bad.dat:1: a string longer than 4 bytes");
  limits = {};
  limits.max_values = 3;
  EXPECT_EQ(error_of("return {1, 2, 3}", limits), "bad.dat:1: more than 3 values");
  limits = {};
  limits.max_file_bytes = 8;
  EXPECT_EQ(error_of("return 123456", limits), "bad.dat:1: the file is larger than 8 bytes");
  // The default depth: deep nesting is refused, not a stack overflow.
  EXPECT_NE(error_of("return " + std::string(100000, '{')).find("nested deeper"), std::string::npos);
}

TEST(ProsodyData, PathEncoding) {
  EXPECT_EQ(encode_path_part("chat.test"), "chat%2etest");
  EXPECT_EQ(encode_path_part("a_b"), "a%5fb");
  EXPECT_EQ(encode_store_name("pep_urn:xmpp:nick"), "pep_urn%3axmpp%3anick");
  EXPECT_EQ(decode_path_part("chat%2etest"), "chat.test");
  EXPECT_FALSE(decode_path_part("bad%2"));
  EXPECT_FALSE(decode_path_part("bad%zz"));
}

}  // namespace
}  // namespace xmppd::prosody

namespace xmppd::ctl::prosody_import {
namespace {

RawUser files(std::initializer_list<std::tuple<std::string, std::string, bool>> list) {
  RawUser out;
  for (const auto& [store, bytes, is_list] : list) out[store] = RawFile{store + "/alice", bytes, is_list};
  return out;
}

TEST(ProsodyUser, ConvertsWhatProsodyWrote) {
  std::string error;
  auto data = convert_user(
      "alice", "chat.test",
      files({{"accounts", std::string(prosody::kAccount), false},
             {"roster",
              "return { [false] = { pending = { [\"bob@chat.test\"] = { name = \"presence\" } }; version = 5 };\n"
              "[\"bob@chat.test\"] = { name = \"Bobby\"; groups = { [\"Friends\"] = true }; subscription = \"to\" };\n"
              "[\"dave@chat.test\"] = { groups = {}; subscription = \"none\"; ask = \"subscribe\" } }",
              false},
             {"offline",
              "item({ { \"hi <there>\"; name = \"body\"; attr = {} }; attr = { stamp = \"2026-12-05T07:16:49Z\"; "
              "from = \"bob@chat.test/x\"; to = \"alice@chat.test\"; type = \"chat\" }; when = 1796455009; "
              "with = \"\"; key = \"k\"; name = \"message\" });",
              true},
             {"private",
              "return { [\"prefs:urn:example:prefs\"] = { \"tea & <cake>\"; name = \"prefs\"; "
              "attr = { xmlns = \"urn:example:prefs\"; colour = \"blue\" } } }",
              false},
             {"pep", "return { [\"http://jabber.org/protocol/nick\"] = { config = {}; name = \"n\" } }", false},
             {"pep_http://jabber.org/protocol/nick",
              "item({ \"Old\"; attr = { xmlns = \"http://jabber.org/protocol/nick\" }; key = \"current\"; "
              "name = \"nick\" });\nitem({ \"Alice\"; attr = { xmlns = \"http://jabber.org/protocol/nick\"; "
              "stamp = \"x\" }; key = \"current\"; name = \"nick\" });",
              true}}),
      error);
  ASSERT_TRUE(data) << error;
  ASSERT_TRUE(data->sha1);
  EXPECT_EQ(data->sha1->iterations, 10000u);
  EXPECT_EQ(data->sha1->stored_key.size(), 20u);
  ASSERT_EQ(data->roster.size(), 2u);
  EXPECT_EQ(data->roster[0].contact, "bob@chat.test");
  EXPECT_EQ(data->roster[0].name, "Bobby");
  EXPECT_EQ(data->roster[0].groups, std::vector<std::string>{"Friends"});
  EXPECT_TRUE(data->roster[1].ask);
  ASSERT_EQ(data->requests.size(), 1u);
  EXPECT_EQ(data->requests[0].first, "bob@chat.test");
  ASSERT_EQ(data->offline.size(), 1u);
  EXPECT_EQ(data->offline[0].when, 1796455009);
  EXPECT_NE(data->offline[0].stanza.find("hi &lt;there&gt;"), std::string::npos) << data->offline[0].stanza;
  EXPECT_NE(data->offline[0].stanza.find("stamp='2026-12-05T07:16:49Z'"), std::string::npos) << data->offline[0].stanza;
  ASSERT_EQ(data->private_elements.size(), 1u);
  EXPECT_EQ(std::get<0>(data->private_elements[0]), "urn:example:prefs");
  ASSERT_EQ(data->pep.size(), 1u);
  ASSERT_EQ(data->pep[0].items.size(), 1u);
  EXPECT_EQ(data->pep[0].items[0].first, "current");
  EXPECT_EQ(data->pep[0].items[0].second.find("stamp"), std::string::npos);
  EXPECT_NE(data->pep[0].items[0].second.find("Alice"), std::string::npos);
}

TEST(ProsodyUser, AMalformedFileRefusesTheUser) {
  std::string error;
  EXPECT_FALSE(
      convert_user("alice", "chat.test",
                   files({{"accounts", std::string(prosody::kAccount), false},
                          {"roster", "return {\n[\"bob@chat.test\"] = { subscription = \"sideways\" } }", false}}),
                   error));
  EXPECT_EQ(error, "roster/alice:2: subscription \"sideways\" is not none, to, from or both\n");
  EXPECT_FALSE(convert_user("alice", "chat.test", files({{"accounts", "return {\n  password = 12 }", false}}), error));
  EXPECT_NE(error.find("accounts/alice:1:"), std::string::npos) << error;
  EXPECT_FALSE(convert_user("alice", "chat.test",
                            files({{"accounts", std::string(prosody::kAccount), false},
                                   {"private", "return { x = { name = \"a b\" } }", false}}),
                            error));
  EXPECT_EQ(error, "private/alice:1: an element without a valid name\n");
}

}  // namespace
}  // namespace xmppd::ctl::prosody_import
