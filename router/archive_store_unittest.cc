// The archive through store::Database on both backends, a real SQLite file and a real
// PostgreSQL server of the test's own (skipped, saying so, where PostgreSQL is not
// installed): batched writes, paging both ways with filters, the per-user quota, expiry in
// chunks, removal.
#include "router/archive_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include <sqlite3.h>

#include "common/sqlite.h"
#include "store/postgres_database.h"
#include "store/postgres_test_server.h"
#include "store/remote_database.h"
#include "store/schema.h"
#include "store/sqlite_database.h"

namespace xmppd::router {
namespace {

class ArchiveStoreTest : public ::testing::TestWithParam<store::Dialect> {
 protected:
  static void SetUpTestSuite() {
    if (!store::PostgresTestServer::available()) return;
    std::string error;
    server_ = store::PostgresTestServer::start(error).release();
    ASSERT_NE(server_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    std::string error;
    if (GetParam() == store::Dialect::kPostgres) {
      if (!store::PostgresTestServer::available())
        GTEST_SKIP() << "no PostgreSQL: " << store::PostgresTestServer::bindir() << "/initdb is missing";
      ASSERT_NE(server_, nullptr);
      std::string conninfo = server_->fresh_database(error);
      ASSERT_FALSE(conninfo.empty()) << error;
      auto pg = store::PostgresDatabase::connect(conninfo, error);
      ASSERT_NE(pg, nullptr) << error;
      ASSERT_TRUE(store::upgrade_schema(*pg, error)) << error;
      db_ = std::move(pg);
    } else {
      char dir[] = "/tmp/archive_store_unittest.XXXXXX";
      ASSERT_NE(mkdtemp(dir), nullptr);
      dir_ = dir;
      auto lite = store::SqliteDatabase::open(dir_ + "/user.sqlite", error);
      ASSERT_NE(lite, nullptr) << error;
      ASSERT_TRUE(store::upgrade_schema(*lite, error)) << error;
      sqlite_ = lite.get();
      db_ = std::move(lite);
    }
    store_.emplace(*db_, 0);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string add(std::string_view owner, std::string_view with, std::int64_t stamp) {
    std::string id = ArchiveStore::new_id();
    store_->append({std::string(owner), id, std::string(with), stamp, "", "<message>" + id + "</message>"});
    return id;
  }
  std::vector<std::string> ids(std::string_view owner, const ArchiveStore::Filter& f, bool backward,
                               std::size_t limit) {
    std::vector<ArchiveStore::Message> page;
    EXPECT_TRUE(store_->page(owner, f, backward, limit, page)) << store_->error();
    std::vector<std::string> out;
    for (const auto& m : page) out.push_back(m.id);
    return out;
  }

  static store::PostgresTestServer* server_;
  std::string dir_;
  std::unique_ptr<store::Database> db_;
  store::SqliteDatabase* sqlite_ = nullptr;
  std::optional<ArchiveStore> store_;
};
store::PostgresTestServer* ArchiveStoreTest::server_ = nullptr;

// SQLite checks every catalog text against the schema at once; PostgreSQL runs each below.
TEST_P(ArchiveStoreTest, EveryArchiveStatementPrepares) {
  if (sqlite_ != nullptr) {
    EXPECT_TRUE(sqlite_->prepare_all()) << sqlite_->error();
  }
}

TEST_P(ArchiveStoreTest, IdsAreUnguessableAndUrlSafe) {
  std::string a = ArchiveStore::new_id(), b = ArchiveStore::new_id();
  EXPECT_EQ(a.size(), 22u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_of("+/="), std::string::npos);
}

TEST_P(ArchiveStoreTest, PendingRowsAreWrittenByFlushAndReadersFlushFirst) {
  bool called = false;
  store_->on_pending([&] { called = true; });
  std::string a = add("u@h", "x@h", 100);
  EXPECT_TRUE(called);
  EXPECT_TRUE(store_->pending());
  std::optional<ArchiveStore::Message> m;
  ASSERT_TRUE(store_->by_id("u@h", a, m));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->with, "x@h");
  EXPECT_EQ(m->stanza, "<message>" + a + "</message>");
  EXPECT_FALSE(store_->pending());
  ASSERT_TRUE(store_->by_id("other@h", a, m));
  EXPECT_FALSE(m);  // another user's id is unknown here
}

TEST_P(ArchiveStoreTest, ARowTooLargeForOneStorageRecordIsNotArchived) {
  // A stanza that grows past the link's record when serialized (1 MiB) would fail the whole batch.
  EXPECT_FALSE(store_->append({"carol@h", ArchiveStore::new_id(), "mallory@evil", 1, "",
                               "<message><body>" + std::string(1100000, 'x') + "</body></message>"}));
  EXPECT_FALSE(store_->pending());
  EXPECT_TRUE(store_->append({"carol@h", ArchiveStore::new_id(), "bob@h", 1, "", "<message/>"}));
}

TEST_P(ArchiveStoreTest, ARefusedBatchIsRetriedRowByRowAndOnlyTheBadRowIsDropped) {
  for (int i = 0; i < 3; ++i) add("alice@h", "bob@h", 100 + i);
  const std::string id = ArchiveStore::new_id();
  ASSERT_TRUE(store_->append({"carol@h", id, "bob@h", 200, "", "<message/>"}));
  ASSERT_TRUE(store_->append({"carol@h", id, "bob@h", 201, "", "<message/>"}));  // the same id: refused
  add("dave@h", "bob@h", 300);
  EXPECT_FALSE(store_->flush());
  EXPECT_FALSE(store_->pending());
  std::int64_t n = -1;
  ASSERT_TRUE(store_->count("alice@h", {}, n)) << store_->error();
  EXPECT_EQ(n, 3);
  ASSERT_TRUE(store_->count("carol@h", {}, n)) << store_->error();
  EXPECT_EQ(n, 1);
  ASSERT_TRUE(store_->count("dave@h", {}, n)) << store_->error();
  EXPECT_EQ(n, 1);
}

TEST_P(ArchiveStoreTest, PagesForwardBackwardAndFiltered) {
  std::vector<std::string> all;
  for (int i = 0; i < 6; ++i) all.push_back(add("u@h", i % 2 ? "odd@h" : "even@h", 100 + i));
  add("v@h", "even@h", 100);
  ASSERT_TRUE(store_->flush());
  EXPECT_EQ(ids("u@h", {}, false, 2), (std::vector<std::string>{all[0], all[1]}));
  EXPECT_EQ(ids("u@h", {}, true, 2), (std::vector<std::string>{all[5], all[4]}));
  ArchiveStore::Filter odd;
  odd.with = "odd@h";
  EXPECT_EQ(ids("u@h", odd, false, 10), (std::vector<std::string>{all[1], all[3], all[5]}));
  ArchiveStore::Filter window;
  window.start = 102;
  window.end = 103;
  EXPECT_EQ(ids("u@h", window, false, 10), (std::vector<std::string>{all[2], all[3]}));
  std::optional<ArchiveStore::Message> m;
  ASSERT_TRUE(store_->by_id("u@h", all[2], m));
  ArchiveStore::Filter after;
  after.after_seq = m->seq;
  EXPECT_EQ(ids("u@h", after, false, 2), (std::vector<std::string>{all[3], all[4]}));
  std::int64_t n = 0;
  ASSERT_TRUE(store_->count("u@h", odd, n));
  EXPECT_EQ(n, 3);
  std::optional<ArchiveStore::Message> first, last;
  ASSERT_TRUE(store_->ends("u@h", first, last));
  EXPECT_EQ(first->id, all[0]);
  EXPECT_EQ(last->id, all[5]);
}

TEST_P(ArchiveStoreTest, QuotaDropsTheOldest) {
  store_->set_max_per_user(3);
  std::vector<std::string> all;
  for (int i = 0; i < 5; ++i) all.push_back(add("u@h", "x@h", 100 + i));
  ASSERT_TRUE(store_->flush());
  all.push_back(add("u@h", "x@h", 200));
  ASSERT_TRUE(store_->flush());
  EXPECT_EQ(ids("u@h", {}, false, 10), (std::vector<std::string>{all[3], all[4], all[5]}));
}

// /metrics: the per-owner counts summed, read again only after kUsageInterval.
TEST_P(ArchiveStoreTest, UsageSumsTheOwnersCountsAndIsReadOncePerInterval) {
  store_->set_max_per_user(3);
  for (int i = 0; i < 5; ++i) add("u@h", "x@h", 100 + i);
  add("v@h", "x@h", 100);
  ASSERT_TRUE(store_->flush());
  auto usage = store_->usage(1000);
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->messages, 4);  // u@h's quota of 3, and v@h's one
  EXPECT_EQ(usage->owners, 2);
  add("w@h", "x@h", 100);
  ASSERT_TRUE(store_->flush());
  EXPECT_EQ(store_->usage(1000 + ArchiveStore::kUsageInterval - 1)->messages, 4);  // the last read's figures
  EXPECT_EQ(store_->usage(1000 + ArchiveStore::kUsageInterval)->messages, 5);
}

TEST_P(ArchiveStoreTest, ExpiresInChunksAndRemoves) {
  store_->set_max_per_user(4);
  for (int i = 0; i < 5; ++i) add("u@h", "x@h", 100 + i);
  std::string kept = add("u@h", "x@h", 1000);
  ASSERT_TRUE(store_->flush());
  EXPECT_EQ(store_->expire(500, 2), 2);
  EXPECT_EQ(store_->expire(500, 2), 1);
  EXPECT_EQ(store_->expire(500, 2), 0);
  EXPECT_EQ(ids("u@h", {}, false, 10), (std::vector<std::string>{kept}));
  // The counter followed the deletions: four more fit before the quota trims.
  std::vector<std::string> more;
  for (int i = 0; i < 3; ++i) more.push_back(add("u@h", "x@h", 2000));
  ASSERT_TRUE(store_->flush());
  EXPECT_EQ(ids("u@h", {}, false, 10).size(), 4u);
  EXPECT_TRUE(store_->remove("u@h", kept));
  EXPECT_EQ(ids("u@h", {}, false, 10), more);
  EXPECT_TRUE(store_->remove_user("u@h"));
  EXPECT_TRUE(ids("u@h", {}, false, 10).empty());
}

// muc_log_expires_after: a MUC service's rooms (owners in its domain) expire alone, whatever
// a domain's "_" or a look-alike owner elsewhere.
TEST_P(ArchiveStoreTest, ExpiresTheOwnersOfOneDomain) {
  add("room@conf.h", "room@conf.h/nick", 100);
  add("other@conf.h", "other@conf.h/nick", 100);
  std::string kept_user = add("u@h", "x@h", 100);
  std::string kept_lookalike = add("room@xconf.h", "x@h", 100);
  std::string kept_new = add("room@conf.h", "room@conf.h/nick", 1000);
  ASSERT_TRUE(store_->flush());
  EXPECT_EQ(store_->expire(500, 1, "conf.h"), 1);
  EXPECT_EQ(store_->expire(500, 10, "conf.h"), 1);
  EXPECT_EQ(store_->expire(500, 10, "conf.h"), 0);
  EXPECT_EQ(store_->expire(500, 10, "conf_h"), 0);
  EXPECT_EQ(ids("room@conf.h", {}, false, 10), (std::vector<std::string>{kept_new}));
  EXPECT_EQ(ids("u@h", {}, false, 10), (std::vector<std::string>{kept_user}));
  EXPECT_EQ(ids("room@xconf.h", {}, false, 10), (std::vector<std::string>{kept_lookalike}));
}

// A message to an invented local name, archived and then removed (no such account): no
// archive_usage row stays behind for that name.
TEST_P(ArchiveStoreTest, AnOwnerWithNothingLeftKeepsNoUsageRow) {
  if (sqlite_ == nullptr) GTEST_SKIP() << "the row is read with SQLite's own API";
  std::string id = add("ghost@h", "stranger@evil", 100);
  std::string kept = add("u@h", "x@h", 100);
  ASSERT_TRUE(store_->flush());
  ASSERT_TRUE(store_->remove("ghost@h", id));
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_ + "/user.sqlite").c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  sqlite3_stmt* raw_statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT group_concat(owner) FROM archive_usage", -1, &raw_statement, nullptr),
            SQLITE_OK);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(raw_statement, &sqlite3_finalize);
  ASSERT_EQ(sqlite3_step(raw_statement), SQLITE_ROW);
  const auto* owners = reinterpret_cast<const char*>(sqlite3_column_text(raw_statement, 0));
  EXPECT_EQ(std::string(owners != nullptr ? owners : ""), "u@h");
}

