// Element: attribute and child lookup, text, and serialization as stanzas are forwarded (the
// minimal escaping, namespaces written only where they change, xml:lang kept, other
// namespaced attributes dropped), and a parse → serialize → parse round trip.
#include "xml/element.h"
#include "xml/element_test_util.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xml/stream_parser.h"

namespace xmppd::xml {
namespace {

constexpr std::string_view kXmlLang = "http://www.w3.org/XML/1998/namespace lang";

std::string serialized(const Element& e, std::string_view default_ns = {}) {
  std::string out;
  e.serialize(out, default_ns);
  return out;
}

using testing::attr;
using testing::child_text;
using testing::dump;

using Attributes = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------------------
// Attributes

TEST(ElementAttributes, LookupByNameAndNamespacedName) {
  Element e("jabber:client", "message");
  e.set_attribute("to", "romeo@example.net");
  e.set_attribute("type", "chat");
  e.set_attribute(std::string(kXmlLang), "en");
  e.set_attribute("urn:ext hint", "x");
  ASSERT_NE(e.attribute("to"), nullptr);
  EXPECT_EQ(*e.attribute("to"), "romeo@example.net");
  ASSERT_NE(e.attribute("type"), nullptr);
  EXPECT_EQ(*e.attribute("type"), "chat");
  ASSERT_NE(e.attribute(kXmlLang), nullptr);
  EXPECT_EQ(*e.attribute(kXmlLang), "en");
  EXPECT_EQ(attr(e, "urn:ext hint"), "x");
  EXPECT_EQ(e.attribute("from"), nullptr);
  EXPECT_EQ(e.attribute("lang"), nullptr);
  EXPECT_EQ(e.attribute("hint"), nullptr);
  EXPECT_EQ(e.attribute("TO"), nullptr);
  EXPECT_EQ(e.attribute(""), nullptr);
  EXPECT_EQ(e.attributes(),
            (Attributes{
                {"to", "romeo@example.net"}, {"type", "chat"}, {std::string(kXmlLang), "en"}, {"urn:ext hint", "x"}}));
}

TEST(ElementAttributes, EmptyValueIsPresent) {
  Element e("", "x");
  e.set_attribute("id", "");
  ASSERT_NE(e.attribute("id"), nullptr);
  EXPECT_EQ(*e.attribute("id"), "");
}

TEST(ElementAttributes, SetAttributeReplacesInPlace) {
  Element e("jabber:client", "iq");
  e.set_attribute("id", "1");
  e.set_attribute("type", "get");
  e.set_attribute("to", "a@b");
  e.set_attribute("type", "result");
  EXPECT_EQ(e.attributes(), (Attributes{{"id", "1"}, {"type", "result"}, {"to", "a@b"}}));
  e.set_attribute("from", "c@d");
  EXPECT_EQ(e.attributes(), (Attributes{{"id", "1"}, {"type", "result"}, {"to", "a@b"}, {"from", "c@d"}}));
  e.set_attribute("id", "");
  EXPECT_EQ(attr(e, "id"), "");
  EXPECT_EQ(e.attributes().size(), 4u);
}

// ---------------------------------------------------------------------------------------
// Children and text

TEST(ElementChildren, LookupByNamespaceAndName) {
  Element iq("jabber:client", "iq");
  iq.add_child(Element("urn:a", "query")).set_attribute("which", "a");
  iq.add_child(Element("urn:b", "query")).set_attribute("which", "b");
  iq.add_child(Element("urn:a", "item"));
  iq.add_child(Element("urn:a", "query")).set_attribute("which", "second a");
  ASSERT_NE(iq.child("urn:a", "query"), nullptr);
  EXPECT_EQ(attr(*iq.child("urn:a", "query"), "which"), "a");  // the first match
  ASSERT_NE(iq.child("urn:b", "query"), nullptr);
  EXPECT_EQ(attr(*iq.child("urn:b", "query"), "which"), "b");
  EXPECT_NE(iq.child("urn:a", "item"), nullptr);
  EXPECT_EQ(iq.child("urn:b", "item"), nullptr);
  EXPECT_EQ(iq.child("urn:c", "query"), nullptr);
  EXPECT_EQ(iq.child("jabber:client", "query"), nullptr);
  EXPECT_EQ(iq.child("", "query"), nullptr);
  EXPECT_EQ(iq.child("urn:a", "Query"), nullptr);
}

TEST(ElementChildren, LookupIsNotRecursive) {
  Element outer("jabber:client", "message");
  Element middle("urn:x", "x");
  middle.add_child(Element("urn:y", "y"));
  outer.add_child(std::move(middle));
  EXPECT_NE(outer.child("urn:x", "x"), nullptr);
  EXPECT_EQ(outer.child("urn:y", "y"), nullptr);
  EXPECT_NE(outer.child("urn:x", "x")->child("urn:y", "y"), nullptr);
}

TEST(ElementChildren, ChildrenInOrderWithoutText) {
  Element e("jabber:client", "message");
  e.add_text("lead ");
  e.add_child(Element("jabber:client", "subject"));
  e.add_text("between");
  e.add_child(Element("jabber:client", "body"));
  e.add_child(Element("urn:x", "x"));
  e.add_text("tail");
  std::vector<const Element*> children = e.children();
  ASSERT_EQ(children.size(), 3u);
  EXPECT_TRUE(children[0]->is("jabber:client", "subject"));
  EXPECT_TRUE(children[1]->is("jabber:client", "body"));
  EXPECT_TRUE(children[2]->is("urn:x", "x"));
  EXPECT_TRUE(Element("", "empty").children().empty());
}

TEST(ElementChildren, AddChildReturnsTheStoredChild) {
  Element e("jabber:client", "message");
  Element& body = e.add_child(Element("jabber:client", "body"));
  body.add_text("hello");
  body.set_attribute("k", "v");
  const Element* found = e.child("jabber:client", "body");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->text(), "hello");
  EXPECT_EQ(attr(*found, "k"), "v");
}

TEST(ElementText, ConcatenatesOwnTextOnly) {
  Element e("jabber:client", "body");
  EXPECT_EQ(e.text(), "");
  e.add_text("Hel");
  e.add_text("lo");
  Element b("urn:x", "b");
  b.add_text("NOT MINE");
  e.add_child(std::move(b));
  e.add_text(", ");
  e.add_text("");
  e.add_child(Element("urn:x", "br"));
  e.add_text("world");
  EXPECT_EQ(e.text(), "Hello, world");
  EXPECT_EQ(child_text(e, "urn:x", "b"), "NOT MINE");
  EXPECT_EQ(serialized(e),
            "<body xmlns='jabber:client'>Hello<b xmlns='urn:x'>NOT MINE</b>, <br xmlns='urn:x'/>world</body>");
}

TEST(ElementBasics, NameNamespaceAndIs) {
  Element e("urn:ietf:params:xml:ns:xmpp-tls", "starttls");
  EXPECT_EQ(e.ns(), "urn:ietf:params:xml:ns:xmpp-tls");
  EXPECT_EQ(e.name(), "starttls");
  EXPECT_TRUE(e.is("urn:ietf:params:xml:ns:xmpp-tls", "starttls"));
  EXPECT_FALSE(e.is("urn:ietf:params:xml:ns:xmpp-sasl", "starttls"));
  EXPECT_FALSE(e.is("urn:ietf:params:xml:ns:xmpp-tls", "proceed"));
  EXPECT_FALSE(e.is("", "starttls"));
}

// ---------------------------------------------------------------------------------------
// Serialization

TEST(ElementSerialize, EmptyElementIsSelfClosing) {
  EXPECT_EQ(serialized(Element("jabber:client", "presence")), "<presence xmlns='jabber:client'/>");
  EXPECT_EQ(serialized(Element("jabber:client", "presence"), "jabber:client"), "<presence/>");
  Element with_attributes("jabber:client", "presence");
  with_attributes.set_attribute("type", "unavailable");
  EXPECT_EQ(serialized(with_attributes, "jabber:client"), "<presence type='unavailable'/>");
  EXPECT_EQ(serialized(Element("", "x")), "<x/>");
  Element outer("jabber:client", "iq");
  outer.add_child(Element("urn:xmpp:ping", "ping"));
  EXPECT_EQ(serialized(outer, "jabber:client"), "<iq><ping xmlns='urn:xmpp:ping'/></iq>");
}

// RFC 7395's stream-level elements: the namespace bound to the prefix, none in scope below.
TEST(ElementSerialize, PrefixedBindsThePrefixAndLeavesChildrenTheirOwnNamespace) {
  const std::string streams = "http://etherx.jabber.org/streams";
  std::string out;
  Element(streams, "features").serialize_prefixed(out, "stream");
  EXPECT_EQ(out, "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>");
  Element error(streams, "error", {{"id", "a'b"}});
  error.add_child(Element("urn:ietf:params:xml:ns:xmpp-streams", "conflict"));
  error.add_child(Element(streams, "x")).add_text("<t>");
  out.clear();
  error.serialize_prefixed(out, "stream");
  EXPECT_EQ(out,
            "<stream:error xmlns:stream='http://etherx.jabber.org/streams' id='a&apos;b'>"
            "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
            "<x xmlns='http://etherx.jabber.org/streams'>&lt;t&gt;</x></stream:error>");
}

TEST(ElementSerialize, TextEscapesAmpersandAndAngleBracketsOnly) {
  Element e("jabber:client", "body");
  e.add_text("a & b < c > d ' e \" f &amp; ]]>");
  EXPECT_EQ(serialized(e, "jabber:client"), "<body>a &amp; b &lt; c &gt; d ' e \" f &amp;amp; ]]&gt;</body>");
}

TEST(ElementSerialize, AttributeValuesEscapeQuotesToo) {
  Element e("jabber:client", "message");
  e.set_attribute("to", "a&b<c>d'e\"f");
  EXPECT_EQ(serialized(e, "jabber:client"), "<message to='a&amp;b&lt;c&gt;d&apos;e&quot;f'/>");
}

TEST(ElementSerialize, EscapeFunction) {
  std::string out = "keep:";
  escape(out, "<&>'\"x\xC3\xA9", false);
  EXPECT_EQ(out, "keep:&lt;&amp;&gt;'\"x\xC3\xA9");
  out.clear();
  escape(out, "<&>'\"x\xC3\xA9", true);
  EXPECT_EQ(out, "&lt;&amp;&gt;&apos;&quot;x\xC3\xA9");
  out.clear();
  escape(out, "", true);
  EXPECT_EQ(out, "");
  // Whitespace a reader would normalise, at the ends of a run and between plain bytes.
  out.clear();
  escape(out, "\ra b\tc\nd\r", false);
  EXPECT_EQ(out, "&#13;a b\tc\nd&#13;");
  out.clear();
  escape(out, "\ra b\tc\nd\r", true);
  EXPECT_EQ(out, "&#13;a b&#9;c&#10;d&#13;");
  out.clear();
  escape(out, "plain text without anything to replace", true);
  EXPECT_EQ(out, "plain text without anything to replace");
}

TEST(ElementSerialize, NamespaceWrittenOnlyWhereItChanges) {
  Element message("jabber:client", "message");
  message.set_attribute("to", "a@b");
  message.add_child(Element("jabber:client", "body")).add_text("hi");
  Element& x = message.add_child(Element("jabber:x:data", "x"));
  x.add_child(Element("jabber:x:data", "field")).add_child(Element("jabber:x:data", "value")).add_text("1");
  x.add_child(Element("jabber:client", "back"));  // back to the outer namespace: must be written
  message.add_child(Element("", "nons"));         // no namespace inside a namespaced parent
  const std::string inner =
      "<body>hi</body><x xmlns='jabber:x:data'><field><value>1</value></field><back xmlns='jabber:client'/></x>"
      "<nons xmlns=''/></message>";
  EXPECT_EQ(serialized(message, "jabber:client"), "<message to='a@b'>" + inner);
  EXPECT_EQ(serialized(message), "<message xmlns='jabber:client' to='a@b'>" + inner);
  EXPECT_EQ(serialized(message, "jabber:server"), "<message xmlns='jabber:client' to='a@b'>" + inner);
}

TEST(ElementSerialize, NamespaceValueIsEscaped) {
  EXPECT_EQ(serialized(Element("urn:a'b&c", "x")), "<x xmlns='urn:a&apos;b&amp;c'/>");
}

TEST(ElementSerialize, XmlLangIsWrittenBackOtherNamespacedAttributesDropped) {
  Element e("jabber:client", "message");
  e.set_attribute("to", "a@b");
  e.set_attribute(std::string(kXmlLang), "en-GB");
  e.set_attribute("urn:ext hint", "dropped");
  e.set_attribute("http://www.w3.org/XML/1998/namespace space", "preserve");
  e.set_attribute("type", "chat");
  EXPECT_EQ(serialized(e, "jabber:client"), "<message to='a@b' xml:lang='en-GB' xml:space='preserve' type='chat'/>");
}

TEST(ElementSerialize, AppendsToOutput) {
  std::string out = "<prefix>";
  Element("jabber:client", "presence").serialize(out, "jabber:client");
  EXPECT_EQ(out, "<prefix><presence/>");
}

// ---------------------------------------------------------------------------------------
// parse → serialize → parse

struct Collector : StreamParser::Handler {
  std::vector<Element> elements;
  void stream_opened(const Element&) override {}
  void element(Element element, std::size_t) override { elements.push_back(std::move(element)); }
  void stream_closed() override {}
};

constexpr std::string_view kHeader =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.org' "
    "version='1.0'>";

std::vector<Element> parse(std::string_view elements) {
  Collector c;
  StreamParser parser(c, ParserLimits{1024 * 1024});
  EXPECT_TRUE(parser.feed(std::string(kHeader) + std::string(elements))) << parser.error_text() << " in " << elements;
  return std::move(c.elements);
}

// Parses, serializes the way the server forwards (default namespace jabber:client), parses
// that again; the trees must match and the second serialization must equal the first.
void expect_round_trip(std::string_view wire) {
  std::vector<Element> first = parse(wire);
  ASSERT_FALSE(first.empty()) << wire;
  std::string again;
  for (const Element& e : first) e.serialize(again, "jabber:client");
  std::vector<Element> second = parse(again);
  ASSERT_EQ(second.size(), first.size()) << again;
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(dump(second[i]), dump(first[i])) << wire << "\n  serialized as " << again;
    EXPECT_EQ(serialized(second[i], "jabber:client"), serialized(first[i], "jabber:client"));
  }
}

