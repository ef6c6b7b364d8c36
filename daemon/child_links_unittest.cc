#include "daemon/child_links.h"

#include <gtest/gtest.h>

namespace xmppd {
namespace {

TEST(ChildLinks, ReporterMayAccuseOnlyALinkedPeer) {
  ChildLinks links;
  EXPECT_EQ(links.accusable(ipc::ROLE_S2S, ipc::ROLE_ROUTER), ipc::ROLE_ROUTER);
  EXPECT_EQ(links.accusable(ipc::ROLE_S2S, ipc::ROLE_TLS), ipc::ROLE_TLS);
  EXPECT_EQ(links.accusable(ipc::ROLE_ROUTER, ipc::ROLE_AUTH), ipc::ROLE_AUTH);
  // The s2s worker and the auth helper never talk: the worker cannot get it killed.
  EXPECT_EQ(links.accusable(ipc::ROLE_S2S, ipc::ROLE_AUTH), std::nullopt);
  EXPECT_EQ(links.accusable(ipc::ROLE_AUTH, ipc::ROLE_TLS), std::nullopt);
  EXPECT_EQ(links.accusable(ipc::ROLE_ROUTER, ipc::ROLE_ROUTER), std::nullopt);
  // The storage process talks to the router alone.
  EXPECT_EQ(links.accusable(ipc::ROLE_STORAGE, ipc::ROLE_ROUTER), ipc::ROLE_ROUTER);
  EXPECT_EQ(links.accusable(ipc::ROLE_ROUTER, ipc::ROLE_STORAGE), ipc::ROLE_STORAGE);
  EXPECT_EQ(links.accusable(ipc::ROLE_S2S, ipc::ROLE_STORAGE), std::nullopt);
  EXPECT_EQ(links.accusable(ipc::ROLE_STORAGE, ipc::ROLE_AUTH), std::nullopt);
  // WebSocket clients: the router and the HTTP process may accuse each other.
  EXPECT_EQ(links.accusable(ipc::ROLE_HTTP, ipc::ROLE_ROUTER), ipc::ROLE_ROUTER);
  EXPECT_EQ(links.accusable(ipc::ROLE_ROUTER, ipc::ROLE_HTTP), ipc::ROLE_HTTP);
  EXPECT_EQ(links.accusable(ipc::ROLE_HTTP, ipc::ROLE_AUTH), std::nullopt);
}

TEST(ChildLinks, ValuesThatNameNoRoleAreRefused) {
  ChildLinks links;
  // A proto3 open enum carries any int32: absent (0), out of range, negative.
  for (int raw : {0, 7, 99, -1, 1 << 30})
    EXPECT_EQ(links.accusable(ipc::ROLE_ROUTER, raw), std::nullopt) << raw;
}

TEST(ChildLinks, LinkedIsSymmetric) {
  ChildLinks links;
  EXPECT_TRUE(links.linked(ipc::ROLE_TLS, ipc::ROLE_S2S));
  EXPECT_TRUE(links.linked(ipc::ROLE_S2S, ipc::ROLE_TLS));
  EXPECT_FALSE(links.linked(ipc::ROLE_AUTH, ipc::ROLE_S2S));
}

TEST(ChildLinks, LoggableTextIsOneBoundedLine) {
  EXPECT_EQ(loggable("bad record\nforged: line\x01"), "bad record?forged: line?");
  EXPECT_EQ(loggable(std::string(300, 'a'), 10), "aaaaaaaaaa...");
}

}  // namespace
}  // namespace xmppd
