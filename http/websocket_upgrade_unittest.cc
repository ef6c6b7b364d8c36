#include "http/websocket_upgrade.h"

#include <gtest/gtest.h>

namespace xmppd::http {
namespace {

UpgradeRequest good() {
  UpgradeRequest r;
  r.get = true;
  r.connection = "keep-alive, Upgrade";
  r.upgrade = "websocket";
  r.version = "13";
  r.key = "dGhlIHNhbXBsZSBub25jZQ==";
  r.protocol = "xmpp";
  return r;
}

TEST(WebSocketUpgrade, Rfc6455SampleKey) {
  // RFC 6455 §1.3's example.
  EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  UpgradeVerdict v = check_upgrade(good());
  EXPECT_EQ(v.kind, UpgradeVerdict::Kind::kUpgrade);
  EXPECT_EQ(v.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketUpgrade, Refusals) {
  UpgradeRequest r = good();
  r.get = false;
  EXPECT_EQ(check_upgrade(r).status, 405);
  r = good();
  r.key.reset();
  EXPECT_EQ(check_upgrade(r).kind, UpgradeVerdict::Kind::kTextPage);
  r = good();
  r.upgrade = "h2c";
  EXPECT_EQ(check_upgrade(r).status, 400);
  r = good();
  r.connection = "close";
  EXPECT_EQ(check_upgrade(r).status, 400);
  r = good();
  r.version = "8";
  EXPECT_EQ(check_upgrade(r).status, 426);
  r = good();
  r.key = "c2hvcnQ=";
  EXPECT_EQ(check_upgrade(r).status, 400);
  r = good();
  r.key = "not base64 at all!!!!!!=";
  EXPECT_EQ(check_upgrade(r).status, 400);
  r = good();
  r.protocol.reset();
  EXPECT_EQ(check_upgrade(r).status, 501);
  r = good();
  r.protocol = "chat, xmpp-old";
  EXPECT_EQ(check_upgrade(r).status, 501);
  r = good();
  r.protocol = "chat , xmpp";
  EXPECT_EQ(check_upgrade(r).kind, UpgradeVerdict::Kind::kUpgrade);
}

TEST(WebSocketUpgrade, Tokens) {
  EXPECT_TRUE(has_token("Upgrade", "upgrade", true));
  EXPECT_FALSE(has_token("Upgrade", "upgrade", false));
  EXPECT_TRUE(has_token("a,b, c", "c", false));
  EXPECT_FALSE(has_token("abc", "b", false));
  EXPECT_FALSE(has_token("", "b", false));
}

}  // namespace
}  // namespace xmppd::http
