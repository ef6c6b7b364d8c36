// The router's user store on a real SQLite file and on a real PostgreSQL server of the
// test's own, the same cases on each (TEST_P over the backend): one transaction per batch, a
// failed operation rolled back alone, quotas refused without touching what is kept and
// counted to the byte, paged reads; on SQLite the upgrade of a version-1 store, on
// PostgreSQL a server that goes away and comes back.
#include "router/user_store.h"

#include <gtest/gtest.h>
#include <stdio.h>

#include <string>

#include "store/postgres_test_server.h"
#include "store/test_database.h"

namespace xmppd::router {
namespace {

using Outcome = UserStore::Outcome;
using store::Backend;
constexpr UserStore::OfflineQuota kRoomy{1000, 1 << 20};

class StoreFixture {
 protected:
  // False (the test skipped or failed) when the backend's database could not be made.
  bool make(Backend backend) {
    std::string skip, error;
    db_ = store::TestDatabase::create(backend, skip, error);
    if (!skip.empty()) {
      skip_ = skip;
      return false;
    }
    EXPECT_NE(db_, nullptr) << error;
    return db_ != nullptr;
  }
  // On SQLite through UserStore::open, as the router opens its file; on PostgreSQL over a
  // connection whose schema the test applied, as the storage process does.
  UserStore& open() {
    std::string error;
    if (db_->backend() == Backend::kSqlite) {
      store_ = UserStore::open(db_->path(), error);
    } else {
      std::unique_ptr<store::Database> connection = db_->connect(error);
      if (connection) store_ = std::make_unique<UserStore>(std::move(connection), "test");
    }
    EXPECT_NE(store_, nullptr) << error;
    return *store_;
  }
  // What another connection, such as the router after a restart, finds in the database.
  long long rows_seen_elsewhere(const std::string& table) {
    return number_seen_elsewhere("SELECT count(*) FROM " + table);
  }
  long long number_seen_elsewhere(const std::string& sql) { return db_->number(sql); }
  void execute_elsewhere(const std::string& sql) {
    std::string error;
    EXPECT_TRUE(db_->execute(sql, error)) << error;
  }
  void refuse(const std::string& table, const std::string& column, const std::string& value) {
    std::string error;
    ASSERT_TRUE(db_->refuse(table, column, value, error)) << error;
  }

  std::string skip_;
  std::unique_ptr<store::TestDatabase> db_;
  std::unique_ptr<UserStore> store_;
};

class UserStoreTest : public StoreFixture, public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!make(GetParam()) && !skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override { store_.reset(); }
};

// The cases about SQLite's file itself: its versions and a file that is no database.
class SqliteUserStoreTest : public StoreFixture, public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(make(Backend::kSqlite)); }
  void TearDown() override { store_.reset(); }
};

