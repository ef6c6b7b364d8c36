// The PostgreSQL backend against a real server of the test's own (store/postgres_test_server.h):
// the catalog's transaction statements, typed columns, and a server that goes away while
// connected and comes back.
#include "store/postgres_database.h"

#include <gtest/gtest.h>

#include "store/postgres_test_server.h"
#include "store/schema.h"

namespace xmppd::store {
namespace {

class Postgres : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PostgresTestServer::available()) return;
    std::string error;
    server_ = PostgresTestServer::start(error).release();
    ASSERT_NE(server_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (!PostgresTestServer::available())
      GTEST_SKIP() << "no PostgreSQL: " << PostgresTestServer::bindir()
                   << "/initdb is missing (apt-get install postgresql-15)";
    ASSERT_NE(server_, nullptr);
    std::string error;
    conninfo_ = server_->fresh_database(error);
    ASSERT_FALSE(conninfo_.empty()) << error;
    db_ = PostgresDatabase::connect(conninfo_, error);
    ASSERT_NE(db_, nullptr) << error;
  }
  static PostgresTestServer* server_;
  std::string conninfo_;
  std::unique_ptr<PostgresDatabase> db_;
};
PostgresTestServer* Postgres::server_ = nullptr;

TEST_F(Postgres, TransactionStatementsRun) {
  EXPECT_EQ(db_->dialect(), Dialect::kPostgres);
  EXPECT_TRUE(db_->run(Statement::kBegin, {})) << db_->error();
  EXPECT_TRUE(db_->run(Statement::kSavepoint, {})) << db_->error();
  EXPECT_TRUE(db_->run(Statement::kRollbackTo, {})) << db_->error();
  EXPECT_TRUE(db_->run(Statement::kRelease, {})) << db_->error();
  EXPECT_TRUE(db_->run(Statement::kCommit, {})) << db_->error();
  EXPECT_FALSE(db_->unavailable());
}

// Every text of the catalog (its PostgreSQL text where it has one) against the schema, with
// the parameter count the server finds equal to the catalog's; the schema applied twice is
// applied once.
TEST_F(Postgres, EveryStatementPreparesOnTheSchema) {
  std::string error;
  ASSERT_TRUE(upgrade_schema(*db_, error)) << error;
  ASSERT_TRUE(upgrade_schema(*db_, error)) << error;
  std::string version;
  ASSERT_TRUE(db_->execute("SELECT version FROM xmppd_schema", &version)) << db_->error();
  EXPECT_EQ(version, std::to_string(kPostgresSchemaVersion));
  EXPECT_TRUE(db_->prepare_all()) << db_->error();
}

TEST_F(Postgres, ASchemaFromANewerVersionIsRefused) {
  std::string error;
  ASSERT_TRUE(upgrade_schema(*db_, error)) << error;
  ASSERT_TRUE(db_->execute("UPDATE xmppd_schema SET version = 99")) << db_->error();
  EXPECT_FALSE(upgrade_schema(*db_, error));
  EXPECT_NE(error.find("newer than this xmppd understands"), std::string::npos) << error;
}

TEST_F(Postgres, IntegersAndNullsComeTyped) {
  std::string error;
  ASSERT_TRUE(upgrade_schema(*db_, error)) << error;
  const Value insert[] = {std::string("a@x"), std::string("<m/>"), std::int64_t{-5}, std::int64_t{1} << 40};
  std::vector<Row> rows;
  ASSERT_TRUE(db_->run(Statement::kOfflineInsert, insert, &rows)) << db_->error();
  ASSERT_EQ(rows.size(), 1u);
  const std::int64_t id = integer(rows[0], 0);
  EXPECT_GT(id, 0);
  rows.clear();
  const Value select[] = {std::string("a@x"), std::int64_t{0}, std::int64_t{10}};
  ASSERT_TRUE(db_->run(Statement::kOfflineSelect, select, &rows)) << db_->error();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (Row{id, std::string("<m/>"), std::int64_t{-5}}));
  rows.clear();
  ASSERT_TRUE(db_->execute("INSERT INTO roster_version (bare, version) VALUES ('n@x', 7)")) << db_->error();
  const Value bare[] = {std::string("n@x")};
  ASSERT_TRUE(db_->run(Statement::kRosterVersion, bare, &rows)) << db_->error();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (Row{std::int64_t{7}}));
  const Value none[] = {std::monostate{}};
  EXPECT_FALSE(db_->run(Statement::kRosterBumpVersion, none));  // NULL into NOT NULL
  EXPECT_NE(db_->error().find("null value"), std::string::npos) << db_->error();
  EXPECT_FALSE(db_->unavailable());
}

// PostgreSQL answers the COMMIT of an aborted transaction with success and a ROLLBACK: the
// backend reports it as the failure it is.
TEST_F(Postgres, ACommitThatRolledBackIsAFailure) {
  std::string error;
  ASSERT_TRUE(upgrade_schema(*db_, error)) << error;
  ASSERT_TRUE(db_->run(Statement::kBegin, {})) << db_->error();
  const Value bad[] = {std::monostate{}};
  EXPECT_FALSE(db_->run(Statement::kRosterBumpVersion, bad));  // aborts the transaction
  EXPECT_FALSE(db_->run(Statement::kCommit, {}));
  EXPECT_NE(db_->error().find("rolled back"), std::string::npos) << db_->error();
  EXPECT_FALSE(db_->unavailable());
  EXPECT_TRUE(db_->run(Statement::kBegin, {})) << db_->error();  // no transaction left open
  EXPECT_TRUE(db_->run(Statement::kCommit, {})) << db_->error();
}

