// Which epochs the worker's key ring accepts, and which key it hands out.
#include "s2s-worker/dialback_key_ring.h"

#include <gtest/gtest.h>

#include <string>

#include "xmpp/dialback_key.h"

namespace xmppd::s2s {
namespace {

using xmpp::dialback_key;
using xmpp::epoch_key;

constexpr std::string_view kSecret = "s3cr3tf0rd14lb4ck";
constexpr std::string_view kReceiving = "xmpp.example.com";
constexpr std::string_view kOriginating = "example.org";
constexpr std::string_view kStreamId = "D60000229F";

// The keys a worker given (epoch N, epoch N-1) hands out and accepts.
struct Epochs {
  std::string key[4] = {epoch_key(kSecret, 10), epoch_key(kSecret, 11), epoch_key(kSecret, 12), epoch_key(kSecret, 13)};
  std::string made_in(int epoch) const { return dialback_key(key[epoch], kReceiving, kOriginating, kStreamId); }
};

TEST(DialbackKeyRing, MakesKeysWithTheCurrentEpochOnly) {
  Epochs e;
  DialbackKeyRing ring;
  EXPECT_EQ(ring.make(kReceiving, kOriginating, kStreamId), "");
  ring.set(e.key[1], e.key[0]);
  EXPECT_EQ(ring.make(kReceiving, kOriginating, kStreamId), e.made_in(1));
  // Not the long-term secret's key: a worker holding the ring cannot make that.
  EXPECT_NE(ring.make(kReceiving, kOriginating, kStreamId), dialback_key(kSecret, kReceiving, kOriginating, kStreamId));
}

TEST(DialbackKeyRing, AcceptsTheCurrentAndThePreviousEpochOnly) {
  Epochs e;
  DialbackKeyRing ring;
  ring.set(e.key[2], e.key[1]);
  EXPECT_TRUE(ring.matches(kReceiving, kOriginating, kStreamId, e.made_in(2)));
  EXPECT_TRUE(ring.matches(kReceiving, kOriginating, kStreamId, e.made_in(1)));
  EXPECT_FALSE(ring.matches(kReceiving, kOriginating, kStreamId, e.made_in(0)));
  EXPECT_FALSE(ring.matches(kReceiving, kOriginating, kStreamId, e.made_in(3)));
  EXPECT_FALSE(
      ring.matches(kReceiving, kOriginating, kStreamId, dialback_key(kSecret, kReceiving, kOriginating, kStreamId)));
  // The next epoch: what was current is still accepted, what was previous no more.
  ring.set(e.key[3], e.key[2]);
  EXPECT_TRUE(ring.matches(kReceiving, kOriginating, kStreamId, e.made_in(2)));
  EXPECT_FALSE(ring.matches(kReceiving, kOriginating, kStreamId, e.made_in(1)));
  // Other inputs are still refused with a valid epoch.
  EXPECT_FALSE(ring.matches(kReceiving, kOriginating, "other-id", e.made_in(3)));
}

TEST(DialbackKeyRing, FirstEpochHasNoPrevious) {
  Epochs e;
  DialbackKeyRing ring;
  EXPECT_FALSE(ring.matches(kReceiving, kOriginating, kStreamId, ""));
  ring.set(e.key[0], "");
  EXPECT_TRUE(ring.matches(kReceiving, kOriginating, kStreamId, e.made_in(0)));
  EXPECT_FALSE(ring.matches(kReceiving, kOriginating, kStreamId, ""));
  EXPECT_FALSE(
      ring.matches(kReceiving, kOriginating, kStreamId, dialback_key("", kReceiving, kOriginating, kStreamId)));
}

}  // namespace
}  // namespace xmppd::s2s
