#include "runtime/metric_samples.h"

#include <sys/resource.h>

#include <string>

namespace xmppd::runtime {
namespace {

void add(ipc::Metrics& out, ipc::MetricSample::Type type, std::string_view family, std::string_view help, double value,
         MetricLabels labels, std::string_view unit) {
  ipc::MetricSample& sample = *out.add_samples();
  sample.set_family(std::string(family));
  sample.set_type(type);
  sample.set_help(std::string(help));
  sample.set_unit(std::string(unit));
  sample.set_value(value);
  for (const auto& [name, label_value] : labels) {
    ipc::MetricLabel& label = *sample.add_labels();
    label.set_name(std::string(name));
    label.set_value(std::string(label_value));
  }
}

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

}  // namespace

void add_gauge(ipc::Metrics& out, std::string_view family, std::string_view help, double value, MetricLabels labels,
               std::string_view unit) {
  add(out, ipc::MetricSample::TYPE_GAUGE, family, help, value, labels, unit);
}

void add_counter(ipc::Metrics& out, std::string_view family, std::string_view help, double value, MetricLabels labels,
                 std::string_view unit) {
  add(out, ipc::MetricSample::TYPE_COUNTER, family, help, value, labels, unit);
}

void add_tls_handshakes(ipc::Metrics& out, std::uint64_t completed, std::uint64_t failed) {
  static constexpr std::string_view kHelp = "TLS handshakes the process ended, by result";
  add_counter(out, "xmppd_tls_handshakes", kHelp, static_cast<double>(completed), {{"result", "completed"}});
  add_counter(out, "xmppd_tls_handshakes", kHelp, static_cast<double>(failed), {{"result", "failed"}});
}

void add_cpu_time(ipc::Metrics& out) {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return;
  static constexpr std::string_view kHelp = "CPU time the process has used, by mode";
  add_counter(out, "xmppd_process_cpu_seconds", kHelp, seconds(usage.ru_utime), {{"mode", "user"}}, "seconds");
  add_counter(out, "xmppd_process_cpu_seconds", kHelp, seconds(usage.ru_stime), {{"mode", "system"}}, "seconds");
}

}  // namespace xmppd::runtime
