#include "auth-helper/component_secrets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

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

using std::chrono::seconds;

TEST(HandshakeThrottle, DelaysDoubleToTheCap) {
  EXPECT_EQ(HandshakeThrottle::delay_after(0), Clock::duration::zero());
  EXPECT_EQ(HandshakeThrottle::delay_after(1), seconds(1));
  EXPECT_EQ(HandshakeThrottle::delay_after(2), seconds(2));
  EXPECT_EQ(HandshakeThrottle::delay_after(5), seconds(16));
  EXPECT_EQ(HandshakeThrottle::delay_after(6), seconds(30));
  EXPECT_EQ(HandshakeThrottle::delay_after(1000), seconds(30));
}

TEST(HandshakeThrottle, PerDomainResetOnSuccessForgottenInTime) {
  HandshakeThrottle t;
  const TimePoint t0{};
  EXPECT_EQ(t.answer_at("a", t0), t0);
  t.failed("a", t0);
  t.failed("a", t0);
  EXPECT_EQ(t.answer_at("a", t0), t0 + seconds(2));
  EXPECT_EQ(t.answer_at("a", t0 + seconds(5)), t0 + seconds(5));  // the delay is over
  EXPECT_EQ(t.answer_at("b", t0), t0);                            // another domain is not held
  t.succeeded("a");
  EXPECT_EQ(t.answer_at("a", t0), t0);
  t.failed("a", t0);
  EXPECT_EQ(t.answer_at("a", t0), t0 + seconds(1));
  // Ten quiet minutes: the count starts again.
  t.failed("a", t0 + HandshakeThrottle::kForget);
  EXPECT_EQ(t.answer_at("a", t0 + HandshakeThrottle::kForget), t0 + HandshakeThrottle::kForget + seconds(1));
}

struct Verdict {
  std::uint64_t query;
  bool ok;
  std::string secret_tag;
};

class ComponentHandshakesTest : public ::testing::Test {
 protected:
  ComponentHandshakesTest() { secrets_.set({{"gateway.example.org", "s3cret"}, {"other.example.org", "another"}}); }
  void check(std::uint64_t query, std::string_view secret, std::string_view domain = "gateway.example.org") {
    handshakes_.check(query, domain, "id", component_handshake_digest("id", secret), now_);
  }
  void advance(Clock::duration by) {
    now_ += by;
    handshakes_.poll(now_);
  }
  ComponentSecrets secrets_;
  std::vector<Verdict> verdicts_;
  TimePoint now_{seconds(1000)};
  ComponentHandshakes handshakes_{secrets_, [this](std::uint64_t q, std::string_view, bool ok,
                                                   const std::string& tag) {
                                    verdicts_.push_back({q, ok, tag});
                                  }};
};

TEST_F(ComponentHandshakesTest, ThreeWrongThenTheFourthWaits) {
  check(1, "guess");  // no penalty yet: answered at once
  ASSERT_EQ(verdicts_.size(), 1u);
  EXPECT_FALSE(verdicts_[0].ok);
  check(2, "guess");  // 1 s
  EXPECT_EQ(verdicts_.size(), 1u);
  EXPECT_EQ(handshakes_.next_wake(), now_ + seconds(1));
  advance(seconds(1));
  ASSERT_EQ(verdicts_.size(), 2u);
  check(3, "guess");  // 2 s
  advance(seconds(2));
  ASSERT_EQ(verdicts_.size(), 3u);
  // The fourth, even the right one, waits 4 s; then it gets in and the penalty ends.
  check(4, "s3cret");
  advance(seconds(3));
  EXPECT_EQ(verdicts_.size(), 3u);
  advance(seconds(1));
  ASSERT_EQ(verdicts_.size(), 4u);
  EXPECT_TRUE(verdicts_[3].ok);
  check(5, "s3cret");
  ASSERT_EQ(verdicts_.size(), 5u);
  EXPECT_TRUE(verdicts_[4].ok);
  // Another domain was never held.
  EXPECT_EQ(handshakes_.held(), 0u);
}

TEST_F(ComponentHandshakesTest, GuessingCannotLockTheComponentOutPastTheCap) {
  // Someone guesses without pause, as many at a time as may be held for the domain.
  for (std::uint64_t q = 0; q < 200; ++q) {
    check(q, "guess");
    advance(seconds(2));
  }
  // The real component reconnects amid more guesses: it is answered within 30 s.
  check(1000, "s3cret");
  const TimePoint arrived = now_;
  for (std::uint64_t q = 2000; q < 2020; ++q) {
    check(q, "guess");
    advance(seconds(2));
  }
  auto it = std::find_if(verdicts_.begin(), verdicts_.end(), [](const Verdict& v) { return v.query == 1000; });
  ASSERT_NE(it, verdicts_.end());
  EXPECT_TRUE(it->ok);
  EXPECT_LE(now_ - arrived, seconds(40));
  // And the other domain's component was never held by this.
  const std::size_t before = verdicts_.size();
  check(3000, "another", "other.example.org");
  EXPECT_EQ(verdicts_.size(), before + 1);
}

