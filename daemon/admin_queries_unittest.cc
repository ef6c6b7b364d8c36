#include "daemon/admin_queries.h"

#include <gtest/gtest.h>

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
  AdminQueries::Refusal why;
  auto delivery = queries.check(ipc::ROLE_ROUTER, sessions(q.id()), why);
  ASSERT_TRUE(delivery) << why.why;
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
  AdminQueries::Refusal why;
  // Each of these breaks the protocol: the parent restarts the child that sent it.
  auto violation = [&](ipc::Role from, const ipc::AdminAnswer& answer) {
    return !queries.check(from, answer, why) && why.violation;
  };
  // An id never asked.
  EXPECT_TRUE(violation(ipc::ROLE_ROUTER, sessions(q.id() + 1)));
  EXPECT_TRUE(violation(ipc::ROLE_ROUTER, sessions(0)));
  // The right id from another child: the auth helper cannot answer the router's question.
  EXPECT_TRUE(violation(ipc::ROLE_AUTH, sessions(q.id())));
  EXPECT_TRUE(violation(ipc::ROLE_S2S, sessions(q.id())));
  // The right child, the wrong kind.
  ipc::AdminAnswer users;
  users.set_id(q.id());
  users.mutable_users()->add_usernames("alice");
  EXPECT_TRUE(violation(ipc::ROLE_ROUTER, users));
  ipc::AdminAnswer empty;
  empty.set_id(q.id());
  EXPECT_TRUE(violation(ipc::ROLE_ROUTER, empty));
  // An account result for a question that is not an account request.
  ipc::AccountResult result;
  result.set_id(q.id());
  EXPECT_FALSE(queries.check_account(ipc::ROLE_ROUTER, result, why));
  EXPECT_TRUE(why.violation);
  // Still open for the honest answer.
  EXPECT_EQ(queries.pending(), 1u);
  EXPECT_TRUE(queries.check(ipc::ROLE_ROUTER, sessions(q.id()), why));
}

