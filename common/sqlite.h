// What the two SQLite stores share (the auth helper's credential store and the router's user
// store): handles that close and finalize themselves, a statement's use that resets it, checked
// binding, and columns copied out. A library of its own, linking SQLite alone, so that the auth
// helper gains nothing else by using it.
//
// The header does not include <sqlite3.h>: a store's header names these types without making
// its every includer see SQLite.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace xmppd::sqlite {

struct Closer {
  void operator()(sqlite3* db) const;
};
struct Finalizer {
  void operator()(sqlite3_stmt* statement) const;
};
using Database = std::unique_ptr<sqlite3, Closer>;
using Statement = std::unique_ptr<sqlite3_stmt, Finalizer>;

// Resets a statement and clears its bindings when one use of it ends, however it ends: values
// are bound SQLITE_STATIC, so the statement must let go of them before the caller's buffers go.
class Use {
 public:
  explicit Use(sqlite3_stmt* statement) : statement_(statement) {}
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  ~Use();

 private:
  sqlite3_stmt* statement_;
};

// Bound SQLITE_STATIC (see Use); false when SQLite refused, or the value is past what it takes.
bool bind_text(sqlite3_stmt* statement, int index, std::string_view text);
bool bind_blob(sqlite3_stmt* statement, int index, std::string_view blob);
bool bind_int(sqlite3_stmt* statement, int index, std::int64_t value);

// Copies of column `i` of the current row; empty for NULL.
std::string column_text(sqlite3_stmt* statement, int i);
std::string column_blob(sqlite3_stmt* statement, int i);

// Prepared to be kept (SQLITE_PREPARE_PERSISTENT); null on failure, sqlite3_errmsg says why.
Statement prepare(sqlite3* db, std::string_view sql);

// Runs one constant statement to completion; `first` receives the first column of its first
// row, for the pragmas that answer with one.
bool execute(sqlite3* db, std::string_view sql, std::string* first = nullptr);

}  // namespace xmppd::sqlite
