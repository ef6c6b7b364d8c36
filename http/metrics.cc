#include "http/metrics.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include <memory>

#include "common/log.h"
#include "http/http_server.h"

namespace xmppd::http {

MetricsHandler::MetricsHandler(struct event_base* base, Send send_to_parent, std::chrono::milliseconds timeout)
    : send_(std::move(send_to_parent)),
      timeout_(evtimer_new(base, on_timeout, this)),
      timeout_after_(timeout) {}

// Nobody is left waiting without an answer: evhttp frees a request only once it is replied to.
MetricsHandler::~MetricsHandler() { answer_all(nullptr); }

bool MetricsHandler::configure(const ipc::HttpSettings& settings, std::string& error) {
  enabled_ = false;
  std::vector<std::string> ips(settings.metrics_allow_ips().begin(), settings.metrics_allow_ips().end());
  if (!access_.configure(ips, settings.metrics_allow_cidr(), error)) return false;
  enabled_ = settings.metrics();
  return true;
}

void MetricsHandler::attach(ipc::TypedChannel<ipc::ParentToChild>& control) {
  control.on(ipc::ParentToChild::kMetricsReport, 0,
             [this](const ipc::ParentToChild& e, auto&) { report(e.metrics_report()); });
}

int MetricsHandler::on_headers(evhttp_request* req, const RequestInfo& info) {
  if (!enabled_) return HTTP_NOTFOUND;
  if (!access_.allows(info.address)) return 403;
  return evhttp_request_get_command(req) == EVHTTP_REQ_GET ? 0 : HTTP_BADMETHOD;
}

std::uint64_t MetricsHandler::max_body(evhttp_request*, const RequestInfo&, std::uint64_t) { return 0; }

// The server has called on_headers() already (and added the security headers).
void MetricsHandler::on_request(evhttp_request* req, const RequestInfo&) {
  if (waiting_.size() >= kMaxWaiting) return send_error(req, HTTP_SERVUNAVAIL);
  const char* accept = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept");
  waiting_.push_back(Waiting{req, choose_metrics_format(accept != nullptr ? accept : "")});
  if (open_id_ != 0) return;  // the open question's report answers this one too
  open_id_ = next_id_++;
  ipc::ChildToParent message;
  message.mutable_metrics_request()->set_id(open_id_);
  send_(message);
  const timeval tv = {static_cast<time_t>(timeout_after_.count() / 1000),
                      static_cast<suseconds_t>(timeout_after_.count() % 1000 * 1000)};
  event_add(timeout_.get(), &tv);
}

void MetricsHandler::report(const ipc::MetricsReport& report) {
  if (report.id() != open_id_ || open_id_ == 0) return;  // late: its requests got 503
  answer_all(&report.metrics());
}

void MetricsHandler::on_timeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<MetricsHandler*>(arg);
  log::warning("metrics: no report from the parent in %lld ms; answering 503",
               static_cast<long long>(self->timeout_after_.count()));
  self->answer_all(nullptr);
}

void MetricsHandler::answer_all(const ipc::Metrics* metrics) {
  open_id_ = 0;
  if (timeout_) event_del(timeout_.get());
  std::vector<Waiting> waiting = std::move(waiting_);
  waiting_.clear();
  MetricsText texts[2];
  bool rendered[2] = {false, false};
  for (const Waiting& w : waiting) {
    if (metrics == nullptr) {
      send_error(w.req, HTTP_SERVUNAVAIL);
      continue;
    }
    const int i = w.format == MetricsFormat::kOpenMetrics ? 0 : 1;
    if (!rendered[i]) {
      texts[i] = render_metrics(*metrics, w.format);
      rendered[i] = true;
      if (texts[i].dropped > 0) log::warning("metrics: %zu samples left out (bad names or values)", texts[i].dropped);
    }
    evkeyvalq* headers = evhttp_request_get_output_headers(w.req);
    evhttp_add_header(headers, "Content-Type", metrics_content_type(w.format));
    evhttp_add_header(headers, "Cache-Control", "no-store");
    std::unique_ptr<evbuffer, decltype(&evbuffer_free)> body(evbuffer_new(), evbuffer_free);
    evbuffer_add(body.get(), texts[i].body.data(), texts[i].body.size());
    evhttp_send_reply(w.req, HTTP_OK, "OK", body.get());
  }
}

}  // namespace xmppd::http
