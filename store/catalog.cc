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

    // The archive (router/archive_store.cc). Optional filters are NULL when unused; the CASTs
    // give PostgreSQL the parameter's type, which it cannot infer from IS NULL alone.
    {"archive.insert", 6,
     "INSERT INTO archive (owner, id, with_jid, stamp, origin_id, stanza) VALUES ($1, $2, $3, $4, $5, $6)", {}},
    {"archive.usage_add", 2,
     "INSERT INTO archive_usage (owner, messages) VALUES ($1, $2) ON CONFLICT (owner) DO UPDATE SET messages = "
     "archive_usage.messages + excluded.messages RETURNING messages",
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
}};

}  // namespace

const StatementText* statement_text(Statement id) {
  const auto index = static_cast<std::size_t>(id);
  return index < kCatalog.size() ? &kCatalog[index] : nullptr;
}

}  // namespace xmppd::store
