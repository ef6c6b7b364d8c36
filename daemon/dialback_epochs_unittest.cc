// The parent's dialback epochs: which keys the worker gets as epochs pass, that they come from
// the secret without being it, that epochs never repeat, and when the daily one is due.
#include "daemon/dialback_epochs.h"

#include <gtest/gtest.h>

#include <chrono>

#include "xmpp/dialback_key.h"

namespace xmppd::parent {
namespace {

constexpr char kSecret[] = "a configured secret of some length";

TEST(DialbackEpochs, EachEpochHandsOnItsKeyAsThePrevious) {
  DialbackEpochs epochs(kSecret);
  epochs.advance(1000);
  ipc::DialbackKeys first = epochs.keys();
  EXPECT_EQ(first.epoch(), 1000u);
  EXPECT_EQ(first.current(), xmpp::epoch_key(kSecret, 1000));
  EXPECT_EQ(first.previous(), "");
  epochs.advance(2000);
  ipc::DialbackKeys second = epochs.keys();
  EXPECT_EQ(second.current(), xmpp::epoch_key(kSecret, 2000));
  EXPECT_EQ(second.previous(), first.current());
  epochs.advance(3000);
  EXPECT_EQ(epochs.keys().previous(), second.current());
}

TEST(DialbackEpochs, NoKeyIsTheSecret) {
  DialbackEpochs epochs(kSecret);
  epochs.advance(5);
  epochs.advance(6);
  for (const std::string& key : {epochs.keys().current(), epochs.keys().previous()}) {
    EXPECT_EQ(key.size(), 64u);
    EXPECT_EQ(key.find(kSecret), std::string::npos);
  }
}

TEST(DialbackEpochs, EpochsIncreaseWhenTheClockDoesNot) {
  DialbackEpochs epochs(kSecret);
  epochs.advance(5000);
  epochs.advance(5000);
  EXPECT_EQ(epochs.epoch(), 5001u);
  epochs.advance(10);  // the clock went back
  EXPECT_EQ(epochs.epoch(), 5002u);
  EXPECT_NE(epochs.keys().current(), epochs.keys().previous());
}

TEST(DialbackEpochs, TheWallClockNumbersEpochs) {
  DialbackEpochs epochs(kSecret);
  epochs.advance();
  // Microseconds since 1970: after 2020 (1.5e15) in any real run.
  EXPECT_GT(epochs.epoch(), 1'500'000'000'000'000u);
}

TEST(DialbackEpochs, WithoutAConfiguredSecretARandomOneIsUsed) {
  DialbackEpochs a(""), b("");
  a.advance(7);
  b.advance(7);
  EXPECT_EQ(a.keys().current().size(), 64u);
  EXPECT_NE(a.keys().current(), b.keys().current());
  EXPECT_NE(a.keys().current(), xmpp::epoch_key("", 7));
}

TEST(DialbackEpochs, AChangedSecretBeginsANewEpochAndKeepsTheOldKeyAsPrevious) {
  DialbackEpochs epochs(kSecret);
  epochs.advance(100);
  const std::string old_key = epochs.keys().current();
  EXPECT_FALSE(epochs.reconfigure(kSecret));
  EXPECT_EQ(epochs.keys().current(), old_key);
  EXPECT_TRUE(epochs.reconfigure("a new secret"));
  EXPECT_GT(epochs.epoch(), 100u);
  EXPECT_EQ(epochs.keys().current(), xmpp::epoch_key("a new secret", epochs.epoch()));
  EXPECT_EQ(epochs.keys().previous(), old_key);
}

TEST(DialbackEpochs, TheDailyEpochIsDueADayAfterTheLastOneBegan) {
  using std::chrono::hours;
  using std::chrono::minutes;
  using std::chrono::seconds;
  const auto t0 = std::chrono::steady_clock::time_point{} + hours(1000);
  DialbackEpochs epochs(kSecret);
  epochs.advance(1, t0);  // the worker's first start
  EXPECT_EQ(epochs.next_epoch_in(t0), hours(24));
  EXPECT_EQ(epochs.next_epoch_in(t0 + hours(23)), hours(1));
  // The worker restarts a minute before the daily change: the day counts from the restart,
  // so the keys it hands out now are not two epochs old seconds later.
  epochs.advance(2, t0 + hours(24) - minutes(1));
  EXPECT_EQ(epochs.next_epoch_in(t0 + hours(24)), hours(24) - minutes(1));
  EXPECT_EQ(epochs.next_epoch_in(t0 + hours(48) - minutes(1)), seconds(0));
  EXPECT_EQ(epochs.next_epoch_in(t0 + hours(72)), seconds(0));  // overdue: at once
}

TEST(DialbackEpochs, ANewSecretAlsoRestartsTheDay) {
  DialbackEpochs epochs(kSecret);
  const auto before = std::chrono::steady_clock::now();
  epochs.advance(1, before - std::chrono::hours(23));
  EXPECT_LE(epochs.next_epoch_in(before), std::chrono::hours(1));
  ASSERT_TRUE(epochs.reconfigure("a new secret"));
  EXPECT_GT(epochs.next_epoch_in(before), std::chrono::hours(23));
}

}  // namespace
}  // namespace xmppd::parent
