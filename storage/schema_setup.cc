#include "storage/schema_setup.h"

namespace xmppd::storage {

// The PostgreSQL schema is the "port" work's (store/schema.h, upgrade_schema); until it is
// merged, a database whose tables the administrator made (sql_manage_tables = false) is the
// only one that works. The call below replaces this body then.
bool apply_schema(store::PostgresDatabase& db, std::string& error) {
  (void)db;
  (void)error;
  return true;
}

}  // namespace xmppd::storage
