#include "s2s-worker/stanza_check.h"

#include <gtest/gtest.h>

#include "xmpp/namespaces.h"

namespace xmppd::s2s {
namespace {

S2sPolicy policy() {
  ipc::S2sSettings s;
  s.add_hosts("a.test");
  s.add_hosts("a2.test");
  S2sPolicy p;
  p.configure(s);
  return p;
}

xml::Element message(const std::string& from, const std::string& to) {
  xml::Element e(xmpp::kServerNs, "message");
  if (!from.empty()) e.set_attribute("from", from);
  if (!to.empty()) e.set_attribute("to", to);
  return e;
}

TEST(StanzaCheck, AcceptsOnlyProvedPairs) {
  S2sPolicy p = policy();
  ProvedPairs proved = {{"b.test", "a.test"}};
  StanzaCheck ok = check_stanza(message("bob@b.test/x", "alice@a.test"), proved, p);
  EXPECT_TRUE(ok.accepted());
  EXPECT_EQ(ok.from_domain, "b.test");
  EXPECT_EQ(ok.to_domain, "a.test");
  EXPECT_EQ(check_stanza(message("bob@c.test", "alice@a.test"), proved, p).condition, "invalid-from");
  // A pair not proved: ours is not-authorized, someone else's host-unknown.
  EXPECT_EQ(check_stanza(message("bob@b.test", "ann@a2.test"), proved, p).condition, "not-authorized");
  EXPECT_EQ(check_stanza(message("bob@b.test", "carl@c.test"), proved, p).condition, "host-unknown");
}

TEST(StanzaCheck, RefusesBadAddressesAndUnauthenticatedStreams) {
  S2sPolicy p = policy();
  EXPECT_EQ(check_stanza(message("", "alice@a.test"), {{"b.test", "a.test"}}, p).condition, "improper-addressing");
  EXPECT_EQ(check_stanza(message("bob@b.test", "@@"), {{"b.test", "a.test"}}, p).condition, "improper-addressing");
  StanzaCheck early = check_stanza(message("bob@b.test", "alice@a.test"), {}, p);
  EXPECT_EQ(early.condition, "not-authorized");
  EXPECT_NE(early.log.find("before any domain is authenticated"), std::string::npos);
}

}  // namespace
}  // namespace xmppd::s2s
