// Building the samples a process reports for /metrics (proto/reports.proto Metrics): one
// call per sample, so that a role's metrics() reads as a list of what it counts. The names
// and help texts are the role's own constants; the HTTP process checks them again before
// rendering (http/metrics_text.h), since a child's word is never trusted.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>

#include "reports.pb.h"

namespace xmppd::runtime {

using MetricLabels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

void add_gauge(ipc::Metrics& out, std::string_view family, std::string_view help, double value,
               MetricLabels labels = {}, std::string_view unit = {});
// Rendered as FAMILY_total: `family` carries no _total suffix.
void add_counter(ipc::Metrics& out, std::string_view family, std::string_view help, double value,
                 MetricLabels labels = {}, std::string_view unit = {});

// The TLS handshakes a network process ended (tls/handshake_counts.h), as one family.
void add_tls_handshakes(ipc::Metrics& out, std::uint64_t completed, std::uint64_t failed);

// What every process reports of itself (runtime/child.cc adds it to each role's answer):
// CPU seconds, user and system, from getrusage(RUSAGE_SELF).
void add_cpu_time(ipc::Metrics& out);

}  // namespace xmppd::runtime
