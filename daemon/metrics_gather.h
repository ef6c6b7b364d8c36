// The parent's side of /metrics: the HTTP process asks MetricsRequest{id}; the parent asks
// every running child MetricsQuery (through AdminQueries, with a 2 s deadline), labels each
// child's samples with process="ROLE", adds its own (restarts, uptime, generation, its own
// memory and CPU) and answers MetricsReport{id} once every child has answered or its
// question expired or the child stopped.
//
// Holds one gather at a time; requests that come meanwhile wait (a few), and each gets a
// fresh gather of its own when the open one is answered; past kMaxWaiting a request is
// refused (the parent takes it for a protocol violation: the HTTP process asks once at a
// time). Trusts no child: a child's samples are bounded in number
// and relabelled here, and the HTTP process checks names and values again before rendering.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>

#include "control.pb.h"
#include "daemon/admin_queries.h"
#include "reports.pb.h"

namespace xmppd::parent {

class MetricsGather {
 public:
  static constexpr std::size_t kMaxWaiting = 4;
  // A child's answer is cut at this many samples (a few hundred are expected).
  static constexpr int kMaxSamplesPerChild = 4096;
  // The AdminQueries clients the parent asks children for: one per role, so that the
  // per-client limit of xmppctl does not stop a gather; far above any xmppctl client's id.
  static constexpr AdminQueries::ClientId kClientBase = AdminQueries::ClientId{1} << 62;
  static AdminQueries::ClientId client_for(ipc::Role role) { return kClientBase + static_cast<unsigned>(role); }
  static bool is_gather_client(AdminQueries::ClientId client) {
    return client >= kClientBase && client < kClientBase + 64;
  }

  enum class Arrival { kStartNow, kWaits, kRefused };
  // A MetricsRequest: start a gather now (begin()), it waits its turn, or there are too many.
  Arrival request(std::uint64_t id);
  // Starts the gather of the request `request` returned kStartNow for (or next()'s) with the
  // parent's own samples, waiting for `children` answers.
  void begin(ipc::Metrics own, std::size_t children);
  // One child's question is settled: `metrics` its answer, or nullptr when none came. True
  // when the gather is complete: take its report with finish().
  bool settled(std::string_view process, const ipc::Metrics* metrics);
  bool complete() const { return open_ && waiting_ == 0; }
  ipc::MetricsReport finish();
  // The request waiting next, if any; it is taken off the queue and becomes the open one.
  std::optional<std::uint64_t> next();
  bool open() const { return open_; }

 private:
  bool open_ = false;
  bool begun_ = false;
  std::uint64_t id_ = 0;
  std::size_t waiting_ = 0;
  ipc::Metrics metrics_;
  std::deque<std::uint64_t> queued_;
};

// Adds process="NAME" to every sample (exposed for the unit test).
void label_samples(ipc::Metrics& metrics, std::string_view process);

}  // namespace xmppd::parent
