#include "auth-helper/component_secrets.h"

#include <gtest/gtest.h>

namespace xmppd::auth {
namespace {

ComponentSecrets secrets() {
  ComponentSecrets s;
  s.set({{"gateway.example.org", "s3cret"}, {"other.example.org", "another"}});
  return s;
}

TEST(ComponentHandshake, DigestIsHexSha1OfIdAndSecret) {
  // sha1("3BF96D32" + "s3cret"), computed with sha1sum.
  EXPECT_EQ(component_handshake_digest("3BF96D32", "s3cret"), "a984b871214a298f0f743fcd25f99b10838ba12b");
  EXPECT_EQ(component_handshake_digest("", ""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(ComponentHandshake, RightSecretPasses) {
  EXPECT_TRUE(secrets().check("gateway.example.org", "abc123", component_handshake_digest("abc123", "s3cret")));
  EXPECT_TRUE(secrets().check("other.example.org", "abc123", component_handshake_digest("abc123", "another")));
}

TEST(ComponentHandshake, WrongSecretFails) {
  EXPECT_FALSE(secrets().check("gateway.example.org", "abc123", component_handshake_digest("abc123", "s3creT")));
  // Another component's secret is not this one's.
  EXPECT_FALSE(secrets().check("gateway.example.org", "abc123", component_handshake_digest("abc123", "another")));
}

TEST(ComponentHandshake, AnotherStreamIdFails) {
  // A digest seen on one stream does not open another (a replay).
  EXPECT_FALSE(secrets().check("gateway.example.org", "abc124", component_handshake_digest("abc123", "s3cret")));
  EXPECT_FALSE(secrets().check("gateway.example.org", "", component_handshake_digest("", "s3cret")));
}

TEST(ComponentHandshake, UnknownDomainFails) {
  EXPECT_FALSE(secrets().check("conference.example.org", "abc123", component_handshake_digest("abc123", "s3cret")));
  ComponentSecrets none;
  EXPECT_FALSE(none.check("gateway.example.org", "abc123", component_handshake_digest("abc123", "s3cret")));
}

TEST(ComponentHandshake, MalformedDigestsFail) {
  const std::string good = component_handshake_digest("abc123", "s3cret");
  EXPECT_FALSE(secrets().check("gateway.example.org", "abc123", ""));
  EXPECT_FALSE(secrets().check("gateway.example.org", "abc123", good.substr(0, 39)));
  EXPECT_FALSE(secrets().check("gateway.example.org", "abc123", good + "0"));
  EXPECT_FALSE(secrets().check("gateway.example.org", "abc123", std::string(40, '\0')));
  // A prefix of the right digest padded out is still wrong: the whole is compared.
  EXPECT_FALSE(secrets().check("gateway.example.org", "abc123", good.substr(0, 39) + (good[39] == 'a' ? "b" : "a")));
}

TEST(ComponentHandshake, ReloadReplacesSecrets) {
  ComponentSecrets s = secrets();
  s.set({{"gateway.example.org", "new"}});
  EXPECT_FALSE(s.check("gateway.example.org", "id", component_handshake_digest("id", "s3cret")));
  EXPECT_TRUE(s.check("gateway.example.org", "id", component_handshake_digest("id", "new")));
  EXPECT_FALSE(s.check("other.example.org", "id", component_handshake_digest("id", "another")));
}

}  // namespace
}  // namespace xmppd::auth
