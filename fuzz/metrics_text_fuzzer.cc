// /metrics's rendering of the samples the parent gathered from children that read the
// network (http/metrics_text.h), and the access check of a peer address
// (http/metrics_access.h).
//
// Input: one byte choosing the format, then an ipc::Metrics record as a child may send it.
// Invariants: every line the renderer writes is a comment or `NAME{LABELS} VALUE` with a
// metric name, OpenMetrics ends with "# EOF", and no line break gets into a line from a
// label value or help text. The same bytes as an address never crash the access check.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/metrics_access.h"
#include "http/metrics_text.h"
#include "reports.pb.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

void check_lines(std::string_view text) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    check(end != std::string_view::npos, "the text ends with a line break");
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    if (line.starts_with("# ")) continue;
    std::size_t name = 0;
    while (name < line.size() && line[name] != '{' && line[name] != ' ') ++name;
    check(xmppd::http::valid_metric_name(line.substr(0, name)), "a sample line starts with a metric name");
    check(line.find(' ', name) != std::string_view::npos, "a sample line has a value");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto format =
      data[0] % 2 == 0 ? xmppd::http::MetricsFormat::kOpenMetrics : xmppd::http::MetricsFormat::kPrometheusText;
  xmppd::ipc::Metrics metrics;
  if (metrics.ParseFromArray(data + 1, static_cast<int>(size - 1))) {
    xmppd::http::MetricsText text = xmppd::http::render_metrics(metrics, format);
    check_lines(text.body);
    if (format == xmppd::http::MetricsFormat::kOpenMetrics) check(text.body.ends_with("# EOF\n"), "# EOF last");
  }
  xmppd::http::MetricsAccess access;
  std::string error;
  check(access.configure({"::1", "127.0.0.1"}, "10.0.0.0/8", error), "the default list parses");
  (void)access.allows(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  return 0;
}