class PostgresUserStoreTest : public StoreFixture, public ::testing::Test {
 protected:
  void SetUp() override {
    if (!make(Backend::kPostgres) && !skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override { store_.reset(); }
};

TEST_P(UserStoreTest, WritesOfABatchReachTheDiskTogetherAtCommit) {
  UserStore& store = open();
  int batches = 0;
  store.on_batch_opened([&] { ++batches; });
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(store.store_offline("alice@example.org", "<message/>", 1, kRoomy), Outcome::kStored);
  EXPECT_EQ(batches, 1);  // one transaction for the turn, not one per stanza
  EXPECT_TRUE(store.batch_open());
  EXPECT_EQ(rows_seen_elsewhere("offline"), 0);
  EXPECT_EQ(store.offline_usage("alice@example.org").messages, 10);  // the batch sees its own writes
  ASSERT_TRUE(store.commit());
  EXPECT_FALSE(store.batch_open());
  EXPECT_EQ(rows_seen_elsewhere("offline"), 10);
  ASSERT_EQ(store.store_offline("alice@example.org", "<message/>", 1, kRoomy), Outcome::kStored);
  EXPECT_EQ(batches, 2);
}

TEST_P(UserStoreTest, TheOpenBatchIsCommittedWhenTheStoreCloses) {
  open().store_offline("alice@example.org", "<message/>", 1, kRoomy);
  store_.reset();
  EXPECT_EQ(rows_seen_elsewhere("offline"), 1);
}

TEST_P(UserStoreTest, AFailedOperationIsRolledBackAloneAndTheBatchGoesOn) {
  open();
  store_.reset();
  // The roster row is written, then its version cannot be: the row must go too.
  refuse("roster_version", "bare", "victim@example.org");
  UserStore& store = open();
  ASSERT_EQ(store.store_offline("alice@example.org", "<message>kept</message>", 1, kRoomy), Outcome::kStored);
  UserStore::RosterItem item;
  item.contact = "contact@example.org";
  EXPECT_EQ(store.set_roster_item("victim@example.org", item, 100), Outcome::kFailed);
  EXPECT_FALSE(store.roster_item("victim@example.org", "contact@example.org"));
  EXPECT_TRUE(store.batch_open());
  std::int64_t version = 0;
  EXPECT_EQ(store.set_roster_item("alice@example.org", item, 100, &version), Outcome::kStored);
  EXPECT_EQ(version, 1);
  ASSERT_TRUE(store.commit());
  EXPECT_EQ(rows_seen_elsewhere("offline"), 1);
  EXPECT_EQ(rows_seen_elsewhere("roster"), 1);  // alice's item only
}

TEST_P(UserStoreTest, OfflineQuotaCountsMessagesAndBytesPerUser) {
  UserStore& store = open();
  const UserStore::OfflineQuota quota{3, 100};
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(store.store_offline("alice@example.org", std::string(20, 'a'), 1, quota), Outcome::kStored);
  EXPECT_EQ(store.store_offline("alice@example.org", "x", 1, quota), Outcome::kOverQuota);  // count
  EXPECT_EQ(store.store_offline("bob@example.org", std::string(100, 'b'), 1, quota), Outcome::kStored);
  EXPECT_EQ(store.store_offline("bob@example.org", "y", 1, quota), Outcome::kOverQuota);  // bytes
  ASSERT_TRUE(store.commit());
  EXPECT_EQ(store.offline_usage("alice@example.org").messages, 3);
  EXPECT_EQ(store.offline_usage("bob@example.org").bytes, 100);
  // Delivered and deleted, room is made again.
  auto first = store.offline("alice@example.org", 0, 1, 1 << 20);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(store.delete_offline("alice@example.org", first[0].id));
  EXPECT_EQ(store.store_offline("alice@example.org", "z", 1, quota), Outcome::kStored);
}

// The quota is checked against counters, not by reading the messages: they must follow every
// insert and delete, and a rolled-back one, to the byte.
TEST_P(UserStoreTest, OfflineUsageFollowsWhatIsStored) {
  open();
  store_.reset();
  refuse("offline", "stanza", "refused");
  UserStore& store = open();
  const auto truth = [&](const std::string& bare) {
    const std::string rows = " FROM offline WHERE bare = '" + bare + "'";
    return std::pair(number_seen_elsewhere("SELECT count(*)" + rows),
                     number_seen_elsewhere((db_->backend() == Backend::kSqlite
                                                ? "SELECT coalesce(sum(length(CAST(stanza AS BLOB))), 0)"
                                                : "SELECT coalesce(sum(octet_length(stanza)), 0)") +
                                           rows));
  };
  const auto usage = [&](const std::string& bare) {
    UserStore::OfflineUsage u = store.offline_usage(bare);
    return std::pair(static_cast<long long>(u.messages), static_cast<long long>(u.bytes));
  };
  std::int64_t ids[6];
  for (int i = 0; i < 6; ++i)  // multibyte text: bytes are counted, not characters
    ASSERT_EQ(store.store_offline("alice@example.org", std::string(10 * (i + 1), 'a') + "\u00e9", 1, kRoomy, &ids[i]),
              Outcome::kStored);
  ASSERT_EQ(store.store_offline("bob@example.org", "<message/>", 1, kRoomy), Outcome::kStored);
  EXPECT_EQ(store.store_offline("alice@example.org", "refused", 1, kRoomy), Outcome::kFailed);
  EXPECT_EQ(store.store_offline("alice@example.org", std::string(2 << 20, 'x'), 1, kRoomy), Outcome::kOverQuota);
  ASSERT_TRUE(store.commit());
  EXPECT_EQ(usage("alice@example.org"), std::pair(6LL, 210LL + 6 * 2));
  EXPECT_EQ(usage("alice@example.org"), truth("alice@example.org"));
  EXPECT_EQ(usage("bob@example.org"), truth("bob@example.org"));

  EXPECT_TRUE(store.delete_offline_message(ids[4]));
  EXPECT_TRUE(store.delete_offline("alice@example.org", ids[1]));
  ASSERT_TRUE(store.commit());
  EXPECT_EQ(usage("alice@example.org"), std::pair(3LL, 30LL + 40 + 60 + 3 * 2));
  EXPECT_EQ(usage("alice@example.org"), truth("alice@example.org"));
  EXPECT_EQ(usage("bob@example.org"), truth("bob@example.org"));

  // A user with nothing waiting leaves no counters behind.
  EXPECT_TRUE(store.delete_offline("alice@example.org", ids[5]));
  ASSERT_TRUE(store.commit());
  EXPECT_EQ(usage("alice@example.org"), std::pair(0LL, 0LL));
  EXPECT_EQ(number_seen_elsewhere("SELECT count(*) FROM offline_usage WHERE bare = 'alice@example.org'"), 0);
}

// A store written by the previous version has no sizes and no counters: they are computed
// once, at the first open, and the messages already kept count against the quota.
TEST_F(SqliteUserStoreTest, AVersionOneStoreIsUpgradedWithItsMessagesCounted) {
  execute_elsewhere(
      "CREATE TABLE offline (id INTEGER PRIMARY KEY AUTOINCREMENT, bare TEXT NOT NULL, stanza TEXT NOT NULL, "
      "stored_at INTEGER NOT NULL);"
      "CREATE INDEX offline_bare ON offline (bare, id);"
      "CREATE TABLE roster (bare TEXT NOT NULL, contact TEXT NOT NULL, name TEXT NOT NULL, "
      "subscription TEXT NOT NULL, ask INTEGER NOT NULL, groups TEXT NOT NULL, PRIMARY KEY (bare, contact));"
      "CREATE TABLE roster_version (bare TEXT PRIMARY KEY, version INTEGER NOT NULL);"
      "CREATE TABLE subscription_request (bare TEXT NOT NULL, sender TEXT NOT NULL, stanza TEXT NOT NULL, "
      "PRIMARY KEY (bare, sender));"
      "INSERT INTO offline (bare, stanza, stored_at) VALUES ('alice@example.org', '0123456789', 1), "
      "('alice@example.org', '\u00e9\u00e9', 2), ('bob@example.org', 'b', 3);"
      "PRAGMA user_version = 1;");
  UserStore& store = open();
  EXPECT_EQ(number_seen_elsewhere("PRAGMA user_version"), UserStore::kSchemaVersion);
  EXPECT_EQ(store.offline_usage("alice@example.org").messages, 2);
  EXPECT_EQ(store.offline_usage("alice@example.org").bytes, 14);
  EXPECT_EQ(store.offline_usage("bob@example.org").bytes, 1);
  const UserStore::OfflineQuota quota{10, 20};
  EXPECT_EQ(store.store_offline("alice@example.org", "1234567", 1, quota), Outcome::kOverQuota);
  EXPECT_EQ(store.store_offline("alice@example.org", "123456", 1, quota), Outcome::kStored);
  auto all = store.offline("alice@example.org", 0, 10, 1 << 20);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].stanza, "\u00e9\u00e9");
  EXPECT_TRUE(store.delete_offline("alice@example.org", all[1].id));
  EXPECT_EQ(store.offline_usage("alice@example.org").bytes, 6);
  // Opened again, nothing is counted twice.
  store_.reset();
  EXPECT_EQ(open().offline_usage("alice@example.org").bytes, 6);
}