// A batch is one pipeline: every row kept, or, when one fails, the failure reported (the
// first) and the connection usable after it, out of pipeline mode.
TEST_F(Postgres, ABatchRunsEveryRowOrReportsTheFirstFailure) {
  std::string error;
  ASSERT_TRUE(upgrade_schema(*db_, error)) << error;
  const auto item = [](const char* id) {
    return Row{std::string("a@x"), std::string("pep"), std::string("n"), std::string(id), std::string("<v/>")};
  };
  const Row three[] = {item("1"), item("2"), item("3")};
  ASSERT_TRUE(db_->run_batch(Statement::kItemInsert, three)) << db_->error();
  std::string count;
  ASSERT_TRUE(db_->execute("SELECT count(*) FROM item", &count)) << db_->error();
  EXPECT_EQ(count, "3");

  ASSERT_TRUE(db_->run(Statement::kBegin, {})) << db_->error();
  const Row clash[] = {item("4"), item("2"), item("5")};  // "2" is there already
  EXPECT_FALSE(db_->run_batch(Statement::kItemInsert, clash));
  EXPECT_NE(db_->error().find("duplicate key"), std::string::npos) << db_->error();
  EXPECT_FALSE(db_->unavailable());
  EXPECT_TRUE(db_->run(Statement::kRollback, {})) << db_->error();
  ASSERT_TRUE(db_->execute("SELECT count(*) FROM item", &count)) << db_->error();
  EXPECT_EQ(count, "3");  // all or nothing inside the caller's transaction

  const Row short_row[] = {item("6"), Row{std::string("a@x")}};
  EXPECT_FALSE(db_->run_batch(Statement::kItemInsert, short_row));
  EXPECT_NE(db_->error().find("parameters"), std::string::npos) << db_->error();

  ASSERT_TRUE(server_->stop());
  const Row two[] = {item("7"), item("8")};
  EXPECT_FALSE(db_->run_batch(Statement::kItemInsert, two));
  EXPECT_TRUE(db_->unavailable()) << db_->error();
  ASSERT_TRUE(server_->restart());
  EXPECT_TRUE(db_->run_batch(Statement::kItemInsert, two)) << db_->error();
  ASSERT_TRUE(db_->execute("SELECT count(*) FROM item", &count)) << db_->error();
  EXPECT_EQ(count, "5");
}

TEST_F(Postgres, WrongParameterCountIsRefused) {
  const Value one[] = {std::int64_t{1}};
  EXPECT_FALSE(db_->run(Statement::kBegin, one));
  EXPECT_NE(db_->error().find("parameters"), std::string::npos) << db_->error();
  EXPECT_FALSE(db_->unavailable());
}

TEST_F(Postgres, WrongConnectionIsAStartError) {
  std::string error;
  EXPECT_EQ(PostgresDatabase::connect(conninfo_ + "_none", error), nullptr);
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
}

// Keywords and values: a database name that looks like a connection string stays a name.
TEST_F(Postgres, ParametersAreNotAConnectionString) {
  std::string error;
  const std::string dir = conninfo_.substr(5, conninfo_.find(' ') - 5);  // "host=DIR user=..."
  auto db = PostgresDatabase::connect({{"host", dir}, {"user", "xmppd"}, {"dbname", "postgres"}}, error);
  ASSERT_NE(db, nullptr) << error;
  EXPECT_EQ(PostgresDatabase::connect({{"host", dir}, {"user", "xmppd"}, {"dbname", "postgres user=nobody"}}, error),
            nullptr);
  EXPECT_NE(error.find("postgres user=nobody"), std::string::npos) << error;
}

TEST_F(Postgres, ExecuteAnswersTheFirstColumn) {
  std::string first;
  ASSERT_TRUE(db_->execute("SELECT 42", &first)) << db_->error();
  EXPECT_EQ(first, "42");
  EXPECT_FALSE(db_->execute("SELECT * FROM no_such_table"));
  EXPECT_NE(db_->error().find("no_such_table"), std::string::npos) << db_->error();
  EXPECT_FALSE(db_->unavailable());
}

TEST_F(Postgres, LostServerIsUnavailableUntilItComesBack) {
  ASSERT_TRUE(db_->run(Statement::kBegin, {})) << db_->error();
  ASSERT_TRUE(server_->stop());
  EXPECT_FALSE(db_->run(Statement::kCommit, {}));
  EXPECT_TRUE(db_->unavailable()) << db_->error();
  EXPECT_FALSE(db_->run(Statement::kBegin, {}));  // tries to connect again, and cannot
  EXPECT_TRUE(db_->unavailable()) << db_->error();
  ASSERT_TRUE(server_->restart());
  EXPECT_TRUE(db_->run(Statement::kBegin, {})) << db_->error();  // a new connection
  EXPECT_FALSE(db_->unavailable());
  EXPECT_TRUE(db_->run(Statement::kCommit, {})) << db_->error();
}

}  // namespace
}  // namespace xmppd::store
