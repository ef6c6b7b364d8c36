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
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/sqlite.h"

namespace xmppd::router {

class UserStore {
 public:
  // Kept in PRAGMA user_version. 2 added the size of each offline message and a row per user
  // with the count and bytes of theirs; open() upgrades a store of version 1 once. A larger
  // number was written by a newer xmppd and is refused rather than misread.
  // 3 added the items of the IM modules (router/item_store.h) and roster pre-approvals.
  static constexpr int kSchemaVersion = 3;

  // What a write did: kept, refused by a quota, or failed (logged, and rolled back).
  enum class Outcome { kStored, kOverQuota, kFailed };

  static std::unique_ptr<UserStore> open(const std::string& path, std::string& error);
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

  sqlite3* database() { return db_.get(); }

 private:
  friend class ItemStore;  // shares the database, its batch and its savepoints
  UserStore(sqlite::Database db, std::string path);
  bool prepare_statements(std::string& error);
  // Opens the batch if none is open; false when BEGIN failed.
  bool ensure_batch();
  // Runs `body` inside a savepoint of the batch: released when it returns kStored, rolled
  // back otherwise.
  Outcome write(const char* what, const std::function<Outcome()>& body);
  bool run(sqlite3_stmt* statement);
  std::int64_t count(sqlite3_stmt* statement, std::string_view bare);
  std::int64_t bump_version(std::string_view bare);
  void report(const char* what);

  sqlite::Database db_;
  std::string path_;
  bool batch_open_ = false;
  std::function<void()> batch_opened_;
  sqlite::Statement begin_, commit_, rollback_, savepoint_, release_, rollback_to_;
  sqlite::Statement insert_offline_, offline_usage_, select_offline_, delete_offline_id_, delete_offline_upto_;
  sqlite::Statement select_roster_, select_roster_item_, count_roster_, upsert_roster_, delete_roster_, select_version_,
      bump_version_, set_version_;
  sqlite::Statement upsert_request_, count_requests_, has_request_, select_requests_, delete_request_;
  sqlite::Statement remove_offline_, remove_roster_, remove_version_, remove_requests_, remove_items_;
};

}  // namespace xmppd::router
