// The statement catalog against a real SQLite file: every entry is filled in, and every text
// prepares with its placeholders $1..$N in order (SqliteDatabase::prepare_all).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "store/catalog.h"
#include "store/schema.h"
#include "store/sqlite_database.h"

namespace xmppd::store {
namespace {

TEST(Catalog, EveryEntryIsFilledIn) {
  for (std::uint32_t i = 0; i < static_cast<std::uint32_t>(Statement::kCount); ++i) {
    const StatementText* entry = statement_text(i);
    ASSERT_NE(entry, nullptr) << i;
    EXPECT_FALSE(entry->name.empty()) << i;
    EXPECT_FALSE(entry->sql.empty()) << entry->name;
  }
  EXPECT_EQ(statement_text(static_cast<std::uint32_t>(Statement::kCount)), nullptr);
  EXPECT_EQ(statement_text(0xffffffffu), nullptr);
}

class SqliteCatalog : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/catalog_unittest.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    std::string error;
    db_ = SqliteDatabase::open(dir_ + "/store.sqlite", error);
    ASSERT_NE(db_, nullptr) << error;
    ASSERT_TRUE(upgrade_schema(*db_, error)) << error;
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<SqliteDatabase> db_;
};

TEST_F(SqliteCatalog, TransactionStatementsRun) {
  EXPECT_TRUE(db_->run(Statement::kBegin, {})) << db_->error();
  EXPECT_TRUE(db_->run(Statement::kSavepoint, {})) << db_->error();
  EXPECT_TRUE(db_->run(Statement::kRollbackTo, {})) << db_->error();
  EXPECT_TRUE(db_->run(Statement::kRelease, {})) << db_->error();
  EXPECT_TRUE(db_->run(Statement::kCommit, {})) << db_->error();
  EXPECT_FALSE(db_->run(Statement::kCommit, {}));  // no transaction open
  EXPECT_FALSE(db_->error().empty());
  EXPECT_FALSE(db_->unavailable());
}

// Every text of the catalog against the newest schema, with its $1..$N as the catalog says.
TEST_F(SqliteCatalog, EveryStatementPreparesOnTheSchema) { EXPECT_TRUE(db_->prepare_all()) << db_->error(); }

TEST_F(SqliteCatalog, WrongParameterCountIsRefused) {
  const Value one[] = {std::int64_t{1}};
  EXPECT_FALSE(db_->run(Statement::kBegin, one));
  EXPECT_NE(db_->error().find("parameters"), std::string::npos) << db_->error();
}

}  // namespace
}  // namespace xmppd::store
