#include "daemon/user_store.h"

#include "common/log.h"

namespace xmppd::router {
namespace {

constexpr int kSchemaVersion = 1;

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

Statement prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
    log::error("user store: %s: %s", sql, sqlite3_errmsg(db));
  return Statement(s);
}

void bind_text(sqlite3_stmt* s, int index, std::string_view text) {
  sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

}  // namespace

std::unique_ptr<UserStore> UserStore::open(const std::string& path, std::string& error) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, nullptr);
  std::unique_ptr<UserStore> store(new UserStore(db));
  if (rc != SQLITE_OK) {
    error = path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return nullptr;
  }
  bool ok = store->exec("PRAGMA journal_mode=WAL") && store->exec("PRAGMA synchronous=FULL") &&
            store->exec("CREATE TABLE IF NOT EXISTS offline (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                        "bare TEXT NOT NULL, stanza TEXT NOT NULL, stored_at INTEGER NOT NULL)") &&
            store->exec("CREATE INDEX IF NOT EXISTS offline_bare ON offline (bare, id)") &&
            store->exec("CREATE TABLE IF NOT EXISTS roster (bare TEXT NOT NULL, contact TEXT NOT NULL, "
                        "name TEXT NOT NULL, subscription TEXT NOT NULL, ask INTEGER NOT NULL, "
                        "groups TEXT NOT NULL, PRIMARY KEY (bare, contact))") &&
            store->exec("CREATE TABLE IF NOT EXISTS roster_version (bare TEXT PRIMARY KEY, version INTEGER NOT NULL)") &&
            store->exec("CREATE TABLE IF NOT EXISTS subscription_request (bare TEXT NOT NULL, sender TEXT NOT NULL, "
                        "stanza TEXT NOT NULL, PRIMARY KEY (bare, sender))");
  if (!ok) {
    error = path + ": " + sqlite3_errmsg(db);
    return nullptr;
  }
  Statement version = prepare(db, "PRAGMA user_version");
  int found = version && sqlite3_step(version.get()) == SQLITE_ROW ? sqlite3_column_int(version.get(), 0) : -1;
  if (found > kSchemaVersion) {
    error = path + ": schema version " + std::to_string(found) + " is newer than this xmppd understands";
    return nullptr;
  }
  store->exec("PRAGMA user_version=1");
  return store;
}

UserStore::~UserStore() { sqlite3_close(db_); }

bool UserStore::exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

std::int64_t UserStore::store_offline(std::string_view bare, std::string_view stanza, std::int64_t when) {
  Statement s = prepare(db_, "INSERT INTO offline (bare, stanza, stored_at) VALUES (?, ?, ?)");
  if (!s) return 0;
  bind_text(s.get(), 1, bare);
  bind_text(s.get(), 2, stanza);
  sqlite3_bind_int64(s.get(), 3, when);
  if (sqlite3_step(s.get()) == SQLITE_DONE) return sqlite3_last_insert_rowid(db_);
  log::error("user store: cannot keep an offline message: %s", sqlite3_errmsg(db_));
  return 0;
}

void UserStore::delete_offline_message(std::int64_t id) {
  Statement s = prepare(db_, "DELETE FROM offline WHERE id = ?");
  if (!s) return;
  sqlite3_bind_int64(s.get(), 1, id);
  sqlite3_step(s.get());
}

std::vector<UserStore::Offline> UserStore::offline(std::string_view bare) {
  std::vector<Offline> out;
  Statement s = prepare(db_, "SELECT id, stanza, stored_at FROM offline WHERE bare = ? ORDER BY id");
  if (!s) return out;
  bind_text(s.get(), 1, bare);
  while (sqlite3_step(s.get()) == SQLITE_ROW)
    out.push_back(Offline{sqlite3_column_int64(s.get(), 0),
                          reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1)),
                          sqlite3_column_int64(s.get(), 2)});
  return out;
}

void UserStore::delete_offline(std::string_view bare, std::int64_t up_to_id) {
  Statement s = prepare(db_, "DELETE FROM offline WHERE bare = ? AND id <= ?");
  if (!s) return;
  bind_text(s.get(), 1, bare);
  sqlite3_bind_int64(s.get(), 2, up_to_id);
  sqlite3_step(s.get());
}

