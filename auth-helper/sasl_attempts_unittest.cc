// The auth helper's attempts driven as the router drives them, with a real credential store
// and a clock the tests move: slots per address prefix and in all, temporary-auth-failure
// that is not counted as a wrong password, the deadline of an unfinished attempt, delays per
// account and prefix, per prefix and (short) per account, a guesser that cannot hold up the
// owner's login, the PBKDF2 budget, and the e=unsupported-channel-binding-type path.
#include "auth-helper/sasl_attempts.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace xmppd::auth {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kHost[] = "example.org";
constexpr char kPassword[] = "r0m30myr0m30";

std::string plain(const std::string& user, const std::string& password) {
  return std::string("\0", 1) + user + std::string("\0", 1) + password;
}

class SaslAttemptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "xmppd-sasl-attempts-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::string error;
    store_ = CredentialStore::open((dir_ / "credentials.sqlite").string(), error);
    ASSERT_TRUE(store_) << error;
    for (const char* user : {"juliet", "romeo", "nurse"})
      ASSERT_TRUE(store_->set_password(kHost, user, kPassword, 4096, error)) << error;
  }
  void TearDown() override {
    attempts_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  void make(AttemptLimits limits) {
    attempts_ = std::make_unique<SaslAttempts>(
        *store_, limits, [this](const ipc::AuthToRouter& m) { sent_.push_back(m); }, [this] { return now_; });
  }

  // The router's <auth/>, with or without an initial response.
  void start(std::uint64_t id, const std::string& address, const std::string& mechanism = "PLAIN",
             std::optional<std::string> initial = std::nullopt) {
    ipc::SaslStart s;
    s.set_attempt(id);
    s.set_host(kHost);
    s.set_mechanism(mechanism);
    s.set_client_address(address);
    if (initial) {
      s.set_has_initial_response(true);
      s.set_initial_response(*initial);
    }
    attempts_->start(s);
  }
  void respond(std::uint64_t id, const std::string& data) {
    ipc::SaslResponse r;
    r.set_attempt(id);
    r.set_response(data);
    attempts_->respond(r);
  }
  // Moves the clock, running what falls due on the way exactly when the helper's timer
  // would: only at the times next_wake() gives.
  void advance(Clock::duration by) {
    const TimePoint end = now_ + by;
    for (auto wake = attempts_->next_wake(); wake && *wake <= end; wake = attempts_->next_wake()) {
      now_ = std::max(now_, *wake);
      attempts_->poll();
    }
    now_ = end;
  }
  // The answers sent so far, by attempt: "challenge", "success" or the failure condition.
  std::map<std::uint64_t, std::string> answers() const {
    std::map<std::uint64_t, std::string> out;
    for (const auto& m : sent_) {
      if (m.has_challenge()) out[m.challenge().attempt()] = "challenge";
      if (m.has_success()) out[m.success().attempt()] = "success";
      if (m.has_failure()) out[m.failure().attempt()] = m.failure().condition();
    }
    return out;
  }
  std::string answer(std::uint64_t id) const {
    auto all = answers();
    auto it = all.find(id);
    return it == all.end() ? "" : it->second;
  }
  // A whole SCRAM-SHA-256 exchange, as a client computes it.
  void scram_login(std::uint64_t id, const std::string& address, const std::string& user, const std::string& password) {
    const std::string bare = "n=" + user + ",r=clientnonce";
    start(id, address, "SCRAM-SHA-256", "n,," + bare);
    ASSERT_TRUE(sent_.back().has_challenge());
    const std::string first = sent_.back().challenge().challenge();  // r=...,s=...,i=...
    const std::size_t s_at = first.find(",s="), i_at = first.find(",i=");
    const std::string nonce = first.substr(2, s_at - 2);
    const std::optional<std::string> salt = base64_decode(first.substr(s_at + 3, i_at - s_at - 3));
    ASSERT_TRUE(salt);
    const auto iterations = static_cast<std::uint32_t>(std::stoul(first.substr(i_at + 3)));
    const std::string without_proof = "c=" + base64_encode("n,,") + ",r=" + nonce;
    const std::string auth_message = bare + "," + first + "," + without_proof;
    const SecretBytes salted = salted_password(ScramHash::kSha256, password, *salt, iterations);
    const SecretBytes key = client_key(ScramHash::kSha256, salted.view());
    respond(id, without_proof + ",p=" + base64_encode(client_proof(ScramHash::kSha256, key.view(), auth_message)));
  }
  std::string text_of(std::uint64_t id) const {
    for (const auto& m : sent_)
      if (m.has_failure() && m.failure().attempt() == id) return m.failure().text();
    return "";
  }

  fs::path dir_;
  std::unique_ptr<CredentialStore> store_;
  std::unique_ptr<SaslAttempts> attempts_;
  std::vector<ipc::AuthToRouter> sent_;
  TimePoint now_ = TimePoint() + std::chrono::hours(1000);
};

