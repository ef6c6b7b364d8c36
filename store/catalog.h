// Every SQL statement the router's stores may run, by number. The router names a statement
// by its number; the storage process (PostgreSQL) runs the text compiled into it for that
// number, with parameters bound, and nothing else: a compromised router can do with the
// database what these statements do, no more (no DDL, no other tables, no COPY).
//
// One text serves both dialects where it can (placeholders $1, $2, ... which SQLite reads as
// named parameters in order, checked when a statement is prepared); `postgres` overrides it
// where the dialects differ. The schema is in store/schema.cc.
#pragma once

#include <cstdint>
#include <string_view>

namespace xmppd::store {

// Append only within a group: the number is the IPC contract with the storage process, which
// is always the same build as the router, so renumbering is allowed between releases.
enum class Statement : std::uint16_t {
  // The batch of a loop turn and the savepoint of each operation (router/user_store.h).
  kBegin,
  kCommit,
  kRollback,
  kSavepoint,
  kRelease,
  kRollbackTo,

  // router/user_store.cc: offline messages (XEP-0160) and their per-user counters, kept by
  // explicit statements in the operation's savepoint (no triggers: one text for both dialects).
  kOfflineInsert,
  kOfflineUsageAdd,
  kOfflineUsageSubtract,
  kOfflineUsageForget,
  kOfflineUsage,
  kOfflineSelect,
  kOfflineDeleteId,
  kOfflineDeleteUpTo,
  // Rosters (RFC 6121 §2) and their versions (XEP-0237).
  kRosterSelect,
  kRosterSelectItem,
  kRosterCount,
  kRosterUpsert,
  kRosterDelete,
  kRosterVersion,
  kRosterBumpVersion,
  kRosterSetVersion,
  // Pending inbound subscription requests (RFC 6121 §3.1.3).
  kRequestUpsert,
  kRequestCount,
  kRequestHas,
  kRequestSelect,
  kRequestDelete,
  // An account removed: everything kept for it.
  kRemoveOffline,
  kRemoveOfflineUsage,
  kRemoveRoster,
  kRemoveRosterVersion,
  kRemoveRequests,
  kRemoveItems,
  // router/item_store.cc: the IM modules' items.
  kItemInsert,
  kItemSelect,
  kItemSelectNewest,
  kItemNodes,
  kItemCount,
  kItemCountNodes,
  kItemHasNode,
  kItemStoreBytes,
  kItemBytes,
  kItemTrim,
  kItemDelete,
  kItemDeleteNode,
  kItemDeleteStore,
  kItemUsers,

  // router/archive_store.cc (XEP-0313), tables in store/archive_schema.h.
  kArchiveInsert,
  kArchiveUsageAdd,
  kArchiveUsageSubtract,
  kArchiveTrimOldest,
  kArchiveExpire,
  kArchiveDeleteId,
  kArchiveById,
  kArchivePageForward,
  kArchivePageBackward,
  kArchiveCount,
  kArchiveFirst,
  kArchiveLast,
  kArchiveRemoveUser,
  kArchiveRemoveUsage,
  kArchiveUsageDropEmpty,
  kArchiveOverQuota,
  kArchiveUsageTotal,

  // router/muc/room_store.cc: persistent rooms of the MUC services (XEP-0045), their
  // affiliations, tombstones, and each service's XEP-0421 occupant id key.
  kMucRoomUpsert,
  kMucRoomDelete,
  kMucRoomSelect,
  kMucAffiliationUpsert,
  kMucAffiliationDelete,
  kMucAffiliationDeleteRoom,
  kMucAffiliationSelect,
  kMucKeyInsert,
  kMucKeySelect,
  kMucTombstoneUpsert,
  kMucTombstoneDelete,
  kMucTombstoneSelect,
  // The archive of one MUC service's rooms (muc_log_expires_after): owners in its domain.
  kArchiveExpireDomain,
  // router/file_share/: the slots granted (XEP-0363), for the quotas, bounded by a sweep.
  kUploadInsert,
  kUploadUserBytes,
  kUploadServiceBytes,
  kUploadExpire,

  kCount  // not a statement
};

struct StatementText {
  std::string_view name;      // for logs: "offline.insert"
  int params;                 // how many $N it binds
  std::string_view sql;       // both dialects, unless `postgres` is set
  std::string_view postgres;  // PostgreSQL's text where it differs
};

// The catalog entry of `id`; nullptr for a number past the catalog (from IPC: a violation).
const StatementText* statement_text(Statement id);
inline const StatementText* statement_text(std::uint32_t number) {
  return number < static_cast<std::uint32_t>(Statement::kCount) ? statement_text(static_cast<Statement>(number))
                                                                   : nullptr;
}

}  // namespace xmppd::store
