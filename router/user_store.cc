#include "router/user_store.h"

#include <sqlite3.h>

#include <climits>
#include <cstdlib>
#include <utility>

#include "common/log.h"

namespace xmppd::router {
namespace {

using sqlite::bind_int;
using sqlite::bind_text;
using sqlite::column_text;
using sqlite::execute;
using sqlite::prepare;
using sqlite::Use;

// Version 1, as a store of that version has it. IF NOT EXISTS: stores of early builds wrote
// version 1 with fewer of these tables.
constexpr std::string_view kSchemaV1[] = {
    "CREATE TABLE IF NOT EXISTS offline (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "bare TEXT NOT NULL, stanza TEXT NOT NULL, stored_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS offline_bare ON offline (bare, id)",
    "CREATE TABLE IF NOT EXISTS roster (bare TEXT NOT NULL, contact TEXT NOT NULL, "
    "name TEXT NOT NULL, subscription TEXT NOT NULL, ask INTEGER NOT NULL, "
    "groups TEXT NOT NULL, PRIMARY KEY (bare, contact))",
    "CREATE TABLE IF NOT EXISTS roster_version (bare TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS subscription_request (bare TEXT NOT NULL, sender TEXT NOT NULL, "
    "stanza TEXT NOT NULL, PRIMARY KEY (bare, sender))",
};

// Version 2: the offline quota is checked for every message a sender offers, and summing the
// stored stanzas read all of the user's (up to max_user_offline_bytes) each time. Each row now
// has its size in bytes, written at insert, and offline_usage one row per user with a count
// and a sum that triggers keep in the same transaction as the rows themselves, whichever
// statement inserts or deletes them (offline rows are never updated). The sizes and sums of a
// version-1 store are computed here, once.
constexpr std::string_view kSchemaV2[] = {
    "ALTER TABLE offline ADD COLUMN size INTEGER NOT NULL DEFAULT 0",
    "UPDATE offline SET size = length(CAST(stanza AS BLOB))",
    "CREATE TABLE offline_usage (bare TEXT PRIMARY KEY, messages INTEGER NOT NULL, bytes INTEGER NOT NULL)",
    "INSERT INTO offline_usage (bare, messages, bytes) SELECT bare, count(*), sum(size) FROM offline GROUP BY bare",
    "CREATE TRIGGER offline_kept AFTER INSERT ON offline BEGIN "
    "INSERT INTO offline_usage (bare, messages, bytes) VALUES (NEW.bare, 1, NEW.size) "
    "ON CONFLICT (bare) DO UPDATE SET messages = messages + 1, bytes = bytes + excluded.bytes; END",
    // A user with nothing waiting has no row: the table does not grow with every user ever
    // sent a message.
    "CREATE TRIGGER offline_gone AFTER DELETE ON offline BEGIN "
    "UPDATE offline_usage SET messages = messages - 1, bytes = bytes - OLD.size WHERE bare = OLD.bare; "
    "DELETE FROM offline_usage WHERE bare = OLD.bare AND messages <= 0; END",
};

// Version 3: what the IM modules keep (router/item_store.h), one table for all of them, and
// roster pre-approvals. seq
// orders a node's items by when they were last written: INSERT OR REPLACE gives a rewritten
// item a new one, so that it becomes the newest (XEP-0060 §7.1.2).
constexpr std::string_view kSchemaV3[] = {
    "CREATE TABLE item (seq INTEGER PRIMARY KEY AUTOINCREMENT, bare TEXT NOT NULL, store TEXT NOT NULL, "
    "node TEXT NOT NULL, id TEXT NOT NULL, value BLOB NOT NULL, UNIQUE (bare, store, node, id))",
    // RFC 6121 §3.4: the user approved a subscription before the contact asked for it.
    "ALTER TABLE roster ADD COLUMN approved INTEGER NOT NULL DEFAULT 0",
};

// SQLite counts in 64-bit signed integers; a quota past that is no quota.
std::int64_t clamp(std::size_t n) {
  return n > static_cast<std::size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(n);
}

// PRAGMA user_version; -1 when it cannot be read (the first read of the file: a file that is
// not a database fails here).
int read_version(sqlite3* db) {
  std::string text;
  if (!execute(db, "PRAGMA user_version", &text)) return -1;
  return std::atoi(text.c_str());
}

// Brings the schema from `version` to kSchemaVersion in one transaction. `message` says what failed.
bool upgrade(sqlite3* db, std::string& message) {
  if (!execute(db, "BEGIN IMMEDIATE")) {
    message = sqlite3_errmsg(db);
    return false;
  }
  // Read again inside the transaction: another connection may have upgraded it since.
  const int version = read_version(db);
  bool ok = version >= 0;
  if (ok && version < 2) {
    for (std::string_view sql : kSchemaV1) ok = ok && execute(db, sql);
    for (std::string_view sql : kSchemaV2) ok = ok && execute(db, sql);
  }
  if (ok && version < 3)
    for (std::string_view sql : kSchemaV3) ok = ok && execute(db, sql);
  ok = ok && execute(db, "PRAGMA user_version = " + std::to_string(UserStore::kSchemaVersion));
  if (ok && execute(db, "COMMIT")) return true;
  message = sqlite3_errmsg(db);  // before the rollback replaces it
  execute(db, "ROLLBACK");
  return false;
}

std::string join_groups(const std::vector<std::string>& groups) {
  std::string out;
  for (const std::string& g : groups) {
    if (!out.empty()) out.push_back('\n');
    out += g;
  }
  return out;
}

std::vector<std::string> split_groups(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    out.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

UserStore::RosterItem item_of(sqlite3_stmt* s) {
  return UserStore::RosterItem{column_text(s, 0), column_text(s, 1), column_text(s, 2), sqlite3_column_int(s, 3) != 0,
                               split_groups(column_text(s, 4)), sqlite3_column_int(s, 5) != 0};
}

}  // namespace

UserStore::UserStore(sqlite::Database db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

UserStore::~UserStore() {
  if (batch_open_) commit();
}

std::unique_ptr<UserStore> UserStore::open(const std::string& path, std::string& error) {
  if (path.empty()) {
    error = "user store: no path given";
    return nullptr;
  }
  sqlite3* raw = nullptr;
  // NOFOLLOW: a link planted in the router's directory must not choose the file written.
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, nullptr);
  sqlite::Database db(raw);
  const auto fail = [&](std::string_view what) {
    error = "user store " + path + ": " + std::string(what);
    return nullptr;
  };
  if (rc != SQLITE_OK) return fail(db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
  sqlite3_extended_result_codes(db.get(), 1);

  const int version = read_version(db.get());
  if (version < 0) return fail(sqlite3_errmsg(db.get()));
  if (version > kSchemaVersion)
    return fail("schema version " + std::to_string(version) + " is newer than this xmppd understands (" +
                std::to_string(kSchemaVersion) + "); refusing to open it");
  std::string mode;
  if (!execute(db.get(), "PRAGMA journal_mode = WAL", &mode)) return fail(sqlite3_errmsg(db.get()));
  if (mode != "wal") return fail("cannot use WAL journal mode (the journal mode is '" + mode + "')");
  // FULL: a batch committed is on disk; batching keeps that to one fsync per loop turn.
  if (!execute(db.get(), "PRAGMA synchronous = FULL")) return fail(sqlite3_errmsg(db.get()));
  // The savepoint of each operation keeps its undo pages in memory: past 64 KiB SQLite would
  // spill them to a temporary file, looking for a directory with access(2), which the
  // router's sandbox refuses (and the chroot has no /tmp). An operation is one stanza's worth.
  if (!execute(db.get(), "PRAGMA temp_store = MEMORY")) return fail(sqlite3_errmsg(db.get()));

  if (std::string message; version < kSchemaVersion && !upgrade(db.get(), message)) return fail(message);

  std::unique_ptr<UserStore> store(new UserStore(std::move(db), path));
  if (!store->prepare_statements(error)) return nullptr;
  return store;
}

bool UserStore::prepare_statements(std::string& error) {
  sqlite3* db = db_.get();
  const std::pair<sqlite::Statement*, std::string_view> all[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&savepoint_, "SAVEPOINT operation"},
      {&release_, "RELEASE operation"},
      {&rollback_to_, "ROLLBACK TO operation"},
      {&insert_offline_, "INSERT INTO offline (bare, stanza, stored_at, size) VALUES (?1, ?2, ?3, ?4)"},
      {&offline_usage_, "SELECT messages, bytes FROM offline_usage WHERE bare = ?1"},
      {&select_offline_, "SELECT id, stanza, stored_at FROM offline WHERE bare = ?1 AND id > ?2 ORDER BY id LIMIT ?3"},
      {&delete_offline_id_, "DELETE FROM offline WHERE id = ?1"},
      {&delete_offline_upto_, "DELETE FROM offline WHERE bare = ?1 AND id <= ?2"},
      {&select_roster_, "SELECT contact, name, subscription, ask, groups, approved FROM roster WHERE bare = ?1 ORDER BY contact"},
      {&select_roster_item_,
       "SELECT contact, name, subscription, ask, groups, approved FROM roster WHERE bare = ?1 AND contact = ?2"},
      {&count_roster_, "SELECT count(*) FROM roster WHERE bare = ?1"},
      {&upsert_roster_,
       "INSERT OR REPLACE INTO roster (bare, contact, name, subscription, ask, groups, approved) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
      {&delete_roster_, "DELETE FROM roster WHERE bare = ?1 AND contact = ?2"},
      {&select_version_, "SELECT version FROM roster_version WHERE bare = ?1"},
      {&bump_version_,
       "INSERT INTO roster_version (bare, version) VALUES (?1, 1) "
       "ON CONFLICT (bare) DO UPDATE SET version = version + 1"},
      {&set_version_,
       "INSERT INTO roster_version (bare, version) VALUES (?1, ?2) "
       "ON CONFLICT (bare) DO UPDATE SET version = excluded.version"},
      // Not INSERT OR REPLACE: that deletes the row and inserts another with a new rowid, and a
      // request sent again while they are delivered in rowid order would be delivered twice.
      {&upsert_request_,
       "INSERT INTO subscription_request (bare, sender, stanza) VALUES (?1, ?2, ?3) "
       "ON CONFLICT (bare, sender) DO UPDATE SET stanza = excluded.stanza"},
      {&count_requests_, "SELECT count(*) FROM subscription_request WHERE bare = ?1"},
      {&has_request_, "SELECT 1 FROM subscription_request WHERE bare = ?1 AND sender = ?2"},
      {&select_requests_,
       "SELECT rowid, stanza FROM subscription_request WHERE bare = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3"},
      {&delete_request_, "DELETE FROM subscription_request WHERE bare = ?1 AND sender = ?2"},
      {&remove_offline_, "DELETE FROM offline WHERE bare = ?1"},
      {&remove_roster_, "DELETE FROM roster WHERE bare = ?1"},
      {&remove_version_, "DELETE FROM roster_version WHERE bare = ?1"},
      {&remove_requests_, "DELETE FROM subscription_request WHERE bare = ?1"},
      {&remove_items_, "DELETE FROM item WHERE bare = ?1"},
  };
  for (const auto& [statement, sql] : all) {
    *statement = prepare(db, sql);
    if (!*statement) {
      error = "user store " + path_ + ": " + std::string(sql) + ": " + sqlite3_errmsg(db);
      return false;
    }
  }
  return true;
}

void UserStore::report(const char* what) {
  log::error("user store %s: %s: %s", path_.c_str(), what, sqlite3_errmsg(db_.get()));
}

bool UserStore::run(sqlite3_stmt* statement) {
  const Use use(statement);
  return sqlite3_step(statement) == SQLITE_DONE;
}

bool UserStore::ensure_batch() {
  if (batch_open_) return true;
  if (!run(begin_.get())) {
    report("cannot begin a transaction");
    return false;
  }
  batch_open_ = true;
  if (batch_opened_) batch_opened_();
  return true;
}

bool UserStore::commit() {
  if (!batch_open_) return true;
  batch_open_ = false;
  if (run(commit_.get())) return true;
  report("cannot commit; the batch is rolled back");
  // A COMMIT that failed with SQLITE_BUSY leaves the transaction open; any other failure
  // has ended it already, and then this ROLLBACK fails harmlessly.
  run(rollback_.get());
  return false;
}

UserStore::Outcome UserStore::write(const char* what, const std::function<Outcome()>& body) {
  if (!ensure_batch()) return Outcome::kFailed;
  if (!run(savepoint_.get())) {
    report(what);
    return Outcome::kFailed;
  }
  Outcome outcome = body();
  if (outcome == Outcome::kFailed) report(what);
  if (outcome == Outcome::kStored && run(release_.get())) return outcome;
  if (outcome == Outcome::kStored) {
    report(what);
    outcome = Outcome::kFailed;
  }
  // Undo this operation alone; the rest of the batch stands.
  if (!run(rollback_to_.get()) || !run(release_.get())) {
    report("cannot roll back an operation; the batch is rolled back");
    batch_open_ = false;
    run(rollback_.get());
  }
  return outcome;
}

std::int64_t UserStore::count(sqlite3_stmt* statement, std::string_view bare) {
  const Use use(statement);
  if (!bind_text(statement, 1, bare) || sqlite3_step(statement) != SQLITE_ROW) return -1;
  return sqlite3_column_int64(statement, 0);
}

UserStore::Outcome UserStore::store_offline(std::string_view bare, std::string_view stanza, std::int64_t when,
                                            OfflineQuota quota, std::int64_t* id) {
  return write("cannot keep an offline message", [&] {
    const OfflineUsage used = offline_usage(bare);
    if (used.messages < 0) return Outcome::kFailed;
    if (used.messages + 1 > clamp(quota.max_count) || used.bytes + clamp(stanza.size()) > clamp(quota.max_bytes))
      return Outcome::kOverQuota;
    sqlite3_stmt* s = insert_offline_.get();
    const Use use(s);
    if (!bind_text(s, 1, bare) || !bind_text(s, 2, stanza) || !bind_int(s, 3, when) ||
        !bind_int(s, 4, clamp(stanza.size())) || sqlite3_step(s) != SQLITE_DONE)
      return Outcome::kFailed;
    if (id != nullptr) *id = sqlite3_last_insert_rowid(db_.get());
    return Outcome::kStored;
  });
}

bool UserStore::delete_offline_message(std::int64_t id) {
  return write("cannot delete an offline message", [&] {
           sqlite3_stmt* s = delete_offline_id_.get();
           const Use use(s);
           return bind_int(s, 1, id) && sqlite3_step(s) == SQLITE_DONE ? Outcome::kStored : Outcome::kFailed;
         }) == Outcome::kStored;
}

std::vector<UserStore::Offline> UserStore::offline(std::string_view bare, std::int64_t after_id, std::size_t max_count,
                                                   std::size_t max_bytes) {
  std::vector<Offline> out;
  sqlite3_stmt* s = select_offline_.get();
  const Use use(s);
  if (!bind_text(s, 1, bare) || !bind_int(s, 2, after_id) || !bind_int(s, 3, clamp(max_count))) return out;
  std::size_t bytes = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    std::string stanza = column_text(s, 1);
    if (!out.empty() && bytes + stanza.size() > max_bytes) break;
    bytes += stanza.size();
    out.push_back(Offline{sqlite3_column_int64(s, 0), std::move(stanza), sqlite3_column_int64(s, 2)});
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) report("cannot read offline messages");
  return out;
}

bool UserStore::delete_offline(std::string_view bare, std::int64_t up_to_id) {
  return write("cannot delete delivered offline messages", [&] {
           sqlite3_stmt* s = delete_offline_upto_.get();
           const Use use(s);
           return bind_text(s, 1, bare) && bind_int(s, 2, up_to_id) && sqlite3_step(s) == SQLITE_DONE
                      ? Outcome::kStored
                      : Outcome::kFailed;
         }) == Outcome::kStored;
}

// {-1, -1} when it cannot be read.
UserStore::OfflineUsage UserStore::offline_usage(std::string_view bare) {
  sqlite3_stmt* s = offline_usage_.get();
  const Use use(s);
  if (!bind_text(s, 1, bare)) return {-1, -1};
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return {};  // nothing waiting
  if (rc != SQLITE_ROW) return {-1, -1};
  return {sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1)};
}

std::vector<UserStore::RosterItem> UserStore::roster(std::string_view bare) {
  std::vector<RosterItem> out;
  sqlite3_stmt* s = select_roster_.get();
  const Use use(s);
  if (!bind_text(s, 1, bare)) return out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(item_of(s));
  if (rc != SQLITE_DONE) report("cannot read a roster");
  return out;
}

std::optional<UserStore::RosterItem> UserStore::roster_item(std::string_view bare, std::string_view contact) {
  sqlite3_stmt* s = select_roster_item_.get();
  const Use use(s);
  if (!bind_text(s, 1, bare) || !bind_text(s, 2, contact)) return std::nullopt;
  if (sqlite3_step(s) != SQLITE_ROW) return std::nullopt;
  return item_of(s);
}

std::size_t UserStore::roster_size(std::string_view bare) {
  std::int64_t n = count(count_roster_.get(), bare);
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::int64_t UserStore::roster_version(std::string_view bare) {
  sqlite3_stmt* s = select_version_.get();
  const Use use(s);
  if (!bind_text(s, 1, bare)) return 0;
  return sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
}

std::int64_t UserStore::bump_version(std::string_view bare) {
  {
    sqlite3_stmt* s = bump_version_.get();
    const Use use(s);
    if (!bind_text(s, 1, bare) || sqlite3_step(s) != SQLITE_DONE) return 0;
  }
  return roster_version(bare);
}

UserStore::Outcome UserStore::set_roster_item(std::string_view bare, const RosterItem& item, std::size_t max_items,
                                              std::int64_t* version) {
  return write("cannot save a roster item", [&] {
    if (!roster_item(bare, item.contact) && count(count_roster_.get(), bare) >= clamp(max_items))
      return Outcome::kOverQuota;
    const std::string groups = join_groups(item.groups);
    {
      sqlite3_stmt* s = upsert_roster_.get();
      const Use use(s);
      if (!bind_text(s, 1, bare) || !bind_text(s, 2, item.contact) || !bind_text(s, 3, item.name) ||
          !bind_text(s, 4, item.subscription) || !bind_int(s, 5, item.ask ? 1 : 0) || !bind_text(s, 6, groups) ||
          !bind_int(s, 7, item.approved ? 1 : 0) ||
          sqlite3_step(s) != SQLITE_DONE)
        return Outcome::kFailed;
    }
    std::int64_t v = bump_version(bare);
    if (v == 0) return Outcome::kFailed;
    if (version != nullptr) *version = v;
    return Outcome::kStored;
  });
}

UserStore::Outcome UserStore::set_roster_version(std::string_view bare, std::int64_t version) {
  return write("cannot set a roster version", [&] {
    sqlite3_stmt* s = set_version_.get();
    const Use use(s);
    if (!bind_text(s, 1, bare) || sqlite3_bind_int64(s, 2, version) != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
      return Outcome::kFailed;
    return Outcome::kStored;
  });
}

UserStore::Outcome UserStore::remove_roster_item(std::string_view bare, std::string_view contact,
                                                 std::int64_t* version) {
  return write("cannot remove a roster item", [&] {
    {
      sqlite3_stmt* s = delete_roster_.get();
      const Use use(s);
      if (!bind_text(s, 1, bare) || !bind_text(s, 2, contact) || sqlite3_step(s) != SQLITE_DONE)
        return Outcome::kFailed;
    }
    std::int64_t v = bump_version(bare);
    if (v == 0) return Outcome::kFailed;
    if (version != nullptr) *version = v;
    return Outcome::kStored;
  });
}

UserStore::Outcome UserStore::store_subscription_request(std::string_view bare, std::string_view from,
                                                         std::string_view stanza, std::size_t max_pending) {
  return write("cannot keep a subscription request", [&] {
    if (!has_subscription_request(bare, from) && count(count_requests_.get(), bare) >= clamp(max_pending))
      return Outcome::kOverQuota;
    sqlite3_stmt* s = upsert_request_.get();
    const Use use(s);
    return bind_text(s, 1, bare) && bind_text(s, 2, from) && bind_text(s, 3, stanza) && sqlite3_step(s) == SQLITE_DONE
               ? Outcome::kStored
               : Outcome::kFailed;
  });
}

bool UserStore::has_subscription_request(std::string_view bare, std::string_view from) {
  sqlite3_stmt* s = has_request_.get();
  const Use use(s);
  return bind_text(s, 1, bare) && bind_text(s, 2, from) && sqlite3_step(s) == SQLITE_ROW;
}

std::vector<UserStore::Request> UserStore::subscription_requests(std::string_view bare, std::int64_t after_rowid,
                                                                 std::size_t max_count) {
  std::vector<Request> out;
  sqlite3_stmt* s = select_requests_.get();
  const Use use(s);
  if (!bind_text(s, 1, bare) || !bind_int(s, 2, after_rowid) || !bind_int(s, 3, clamp(max_count))) return out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(Request{sqlite3_column_int64(s, 0), column_text(s, 1)});
  if (rc != SQLITE_DONE) report("cannot read subscription requests");
  return out;
}

bool UserStore::delete_subscription_request(std::string_view bare, std::string_view from) {
  return write("cannot delete a subscription request", [&] {
           sqlite3_stmt* s = delete_request_.get();
           const Use use(s);
           return bind_text(s, 1, bare) && bind_text(s, 2, from) && sqlite3_step(s) == SQLITE_DONE ? Outcome::kStored
                                                                                                   : Outcome::kFailed;
         }) == Outcome::kStored;
}

}  // namespace xmppd::router

namespace xmppd::router {

UserStore::Outcome UserStore::remove_user(std::string_view bare) {
  return write("cannot remove a user's data", [&] {
    for (sqlite3_stmt* s : {remove_offline_.get(), remove_roster_.get(), remove_version_.get(), remove_requests_.get(),
                            remove_items_.get()}) {
      const Use use(s);
      if (!bind_text(s, 1, bare) || sqlite3_step(s) != SQLITE_DONE) return Outcome::kFailed;
    }
    return Outcome::kStored;
  });
}

}  // namespace xmppd::router
