#include "store/test_database.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>

#include "store/postgres_database.h"
#include "store/postgres_test_server.h"
#include "store/schema.h"
#include "store/sqlite_database.h"

namespace xmppd::store {
namespace {

// One server for the whole test program, started at the first PostgreSQL case and stopped
// when the program exits.
PostgresTestServer* shared_server(std::string& error) {
  static std::unique_ptr<PostgresTestServer> server;
  static std::string failure;
  if (!server && failure.empty()) {
    server = PostgresTestServer::start(failure);
    if (!server && failure.empty()) failure = "cannot start PostgreSQL";
  }
  error = failure;
  return server.get();
}

}  // namespace

std::string backend_name(Backend backend) { return backend == Backend::kSqlite ? "Sqlite" : "Postgres"; }

std::unique_ptr<TestDatabase> TestDatabase::create(Backend backend, std::string& skip, std::string& error) {
  if (backend == Backend::kPostgres) {
    if (!PostgresTestServer::available()) {
      skip = "no PostgreSQL: " + PostgresTestServer::bindir() + "/initdb is missing (apt-get install postgresql-15)";
      return nullptr;
    }
    PostgresTestServer* server = shared_server(error);
    if (server == nullptr) return nullptr;
    std::string conninfo = server->fresh_database(error);
    if (conninfo.empty()) return nullptr;
    return std::unique_ptr<TestDatabase>(new TestDatabase(backend, {}, {}, std::move(conninfo)));
  }
  char dir[] = "/tmp/store_test.XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    error = "mkdtemp failed";
    return nullptr;
  }
  return std::unique_ptr<TestDatabase>(new TestDatabase(backend, dir, std::string(dir) + "/user.sqlite", {}));
}

TestDatabase::~TestDatabase() {
  if (dir_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

PostgresTestServer* TestDatabase::server() const {
  std::string ignored;
  return backend_ == Backend::kPostgres ? shared_server(ignored) : nullptr;
}

std::unique_ptr<Database> TestDatabase::connect(std::string& error) {
  if (backend_ == Backend::kSqlite) {
    std::unique_ptr<SqliteDatabase> db = SqliteDatabase::open(path_, error);
    if (!db || !upgrade_schema(*db, error)) return nullptr;
    if (!db->prepare_all()) {
      error = db->error();
      return nullptr;
    }
    return db;
  }
  std::unique_ptr<PostgresDatabase> db = PostgresDatabase::connect(conninfo_, error);
  if (!db || !upgrade_schema(*db, error)) return nullptr;
  if (!db->prepare_all()) {
    error = db->error();
    return nullptr;
  }
  return db;
}

long long TestDatabase::number(const std::string& sql) {
  if (backend_ == Backend::kPostgres) {
    std::string error, first;
    std::unique_ptr<PostgresDatabase> db = PostgresDatabase::connect(conninfo_, error);
    if (!db || !db->execute(sql, &first) || first.empty()) return -1;
    return std::atoll(first.c_str());
  }
  sqlite3* db = nullptr;
  long long n = -1;
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return n;
}

bool TestDatabase::execute(const std::string& sql, std::string& error) {
  if (backend_ == Backend::kPostgres) {
    std::unique_ptr<PostgresDatabase> db = PostgresDatabase::connect(conninfo_, error);
    if (!db) return false;
    if (db->execute(sql)) return true;
    error = db->error();
    return false;
  }
  sqlite3* db = nullptr;
  bool ok = sqlite3_open(path_.c_str(), &db) == SQLITE_OK;
  char* message = nullptr;
  ok = ok && sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK;
  if (!ok) error = message != nullptr ? message : sqlite3_errmsg(db);
  sqlite3_free(message);
  sqlite3_close(db);
  return ok;
}

bool TestDatabase::refuse(const std::string& table, const std::string& column, const std::string& value,
                          std::string& error) {
  const std::string name = "refuse_" + table + "_" + column;
  if (backend_ == Backend::kPostgres)
    return execute("ALTER TABLE " + table + " ADD CONSTRAINT " + name + " CHECK (" + column + " <> '" + value + "')",
                   error);
  return execute("CREATE TRIGGER " + name + " BEFORE INSERT ON " + table + " WHEN NEW." + column + " = '" + value +
                     "' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
                 error);
}

}  // namespace xmppd::store
