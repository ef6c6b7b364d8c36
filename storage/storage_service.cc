#include "storage/storage_service.h"

#include "common/log.h"
#include "store/catalog.h"
#include "store/wire_values.h"

namespace xmppd::storage {
namespace {

using store::Statement;

// Bounds of one request beyond the record limit: a batch of more rows than this is no
// archive batch the router makes.
constexpr int kMaxBatchRows = 10000;

// A value with one of its three set (a null that says false is none).
bool all_set(const google::protobuf::RepeatedPtrField<ipc::SqlValue>& values) {
  for (const ipc::SqlValue& v : values)
    if (v.value_case() == ipc::SqlValue::VALUE_NOT_SET || (v.has_null() && !v.null())) return false;
  return true;
}

bool ends_transaction(Statement id) { return id == Statement::kCommit || id == Statement::kRollback; }

}  // namespace

bool StorageService::check(const ipc::StorageRequest& request, std::string& why) {
  const store::StatementText* entry = store::statement_text(request.statement());
  if (entry == nullptr) {
    why = "statement " + std::to_string(request.statement()) + " is not in the catalog";
    return false;
  }
  const auto count_ok = [&](int n) {
    if (n == entry->params) return true;
    why = std::string(entry->name) + " takes " + std::to_string(entry->params) + " parameters, got " +
          std::to_string(n);
    return false;
  };
  if (!request.batch()) {
    if (request.rows_size() != 0) {
      why = "rows in a request that is not a batch";
      return false;
    }
    return count_ok(request.params_size());
  }
  if (request.params_size() != 0 || request.rows_size() == 0 || request.rows_size() > kMaxBatchRows) {
    why = "a batch with parameters outside its rows, or with " + std::to_string(request.rows_size()) + " rows";
    return false;
  }
  for (const ipc::SqlRow& row : request.rows())
    if (!count_ok(row.values_size())) return false;
  return true;
}

bool StorageService::ensure_connected() {
  if (db_ != nullptr && !down_) return true;
  const Clock::time_point now = now_();
  if (tried_ && now - last_attempt_ < kReconnectInterval) return false;
  tried_ = true;
  last_attempt_ = now;
  if (db_ != nullptr) {
    down_ = false;  // the connection is made again by its next statement
    return true;
  }
  std::string error;
  db_ = connect_(error);
  if (db_ == nullptr) {
    if (error != error_) log::error("database: %s; retrying every second", error.c_str());
    error_ = error;
    return false;
  }
  log::notice("database: connected");
  error_.clear();
  return true;
}

void StorageService::track_transaction(Statement id, bool ok) {
  if (id == Statement::kBegin && ok) {
    in_transaction_ = true;
    transaction_broken_ = false;
  } else if (ends_transaction(id)) {
    in_transaction_ = false;
    transaction_broken_ = false;
  }
}

void StorageService::abandon_transaction() {
  // The router sends BEGIN only when it believes no transaction is open, so one still open here
  // is one it gave up on (a request that timed out): whatever it held must not be committed
  // with the new batch, nor must a broken one refuse every later request.
  const bool broken = transaction_broken_;
  in_transaction_ = transaction_broken_ = false;
  if (broken || db_ == nullptr || down_) {
    log::warning("database: BEGIN while the router's previous transaction was open; it was already lost");
    return;
  }
  if (db_->run(Statement::kRollback, {}))
    log::warning("database: BEGIN while the router's previous transaction was open; rolled it back");
  else
    log::warning("database: rolling back the router's abandoned transaction: %s", db_->error().c_str());
}

bool StorageService::run(const ipc::StorageRequest& request, Statement id, std::vector<store::Row>& rows) {
  unavailable_ = false;
  if (id == Statement::kBegin && in_transaction_) abandon_transaction();
  if (in_transaction_ && transaction_broken_) {
    track_transaction(id, false);
    if (id == Statement::kRollback) return true;  // nothing of it is left to undo
    error_ = "the connection to the database was lost in this transaction; the server rolled it back";
    unavailable_ = true;
    return false;
  }
  if (!ensure_connected()) {
    if (error_.empty()) error_ = "the database is out of reach";
    unavailable_ = true;
    track_transaction(id, false);
    return false;
  }
  bool ok;
  if (request.batch()) {
    std::vector<store::Row> batch(static_cast<std::size_t>(request.rows_size()));
    for (int i = 0; i < request.rows_size(); ++i) store::from_wire(request.rows(i).values(), batch[i]);
    ok = db_->run_batch(id, batch);
  } else {
    store::Row params;
    store::from_wire(request.params(), params);
    ok = db_->run(id, params, &rows);
  }
  if (!ok) {
    error_ = db_->error();
    unavailable_ = db_->unavailable();
    if (unavailable_) {
      if (!down_) log::error("database: the connection is lost: %s", error_.c_str());
      down_ = true;
      last_attempt_ = now_();
      if (in_transaction_) transaction_broken_ = !ends_transaction(id);
    }
  }
  if (!unavailable_ || ends_transaction(id)) track_transaction(id, ok);
  return ok;
}

bool StorageService::handle(const ipc::StorageRequest& request, std::vector<ipc::StorageAnswer>& answers,
                            std::string& why) {
  if (!check(request, why)) return false;
  // Every value set: a parameter with none is as much a violation as a wrong count.
  bool set = all_set(request.params());
  for (const ipc::SqlRow& row : request.rows()) set = set && all_set(row.values());
  if (!set) {
    why = "a parameter with no value";
    return false;
  }
  std::vector<store::Row> rows;
  const bool ok = run(request, static_cast<Statement>(request.statement()), rows);
  answer(request, ok, rows, answers);
  return true;
}

void StorageService::answer(const ipc::StorageRequest& request, bool ok, std::vector<store::Row>& rows,
                            std::vector<ipc::StorageAnswer>& answers) {
  answers.clear();
  ipc::StorageAnswer* page = &answers.emplace_back();
  page->set_serial(request.serial());
  std::size_t bytes = 0;
  for (const store::Row& row : rows) {
    ipc::SqlRow wire;
    store::to_wire(row, *wire.mutable_values());
    const std::size_t size = wire.ByteSizeLong() + 8;
    if (size > store::kStoragePageBytes) {
      answers.resize(1);
      answers[0].Clear();
      answers[0].set_serial(request.serial());
      answers[0].set_error("a row of the answer is larger than one IPC record");
      return;
    }
    if (bytes + size > store::kStoragePageBytes) {
      page->set_more(true);
      page = &answers.emplace_back();
      page->set_serial(request.serial());
      bytes = 0;
    }
    bytes += size;
    *page->add_rows() = std::move(wire);
  }
  page->set_ok(ok);
  if (!ok) {
    page->set_unavailable(unavailable_);
    page->set_error(error_);
  }
}

void StorageService::router_gone() {
  if (!in_transaction_) return;
  const bool broken = transaction_broken_;
  in_transaction_ = transaction_broken_ = false;
  if (broken || db_ == nullptr || down_) return;  // the server ended it with the connection
  if (db_->run(Statement::kRollback, {}))
    log::info("database: rolled back the transaction the router left open");
  else
    log::warning("database: rolling back the router's transaction: %s", db_->error().c_str());
}

}  // namespace xmppd::storage
