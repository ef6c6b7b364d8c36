#ifndef XMPPD_CONFIG_SQL_OPTION_H
#define XMPPD_CONFIG_SQL_OPTION_H

// Prosody's storage options, read with Prosody's syntax:
//   storage = "sql"   (or "internal", Prosody's default: both and absent mean xmppd's embedded
//                      SQLite store, DATA_PATH/router/user.sqlite)
//   storage = { roster = "sql", offline = "sql" }   (accepted only when every store names the
//                      same backend: xmppd keeps all of a host's data in one database)
//   sql = { driver = "PostgreSQL"; database = "xmppd"; host = "127.0.0.1"; port = 5432;
//           username = "xmppd"; password = "..." }
//   sql = { driver = "SQLite3"; database = "prosody.sqlite" }   (a file in DATA_PATH/router)
// Only the configuration file is trusted here; every malformed value is an error.

#include <optional>
#include <string>

#include "config/options.h"
#include "config/value.h"

namespace xmppd::config {

// The `sql` table as read; `storage` says whether it is used at all.
struct SqlSettings {
  std::string driver = "SQLite3";  // "SQLite3" or "PostgreSQL"
  std::string database;            // PostgreSQL: the database; SQLite3: a file name
  std::string host = "localhost";
  int port = 5432;
  std::string username, password;
  bool manage_tables = true;  // sql_manage_tables: the storage process applies the schema
  bool operator==(const SqlSettings&) const = default;
};

std::optional<Problem> check_storage(const Value& value);
void store_storage(const Value& value, Settings& settings, HostSettings& host);
std::optional<Problem> check_sql(const Value& value);
void store_sql(const Value& value, Settings& settings, HostSettings& host);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_SQL_OPTION_H
