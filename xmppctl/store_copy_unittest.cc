// xmppctl store copy's copy (copy_tables.cc) between two SQLite stores of the router's schema:
// every row with its id and text as it was, the offline counters not counted twice by the
// target's triggers, a target with data refused (and unchanged) unless replaced, a column the
// target has no place for refused, a symbolic link refused. The PostgreSQL end is tested
// against a real server in tests/integration/store_copy_test.py.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "xmppctl/store_copy.h"

namespace xmppd::ctl::copy {
namespace {

class StoreCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/store_copy_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    source_ = dir_ + "/source.sqlite";
    target_ = dir_ + "/target.sqlite";
    // The source as the router leaves it: the schema, then rows written by hand, ids chosen.
    std::string error;
    ASSERT_TRUE(open_sqlite(source_, source_, true, error)) << error;
    execute(source_,
            "INSERT INTO offline (id, bare, stanza, stored_at, size) VALUES "
            "(7, 'alice@example.org', '<message>tab\there\nnewline \\ back</message>', 1700000000, 42);"
            "INSERT INTO roster (bare, contact, name, subscription, ask, groups, approved) VALUES "
            "('alice@example.org', 'bob@example.org', 'Bobby', 'both', 0, 'Friends\nWork', 0);"
            "INSERT INTO item (seq, bare, store, node, id, value) VALUES "
            "(42, 'alice@example.org', 'private', 'urn:example', 'prefs', CAST('<prefs/>' AS BLOB));"
            "INSERT INTO offline_usage (bare, messages, bytes) VALUES ('alice@example.org', 1, 42);");
  }

