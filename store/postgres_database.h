// The PostgreSQL backend of the storage interface (store/database.h) over libpq: one
// connection that runs the statements of the catalog (store/catalog.h), each prepared on
// the server at its first use on that connection and bound with text parameters.
//
// Who runs it: the storage process (xmppd-storage), which alone holds the database password
// and the socket to the server, and the unit tests (a server of their own). The router never
// links it: its side of PostgreSQL is store::RemoteDatabase, over IPC.
//
// Trust: the server is trusted as much as the administrator who named it; what a statement
// binds came from clients and is only ever bound, never spliced into SQL text. The only SQL
// run besides the catalog's is the schema (store/schema.h), through execute().
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"

struct pg_conn;
struct pg_result;

namespace xmppd::store {

class PostgresDatabase final : public Database {
 public:
  // Connects with libpq's connection string `conninfo` ("host=/run/postgresql dbname=xmppd
  // user=xmppd password=..."; keywords, libpq's own quoting). Null, with `error` saying why,
  // when the first connection fails: a wrong name or password is a start-up error. Once
  // connected, a lost connection is made again on the next use (see unavailable()).
  static std::unique_ptr<PostgresDatabase> connect(const std::string& conninfo, std::string& error);

  // Prepares every statement of the catalog and checks each one's parameter count, so that
  // a text that does not fit the schema fails at start rather than at its first use; false
  // with error().
  bool prepare_all();

  bool run(Statement id, std::span<const Value> params, std::vector<Row>* rows = nullptr) override;
  // One round trip per row (no pipeline yet): the archive's batches are small.
  bool run_batch(Statement id, std::span<const Row> batch) override;
  Dialect dialect() const override { return Dialect::kPostgres; }
  const std::string& error() const override { return error_; }
  // The connection is lost (PQstatus CONNECTION_BAD): the server stopped, restarted, or the
  // network between went away. The next run() tries to connect again first.
  bool unavailable() const override { return unavailable_; }

  // Runs SQL that is not in the catalog: the schema's DDL (store/schema.h), never anything
  // built from what a client sent. The first column of the first row, if any, goes to
  // `first` (for "SELECT version FROM xmppd_schema"). False with error().
  bool execute(std::string_view sql, std::string* first = nullptr);

  // For tests: the backend process of this connection (to end it from outside).
  int server_pid() const;

 private:
  struct Finisher {
    void operator()(pg_conn* connection) const;
  };
  explicit PostgresDatabase(pg_conn* connection);
  // A connection that is usable, made again if it was lost; false (unavailable) if not.
  bool ensure_connected();
  // Prepares `id` on this connection unless it is already; false (error_ set) on failure.
  bool ensure_prepared(Statement id);
  // Sets error_ and unavailable_ from the connection and `result` (the failed one).
  bool fail(std::string_view what, const pg_result* result);

  std::unique_ptr<pg_conn, Finisher> connection_;
  // Which catalog statements are prepared on the current connection (a new one has none).
  std::vector<bool> prepared_;
  std::string error_;
  bool unavailable_ = false;
};

}  // namespace xmppd::store
