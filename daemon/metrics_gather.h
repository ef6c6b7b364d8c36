// The parent's side of /metrics: the HTTP process asks MetricsRequest{id}; the parent asks
// every running child MetricsQuery (through AdminQueries, with a 2 s deadline), labels each
// child's samples with process="ROLE", adds its own (restarts, uptime, generation, its own
// memory and CPU) and answers MetricsReport{id} once every child has answered or its
// question expired or the child stopped.
//
// Holds one gather at a time and starts at most one per kMinInterval, so that an HTTP
// process (compromised, or a flood of scrapes) cannot keep the parent and every child busy
// gathering: a request within the interval gets the last report under its own id. Requests
// that come while a gather is open wait (a few) and get that gather's report under their own
// ids; past kMaxWaiting a request is refused (the parent takes it for a protocol violation:
// the HTTP process asks once at a time). Trusts no child: a child's samples are bounded in number
// and relabelled here, and the HTTP process checks names and values again before rendering.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

#include "control.pb.h"
#include "daemon/admin_queries.h"
#include "reports.pb.h"

namespace xmppd::parent {

class MetricsGather {
 public:
  static constexpr std::size_t kMaxWaiting = 4;
  // At most one gather starts per this interval (sec review 17 #8).
  static constexpr std::chrono::milliseconds kMinInterval{1000};
  // A child's answer is cut at this many samples (a few hundred are expected).
  static constexpr int kMaxSamplesPerChild = 4096;
  // The AdminQueries clients the parent asks children for: one per role, so that the
  // per-client limit of xmppctl does not stop a gather; far above any xmppctl client's id.
  static constexpr AdminQueries::ClientId kClientBase = AdminQueries::ClientId{1} << 62;
  static AdminQueries::ClientId client_for(ipc::Role role) { return kClientBase + static_cast<unsigned>(role); }
  static bool is_gather_client(AdminQueries::ClientId client) {
    return client >= kClientBase && client < kClientBase + 64;
  }

  enum class Arrival { kStartNow, kFromLast, kWaits, kRefused };
  // A MetricsRequest at `now`: start a gather now (begin()), answer it with last(id) (a gather
  // started less than kMinInterval ago), it waits for the open gather, or there are too many.
  Arrival request(std::uint64_t id, std::chrono::steady_clock::time_point now);
  // The last finished gather's report under `id` (after request() said kFromLast).
  ipc::MetricsReport last(std::uint64_t id) const;
  // Starts the gather of the request `request` returned kStartNow for (or next()'s) with the
  // parent's own samples, waiting for `children` answers.
  void begin(ipc::Metrics own, std::size_t children);
  // One child's question is settled: `metrics` its answer, or nullptr when none came. True
  // when the gather is complete: take its report with finish().
  bool settled(std::string_view process, const ipc::Metrics* metrics);
  bool complete() const { return open_ && waiting_ == 0; }
  ipc::MetricsReport finish();
  // After finish(): the requests that waited for it, each answered with its report under its
  // own id; the queue is empty afterwards.
  std::vector<ipc::MetricsReport> answer_waiting();
  bool open() const { return open_; }

 private:
  bool open_ = false;
  bool begun_ = false;
  std::uint64_t id_ = 0;
  bool started_any_ = false;
  std::chrono::steady_clock::time_point last_start_{};
  ipc::Metrics last_;  // the last finished gather's samples
  std::size_t waiting_ = 0;
  ipc::Metrics metrics_;
  std::deque<std::uint64_t> queued_;
};

// Adds process="NAME" to every sample (exposed for the unit test).
void label_samples(ipc::Metrics& metrics, std::string_view process);

}  // namespace xmppd::parent
