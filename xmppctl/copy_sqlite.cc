// The SQLite end of xmppctl store copy (store_copy.h): the router's file, read or written by
// a process that already runs as the router's user in the router's directory (store_copy.cc
// drops to it before calling open_sqlite), so the file is what the router itself would open.
// Trust: the file is the router's, which a compromised router could have crafted; it is
// opened without following a symbolic link, and its table and column names are only quoted.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/sqlite.h"
#include "router/user_store.h"
#include "xmppctl/store_copy.h"

namespace xmppd::ctl::copy {
namespace {

// "name" with its quotes doubled: an identifier, whatever the name holds.
std::string quoted(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string column_list(const Table& table) {
  std::string out;
  for (const std::string& column : table.columns) out += (out.empty() ? "" : ", ") + quoted(column);
  return out;
}

class SqliteEnd final : public CopyEnd {
 public:
  SqliteEnd(sqlite::Database db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  std::string describe() const override { return path_; }

  bool tables(std::vector<Table>& out) override {
    // sqlite_sequence and the other sqlite_ tables are SQLite's own: the ids copied as they
    // are move AUTOINCREMENT's counter past them in the target by themselves.
    sqlite::Statement names = sqlite::prepare(
        db_.get(), "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                   "ORDER BY name");
    if (!names) return sqlite_fail("list tables");
    int rc;
    while ((rc = sqlite3_step(names.get())) == SQLITE_ROW) out.push_back(Table{sqlite::column_text(names.get(), 0), {}, {}});
    if (rc != SQLITE_DONE) return sqlite_fail("list tables");
    for (Table& table : out) {
      sqlite::Statement columns = sqlite::prepare(db_.get(), "SELECT name FROM pragma_table_info(?) ORDER BY cid");
      if (!columns || !sqlite::bind_text(columns.get(), 1, table.name)) return sqlite_fail("list columns");
      while ((rc = sqlite3_step(columns.get())) == SQLITE_ROW)
        table.columns.push_back(sqlite::column_text(columns.get(), 0));
      if (rc != SQLITE_DONE) return sqlite_fail("list columns");
      if (has_own_rowid(table)) table.implicit.push_back("rowid");
    }
    return true;
  }

  bool begin_read() override { return exec("BEGIN"); }
  void end_read() override { sqlite::execute(db_.get(), "ROLLBACK"); }

  bool read(const Table& table, const std::function<bool(store::Row&)>& row) override {
    sqlite::Statement select =
        sqlite::prepare(db_.get(), "SELECT " + column_list(table) + " FROM " + quoted(table.name));
    if (!select) return sqlite_fail("read " + table.name);
    const int columns = static_cast<int>(table.columns.size());
    int rc;
    while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
      store::Row values;
      values.reserve(table.columns.size());
      for (int i = 0; i < columns; ++i) values.push_back(value(select.get(), i));
      if (!row(values)) return false;
    }
    return rc == SQLITE_DONE || sqlite_fail("read " + table.name);
  }

  bool count(const std::string& table, std::int64_t& rows) override {
    std::string text;
    if (!sqlite::execute(db_.get(), "SELECT count(*) FROM " + quoted(table), &text)) return sqlite_fail("count " + table);
    rows = std::strtoll(text.c_str(), nullptr, 10);
    return true;
  }

  // The schema is the router's own, made by open_sqlite; a table the source has and this
  // build's schema lacks is refused by the copy (store_copy.h), never invented here.
  bool prepare_schema() override { return true; }

  // IMMEDIATE: the write lock at once, not at the first insert. Triggers (schema versions 2
  // and 3 kept the offline counters by them; version 4 has none) are set aside for the copy
  // and put back before the commit: the tables they keep are copied with the rest, and would
  // be counted twice.
  bool begin_write() override {
    if (!exec("BEGIN IMMEDIATE")) return false;
    sqlite::Statement triggers =
        sqlite::prepare(db_.get(), "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name");
    if (!triggers) return sqlite_fail("list triggers");
    int rc;
    while ((rc = sqlite3_step(triggers.get())) == SQLITE_ROW)
      triggers_.emplace_back(sqlite::column_text(triggers.get(), 0), sqlite::column_text(triggers.get(), 1));
    if (rc != SQLITE_DONE) return sqlite_fail("list triggers");
    for (const auto& [name, sql] : triggers_)
      if (!exec("DROP TRIGGER " + quoted(name))) return false;
    return true;
  }

  bool clear(const std::string& table) override { return exec("DELETE FROM " + quoted(table)); }

  bool write(const Table& table, const std::vector<store::Row>& rows) override {
    std::string placeholders;
    for (std::size_t i = 0; i < table.columns.size(); ++i) placeholders += i == 0 ? "?" : ", ?";
    sqlite::Statement insert = sqlite::prepare(
        db_.get(), "INSERT INTO " + quoted(table.name) + " (" + column_list(table) + ") VALUES (" + placeholders + ")");
    if (!insert) return sqlite_fail("write " + table.name);
    for (const store::Row& row : rows) {
      sqlite::Use use(insert.get());
      for (std::size_t i = 0; i < row.size(); ++i)
        if (!bind(insert.get(), static_cast<int>(i) + 1, row[i])) return sqlite_fail("write " + table.name);
      if (sqlite3_step(insert.get()) != SQLITE_DONE) return sqlite_fail("write " + table.name);
    }
    return true;
  }

  bool finish_write(const std::vector<Table>&) override {
    for (const auto& [name, sql] : triggers_)
      if (!exec(sql)) return false;
    return true;
  }

  bool commit() override { return exec("COMMIT"); }
  void rollback() override { sqlite::execute(db_.get(), "ROLLBACK"); }

 private:
  // A rowid table whose rowid no declared column names (no INTEGER PRIMARY KEY, no column
  // called rowid): its rowid is then a value of its own, which the router may page by.
  bool has_own_rowid(const Table& table) {
    if (std::find(table.columns.begin(), table.columns.end(), "rowid") != table.columns.end()) return false;
    // A WITHOUT ROWID table has no rowid to select.
    if (!sqlite::prepare(db_.get(), "SELECT rowid FROM " + quoted(table.name))) return false;
    sqlite::Statement alias = sqlite::prepare(
        db_.get(), "SELECT count(*) = 1 AND upper(max(type)) = 'INTEGER' FROM pragma_table_info(?) WHERE pk > 0");
    if (!alias || !sqlite::bind_text(alias.get(), 1, table.name) || sqlite3_step(alias.get()) != SQLITE_ROW)
      return false;
    return sqlite3_column_int(alias.get(), 0) == 0;
  }

  static store::Value value(sqlite3_stmt* statement, int i) {
    switch (sqlite3_column_type(statement, i)) {
      case SQLITE_NULL: return std::monostate{};
      case SQLITE_INTEGER: return static_cast<std::int64_t>(sqlite3_column_int64(statement, i));
      // The stores bind text only (a BLOB column holds text too); a REAL, which they never
      // write, goes as SQLite's text of it, for the target to take or refuse.
      case SQLITE_BLOB: return sqlite::column_blob(statement, i);
      default: return sqlite::column_text(statement, i);
    }
  }

  static bool bind(sqlite3_stmt* statement, int index, const store::Value& value) {
    if (const auto* n = std::get_if<std::int64_t>(&value)) return sqlite::bind_int(statement, index, *n);
    if (const auto* s = std::get_if<std::string>(&value)) return sqlite::bind_text(statement, index, *s);
    return sqlite3_bind_null(statement, index) == SQLITE_OK;
  }

  bool exec(const std::string& sql) { return sqlite::execute(db_.get(), sql) || sqlite_fail(sql); }
  bool sqlite_fail(const std::string& what) { return fail(what + ": " + sqlite3_errmsg(db_.get())); }

  sqlite::Database db_;
  std::string path_;
  std::vector<std::pair<std::string, std::string>> triggers_;  // name, CREATE text
};

}  // namespace

std::unique_ptr<CopyEnd> open_sqlite(const std::string& path, const std::string& shown, bool create,
                                     std::string& error) {
  struct stat st;
  if (fstatat(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT || !create) {
      error = shown + ": " + std::strerror(errno);
      return nullptr;
    }
  } else if (!S_ISREG(st.st_mode)) {
    error = shown + ": not a regular file (a symbolic link is not followed)";
    return nullptr;
  }
  // The schema this build writes, made or upgraded as the router would at its start; a file
  // of a newer xmppd is refused there.
  if (!router::UserStore::open(path, error)) {
    error = shown + ": " + error;
    return nullptr;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, nullptr);
  sqlite::Database db(raw);
  if (rc != SQLITE_OK) {
    error = shown + ": " + (db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
    return nullptr;
  }
  return std::make_unique<SqliteEnd>(std::move(db), shown);
}

}  // namespace xmppd::ctl::copy
