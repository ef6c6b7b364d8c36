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
            store->exec("CREATE INDEX IF NOT EXISTS offline_bare ON offline (bare, id)");
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

bool UserStore::store_offline(std::string_view bare, std::string_view stanza, std::int64_t when) {
  Statement s = prepare(db_, "INSERT INTO offline (bare, stanza, stored_at) VALUES (?, ?, ?)");
  if (!s) return false;
  bind_text(s.get(), 1, bare);
  bind_text(s.get(), 2, stanza);
  sqlite3_bind_int64(s.get(), 3, when);
  if (sqlite3_step(s.get()) == SQLITE_DONE) return true;
  log::error("user store: cannot keep an offline message: %s", sqlite3_errmsg(db_));
  return false;
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

}  // namespace xmppd::router
