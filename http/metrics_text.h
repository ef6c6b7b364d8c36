// The text of /metrics, from the samples the parent gathered (proto/reports.proto Metrics).
// Pure: no I/O, unit-tested (metrics_text_unittest.cc).
//
// Trusts nothing it renders: the samples come from children that read the network, through
// the parent. A sample whose family or label name is not a metric name, whose type is not
// known, whose family was first seen with another type or help, that repeats another
// sample's labels, or whose counter value is negative or NaN, is left out and counted.
//
// Two formats, as Prometheus' own client libraries serve them:
//  - OpenMetrics 1.0 (application/openmetrics-text; version=1.0.0): # TYPE, # UNIT, # HELP
//    per family, counters' samples as FAMILY_total, "# EOF" last. Prometheus asks for it.
//  - the Prometheus text format 0.0.4 (text/plain; version=0.0.4), for every other client:
//    a counter's family is named FAMILY_total there, and `promtool check metrics` reads only
//    this format (it takes an OpenMetrics counter's samples for a family without help).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "reports.pb.h"

namespace xmppd::http {

enum class MetricsFormat { kOpenMetrics, kPrometheusText };

struct MetricsText {
  std::string body;
  std::size_t dropped = 0;  // samples left out
};

MetricsText render_metrics(const ipc::Metrics& metrics, MetricsFormat format);
// By the request's Accept header: OpenMetrics when it names application/openmetrics-text.
MetricsFormat choose_metrics_format(std::string_view accept);
const char* metrics_content_type(MetricsFormat format);

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not "__"-prefixed (reserved)
bool valid_label_name(std::string_view name);
// \\, \" and \n escaped: a label value, in both formats.
std::string escape_label_value(std::string_view value);
// The shortest text that reads back as `value`; NaN, +Inf, -Inf.
std::string format_metric_value(double value);

}  // namespace xmppd::http