AttemptLimits small_limits() {
  AttemptLimits limits;
  limits.total = 8;
  limits.per_prefix = 3;
  return limits;
}

TEST_F(SaslAttemptsTest, SlotsAreSharedOutPerPrefix) {
  make(small_limits());  // 8 slots, a share of 3 once 4 are in use
  for (std::uint64_t id = 1; id <= 4; ++id) start(id, "192.0.2.1");
  for (std::uint64_t id = 1; id <= 4; ++id) EXPECT_EQ(answer(id), "challenge");
  start(5, "192.0.2.1");
  EXPECT_EQ(answer(5), "temporary-auth-failure");
  EXPECT_EQ(text_of(5), "too many logins in progress from your address");
  // One IPv6 /64 is one prefix, whichever addresses in it the attempts come from.
  start(6, "2001:db8:1:2::1");
  start(7, "2001:db8:1:2::2");
  start(8, "2001:db8:1:2:ffff::3");
  start(9, "2001:db8:1:2::4");
  EXPECT_EQ(answer(8), "challenge");
  EXPECT_EQ(answer(9), "temporary-auth-failure");
  // Another address still gets in, and logs in at once.
  start(10, "192.0.2.2", "PLAIN", plain("juliet", kPassword));
  EXPECT_EQ(answer(10), "success");
  // The refusals were not wrong passwords: once the address is back under its share, it
  // logs in without delay.
  attempts_->abort(1);
  attempts_->abort(2);
  start(11, "192.0.2.1", "PLAIN", plain("romeo", kPassword));
  EXPECT_EQ(answer(11), "success");
  EXPECT_EQ(attempts_->in_progress(), 5u);  // 3, 4, 6, 7, 8
}

TEST_F(SaslAttemptsTest, ThePoolIsBoundedToo) {
  AttemptLimits limits = small_limits();
  limits.total = 4;
  make(limits);
  for (std::uint64_t id = 1; id <= 4; ++id) start(id, "192.0.2." + std::to_string(id));
  start(5, "198.51.100.1");
  EXPECT_EQ(answer(5), "temporary-auth-failure");
  EXPECT_EQ(text_of(5), "too many logins in progress");
  respond(2, plain("juliet", kPassword));  // a finished attempt frees its slot
  EXPECT_EQ(answer(2), "success");
  start(6, "198.51.100.1");
  EXPECT_EQ(answer(6), "challenge");
}

TEST_F(SaslAttemptsTest, AnUnfinishedAttemptEndsAtTheDeadline) {
  make(small_limits());
  for (std::uint64_t id = 1; id <= 3; ++id) start(id, "192.0.2.1");
  advance(seconds(29));
  EXPECT_EQ(answer(1), "challenge");  // not yet
  start(4, "192.0.2.1");
  start(40, "192.0.2.1");
  EXPECT_EQ(answer(40), "temporary-auth-failure");
  advance(seconds(2));
  for (std::uint64_t id = 1; id <= 3; ++id) {
    EXPECT_EQ(answer(id), "temporary-auth-failure");
    EXPECT_EQ(text_of(id), "authentication not finished in time");
  }
  EXPECT_EQ(attempts_->in_progress(), 1u);                     // 4, which started 29 s later
  start(5, "192.0.2.1", "PLAIN", plain("juliet", kPassword));  // the slots came back
  EXPECT_EQ(answer(5), "success");
  // A late response to an expired attempt is refused, not run.
  respond(1, plain("juliet", kPassword));
  EXPECT_EQ(answer(1), "malformed-request");
}