TEST(ElementRoundTrip, ParseSerializeParseGivesTheSameTree) {
  expect_round_trip(
      "<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat' xml:lang='en' "
      "id='a&amp;b&lt;&gt;&apos;&quot;'>"
      "<body>Wherefore &amp; &lt;why&gt; 'art' \"thou\" ]]&gt; \xE2\x82\xAC&#x1F600;&#xe9;</body>"
      "<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>"
      "<p>One <strong>two</strong> three</p><p/></body></html>"
      "<thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread>"
      "<x xmlns='jabber:x:data' type='form'><field var='a' label='x&apos;y'><value>1</value></field></x>"
      "tail text<![CDATA[<cdata & stuff>]]>"
      "</message>"
      "<iq type='result' id='r'><query xmlns='jabber:iq:roster' ver='v1'><item jid='a@b' name='A &amp; B'>"
      "<group>G</group></item><item jid='c@d'/></query></iq>"
      "<presence><show>away</show><status xml:lang='de'>Gr\xC3\xBC\xC3\x9F"
      "e</status>"
      "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>"
      "</presence>"
      "<db:result xmlns:db='jabber:server:dialback' from='a' to='b'>key</db:result>"
      "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
      "<message><body>  leading and trailing spaces  </body><x xmlns=''><y/></x></message>");
}

TEST(ElementRoundTrip, NamespacedAttributesOtherThanXmlLangDoNotSurvive) {
  std::vector<Element> parsed = parse("<message xmlns:e='urn:ext' e:hint='x' xml:lang='en' to='a'/>");
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0].attributes().size(), 3u);
  std::string out;
  parsed[0].serialize(out, "jabber:client");
  EXPECT_EQ(out, "<message xml:lang='en' to='a'/>");
}

// Characters that XML would normalise when re-read: CR in text becomes LF, tab/CR/LF in an
// attribute value become spaces, unless written as character references.
TEST(ElementRoundTrip, WhitespaceCharacterReferencesSurvive) {
  expect_round_trip("<message to='a&#9;b&#10;c&#13;d'><body>line&#13;\nnext&#13;</body></message>");
}

}  // namespace
}  // namespace xmppd::xml
