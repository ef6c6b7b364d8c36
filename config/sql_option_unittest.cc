// Prosody's storage options (storage, sql, sql_manage_tables) read with Prosody's syntax, and
// each way of getting them wrong refused with its line.
#include "config/sql_option.h"

#include <gtest/gtest.h>

#include "config/test_util.h"

namespace xmppd::config {
namespace {

using testing::errors;
using testing::load_text;
using testing::warnings;
using Strings = std::vector<std::string>;
const std::string kFile = "/etc/xmppd/xmppd.conf";

TEST(Storage, DefaultIsTheEmbeddedStore) {
  auto l = load_text("");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->storage, "internal");
  EXPECT_FALSE(l.settings->uses_postgres());
  EXPECT_EQ(l.settings->sqlite_file(), "user.sqlite");
  EXPECT_TRUE(l.settings->sql.manage_tables);
  EXPECT_EQ(l.settings->storage_user, "_xmppd_storage");
}

TEST(Storage, PostgresAsProsodyWritesIt) {
  auto l = load_text(
      "storage = \"sql\"\n"
      "sql = { driver = \"PostgreSQL\"; database = \"xmppd\"; host = \"127.0.0.1\"; port = 5433;\n"
      "        username = \"xmppd\"; password = \"secret\" }\n"
      "sql_manage_tables = false\n");
  ASSERT_TRUE(l.settings) << (l.messages.empty() ? "" : l.messages[0]);
  EXPECT_TRUE(l.messages.empty());
  EXPECT_TRUE(l.settings->uses_postgres());
  EXPECT_EQ(l.settings->sql.database, "xmppd");
  EXPECT_EQ(l.settings->sql.host, "127.0.0.1");
  EXPECT_EQ(l.settings->sql.port, 5433);
  EXPECT_EQ(l.settings->sql.username, "xmppd");
  EXPECT_EQ(l.settings->sql.password, "secret");
  EXPECT_FALSE(l.settings->sql.manage_tables);
}

TEST(Storage, InternalIgnoresTheSqlTable) {
  auto l = load_text("storage = \"internal\"\nsql = { driver = \"PostgreSQL\" }\n");
  ASSERT_TRUE(l.settings);
  EXPECT_FALSE(l.settings->uses_postgres());
}

TEST(Storage, SqliteDriverNamesAFileInTheRoutersDirectory) {
  auto l = load_text("storage = \"sql\"\nsql = { driver = \"SQLite3\"; database = \"prosody.sqlite\" }\n");
  ASSERT_TRUE(l.settings);
  EXPECT_FALSE(l.settings->uses_postgres());
  EXPECT_EQ(l.settings->sqlite_file(), "prosody.sqlite");
  for (const char* bad : {"\"../auth/credentials.sqlite\"", "\"/tmp/x.sqlite\"", "\".hidden\""}) {
    auto refused = load_text("storage = \"sql\"\nsql = { driver = \"SQLite3\";\n database = " + std::string(bad) + " }\n");
    EXPECT_FALSE(refused.settings) << bad;
    ASSERT_EQ(errors(refused).size(), 1u) << bad;
    EXPECT_EQ(errors(refused)[0].rfind(kFile + ":3: sql expects database to be a file name", 0), 0u) << errors(refused)[0];
  }
}

TEST(Storage, PerStoreTableWithOneBackend) {
  auto l = load_text("storage = { roster = \"sql\", offline = \"sql\" }\nsql = { driver = \"PostgreSQL\" }\n");
  ASSERT_TRUE(l.settings);
  EXPECT_TRUE(l.settings->uses_postgres());
  auto mixed = load_text("storage = {\n roster = \"sql\",\n offline = \"internal\" }\n");
  EXPECT_FALSE(mixed.settings);
  EXPECT_EQ(errors(mixed), (Strings{kFile + ":3: storage gives offline \"internal\" and another store \"sql\": "
                                           "xmppd keeps one backend for all the stores"}));
}

TEST(Storage, UnknownBackendsAndDriversAreErrors) {
  auto l = load_text("storage = \"memory\"\n");
  EXPECT_FALSE(l.settings);
  EXPECT_EQ(errors(l), (Strings{kFile + ":1: storage names the backend \"memory\"; xmppd has \"internal\" (its "
                                       "SQLite store) and \"sql\" (the sql option's database)"}));
  auto mysql = load_text("storage = \"sql\"\nsql = {\n driver = \"MySQL\" }\n");
  EXPECT_FALSE(mysql.settings);
  EXPECT_EQ(errors(mysql), (Strings{kFile + ":3: sql names the driver \"MySQL\"; xmppd has \"PostgreSQL\" and "
                                           "\"SQLite3\""}));
}

TEST(Storage, BadSqlFields) {
  for (const char* bad : {"port = 0", "port = \"5432\"", "host = \"/var/run/postgresql\"", "password = 5",
                          "\"PostgreSQL\""}) {
    auto l = load_text(std::string("sql = { ") + bad + " }\n");
    EXPECT_FALSE(l.settings) << bad;
    EXPECT_EQ(errors(l).size(), 1u) << bad;
  }
  auto unknown = load_text("sql = { driver = \"PostgreSQL\"; params = {} }\n");
  ASSERT_TRUE(unknown.settings);
  EXPECT_EQ(warnings(unknown), (Strings{kFile + ":1: warning: sql has 'params', which xmppd does not read: ignored"}));
}

}  // namespace
}  // namespace xmppd::config
