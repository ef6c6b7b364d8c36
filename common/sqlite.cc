#include "common/sqlite.h"

#include <sqlite3.h>

#include <climits>

namespace xmppd::sqlite {

void Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void Finalizer::operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }

Use::~Use() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

bool bind_text(sqlite3_stmt* statement, int index, std::string_view text) {
  return text.size() <= INT_MAX &&
         sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC) == SQLITE_OK;
}

bool bind_blob(sqlite3_stmt* statement, int index, std::string_view blob) {
  return blob.size() <= INT_MAX &&
         sqlite3_bind_blob(statement, index, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC) == SQLITE_OK;
}

bool bind_int(sqlite3_stmt* statement, int index, std::int64_t value) {
  return sqlite3_bind_int64(statement, index, value) == SQLITE_OK;
}

std::string column_text(sqlite3_stmt* statement, int i) {
  const unsigned char* text = sqlite3_column_text(statement, i);
  const int size = sqlite3_column_bytes(statement, i);  // after the conversion to text
  return text == nullptr ? std::string()
                         : std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::string column_blob(sqlite3_stmt* statement, int i) {
  const void* data = sqlite3_column_blob(statement, i);
  const int size = sqlite3_column_bytes(statement, i);
  return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

Statement prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  if (sql.size() > INT_MAX) return nullptr;
  sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  return Statement(raw);
}

bool execute(sqlite3* db, std::string_view sql, std::string* first) {
  Statement statement = prepare(db, sql);
  if (!statement) return false;
  int rc;
  while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW)
    if (first != nullptr && first->empty()) *first = column_text(statement.get(), 0);
  return rc == SQLITE_DONE;
}

}  // namespace xmppd::sqlite
