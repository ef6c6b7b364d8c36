// cloud_notify's pure parts (XEP-0357): what an <enable/> and a <disable/> may say, which
// messages wake a phone (also for a session held by stream management), and what the app
// server is sent.
#include "router/modules/push_notification.h"

#include <gtest/gtest.h>

#include "xml/fragment.h"

namespace xmppd::router::push {
namespace {

const std::string kAccount = "juliet@capulet.example";

xml::Element parse(std::string_view text) {
  auto e = xml::parse_fragment(text, "jabber:client", 1 << 16);
  EXPECT_TRUE(e.has_value()) << text;
  return e ? *e : xml::Element("", "none");
}

bool local(std::string_view domain) { return domain == "capulet.example"; }

EnableOutcome enable(std::string_view text) { return read_enable(parse(text), kAccount, local); }

std::string serialized(const xml::Element& e) {
  std::string out;
  e.serialize(out, "jabber:client");
  return out;
}

constexpr std::string_view kOptions =
    "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
    "<value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
    "<field var='secret'><value>eruio234vzxc2kla-91</value></field></x>";

TEST(PushEnable, TheXepExampleIsKeptWithItsOptions) {
  auto out = enable("<enable xmlns='urn:xmpp:push:0' jid='push-5.client.example' node='yxs32uqsflafdk3iuqo'>" +
                    std::string(kOptions) + "</enable>");
  ASSERT_TRUE(out.registration) << out.refusal.text;
  EXPECT_EQ(out.registration->id(), "push-5.client.example<yxs32uqsflafdk3iuqo");
  ASSERT_TRUE(out.registration->options);
  auto back = Registration::parse(out.registration->serialize());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->jid, "push-5.client.example");
  EXPECT_EQ(back->node, "yxs32uqsflafdk3iuqo");
  ASSERT_TRUE(back->options);
  EXPECT_EQ(serialized(*back->options), serialized(*out.registration->options));
}

// The store is trusted no more than the network.
TEST(PushRegistration, WhatDoesNotParseBackIsNoRegistration) {
  EXPECT_FALSE(Registration::parse(""));
  EXPECT_FALSE(Registration::parse("<registration xmlns='urn:xmpp:push:0' node='n'/>"));
  EXPECT_FALSE(Registration::parse("<registration xmlns='urn:xmpp:push:0' jid='a@@b' node='n'/>"));
  EXPECT_FALSE(Registration::parse("<other xmlns='urn:xmpp:push:0' jid='push.example'/>"));
  EXPECT_FALSE(Registration::parse("<registration xmlns='urn:xmpp:push:0' jid='push.example'>"));
  auto r = Registration::parse("<registration xmlns='urn:xmpp:push:0' jid='push.example'/>");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id(), "push.example<");
  EXPECT_FALSE(r->options);
}

TEST(PushEnable, MalformedOnesAreRefused) {
  struct Case {
    std::string payload, condition;
  } cases[] = {
      {"<enable xmlns='urn:xmpp:push:0' node='n'/>", "bad-request"},
      {"<enable xmlns='urn:xmpp:push:0' jid='' node='n'/>", "bad-request"},
      {"<enable xmlns='urn:xmpp:push:0' jid='@bad..example' node='n'/>", "bad-request"},
      {"<enable xmlns='urn:xmpp:push:0' jid='a@b@c' node='n'/>", "bad-request"},
      {"<enable xmlns='urn:xmpp:push:0' jid='push.example' node=''/>", "bad-request"},
      {"<enable xmlns='urn:xmpp:push:0' jid='Juliet@Capulet.example' node='n'/>", "bad-request"},
      {"<enable xmlns='urn:xmpp:push:0' jid='romeo@capulet.example' node='n'/>", "not-allowed"},
      {"<enable xmlns='urn:xmpp:push:0' jid='push.example' node='n'><x xmlns='jabber:x:data' type='form'/></enable>",
       "bad-request"},
      {"<enable xmlns='urn:xmpp:push:0' jid='push.example' node='n'><x xmlns='jabber:x:data'><field "
       "var='FORM_TYPE'><value>urn:other</value></field></x></enable>",
       "bad-request"},
      {"<enable xmlns='urn:xmpp:push:0' jid='push.example' node='n'>" + std::string(kOptions) + std::string(kOptions) +
           "</enable>",
       "bad-request"},
      {"<enable xmlns='urn:xmpp:push:0' jid='push.example' node='" + std::string(5000, 'n') + "'/>", "not-acceptable"},
  };
  for (const Case& c : cases) {
    auto out = enable(c.payload);
    EXPECT_FALSE(out.registration) << c.payload;
    EXPECT_EQ(out.refusal.condition, c.condition) << c.payload;
    EXPECT_FALSE(out.refusal.text.empty()) << c.payload;
  }
}

