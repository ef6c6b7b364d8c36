#include "store/catalog.h"

#include <array>

namespace xmppd::store {
namespace {

// In the order of the enum; catalog_unittest checks that every entry is filled in and that
// every text prepares on SQLite with exactly `params` placeholders named $1..$N.
constexpr std::array<StatementText, static_cast<std::size_t>(Statement::kCount)> kCatalog = {{
    // A write batch: IMMEDIATE takes SQLite's write lock at once, so that a batch never fails
    // half way for want of it. PostgreSQL has no such mode and needs none.
    {"batch.begin", 0, "BEGIN IMMEDIATE", "BEGIN"},
    {"batch.commit", 0, "COMMIT", {}},
    {"batch.rollback", 0, "ROLLBACK", {}},
    {"operation.savepoint", 0, "SAVEPOINT operation", {}},
    {"operation.release", 0, "RELEASE SAVEPOINT operation", {}},
    {"operation.rollback", 0, "ROLLBACK TO SAVEPOINT operation", {}},

    // Offline messages. The id is the order of delivery; RETURNING gives it to the caller.
    {"offline.insert", 4, "INSERT INTO offline (bare, stanza, stored_at, size) VALUES ($1, $2, $3, $4) RETURNING id",
     {}},
    // The counters the quota reads, one row per user with something waiting. Qualified with
    // the table's name: PostgreSQL finds a bare `messages` ambiguous beside `excluded`.
    {"offline.usage_add", 2,
     "INSERT INTO offline_usage (bare, messages, bytes) VALUES ($1, 1, $2) ON CONFLICT (bare) DO UPDATE SET "
     "messages = offline_usage.messages + 1, bytes = offline_usage.bytes + excluded.bytes",
     {}},
    // $1 messages, $2 bytes, $3 bare: SQLite numbers placeholders as they first appear.
    {"offline.usage_subtract", 3, "UPDATE offline_usage SET messages = messages - $1, bytes = bytes - $2 WHERE bare = $3",
     {}},
    // A user with nothing waiting has no row: the table does not grow with every user ever
    // sent a message.
    {"offline.usage_forget", 1, "DELETE FROM offline_usage WHERE bare = $1 AND messages <= 0", {}},
    {"offline.usage", 1, "SELECT messages, bytes FROM offline_usage WHERE bare = $1", {}},
    {"offline.select", 3, "SELECT id, stanza, stored_at FROM offline WHERE bare = $1 AND id > $2 ORDER BY id LIMIT $3",
     {}},
    // RETURNING: what was deleted is what the counters lose.
    {"offline.delete_id", 1, "DELETE FROM offline WHERE id = $1 RETURNING bare, size", {}},
    {"offline.delete_up_to", 2, "DELETE FROM offline WHERE bare = $1 AND id <= $2 RETURNING size", {}},

    {"roster.select", 1,
     "SELECT contact, name, subscription, ask, groups, approved FROM roster WHERE bare = $1 ORDER BY contact", {}},
    {"roster.select_item", 2,
     "SELECT contact, name, subscription, ask, groups, approved FROM roster WHERE bare = $1 AND contact = $2", {}},
    {"roster.count", 1, "SELECT count(*) FROM roster WHERE bare = $1", {}},
    {"roster.upsert", 7,
     "INSERT INTO roster (bare, contact, name, subscription, ask, groups, approved) VALUES ($1, $2, $3, $4, $5, $6, $7) "
     "ON CONFLICT (bare, contact) DO UPDATE SET name = excluded.name, subscription = excluded.subscription, "
     "ask = excluded.ask, groups = excluded.groups, approved = excluded.approved",
     {}},
    {"roster.delete", 2, "DELETE FROM roster WHERE bare = $1 AND contact = $2", {}},
    {"roster.version", 1, "SELECT version FROM roster_version WHERE bare = $1", {}},
    {"roster.bump_version", 1,
     "INSERT INTO roster_version (bare, version) VALUES ($1, 1) ON CONFLICT (bare) DO UPDATE SET "
     "version = roster_version.version + 1 RETURNING version",
     {}},
    {"roster.set_version", 2,
     "INSERT INTO roster_version (bare, version) VALUES ($1, $2) ON CONFLICT (bare) DO UPDATE SET "
     "version = excluded.version",
     {}},

    // Not a delete and an insert: a request sent again keeps its rowid, and so its place in
    // the order the requests are delivered in (pages by rowid), or it would be delivered
    // twice. PostgreSQL has no rowid: its table has a column of that name (store/schema.cc).
    {"request.upsert", 3,
     "INSERT INTO subscription_request (bare, sender, stanza) VALUES ($1, $2, $3) "
     "ON CONFLICT (bare, sender) DO UPDATE SET stanza = excluded.stanza",
     {}},
    {"request.count", 1, "SELECT count(*) FROM subscription_request WHERE bare = $1", {}},
    {"request.has", 2, "SELECT 1 FROM subscription_request WHERE bare = $1 AND sender = $2", {}},
    {"request.select", 3,
     "SELECT rowid, stanza FROM subscription_request WHERE bare = $1 AND rowid > $2 ORDER BY rowid LIMIT $3", {}},
    {"request.delete", 2, "DELETE FROM subscription_request WHERE bare = $1 AND sender = $2", {}},

    {"remove.offline", 1, "DELETE FROM offline WHERE bare = $1", {}},
    {"remove.offline_usage", 1, "DELETE FROM offline_usage WHERE bare = $1", {}},
    {"remove.roster", 1, "DELETE FROM roster WHERE bare = $1", {}},
    {"remove.roster_version", 1, "DELETE FROM roster_version WHERE bare = $1", {}},
    {"remove.requests", 1, "DELETE FROM subscription_request WHERE bare = $1", {}},
    {"remove.items", 1, "DELETE FROM item WHERE bare = $1", {}},

    // Items. A write is item.delete then item.insert, so that a rewritten item gets a new
    // seq and becomes the node's newest (XEP-0060 §7.1.2). Values are text (serialized XML).
    {"item.insert", 5, "INSERT INTO item (bare, store, node, id, value) VALUES ($1, $2, $3, $4, $5)", {}},
    {"item.select", 4, "SELECT value FROM item WHERE bare = $1 AND store = $2 AND node = $3 AND id = $4", {}},
    // The newest $4, oldest first.
    {"item.select_newest", 4,
     "SELECT id, value FROM (SELECT seq, id, value FROM item WHERE bare = $1 AND store = $2 AND node = $3 "
     "ORDER BY seq DESC LIMIT $4) AS newest ORDER BY seq",
     {}},
    {"item.nodes", 2, "SELECT DISTINCT node FROM item WHERE bare = $1 AND store = $2 ORDER BY node", {}},
    {"item.count", 3, "SELECT count(*) FROM item WHERE bare = $1 AND store = $2 AND node = $3", {}},
    {"item.count_nodes", 2, "SELECT count(DISTINCT node) FROM item WHERE bare = $1 AND store = $2", {}},
    {"item.has_node", 3, "SELECT count(*) FROM (SELECT 1 FROM item WHERE bare = $1 AND store = $2 AND node = $3 LIMIT 1) AS one",
     {}},
    // Bytes, not characters: SQLite's length() of text counts characters (and 3.40 has no
    // octet_length), so the value is counted as a blob.
    {"item.store_bytes", 2, "SELECT coalesce(sum(length(CAST(value AS BLOB))), 0) FROM item WHERE bare = $1 AND store = $2",
     "SELECT coalesce(sum(octet_length(value)), 0) FROM item WHERE bare = $1 AND store = $2"},
    {"item.bytes", 4,
     "SELECT coalesce(sum(length(CAST(value AS BLOB))), 0) FROM item WHERE bare = $1 AND store = $2 AND node = $3 "
     "AND id = $4",
     "SELECT coalesce(sum(octet_length(value)), 0) FROM item WHERE bare = $1 AND store = $2 AND node = $3 AND id = $4"},
    // Everything older than the node's newest $4 (nothing when it has no more than $4).
    {"item.trim", 4,
     "DELETE FROM item WHERE bare = $1 AND store = $2 AND node = $3 AND seq <= (SELECT seq FROM item "
     "WHERE bare = $1 AND store = $2 AND node = $3 ORDER BY seq DESC LIMIT 1 OFFSET $4)",
     {}},
    {"item.delete", 4, "DELETE FROM item WHERE bare = $1 AND store = $2 AND node = $3 AND id = $4", {}},
    {"item.delete_node", 3, "DELETE FROM item WHERE bare = $1 AND store = $2 AND node = $3", {}},
    {"item.delete_store", 2, "DELETE FROM item WHERE bare = $1 AND store = $2", {}},
    {"item.users", 1, "SELECT DISTINCT bare FROM item WHERE store = $1 ORDER BY bare", {}},
    // The archive (router/archive_store.cc). Optional filters are NULL when unused; the CASTs
    // give PostgreSQL the parameter's type, which it cannot infer from IS NULL alone.
    {"archive.insert", 6,
     "INSERT INTO archive (owner, id, with_jid, stamp, origin_id, stanza) VALUES ($1, $2, $3, $4, $5, $6)", {}},
    // Run as one batch per flush, for every owner of the batch at once; archive.over_quota then
    // names the few past the quota, so that a flush costs the same few round trips to the
    // storage process however many users it archives for.
    {"archive.usage_add", 2,
     "INSERT INTO archive_usage (owner, messages) VALUES ($1, $2) ON CONFLICT (owner) DO UPDATE SET messages = "
     "archive_usage.messages + excluded.messages",
     {}},
    {"archive.usage_subtract", 2,
     "UPDATE archive_usage SET messages = CASE WHEN messages > $1 THEN messages - $1 ELSE 0 END WHERE owner = $2", {}},
    {"archive.trim_oldest", 2,
     "DELETE FROM archive WHERE seq IN (SELECT seq FROM archive WHERE owner = $1 ORDER BY seq LIMIT $2) RETURNING seq",
     {}},
    // Bounded: the expiry timer deletes a chunk per loop turn, so that the router never stalls.
    {"archive.expire", 2,
     "DELETE FROM archive WHERE seq IN (SELECT seq FROM archive WHERE stamp < $1 ORDER BY stamp LIMIT $2) "
     "RETURNING owner",
     {}},
    {"archive.delete_id", 2, "DELETE FROM archive WHERE owner = $1 AND id = $2 RETURNING seq", {}},
    {"archive.by_id", 2, "SELECT seq, id, with_jid, stamp, stanza FROM archive WHERE owner = $1 AND id = $2", {}},
    {"archive.page_forward", 7,
     "SELECT seq, id, with_jid, stamp, stanza FROM archive WHERE owner = $1 AND (CAST($2 AS TEXT) IS NULL OR "
     "with_jid = $2) AND (CAST($3 AS BIGINT) IS NULL OR stamp >= $3) AND (CAST($4 AS BIGINT) IS NULL OR stamp <= $4) "
     "AND seq > $5 AND seq < $6 ORDER BY seq LIMIT $7",
     {}},
    {"archive.page_backward", 7,
     "SELECT seq, id, with_jid, stamp, stanza FROM archive WHERE owner = $1 AND (CAST($2 AS TEXT) IS NULL OR "
     "with_jid = $2) AND (CAST($3 AS BIGINT) IS NULL OR stamp >= $3) AND (CAST($4 AS BIGINT) IS NULL OR stamp <= $4) "
     "AND seq > $5 AND seq < $6 ORDER BY seq DESC LIMIT $7",
     {}},
    {"archive.count", 4,
     "SELECT count(*) FROM archive WHERE owner = $1 AND (CAST($2 AS TEXT) IS NULL OR with_jid = $2) AND "
     "(CAST($3 AS BIGINT) IS NULL OR stamp >= $3) AND (CAST($4 AS BIGINT) IS NULL OR stamp <= $4)",
     {}},
    {"archive.first", 1, "SELECT seq, id, with_jid, stamp FROM archive WHERE owner = $1 ORDER BY seq LIMIT 1", {}},
    {"archive.last", 1, "SELECT seq, id, with_jid, stamp FROM archive WHERE owner = $1 ORDER BY seq DESC LIMIT 1", {}},
    {"archive.remove_user", 1, "DELETE FROM archive WHERE owner = $1", {}},
    {"archive.remove_usage", 1, "DELETE FROM archive_usage WHERE owner = $1", {}},
    {"archive.drop_empty_usage", 1, "DELETE FROM archive_usage WHERE owner = $1 AND messages <= 0", {}},
    // An index range (archive_usage_messages): the owners just past the quota, usually none.
    {"archive.over_quota", 1, "SELECT owner, messages FROM archive_usage WHERE messages > $1", {}},
    // For /metrics: one row per owner, read at most once a minute (router/archive_store.h).
    {"archive.usage_total", 0, "SELECT COALESCE(SUM(messages), 0), COUNT(*) FROM archive_usage", {}},

    // MUC rooms (router/muc/room_store.h): a room is written whole when first kept, its
    // affiliations deleted and inserted again in the same savepoint; later only the rows that
    // changed, so that a change costs a few statements whatever the room's size.
    {"muc.room_upsert", 6,
     "INSERT INTO muc_room (service, room, config, subject, subject_nick, created) VALUES ($1, $2, $3, $4, $5, $6) "
     "ON CONFLICT (service, room) DO UPDATE SET config = excluded.config, subject = excluded.subject, "
     "subject_nick = excluded.subject_nick, created = excluded.created",
     {}},
    {"muc.room_delete", 2, "DELETE FROM muc_room WHERE service = $1 AND room = $2", {}},
    {"muc.room_select", 1,
     "SELECT room, config, subject, subject_nick, created FROM muc_room WHERE service = $1 ORDER BY room", {}},
    {"muc.affiliation_upsert", 6,
     "INSERT INTO muc_affiliation (service, room, jid, affiliation, nick, reason) VALUES ($1, $2, $3, $4, $5, $6) "
     "ON CONFLICT (service, room, jid) DO UPDATE SET affiliation = excluded.affiliation, nick = excluded.nick, "
     "reason = excluded.reason",
     {}},
    {"muc.affiliation_delete", 3, "DELETE FROM muc_affiliation WHERE service = $1 AND room = $2 AND jid = $3", {}},
    {"muc.affiliation_delete_room", 2, "DELETE FROM muc_affiliation WHERE service = $1 AND room = $2", {}},
    {"muc.affiliation_select", 1,
     "SELECT room, jid, affiliation, nick, reason FROM muc_affiliation WHERE service = $1 ORDER BY room, jid", {}},
    // Made once: a second router racing to make it keeps the first one's.
    {"muc.key_insert", 2, "INSERT INTO muc_service (service, occupant_id_key) VALUES ($1, $2) ON CONFLICT (service) DO NOTHING",
     {}},
    {"muc.key_select", 1, "SELECT occupant_id_key FROM muc_service WHERE service = $1", {}},
    {"muc.tombstone_upsert", 5,
     "INSERT INTO muc_tombstone (service, room, expires, reason, alternate) VALUES ($1, $2, $3, $4, $5) "
     "ON CONFLICT (service, room) DO UPDATE SET expires = excluded.expires, reason = excluded.reason, "
     "alternate = excluded.alternate",
     {}},
    {"muc.tombstone_delete", 2, "DELETE FROM muc_tombstone WHERE service = $1 AND room = $2", {}},
    {"muc.tombstone_select", 1, "SELECT room, expires, reason, alternate FROM muc_tombstone WHERE service = $1", {}},
    // $1 "@" and the service's domain: the owners that end with it (a suffix, not LIKE, whose
    // wildcards a domain's "_" would be).
    {"archive.expire_domain", 3,
     "DELETE FROM archive WHERE seq IN (SELECT seq FROM archive WHERE "
     "substr(owner, length(owner) - length(CAST($1 AS TEXT)) + 1) = $1 AND stamp < $2 ORDER BY stamp LIMIT $3) "
     "RETURNING owner",
     {}},
    // File sharing (router/file_share/): one row per slot granted. The sums are cast so that
    // both dialects answer an integer (PostgreSQL's SUM of BIGINT is NUMERIC).
    {"upload.insert", 7,
     "INSERT INTO upload_slot (id, service, uploader, filename, size, type, granted) VALUES ($1, $2, $3, $4, $5, $6, $7)",
     {}},
    {"upload.user_bytes", 3,
     "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT), COUNT(*) FROM upload_slot WHERE service = $1 AND uploader = $2 AND granted >= $3",
     {}},
    {"upload.service_bytes", 2,
     "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM upload_slot WHERE service = $1 AND granted >= $2", {}},
    {"upload.expire", 2, "DELETE FROM upload_slot WHERE service = $1 AND granted < $2", {}},
}};

}  // namespace

const StatementText* statement_text(Statement id) {
  const auto index = static_cast<std::size_t>(id);
  return index < kCatalog.size() ? &kCatalog[index] : nullptr;
}

}  // namespace xmppd::store