// A store of version 3, as the release before this one wrote it: its triggers kept the
// counters. Version 4 drops them (the statements keep the counters now): what is counted
// stays right, and nothing is counted twice by a trigger and a statement.
TEST_F(SqliteUserStoreTest, AVersionThreeStoreLosesItsTriggersAndKeepsItsCounts) {
  std::string script;
  for (int version = 1; version <= 3; ++version)
    for (std::string_view sql : store::sqlite_schema_step(version)) script += std::string(sql) + ";\n";
  execute_elsewhere(script +
                    "INSERT INTO offline (bare, stanza, stored_at, size) VALUES ('alice@example.org', 'abc', 1, 3), "
                    "('alice@example.org', 'defg', 2, 4);"
                    "PRAGMA user_version = 3;");
  ASSERT_EQ(number_seen_elsewhere("SELECT bytes FROM offline_usage WHERE bare = 'alice@example.org'"), 7);
  UserStore& store = open();
  EXPECT_EQ(number_seen_elsewhere("PRAGMA user_version"), store::kSqliteSchemaVersion);
  EXPECT_EQ(number_seen_elsewhere("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), 0);
  EXPECT_EQ(store.offline_usage("alice@example.org").messages, 2);
  ASSERT_EQ(store.store_offline("alice@example.org", "12345", 3, kRoomy), Outcome::kStored);
  EXPECT_EQ(store.offline_usage("alice@example.org").bytes, 12);
  auto all = store.offline("alice@example.org", 0, 10, 1 << 20);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(store.delete_offline("alice@example.org", all[1].id));
  EXPECT_EQ(store.offline_usage("alice@example.org").messages, 1);
  EXPECT_EQ(store.offline_usage("alice@example.org").bytes, 5);
}

TEST_P(UserStoreTest, OfflineMessagesAreReadInPagesOldestFirst) {
  UserStore& store = open();
  std::int64_t ids[5];
  for (int i = 0; i < 5; ++i)
    store.store_offline("alice@example.org", std::string(10, static_cast<char>('0' + i)), 100 + i, kRoomy, &ids[i]);
  store.store_offline("bob@example.org", "not alice's", 1, kRoomy);
  auto page = store.offline("alice@example.org", 0, 2, 1 << 20);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].stanza, std::string(10, '0'));
  EXPECT_EQ(page[1].when, 101);
  page = store.offline("alice@example.org", page.back().id, 10, 25);  // bytes: two fit
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, ids[2]);
  page = store.offline("alice@example.org", ids[3], 10, 5);  // one larger than the page still comes
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].id, ids[4]);
  EXPECT_TRUE(store.delete_offline("alice@example.org", ids[2]));
  EXPECT_EQ(store.offline_usage("alice@example.org").messages, 2);
  EXPECT_EQ(store.offline_usage("bob@example.org").messages, 1);
}

