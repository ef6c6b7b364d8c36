// The message archive's tables (XEP-0313, router/archive_store.h), per dialect: applied by
// whoever opens the database (store/schema.cc), never sent over IPC.
//
// archive: one row per archived message, `seq` its place in the owner's archive (what paging
// orders by), `id` the XEP-0359 stanza-id given to clients (random, unguessable), `with_jid`
// the other party's bare JID, `stamp` seconds since the epoch, `stanza` the message as kept.
// archive_usage: each owner's count of rows, kept by explicit statements in the same
// transaction as the writes (no triggers: the same text serves PostgreSQL), so that the
// quota check reads one row rather than counting.
#pragma once

#include <array>
#include <string_view>

namespace xmppd::store {

inline constexpr std::array<std::string_view, 6> kArchiveSqlite = {
    // AUTOINCREMENT: a seq is never handed out twice, even after the newest rows expired, so
    // that a client's last-seen id never points into messages that came later.
    "CREATE TABLE IF NOT EXISTS archive (seq INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, "
    "id TEXT NOT NULL, with_jid TEXT NOT NULL, stamp INTEGER NOT NULL, origin_id TEXT, stanza TEXT NOT NULL)",
    "CREATE UNIQUE INDEX IF NOT EXISTS archive_owner_id ON archive (owner, id)",
    "CREATE INDEX IF NOT EXISTS archive_owner_seq ON archive (owner, seq)",
    "CREATE INDEX IF NOT EXISTS archive_owner_with ON archive (owner, with_jid, seq)",
    "CREATE INDEX IF NOT EXISTS archive_stamp ON archive (stamp)",
    "CREATE TABLE IF NOT EXISTS archive_usage (owner TEXT PRIMARY KEY, messages INTEGER NOT NULL)",
};

inline constexpr std::array<std::string_view, 6> kArchivePostgres = {
    "CREATE TABLE IF NOT EXISTS archive (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, owner TEXT NOT NULL, "
    "id TEXT NOT NULL, with_jid TEXT NOT NULL, stamp BIGINT NOT NULL, origin_id TEXT, stanza TEXT NOT NULL)",
    "CREATE UNIQUE INDEX IF NOT EXISTS archive_owner_id ON archive (owner, id)",
    "CREATE INDEX IF NOT EXISTS archive_owner_seq ON archive (owner, seq)",
    "CREATE INDEX IF NOT EXISTS archive_owner_with ON archive (owner, with_jid, seq)",
    "CREATE INDEX IF NOT EXISTS archive_stamp ON archive (stamp)",
    "CREATE TABLE IF NOT EXISTS archive_usage (owner TEXT PRIMARY KEY, messages BIGINT NOT NULL)",
};

}  // namespace xmppd::store
