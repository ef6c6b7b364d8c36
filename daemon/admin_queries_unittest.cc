#include "daemon/admin_queries.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "daemon/process_status.h"

namespace xmppd::parent {
namespace {

using Clock = AdminQueries::Clock;

ipc::AdminQuery show_c2s() {
  ipc::AdminQuery q;
  q.mutable_show_c2s();
  return q;
}

ipc::AdminAnswer sessions(std::uint64_t id, bool more = false) {
  ipc::AdminAnswer a;
  a.set_id(id);
  a.mutable_c2s()->add_sessions()->set_jid("alice@a.test/phone");
  a.set_more(more);
  return a;
}

TEST(AdminQueries, AnAnswerGoesToWhoAsked) {
  AdminQueries queries;
  ipc::AdminQuery q = show_c2s();
  ASSERT_TRUE(queries.ask(7, ipc::ROLE_ROUTER, q, Clock::now()));
  std::string why;
  auto delivery = queries.check(ipc::ROLE_ROUTER, sessions(q.id()), why);
  ASSERT_TRUE(delivery) << why;
  EXPECT_EQ(delivery->client, 7u);
  EXPECT_TRUE(delivery->last);
  EXPECT_EQ(queries.pending(), 0u);
  // Answered once: the same id again is refused.
  EXPECT_FALSE(queries.check(ipc::ROLE_ROUTER, sessions(q.id()), why));
}

TEST(AdminQueries, ForgedAndMisdirectedAnswersAreRefused) {
  AdminQueries queries;
  ipc::AdminQuery q = show_c2s();
  ASSERT_TRUE(queries.ask(1, ipc::ROLE_ROUTER, q, Clock::now()));
  std::string why;
  // An id never asked.
  EXPECT_FALSE(queries.check(ipc::ROLE_ROUTER, sessions(q.id() + 1), why));
  EXPECT_FALSE(queries.check(ipc::ROLE_ROUTER, sessions(0), why));
  // The right id from another child: the auth helper cannot answer the router's question.
  EXPECT_FALSE(queries.check(ipc::ROLE_AUTH, sessions(q.id()), why));
  EXPECT_FALSE(queries.check(ipc::ROLE_S2S, sessions(q.id()), why));
  // The right child, the wrong kind.
  ipc::AdminAnswer users;
  users.set_id(q.id());
  users.mutable_users()->add_usernames("alice");
  EXPECT_FALSE(queries.check(ipc::ROLE_ROUTER, users, why));
  ipc::AdminAnswer empty;
  empty.set_id(q.id());
  EXPECT_FALSE(queries.check(ipc::ROLE_ROUTER, empty, why));
  // Still open for the honest answer.
  EXPECT_EQ(queries.pending(), 1u);
  EXPECT_TRUE(queries.check(ipc::ROLE_ROUTER, sessions(q.id()), why));
}

TEST(AdminQueries, PagesKeepTheirKindAndOnlyTheLastEndsTheQuestion) {
  AdminQueries queries;
  ipc::AdminQuery q = show_c2s();
  ASSERT_TRUE(queries.ask(3, ipc::ROLE_ROUTER, q, Clock::now()));
  std::string why;
  for (int i = 0; i < 5; ++i) {
    auto d = queries.check(ipc::ROLE_ROUTER, sessions(q.id(), true), why);
    ASSERT_TRUE(d) << why;
    EXPECT_FALSE(d->last);
  }
  ipc::AdminAnswer paged_done;
  paged_done.set_id(q.id());
  paged_done.mutable_done()->set_error("x");
  paged_done.set_more(true);
  EXPECT_FALSE(queries.check(ipc::ROLE_ROUTER, paged_done, why));
  auto d = queries.check(ipc::ROLE_ROUTER, sessions(q.id()), why);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->last);
  EXPECT_EQ(queries.pending(), 0u);
}

TEST(AdminQueries, ActionsTakeAdminDoneOnly) {
  EXPECT_TRUE(AdminQueries::fits(ipc::AdminQuery::kKick, ipc::AdminAnswer::kDone));
  EXPECT_FALSE(AdminQueries::fits(ipc::AdminQuery::kKick, ipc::AdminAnswer::kC2S));
  EXPECT_FALSE(AdminQueries::fits(ipc::AdminQuery::kCloseS2S, ipc::AdminAnswer::kS2S));
  EXPECT_TRUE(AdminQueries::fits(ipc::AdminQuery::kUsers, ipc::AdminAnswer::kUsers));
  EXPECT_TRUE(AdminQueries::fits(ipc::AdminQuery::kShowS2S, ipc::AdminAnswer::kS2S));
  EXPECT_FALSE(AdminQueries::fits(ipc::AdminQuery::QUESTION_NOT_SET, ipc::AdminAnswer::kUsers));
}

TEST(AdminQueries, PendingQuestionsAreBounded) {
  AdminQueries queries;
  const auto now = Clock::now();
  for (std::size_t i = 0; i < AdminQueries::kMaxPerClient; ++i) {
    ipc::AdminQuery q = show_c2s();
    EXPECT_TRUE(queries.ask(1, ipc::ROLE_ROUTER, q, now));
  }
  ipc::AdminQuery q = show_c2s();
  EXPECT_FALSE(queries.ask(1, ipc::ROLE_ROUTER, q, now));
  EXPECT_TRUE(queries.ask(2, ipc::ROLE_ROUTER, q, now));
  queries.client_gone(1);
  // Its questions no longer count against it, but still against the whole until they end.
  EXPECT_TRUE(queries.ask(1, ipc::ROLE_ROUTER, q, now));
  EXPECT_EQ(queries.pending(), AdminQueries::kMaxPerClient + 2);
  for (AdminQueries::ClientId c = 100; queries.pending() < AdminQueries::kMaxPending; ++c)
    ASSERT_TRUE(queries.ask(c, ipc::ROLE_AUTH, q, now));
  EXPECT_FALSE(queries.ask(99999, ipc::ROLE_AUTH, q, now));
}

TEST(AdminQueries, AChildThatStopsOrStallsGetsItsQuestionsAnswered) {
  AdminQueries queries;
  const auto now = Clock::now();
  ipc::AdminQuery a = show_c2s(), b = show_c2s(), c;
  c.mutable_users()->set_host("a.test");
  ASSERT_TRUE(queries.ask(1, ipc::ROLE_ROUTER, a, now));
  ASSERT_TRUE(queries.ask(2, ipc::ROLE_ROUTER, b, now));
  ASSERT_TRUE(queries.ask(3, ipc::ROLE_AUTH, c, now));
  EXPECT_EQ(queries.child_gone(ipc::ROLE_ROUTER), (std::vector<AdminQueries::ClientId>{1, 2}));
  std::string why;
  // A restarted router answering its predecessor's question: refused.
  EXPECT_FALSE(queries.check(ipc::ROLE_ROUTER, sessions(a.id()), why));
  EXPECT_TRUE(queries.expired(now + std::chrono::seconds(1)).empty());
  EXPECT_EQ(queries.expired(now + AdminQueries::kTimeout), (std::vector<AdminQueries::ClientId>{3}));
  EXPECT_EQ(queries.pending(), 0u);
}

TEST(AdminQueries, PagesForAClientThatLeftGoToNobody) {
  AdminQueries queries;
  ipc::AdminQuery q = show_c2s();
  ASSERT_TRUE(queries.ask(5, ipc::ROLE_ROUTER, q, Clock::now()));
  std::string why;
  ASSERT_TRUE(queries.check(ipc::ROLE_ROUTER, sessions(q.id(), true), why));
  queries.client_gone(5);
  auto d = queries.check(ipc::ROLE_ROUTER, sessions(q.id()), why);
  ASSERT_TRUE(d) << why;
  EXPECT_EQ(d->client, AdminQueries::kNobody);
  EXPECT_EQ(queries.pending(), 0u);
}

TEST(ProcessStatus, ReadsResidentAndAddressSpace) {
  ProcessMemory m = parse_process_status("Name:\txmppd\nVmSize:\t  10240 kB\nVmLck:\t 0 kB\nVmRSS:\t    512 kB\n");
  EXPECT_EQ(m.address_space_bytes, 10240u * 1024);
  EXPECT_EQ(m.resident_bytes, 512u * 1024);
  EXPECT_EQ(parse_process_status("VmRSS: lots\n").resident_bytes, 0u);
  // This very process, on a system with /proc.
  if (access("/proc/self/status", R_OK) == 0) {
    EXPECT_GT(process_memory(getpid()).resident_bytes, 0u);
  }
  EXPECT_EQ(process_memory(0).resident_bytes, 0u);
}

}  // namespace
}  // namespace xmppd::parent
