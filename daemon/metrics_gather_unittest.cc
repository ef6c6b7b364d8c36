// The parent's gather of every child's metrics for the HTTP process: one at a time and at
// most one per second, the waiting ones answered with its report, each child's samples
// labelled with its process and bounded.
#include "daemon/metrics_gather.h"

#include <gtest/gtest.h>

namespace xmppd::parent {
namespace {

using Clock = std::chrono::steady_clock;
const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1);

ipc::Metrics one(const std::string& family, const std::string& process_label = "") {
  ipc::Metrics m;
  ipc::MetricSample& s = *m.add_samples();
  s.set_family(family);
  s.set_type(ipc::MetricSample::TYPE_GAUGE);
  if (!process_label.empty()) {
    ipc::MetricLabel& l = *s.add_labels();
    l.set_name("process");
    l.set_value(process_label);
  }
  return m;
}

std::string process_of(const ipc::MetricSample& s) {
  std::string out;
  for (const auto& l : s.labels())
    if (l.name() == "process") out += l.value();
  return out;
}

TEST(MetricsGather, AnswersOnceEveryChildSettled) {
  MetricsGather g;
  ASSERT_EQ(g.request(7, t0), MetricsGather::Arrival::kStartNow);
  g.begin(one("xmppd_uptime_seconds"), 2);
  ipc::Metrics router = one("xmppd_c2s_sessions", "forged");  // a child's own label is replaced
  EXPECT_FALSE(g.settled("router", &router));
  EXPECT_TRUE(g.settled("s2s", nullptr));  // no answer in time
  ipc::MetricsReport report = g.finish();
  EXPECT_EQ(report.id(), 7u);
  ASSERT_EQ(report.metrics().samples_size(), 2);
  EXPECT_EQ(process_of(report.metrics().samples(1)), "router");
  EXPECT_FALSE(g.open());
  EXPECT_FALSE(g.settled("router", &router));  // late: nothing open
}

TEST(MetricsGather, LaterRequestsWaitTheirTurnAndTooManyAreRefused) {
  MetricsGather g;
  ASSERT_EQ(g.request(1, t0), MetricsGather::Arrival::kStartNow);
  for (std::uint64_t id = 2; id < 2 + MetricsGather::kMaxWaiting; ++id)
    EXPECT_EQ(g.request(id, t0), MetricsGather::Arrival::kWaits);
  EXPECT_EQ(g.request(99, t0), MetricsGather::Arrival::kRefused);
  EXPECT_TRUE(g.answer_waiting().empty());  // the first is still open
  g.begin(one("xmppd_uptime_seconds"), 0);
  EXPECT_TRUE(g.complete());
  EXPECT_EQ(g.finish().id(), 1u);
  // The waiting ones get the report just made, under their own ids, with no gather of their own.
  std::vector<ipc::MetricsReport> waiting = g.answer_waiting();
  ASSERT_EQ(waiting.size(), MetricsGather::kMaxWaiting);
  EXPECT_EQ(waiting[0].id(), 2u);
  EXPECT_EQ(waiting[0].metrics().samples_size(), 1);
  EXPECT_FALSE(g.open());
  EXPECT_TRUE(g.answer_waiting().empty());
}

TEST(MetricsGather, StartsAtMostOneGatherPerInterval) {
  MetricsGather g;
  ASSERT_EQ(g.request(1, t0), MetricsGather::Arrival::kStartNow);
  g.begin(one("xmppd_uptime_seconds"), 0);
  ASSERT_TRUE(g.complete());
  g.finish();
  // A request soon after (as a compromised HTTP process would send in a loop): the last report.
  const auto soon = t0 + MetricsGather::kMinInterval - std::chrono::milliseconds(1);
  ASSERT_EQ(g.request(2, soon), MetricsGather::Arrival::kFromLast);
  EXPECT_FALSE(g.open());
  ipc::MetricsReport report = g.last(2);
  EXPECT_EQ(report.id(), 2u);
  ASSERT_EQ(report.metrics().samples_size(), 1);
  EXPECT_EQ(report.metrics().samples(0).family(), "xmppd_uptime_seconds");
  // Once the interval has passed, a fresh gather.
  EXPECT_EQ(g.request(3, t0 + MetricsGather::kMinInterval), MetricsGather::Arrival::kStartNow);
}

TEST(MetricsGather, CutsAChildsSamples) {
  MetricsGather g;
  g.request(1, t0);
  g.begin({}, 1);
  ipc::Metrics many;
  for (int i = 0; i < MetricsGather::kMaxSamplesPerChild + 10; ++i) *many.add_samples() = one("xmppd_x").samples(0);
  EXPECT_TRUE(g.settled("router", &many));
  EXPECT_EQ(g.finish().metrics().samples_size(), MetricsGather::kMaxSamplesPerChild);
}

TEST(MetricsGather, GatherClientsAreNoXmppctlClients) {
  EXPECT_TRUE(MetricsGather::is_gather_client(MetricsGather::client_for(ipc::ROLE_HTTP)));
  EXPECT_FALSE(MetricsGather::is_gather_client(1));
  EXPECT_FALSE(MetricsGather::is_gather_client(AdminQueries::kNobody));
}

}  // namespace
}  // namespace xmppd::parent
