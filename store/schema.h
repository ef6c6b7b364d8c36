// The schema of the router's data, per dialect and version. DDL never crosses IPC: whoever
// opens the database applies it (the router its SQLite file; the storage process the
// PostgreSQL database, as Prosody's sql_manage_tables does), then prepares the catalog
// (store/catalog.h), whose texts must fit the newest version.
//
// A version is a list of statements that bring the one before it up to it, run in one
// transaction with the new number. A database of a newer version than this build knows was
// written by a newer xmppd and is refused rather than misread.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::store {

class SqliteDatabase;
class PostgresDatabase;

// SQLite keeps its version in PRAGMA user_version. 1: offline messages, rosters, requests;
// 2: offline sizes and per-user counters (kept by triggers then); 3: the modules' items and
// roster pre-approvals; 4: no triggers, the counters kept by the catalog's statements;
// 5: the message archive; 6: the MUC services' rooms; 7: the file sharing services' slots.
inline constexpr int kSqliteSchemaVersion = 7;
// PostgreSQL keeps it in the table xmppd_schema. 1: everything of SQLite's version 4;
// 2: the message archive; 3: the MUC services' rooms; 4: the file sharing services' slots.
inline constexpr int kPostgresSchemaVersion = 4;

// The statements that bring a database of version `version - 1` to `version` (1 ..
// the dialect's newest); empty past it.
std::span<const std::string_view> sqlite_schema_step(int version);
std::span<const std::string_view> postgres_schema_step(int version);
// Every statement from `from_version` to kPostgresSchemaVersion, in order.
std::vector<std::string_view> postgres_schema_upgrade(int from_version);

// Brings the database's schema to the newest version, in one transaction; false with
// `error` when it cannot (or the database is newer than this build). Each is defined in its
// backend's library (store/sqlite_schema.cc, store/postgres_schema.cc).
bool upgrade_schema(SqliteDatabase& db, std::string& error);
bool upgrade_schema(PostgresDatabase& db, std::string& error);

}  // namespace xmppd::store
