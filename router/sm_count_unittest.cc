// XEP-0198 counts: what a client may write as h, and what an h acknowledges across the wrap
// at 2^32.
#include "router/sm_count.h"

#include <gtest/gtest.h>

namespace xmppd::router {
namespace {

TEST(SmCount, ParsesUnsigned32BitDecimalsOnly) {
  EXPECT_EQ(parse_sm_count("0"), 0u);
  EXPECT_EQ(parse_sm_count("4294967295"), 4294967295u);
  for (std::string_view bad : {"", "-1", "+1", " 1", "1 ", "4294967296", "0x10", "1e3", "abc"})
    EXPECT_EQ(parse_sm_count(bad), std::nullopt) << bad;
}

TEST(SmCount, AcknowledgesModulo2To32) {
  EXPECT_EQ(newly_acknowledged(0, 0, 0), 0u);
  EXPECT_EQ(newly_acknowledged(0, 3, 5), 3u);
  EXPECT_EQ(newly_acknowledged(0, 5, 5), 5u);
  EXPECT_EQ(newly_acknowledged(0, 6, 5), std::nullopt);
  // Past the wrap: 4294967294 acknowledged, 4 more sent, h wrapped to 1 = 3 of them.
  EXPECT_EQ(newly_acknowledged(4294967294u, 1, 4), 3u);
  EXPECT_EQ(newly_acknowledged(4294967294u, 3, 4), std::nullopt);
  // An h behind the last one is a count from far in the future: refused.
  EXPECT_EQ(newly_acknowledged(10, 9, 5), std::nullopt);
}

}  // namespace
}  // namespace xmppd::router
