#include "http/ws_stream.h"

#include <gtest/gtest.h>

namespace xmppd::http {
namespace {

constexpr std::size_t kMax = 4096;

struct Translator {
  WsStream ws{kMax, 1 << 20};
  std::string to_router;
  std::vector<std::string> to_client;

  bool client(std::string_view m) { return ws.client_message(m, to_router); }
  bool router(std::string_view b) { return ws.router_bytes(b, to_client); }
};

constexpr std::string_view kRouterHeader =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "version='1.0' xml:lang='en' id='abc' from='example.test'>";

TEST(WsStream, OpenBecomesAStreamHeader) {
  Translator t;
  ASSERT_TRUE(t.client("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.test' version='1.0' "
                       "xml:lang='en' foo='bar'/>"));
  EXPECT_EQ(t.to_router,
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' to='example.test' version='1.0' xml:lang='en'>");
}

TEST(WsStream, HeaderAttributesAreEscapedAgain) {
  Translator t;
  ASSERT_TRUE(t.client("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to=\"a'&amp;&lt;b\" version='1.0'/>"));
  EXPECT_NE(t.to_router.find("to='a&apos;&amp;&lt;b'"), std::string::npos) << t.to_router;
}

TEST(WsStream, StanzasPassInTheClientNamespace) {
  Translator t;
  ASSERT_TRUE(t.client("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.test' version='1.0'/>"));
  t.to_router.clear();
  ASSERT_TRUE(t.client("<message xmlns='jabber:client' to='b@example.test'><body>hi &amp; bye</body></message>"));
  EXPECT_EQ(t.to_router, "<message to='b@example.test'><body>hi &amp; bye</body></message>");
  t.to_router.clear();
  ASSERT_TRUE(t.client("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>"));
  EXPECT_EQ(t.to_router, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>");
  t.to_router.clear();
  ASSERT_TRUE(t.client("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"));
  EXPECT_EQ(t.to_router, "</stream:stream>");
  EXPECT_TRUE(t.ws.client_closed());
}

TEST(WsStream, RouterStreamBecomesMessages) {
  Translator t;
  ASSERT_TRUE(t.router(kRouterHeader));
  ASSERT_TRUE(t.router("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                       "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"));
  ASSERT_TRUE(t.router("<message from='a@example.test'><body>x</body></message> "));
  ASSERT_TRUE(t.router("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
                       "</stream:stream>"));
  ASSERT_EQ(t.to_client.size(), 5u);
  EXPECT_EQ(t.to_client[0],
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.test' id='abc' version='1.0' "
            "xml:lang='en'/>");
  EXPECT_EQ(t.to_client[1],
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms "
            "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>");
  EXPECT_EQ(t.to_client[2], "<message xmlns='jabber:client' from='a@example.test'><body>x</body></message>");
  EXPECT_EQ(t.to_client[3],
            "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict "
            "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
  EXPECT_EQ(t.to_client[4], "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  EXPECT_TRUE(t.ws.router_closed());
}

TEST(WsStream, ElementsSplitAcrossReads) {
  Translator t;
  std::string all = std::string(kRouterHeader) + "<iq type='result' id='1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";
  for (char c : all) ASSERT_TRUE(t.router(std::string_view(&c, 1)));
  ASSERT_EQ(t.to_client.size(), 2u);
  EXPECT_EQ(t.to_client[1], "<iq xmlns='jabber:client' type='result' id='1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
}

TEST(WsStream, SaslSuccessRestartsBothSides) {
  Translator t;
  ASSERT_TRUE(t.client("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.test' version='1.0'/>"));
  ASSERT_TRUE(t.router(kRouterHeader));
  ASSERT_TRUE(t.router("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"));
  // The router's next header is a new stream, the client's next message a new <open/>.
  ASSERT_TRUE(t.client("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.test' version='1.0'/>"));
  ASSERT_TRUE(t.router(kRouterHeader));
  ASSERT_EQ(t.to_client.size(), 3u);
  EXPECT_EQ(t.to_client[1], "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  EXPECT_TRUE(t.to_client[2].starts_with("<open "));
  // Not a third time without another success.
  EXPECT_FALSE(t.client("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.test' version='1.0'/>"));
  EXPECT_EQ(t.ws.failure().close_code, kCloseProtocolError);
}

TEST(WsStream, BadClientMessagesFail) {
  struct Case {
    std::string message;  // owned: one case builds its text
    std::string_view condition;
    std::uint16_t code;
  };
  const Case cases[] = {
      {"not xml", "not-well-formed", kCloseInvalidPayload},
      {"<message/><message/>", "not-well-formed", kCloseInvalidPayload},
      {"<message>", "not-well-formed", kCloseInvalidPayload},
      {" <message/>", "not-well-formed", kCloseInvalidPayload},
      {"<!DOCTYPE x><message/>", "not-well-formed", kCloseInvalidPayload},
      {"<message><?pi x?></message>", "restricted-xml", kCloseInvalidPayload},
      {"<message><!-- c --></message>", "restricted-xml", kCloseInvalidPayload},
      {"<message>&ent;</message>", "restricted-xml", kCloseInvalidPayload},
      {"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>", "policy-violation", kCloseProtocolError},
      {"<foo xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>", "unsupported-stanza-type", kCloseProtocolError},
      {"<message>" + std::string(kMax, 'a') + "</message>", "policy-violation", kCloseTooBig},
  };
  for (const Case& c : cases) {
    Translator t;
    ASSERT_TRUE(t.client("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.test' version='1.0'/>"));
    t.to_router.clear();
    EXPECT_FALSE(t.client(c.message)) << c.message;
    EXPECT_EQ(t.ws.failure().condition, c.condition) << c.message;
    EXPECT_EQ(t.ws.failure().close_code, c.code) << c.message;
    EXPECT_EQ(t.to_router, "") << c.message;
    // Once failed, nothing more passes.
    EXPECT_FALSE(t.client("<message/>"));
  }
}

TEST(WsStream, OnlyWebSocketHostsMayBeOpened) {
  Translator t;
  t.ws.set_hosts({"example.test"});
  EXPECT_FALSE(t.client("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='other.test' version='1.0'/>"));
  EXPECT_EQ(t.ws.failure().condition, "host-unknown");
  EXPECT_EQ(t.to_router, "");
  Translator u;
  u.ws.set_hosts({"example.test"});
  EXPECT_TRUE(u.client("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='Example.TEST' version='1.0'/>"));
}

TEST(WsStream, AStanzaBeforeOpenFails) {
  Translator t;
  EXPECT_FALSE(t.client("<message/>"));
  EXPECT_EQ(t.ws.failure().close_code, kCloseProtocolError);
  // The client never got an <open/>: the error comes in one.
  auto m = t.ws.failure_messages();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_TRUE(m[0].starts_with("<open "));
  EXPECT_TRUE(m[1].starts_with("<stream:error xmlns:stream='http://etherx.jabber.org/streams'><policy-violation "));
  EXPECT_EQ(m[2], "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
}

TEST(WsStream, BrokenRouterStreamFails) {
  Translator t;
  ASSERT_TRUE(t.router(kRouterHeader));
  EXPECT_FALSE(t.router("<a></b>"));
  EXPECT_EQ(t.ws.failure().condition, "internal-server-error");
  EXPECT_EQ(t.ws.failure().close_code, kCloseInternalError);
  auto m = t.ws.failure_messages();
  ASSERT_EQ(m.size(), 2u);  // the client has its <open/> already
}

TEST(WsStream, RouterElementLimit) {
  WsStream ws(kMax, 1000);
  std::vector<std::string> out;
  ASSERT_TRUE(ws.router_bytes(kRouterHeader, out));
  EXPECT_FALSE(ws.router_bytes("<message><body>" + std::string(2000, 'x') + "</body></message>", out));
}

}  // namespace
}  // namespace xmppd::http