TEST(PushEnable, AServiceOnTheUsersOwnDomainWithoutLocalpartIsFine) {
  EXPECT_TRUE(enable("<enable xmlns='urn:xmpp:push:0' jid='capulet.example' node='n'/>").registration);
  EXPECT_TRUE(enable("<enable xmlns='urn:xmpp:push:0' jid='push.example'/>").registration);
}

TEST(PushDisable, AllOfAServiceOrOneNode) {
  Refusal refusal;
  Registration a{"push.example", "a", std::nullopt}, b{"push.example", "b", std::nullopt},
      other{"other.example", "a", std::nullopt};
  auto all = read_disable(parse("<disable xmlns='urn:xmpp:push:0' jid='push.example'/>"), refusal);
  ASSERT_TRUE(all);
  EXPECT_TRUE(matches(*all, a));
  EXPECT_TRUE(matches(*all, b));
  EXPECT_FALSE(matches(*all, other));
  auto one = read_disable(parse("<disable xmlns='urn:xmpp:push:0' jid='push.example' node='b'/>"), refusal);
  ASSERT_TRUE(one);
  EXPECT_FALSE(matches(*one, a));
  EXPECT_TRUE(matches(*one, b));
  EXPECT_FALSE(read_disable(parse("<disable xmlns='urn:xmpp:push:0'/>"), refusal));
  EXPECT_EQ(refusal.condition, "bad-request");
  EXPECT_FALSE(read_disable(parse("<disable xmlns='urn:xmpp:push:0' jid='x@@y'/>"), refusal));
}

TEST(PushWorth, AsProsodysIsImportant) {
  EXPECT_TRUE(worth_pushing(parse("<message type='chat'><body>hi</body></message>")));
  EXPECT_TRUE(worth_pushing(parse("<message><body>hi</body></message>")));
  EXPECT_FALSE(worth_pushing(parse("<message type='chat'><body/></message>")));
  EXPECT_FALSE(worth_pushing(parse("<message type='headline'><body>news</body></message>")));
  EXPECT_FALSE(worth_pushing(parse("<message type='error'><body>hi</body></message>")));
  EXPECT_FALSE(
      worth_pushing(parse("<message type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>")));
  EXPECT_FALSE(worth_pushing(parse("<message type='groupchat'><subject>s</subject><body>b</body></message>")));
  EXPECT_TRUE(
      worth_pushing(parse("<message type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>")));
  EXPECT_TRUE(worth_pushing(parse("<message><propose xmlns='urn:xmpp:jingle-message:0' id='c'/></message>")));
  EXPECT_FALSE(worth_pushing(parse("<presence/>")));
}

TEST(PushHibernation, OnlyARegisteredSessionWithStanzasWaiting) {
  EXPECT_TRUE(push_on_hibernation(true, 1));
  EXPECT_FALSE(push_on_hibernation(true, 0));
  EXPECT_FALSE(push_on_hibernation(false, 3));
}

TEST(PushNotification, SummaryWithoutSenderAndBodyByDefault) {
  Registration reg{"push-5.client.example", "yxs32uqsflafdk3iuqo", parse(kOptions)};
  xml::Element message =
      parse("<message from='romeo@montague.example/orchard' type='chat'><body>Wherefore art thou?</body></message>");
  std::string quiet = serialized(notification(reg, kAccount, message, PushOptions{}));
  EXPECT_EQ(quiet,
            "<iq from='juliet@capulet.example' to='push-5.client.example' type='set'>"
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='yxs32uqsflafdk3iuqo'><item>"
            "<notification xmlns='urn:xmpp:push:0'><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>urn:xmpp:push:summary</value></field>"
            "<field var='message-count'><value>1</value></field></x></notification></item></publish>"
            "<publish-options>" +
                serialized(parse(kOptions)) + "</publish-options></pubsub></iq>");
  std::string told = serialized(notification(reg, kAccount, message, PushOptions{true, true, 16, 5}));
  EXPECT_NE(told.find("<field var='last-message-sender'><value>romeo@montague.example/orchard</value></field>"
                      "<field var='last-message-body'><value>Wherefore art thou?</value></field>"),
            std::string::npos)
      << told;
}

}  // namespace
}  // namespace xmppd::router::push