namespace {

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

std::string column(sqlite3_stmt* s, int i) {
  const unsigned char* text = sqlite3_column_text(s, i);
  return text ? reinterpret_cast<const char*>(text) : "";
}

UserStore::RosterItem item_of(sqlite3_stmt* s) {
  return UserStore::RosterItem{column(s, 0), column(s, 1), column(s, 2), sqlite3_column_int(s, 3) != 0,
                               split_groups(column(s, 4))};
}

}  // namespace

std::vector<UserStore::RosterItem> UserStore::roster(std::string_view bare) {
  std::vector<RosterItem> out;
  Statement s = prepare(db_, "SELECT contact, name, subscription, ask, groups FROM roster WHERE bare = ? ORDER BY contact");
  if (!s) return out;
  bind_text(s.get(), 1, bare);
  while (sqlite3_step(s.get()) == SQLITE_ROW) out.push_back(item_of(s.get()));
  return out;
}

std::optional<UserStore::RosterItem> UserStore::roster_item(std::string_view bare, std::string_view contact) {
  Statement s = prepare(db_, "SELECT contact, name, subscription, ask, groups FROM roster WHERE bare = ? AND contact = ?");
  if (!s) return std::nullopt;
  bind_text(s.get(), 1, bare);
  bind_text(s.get(), 2, contact);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return std::nullopt;
  return item_of(s.get());
}

std::int64_t UserStore::roster_version(std::string_view bare) {
  Statement s = prepare(db_, "SELECT version FROM roster_version WHERE bare = ?");
  if (!s) return 0;
  bind_text(s.get(), 1, bare);
  return sqlite3_step(s.get()) == SQLITE_ROW ? sqlite3_column_int64(s.get(), 0) : 0;
}

std::int64_t UserStore::bump_version(std::string_view bare) {
  Statement s = prepare(db_, "INSERT INTO roster_version (bare, version) VALUES (?, 1) "
                             "ON CONFLICT (bare) DO UPDATE SET version = version + 1");
  if (s) {
    bind_text(s.get(), 1, bare);
    sqlite3_step(s.get());
  }
  return roster_version(bare);
}

std::int64_t UserStore::set_roster_item(std::string_view bare, const RosterItem& item) {
  exec("BEGIN");
  Statement s = prepare(db_, "INSERT OR REPLACE INTO roster (bare, contact, name, subscription, ask, groups) "
                             "VALUES (?, ?, ?, ?, ?, ?)");
  if (s) {
    bind_text(s.get(), 1, bare);
    bind_text(s.get(), 2, item.contact);
    bind_text(s.get(), 3, item.name);
    bind_text(s.get(), 4, item.subscription);
    sqlite3_bind_int(s.get(), 5, item.ask ? 1 : 0);
    std::string groups = join_groups(item.groups);
    bind_text(s.get(), 6, groups);
    sqlite3_step(s.get());
  }
  std::int64_t version = bump_version(bare);
  exec("COMMIT");
  return version;
}

std::int64_t UserStore::remove_roster_item(std::string_view bare, std::string_view contact) {
  exec("BEGIN");
  Statement s = prepare(db_, "DELETE FROM roster WHERE bare = ? AND contact = ?");
  if (s) {
    bind_text(s.get(), 1, bare);
    bind_text(s.get(), 2, contact);
    sqlite3_step(s.get());
  }
  std::int64_t version = bump_version(bare);
  exec("COMMIT");
  return version;
}

void UserStore::store_subscription_request(std::string_view bare, std::string_view from, std::string_view stanza) {
  Statement s = prepare(db_, "INSERT OR REPLACE INTO subscription_request (bare, sender, stanza) VALUES (?, ?, ?)");
  if (!s) return;
  bind_text(s.get(), 1, bare);
  bind_text(s.get(), 2, from);
  bind_text(s.get(), 3, stanza);
  sqlite3_step(s.get());
}

std::vector<std::string> UserStore::subscription_requests(std::string_view bare) {
  std::vector<std::string> out;
  Statement s = prepare(db_, "SELECT stanza FROM subscription_request WHERE bare = ? ORDER BY rowid");
  if (!s) return out;
  bind_text(s.get(), 1, bare);
  while (sqlite3_step(s.get()) == SQLITE_ROW) out.push_back(column(s.get(), 0));
  return out;
}

void UserStore::delete_subscription_request(std::string_view bare, std::string_view from) {
  Statement s = prepare(db_, "DELETE FROM subscription_request WHERE bare = ? AND sender = ?");
  if (!s) return;
  bind_text(s.get(), 1, bare);
  bind_text(s.get(), 2, from);
  sqlite3_step(s.get());
}

}  // namespace xmppd::router