// Wrong passwords for one account from many addresses hold its next checks back by a
// second at most (AttemptLimits::account_delay): the long delays are per account and prefix.
TEST_F(SaslAttemptsTest, DelaysPerAccount) {
  make(AttemptLimits{});
  std::uint64_t id = 1;
  // Each guess from a new address, so that only the account's count grows.
  auto guess = [&](const std::string& password) {
    start(id, "192.0.2." + std::to_string(id), "PLAIN", plain("juliet", password));
    return id++;
  };
  EXPECT_EQ(answer(guess("wrong")), "not-authorized");  // the first failure costs nothing
  EXPECT_EQ(answer(guess("wrong")), "not-authorized");  // nor the first from a new address
  // The right password, from yet another address, waits the account's second.
  const std::uint64_t right = guess(kPassword);
  const std::uint64_t wrong = guess("wrong");
  advance(milliseconds(990));
  EXPECT_EQ(answer(right), "");
  EXPECT_EQ(answer(wrong), "");
  advance(milliseconds(20));
  EXPECT_EQ(answer(right), "success");  // a delay, never a lockout
  // Only failures take the account's second: the guess went next, and the one after it
  // waits another second.
  EXPECT_EQ(answer(wrong), "not-authorized");
  const std::uint64_t after = guess("wrong");  // 10 ms after the last failure
  advance(milliseconds(980));
  EXPECT_EQ(answer(after), "");
  advance(milliseconds(20));
  EXPECT_EQ(answer(after), "not-authorized");
  // Other accounts are not held up.
  start(99, "192.0.2.200", "PLAIN", plain("romeo", kPassword));
  EXPECT_EQ(answer(99), "success");
}

// Wrong passwords for one account from one address: the delay grows there, up to 8 s.
TEST_F(SaslAttemptsTest, DelaysPerAccountAndPrefix) {
  make(AttemptLimits{});
  for (std::uint64_t id = 1; id <= 4; ++id)
    start(id, "2001:db8::" + std::to_string(id), "PLAIN", plain("juliet", "wrong"));
  EXPECT_EQ(answer(1), "not-authorized");
  advance(seconds(1) + milliseconds(10));
  EXPECT_EQ(answer(2), "not-authorized");
  advance(seconds(2));
  EXPECT_EQ(answer(3), "not-authorized");
  advance(seconds(3));
  EXPECT_EQ(answer(4), "");
  advance(seconds(1));
  EXPECT_EQ(answer(4), "not-authorized");
}

// Finding of the review after issue 11: one address kept four wrong guesses queued for an
// account, each restarting the account's 8 s delay, and the owner's login from elsewhere,
// queued behind them, reached the 30 s deadline (temporary-auth-failure: a lockout). The
// guesser's delay is now its own; the owner waits a second at most.
TEST_F(SaslAttemptsTest, AGuesserCannotLockTheOwnerOut) {
  make(AttemptLimits{});
  std::uint64_t next = 1;
  std::vector<std::uint64_t> guesses;
  // Keeps four wrong guesses from 192.0.2.66 queued, a new one as soon as one is answered.
  auto keep_guessing = [&] {
    std::erase_if(guesses, [&](std::uint64_t id) { return !answer(id).empty(); });
    while (guesses.size() < 4) {
      guesses.push_back(next);
      start(next, "192.0.2.66", "PLAIN", plain("juliet", "guess" + std::to_string(next)));
      ++next;
    }
  };
  auto run_for = [&](Clock::duration how_long) {
    for (const TimePoint end = now_ + how_long; now_ < end;) {
      keep_guessing();
      advance(milliseconds(100));
    }
  };
  run_for(seconds(20));
  const std::size_t guessed = answers().size();
  const std::uint64_t owner = 1000;
  start(owner, "198.51.100.7", "PLAIN", plain("juliet", kPassword));
  run_for(seconds(1) + milliseconds(100));
  EXPECT_EQ(answer(owner), "success");
  // The guesser is still held to one check per 8 s.
  run_for(seconds(40));
  EXPECT_LE(answers().size() - guessed, 1u + 41 / 8 + 1);
  EXPECT_EQ(attempts_->in_progress(), 4u);
  // And the owner logs in again at once meanwhile (the account's second has passed).
  start(owner + 1, "198.51.100.7", "PLAIN", plain("juliet", kPassword));
  run_for(seconds(1) + milliseconds(100));
  EXPECT_EQ(answer(owner + 1), "success");
}

