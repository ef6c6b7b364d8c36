#include "s2s-worker/s2s_policy.h"

#include <gtest/gtest.h>

namespace xmppd::s2s {
namespace {

ipc::S2sSettings settings() {
  ipc::S2sSettings s;
  s.add_hosts("a.test");
  s.add_hosts("quiet.test");
  s.mutable_s2s()->set_require_encryption(true);
  s.mutable_s2s()->set_max_stanza_bytes(512 * 1024);
  ipc::StreamLimits& quiet = (*s.mutable_s2s()->mutable_per_host())["quiet.test"];
  quiet.set_require_encryption(false);
  quiet.set_max_stanza_bytes(10000);
  ipc::S2sHostPolicy& a = (*s.mutable_policy())["a.test"];
  a.set_enabled(true);
  a.set_secure_auth(true);
  a.add_insecure_domains("Legacy.Test");
  a.add_secure_domains("bank.test");
  a.set_timeout_seconds(30);
  a.set_use_dane(true);
  ipc::S2sHostPolicy& q = (*s.mutable_policy())["quiet.test"];
  q.set_enabled(false);
  q.add_secure_domains("bank.test");
  q.add_secure_domains("Vault.Test.");  // written as an admin might: prepared like a stream's domain
  q.add_whitelist("Friend.Test");
  q.set_dialback_without_dialback(true);
  a.add_blacklist("spam.test");
  a.set_peer_stanza_size_limit(20000);
  (*a.mutable_peer_stanza_size_limits())["Big.Test"] = 1000000;
  return s;
}

TEST(S2sPolicy, SecureAuthWithExemptionsAndRequirements) {
  S2sPolicy p;
  p.configure(settings());
  EXPECT_TRUE(p.requires_certificate("a.test", "other.test"));
  EXPECT_FALSE(p.requires_certificate("a.test", "legacy.test"));  // insecure_domains, case-folded
  EXPECT_TRUE(p.requires_certificate("a.test", "bank.test"));
  // secure_auth off: only the listed secure domains need a certificate.
  EXPECT_FALSE(p.requires_certificate("quiet.test", "other.test"));
  EXPECT_TRUE(p.requires_certificate("quiet.test", "bank.test"));
  EXPECT_TRUE(p.requires_certificate("quiet.test", "vault.test"));
}

TEST(S2sPolicy, PerHostSwitchesAndLimits) {
  S2sPolicy p;
  p.configure(settings());
  EXPECT_TRUE(p.enabled("a.test"));
  EXPECT_FALSE(p.enabled("quiet.test"));
  EXPECT_FALSE(p.enabled("elsewhere.test"));
  EXPECT_TRUE(p.is_local("quiet.test"));
  EXPECT_FALSE(p.is_local("elsewhere.test"));
  EXPECT_TRUE(p.require_encryption("a.test"));
  EXPECT_FALSE(p.require_encryption("quiet.test"));
  EXPECT_EQ(p.max_stanza_bytes("quiet.test"), 10000u);
  EXPECT_EQ(p.timeout("a.test").count(), 30);
  EXPECT_EQ(p.timeout("quiet.test").count(), 90);
  EXPECT_TRUE(p.use_dane("a.test"));
  EXPECT_FALSE(p.use_dane("quiet.test"));
  EXPECT_FALSE(p.use_dane("elsewhere.test"));
}

TEST(S2sPolicy, RemoteDomainListsRefuseWithTheirReason) {
  S2sPolicy p;
  p.configure(settings());
  EXPECT_EQ(p.domain_refusal("a.test", "spam.test"), "spam.test is in the s2s_blacklist of a.test");
  EXPECT_EQ(p.domain_refusal("a.test", "friend.test"), "");
  EXPECT_EQ(p.domain_refusal("quiet.test", "friend.test"), "");
  EXPECT_EQ(p.domain_refusal("quiet.test", "spam.test"), "spam.test is not in the s2s_whitelist of quiet.test");
  // The lists are per host: a.test's blacklist says nothing of quiet.test's peers.
  EXPECT_EQ(p.domain_refusal("quiet.test", "other.test"), "other.test is not in the s2s_whitelist of quiet.test");
}

TEST(S2sPolicy, PeerStanzaSizeDefaultsToJabberd2sAndIsSetPerDomain) {
  S2sPolicy p;
  p.configure(settings());
  EXPECT_EQ(p.peer_max_stanza_bytes("a.test", "other.test"), 20000u);
  EXPECT_EQ(p.peer_max_stanza_bytes("a.test", "big.test"), 1000000u);
  EXPECT_EQ(p.peer_max_stanza_bytes("quiet.test", "big.test"), S2sPolicy::kDefaultPeerStanzaBytes);
  EXPECT_TRUE(p.dialback_without_dialback("quiet.test"));
  EXPECT_FALSE(p.dialback_without_dialback("a.test"));
}

TEST(S2sPolicy, UnknownHostGetsTheStrictAnswer) {
  S2sPolicy p;
  p.configure(settings());
  EXPECT_TRUE(p.requires_certificate("elsewhere.test", "x.test"));
  EXPECT_TRUE(p.require_encryption("elsewhere.test"));
}

}  // namespace
}  // namespace xmppd::s2s
