// What the router takes from the auth helper in a SASL failure: an RFC 6120 condition (it
// becomes an element in the client's stream), and an unsupported channel binding type only
// as a cb-name with invalid-mechanism (it goes to the log, and the stream does not count it);
// and what an account change's answer may say.
#include "router/auth_link.h"

#include <event2/event.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/frame.h"

namespace xmppd::router {
namespace {

ipc::SaslFailure failure(const std::string& condition, const std::string& binding = {}) {
  ipc::SaslFailure f;
  f.set_attempt(1);
  f.set_condition(condition);
  f.set_unsupported_channel_binding(binding);
  return f;
}

TEST(AuthLinkFailure, ConditionsAreRfc6120Ones) {
  for (const char* condition : {"not-authorized", "temporary-auth-failure", "invalid-mechanism", "malformed-request",
                                "invalid-authzid", "aborted"})
    EXPECT_EQ(refused_failure(failure(condition)), nullptr) << condition;
  for (const char* condition : {"", "not-authorized/><success", "Not-Authorized", "bad-request"})
    EXPECT_NE(refused_failure(failure(condition)), nullptr) << condition;
}

TEST(AuthLinkFailure, UnsupportedChannelBindingOnlyWithInvalidMechanism) {
  EXPECT_EQ(refused_failure(failure("invalid-mechanism", "tls-unique")), nullptr);
  EXPECT_EQ(refused_failure(failure("invalid-mechanism", "tls-server-end-point")), nullptr);
  // A wrong password cannot be passed off as a binding type, to escape the stream's count.
  EXPECT_NE(refused_failure(failure("not-authorized", "tls-unique")), nullptr);
  // It goes into the log: a cb-name (RFC 5056), and short.
  EXPECT_NE(refused_failure(failure("invalid-mechanism", "tls unique")), nullptr);
  EXPECT_NE(refused_failure(failure("invalid-mechanism", "tls-unique\n")), nullptr);
  EXPECT_NE(refused_failure(failure("invalid-mechanism", std::string(65, 'a'))), nullptr);
  EXPECT_EQ(refused_failure(failure("invalid-mechanism", std::string(64, 'a'))), nullptr);
}

// An account change's refusal becomes a stanza error condition in the client's stream.
TEST(AuthLinkAccountChange, ConditionsTheHelperMayGive) {
  for (const char* condition : {"not-authorized", "not-acceptable", "not-allowed", "internal-server-error"})
    EXPECT_TRUE(valid_change_condition(condition)) << condition;
  for (const char* condition : {"", "conflict", "not-authorized/><x", "Not-Authorized", "remote-server-not-found"})
    EXPECT_FALSE(valid_change_condition(condition)) << condition;
}

// Component handshakes against a helper's end over a real socketpair: what the router waits
// for is bounded per domain, and a stream that goes away frees its place and tells the helper.
struct Base {
  struct event_base* base = event_base_new();
  ~Base() { event_base_free(base); }
};

struct ComponentFixture : Base {
  using HelperEnd = ipc::TypedChannel<ipc::RouterToAuth>;
  AuthLink link{base, [](std::string_view) {}};
  std::unique_ptr<HelperEnd> helper;
  std::vector<ipc::ComponentHandshake> handshakes;
  std::vector<std::uint64_t> cancelled;

  ComponentFixture() {
    UniqueFd router_fd, helper_fd;
    EXPECT_TRUE(ipc::make_seqpacket_pair(64 << 10, router_fd, helper_fd));
    link.link(std::move(router_fd));
    helper = std::make_unique<HelperEnd>(base, std::move(helper_fd), ipc::Limits{64 << 10, 0},
                                         ipc::Limits{64 << 10, 0}, "router");
    helper->on(ipc::RouterToAuth::kComponentHandshake, 0,
               [this](const ipc::RouterToAuth& m, auto&) { handshakes.push_back(m.component_handshake()); });
    helper->on(ipc::RouterToAuth::kComponentCancel, 0,
               [this](const ipc::RouterToAuth& m, auto&) { cancelled.push_back(m.component_cancel().query()); });
    helper->start([](ipc::CloseReason, std::string_view) {});
  }
  void run_briefly() {
    timeval tv{0, 50 * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
  }
  std::uint64_t check(const std::string& domain, std::vector<AuthLink::ComponentCheck>& answers) {
    return link.check_component(domain, "id", std::string(40, 'a'),
                                [&answers](AuthLink::ComponentCheck c, const std::string&) { answers.push_back(c); });
  }
  void verdict(std::uint64_t query, bool ok) {
    ipc::AuthToRouter m;
    m.mutable_component_verdict()->set_query(query);
    m.mutable_component_verdict()->set_ok(ok);
    helper->send(m);
    run_briefly();
  }
};

TEST(AuthLinkComponents, OneDomainsHeldHandshakesLeaveTheOthersTheirPlaces) {
  ComponentFixture f;
  std::vector<AuthLink::ComponentCheck> held, over, other;
  std::vector<std::uint64_t> ids;
  for (std::size_t i = 0; i < AuthLink::kMaxComponentChecksPerDomain; ++i) ids.push_back(f.check("guessed.test", held));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(f.check("guessed.test", over), 0u);
  EXPECT_TRUE(held.empty());
  ASSERT_EQ(over.size(), 100u);
  EXPECT_EQ(over.front(), AuthLink::ComponentCheck::kBusy);
  // Another domain still has all of its places.
  const std::uint64_t gateway = f.check("gateway.test", other);
  EXPECT_NE(gateway, 0u);
  f.run_briefly();
  EXPECT_EQ(f.handshakes.size(), AuthLink::kMaxComponentChecksPerDomain + 1);
  f.verdict(gateway, true);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other.front(), AuthLink::ComponentCheck::kAccepted);
  // A stream that goes away: the helper is told, its answer never comes, its place is free.
  f.link.cancel_component(ids.front());
  f.link.cancel_component(ids.front());  // twice: once told
  f.run_briefly();
  EXPECT_EQ(f.cancelled, std::vector<std::uint64_t>{ids.front()});
  f.verdict(ids.front(), false);
  EXPECT_TRUE(held.empty());
  std::vector<AuthLink::ComponentCheck> again;
  EXPECT_NE(f.check("guessed.test", again), 0u);
  EXPECT_TRUE(again.empty());
  f.verdict(ids.back(), false);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held.front(), AuthLink::ComponentCheck::kRefused);
}

}  // namespace
}  // namespace xmppd::router
