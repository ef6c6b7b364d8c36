// The router's side of the PostgreSQL backend: a store::Database that sends each statement's
// catalog number and parameters to the storage process (xmppd-storage) over the router ↔
// storage link (proto/router_storage.proto) and waits for its answer.
//
// The router's loop is single-threaded and its stores are synchronous, so a request blocks:
// in poll(2), for at most the answer timeout (kAnswerTimeout, 5 s: above the storage
// process's statement_timeout of 4 s and its connect_timeout of 2 s, so that a live storage
// process always answers first). It never blocks longer. A timeout, a closed or missing link
// make unavailable() true; an answer that comes after its request gave up is recognised by
// its serial and dropped, and until it has come every request fails at once rather than
// stalling each stanza for the whole timeout again.
//
// Trust: the storage process is less exposed than the router, but its answers are still
// checked (the serial, a value in every column); anything malformed is a violation of the
// link, reported through on_violation, and the link is dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "router_storage.pb.h"
#include "store/database.h"

namespace xmppd::store {

class RemoteDatabase final : public Database {
 public:
  static constexpr std::chrono::milliseconds kAnswerTimeout{5000};
  using ViolationHandler = std::function<void(std::string_view why)>;

  explicit RemoteDatabase(std::chrono::milliseconds timeout = kAnswerTimeout) : timeout_(timeout) {}

  // A fresh link from the parent (a new storage process, or the first): replaces the old one
  // and forgets any request waiting on it.
  void attach(UniqueFd link);
  bool attached() const { return static_cast<bool>(link_); }
  void set_violation_handler(ViolationHandler handler) { on_violation_ = std::move(handler); }

  bool run(Statement id, std::span<const Value> params, std::vector<Row>* rows = nullptr) override;
  // Split into as many requests as the record limit needs (each an all-or-nothing only inside
  // a transaction the caller opened, as the interface says).
  bool run_batch(Statement id, std::span<const Row> batch) override;
  Dialect dialect() const override { return Dialect::kPostgres; }
  const std::string& error() const override { return error_; }
  bool unavailable() const override { return unavailable_; }

 private:
  bool exchange(ipc::StorageRequest& request, std::vector<Row>* rows);
  // Sends the ROLLBACK owed for a batch abandoned on a timeout, before `next` (unless `next` is
  // that ROLLBACK); false when the storage process is out of reach.
  bool settle_rollback(Statement next);
  bool send(const ipc::StorageRequest& request, std::chrono::steady_clock::time_point deadline);
  // Reads answers until the last page of `serial` (true), the deadline, or a broken link.
  // Answers of other serials are dropped; `deadline` nullopt reads only what is there.
  bool receive(std::uint64_t serial, std::optional<std::chrono::steady_clock::time_point> deadline,
               std::vector<Row>* rows, ipc::StorageAnswer& last);
  bool wait(short events, std::chrono::steady_clock::time_point deadline);
  bool out_of_reach(std::string why);  // unavailable_ and error_, returns false
  void violation(std::string why);     // drops the link, reports, returns nothing

  UniqueFd link_;
  std::chrono::milliseconds timeout_;
  std::uint64_t serial_ = 0;
  // The serial of a request that timed out: until its answer comes, requests fail at once.
  std::optional<std::uint64_t> overdue_;
  // A BEGIN answered and no COMMIT/ROLLBACK sent since; and a ROLLBACK owed because a request of
  // that transaction timed out (its caller's ROLLBACK failed at once, unsent).
  bool in_transaction_ = false;
  bool rollback_owed_ = false;
  std::vector<std::uint8_t> buffer_;
  std::string error_;
  bool unavailable_ = false;
  ViolationHandler on_violation_;
};

}  // namespace xmppd::store