// Guesses from many prefixes are held to one check a second for the account; a prefix the
// account logged in from lately goes ahead of them, so that they cannot keep its owner
// waiting until the deadline either.
TEST_F(SaslAttemptsTest, ParallelGuessesAreSerialised) {
  make(AttemptLimits{});
  start(1, "198.51.100.7", "PLAIN", plain("juliet", kPassword));
  ASSERT_EQ(answer(1), "success");
  for (std::uint64_t id = 2; id <= 41; ++id)
    start(id, "10.0." + std::to_string(id) + ".1", "PLAIN", plain("juliet", "guess" + std::to_string(id)));
  EXPECT_EQ(answers().size(), 3u);  // the first two failures cost no delay
  advance(seconds(1) + milliseconds(10));
  EXPECT_EQ(answers().size(), 4u);
  advance(seconds(1));
  EXPECT_EQ(answers().size(), 5u);
  // The owner, from where it logged in before, is next.
  start(100, "198.51.100.7", "PLAIN", plain("juliet", kPassword));
  advance(seconds(1));
  EXPECT_EQ(answer(100), "success");
  EXPECT_EQ(answers().size(), 7u);  // the owner's, and the one guess of that second
  advance(seconds(3));
  EXPECT_EQ(answers().size(), 10u);
  // Someone new from a prefix no guess came from waits its turn among the guesses: a
  // distributed guesser can hold up a first login from a new place, not a returning owner.
  advance(seconds(40));
  for (std::uint64_t id = 2; id <= 41; ++id) EXPECT_NE(answer(id), "success");
}

// The helper's timer must be set for a held failure even when nothing else happens after it.
TEST_F(SaslAttemptsTest, AHeldFailureIsAnsweredOnItsOwn) {
  make(AttemptLimits{});
  start(1, "192.0.2.1", "PLAIN", plain("juliet", "wrong"));
  start(2, "192.0.2.1", "PLAIN", plain("nobody", "wrong"));
  EXPECT_EQ(answer(2), "");
  ASSERT_TRUE(attempts_->next_wake());
  advance(seconds(1) + milliseconds(10));
  EXPECT_EQ(answer(2), "not-authorized");
  EXPECT_EQ(attempts_->in_progress(), 0u);
}

// Wrong passwords from one address prefix slow down that prefix, whatever the account.
TEST_F(SaslAttemptsTest, DelaysPerPrefix) {
  make(AttemptLimits{});
  start(1, "2001:db8::1", "PLAIN", plain("juliet", "wrong"));
  start(2, "2001:db8::2", "PLAIN", plain("romeo", "wrong"));
  EXPECT_EQ(answer(1), "not-authorized");
  EXPECT_EQ(answer(2), "");  // same /64: the second failure is answered after 1 s
  start(3, "2001:db8::3", "PLAIN", plain("nurse", kPassword));
  EXPECT_EQ(answer(3), "");  // held: the prefix's next check waits
  start(4, "2001:db8:0:1::1", "PLAIN", plain("nurse", kPassword));
  EXPECT_EQ(answer(4), "success");  // another /64 is not
  advance(seconds(3));
  EXPECT_EQ(answer(2), "not-authorized");
  EXPECT_EQ(answer(3), "success");  // a delay, never a lockout
}

// A global budget of PBKDF2 work bounds the checks per second, whatever the accounts and
// addresses (each check here is 4096 iterations).
TEST_F(SaslAttemptsTest, Pbkdf2Budget) {
  AttemptLimits limits;
  limits.iterations_per_second = 4096 * 2;  // two checks a second
  limits.iteration_burst = 4096 * 2;
  make(limits);
  std::string error;
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(store_->set_password(kHost, "user" + std::to_string(i), kPassword, 4096, error)) << error;
  for (std::uint64_t id = 0; id < 10; ++id)
    start(id, "10.1." + std::to_string(id) + ".1", "PLAIN", plain("user" + std::to_string(id), kPassword));
  EXPECT_EQ(answers().size(), 2u);  // the burst
  // A SCRAM login costs us no PBKDF2 (the client ran it): it is not held behind them.
  scram_login(100, "10.2.0.1", "juliet", kPassword);
  EXPECT_EQ(answer(100), "success");
  EXPECT_EQ(answers().size(), 3u);
  advance(seconds(1) + milliseconds(10));
  EXPECT_LE(answers().size(), 6u);
  EXPECT_GE(answers().size(), 4u);
  advance(seconds(3));
  EXPECT_EQ(answers().size(), 11u);
  for (std::uint64_t id = 0; id < 10; ++id) EXPECT_EQ(answer(id), "success");  // held, not refused
}