  // A trigger in the target as schema versions 2 and 3 had (the offline counter kept by one):
  // the copy must set it aside, or the counter row would be written twice.
  void add_counting_trigger() {
    std::string error;
    ASSERT_TRUE(open_sqlite(target_, target_, true, error)) << error;
    execute(target_,
            "CREATE TRIGGER offline_kept AFTER INSERT ON offline BEGIN "
            "INSERT INTO offline_usage (bare, messages, bytes) VALUES (NEW.bare, 1, NEW.size) "
            "ON CONFLICT (bare) DO UPDATE SET messages = messages + 1, bytes = bytes + excluded.bytes; END");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static void execute(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    EXPECT_EQ(rc, SQLITE_OK) << (message ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
  }

  // Every row of `query`, each as "a|b|NULL".
  static std::vector<std::string> rows(const std::string& path, const std::string& query) {
    std::vector<std::string> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, query.c_str(), -1, &statement, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    while (statement != nullptr && sqlite3_step(statement) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(statement); ++i) {
        if (i > 0) row += "|";
        const auto* text = sqlite3_column_text(statement, i);
        row += text == nullptr ? "NULL" : reinterpret_cast<const char*>(text);
      }
      out.push_back(row);
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return out;
  }

  bool copy(bool replace, std::vector<Copied>& copied, std::string& error) {
    auto from = open_sqlite(source_, "source", false, error);
    if (!from) return false;
    auto to = open_sqlite(target_, "target", true, error);
    if (!to) return false;
    return copy_tables(*from, *to, replace, copied, error);
  }

  std::string dir_, source_, target_;
};

TEST_F(StoreCopyTest, CopiesEveryRowAsItWas) {
  add_counting_trigger();
  std::vector<Copied> copied;
  std::string error;
  ASSERT_TRUE(copy(false, copied, error)) << error;
  for (const char* query : {"SELECT * FROM offline", "SELECT * FROM roster", "SELECT * FROM item",
                            "SELECT * FROM offline_usage"})
    EXPECT_EQ(rows(target_, query), rows(source_, query)) << query;
  EXPECT_EQ(rows(target_, "SELECT id, stanza FROM offline"),
            std::vector<std::string>{"7|<message>tab\there\nnewline \\ back</message>"});
  // The counter row came with the copy, not once more from the target's trigger, which is
  // back in place for the router.
  EXPECT_EQ(rows(target_, "SELECT bare, messages, bytes FROM offline_usage"),
            std::vector<std::string>{"alice@example.org|1|42"});
  EXPECT_EQ(rows(target_, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), std::vector<std::string>{"1"});
  // A new row takes an id past the copied ones.
  execute(target_, "INSERT INTO offline (bare, stanza, stored_at, size) VALUES ('bob@example.org', '<m/>', 1, 4)");
  EXPECT_EQ(rows(target_, "SELECT max(id) FROM offline"), std::vector<std::string>{"8"});
  std::vector<std::string> tables;
  for (const Copied& c : copied) tables.push_back(c.table + "=" + std::to_string(c.rows));
  EXPECT_EQ(tables, (std::vector<std::string>{"archive=0", "archive_usage=0", "item=1", "muc_affiliation=0", "muc_room=0",
                                              "muc_service=0", "muc_tombstone=0", "offline=1", "offline_usage=1",
                                              "roster=1", "roster_version=0", "subscription_request=0", "upload_slot=0"}));
}

TEST_F(StoreCopyTest, NullsAndTablesOfLaterSchemasAreCopied) {
  // A table a later schema may gain is copied by its columns alone.
  const char* table = "CREATE TABLE later (id INTEGER PRIMARY KEY, bare TEXT NOT NULL, origin_id TEXT);";
  execute(source_, std::string(table) + "INSERT INTO later VALUES (3, 'alice@example.org', NULL);");
  std::string error;
  ASSERT_TRUE(open_sqlite(target_, target_, true, error)) << error;
  execute(target_, table);
  std::vector<Copied> copied;
  ASSERT_TRUE(copy(false, copied, error)) << error;
  EXPECT_EQ(rows(target_, "SELECT id, bare, origin_id FROM later"),
            std::vector<std::string>{"3|alice@example.org|NULL"});
  EXPECT_EQ(rows(target_, "SELECT count(*) FROM later WHERE origin_id IS NULL"), std::vector<std::string>{"1"});
}

TEST_F(StoreCopyTest, ARowidGoesWhereTheOtherEndDeclaresIt) {
  // PostgreSQL's schema declares, as a column, the rowid SQLite's subscription_request pages
  // by; here a SQLite table that declares one stands for it, both ways.
  execute(source_, "CREATE TABLE paged (bare TEXT NOT NULL, sender TEXT NOT NULL, PRIMARY KEY (bare, sender));"
                   "INSERT INTO paged (rowid, bare, sender) VALUES (5, 'a', 'x'), (9, 'a', 'y');");
  std::string error;
  ASSERT_TRUE(open_sqlite(target_, target_, true, error)) << error;
  execute(target_, "CREATE TABLE paged (rowid BIGINT UNIQUE, bare TEXT NOT NULL, sender TEXT NOT NULL, "
                   "PRIMARY KEY (bare, sender))");
  std::vector<Copied> copied;
  ASSERT_TRUE(copy(false, copied, error)) << error;
  EXPECT_EQ(rows(target_, "SELECT rowid, sender FROM paged ORDER BY rowid"), (std::vector<std::string>{"5|x", "9|y"}));
  // Back: the declared column into the implicit rowid.
  const std::string back = dir_ + "/back.sqlite";
  ASSERT_TRUE(open_sqlite(back, back, true, error)) << error;
  execute(back, "CREATE TABLE paged (bare TEXT NOT NULL, sender TEXT NOT NULL, PRIMARY KEY (bare, sender))");
  auto from = open_sqlite(target_, "target", false, error);
  auto to = open_sqlite(back, "back", false, error);
  ASSERT_TRUE(from && to) << error;
  copied.clear();
  ASSERT_TRUE(copy_tables(*from, *to, false, copied, error)) << error;
  EXPECT_EQ(rows(back, "SELECT rowid, sender FROM paged ORDER BY rowid"), (std::vector<std::string>{"5|x", "9|y"}));
}

TEST_F(StoreCopyTest, ATargetWithDataIsRefusedUnlessReplaced) {
  std::string error;
  ASSERT_TRUE(open_sqlite(target_, target_, true, error)) << error;
  execute(target_, "INSERT INTO roster VALUES ('carol@example.org', 'dave@example.org', '', 'none', 0, '', 0)");
  std::vector<Copied> copied;
  EXPECT_FALSE(copy(false, copied, error));
  EXPECT_EQ(error, "target is not empty: roster (1 rows); nothing copied (-F replaces what it holds)");
  EXPECT_EQ(rows(target_, "SELECT bare FROM roster"), std::vector<std::string>{"carol@example.org"});
  EXPECT_TRUE(rows(target_, "SELECT * FROM offline").empty());

  copied.clear();
  ASSERT_TRUE(copy(true, copied, error)) << error;
  EXPECT_EQ(rows(target_, "SELECT bare FROM roster"), std::vector<std::string>{"alice@example.org"});
  EXPECT_EQ(rows(target_, "SELECT * FROM offline_usage"), rows(source_, "SELECT * FROM offline_usage"));
}

TEST_F(StoreCopyTest, AColumnTheTargetLacksRefusesTheCopy) {
  add_counting_trigger();
  execute(source_, "ALTER TABLE roster ADD COLUMN note TEXT");
  std::vector<Copied> copied;
  std::string error;
  EXPECT_FALSE(copy(false, copied, error));
  EXPECT_EQ(error, "target: table roster has no column note");
  EXPECT_TRUE(rows(target_, "SELECT * FROM offline").empty());
  EXPECT_EQ(rows(target_, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), std::vector<std::string>{"1"});
}

TEST_F(StoreCopyTest, NoSymbolicLinkIsFollowed) {
  ASSERT_EQ(symlink(source_.c_str(), target_.c_str()), 0);
  std::string error;
  EXPECT_FALSE(open_sqlite(target_, "target", true, error));
  EXPECT_EQ(error, "target: not a regular file (a symbolic link is not followed)");
  EXPECT_FALSE(open_sqlite(dir_ + "/missing.sqlite", "missing", false, error));
  EXPECT_EQ(error, "missing: No such file or directory");
}

}  // namespace
}  // namespace xmppd::ctl::copy
