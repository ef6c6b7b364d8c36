// The PostgreSQL backend against a real server of the test's own (store/postgres_test_server.h):
// the catalog's transaction statements, typed columns, and a server that goes away while
// connected and comes back.
#include "store/postgres_database.h"

#include <gtest/gtest.h>

#include "store/postgres_test_server.h"

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
      GTEST_SKIP() << "no PostgreSQL: " << PostgresTestServer::bindir() << "/initdb is missing (apt-get install postgresql-15)";
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
