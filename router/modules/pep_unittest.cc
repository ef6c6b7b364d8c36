// The pep module's pure parts: XEP-0115 verification strings, node configurations as stored
// and as data forms carry them.
#include <gtest/gtest.h>

#include "router/modules/caps.h"
#include "router/modules/pep_caps.h"
#include "router/modules/pep_node.h"
#include "xml/fragment.h"

namespace xmppd::router::pep {
namespace {

xml::Element parse(std::string_view text) {
  auto e = xml::parse_fragment(text, "jabber:client", 1 << 16);
  EXPECT_TRUE(e.has_value()) << text;
  return e ? *e : xml::Element("", "none");
}

// XEP-0115 §5.2 and §5.3: the simple and the complex example.
TEST(Caps, VerificationStringsOfTheXepExamples) {
  EXPECT_EQ(caps_ver(parse("<query xmlns='http://jabber.org/protocol/disco#info'>"
                           "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
                           "<feature var='http://jabber.org/protocol/caps'/>"
                           "<feature var='http://jabber.org/protocol/disco#items'/>"
                           "<feature var='http://jabber.org/protocol/disco#info'/>"
                           "<feature var='http://jabber.org/protocol/muc'/></query>")),
            "QgayPKawpkPSDYmwT/WM94uAlu0=");
  EXPECT_EQ(caps_ver(parse(
                "<query xmlns='http://jabber.org/protocol/disco#info'>"
                "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
                "<identity xml:lang='el' category='client' name='&#x3A8; 0.11' type='pc'/>"
                "<feature var='http://jabber.org/protocol/caps'/>"
                "<feature var='http://jabber.org/protocol/disco#info'/>"
                "<feature var='http://jabber.org/protocol/disco#items'/>"
                "<feature var='http://jabber.org/protocol/muc'/>"
                "<x xmlns='jabber:x:data' type='result'>"
                "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"
                "<field var='ip_version'><value>ipv4</value><value>ipv6</value></field>"
                "<field var='os'><value>Mac</value></field>"
                "<field var='os_version'><value>10.5.1</value></field>"
                "<field var='software'><value>Psi</value></field>"
                "<field var='software_version'><value>0.11</value></field></x></query>")),
            "q07IKJEyjvHSyhy//CH0CxmKi8w=");
}

TEST(NodeConfig, StoredFormRoundTripsAndRefusesGarbage) {
  NodeConfig c;
  c.access_model = "open";
  c.max_items = 42;
  c.persist_items = false;
  EXPECT_EQ(NodeConfig::parse(c.serialize()), c);
  EXPECT_EQ(NodeConfig::parse("presence 1 1"), NodeConfig{});
  for (std::string_view bad : {"", "open", "open 1", "authorize 1 1", "open x 1", "open 1 maybe", "open -1 1"})
    EXPECT_FALSE(NodeConfig::parse(bad).has_value()) << bad;
}

xml::Element form(std::string_view fields) {
  return parse(std::string("<x xmlns='jabber:x:data' type='submit'>") +
               "<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>" +
               std::string(fields) + "</x>");
}

TEST(NodeConfig, FormsApplyWithinTheLimits) {
  NodeConfig c;
  std::string error;
  EXPECT_TRUE(apply_form(form("<field var='pubsub#access_model'><value>whitelist</value></field>"
                              "<field var='pubsub#max_items'><value>max</value></field>"
                              "<field var='pubsub#send_last_published_item'><value>never</value></field>"),
                         10, c, error));
  EXPECT_EQ(c.access_model, "whitelist");
  EXPECT_EQ(c.max_items, 10u);
  // A value out of range or unknown changes nothing and says why.
  NodeConfig before = c;
  EXPECT_FALSE(apply_form(form("<field var='pubsub#access_model'><value>open</value></field>"
                               "<field var='pubsub#max_items'><value>11</value></field>"),
                          10, c, error));
  EXPECT_EQ(c, before);
  EXPECT_NE(error.find("between 1 and 10"), std::string::npos);
  EXPECT_FALSE(apply_form(form("<field var='pubsub#access_model'><value>authorize</value></field>"), 10, c, error));
  EXPECT_FALSE(apply_form(form("<field var='pubsub#max_items'><value>0</value></field>"), 10, c, error));
  EXPECT_FALSE(apply_form(parse("<y xmlns='jabber:x:data'/>"), 10, c, error));
  // Publish-options: met, not met (no error), malformed (an error).
  error.clear();
  EXPECT_TRUE(satisfies(form("<field var='pubsub#access_model'><value>whitelist</value></field>"), 10, c, error));
  EXPECT_FALSE(satisfies(form("<field var='pubsub#access_model'><value>open</value></field>"), 10, c, error));
  EXPECT_TRUE(error.empty());
  EXPECT_FALSE(satisfies(form("<field var='pubsub#persist_items'><value>perhaps</value></field>"), 10, c, error));
  EXPECT_FALSE(error.empty());
}

TEST(NodeConfig, TheConfigurationFormSaysMaxForTheLargest) {
  NodeConfig c;
  c.max_items = 10;
  std::string text;
  c.form(10).serialize(text);
  EXPECT_NE(text.find("<field var='pubsub#max_items' type='text-single'><value>max</value>"), std::string::npos) << text;
  NodeConfig back;
  std::string error;
  EXPECT_TRUE(apply_form(c.form(10), 10, back, error)) << error;
  EXPECT_EQ(back, c);
}

}  // namespace
}  // namespace xmppd::router::pep