TEST_P(UserStoreTest, PendingSubscriptionQuotaCountsSendersNotRequests) {
  UserStore& store = open();
  EXPECT_EQ(store.store_subscription_request("alice@example.org", "a@remote.example", "<presence/>", 2),
            Outcome::kStored);
  EXPECT_EQ(store.store_subscription_request("alice@example.org", "b@remote.example", "<presence/>", 2),
            Outcome::kStored);
  EXPECT_EQ(store.store_subscription_request("alice@example.org", "c@remote.example", "<presence/>", 2),
            Outcome::kOverQuota);
  // A sender asking again replaces its request, which keeps its place.
  EXPECT_EQ(store.store_subscription_request("alice@example.org", "a@remote.example", "<presence>again</presence>", 2),
            Outcome::kStored);
  EXPECT_TRUE(store.has_subscription_request("alice@example.org", "a@remote.example"));
  EXPECT_FALSE(store.has_subscription_request("alice@example.org", "c@remote.example"));
  auto requests = store.subscription_requests("alice@example.org", 0, 10);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].stanza, "<presence>again</presence>");
  EXPECT_EQ(store.subscription_requests("alice@example.org", requests[0].rowid, 10).size(), 1u);
  EXPECT_TRUE(store.delete_subscription_request("alice@example.org", "b@remote.example"));
  EXPECT_EQ(store.store_subscription_request("alice@example.org", "c@remote.example", "<presence/>", 2),
            Outcome::kStored);
}

// Requests are delivered in pages by rowid: one sent again while they are must keep its
// place, or the reader, past its old rowid, would meet it again and deliver it twice.
TEST_P(UserStoreTest, ARequestSentAgainKeepsItsPlaceInTheOrder) {
  UserStore& store = open();
  for (const char* sender : {"a@remote.example", "b@remote.example"})
    ASSERT_EQ(store.store_subscription_request("alice@example.org", sender, "<presence/>", 10), Outcome::kStored);
  auto first = store.subscription_requests("alice@example.org", 0, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(store.store_subscription_request("alice@example.org", "a@remote.example", "<presence>again</presence>", 10),
            Outcome::kStored);
  auto rest = store.subscription_requests("alice@example.org", first[0].rowid, 10);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_GT(rest[0].rowid, first[0].rowid);
  auto all = store.subscription_requests("alice@example.org", 0, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].rowid, first[0].rowid);
  EXPECT_EQ(all[0].stanza, "<presence>again</presence>");
}

