// The account token: issued for one host and username under the helper's key, accepted for
// exactly that account, and for no other split of the same bytes, no other key, no shorter
// or longer token.
#include "auth-helper/account_tokens.h"

#include <gtest/gtest.h>

#include <string>

namespace xmppd::auth {
namespace {

std::array<std::uint8_t, AccountTokens::kKeySize> key(std::uint8_t fill) {
  std::array<std::uint8_t, AccountTokens::kKeySize> k;
  k.fill(fill);
  return k;
}

TEST(AccountTokens, AcceptedForTheAccountItWasIssuedFor) {
  AccountTokens tokens(key(1));
  const std::string token = tokens.issue("example.org", "juliet");
  EXPECT_EQ(token.size(), AccountTokens::kTokenSize);
  EXPECT_EQ(tokens.issue("example.org", "juliet"), token);
  EXPECT_TRUE(tokens.check("example.org", "juliet", token));
}

TEST(AccountTokens, RefusedForAnyOtherAccount) {
  AccountTokens tokens(key(1));
  const std::string token = tokens.issue("example.org", "juliet");
  EXPECT_FALSE(tokens.check("example.org", "romeo", token));
  EXPECT_FALSE(tokens.check("example.net", "juliet", token));
  EXPECT_FALSE(tokens.check("example.org", "Juliet", token));
  // The same bytes split otherwise between host and username.
  EXPECT_NE(tokens.issue("a.b", "c"), tokens.issue("a", ".bc"));
  EXPECT_FALSE(tokens.check("example.or", "gjuliet", token));
}

TEST(AccountTokens, RefusedUnderAnotherKey) {
  // A helper that restarted made a new key: the tokens of the old one no longer count.
  AccountTokens before(key(1)), after(key(2));
  EXPECT_FALSE(after.check("example.org", "juliet", before.issue("example.org", "juliet")));
  auto a = AccountTokens::generate(), b = AccountTokens::generate();
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->check("example.org", "juliet", a->issue("example.org", "juliet")));
  EXPECT_FALSE(b->check("example.org", "juliet", a->issue("example.org", "juliet")));
}

TEST(AccountTokens, RefusedWhenMalformed) {
  AccountTokens tokens(key(1));
  std::string token = tokens.issue("example.org", "juliet");
  EXPECT_FALSE(tokens.check("example.org", "juliet", ""));
  EXPECT_FALSE(tokens.check("example.org", "juliet", token.substr(0, 31)));
  EXPECT_FALSE(tokens.check("example.org", "juliet", token + "x"));
  EXPECT_FALSE(tokens.check("example.org", "juliet", std::string(32, '\0')));
  token[31] = static_cast<char>(token[31] ^ 1);
  EXPECT_FALSE(tokens.check("example.org", "juliet", token));
}

}  // namespace
}  // namespace xmppd::auth