TEST(AdminQueries, PagesKeepTheirKindAndOnlyTheLastEndsTheQuestion) {
  AdminQueries queries;
  ipc::AdminQuery q = show_c2s();
  ASSERT_TRUE(queries.ask(3, ipc::ROLE_ROUTER, q, Clock::now()));
  AdminQueries::Refusal why;
  for (int i = 0; i < 5; ++i) {
    auto d = queries.check(ipc::ROLE_ROUTER, sessions(q.id(), true), why);
    ASSERT_TRUE(d) << why.why;
    EXPECT_FALSE(d->last);
  }
  ipc::AdminAnswer paged_done;
  paged_done.set_id(q.id());
  paged_done.mutable_done()->set_error("x");
  paged_done.set_more(true);
  EXPECT_FALSE(queries.check(ipc::ROLE_ROUTER, paged_done, why));
  EXPECT_TRUE(why.violation);
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

// status asks every child its memory: the answer must be a MemoryUsage (or AdminDone) to the
// question asked that child, and the question expires after kMemoryTimeout, not kTimeout.
TEST(AdminQueries, MemoryQuestionsTakeMemoryAnswersAndExpireSoon) {
  EXPECT_TRUE(AdminQueries::fits(ipc::AdminQuery::kMemory, ipc::AdminAnswer::kMemory));
  EXPECT_FALSE(AdminQueries::fits(ipc::AdminQuery::kMemory, ipc::AdminAnswer::kC2S));
  EXPECT_FALSE(AdminQueries::fits(ipc::AdminQuery::kShowC2S, ipc::AdminAnswer::kMemory));
  AdminQueries queries;
  const auto now = Clock::now();
  ipc::AdminQuery router, tls;
  router.mutable_memory();
  tls.mutable_memory();
  ASSERT_TRUE(queries.ask(5, ipc::ROLE_ROUTER, router, now, AdminQueries::kMemoryTimeout));
  ASSERT_TRUE(queries.ask(5, ipc::ROLE_TLS, tls, now, AdminQueries::kMemoryTimeout));
  ipc::AdminAnswer answer;
  answer.set_id(router.id());
  answer.mutable_memory()->set_resident_bytes(1 << 20);
  AdminQueries::Refusal why;
  // From the tls helper, the router's question: a violation, the tls helper is restarted.
  EXPECT_FALSE(queries.check(ipc::ROLE_TLS, answer, why));
  EXPECT_TRUE(why.violation);
  auto delivery = queries.check(ipc::ROLE_ROUTER, answer, why);
  ASSERT_TRUE(delivery) << why.why;
  EXPECT_EQ(delivery->client, 5u);
  EXPECT_EQ(delivery->question, ipc::AdminQuery::kMemory);
  // A list where memory was asked: a violation.
  answer.set_id(tls.id());
  answer.mutable_users();
  EXPECT_FALSE(queries.check(ipc::ROLE_TLS, answer, why));
  EXPECT_TRUE(why.violation);
  EXPECT_EQ(queries.expired(now + AdminQueries::kMemoryTimeout), (std::vector<AdminQueries::ClientId>{5}));
}

TEST(AdminQueries, PendingQuestionsAreBounded) {
  static_assert(AdminQueries::kMaxPerClient == 4 && AdminQueries::kMaxPerChild == 4);
  AdminQueries queries;
  const auto now = Clock::now();
  ipc::AdminQuery q = show_c2s();
  // One client: at most kMaxPerClient, whichever children it asks.
  for (ipc::Role role : {ipc::ROLE_ROUTER, ipc::ROLE_AUTH, ipc::ROLE_ROUTER, ipc::ROLE_AUTH})
    EXPECT_TRUE(queries.ask(1, role, q, now));
  EXPECT_FALSE(queries.ask(1, ipc::ROLE_S2S, q, now));
  // One child: at most kMaxPerChild, whoever asks (each list waits in its memory).
  EXPECT_TRUE(queries.ask(2, ipc::ROLE_ROUTER, q, now));
  EXPECT_TRUE(queries.ask(3, ipc::ROLE_ROUTER, q, now));
  EXPECT_FALSE(queries.ask(4, ipc::ROLE_ROUTER, q, now));
  ipc::AccountRequest account;
  EXPECT_TRUE(queries.ask_account(3, account, now));
  EXPECT_TRUE(queries.ask_account(4, account, now));
  EXPECT_FALSE(queries.ask_account(5, account, now));
  EXPECT_TRUE(queries.ask(4, ipc::ROLE_S2S, q, now));
  queries.client_gone(1);
  // Its questions no longer count against it, but still against their child until they end.
  EXPECT_TRUE(queries.ask(1, ipc::ROLE_S2S, q, now));
  EXPECT_FALSE(queries.ask(5, ipc::ROLE_AUTH, q, now));
  EXPECT_EQ(queries.pending(), 10u);
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
  AdminQueries::Refusal why;
  // A restarted router answering its predecessor's question: refused, as late, not forged.
  EXPECT_FALSE(queries.check(ipc::ROLE_ROUTER, sessions(a.id()), why));
  EXPECT_FALSE(why.violation);
  EXPECT_TRUE(queries.expired(now + std::chrono::seconds(1)).empty());
  EXPECT_EQ(queries.expired(now + AdminQueries::kTimeout), (std::vector<AdminQueries::ClientId>{3}));
  EXPECT_EQ(queries.pending(), 0u);
  // Its answer after the deadline: late, only logged.
  ipc::AdminAnswer late;
  late.set_id(c.id());
  late.mutable_users();
  EXPECT_FALSE(queries.check(ipc::ROLE_AUTH, late, why));
  EXPECT_FALSE(why.violation);
}

TEST(AdminQueries, AccountRequestsAreAnsweredOnceByTheAuthHelper) {
  AdminQueries queries;
  const auto now = Clock::now();
  ipc::AccountRequest request;
  ASSERT_TRUE(queries.ask_account(6, request, now));
  ipc::AccountResult result;
  result.set_id(request.id());
  AdminQueries::Refusal why;
  EXPECT_FALSE(queries.check_account(ipc::ROLE_ROUTER, result, why));
  EXPECT_TRUE(why.violation);
  // An AdminAnswer with the account request's id: not the kind asked.
  ipc::AdminAnswer done;
  done.set_id(request.id());
  done.mutable_done();
  EXPECT_FALSE(queries.check(ipc::ROLE_AUTH, done, why));
  EXPECT_TRUE(why.violation);
  auto d = queries.check_account(ipc::ROLE_AUTH, result, why);
  ASSERT_TRUE(d) << why.why;
  EXPECT_EQ(d->client, 6u);
  EXPECT_FALSE(queries.check_account(ipc::ROLE_AUTH, result, why));
  EXPECT_FALSE(why.violation);
  // The auth helper dies with a request open: its client is answered at once.
  ASSERT_TRUE(queries.ask_account(7, request, now));
  EXPECT_EQ(queries.child_gone(ipc::ROLE_AUTH), (std::vector<AdminQueries::ClientId>{7}));
}

TEST(AdminQueries, AReloadWaitsForTheCredentialsOfItsGeneration) {
  AdminQueries queries;
  const auto now = Clock::now();
  ipc::ReloadResult taken;
  taken.set_taken(true);
  taken.set_generation(3);
  ASSERT_TRUE(queries.ask_reload(8, taken, now));
  EXPECT_TRUE(queries.credentials_loaded(2).empty());
  auto done = queries.credentials_loaded(3);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].first, 8u);
  EXPECT_TRUE(done[0].second.taken());
  EXPECT_EQ(queries.pending(), 0u);
  // A tls helper that never says: the client is told at the deadline.
  ASSERT_TRUE(queries.ask_reload(9, taken, now));
  EXPECT_EQ(queries.expired(now + AdminQueries::kTimeout), (std::vector<AdminQueries::ClientId>{9}));
}

TEST(AdminQueries, PagesForAClientThatLeftGoToNobody) {
  AdminQueries queries;
  ipc::AdminQuery q = show_c2s();
  ASSERT_TRUE(queries.ask(5, ipc::ROLE_ROUTER, q, Clock::now()));
  AdminQueries::Refusal why;
  ASSERT_TRUE(queries.check(ipc::ROLE_ROUTER, sessions(q.id(), true), why));
  queries.client_gone(5);
  auto d = queries.check(ipc::ROLE_ROUTER, sessions(q.id()), why);
  ASSERT_TRUE(d) << why.why;
  EXPECT_EQ(d->client, AdminQueries::kNobody);
  EXPECT_EQ(queries.pending(), 0u);
}

}  // namespace
}  // namespace xmppd::parent
