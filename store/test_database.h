// Test-only: a database of one test case on either backend, for the store tests that run the
// same cases on both (TEST_P over Backend): a SQLite file in a temporary directory, or a
// database of its own on a PostgreSQL server the test process starts once
// (store/postgres_test_server.h). Besides the connection the code under test uses, it reads
// and writes from another, as the router after a restart or an administrator would.
#pragma once

#include <memory>
#include <string>

#include "store/database.h"

namespace xmppd::store {

class PostgresTestServer;

enum class Backend { kSqlite, kPostgres };
// "Sqlite" or "Postgres", for the names of parameterized tests.
std::string backend_name(Backend backend);

class TestDatabase {
 public:
  // Null with `skip` set when the backend cannot run here (PostgreSQL without initdb: the
  // test skips, saying so), or with `error` when it failed.
  static std::unique_ptr<TestDatabase> create(Backend backend, std::string& skip, std::string& error);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  Backend backend() const { return backend_; }
  // The SQLite file (empty for PostgreSQL).
  const std::string& path() const { return path_; }
  // The shared server (null for SQLite): stopped and started by the tests of a database
  // that goes away.
  PostgresTestServer* server() const;

  // A new connection, the schema brought up to date and every statement prepared; null
  // with `error`.
  std::unique_ptr<Database> connect(std::string& error);

  // From another connection: the first column of the first row of `sql` as a number; -1
  // when it has none or failed.
  long long number(const std::string& sql);
  // Runs `sql` from another connection; false with `error`.
  bool execute(const std::string& sql, std::string& error);
  // Makes every insert into `table` whose `column` is `value` fail from now on (a trigger
  // in SQLite, a CHECK constraint in PostgreSQL): a statement refused mid-operation.
  bool refuse(const std::string& table, const std::string& column, const std::string& value, std::string& error);

 private:
  TestDatabase(Backend backend, std::string dir, std::string path, std::string conninfo)
      : backend_(backend), dir_(std::move(dir)), path_(std::move(path)), conninfo_(std::move(conninfo)) {}
  Backend backend_;
  std::string dir_, path_, conninfo_;
};

}  // namespace xmppd::store
