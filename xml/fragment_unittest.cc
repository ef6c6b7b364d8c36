// A single element from a string (xml/fragment.h): what the router reads from the s2s
// worker. Exactly one element, nothing around it, the stream's restrictions and limits.
#include "xml/fragment.h"

#include <gtest/gtest.h>

#include <string>

#include "xml/element_test_util.h"
#include "xml/stream_parser.h"

namespace xmppd::xml {
namespace {

constexpr std::string_view kClientNs = "jabber:client";
constexpr std::size_t kLimit = 4096;

using testing::attr;
using testing::child_text;
using testing::dump;

std::string why_not(std::string_view text, std::size_t limit = kLimit) {
  std::string error;
  auto element = parse_fragment(text, kClientNs, limit, &error);
  EXPECT_FALSE(element.has_value()) << dump(*element);
  EXPECT_FALSE(error.empty());
  return error;
}

TEST(ParseFragment, ElementTakesTheDefaultNamespace) {
  auto e = parse_fragment(
      "<message from='a@remote.example/r' to='b@local.example' type='chat'>"
      "<body>hi &amp; bye</body></message>",
      kClientNs, kLimit);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->ns(), kClientNs);
  EXPECT_EQ(e->name(), "message");
  EXPECT_EQ(attr(*e, "from"), "a@remote.example/r");
  EXPECT_EQ(attr(*e, "type"), "chat");
  EXPECT_EQ(child_text(*e, kClientNs, "body"), "hi & bye");
}

TEST(ParseFragment, ExplicitNamespacesAreKept) {
  auto e = parse_fragment("<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>", kClientNs, kLimit);
  ASSERT_TRUE(e.has_value());
  ASSERT_EQ(e->children().size(), 1u);
  EXPECT_TRUE(e->children().front()->is("urn:xmpp:ping", "ping"));
  auto server = parse_fragment("<message xmlns='jabber:server'/>", kClientNs, kLimit);
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(server->ns(), "jabber:server");
}

TEST(ParseFragment, SerializedElementRoundTrips) {
  Element original(std::string(kClientNs), "presence");
  original.set_attribute("from", "x@y.example/<&'\">");
  Element status(std::string(kClientNs), "status");
  status.add_text("line one\nline two\r");
  original.add_child(std::move(status));
  std::string text;
  original.serialize(text, kClientNs);
  auto parsed = parse_fragment(text, kClientNs, kLimit);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(dump(*parsed), dump(original));
}

TEST(ParseFragment, MalformedIsRefused) {
  why_not("<message><body>hi</message>");
  why_not("<message");
  why_not("<message><body>");
  why_not("<message>&undefined;</message>");
  why_not("<unbound:message/>");
  why_not("");
}

TEST(ParseFragment, RestrictedXmlIsRefused) {
  why_not("<?xml version='1.0'?><message/>");
  why_not("<message><!-- hidden --></message>");
  why_not("<message><?pi data?></message>");
  why_not("<!DOCTYPE message><message/>");
}

TEST(ParseFragment, OversizedIsRefused) {
  std::string big = "<message><body>" + std::string(kLimit, 'x') + "</body></message>";
  EXPECT_NE(why_not(big).find("bytes"), std::string::npos);
  // The limit is for the element alone: exactly at it passes.
  std::string exact = "<message><body>" + std::string(100, 'x') + "</body></message>";
  EXPECT_TRUE(parse_fragment(exact, kClientNs, exact.size()).has_value());
  why_not(exact, exact.size() - 1);
  // A small limit still admits a small element (the wrapper does not count).
  EXPECT_TRUE(parse_fragment("<a/>", kClientNs, 4).has_value());
}

std::string nested(std::size_t levels) {
  std::string text;
  for (std::size_t i = 0; i < levels; ++i) text += "<a>";
  for (std::size_t i = 0; i < levels; ++i) text += "</a>";
  return text;
}

TEST(ParseFragment, TooDeepIsRefused) {
  why_not(nested(40));
}

// What a stream accepted must pass the IPC link: the fragment parser counts depth as the
// stream parser does with its default limits, the top-level element included.
TEST(ParseFragment, DepthCountedAsTheStreamParserCountsIt) {
  std::size_t max_depth = ParserLimits{kLimit}.max_depth;
  EXPECT_TRUE(parse_fragment(nested(max_depth), kClientNs, kLimit).has_value());
  EXPECT_NE(why_not(nested(max_depth + 1)).find("deep"), std::string::npos);
}

TEST(ParseFragment, TwoElementsAreRefused) {
  EXPECT_EQ(why_not("<message/><message/>"), "more than one element");
  why_not("<message/><presence>");
}

TEST(ParseFragment, TextOutsideTheElementIsRefused) {
  why_not("hello<message/>");
  why_not("<message/>hello");
  // Even whitespace: the sender serializes one element and nothing else.
  EXPECT_EQ(why_not(" <message/>"), "text outside the element");
  EXPECT_EQ(why_not("<message/>\n"), "text outside the element");
  why_not("just text");
}

TEST(ParseFragment, TheWrapperCannotBeClosedFromInside) {
  why_not("<message/></xmppd-fragment:stream>");
  why_not("<message/></xmppd-fragment:stream><presence/>");
  why_not("</xmppd-fragment:stream>");
  // An element of the wrapper's name that the footer would close is not complete either.
  why_not("<xmppd-fragment:stream>");
}

// One parser for a whole run of elements, as a link uses it: each is judged on its own, and
// a refused one, whatever state it left expat in, does not touch the next.
TEST(FragmentParser, ManyElementsInARowEachOnItsOwn) {
  FragmentParser parser(kClientNs);
  for (int i = 0; i < 3000; ++i) {  // past the stream parser's renewal of expat
    std::string text = "<message id='" + std::to_string(i) + "'><body>" + std::string(40, 'x') + "</body></message>";
    auto e = parser.parse(text, kLimit);
    ASSERT_TRUE(e.has_value()) << i;
    EXPECT_EQ(attr(*e, "id"), std::to_string(i));
    EXPECT_EQ(e->ns(), kClientNs);
  }
  std::string error;
  for (std::string_view bad : {"<message><body>", "<message", "<a xmlns:x='urn:x'>", "<message/><presence/>",
                               "</xmppd-fragment:stream>", "<message/></xmppd-fragment:stream>", "text",
                               "<message>&undefined;</message>"}) {
    EXPECT_FALSE(parser.parse(bad, kLimit, &error).has_value()) << bad;
    EXPECT_FALSE(error.empty()) << bad;
    auto next = parser.parse("<presence/>", kLimit);
    ASSERT_TRUE(next.has_value()) << "after " << bad;
    EXPECT_TRUE(next->is(kClientNs, "presence"));
  }
  // A prefix declared in one element is not in scope in the next.
  ASSERT_TRUE(parser.parse("<message xmlns:x='urn:x'><x:y/></message>", kLimit).has_value());
  EXPECT_FALSE(parser.parse("<message><x:y/></message>", kLimit).has_value());
  // Each call has its own limit.
  std::string big = "<message><body>" + std::string(kLimit, 'x') + "</body></message>";
  EXPECT_FALSE(parser.parse(big, kLimit).has_value());
  EXPECT_TRUE(parser.parse(big, big.size()).has_value());
}

// A process that only checks gets the element without its content, and the content is
// held to the same rules all the same.
TEST(FragmentParser, TopOnlyKeepsTheElementAndChecksTheContent) {
  FragmentParser parser(kClientNs, FragmentParser::Content::kTopOnly);
  auto e = parser.parse("<message to='b@x.example' type='chat'><body>hi</body><x xmlns='urn:x'><y/></x></message>",
                        kLimit);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->is(kClientNs, "message"));
  EXPECT_EQ(attr(*e, "to"), "b@x.example");
  EXPECT_TRUE(e->children().empty());
  EXPECT_EQ(e->text(), "");
  std::string deep = "<message>";
  for (int i = 0; i < 40; ++i) deep += "<a>";
  for (int i = 0; i < 40; ++i) deep += "</a>";
  deep += "</message>";
  for (const std::string& bad : {std::string("<message><body><!-- no --></body></message>"),
                                 std::string("<message><body>&undefined;</body></message>"),
                                 std::string("<message><body></message>"), std::string("<message><x:y/></message>"),
                                 std::string("<message><body><?pi x?></body></message>"), deep,
                                 "<message><body>" + std::string(kLimit, 'x') + "</body></message>"}) {
    EXPECT_FALSE(parser.parse(bad, kLimit).has_value()) << bad.substr(0, 80);
    EXPECT_TRUE(parser.parse("<presence/>", kLimit).has_value()) << "after " << bad.substr(0, 80);
  }
}

}  // namespace
}  // namespace xmppd::xml