// Debian 12's slixmpp with SCRAM-SHA-256-PLUS and tls-unique: the RFC 5802 error, then a
// failure that is no wrong password, so that its next login is not slowed down.
TEST_F(SaslAttemptsTest, UnsupportedChannelBindingIsNotAWrongPassword) {
  make(AttemptLimits{});
  for (std::uint64_t id = 1; id <= 5; ++id) {
    ipc::SaslStart s;
    s.set_attempt(id);
    s.set_host(kHost);
    s.set_mechanism("SCRAM-SHA-256-PLUS");
    s.set_client_address("192.0.2.1");
    s.set_channel_binding("exporter");
    s.set_plus_offered(true);
    s.set_has_initial_response(true);
    s.set_initial_response("p=tls-unique,,n=juliet,r=abcdefgh");
    attempts_->start(s);
    ASSERT_EQ(answer(id), "challenge");
    const std::string server_first = sent_.back().challenge().challenge();
    const std::string nonce = server_first.substr(2, server_first.find(',') - 2);
    respond(id,
            "c=" + base64_encode("p=tls-unique,,unique") + ",r=" + nonce + ",p=" + base64_encode(std::string(32, 'x')));
    ASSERT_EQ(sent_.back().challenge().challenge(), "e=unsupported-channel-binding-type");
    if (id % 2 == 1) {
      attempts_->abort(id);  // what slixmpp does next
    } else {
      // A client that answers the error instead: the failure names the type, which the
      // router reads as no failed login.
      respond(id, "");
      ASSERT_TRUE(sent_.back().has_failure());
      EXPECT_EQ(sent_.back().failure().condition(), "invalid-mechanism");
      EXPECT_EQ(sent_.back().failure().unsupported_channel_binding(), "tls-unique");
    }
  }
  // The same address and account log in at once afterwards.
  start(10, "192.0.2.1", "PLAIN", plain("juliet", kPassword));
  EXPECT_EQ(answer(10), "success");
}

TEST_F(SaslAttemptsTest, MechanismsTheHostDoesNotOffer) {
  make(AttemptLimits{});
  attempts_->set_anonymous_hosts({"guest.example.org"});
  start(1, "192.0.2.1", "ANONYMOUS");
  start(2, "192.0.2.1", "DIGEST-MD5");
  EXPECT_EQ(answer(1), "invalid-mechanism");
  EXPECT_EQ(answer(2), "invalid-mechanism");
  EXPECT_EQ(attempts_->in_progress(), 0u);
}

// The success names the account by its token, which the helper later accepts for exactly
// that account (account_changes.h); an anonymous login has no account and gets none.
TEST_F(SaslAttemptsTest, SuccessCarriesTheAccountToken) {
  make(AttemptLimits{});
  AccountTokens tokens(std::array<std::uint8_t, AccountTokens::kKeySize>{3});
  attempts_->set_account_tokens(&tokens);
  attempts_->set_anonymous_hosts({"guest.example.org"});
  start(1, "192.0.2.1", "PLAIN", plain("juliet", kPassword));
  ASSERT_TRUE(sent_.back().has_success());
  EXPECT_TRUE(tokens.check(kHost, "juliet", sent_.back().success().account_token()));
  EXPECT_FALSE(tokens.check(kHost, "romeo", sent_.back().success().account_token()));
  scram_login(2, "192.0.2.1", "romeo", kPassword);
  ASSERT_TRUE(sent_.back().has_success());
  EXPECT_TRUE(tokens.check(kHost, "romeo", sent_.back().success().account_token()));
  ipc::SaslStart anonymous;
  anonymous.set_attempt(3);
  anonymous.set_host("guest.example.org");
  anonymous.set_mechanism("ANONYMOUS");
  anonymous.set_client_address("192.0.2.1");
  anonymous.set_has_initial_response(true);
  attempts_->start(anonymous);
  ASSERT_TRUE(sent_.back().has_success());
  EXPECT_TRUE(sent_.back().success().account_token().empty());
}

}  // namespace
}  // namespace xmppd::auth
