// The parser of Prosody's data files on what Prosody 0.12 writes and on what it must refuse,
// and the conversion of one user's files into xmppd's records.
#include "xmppctl/prosody_data.h"

#include <gtest/gtest.h>

#include <cmath>

#include "router/modules/pep_node.h"
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
  auto account = convert_account(RawFile{"accounts/alice", std::string(prosody::kAccount), false}, error);
  ASSERT_TRUE(account) << error;
  ASSERT_TRUE(account->sha1);
  EXPECT_EQ(account->sha1->iterations, 10000u);
  EXPECT_EQ(account->sha1->stored_key.size(), 20u);
  std::string warnings;
  auto data = convert_data(
      "alice", "chat.test",
      files({{"roster",
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
      warnings);
  EXPECT_EQ(warnings, "");
  EXPECT_EQ(data.roster_version, 5);
  ASSERT_EQ(data.roster.size(), 2u);
  EXPECT_EQ(data.roster[0].contact, "bob@chat.test");
  EXPECT_EQ(data.roster[0].name, "Bobby");
  EXPECT_EQ(data.roster[0].groups, std::vector<std::string>{"Friends"});
  EXPECT_TRUE(data.roster[1].ask);
  ASSERT_EQ(data.requests.size(), 1u);
  EXPECT_EQ(data.requests[0].first, "bob@chat.test");
  ASSERT_EQ(data.offline.size(), 1u);
  EXPECT_EQ(data.offline[0].when, 1796455009);
  EXPECT_NE(data.offline[0].stanza.find("hi &lt;there&gt;"), std::string::npos) << data.offline[0].stanza;
  EXPECT_NE(data.offline[0].stanza.find("stamp='2026-12-05T07:16:49Z'"), std::string::npos) << data.offline[0].stanza;
  ASSERT_EQ(data.private_elements.size(), 1u);
  EXPECT_EQ(std::get<0>(data.private_elements[0]), "urn:example:prefs");
  ASSERT_EQ(data.pep.size(), 1u);
  ASSERT_EQ(data.pep[0].items.size(), 1u);
  EXPECT_EQ(data.pep[0].items[0].first, "current");
  EXPECT_EQ(data.pep[0].items[0].second.find("stamp"), std::string::npos);
  EXPECT_NE(data.pep[0].items[0].second.find("Alice"), std::string::npos);
}

TEST(ProsodyUser, AMalformedAccountIsRefused) {
  std::string error;
  EXPECT_FALSE(convert_account(RawFile{"accounts/alice", "return {\n  password = 12 }", false}, error));
  EXPECT_NE(error.find("accounts/alice:1:"), std::string::npos) << error;
  EXPECT_FALSE(convert_account(RawFile{"accounts/alice", "return {", false}, error));
  EXPECT_NE(error.find("accounts/alice:"), std::string::npos) << error;
}

// What others can put in a user's files skips that item, never the rest.
TEST(ProsodyUser, ABadItemIsSkippedWithAWarning) {
  std::string warnings;
  UserData data = convert_data(
      "alice", "chat.test",
      files({{"roster",
              "return {\n[\"bob@chat.test\"] = { subscription = \"sideways\" };\n"
              "[\"carol@chat.test\"] = { subscription = \"both\" } }",
              false},
             {"offline",
              "item({ attr = { [\"urn:x:evil\\1a\"] = \"v\"; from = \"eve@evil.test\"; type = \"chat\" }; "
              "when = 1796455009; name = \"message\" });\n"
              "item({ { \"ok\"; name = \"body\"; attr = {} }; attr = { from = \"bob@chat.test\" }; when = 1796455010; "
              "name = \"message\" });",
              true},
             {"private", "return { x = { name = \"a b\" } }", false}}),
      warnings);
  ASSERT_EQ(data.roster.size(), 1u);
  EXPECT_EQ(data.roster[0].contact, "carol@chat.test");
  ASSERT_EQ(data.offline.size(), 1u);
  EXPECT_NE(data.offline[0].stanza.find(">ok<"), std::string::npos) << data.offline[0].stanza;
  EXPECT_TRUE(data.private_elements.empty());
  EXPECT_NE(warnings.find("roster/alice:2: subscription \"sideways\""), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("offline/alice:1: an attribute in a foreign namespace"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("private/alice:1: an element without a valid name"), std::string::npos) << warnings;
  // A file that does not parse is skipped whole.
  data = convert_data("alice", "chat.test", files({{"roster", "return {", false}}), warnings);
  EXPECT_TRUE(data.roster.empty());
  EXPECT_NE(warnings.find("(the file is skipped)"), std::string::npos) << warnings;
}

TEST(ProsodyUser, PepAccessIsNarrowedNeverWidened) {
  std::string warnings;
  UserData data = convert_data("alice", "chat.test",
                               files({{"pep",
                                       "return { [\"urn:a\"] = { config = { access_model = \"roster\" } };\n"
                                       "[\"urn:b\"] = { config = { access_model = \"authorize\" } };\n"
                                       "[\"urn:c\"] = { config = { access_model = \"open\" } } }",
                                       false}}),
                               warnings);
  ASSERT_EQ(data.pep.size(), 3u);
  for (const PepNode& node : data.pep) {
    auto config = router::pep::NodeConfig::parse(node.config);
    ASSERT_TRUE(config) << node.config;
    EXPECT_EQ(config->access_model, node.node == "urn:c" ? "open" : "whitelist") << node.node;
  }
  EXPECT_NE(warnings.find("pep/alice:1: access_model \"roster\""), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("pep/alice:2: access_model \"authorize\""), std::string::npos) << warnings;
}

// Prosody's mod_vcard_legacy keeps the vCard in PEP: the vcard-temp answer it would give is
// built and stored, with the photo's hash the router computes.
constexpr std::string_view kVcardPep =
    "return { [\"urn:xmpp:vcard4\"] = { config = { access_model = \"open\" } };\n"
    "[\"urn:xmpp:avatar:metadata\"] = { config = { access_model = \"open\" } };\n"
    "[\"urn:xmpp:avatar:data\"] = { config = { access_model = \"open\" } } }";
constexpr std::string_view kVcard4Item =
    "item({ key = \"current\"; name = \"vcard\"; attr = { xmlns = \"urn:ietf:params:xml:ns:vcard-4.0\" };\n"
    "{ name = \"fn\"; attr = {}; { name = \"text\"; attr = {}; \"Alice Liddell\" } };\n"
    "{ name = \"n\"; attr = {}; { name = \"given\"; attr = {}; \"Alice\" } };\n"
    "{ name = \"nickname\"; attr = {}; { name = \"text\"; attr = {}; \"Ali\" } };\n"
    "{ name = \"email\"; attr = {}; { name = \"text\"; attr = {}; \"alice@example.org\" };\n"
    "  { name = \"parameters\"; attr = {}; { name = \"type\"; attr = {}; { name = \"text\"; attr = {}; \"work\" } } } };\n"
    "{ name = \"tel\"; attr = {}; { name = \"uri\"; attr = {}; \"tel:+1-555\" } };\n"
    "{ name = \"impp\"; attr = {}; { name = \"uri\"; attr = {}; \"xmpp:alice@chat.test\" } };\n"
    "{ name = \"org\"; attr = {}; { name = \"text\"; attr = {}; \"Wonderland\" } };\n"
    "{ name = \"url\"; attr = {}; { name = \"uri\"; attr = {}; \"https://example.org/\" } };\n"
    "{ name = \"bday\"; attr = {}; { name = \"date\"; attr = {}; \"1852-05-04\" } } });";
// "hello", whose SHA-1 is aaf4c6...
constexpr std::string_view kHash = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d";
std::string metadata_item(std::string_view id) {
  return "item({ key = \"" + std::string(id) + "\"; name = \"metadata\"; attr = { xmlns = \"urn:xmpp:avatar:metadata\" };"
         " { name = \"info\"; attr = { id = \"" + std::string(id) + "\"; bytes = \"5\"; type = \"image/png\" } } });";
}
std::string data_item(std::string_view id, std::string_view base64) {
  return "item({ key = \"" + std::string(id) + "\"; name = \"data\"; attr = { xmlns = \"urn:xmpp:avatar:data\" }; \"" +
         std::string(base64) + "\" });";
}

TEST(ProsodyUser, AVcardInPepBecomesTheVcardTempProsodyAnswers) {
  std::string warnings;
  UserData data = convert_data("alice", "chat.test",
                               files({{"pep", std::string(kVcardPep), false},
                                      {"pep_urn:xmpp:vcard4", std::string(kVcard4Item), true},
                                      {"pep_urn:xmpp:avatar:metadata", metadata_item(kHash), true},
                                      {"pep_urn:xmpp:avatar:data", data_item(kHash, "aGVs\\nbG8="), true}}),
                               warnings);
  EXPECT_EQ(warnings, "");
  ASSERT_TRUE(data.vcard);
  EXPECT_EQ(data.vcard_photo_hash, kHash);
  EXPECT_EQ(*data.vcard,
            "<vCard xmlns='vcard-temp'><FN>Alice Liddell</FN><N><FAMILY/><GIVEN>Alice</GIVEN><MIDDLE/><PREFIX/>"
            "<SUFFIX/></N><NICKNAME>Ali</NICKNAME><EMAIL><USERID>alice@example.org</USERID><INTERNET/><WORK/></EMAIL>"
            "<TEL><NUMBER>+1-555</NUMBER></TEL><JABBERID>alice@chat.test</JABBERID><ORG><ORGNAME>Wonderland</ORGNAME>"
            "</ORG><URL>https://example.org/</URL><BDAY>1852-05-04</BDAY><PHOTO><TYPE>image/png</TYPE>"
            "<BINVAL>aGVs\nbG8=</BINVAL></PHOTO></vCard>");
  EXPECT_EQ(data.pep.size(), 3u);  // the PEP nodes themselves are imported as they were
}

TEST(ProsodyUser, AnAvatarAloneGivesAVcardWithThePhoto) {
  std::string warnings;
  UserData data =
      convert_data("alice", "chat.test",
                   files({{"pep", std::string(kVcardPep), false},
                          {"pep_urn:xmpp:avatar:metadata", metadata_item("old") + "\n" + metadata_item(kHash), true},
                          {"pep_urn:xmpp:avatar:data", data_item(kHash, "aGVsbG8="), true}}),
                   warnings);
  EXPECT_EQ(warnings, "");
  ASSERT_TRUE(data.vcard);
  EXPECT_EQ(data.vcard_photo_hash, kHash);
  EXPECT_EQ(*data.vcard,
            "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>aGVsbG8=</BINVAL></PHOTO></vCard>");
}

TEST(ProsodyUser, TheVcardStoreWinsAndBadOrClosedNodesAreLeftOut) {
  std::string warnings;
  UserData kept = convert_data(
      "alice", "chat.test",
      files({{"vcard", "return { name = \"vCard\"; attr = { xmlns = \"vcard-temp\" }; { name = \"FN\"; attr = {}; \"Old\" } }",
              false},
             {"pep", std::string(kVcardPep), false},
             {"pep_urn:xmpp:vcard4", std::string(kVcard4Item), true}}),
      warnings);
  ASSERT_TRUE(kept.vcard);
  EXPECT_EQ(*kept.vcard, "<vCard xmlns='vcard-temp'><FN>Old</FN></vCard>");
  UserData bad = convert_data("alice", "chat.test",
                              files({{"pep", std::string(kVcardPep), false},
                                     {"pep_urn:xmpp:avatar:metadata", metadata_item(kHash), true},
                                     {"pep_urn:xmpp:avatar:data", data_item(kHash, "not base64!"), true}}),
                              warnings);
  ASSERT_TRUE(bad.vcard);
  EXPECT_EQ(*bad.vcard, "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE></PHOTO></vCard>");
  EXPECT_EQ(bad.vcard_photo_hash, "");
  EXPECT_NE(warnings.find("pep/alice: the avatar's data"), std::string::npos) << warnings;
  UserData none = convert_data("alice", "chat.test", files({{"pep", std::string(kVcardPep), false}}), warnings);
  EXPECT_FALSE(none.vcard);
  // A vCard4 only contacts could read stays out of vcard-temp, which anyone can read.
  warnings.clear();
  UserData closed = convert_data(
      "alice", "chat.test",
      files({{"pep", "return { [\"urn:xmpp:vcard4\"] = { config = { access_model = \"presence\" } } }", false},
             {"pep_urn:xmpp:vcard4", std::string(kVcard4Item), true}}),
      warnings);
  EXPECT_FALSE(closed.vcard);
  EXPECT_NE(warnings.find("pep/alice: node urn:xmpp:vcard4 is not open to anyone"), std::string::npos) << warnings;
}

}  // namespace
}  // namespace xmppd::ctl::prosody_import
