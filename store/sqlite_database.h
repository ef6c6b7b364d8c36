// The embedded backend of the storage interface (store/database.h): a SQLite file in the
// router's own directory, run in the router's process. Statements are prepared from the
// catalog at their first use and kept.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "common/sqlite.h"
#include "store/database.h"

namespace xmppd::store {

class SqliteDatabase final : public Database {
 public:
  // Opens (creating) the file at `path`: no symbolic link followed, WAL, synchronous FULL,
  // temporary data in memory. Null, with `error` naming the file, when it cannot be. The
  // schema is the caller's (store/schema.h).
  static std::unique_ptr<SqliteDatabase> open(const std::string& path, std::string& error);
  explicit SqliteDatabase(sqlite::Database db) : db_(std::move(db)) {}

  // Prepares every statement of the catalog, so that a text that does not fit the schema
  // fails at start rather than at its first use; false with error().
  bool prepare_all();

  bool run(Statement id, std::span<const Value> params, std::vector<Row>* rows = nullptr) override;
  bool run_batch(Statement id, std::span<const Row> batch) override;
  Dialect dialect() const override { return Dialect::kSqlite; }
  const std::string& error() const override { return error_; }
  // A local file: a failure is the statement's or the disk's, never the database's absence.
  bool unavailable() const override { return false; }

  // For the schema (store/schema.cc) and the tests.
  sqlite3* handle() { return db_.get(); }

 private:
  // The prepared statement for `id`; nullptr (error_ set) when its text does not prepare or
  // its placeholders are not $1..$N.
  sqlite3_stmt* prepared(Statement id);
  bool bind(sqlite3_stmt* statement, std::span<const Value> params);
  bool fail(const char* what);

  sqlite::Database db_;
  std::array<sqlite::Statement, static_cast<std::size_t>(Statement::kCount)> prepared_;
  std::string error_;
};

}  // namespace xmppd::store
