// XEP-0185 dialback keys: the XEP's own example, what each input does, and the secret; the
// epoch keys the parent derives.
#include "xmpp/dialback_key.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace xmppd::xmpp {
namespace {

// XEP-0185 §3: Receiving Server xmpp.example.com, Originating Server example.org.
constexpr std::string_view kSecret = "s3cr3tf0rd14lb4ck";
constexpr std::string_view kReceiving = "xmpp.example.com";
constexpr std::string_view kOriginating = "example.org";
constexpr std::string_view kStreamId = "D60000229F";
constexpr std::string_view kXepKey = "37c69b1cf07a3f67c04a5ef5902fa5114f2c76fe4a2686482ba5b89323075643";

bool is_lower_hex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

TEST(DialbackKey, ReproducesTheXepExample) {
  EXPECT_EQ(dialback_key(kSecret, kReceiving, kOriginating, kStreamId), kXepKey);
}

TEST(DialbackKey, IsLowercaseHexOf64Characters) {
  const std::string key = dialback_key("another secret", "a.example", "b.example", "stream-1");
  EXPECT_EQ(key.size(), 64u);
  EXPECT_TRUE(is_lower_hex(key));
}

TEST(DialbackKey, DependsOnEveryInput) {
  const std::string base = dialback_key(kSecret, kReceiving, kOriginating, kStreamId);
  EXPECT_NE(dialback_key("s3cr3tf0rd14lb4cK", kReceiving, kOriginating, kStreamId), base);
  EXPECT_NE(dialback_key(kSecret, "xmpp.example.net", kOriginating, kStreamId), base);
  EXPECT_NE(dialback_key(kSecret, kReceiving, "example.net", kStreamId), base);
  EXPECT_NE(dialback_key(kSecret, kReceiving, kOriginating, "D60000229E"), base);
  // The receiving and originating roles are not interchangeable.
  EXPECT_NE(dialback_key(kSecret, kOriginating, kReceiving, kStreamId), base);
}

TEST(DialbackKey, EmptySecretGivesNoKey) {
  EXPECT_EQ(dialback_key("", kReceiving, kOriginating, kStreamId), "");
  EXPECT_FALSE(dialback_key_matches("", kReceiving, kOriginating, kStreamId, ""));
}

TEST(DialbackKey, MatchesTheRightKey) {
  EXPECT_TRUE(dialback_key_matches(kSecret, kReceiving, kOriginating, kStreamId, kXepKey));
}

TEST(DialbackKey, RejectsWrongKeys) {
  std::string altered(kXepKey);
  altered.back() = '2';
  EXPECT_FALSE(dialback_key_matches(kSecret, kReceiving, kOriginating, kStreamId, altered));
  EXPECT_FALSE(dialback_key_matches(kSecret, kReceiving, kOriginating, kStreamId, kXepKey.substr(0, 63)));
  EXPECT_FALSE(dialback_key_matches(kSecret, kReceiving, kOriginating, kStreamId, std::string(kXepKey) + "0"));
  EXPECT_FALSE(dialback_key_matches(kSecret, kReceiving, kOriginating, kStreamId, ""));
  // The key is only ever produced in lowercase, so an uppercase copy was not ours.
  std::string upper(kXepKey);
  for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
  EXPECT_FALSE(dialback_key_matches(kSecret, kReceiving, kOriginating, kStreamId, upper));
}

TEST(DialbackKey, RejectsTheKeyOfOtherInputs) {
  EXPECT_FALSE(dialback_key_matches("other", kReceiving, kOriginating, kStreamId, kXepKey));
  EXPECT_FALSE(dialback_key_matches(kSecret, "other.example", kOriginating, kStreamId, kXepKey));
  EXPECT_FALSE(dialback_key_matches(kSecret, kReceiving, "other.example", kStreamId, kXepKey));
  EXPECT_FALSE(dialback_key_matches(kSecret, kReceiving, kOriginating, "other-id", kXepKey));
}

TEST(DialbackKey, RandomSecretsAreFreshHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 16; ++i) {
    const std::string secret = random_dialback_secret();
    EXPECT_EQ(secret.size(), 64u);
    EXPECT_TRUE(is_lower_hex(secret));
    seen.insert(secret);
  }
  EXPECT_EQ(seen.size(), 16u);
}

TEST(DialbackKey, RandomSecretMakesWorkingKeys) {
  const std::string secret = random_dialback_secret();
  const std::string key = dialback_key(secret, kReceiving, kOriginating, kStreamId);
  EXPECT_EQ(key.size(), 64u);
  EXPECT_NE(key, kXepKey);
  EXPECT_TRUE(dialback_key_matches(secret, kReceiving, kOriginating, kStreamId, key));
}

// Computed independently with Python's hmac module.
TEST(EpochKey, IsHmacSha256OfTheEpochUnderTheSecret) {
  EXPECT_EQ(epoch_key(kSecret, 1), "954052e000791e01d45e8d351d0b85b5af66e96c2f23490c677a182e05040c2e");
  EXPECT_EQ(epoch_key(kSecret, 1733356800000000), "70362463c5ad6e9712ffe9cef1500c1d50c7600e6908b924ecbd50c7d005b689");
}

TEST(EpochKey, DiffersPerEpochAndSecretAndNeverIsTheSecret) {
  std::set<std::string> seen;
  for (std::uint64_t epoch = 0; epoch < 100; ++epoch) seen.insert(epoch_key(kSecret, epoch));
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_NE(epoch_key("another secret", 1), epoch_key(kSecret, 1));
  EXPECT_EQ(epoch_key("", 1), "");
  EXPECT_EQ(epoch_key(kSecret, 1).find(kSecret), std::string::npos);
}

}  // namespace
}  // namespace xmppd::xmpp
