// The router's store of user data, DATA_PATH/router/user.sqlite: messages waiting for users
// who are offline (XEP-0160), rosters (RFC 6121 §2) and pending subscription requests
// (RFC 6121 §3.1.3). It trusts nothing in what it stores: every row came from a client or
// another server, and quotas bound what one user's rows may take.
//
// Writes are gathered into one transaction per turn of the event loop (a batch): the first
// write of a turn opens it and tells the owner, who commits it at the end of the turn, before
// the loop waits again. One fsync serves every stanza of the turn. A caller that is about to
// acknowledge a write (an IQ result) calls commit() first. Each operation runs inside a
// savepoint, so a failed one is rolled back alone and the batch goes on.
//
// Every statement is one of the storage interface's catalog (store/catalog.h), run through a
// store::Database: the router's SQLite file, or PostgreSQL through the storage process. The
// class is written once for both; only the schema differs by dialect (store/schema.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"
#include "store/schema.h"

namespace xmppd::router {

class UserStore {
 public:
  // The SQLite schema's version (store/schema.h), kept in PRAGMA user_version.
  static constexpr int kSchemaVersion = store::kSqliteSchemaVersion;

  // What a write did: kept, refused by a quota, or failed (logged, and rolled back).
  enum class Outcome { kStored, kOverQuota, kFailed };

  // The router's SQLite file at `path`: opened (created), its schema brought up to date,
  // every statement of the catalog prepared. Null, with `error`, when it cannot be.
  static std::unique_ptr<UserStore> open(const std::string& path, std::string& error);
  // Over a database whose schema its opener applied (PostgreSQL: the storage process).
  // `name` is for logs.
  UserStore(std::unique_ptr<store::Database> db, std::string name);
  ~UserStore();  // commits the open batch
  UserStore(const UserStore&) = delete;
  UserStore& operator=(const UserStore&) = delete;

  // Called when a write opens a batch: the owner arranges for commit() at the end of the turn.
  void on_batch_opened(std::function<void()> callback) { batch_opened_ = std::move(callback); }
  // Makes the open batch durable; false (logged) when it could not be, and then it is rolled back.
  bool commit();
  bool batch_open() const { return batch_open_; }

  // Offline messages. `stanza` (serialized) is kept for `bare` unless that would take the
  // user past `max_count` messages or `max_bytes` bytes of them. The check reads one row of
  // counters, not the messages kept: a sender may make it for every stanza it sends.
  struct OfflineQuota {
    std::size_t max_count;
    std::size_t max_bytes;
  };
  Outcome store_offline(std::string_view bare, std::string_view stanza, std::int64_t when, OfflineQuota quota,
                        std::int64_t* id = nullptr);
  bool delete_offline_message(std::int64_t id);
  struct Offline {
    std::int64_t id;
    std::string stanza;
    std::int64_t when;
  };
  // The oldest messages for `bare` after `after_id`: at most `max_count`, and no more than
  // `max_bytes` in all unless the first alone is larger (it is then the only one).
  std::vector<Offline> offline(std::string_view bare, std::int64_t after_id, std::size_t max_count,
                               std::size_t max_bytes);
  // Forgets the messages for `bare` up to `up_to_id`, once they were written to the user.
  bool delete_offline(std::string_view bare, std::int64_t up_to_id);
  // What `bare`'s offline messages take, as the quota counts it.
  struct OfflineUsage {
    std::int64_t messages = 0;
    std::int64_t bytes = 0;
  };
  OfflineUsage offline_usage(std::string_view bare);

  // Rosters (RFC 6121 §2) with a version per user (XEP-0237).
  struct RosterItem {
    std::string contact;  // bare JID
    std::string name;
    std::string subscription = "none";  // none, to, from, both
    bool ask = false;                   // a subscription request of ours is pending
    std::vector<std::string> groups;
    // Pre-approved (RFC 6121 §3.4): the contact's request will be approved at once. Only
    // while the contact has no subscription from the user.
    bool approved = false;
  };
  std::vector<RosterItem> roster(std::string_view bare);
  std::optional<RosterItem> roster_item(std::string_view bare, std::string_view contact);
  std::size_t roster_size(std::string_view bare);
  // A new item is refused when the roster has `max_items` already; `version` receives the
  // roster's new version.
  Outcome set_roster_item(std::string_view bare, const RosterItem& item, std::size_t max_items,
                          std::int64_t* version = nullptr);
  Outcome remove_roster_item(std::string_view bare, std::string_view contact, std::int64_t* version = nullptr);
  std::int64_t roster_version(std::string_view bare);
  // Sets the version outright (xmppctl import prosody: above any a client may have cached).
  Outcome set_roster_version(std::string_view bare, std::int64_t version);

  // Inbound subscription requests not yet answered (RFC 6121 §3.1.3): one per sender, kept
  // (replacing the stanza of an earlier one from the same sender, which keeps its place in
  // the order) unless `bare` has `max_pending` from others already. `stanza` is the reduced
  // request the caller built.
  Outcome store_subscription_request(std::string_view bare, std::string_view from, std::string_view stanza,
                                     std::size_t max_pending);
  bool has_subscription_request(std::string_view bare, std::string_view from);
  struct Request {
    std::int64_t rowid;
    std::string stanza;
  };
  // The requests for `bare` after `after_rowid`, oldest first, at most `max_count`. A request
  // sent again keeps its rowid, so a reader paging through them does not meet it twice.
  std::vector<Request> subscription_requests(std::string_view bare, std::int64_t after_rowid, std::size_t max_count);
  bool delete_subscription_request(std::string_view bare, std::string_view from);

  // Everything kept for `bare` (an account removed): offline messages, roster, requests and
  // the modules' items, in one operation.
  Outcome remove_user(std::string_view bare);

  store::Database& database() { return *db_; }
  // Runs `body`, statements of another store on database() (the archive's), in a savepoint
  // of the batch as the store's own writes are: committed with them at the end of the turn.
  Outcome atomically(const char* what, const std::function<Outcome()>& body) { return write(what, body); }

 private:
  friend class ItemStore;  // shares the database, its batch and its savepoints
  // Opens the batch if none is open; false when BEGIN failed.
  bool ensure_batch();
  // Runs `body` inside a savepoint of the batch: released when it returns kStored, rolled
  // back otherwise.
  Outcome write(const char* what, const std::function<Outcome()>& body);
  // Runs catalog statement `id`; a failure outside any savepoint, in a dialect where it
  // aborts the transaction (PostgreSQL), dooms the batch (see commit()).
  bool run(store::Statement id, std::initializer_list<store::Value> params, std::vector<store::Row>* rows = nullptr);
  // The first column of the statement's first row (0 when it has none); -1 when it failed.
  std::int64_t scalar(store::Statement id, std::initializer_list<store::Value> params);
  std::int64_t bump_version(std::string_view bare);
  // Takes `messages` messages of `bytes` bytes off `bare`'s counters (after a delete).
  bool uncount_offline(std::string_view bare, std::int64_t messages, std::int64_t bytes);
  void report(const char* what);

  std::unique_ptr<store::Database> db_;
  std::string name_;
  bool batch_open_ = false;
  // A statement of the batch failed outside a savepoint where that aborts the transaction:
  // the batch can only be rolled back (PostgreSQL would turn its COMMIT into a ROLLBACK).
  bool batch_doomed_ = false;
  int savepoints_ = 0;  // open (nested) savepoints of operations
  std::function<void()> batch_opened_;
};

}  // namespace xmppd::router
