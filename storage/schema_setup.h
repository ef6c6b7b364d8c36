// The PostgreSQL schema, applied by the storage process when it connects and
// sql_manage_tables is true (DDL never crosses IPC: the router cannot send any).
#pragma once

#include <string>

#include "store/postgres_database.h"

namespace xmppd::storage {

// Creates or upgrades the tables to the schema this build knows (store/schema.h,
// upgrade_schema); false with `error` when the database holds a newer version or a statement
// fails.
bool apply_schema(store::PostgresDatabase& db, std::string& error);

}  // namespace xmppd::storage
