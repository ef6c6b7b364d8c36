#include "router/component_stanza.h"

#include <gtest/gtest.h>

#include "xmpp/namespaces.h"

namespace xmppd::router {
namespace {

using Verdict = ComponentStanza::Verdict;
constexpr char kDomain[] = "gateway.example.org";

xml::Element component_element(std::string_view text) {
  auto element = xml::parse_fragment(text, xmpp::kComponentNs, 1 << 16);
  EXPECT_TRUE(element.has_value()) << text;
  return element ? *element : xml::Element(xmpp::kComponentNs, "none");
}

ComponentStanza read(std::string_view text, std::size_t max_bytes = 1 << 16) {
  xml::FragmentParser reparser(xmpp::kClientNs);
  return read_component_stanza(component_element(text), kDomain, reparser, max_bytes);
}

// Review 19 finding 4: a handshake checked with a secret that is not the one the router
// knows now (a reload reached the helper later) must not connect.
TEST(AcceptedHandshake, OnlyWithTheSecretConfiguredNow) {
  const std::map<std::string, std::string, std::less<>> tags{{kDomain, "tag-new"}};
  EXPECT_EQ(accepted_handshake_refusal(tags, kDomain, "tag-new"), nullptr);
  EXPECT_STREQ(accepted_handshake_refusal(tags, kDomain, "tag-old"), "reset");
  EXPECT_STREQ(accepted_handshake_refusal(tags, kDomain, ""), "reset");
  EXPECT_STREQ(accepted_handshake_refusal(tags, "removed.example.org", "tag-new"), "host-unknown");
}

TEST(HandshakeDigest, FortyHexDigitsLowered) {
  EXPECT_EQ(handshake_digest("A984B871214A298F0F743FCD25F99B10838BA12B"), "a984b871214a298f0f743fcd25f99b10838ba12b");
  EXPECT_EQ(handshake_digest("a984b871214a298f0f743fcd25f99b10838ba12b"), "a984b871214a298f0f743fcd25f99b10838ba12b");
}

TEST(HandshakeDigest, AnythingElseIsRefused) {
  EXPECT_FALSE(handshake_digest(""));
  EXPECT_FALSE(handshake_digest("a984b871214a298f0f743fcd25f99b10838ba12"));
  EXPECT_FALSE(handshake_digest("a984b871214a298f0f743fcd25f99b10838ba12b0"));
  EXPECT_FALSE(handshake_digest(" a984b871214a298f0f743fcd25f99b10838ba12"));
  EXPECT_FALSE(handshake_digest("g984b871214a298f0f743fcd25f99b10838ba12b"));
  EXPECT_FALSE(handshake_digest(std::string_view("a984b871214a298f0f743fcd25f99b10838ba1\0b", 40)));
}

TEST(ComponentStanza, RoutedInJabberClient) {
  ComponentStanza r = read("<message from='bot@gateway.example.org/x' to='Alice@Example.org'><body>hi</body>"
                           "<x xmlns='urn:example'/></message>");
  ASSERT_EQ(r.verdict, Verdict::kRoute);
  EXPECT_EQ(r.stanza->ns(), xmpp::kClientNs);
  EXPECT_NE(r.stanza->child(xmpp::kClientNs, "body"), nullptr);
  EXPECT_NE(r.stanza->child("urn:example", "x"), nullptr);
  EXPECT_EQ(r.stanza->attribute_or("to"), "alice@example.org");
  EXPECT_EQ(r.stanza->attribute_or("from"), "bot@gateway.example.org/x");
  std::string out;
  r.stanza->serialize(out, xmpp::kClientNs);
  EXPECT_EQ(out, "<message from='bot@gateway.example.org/x' to='alice@example.org'><body>hi</body>"
                 "<x xmlns='urn:example'/></message>");
}

TEST(ComponentStanza, TheDomainItselfAndItsAddressesMaySend) {
  EXPECT_EQ(read("<iq type='get' id='1' from='gateway.example.org' to='example.org'/>").verdict, Verdict::kRoute);
  EXPECT_EQ(read("<presence from='GATEWAY.example.org/r' to='a@example.org'/>").verdict, Verdict::kRoute);
}

TEST(ComponentStanza, FromOutsideTheDomainIsInvalidFrom) {
  for (const char* text : {"<message to='a@example.org'/>", "<message from='' to='a@example.org'/>",
                           "<message from='x@sub.gateway.example.org' to='a@example.org'/>",
                           "<message from='x@example.org' to='a@example.org'/>",
                           "<message from='gateway.example.org.evil' to='a@example.org'/>",
                           "<message from='@gateway.example.org' to='a@example.org'/>"}) {
    ComponentStanza r = read(text);
    EXPECT_EQ(r.verdict, Verdict::kInvalidFrom) << text;
    EXPECT_FALSE(r.stanza) << text;
  }
}

TEST(ComponentStanza, MissingOrBadToIsAnswered) {
  ComponentStanza r = read("<iq type='get' id='1' from='gateway.example.org'/>");
  ASSERT_EQ(r.verdict, Verdict::kNoTo);
  EXPECT_EQ(r.from->full(), "gateway.example.org");
  ASSERT_TRUE(r.stanza);
  EXPECT_EQ(read("<iq type='get' id='1' from='gateway.example.org' to='a@b@c'/>").verdict, Verdict::kBadTo);
}

TEST(ComponentStanza, OnlyStanzasOfTheComponentNamespace) {
  EXPECT_EQ(read("<handshake>x</handshake>").verdict, Verdict::kNotAStanza);
  EXPECT_EQ(read("<message xmlns='jabber:client' from='gateway.example.org' to='a@example.org'/>").verdict,
            Verdict::kNotAStanza);
  EXPECT_EQ(read("<foo from='gateway.example.org' to='a@example.org'/>").verdict, Verdict::kNotAStanza);
}

TEST(ComponentStanza, SizeLimitHoldsOnceConverted) {
  EXPECT_EQ(read("<message from='gateway.example.org' to='a@example.org'><body>0123456789</body></message>", 40)
                .verdict,
            Verdict::kTooBig);
}

}  // namespace
}  // namespace xmppd::router
