#include "s2s-worker/dialback_xml.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "xml/fragment.h"
#include "xmpp/namespaces.h"

namespace xmppd::s2s {
namespace {

// A dialback element as the peer's stream gives it: the prefix bound as a stream header does.
xml::Element parse(const std::string& body) {
  std::string text = body;
  text.insert(text.find(' '), " xmlns:db='jabber:server:dialback'");
  std::string error;
  auto e = xml::parse_fragment(text, xmpp::kServerNs, 4096, &error);
  EXPECT_TRUE(e.has_value()) << error << ": " << text;
  return e ? *e : xml::Element(xmpp::kServerNs, "none");
}

TEST(DialbackXml, FieldsArePreparedAndTrimmed) {
  DialbackFields f =
      dialback_fields(parse("<db:verify from='A.Example' to='b.example' id='s&amp;1'>\n\t abc \r\n</db:verify>"));
  EXPECT_EQ(f.remote, "a.example");
  EXPECT_EQ(f.local, "b.example");
  EXPECT_EQ(f.id, "s&1");
  EXPECT_EQ(f.key, "abc");
}

TEST(DialbackXml, InvalidDomainsReadAsEmpty) {
  DialbackFields f = dialback_fields(parse("<db:result from='a b' to=''>k</db:result>"));
  EXPECT_EQ(f.remote, "");
  EXPECT_EQ(f.local, "");
  EXPECT_EQ(f.key, "k");
}

TEST(DialbackXml, OnlyWhitespaceIsTrimmed) {
  EXPECT_EQ(trim_xml_space(" \t\r\n"), "");
  EXPECT_EQ(trim_xml_space("\va\f"), "\va\f");
  EXPECT_EQ(trim_xml_space(" a b "), "a b");
}

// What the worker sends reads back as what it meant, whatever the peer put in the id and key
// (the fuzz target fuzz/dialback_fuzzer.cc checks this on any input).
TEST(DialbackXml, AnswerReadsBackAsBuilt) {
  std::string id = "x'\"<&>\t\r\ny";
  std::string key = "k<&>'\"\rz";
  xml::Element e = parse(dialback_element("verify", "b.example", "a.example", id, "valid", key));
  DialbackFields f = dialback_fields(e);
  EXPECT_EQ(f.remote, "b.example");
  EXPECT_EQ(f.local, "a.example");
  EXPECT_EQ(f.id, id);
  EXPECT_EQ(f.key, key);
  EXPECT_EQ(e.attribute_or("type"), "valid");
}

TEST(DialbackXml, ErrorAnswerCarriesItsCondition) {
  xml::Element e = parse(dialback_error("result", "b.example", "a.example", {}, "cancel", "item-not-found", "a <b>"));
  const xml::Element* error = e.child(xmpp::kServerNs, "error");
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->attribute_or("type"), "cancel");
  EXPECT_NE(error->child(xmpp::kStanzaErrorNs, "item-not-found"), nullptr);
  const xml::Element* text = error->child(xmpp::kStanzaErrorNs, "text");
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->text(), "a <b>");
  EXPECT_EQ(e.attribute_or("type"), "error");
}

}  // namespace
}  // namespace xmppd::s2s
