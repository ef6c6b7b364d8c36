#include "store/sqlite_database.h"

#include <sqlite3.h>

#include <string_view>

namespace xmppd::store {

std::unique_ptr<SqliteDatabase> SqliteDatabase::open(const std::string& path, std::string& error) {
  sqlite3* raw = nullptr;
  // NOFOLLOW: a link planted in the router's directory must not choose the file written.
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, nullptr);
  sqlite::Database db(raw);
  const auto fail = [&](std::string_view what) {
    error = path + ": " + std::string(what);
    return nullptr;
  };
  if (rc != SQLITE_OK) return fail(db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
  sqlite3_extended_result_codes(db.get(), 1);
  // The first read of the file: a file that is not a database fails here.
  if (!sqlite::execute(db.get(), "PRAGMA user_version")) return fail(sqlite3_errmsg(db.get()));
  std::string mode;
  if (!sqlite::execute(db.get(), "PRAGMA journal_mode = WAL", &mode)) return fail(sqlite3_errmsg(db.get()));
  if (mode != "wal") return fail("cannot use WAL journal mode (the journal mode is '" + mode + "')");
  // FULL: a batch committed is on disk; batching keeps that to one fsync per loop turn.
  if (!sqlite::execute(db.get(), "PRAGMA synchronous = FULL")) return fail(sqlite3_errmsg(db.get()));
  // The savepoint of each operation keeps its undo pages in memory: past 64 KiB SQLite would
  // spill them to a temporary file, looking for a directory with access(2), which the
  // router's sandbox refuses (and the chroot has no /tmp).
  if (!sqlite::execute(db.get(), "PRAGMA temp_store = MEMORY")) return fail(sqlite3_errmsg(db.get()));
  return std::make_unique<SqliteDatabase>(std::move(db));
}

bool SqliteDatabase::fail(const char* what) {
  error_ = std::string(what) + ": " + sqlite3_errmsg(db_.get());
  return false;
}

sqlite3_stmt* SqliteDatabase::prepared(Statement id) {
  const StatementText* entry = statement_text(id);
  if (entry == nullptr) {
    error_ = "statement " + std::to_string(static_cast<unsigned>(id)) + " is not in the catalog";
    return nullptr;
  }
  sqlite::Statement& slot = prepared_[static_cast<std::size_t>(id)];
  if (slot) return slot.get();
  sqlite::Statement statement = sqlite::prepare(db_.get(), entry->sql);
  if (!statement) {
    fail(entry->name.data());
    return nullptr;
  }
  // The catalog's placeholders are $1..$N in order, which SQLite numbers as they first
  // appear: a text that used them out of order would bind the wrong values.
  const int count = sqlite3_bind_parameter_count(statement.get());
  if (count != entry->params) {
    error_ = std::string(entry->name) + ": " + std::to_string(count) + " placeholders, the catalog says " +
             std::to_string(entry->params);
    return nullptr;
  }
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(statement.get(), i);
    if (name == nullptr || name != "$" + std::to_string(i)) {
      error_ = std::string(entry->name) + ": placeholder " + std::to_string(i) + " is not $" + std::to_string(i);
      return nullptr;
    }
  }
  slot = std::move(statement);
  return slot.get();
}

bool SqliteDatabase::prepare_all() {
  for (std::size_t i = 0; i < prepared_.size(); ++i)
    if (prepared(static_cast<Statement>(i)) == nullptr) return false;
  return true;
}

bool SqliteDatabase::bind(sqlite3_stmt* statement, std::span<const Value> params) {
  if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(statement)) {
    error_ = "wrong number of parameters";
    return false;
  }
  int index = 1;
  for (const Value& value : params) {
    bool ok = true;
    if (const auto* n = std::get_if<std::int64_t>(&value))
      ok = sqlite::bind_int(statement, index, *n);
    else if (const auto* s = std::get_if<std::string>(&value))
      ok = sqlite::bind_text(statement, index, *s);
    else
      ok = sqlite3_bind_null(statement, index) == SQLITE_OK;
    if (!ok) return fail("bind");
    ++index;
  }
  return true;
}

bool SqliteDatabase::run(Statement id, std::span<const Value> params, std::vector<Row>* rows) {
  sqlite3_stmt* statement = prepared(id);
  if (statement == nullptr) return false;
  sqlite::Use use(statement);
  if (!bind(statement, params)) return false;
  int rc;
  while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
    if (rows == nullptr) continue;
    Row& row = rows->emplace_back();
    const int columns = sqlite3_column_count(statement);
    row.reserve(static_cast<std::size_t>(columns));
    for (int i = 0; i < columns; ++i) {
      switch (sqlite3_column_type(statement, i)) {
        case SQLITE_NULL: row.emplace_back(std::monostate{}); break;
        case SQLITE_INTEGER: row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(statement, i))); break;
        default: row.emplace_back(sqlite::column_text(statement, i)); break;
      }
    }
  }
  if (rc == SQLITE_DONE) return true;
  return fail(statement_text(id)->name.data());
}

bool SqliteDatabase::run_batch(Statement id, std::span<const Row> batch) {
  for (const Row& row : batch)
    if (!run(id, row)) return false;
  return true;
}

}  // namespace xmppd::store
