// Applies the SQLite schema (store/schema.h) to the router's file, in one transaction, with
// the version in PRAGMA user_version. Trust: the file is the router's own; its version may be
// a newer build's, which is refused.
#include <cstdlib>

#include "common/sqlite.h"
#include "store/schema.h"
#include "store/sqlite_database.h"

#include <sqlite3.h>

namespace xmppd::store {
namespace {

// -1 when it cannot be read.
int read_version(sqlite3* db) {
  std::string text;
  if (!sqlite::execute(db, "PRAGMA user_version", &text)) return -1;
  return std::atoi(text.c_str());
}

bool apply_steps(sqlite3* db, int version, std::string& error) {
  if (version < 0) {
    error = sqlite3_errmsg(db);
    return false;
  }
  if (version > kSqliteSchemaVersion) {
    error = "schema version " + std::to_string(version) + " is newer than this xmppd understands (" +
            std::to_string(kSqliteSchemaVersion) + "); refusing to open it";
    return false;
  }
  // A store of version 1 runs version 1 again: early builds wrote that number with fewer
  // tables, and its statements are all IF NOT EXISTS.
  for (int step = version < 2 ? 1 : version + 1; step <= kSqliteSchemaVersion; ++step)
    for (std::string_view sql : sqlite_schema_step(step))
      if (!sqlite::execute(db, sql)) {
        error = std::string(sql.substr(0, 60)) + ": " + sqlite3_errmsg(db);
        return false;
      }
  if (sqlite::execute(db, "PRAGMA user_version = " + std::to_string(kSqliteSchemaVersion))) return true;
  error = sqlite3_errmsg(db);
  return false;
}

}  // namespace

bool upgrade_schema(SqliteDatabase& database, std::string& error) {
  sqlite3* db = database.handle();
  // Read outside a transaction first: the common case, a store of this version, writes nothing.
  const int current = read_version(db);
  if (current == kSqliteSchemaVersion) return true;
  if (!sqlite::execute(db, "BEGIN IMMEDIATE")) {
    error = sqlite3_errmsg(db);
    return false;
  }
  // Read again inside the transaction: another connection may have upgraded it since.
  if (apply_steps(db, read_version(db), error) && sqlite::execute(db, "COMMIT")) return true;
  if (error.empty()) error = sqlite3_errmsg(db);
  sqlite::execute(db, "ROLLBACK");
  return false;
}

}  // namespace xmppd::store