TEST_F(ComponentHandshakesTest, GuessesPerPenaltyAreBoundedByWhatIsHeld) {
  check(1, "guess");
  // During the penalty nothing is answered, so nothing is learnt.
  for (std::uint64_t q = 2; q < 10; ++q) check(q, "guess");
  EXPECT_EQ(verdicts_.size(), 1u);
  EXPECT_EQ(handshakes_.held(), 8u);
  advance(seconds(1));
  EXPECT_EQ(verdicts_.size(), 9u);
  // The failures of the batch count: the next waits the cap's way.
  check(10, "guess");
  EXPECT_GE(*handshakes_.next_wake() - now_, seconds(16));
}

// The router waits for as many per domain; a domain's held handshakes leave the others alone.
TEST_F(ComponentHandshakesTest, HeldPerDomainAreBoundedAndCancelFreesAPlace) {
  check(1, "guess");
  for (std::uint64_t q = 2; q < 2 + ComponentHandshakes::kMaxHeldPerDomain; ++q) check(q, "guess");
  EXPECT_EQ(handshakes_.held(), ComponentHandshakes::kMaxHeldPerDomain);
  EXPECT_EQ(verdicts_.size(), 1u);
  check(100, "s3cret");  // over the bound: refused unchecked at once
  ASSERT_EQ(verdicts_.size(), 2u);
  EXPECT_EQ(verdicts_[1].query, 100u);
  EXPECT_FALSE(verdicts_[1].ok);
  check(200, "another", "other.example.org");
  ASSERT_EQ(verdicts_.size(), 3u);
  EXPECT_TRUE(verdicts_[2].ok);
  // A cancelled one is never answered and its place is free.
  handshakes_.cancel(2);
  handshakes_.cancel(12345);  // unknown: nothing
  EXPECT_EQ(handshakes_.held(), ComponentHandshakes::kMaxHeldPerDomain - 1);
  check(101, "guess");
  EXPECT_EQ(handshakes_.held(), ComponentHandshakes::kMaxHeldPerDomain);
  advance(seconds(1));
  EXPECT_EQ(handshakes_.held(), 0u);
  EXPECT_EQ(std::count_if(verdicts_.begin(), verdicts_.end(), [](const Verdict& v) { return v.query == 2; }), 0);
  EXPECT_EQ(verdicts_.size(), 3u + ComponentHandshakes::kMaxHeldPerDomain);
}

// Review 19 finding 4: the verdict says which secret it was checked with, so that the router
// can refuse one checked with a secret a reload it has already seen replaced.
TEST_F(ComponentHandshakesTest, VerdictCarriesTheCheckedSecretsTag) {
  secrets_.set({{"gateway.example.org", "old"}}, {{"gateway.example.org", "tag-old"}});
  check(1, "old");
  check(2, "guess");
  // A held handshake is checked, and tagged, with the secrets in force when it is answered.
  check(3, "new");
  secrets_.set({{"gateway.example.org", "new"}}, {{"gateway.example.org", "tag-new"}});
  advance(seconds(1));
  ASSERT_EQ(verdicts_.size(), 3u);
  EXPECT_TRUE(verdicts_[0].ok);
  EXPECT_EQ(verdicts_[0].secret_tag, "tag-old");
  EXPECT_FALSE(verdicts_[1].ok);
  EXPECT_EQ(verdicts_[1].secret_tag, "");
  EXPECT_TRUE(verdicts_[2].ok);
  EXPECT_EQ(verdicts_[2].secret_tag, "tag-new");
}

TEST_F(ComponentHandshakesTest, UnknownDomainsLeaveNoEntryAndReloadDropsRemoved) {
  check(1, "guess", "unknown.example.org");
  check(2, "guess", "unknown.example.org");
  EXPECT_EQ(verdicts_.size(), 2u);  // never held: nothing is counted for it
  check(3, "guess");
  secrets_.set({{"other.example.org", "another"}});
  handshakes_.reconfigured();
  secrets_.set({{"gateway.example.org", "s3cret"}});
  check(4, "s3cret");  // the old count went with the section
  ASSERT_EQ(verdicts_.size(), 4u);
  EXPECT_TRUE(verdicts_[3].ok);
}

}  // namespace
}  // namespace xmppd::auth