INSTANTIATE_TEST_SUITE_P(Backends, ArchiveStoreTest,
                         ::testing::Values(store::Dialect::kSqlite, store::Dialect::kPostgres),
                         [](const auto& info) { return info.param == store::Dialect::kSqlite ? "Sqlite" : "Postgres"; });

// While the storage process is out of reach (no link), rows wait up to the bound, and every
// append asks for another flush rather than waiting for the next query or expiry.
TEST(ArchiveStoreUnavailable, PendingRowsAreBoundedAndEachAppendAsksForARetry) {
  store::RemoteDatabase db;
  ArchiveStore archive(db, 0);
  int callbacks = 0;
  archive.on_pending([&] { ++callbacks; });
  const auto append = [&] { return archive.append({"a@x", ArchiveStore::new_id(), "b@y", 1, "", "<m/>"}); };
  EXPECT_TRUE(append());
  EXPECT_FALSE(archive.flush());
  EXPECT_TRUE(archive.pending());
  EXPECT_TRUE(append());
  EXPECT_EQ(callbacks, 2);
  int refused = 0;
  for (int i = 0; i < 20000; ++i) refused += append() ? 0 : 1;
  EXPECT_EQ(archive.pending_rows(), 10000u);
  EXPECT_EQ(refused, 20000 + 2 - 10000);
}

}  // namespace
}  // namespace xmppd::router
