#include "daemon/metrics_gather.h"

#include <string>

namespace xmppd::parent {

void label_samples(ipc::Metrics& metrics, std::string_view process) {
  for (ipc::MetricSample& sample : *metrics.mutable_samples()) {
    // A child's own "process" label would make two samples alike: the parent's word wins.
    auto& labels = *sample.mutable_labels();
    for (int i = labels.size() - 1; i >= 0; --i)
      if (labels[i].name() == "process") labels.DeleteSubrange(i, 1);
    ipc::MetricLabel& label = *sample.add_labels();
    label.set_name("process");
    label.set_value(std::string(process));
  }
}

MetricsGather::Arrival MetricsGather::request(std::uint64_t id, std::chrono::steady_clock::time_point now) {
  if (!open_) {
    if (started_any_ && now - last_start_ < kMinInterval) return Arrival::kFromLast;
    started_any_ = true;
    last_start_ = now;
    open_ = true;
    begun_ = false;
    id_ = id;
    return Arrival::kStartNow;
  }
  if (queued_.size() >= kMaxWaiting) return Arrival::kRefused;
  queued_.push_back(id);
  return Arrival::kWaits;
}

void MetricsGather::begin(ipc::Metrics own, std::size_t children) {
  metrics_ = std::move(own);
  waiting_ = children;
  begun_ = true;
}

bool MetricsGather::settled(std::string_view process, const ipc::Metrics* metrics) {
  if (!open_ || !begun_ || waiting_ == 0) return false;  // a late settlement of a finished gather
  if (metrics != nullptr) {
    ipc::Metrics copy = *metrics;
    if (copy.samples_size() > kMaxSamplesPerChild)
      copy.mutable_samples()->DeleteSubrange(kMaxSamplesPerChild, copy.samples_size() - kMaxSamplesPerChild);
    label_samples(copy, process);
    for (ipc::MetricSample& sample : *copy.mutable_samples()) *metrics_.add_samples() = std::move(sample);
  }
  return --waiting_ == 0;
}

ipc::MetricsReport MetricsGather::last(std::uint64_t id) const {
  ipc::MetricsReport report;
  report.set_id(id);
  *report.mutable_metrics() = last_;
  return report;
}

ipc::MetricsReport MetricsGather::finish() {
  ipc::MetricsReport report;
  report.set_id(id_);
  last_ = std::move(metrics_);
  metrics_.Clear();
  *report.mutable_metrics() = last_;
  open_ = false;
  begun_ = false;
  waiting_ = 0;
  return report;
}

std::vector<ipc::MetricsReport> MetricsGather::answer_waiting() {
  std::vector<ipc::MetricsReport> reports;
  if (open_) return reports;
  for (std::uint64_t id : queued_) reports.push_back(last(id));
  queued_.clear();
  return reports;
}

}  // namespace xmppd::parent
