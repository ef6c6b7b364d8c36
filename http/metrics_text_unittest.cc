// What /metrics says of the samples the parent gathered, and what it leaves out.
#include "http/metrics_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace xmppd::http {
namespace {

void add(ipc::Metrics& m, const std::string& family, ipc::MetricSample::Type type, double value,
         std::vector<std::pair<std::string, std::string>> labels = {}, const std::string& unit = "",
         const std::string& help = "Help") {
  ipc::MetricSample& s = *m.add_samples();
  s.set_family(family);
  s.set_type(type);
  s.set_value(value);
  s.set_unit(unit);
  s.set_help(help);
  for (auto& [n, v] : labels) {
    ipc::MetricLabel& l = *s.add_labels();
    l.set_name(n);
    l.set_value(v);
  }
}

constexpr auto kCounter = ipc::MetricSample::TYPE_COUNTER;
constexpr auto kGauge = ipc::MetricSample::TYPE_GAUGE;

TEST(MetricsText, OpenMetricsGroupsFamiliesAndEndsWithEof) {
  ipc::Metrics m;
  add(m, "xmppd_logins", kCounter, 3, {{"process", "router"}});
  add(m, "xmppd_process_resident_memory_bytes", kGauge, 1024, {{"process", "router"}}, "bytes", "Resident");
  add(m, "xmppd_logins", kCounter, 1, {{"process", "s2s"}});
  MetricsText text = render_metrics(m, MetricsFormat::kOpenMetrics);
  EXPECT_EQ(text.dropped, 0u);
  EXPECT_EQ(text.body,
            "# TYPE xmppd_logins counter\n"
            "# HELP xmppd_logins Help\n"
            "xmppd_logins_total{process=\"router\"} 3\n"
            "xmppd_logins_total{process=\"s2s\"} 1\n"
            "# TYPE xmppd_process_resident_memory_bytes gauge\n"
            "# UNIT xmppd_process_resident_memory_bytes bytes\n"
            "# HELP xmppd_process_resident_memory_bytes Resident\n"
            "xmppd_process_resident_memory_bytes{process=\"router\"} 1024\n"
            "# EOF\n");
}

TEST(MetricsText, PrometheusTextNamesCounterFamiliesWithTotal) {
  ipc::Metrics m;
  add(m, "xmppd_logins", kCounter, 0.5);
  MetricsText text = render_metrics(m, MetricsFormat::kPrometheusText);
  EXPECT_EQ(text.body,
            "# HELP xmppd_logins_total Help\n"
            "# TYPE xmppd_logins_total counter\n"
            "xmppd_logins_total 0.5\n");
}

TEST(MetricsText, EscapesLabelValuesAndHelp) {
  ipc::Metrics m;
  add(m, "xmppd_x", kGauge, 1, {{"host", "a\"b\\c\nd"}}, "", "two\nlines \\ \"here\"");
  MetricsText text = render_metrics(m, MetricsFormat::kOpenMetrics);
  EXPECT_NE(text.body.find("xmppd_x{host=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text.body;
  EXPECT_NE(text.body.find("# HELP xmppd_x two\\nlines \\\\ \\\"here\\\"\n"), std::string::npos) << text.body;
  // The Prometheus text format escapes no quote in HELP.
  text = render_metrics(m, MetricsFormat::kPrometheusText);
  EXPECT_NE(text.body.find("# HELP xmppd_x two\\nlines \\\\ \"here\"\n"), std::string::npos) << text.body;
}

TEST(MetricsText, LeavesOutWhatIsNotAMetric) {
  ipc::Metrics m;
  add(m, "xmppd bad", kGauge, 1);                           // name
  add(m, "9xmppd", kGauge, 1);                              // name
  add(m, "xmppd_ok", kGauge, 1, {{"__reserved", "x"}});     // label name
  add(m, "xmppd_ok", kGauge, 1, {{"a-b", "x"}});            // label name
  add(m, "xmppd_ok", kGauge, 1, {{"a", "x"}, {"a", "y"}});  // repeated label
  add(m, "xmppd_ok", kGauge, 2, {{"a", "x"}});
  add(m, "xmppd_ok", kGauge, 3, {{"a", "x"}});    // the same series twice
  add(m, "xmppd_ok", kCounter, 3, {{"a", "z"}});  // another type in the family
  add(m, "xmppd_ok", kGauge, 3, {{"a", "w"}}, "", "other help");
  add(m, "xmppd_c", kCounter, -1);  // counters do not go down
  add(m, "xmppd_c", kCounter, std::nan(""));
  add(m, "xmppd_c_total", kCounter, 1);  // _total is the format's
  ipc::MetricSample& untyped = *m.add_samples();
  untyped.set_family("xmppd_u");
  MetricsText text = render_metrics(m, MetricsFormat::kOpenMetrics);
  EXPECT_EQ(text.dropped, 12u);
  EXPECT_EQ(text.body, "# TYPE xmppd_ok gauge\n# HELP xmppd_ok Help\nxmppd_ok{a=\"x\"} 2\n# EOF\n");
}

TEST(MetricsText, UnitOnlyWhenTheNameEndsWithIt) {
  ipc::Metrics m;
  add(m, "xmppd_uptime", kGauge, 1, {}, "seconds");
  EXPECT_EQ(render_metrics(m, MetricsFormat::kOpenMetrics).body.find("# UNIT"), std::string::npos);
}

TEST(MetricsText, Values) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(12345678901234), "12345678901234");
  EXPECT_EQ(format_metric_value(0.1), "0.1");
  EXPECT_EQ(format_metric_value(-2.5), "-2.5");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_metric_value(std::nan("")), "NaN");
}

TEST(MetricsText, Names) {
  EXPECT_TRUE(valid_metric_name("xmppd_c2s:rate"));
  EXPECT_TRUE(valid_metric_name("_x"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("1x"));
  EXPECT_FALSE(valid_metric_name("x-y"));
  EXPECT_TRUE(valid_label_name("process"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("__name__"));
}

TEST(MetricsText, FormatByAccept) {
  EXPECT_EQ(choose_metrics_format("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
            MetricsFormat::kOpenMetrics);
  EXPECT_EQ(choose_metrics_format("*/*"), MetricsFormat::kPrometheusText);
  EXPECT_EQ(choose_metrics_format(""), MetricsFormat::kPrometheusText);
}

}  // namespace
}  // namespace xmppd::http
