// The one storage interface of the router's data (rosters, offline messages, the modules'
// items, the message archive): a connection that runs the statements of a fixed catalog
// (store/catalog.h) with typed parameters and answers typed rows. Two backends implement it:
//  - SqliteDatabase (store/sqlite_database.h): the embedded default, a file in the router's
//    own directory, run in the router itself;
//  - the PostgreSQL backend: the router sends each statement's number and parameters to the
//    storage process (xmppd-storage), the only process that holds the database password and
//    a socket to the server, which runs the catalog's text for that number and nothing else.
// The store classes (router/user_store.h, item_store.h, archive_store.h) are written once,
// against this interface; only the schema differs by dialect (store/schema.cc).
//
// Trust: what a statement binds came from clients and other servers; it is only ever bound,
// never spliced into SQL text, and the catalog is compiled in.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/catalog.h"

namespace xmppd::store {

// A parameter or a column: SQL NULL, an integer, or text (stanzas are UTF-8 XML; other
// values are JIDs, ids and numbers). Booleans are 0 or 1.
using Value = std::variant<std::monostate, std::int64_t, std::string>;
using Row = std::vector<Value>;

// Column `i` of `row` as an integer (0 when NULL or text) or as text ("" when NULL; an
// integer's decimal form).
std::int64_t integer(const Row& row, std::size_t i);
std::string text(const Row& row, std::size_t i);
std::string take_text(Row& row, std::size_t i);  // moves the text out

enum class Dialect { kSqlite, kPostgres };

class Database {
 public:
  virtual ~Database() = default;

  // Runs catalog statement `id`, binding `params` to $1, $2, ... (exactly as many as the
  // statement has). The rows it answers are appended to `rows` when it is given. False when
  // it failed: error() says why, unavailable() whether the database itself is out of reach.
  virtual bool run(Statement id, std::span<const Value> params, std::vector<Row>* rows = nullptr) = 0;
  // Runs `id` once for each row of `batch` (an archive's batch of inserts): one round trip.
  // All or nothing only inside a transaction the caller opened.
  virtual bool run_batch(Statement id, std::span<const Row> batch) = 0;

  virtual Dialect dialect() const = 0;
  virtual const std::string& error() const = 0;
  // The last failure was the database out of reach (the server down, the storage process
  // gone, no answer in time) rather than a statement refused: the caller answers
  // internal-server-error either way, but logs it differently and retries later.
  virtual bool unavailable() const = 0;
};

}  // namespace xmppd::store
