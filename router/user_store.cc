#include "router/user_store.h"

#include <climits>
#include <utility>

#include "common/log.h"
#include "store/sqlite_database.h"

namespace xmppd::router {
namespace {

using store::Row;
using store::Statement;
using store::Value;

// Integers are 64-bit signed in both dialects; a quota past that is no quota.
std::int64_t clamp(std::size_t n) {
  return n > static_cast<std::size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(n);
}

Value text(std::string_view s) { return std::string(s); }

std::string join_groups(const std::vector<std::string>& groups) {
  std::string out;
  for (const std::string& g : groups) {
    if (!out.empty()) out.push_back('\n');
    out += g;
  }
  return out;
}

std::vector<std::string> split_groups(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    out.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// contact, name, subscription, ask, groups, approved (roster.select, roster.select_item).
UserStore::RosterItem item_of(Row& row) {
  return UserStore::RosterItem{store::take_text(row, 0),          store::take_text(row, 1),
                               store::take_text(row, 2),          store::integer(row, 3) != 0,
                               split_groups(store::text(row, 4)), store::integer(row, 5) != 0};
}

}  // namespace

UserStore::UserStore(std::unique_ptr<store::Database> db, std::string name)
    : db_(std::move(db)), name_(std::move(name)) {}

UserStore::~UserStore() {
  if (batch_open_) commit();
}

std::unique_ptr<UserStore> UserStore::open(const std::string& path, std::string& error) {
  if (path.empty()) {
    error = "user store: no path given";
    return nullptr;
  }
  const auto fail = [&](const std::string& what) {
    error = "user store " + what;
    return nullptr;
  };
  std::string message;
  std::unique_ptr<store::SqliteDatabase> db = store::SqliteDatabase::open(path, message);
  if (!db) return fail(message);
  if (!store::upgrade_schema(*db, message)) return fail(path + ": " + message);
  // Every statement now: one that does not fit the schema fails the start, not a stanza.
  if (!db->prepare_all()) return fail(path + ": " + db->error());
  return std::make_unique<UserStore>(std::move(db), path);
}

void UserStore::report(const char* what) {
  // Unavailable: the server (or the storage process) is out of reach, not the statement at
  // fault; the operator looks at the database, not at the data.
  log::error("user store %s: %s: %s%s", name_.c_str(), what, db_->unavailable() ? "database unavailable: " : "",
             db_->error().c_str());
}

bool UserStore::run(Statement id, std::initializer_list<Value> params, std::vector<Row>* rows) {
  if (db_->run(id, std::span<const Value>(params.begin(), params.size()), rows)) return true;
  if (batch_open_ && savepoints_ == 0 && db_->dialect() == store::Dialect::kPostgres) batch_doomed_ = true;
  return false;
}

std::int64_t UserStore::scalar(Statement id, std::initializer_list<Value> params) {
  std::vector<Row> rows;
  if (!run(id, params, &rows)) return -1;
  return rows.empty() ? 0 : store::integer(rows[0], 0);
}

bool UserStore::ensure_batch() {
  if (batch_open_) return true;
  if (!run(Statement::kBegin, {})) {
    report("cannot begin a transaction");
    return false;
  }
  batch_open_ = true;
  batch_doomed_ = false;
  if (batch_opened_) batch_opened_();
  return true;
}

bool UserStore::commit() {
  if (!batch_open_) return true;
  batch_open_ = false;
  if (batch_doomed_) {
    log::error("user store %s: a statement of the batch failed; the batch is rolled back", name_.c_str());
    db_->run(Statement::kRollback, {});
    return false;
  }
  if (db_->run(Statement::kCommit, {})) return true;
  report("cannot commit; the batch is rolled back");
  // A COMMIT that failed with SQLITE_BUSY leaves the transaction open; any other failure
  // has ended it already, and then this ROLLBACK fails harmlessly.
  db_->run(Statement::kRollback, {});
  return false;
}

UserStore::Outcome UserStore::write(const char* what, const std::function<Outcome()>& body) {
  if (!ensure_batch()) return Outcome::kFailed;
  if (!run(Statement::kSavepoint, {})) {
    report(what);
    return Outcome::kFailed;
  }
  ++savepoints_;
  Outcome outcome = body();
  if (outcome == Outcome::kFailed) report(what);
  --savepoints_;
  if (outcome == Outcome::kStored && db_->run(Statement::kRelease, {})) return outcome;
  if (outcome == Outcome::kStored) {
    report(what);
    outcome = Outcome::kFailed;
  }
  // Undo this operation alone; the rest of the batch stands.
  if (!db_->run(Statement::kRollbackTo, {}) || !db_->run(Statement::kRelease, {})) {
    report("cannot roll back an operation; the batch is rolled back");
    batch_open_ = false;
    db_->run(Statement::kRollback, {});
  }
  return outcome;
}

UserStore::Outcome UserStore::store_offline(std::string_view bare, std::string_view stanza, std::int64_t when,
                                            OfflineQuota quota, std::int64_t* id) {
  return write("cannot keep an offline message", [&] {
    const OfflineUsage used = offline_usage(bare);
    if (used.messages < 0) return Outcome::kFailed;
    const std::int64_t size = clamp(stanza.size());
    if (used.messages + 1 > clamp(quota.max_count) || used.bytes + size > clamp(quota.max_bytes))
      return Outcome::kOverQuota;
    std::vector<Row> rows;
    if (!run(Statement::kOfflineInsert, {text(bare), text(stanza), when, size}, &rows) || rows.empty())
      return Outcome::kFailed;
    if (!run(Statement::kOfflineUsageAdd, {text(bare), size})) return Outcome::kFailed;
    if (id != nullptr) *id = store::integer(rows[0], 0);
    return Outcome::kStored;
  });
}

bool UserStore::uncount_offline(std::string_view bare, std::int64_t messages, std::int64_t bytes) {
  if (messages == 0) return true;
  return run(Statement::kOfflineUsageSubtract, {messages, bytes, text(bare)}) &&
         run(Statement::kOfflineUsageForget, {text(bare)});
}

bool UserStore::delete_offline_message(std::int64_t id) {
  return write("cannot delete an offline message", [&] {
           std::vector<Row> rows;  // bare, size
           if (!run(Statement::kOfflineDeleteId, {id}, &rows)) return Outcome::kFailed;
           if (rows.empty()) return Outcome::kStored;
           return uncount_offline(store::text(rows[0], 0), 1, store::integer(rows[0], 1)) ? Outcome::kStored
                                                                                          : Outcome::kFailed;
         }) == Outcome::kStored;
}

std::vector<UserStore::Offline> UserStore::offline(std::string_view bare, std::int64_t after_id, std::size_t max_count,
                                                   std::size_t max_bytes) {
  std::vector<Offline> out;
  std::vector<Row> rows;  // id, stanza, stored_at
  if (!run(Statement::kOfflineSelect, {text(bare), after_id, clamp(max_count)}, &rows)) {
    report("cannot read offline messages");
    return out;
  }
  std::size_t bytes = 0;
  for (Row& row : rows) {
    std::string stanza = store::take_text(row, 1);
    if (!out.empty() && bytes + stanza.size() > max_bytes) break;
    bytes += stanza.size();
    out.push_back(Offline{store::integer(row, 0), std::move(stanza), store::integer(row, 2)});
  }
  return out;
}

bool UserStore::delete_offline(std::string_view bare, std::int64_t up_to_id) {
  return write("cannot delete delivered offline messages", [&] {
           std::vector<Row> rows;  // size of each
           if (!run(Statement::kOfflineDeleteUpTo, {text(bare), up_to_id}, &rows)) return Outcome::kFailed;
           std::int64_t bytes = 0;
           for (const Row& row : rows) bytes += store::integer(row, 0);
           return uncount_offline(bare, static_cast<std::int64_t>(rows.size()), bytes) ? Outcome::kStored
                                                                                       : Outcome::kFailed;
         }) == Outcome::kStored;
}

// {-1, -1} when it cannot be read.
UserStore::OfflineUsage UserStore::offline_usage(std::string_view bare) {
  std::vector<Row> rows;
  if (!run(Statement::kOfflineUsage, {text(bare)}, &rows)) {
    report("cannot read offline usage");
    return {-1, -1};
  }
  if (rows.empty()) return {};  // nothing waiting
  return {store::integer(rows[0], 0), store::integer(rows[0], 1)};
}

std::vector<UserStore::RosterItem> UserStore::roster(std::string_view bare) {
  std::vector<RosterItem> out;
  std::vector<Row> rows;
  if (!run(Statement::kRosterSelect, {text(bare)}, &rows)) report("cannot read a roster");
  out.reserve(rows.size());
  for (Row& row : rows) out.push_back(item_of(row));
  return out;
}

std::optional<UserStore::RosterItem> UserStore::roster_item(std::string_view bare, std::string_view contact) {
  std::vector<Row> rows;
  if (!run(Statement::kRosterSelectItem, {text(bare), text(contact)}, &rows)) report("cannot read a roster item");
  if (rows.empty()) return std::nullopt;
  return item_of(rows[0]);
}

std::size_t UserStore::roster_size(std::string_view bare) {
  const std::int64_t n = scalar(Statement::kRosterCount, {text(bare)});
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::int64_t UserStore::roster_version(std::string_view bare) {
  const std::int64_t v = scalar(Statement::kRosterVersion, {text(bare)});
  return v < 0 ? 0 : v;
}

// The new version; 0 when it could not be written.
std::int64_t UserStore::bump_version(std::string_view bare) {
  const std::int64_t v = scalar(Statement::kRosterBumpVersion, {text(bare)});
  return v < 0 ? 0 : v;
}

UserStore::Outcome UserStore::set_roster_item(std::string_view bare, const RosterItem& item, std::size_t max_items,
                                              std::int64_t* version) {
  return write("cannot save a roster item", [&] {
    if (!roster_item(bare, item.contact) && scalar(Statement::kRosterCount, {text(bare)}) >= clamp(max_items))
      return Outcome::kOverQuota;
    if (!run(Statement::kRosterUpsert,
             {text(bare), text(item.contact), text(item.name), text(item.subscription), std::int64_t{item.ask ? 1 : 0},
              join_groups(item.groups), std::int64_t{item.approved ? 1 : 0}}))
      return Outcome::kFailed;
    const std::int64_t v = bump_version(bare);
    if (v == 0) return Outcome::kFailed;
    if (version != nullptr) *version = v;
    return Outcome::kStored;
  });
}

UserStore::Outcome UserStore::set_roster_version(std::string_view bare, std::int64_t version) {
  return write("cannot set a roster version", [&] {
    return run(Statement::kRosterSetVersion, {text(bare), version}) ? Outcome::kStored : Outcome::kFailed;
  });
}

UserStore::Outcome UserStore::remove_roster_item(std::string_view bare, std::string_view contact,
                                                 std::int64_t* version) {
  return write("cannot remove a roster item", [&] {
    if (!run(Statement::kRosterDelete, {text(bare), text(contact)})) return Outcome::kFailed;
    const std::int64_t v = bump_version(bare);
    if (v == 0) return Outcome::kFailed;
    if (version != nullptr) *version = v;
    return Outcome::kStored;
  });
}

UserStore::Outcome UserStore::store_subscription_request(std::string_view bare, std::string_view from,
                                                         std::string_view stanza, std::size_t max_pending) {
  return write("cannot keep a subscription request", [&] {
    if (!has_subscription_request(bare, from) && scalar(Statement::kRequestCount, {text(bare)}) >= clamp(max_pending))
      return Outcome::kOverQuota;
    return run(Statement::kRequestUpsert, {text(bare), text(from), text(stanza)}) ? Outcome::kStored : Outcome::kFailed;
  });
}

bool UserStore::has_subscription_request(std::string_view bare, std::string_view from) {
  return scalar(Statement::kRequestHas, {text(bare), text(from)}) > 0;
}

std::vector<UserStore::Request> UserStore::subscription_requests(std::string_view bare, std::int64_t after_rowid,
                                                                 std::size_t max_count) {
  std::vector<Request> out;
  std::vector<Row> rows;  // rowid, stanza
  if (!run(Statement::kRequestSelect, {text(bare), after_rowid, clamp(max_count)}, &rows))
    report("cannot read subscription requests");
  for (Row& row : rows) out.push_back(Request{store::integer(row, 0), store::take_text(row, 1)});
  return out;
}

bool UserStore::delete_subscription_request(std::string_view bare, std::string_view from) {
  return write("cannot delete a subscription request", [&] {
           return run(Statement::kRequestDelete, {text(bare), text(from)}) ? Outcome::kStored : Outcome::kFailed;
         }) == Outcome::kStored;
}

UserStore::Outcome UserStore::remove_user(std::string_view bare) {
  return write("cannot remove a user's data", [&] {
    for (Statement id : {Statement::kRemoveOffline, Statement::kRemoveOfflineUsage, Statement::kRemoveRoster,
                         Statement::kRemoveRosterVersion, Statement::kRemoveRequests, Statement::kRemoveItems})
      if (!run(id, {text(bare)})) return Outcome::kFailed;
    return Outcome::kStored;
  });
}

}  // namespace xmppd::router
