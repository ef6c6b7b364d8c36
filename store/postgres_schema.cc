// Applies the PostgreSQL schema (store/schema.h) in one transaction (PostgreSQL's DDL is
// transactional), with the version in the table xmppd_schema. Run by the storage process at
// start (and the tests), never on a statement from the router. Trust: the database is the
// administrator's; a version newer than this build's is refused.
#include <cstdlib>

#include "store/postgres_database.h"
#include "store/schema.h"

namespace xmppd::store {
namespace {

bool apply(PostgresDatabase& db, std::string& error) {
  std::string text;
  // The lock: two storage processes started at once upgrade one after the other.
  if (!db.execute("CREATE TABLE IF NOT EXISTS xmppd_schema (version INTEGER NOT NULL)") ||
      !db.execute("LOCK TABLE xmppd_schema IN EXCLUSIVE MODE") ||
      !db.execute("SELECT coalesce(max(version), 0) FROM xmppd_schema", &text)) {
    error = db.error();
    return false;
  }
  const int version = std::atoi(text.c_str());
  if (version > kPostgresSchemaVersion) {
    error = "schema version " + std::to_string(version) + " is newer than this xmppd understands (" +
            std::to_string(kPostgresSchemaVersion) + "); refusing to use it";
    return false;
  }
  if (version == kPostgresSchemaVersion) return true;
  for (std::string_view sql : postgres_schema_upgrade(version))
    if (!db.execute(sql)) {
      error = db.error();
      return false;
    }
  if (db.execute("DELETE FROM xmppd_schema") &&
      db.execute("INSERT INTO xmppd_schema (version) VALUES (" + std::to_string(kPostgresSchemaVersion) + ")"))
    return true;
  error = db.error();
  return false;
}

}  // namespace

bool upgrade_schema(PostgresDatabase& db, std::string& error) {
  if (!db.execute("BEGIN")) {
    error = db.error();
    return false;
  }
  if (apply(db, error) && db.execute("COMMIT")) return true;
  if (error.empty()) error = db.error();
  db.execute("ROLLBACK");
  return false;
}

}  // namespace xmppd::store
