// The table of the file sharing services (XEP-0363, router/file_share/), per dialect: applied
// by whoever opens the database (store/schema.cc: SQLite's version 7, PostgreSQL's 4), never
// sent over IPC. Trust: compiled in.
//
// upload_slot: one row per slot granted (`id` the slot's random id, `service` the component's
// domain, `uploader` a bare JID), with the size charged to the quotas (the announced size, at least 4 KiB) and the type and when it was granted
// (seconds since the epoch). The daily quota sums one uploader's rows of the last 24 hours,
// the global quota the rows not yet expired; rows past both are deleted by the service's
// sweep, so the table holds at most a day's or an expiry period's grants.
#pragma once

#include <array>
#include <string_view>

namespace xmppd::store {

inline constexpr std::array<std::string_view, 3> kFileShareSqlite = {
    "CREATE TABLE IF NOT EXISTS upload_slot (id TEXT PRIMARY KEY, service TEXT NOT NULL, uploader TEXT NOT NULL, "
    "filename TEXT NOT NULL, size INTEGER NOT NULL, type TEXT NOT NULL, granted INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS upload_slot_uploader ON upload_slot (service, uploader, granted)",
    "CREATE INDEX IF NOT EXISTS upload_slot_granted ON upload_slot (service, granted)",
};

inline constexpr std::array<std::string_view, 3> kFileSharePostgres = {
    "CREATE TABLE IF NOT EXISTS upload_slot (id TEXT PRIMARY KEY, service TEXT NOT NULL, uploader TEXT NOT NULL, "
    "filename TEXT NOT NULL, size BIGINT NOT NULL, type TEXT NOT NULL, granted BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS upload_slot_uploader ON upload_slot (service, uploader, granted)",
    "CREATE INDEX IF NOT EXISTS upload_slot_granted ON upload_slot (service, granted)",
};

}  // namespace xmppd::store
