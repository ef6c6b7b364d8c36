// The XEP-0198 counters of server-to-server streams: what an acknowledgement removes, what
// it may not claim, and the wrap of 'h' at 2^32.
#include "s2s-worker/stream_acks.h"

#include <gtest/gtest.h>

namespace xmppd::s2s {
namespace {

AckQueue::Entry entry(std::string xml) { return AckQueue::Entry{"a.test", std::move(xml), 0}; }

TEST(ParseH, AcceptsDecimalUint32Only) {
  EXPECT_EQ(parse_h("0"), 0u);
  EXPECT_EQ(parse_h("4294967295"), 4294967295u);
  EXPECT_EQ(parse_h("4294967296"), std::nullopt);
  EXPECT_EQ(parse_h(""), std::nullopt);
  EXPECT_EQ(parse_h("-1"), std::nullopt);
  EXPECT_EQ(parse_h("+1"), std::nullopt);
  EXPECT_EQ(parse_h("1x"), std::nullopt);
  EXPECT_EQ(parse_h(" 1"), std::nullopt);
}

TEST(AckQueue, AcknowledgementRemovesTheOldest) {
  AckQueue q;
  q.sent(entry("<message id='1'/>"));
  q.sent(entry("<message id='2'/>"));
  q.sent(entry("<message id='3'/>"));
  EXPECT_EQ(q.sent_count(), 3u);
  ASSERT_TRUE(q.acknowledge(2));
  EXPECT_EQ(q.unacked(), 1u);
  EXPECT_EQ(q.bytes(), std::string("<message id='3'/>").size());
  auto left = q.take();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left.front().xml, "<message id='3'/>");
  EXPECT_EQ(q.unacked(), 0u);
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(AckQueue, RepeatedAcknowledgementChangesNothing) {
  AckQueue q;
  q.sent(entry("<a/>"));
  q.sent(entry("<b/>"));
  ASSERT_TRUE(q.acknowledge(1));
  ASSERT_TRUE(q.acknowledge(1));
  EXPECT_EQ(q.unacked(), 1u);
  ASSERT_TRUE(q.acknowledge(0 + 2));
  EXPECT_EQ(q.unacked(), 0u);
}

TEST(AckQueue, RefusesMoreThanWasSent) {
  AckQueue q;
  q.sent(entry("<a/>"));
  EXPECT_FALSE(q.acknowledge(2));
  EXPECT_FALSE(q.acknowledge(999));
  EXPECT_EQ(q.unacked(), 1u);
  ASSERT_TRUE(q.acknowledge(1));
  // Going back is never allowed: it reads as about 2^32 more.
  EXPECT_FALSE(q.acknowledge(0));
}

TEST(AckQueue, WrapsAt2To32) {
  AckQueue q(4294967294u);  // two below the wrap
  for (int i = 0; i < 4; ++i) q.sent(entry("<y/>"));
  EXPECT_EQ(q.sent_count(), 2u);
  ASSERT_TRUE(q.acknowledge(4294967295u));
  EXPECT_EQ(q.unacked(), 3u);
  ASSERT_TRUE(q.acknowledge(1));  // across the wrap
  EXPECT_EQ(q.unacked(), 1u);
  EXPECT_FALSE(q.acknowledge(3));
  ASSERT_TRUE(q.acknowledge(2));
  EXPECT_EQ(q.unacked(), 0u);
}

TEST(AckQueue, FullAtEitherBound) {
  AckQueue q;
  for (std::size_t i = 0; i + 1 < AckQueue::kMaxStanzas; ++i) q.sent(entry("<m/>"));
  EXPECT_FALSE(q.full());
  q.sent(entry("<m/>"));
  EXPECT_TRUE(q.full());
  ASSERT_TRUE(q.acknowledge(1));
  EXPECT_FALSE(q.full());
  AckQueue big;
  big.sent(entry(std::string(AckQueue::kMaxBytes, 'x')));
  EXPECT_TRUE(big.full());
}

TEST(HandledCount, CountsAndChecksAcknowledgements) {
  HandledCount c;
  EXPECT_EQ(c.h(), 0u);
  c.handled();
  c.handled();
  EXPECT_EQ(c.h(), 2u);
  EXPECT_TRUE(c.acknowledge(0));
  EXPECT_FALSE(c.acknowledge(1));  // nothing was sent this way
  c.sent();
  EXPECT_TRUE(c.acknowledge(1));
  EXPECT_FALSE(c.acknowledge(0));  // backwards
}

}  // namespace
}  // namespace xmppd::s2s
