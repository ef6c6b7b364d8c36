// What the storage process does with the router's requests, apart from the IPC and the
// process around it (storage/storage.cc), so that a unit test can run it against a real
// database: checks each request at the boundary, keeps the one database connection, and
// answers.
//
// Trust: the router parses client streams and may be compromised. It may name only catalog
// statements (store/catalog.h) with exactly their number of parameters; anything else is a
// violation of the link. What it binds is data, never SQL.
//
// The connection: made at start and, while the server is out of reach, at most once a second
// (kReconnectInterval), on the next request; in between every request is answered
// `unavailable` at once, so that the router does not stall on a server that is down. A
// transaction the router opened (kBegin) on a connection that was lost before its end is
// reported failed to every statement up to the router's ROLLBACK or COMMIT, which the new
// connection never saw begin: nothing runs outside the transaction the router believes in.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "router_storage.pb.h"
#include "store/database.h"

namespace xmppd::storage {

class StorageService {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kReconnectInterval{1};
  // Makes a new connection (and applies the schema), or null with `error` (no secret in it).
  using Connect = std::function<std::unique_ptr<store::Database>(std::string& error)>;

  explicit StorageService(Connect connect, std::function<Clock::time_point()> now = Clock::now)
      : connect_(std::move(connect)), now_(std::move(now)) {}

  // Tries to connect now unless connected or tried less than kReconnectInterval ago.
  // True when connected afterwards.
  bool ensure_connected();
  bool connected() const { return db_ != nullptr && !down_; }

  // Runs one request. False, with `why`, when it is a violation (the caller drops the link);
  // else `answers` holds the answer, in pages when its rows need more than one record.
  bool handle(const ipc::StorageRequest& request, std::vector<ipc::StorageAnswer>& answers, std::string& why);

  // The router's link closed: a transaction it left open is rolled back, so that the locks it
  // holds go and the next router starts clean.
  void router_gone();

 private:
  // False, with `why`, when the request breaks the contract.
  static bool check(const ipc::StorageRequest& request, std::string& why);
  bool run(const ipc::StorageRequest& request, store::Statement id, std::vector<store::Row>& rows);
  void track_transaction(store::Statement id, bool ok);
  // BEGIN with a transaction still open: rolls it back (unless lost) and forgets it, logged.
  void abandon_transaction();
  void answer(const ipc::StorageRequest& request, bool ok, std::vector<store::Row>& rows,
              std::vector<ipc::StorageAnswer>& answers);

  Connect connect_;
  std::function<Clock::time_point()> now_;
  std::unique_ptr<store::Database> db_;
  bool down_ = false;  // db_'s connection is lost (unavailable); retried after the interval
  Clock::time_point last_attempt_{};
  bool tried_ = false;
  std::string error_;
  bool unavailable_ = false;
  // A transaction the router began; `broken` once its connection was lost.
  bool in_transaction_ = false;
  bool transaction_broken_ = false;
};

}  // namespace xmppd::storage
