// The order in which remote servers are tried: priority first, RFC 2782 weights inside a
// priority, both SRV record sets merged (XEP-0368), and what "." and no records mean.
#include "s2s-worker/srv_order.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace xmppd::s2s {
namespace {

using Records = std::vector<SrvRecord>;

// Hands out a fixed sequence of values and remembers each bound it was asked for.
struct ScriptedRandom {
  ScriptedRandom() = default;
  explicit ScriptedRandom(std::vector<std::uint32_t> scripted) : values(std::move(scripted)) {}

  std::vector<std::uint32_t> values;
  std::vector<std::uint32_t> bounds;
  std::size_t next = 0;

  SrvRandom fn() {
    return [this](std::uint32_t bound) {
      bounds.push_back(bound);
      return next < values.size() ? values[next++] : 0;
    };
  }
};

std::uint32_t always_zero(std::uint32_t) { return 0; }

std::vector<std::string> hosts(const SrvPlan& plan) {
  std::vector<std::string> out;
  for (const Target& target : plan.targets) out.push_back(target.host);
  return out;
}

using Hosts = std::vector<std::string>;

TEST(SrvOrder, OrdersByPriority) {
  Records xmpp{{20, 0, 5269, "b.example"}, {10, 0, 5269, "a.example"}, {30, 0, 5269, "c.example"}};
  SrvPlan plan = plan_targets("example", std::nullopt, xmpp, always_zero);
  ASSERT_EQ(plan.outcome, SrvOutcome::kTargets);
  EXPECT_EQ(hosts(plan), (Hosts{"a.example", "b.example", "c.example"}));
}

TEST(SrvOrder, WeightedSelectionFollowsRunningSums) {
  Records xmpp{{10, 10, 5269, "a"}, {10, 20, 5269, "b"}, {10, 30, 5269, "c"}};
  // Sums a=10 b=30 c=60: 25 picks b; then a=10 c=40: 40 picks c; then a alone.
  ScriptedRandom random({25, 40, 3});
  SrvPlan plan = plan_targets("example", std::nullopt, xmpp, random.fn());
  EXPECT_EQ(hosts(plan), (Hosts{"b", "c", "a"}));
  EXPECT_EQ(random.bounds, (std::vector<std::uint32_t>{60, 40, 10}));
}

TEST(SrvOrder, WeightedSelectionBoundaryValues) {
  Records xmpp{{10, 10, 5269, "a"}, {10, 20, 5269, "b"}, {10, 30, 5269, "c"}};
  // 10 is still a's (first running sum >= value); 11 would be b's. Then b=20 c=50: 21 picks c.
  ScriptedRandom random({10, 21, 0});
  SrvPlan plan = plan_targets("example", std::nullopt, xmpp, random.fn());
  EXPECT_EQ(hosts(plan), (Hosts{"a", "c", "b"}));
  EXPECT_EQ(random.bounds, (std::vector<std::uint32_t>{60, 50, 20}));

  ScriptedRandom next({11, 0, 0});
  EXPECT_EQ(hosts(plan_targets("example", std::nullopt, xmpp, next.fn())), (Hosts{"b", "a", "c"}));
}

TEST(SrvOrder, WeightZeroGoesFirstInThePoolAndWinsOnlyOnZero) {
  Records xmpp{{10, 5, 5269, "heavy"}, {10, 0, 5269, "zero1"}, {10, 0, 5269, "zero2"}};
  // Pool is zero1, zero2, heavy. 0 picks zero1; then zero2, heavy: 1 picks heavy; zero2 last.
  ScriptedRandom random({0, 1, 0});
  EXPECT_EQ(hosts(plan_targets("example", std::nullopt, xmpp, random.fn())), (Hosts{"zero1", "heavy", "zero2"}));
  EXPECT_EQ(random.bounds, (std::vector<std::uint32_t>{5, 5, 0}));

  // Any non-zero value skips the weight-0 records until only they are left.
  ScriptedRandom high({5, 0, 0});
  EXPECT_EQ(hosts(plan_targets("example", std::nullopt, xmpp, high.fn())), (Hosts{"heavy", "zero1", "zero2"}));
}

TEST(SrvOrder, AllWeightsZeroKeepInputOrder) {
  Records xmpp{{10, 0, 5269, "a"}, {10, 0, 5269, "b"}, {10, 0, 5269, "c"}};
  ScriptedRandom random;
  EXPECT_EQ(hosts(plan_targets("example", std::nullopt, xmpp, random.fn())), (Hosts{"a", "b", "c"}));
  EXPECT_EQ(random.bounds, (std::vector<std::uint32_t>{0, 0, 0}));
}

TEST(SrvOrder, OutOfRangeRandomValueIsClamped) {
  Records xmpp{{10, 10, 5269, "a"}, {10, 20, 5269, "b"}};
  ScriptedRandom random({1000, 1000});
  EXPECT_EQ(hosts(plan_targets("example", std::nullopt, xmpp, random.fn())), (Hosts{"b", "a"}));
}

TEST(SrvOrder, MergesBothKindsAtTheSamePriorityByWeight) {
  Records xmpps{{10, 10, 5223, "tls.example"}};
  Records xmpp{{10, 30, 5269, "starttls.example"}};
  // Pool: tls (running 10), starttls (running 40).
  ScriptedRandom low({5, 0});
  SrvPlan plan = plan_targets("example", xmpps, xmpp, low.fn());
  ASSERT_EQ(plan.targets.size(), 2u);
  EXPECT_EQ(plan.targets[0].host, "tls.example");
  EXPECT_EQ(plan.targets[0].port, 5223);
  EXPECT_TRUE(plan.targets[0].direct_tls);
  EXPECT_EQ(plan.targets[1].host, "starttls.example");
  EXPECT_EQ(plan.targets[1].port, 5269);
  EXPECT_FALSE(plan.targets[1].direct_tls);
  EXPECT_EQ(low.bounds, (std::vector<std::uint32_t>{40, 30}));

  ScriptedRandom high({15, 0});
  EXPECT_EQ(hosts(plan_targets("example", xmpps, xmpp, high.fn())), (Hosts{"starttls.example", "tls.example"}));
}

TEST(SrvOrder, MergesBothKindsAcrossPriorities) {
  Records xmpps{{30, 0, 443, "tls-late"}, {10, 0, 5223, "tls-early"}};
  Records xmpp{{20, 0, 5269, "starttls-mid"}, {40, 0, 5269, "starttls-last"}};
  SrvPlan plan = plan_targets("example", xmpps, xmpp, always_zero);
  ASSERT_EQ(plan.outcome, SrvOutcome::kTargets);
  EXPECT_EQ(hosts(plan), (Hosts{"tls-early", "starttls-mid", "tls-late", "starttls-last"}));
  EXPECT_TRUE(plan.targets[0].direct_tls);
  EXPECT_FALSE(plan.targets[1].direct_tls);
  EXPECT_TRUE(plan.targets[2].direct_tls);
  EXPECT_EQ(plan.targets[2].port, 443);
  EXPECT_FALSE(plan.targets[3].direct_tls);
}

TEST(SrvOrder, DotInXmppServerMeansNoService) {
  Records dot{{0, 0, 0, "."}};
  for (const auto& xmpps : {std::optional<Records>{}, std::optional<Records>{Records{}}, std::optional<Records>{dot}}) {
    SrvPlan plan = plan_targets("example", xmpps, dot, always_zero);
    EXPECT_EQ(plan.outcome, SrvOutcome::kNoService);
    EXPECT_TRUE(plan.targets.empty());
  }
  // A resolver that strips the trailing dot leaves the root as "".
  EXPECT_EQ(plan_targets("example", std::nullopt, Records{{0, 0, 0, ""}}, always_zero).outcome, SrvOutcome::kNoService);
}

TEST(SrvOrder, DotInXmppServerStillAllowsDirectTls) {
  Records xmpps{{10, 0, 5223, "tls.example"}};
  SrvPlan plan = plan_targets("example", xmpps, Records{{0, 0, 0, "."}}, always_zero);
  ASSERT_EQ(plan.outcome, SrvOutcome::kTargets);
  ASSERT_EQ(plan.targets.size(), 1u);
  EXPECT_EQ(plan.targets[0].host, "tls.example");
  EXPECT_TRUE(plan.targets[0].direct_tls);
}

TEST(SrvOrder, DotInXmppsServerOnlyMeansNoDirectTls) {
  Records dot{{0, 0, 0, "."}};
  Records xmpp{{10, 0, 5269, "starttls.example"}};
  SrvPlan plan = plan_targets("example", dot, xmpp, always_zero);
  ASSERT_EQ(plan.outcome, SrvOutcome::kTargets);
  EXPECT_EQ(hosts(plan), (Hosts{"starttls.example"}));
  EXPECT_FALSE(plan.targets[0].direct_tls);

  // With no _xmpp-server records either, the A/AAAA fallback still applies.
  SrvPlan fallback = plan_targets("example.org", dot, std::nullopt, always_zero);
  ASSERT_EQ(fallback.outcome, SrvOutcome::kTargets);
  ASSERT_EQ(fallback.targets.size(), 1u);
  EXPECT_EQ(fallback.targets[0].host, "example.org");
  EXPECT_EQ(fallback.targets[0].port, kDefaultServerPort);
  EXPECT_FALSE(fallback.targets[0].direct_tls);
}

TEST(SrvOrder, DotAmongOtherRecordsIsSkipped) {
  Records xmpp{{10, 0, 0, "."}, {20, 0, 5269, "real.example"}};
  SrvPlan plan = plan_targets("example", std::nullopt, xmpp, always_zero);
  ASSERT_EQ(plan.outcome, SrvOutcome::kTargets);
  EXPECT_EQ(hosts(plan), (Hosts{"real.example"}));
}

TEST(SrvOrder, FallsBackToTheDomainWithoutRecords) {
  const std::optional<Records> none;
  const std::optional<Records> empty{Records{}};
  for (const auto& [xmpps, xmpp] :
       {std::pair{none, none}, std::pair{empty, empty}, std::pair{none, empty}, std::pair{empty, none}}) {
    SrvPlan plan = plan_targets("example.org", xmpps, xmpp, always_zero);
    ASSERT_EQ(plan.outcome, SrvOutcome::kTargets);
    ASSERT_EQ(plan.targets.size(), 1u);
    EXPECT_EQ(plan.targets[0].host, "example.org");
    EXPECT_EQ(plan.targets[0].port, 5269);
    EXPECT_FALSE(plan.targets[0].direct_tls);
  }
}

TEST(SrvOrder, NoFallbackWhenOnlyDirectTlsIsPublished) {
  Records xmpps{{10, 0, 5223, "tls.example"}};
  EXPECT_EQ(hosts(plan_targets("example", xmpps, std::nullopt, always_zero)), (Hosts{"tls.example"}));
}

TEST(SrvOrder, DuplicatesAppearOnceAtTheirBestPlace) {
  Records xmpp{{30, 0, 5269, "dup.example"}, {10, 0, 5269, "DUP.example"}, {20, 0, 5269, "other.example"}};
  SrvPlan plan = plan_targets("example", std::nullopt, xmpp, always_zero);
  EXPECT_EQ(hosts(plan), (Hosts{"DUP.example", "other.example"}));
}

TEST(SrvOrder, SameHostWithOtherPortOrKindIsNotADuplicate) {
  Records xmpps{{10, 0, 5269, "host.example"}};
  Records xmpp{{10, 0, 5269, "host.example"}, {20, 0, 5270, "host.example"}, {30, 0, 5269, "host.example"}};
  SrvPlan plan = plan_targets("example", xmpps, xmpp, always_zero);
  ASSERT_EQ(plan.targets.size(), 3u);
  EXPECT_TRUE(plan.targets[0].direct_tls);
  EXPECT_FALSE(plan.targets[1].direct_tls);
  EXPECT_EQ(plan.targets[1].port, 5269);
  EXPECT_EQ(plan.targets[2].port, 5270);
}

TEST(SrvOrder, FirstPickFollowsWeightsStatistically) {
  Records xmpp{{10, 10, 5269, "light"}, {10, 90, 5269, "heavy"}};
  std::mt19937 engine(20240601);
  SrvRandom random = [&engine](std::uint32_t bound) {
    return std::uniform_int_distribution<std::uint32_t>(0, bound)(engine);
  };
  constexpr int kRuns = 10000;
  int light_first = 0;
  for (int i = 0; i < kRuns; ++i) {
    SrvPlan plan = plan_targets("example", std::nullopt, xmpp, random);
    ASSERT_EQ(plan.targets.size(), 2u);
    if (plan.targets[0].host == "light") ++light_first;
  }
  // RFC 2782 draws from [0, 100], so "light" wins 11 of 101 values (10.9%); a few standard
  // deviations are about 1 point, 3 points cannot flake.
  const double share = 100.0 * light_first / kRuns;
  EXPECT_NEAR(share, 10.0, 3.0);
  EXPECT_NEAR(100.0 - share, 90.0, 3.0);
}

}  // namespace
}  // namespace xmppd::s2s
