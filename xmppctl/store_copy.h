// xmppctl store copy: the router's store copied between its two backends, the embedded
// SQLite file and PostgreSQL (store_copy.cc is the verb). The copy is generic: it lists the
// source's tables and copies their columns by name, so that a table added to the schema (the
// archive's) is copied without a change here. Each backend is one end (CopyEnd), in a file of
// its own: copy_sqlite.cc, copy_postgres.cc; copy_tables.cc moves the rows.
//
// Trust: both ends are the administrator's (the router's own file, read as the router's user;
// the configured PostgreSQL). Their names of tables and columns are still only ever quoted as
// identifiers, never spliced as SQL, since a compromised router writes its own file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/database.h"  // store::Value, store::Row: NULL, an integer or text

namespace xmppd::ctl::copy {

struct Table {
  std::string name;
  std::vector<std::string> columns;  // in the table's order
  // Columns the table has without declaring them: SQLite's rowid, which PostgreSQL's schema
  // declares where the catalog pages by it (subscription_request). Copied when the other end
  // declares the column, left out when it does not.
  std::vector<std::string> implicit;
};

// One side of a copy. Every call answers false (error() says why) when it failed; the copy
// then rolls the target back.
class CopyEnd {
 public:
  virtual ~CopyEnd() = default;
  virtual std::string describe() const = 0;  // "PostgreSQL database xmppd", "router/user.sqlite"

  // The tables that hold the store's data, in name order (the backend's own bookkeeping left out).
  virtual bool tables(std::vector<Table>& out) = 0;
  // As a source: a consistent view (one read transaction) of every table until end_read().
  virtual bool begin_read() = 0;
  virtual void end_read() = 0;
  // Calls `row` for each row of `table`, the values in the order of `columns`.
  virtual bool read(const Table& table, const std::function<bool(store::Row&)>& row) = 0;
  virtual bool count(const std::string& table, std::int64_t& rows) = 0;

  // As a target: one transaction for the whole copy, in which xmppd's schema of the target's
  // dialect is applied (store/schema.h) where the backend does not do it on opening.
  virtual bool begin_write() = 0;
  virtual bool prepare_schema() = 0;
  virtual bool clear(const std::string& table) = 0;
  // Appends the rows given (in `table.columns` order) to `table`; called once per batch.
  virtual bool write(const Table& table, const std::vector<store::Row>& rows) = 0;
  // Before commit: what the copy of explicit ids needs (PostgreSQL's sequences moved past
  // them); `copied` has the columns copied.
  virtual bool finish_write(const std::vector<Table>& copied) = 0;
  virtual bool commit() = 0;
  virtual void rollback() = 0;

  const std::string& error() const { return error_; }

 protected:
  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }
  std::string error_;
};

// The SQLite file `path` (relative to the working directory: the router's directory; `shown`
// in messages), opened without following a symbolic link. As a source it must exist and is first brought to the
// schema version this build writes, as the router would at its next start; as a target it is
// created with that schema when missing.
std::unique_ptr<CopyEnd> open_sqlite(const std::string& path, const std::string& shown, bool create,
                                     std::string& error);

// Where the PostgreSQL database is: Prosody's `sql` table. Empty fields are libpq's defaults
// (a Unix socket in its default directory, port 5432, the login name).
struct SqlSettings {
  std::string host, port, database, username, password;
};

// A connection to the database of `sql` (libpq; the password never in a message). Null with
// `error` when it cannot be had.
std::unique_ptr<CopyEnd> connect_postgres(const SqlSettings& sql, std::string& error);

// What a copy did for one table.
struct Copied {
  std::string table;
  std::int64_t rows = 0;
};

// Copies every table of `from` into `to` in one transaction of `to`: refused (nothing
// written) when a table of `to` holds rows, unless `replace`, which empties them first. The
// row counts of `to` are checked against what was read before the commit. False with
// `error` when anything failed: `to` is then as it was.
bool copy_tables(CopyEnd& from, CopyEnd& to, bool replace, std::vector<Copied>& copied, std::string& error);

}  // namespace xmppd::ctl::copy
