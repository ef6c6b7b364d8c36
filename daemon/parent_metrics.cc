// The parent's part of /metrics: the HTTP process's MetricsRequest fans out as a MetricsQuery
// to every ready child (daemon/metrics_gather.h keeps the state), and the parent adds what
// only it knows: restarts, uptime, the configuration generation, its own memory and CPU.
// A MetricsRequest is nothing but an id: the parent parses no network byte for it.
#include <sys/resource.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/parent.h"
#include "daemon/process_status.h"
#include "runtime/child.h"  // wire_role_name
#include "runtime/metric_samples.h"

namespace xmppd::parent {

void Parent::metrics_request(ChildProcess& http, const ipc::MetricsRequest& request) {
  switch (metrics_.request(request.id(), std::chrono::steady_clock::now())) {
    case MetricsGather::Arrival::kStartNow:
      return start_metrics_gather();
    case MetricsGather::Arrival::kFromLast:
      return send_metrics_report(metrics_.last(request.id()));
    case MetricsGather::Arrival::kWaits:
      return;
    case MetricsGather::Arrival::kRefused:
      // The HTTP process asks once at a time (http/metrics.h), twice around a timeout: more
      // is no honest process's doing.
      return broke_protocol(http, "more metrics requests than it may have open");
  }
}

void Parent::start_metrics_gather() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::pair<ChildProcess*, ipc::ParentToChild>> questions;
  for (auto& c : children_) {
    if (!c->ready()) continue;
    ipc::ParentToChild message;
    ipc::AdminQuery& query = *message.mutable_admin_query();
    query.mutable_metrics();
    if (admin_queries_.ask(MetricsGather::client_for(c->role()), c->role(), query, now, AdminQueries::kMemoryTimeout))
      questions.emplace_back(c.get(), std::move(message));
  }
  // Begun before anything is sent, so that every settlement finds the gather waiting.
  metrics_.begin(own_metrics(), questions.size());
  if (questions.empty()) return metrics_settled(ipc::ROLE_UNSPECIFIED, nullptr);
  // A question that cannot go finds the child stopping: child_gone() settles it.
  for (auto& [c, message] : questions) c->send(message);
}

void Parent::metrics_settled(ipc::Role role, const ipc::AdminAnswer* answer) {
  const char* name = runtime::wire_role_name(role);
  bool done = metrics_.complete() || metrics_.settled(name, answer != nullptr ? &answer->metrics() : nullptr);
  if (!done) return;
  send_metrics_report(metrics_.finish());
  for (ipc::MetricsReport& report : metrics_.answer_waiting()) send_metrics_report(std::move(report));
}

void Parent::send_metrics_report(ipc::MetricsReport report) {
  ipc::ParentToChild message;
  *message.mutable_metrics_report() = std::move(report);
  for (auto& c : children_)
    if (c->role() == ipc::ROLE_HTTP && c->ready()) c->send(message);
}

ipc::Metrics Parent::own_metrics() const {
  using runtime::add_counter;
  using runtime::add_gauge;
  ipc::Metrics metrics;
  add_gauge(metrics, "xmppd_uptime_seconds", "Seconds since xmppd started",
            static_cast<double>(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count()), {},
            "seconds");
  add_gauge(metrics, "xmppd_config_generation", "Configuration generation (1 at start, one more per reload)",
            static_cast<double>(generation_));
  for (const auto& c : children_) {
    add_counter(metrics, "xmppd_process_restarts", "Times a child process was started again after its first start",
                c->restarts(), {{"process", c->name()}});
    add_gauge(metrics, "xmppd_process_up", "Whether the process runs and has taken its configuration",
              c->ready() ? 1 : 0, {{"process", c->name()}});
  }
  ipc::Metrics self;
  ProcessMemory memory = process_memory(getpid());
  add_gauge(self, "xmppd_process_resident_memory_bytes", "Resident memory of the process",
            static_cast<double>(memory.resident_bytes), {}, "bytes");
  add_gauge(self, "xmppd_process_virtual_memory_bytes", "Address space of the process",
            static_cast<double>(memory.address_space_bytes), {}, "bytes");
  runtime::add_cpu_time(self);
  label_samples(self, "parent");
  for (ipc::MetricSample& sample : *self.mutable_samples()) *metrics.add_samples() = std::move(sample);
  return metrics;
}

}  // namespace xmppd::parent
