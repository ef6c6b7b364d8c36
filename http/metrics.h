// /metrics of the HTTP process (mod_http_openmetrics's place in Prosody): the server's
// counters and gauges, gathered by the parent from every process, as OpenMetrics text (or
// the Prometheus text format for a client that does not ask for OpenMetrics:
// http/metrics_text.h).
//
// Only openmetrics_allow_ips and openmetrics_allow_cidr may read it (403 otherwise), with GET
// (405 otherwise), and only when "http_openmetrics" is enabled (404 otherwise). A request
// asks the parent (ChildToParent.metrics_request) and is answered when the report comes, or
// with 503 after kReportTimeout. Requests that come while one question is open wait for the
// same report: the parent is asked at most once at a time, whatever the clients do.
//
// Trusts: the request's peer address as the kernel gave it; nothing in the report (names,
// labels and values are checked again when rendered).
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/event_ptr.h"
#include "control.pb.h"
#include "http/handler.h"
#include "http/metrics_access.h"
#include "http/metrics_text.h"
#include "proto/channel.h"

namespace xmppd::http {

class MetricsHandler final : public Handler {
 public:
  static constexpr std::chrono::seconds kReportTimeout{3};
  // Requests waiting for one report at most; more get 503 at once.
  static constexpr std::size_t kMaxWaiting = 64;
  using Send = std::function<void(const ipc::ChildToParent&)>;

  // `timeout`: kReportTimeout but in tests.
  MetricsHandler(
      struct event_base* base, Send send_to_parent,
      std::chrono::milliseconds timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kReportTimeout));
  ~MetricsHandler() override;
  // The allowed addresses, parsed now; false and why when they do not parse (nobody may then
  // read /metrics).
  bool configure(const ipc::HttpSettings& settings, std::string& error);
  // Takes ParentToChild.metrics_report on the control channel.
  void attach(ipc::TypedChannel<ipc::ParentToChild>& control);

  int on_headers(evhttp_request* req, const RequestInfo& info) override;
  std::uint64_t max_body(evhttp_request* req, const RequestInfo& info, std::uint64_t configured) override;
  void on_request(evhttp_request* req, const RequestInfo& info) override;
  // The parent's answer: every waiting request is answered with it. Another id (one answered
  // with 503 already) is dropped.
  void report(const ipc::MetricsReport& report);

 private:
  struct Waiting {
    evhttp_request* req;  // ours until replied to, even if the client went (evhttp keeps it)
    MetricsFormat format;
  };
  static void on_timeout(evutil_socket_t, short, void* arg);
  void answer_all(const ipc::Metrics* metrics);

  Send send_;
  bool enabled_ = false;
  MetricsAccess access_;
  std::uint64_t next_id_ = 1;
  std::uint64_t open_id_ = 0;  // the question the parent has, 0 when none
  std::vector<Waiting> waiting_;
  EventPtr timeout_;
  std::chrono::milliseconds timeout_after_;
};

}  // namespace xmppd::http
