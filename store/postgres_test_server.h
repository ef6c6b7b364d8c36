// Test-only: a PostgreSQL server of the test's own, started with Debian's initdb and pg_ctl
// in a temporary directory and listening on a Unix socket there alone (no TCP). As root the
// server runs as `nobody` (initdb refuses root). Nothing here is linked into xmppd.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace xmppd::store {

class PostgresTestServer {
 public:
  // Where initdb and pg_ctl are: $XMPPD_PG_BINDIR, else Debian's PostgreSQL 15.
  static std::string bindir();
  // True when initdb is there; a test without it skips, saying so.
  static bool available();
  // Starts one; null with `error` (and the server's log) when it could not.
  static std::unique_ptr<PostgresTestServer> start(std::string& error);
  ~PostgresTestServer();  // stops it at once and removes the directory
  PostgresTestServer(const PostgresTestServer&) = delete;
  PostgresTestServer& operator=(const PostgresTestServer&) = delete;

  // A database of its own for one test: created empty, its libpq connection string
  // returned; "" with `error` when it could not be.
  std::string fresh_database(std::string& error);
  std::string conninfo(const std::string& database) const;

  // Stops the server (immediate, as a crash would) and starts it again: the stores' tests of
  // a database that goes away while connected.
  bool stop();
  bool restart();

 private:
  explicit PostgresTestServer(std::string dir) : dir_(std::move(dir)) {}
  // Runs a PostgreSQL tool (as `nobody` when root), its output to dir_/tools.log.
  bool tool(const std::string& name, const std::vector<std::string>& args);
  std::string dir_;
  int databases_ = 0;
};

}  // namespace xmppd::store
