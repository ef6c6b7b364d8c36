// /metrics through a real HttpServer on loopback and evhttp's client: who may read it, one
// question to the parent for requests that come together, the report rendered, and 503 when
// no report comes.
#include "http/metrics.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <vector>

#include "http/http_server.h"

namespace xmppd::http {
namespace {

struct Response {
  int status = 0;
  std::string body, content_type;
  bool done = false;
};

class MetricsHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = event_base_new();
    server_ = std::make_unique<HttpServer>(base_);
    handler_ = std::make_unique<MetricsHandler>(
        base_, [this](const ipc::ChildToParent& m) { asked_.push_back(m.metrics_request().id()); },
        std::chrono::milliseconds(1000));
    server_->add("/metrics", *handler_);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(listen(fd, 16), 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    std::string error;
    ASSERT_TRUE(server_->add_listener(UniqueFd(fd), false, error)) << error;
  }
  void TearDown() override {
    for (evhttp_connection* c : connections_) evhttp_connection_free(c);
    handler_.reset();
    server_.reset();
    event_base_free(base_);
  }

  void configure(bool enabled, std::vector<std::string> ips) {
    ipc::HttpSettings s;
    s.set_metrics(enabled);
    for (auto& ip : ips) s.add_metrics_allow_ips(ip);
    std::string error;
    ASSERT_TRUE(handler_->configure(s, error)) << error;
  }

  static void on_response(evhttp_request* req, void* arg) {
    auto* r = static_cast<Response*>(arg);
    r->done = true;
    if (req == nullptr) return;
    r->status = evhttp_request_get_response_code(req);
    evbuffer* in = evhttp_request_get_input_buffer(req);
    r->body.assign(reinterpret_cast<const char*>(evbuffer_pullup(in, -1)), evbuffer_get_length(in));
    const char* type = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    r->content_type = type != nullptr ? type : "";
  }

  // Sends a request on a connection of its own; the answer lands in `r` as the loop runs.
  void request(Response& r, evhttp_cmd_type method = EVHTTP_REQ_GET, const char* accept = nullptr) {
    evhttp_connection* c = evhttp_connection_base_new(base_, nullptr, "127.0.0.1", port_);
    connections_.push_back(c);
    evhttp_request* req = evhttp_request_new(on_response, &r);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "localhost");
    if (accept != nullptr) evhttp_add_header(evhttp_request_get_output_headers(req), "Accept", accept);
    evhttp_make_request(c, req, method, "/metrics");
  }

  void run_for(std::chrono::milliseconds time) {
    const auto end = std::chrono::steady_clock::now() + time;
    while (std::chrono::steady_clock::now() < end) event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK);
  }

  // Runs the loop until `done` or 5 s.
  template <class Done>
  void run_until(Done done) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < end) event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK);
  }

  ipc::MetricsReport report(std::uint64_t id) {
    ipc::MetricsReport r;
    r.set_id(id);
    ipc::MetricSample& s = *r.mutable_metrics()->add_samples();
    s.set_family("xmppd_c2s_logins");
    s.set_type(ipc::MetricSample::TYPE_COUNTER);
    s.set_help("Logins");
    s.set_value(3);
    return r;
  }

  event_base* base_ = nullptr;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<MetricsHandler> handler_;
  std::vector<std::uint64_t> asked_;
  std::vector<evhttp_connection*> connections_;
  unsigned short port_ = 0;
};

TEST_F(MetricsHandlerTest, RequestsTogetherShareOneQuestionAndItsReport) {
  configure(true, {"127.0.0.1"});
  Response a, b;
  request(a);
  request(b, EVHTTP_REQ_GET, "application/openmetrics-text; version=1.0.0");
  run_until([&] { return asked_.size() == 1; });
  run_for(std::chrono::milliseconds(300));  // both requests are in, well within the timeout
  ASSERT_EQ(asked_.size(), 1u);
  EXPECT_FALSE(a.done || b.done);
  handler_->report(report(asked_[0] + 1));  // not the question asked: dropped
  handler_->report(report(asked_[0]));
  run_until([&] { return a.done && b.done; });
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(a.body.find("xmppd_c2s_logins_total 3\n"), std::string::npos) << a.body;
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(b.content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_TRUE(b.body.ends_with("# EOF\n")) << b.body;
}

TEST_F(MetricsHandlerTest, NoReportIs503AndALateOneIsDropped) {
  configure(true, {"127.0.0.1"});
  Response a;
  request(a);
  run_until([&] { return a.done; });
  EXPECT_EQ(a.status, 503);
  ASSERT_EQ(asked_.size(), 1u);
  handler_->report(report(asked_[0]));  // nothing waits for it
  Response b;
  request(b);  // a fresh question
  run_until([&] { return asked_.size() == 2; });
  handler_->report(report(asked_[1]));
  run_until([&] { return b.done; });
  EXPECT_EQ(b.status, 200);
}

TEST_F(MetricsHandlerTest, AddressesMethodsAndTheModule) {
  configure(true, {"::1"});  // not 127.0.0.1
  Response forbidden;
  request(forbidden);
  run_until([&] { return forbidden.done; });
  EXPECT_EQ(forbidden.status, 403);
  configure(true, {"127.0.0.1"});
  Response post;
  request(post, EVHTTP_REQ_POST);
  run_until([&] { return post.done; });
  EXPECT_EQ(post.status, 405);
  configure(false, {"127.0.0.1"});
  Response off;
  request(off);
  run_until([&] { return off.done; });
  EXPECT_EQ(off.status, 404);
  EXPECT_TRUE(asked_.empty());
}

TEST(MetricsHandlerConfigure, AnAddressThatDoesNotParseLeavesItToNobody) {
  event_base* base = event_base_new();
  {
    MetricsHandler handler(base, [](const ipc::ChildToParent&) {});
    ipc::HttpSettings s;
    s.set_metrics(true);
    s.set_metrics_allow_cidr("10.0.0.0/99");
    std::string error;
    EXPECT_FALSE(handler.configure(s, error));
    EXPECT_NE(error.find("openmetrics_allow_cidr"), std::string::npos);
  }
  event_base_free(base);
}

}  // namespace
}  // namespace xmppd::http