TEST_P(UserStoreTest, RosterQuotaRefusesNewItemsOnly) {
  UserStore& store = open();
  UserStore::RosterItem item;
  for (const char* contact : {"a@example.org", "b@example.org"}) {
    item.contact = contact;
    EXPECT_EQ(store.set_roster_item("alice@example.org", item, 2), Outcome::kStored);
  }
  item.contact = "c@example.org";
  EXPECT_EQ(store.set_roster_item("alice@example.org", item, 2), Outcome::kOverQuota);
  item.contact = "a@example.org";
  item.name = "renamed";
  item.groups = {"Friends", "Work"};
  std::int64_t version = 0;
  EXPECT_EQ(store.set_roster_item("alice@example.org", item, 2, &version), Outcome::kStored);
  EXPECT_EQ(version, 3);  // the refused item did not bump it
  EXPECT_EQ(store.roster_size("alice@example.org"), 2u);
  auto kept = store.roster_item("alice@example.org", "a@example.org");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->name, "renamed");
  EXPECT_EQ(kept->groups, (std::vector<std::string>{"Friends", "Work"}));
  EXPECT_EQ(store.remove_roster_item("alice@example.org", "b@example.org", &version), Outcome::kStored);
  EXPECT_EQ(version, 4);
  item.contact = "c@example.org";
  EXPECT_EQ(store.set_roster_item("alice@example.org", item, 2), Outcome::kStored);
}

TEST_F(SqliteUserStoreTest, RefusesASchemaFromANewerVersionAndAFileThatIsNoDatabase) {
  open();
  store_.reset();
  execute_elsewhere("PRAGMA user_version = 99");
  std::string error;
  EXPECT_EQ(UserStore::open(db_->path(), error), nullptr);
  EXPECT_NE(error.find("newer than this xmppd understands"), std::string::npos) << error;

  const std::string junk = db_->path() + ".junk";
  FILE* f = fopen(junk.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("this is not an SQLite database, and it is long enough to have a header of its own......", f);
  fclose(f);
  EXPECT_EQ(UserStore::open(junk, error), nullptr);
  EXPECT_FALSE(error.empty());
  unlink(junk.c_str());
}

// PostgreSQL stopped while the router runs: writes fail cleanly (the caller answers an
// error), what was committed before stays, and the store works again once the server is back,
// on a new connection, without being opened again.
TEST_F(PostgresUserStoreTest, ADatabaseThatGoesAwayFailsCleanlyAndComesBack) {
  UserStore& store = open();
  ASSERT_EQ(store.store_offline("alice@example.org", "<message>kept</message>", 1, kRoomy), Outcome::kStored);
  ASSERT_TRUE(store.commit());
  ASSERT_EQ(store.store_offline("alice@example.org", "<message>lost</message>", 1, kRoomy), Outcome::kStored);
  store::PostgresTestServer* server = db_->server();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->stop());
  EXPECT_FALSE(store.commit());  // never acknowledged: the caller knows it was not kept
  EXPECT_EQ(store.store_offline("alice@example.org", "<message/>", 1, kRoomy), Outcome::kFailed);
  EXPECT_TRUE(store.offline("alice@example.org", 0, 10, 1 << 20).empty());
  ASSERT_TRUE(server->restart());
  ASSERT_EQ(store.store_offline("alice@example.org", "<message>after</message>", 1, kRoomy), Outcome::kStored);
  ASSERT_TRUE(store.commit());
  const auto kept = store.offline("alice@example.org", 0, 10, 1 << 20);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].stanza, "<message>kept</message>");
  EXPECT_EQ(kept[1].stanza, "<message>after</message>");
  EXPECT_EQ(store.offline_usage("alice@example.org").messages, 2);
}

// On PostgreSQL a statement that fails outside a savepoint aborts the whole transaction, and
// its COMMIT would then roll back while answering success: such a batch must be reported
// as failed, and the next one work.
TEST_F(PostgresUserStoreTest, AReadFailedInTheBatchFailsTheCommitNotSilently) {
  UserStore& store = open();
  ASSERT_EQ(store.store_offline("alice@example.org", "<message/>", 1, kRoomy), Outcome::kStored);
  execute_elsewhere("ALTER TABLE roster_version RENAME TO roster_version_away");
  EXPECT_EQ(store.roster_version("alice@example.org"), 0);  // failed, outside any savepoint
  EXPECT_FALSE(store.commit());
  EXPECT_EQ(rows_seen_elsewhere("offline"), 0);
  execute_elsewhere("ALTER TABLE roster_version_away RENAME TO roster_version");
  ASSERT_EQ(store.store_offline("alice@example.org", "<message/>", 1, kRoomy), Outcome::kStored);
  EXPECT_TRUE(store.commit());
  EXPECT_EQ(rows_seen_elsewhere("offline"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, UserStoreTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::backend_name(info.param); });

}  // namespace
}  // namespace xmppd::router
