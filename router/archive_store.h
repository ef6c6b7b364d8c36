// The message archive (XEP-0313) over the storage interface (store/database.h): what it
// keeps per user, read back in pages. It trusts nothing it stores: every row came from a
// client or another server; a per-user quota and the expiry bound what one user's rows take.
//
// Writes are batched: append() only gathers the row in memory (the stanza-id is chosen here,
// so the message can be stamped at once), and flush() writes every row gathered in a loop
// turn with one run_batch, in one transaction, together with the usage counters and the
// trimming to the quota. Readers flush first, so that a query sees every message archived.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"

namespace xmppd::router {

class ArchiveStore {
 public:
  struct Entry {
    std::string owner;  // bare JID
    std::string id;     // the XEP-0359 stanza-id
    std::string with;   // bare JID of the other party
    std::int64_t stamp = 0;
    std::string origin_id;  // "" when the sender gave none
    std::string stanza;     // serialized
  };
  struct Message {
    std::int64_t seq = 0;
    std::string id, with;
    std::int64_t stamp = 0;
    std::string stanza;  // empty for first()/last()
  };
  // What a query selects besides its place: unset members select everything.
  struct Filter {
    std::optional<std::string> with;
    std::optional<std::int64_t> start, end;
    std::int64_t after_seq = 0;
    std::int64_t before_seq = std::numeric_limits<std::int64_t>::max();
  };

  // `db` outlives the store. Rows past `max_per_user` for one owner go, oldest first (as
  // Prosody's storage_archive_item_limit does); 0 is no limit.
  ArchiveStore(store::Database& db, std::size_t max_per_user) : db_(db), max_per_user_(max_per_user) {}

  void set_max_per_user(std::size_t max) { max_per_user_ = max; }
  // How the archive's writes are made all or nothing: by default a transaction of its own
  // (BEGIN ... COMMIT); in the router, a savepoint of the user store's batch on the same
  // database (UserStore::atomically), so that one commit per loop turn serves both.
  using Transaction = std::function<bool(const std::function<bool()>& body)>;
  void run_transactions_with(Transaction transaction) { transaction_ = std::move(transaction); }
  // An unguessable stanza-id: 16 random bytes, base64url.
  static std::string new_id();

  // Called when append() gathers the first row since the last flush: the owner arranges for
  // flush() at the end of the loop turn.
  void on_pending(std::function<void()> callback) { pending_callback_ = std::move(callback); }
  // False (logged) when the row is not kept: its text is too large for one storage record, or
  // kMaxPendingRows rows already wait for a database out of reach. The caller then hands out
  // no stanza-id.
  bool append(Entry entry);
  std::size_t pending_rows() const { return pending_.size(); }
  bool pending() const { return !pending_.empty(); }
  // Writes what append() gathered, in one transaction; false (logged) when it could not be.
  // What failed because the database is out of reach is kept for the next flush, up to a
  // bound; when the database refuses the batch, each row is tried alone and only those it
  // refuses are dropped.
  bool flush();

  // The reads answer false when the database failed (error()).
  bool by_id(std::string_view owner, std::string_view id, std::optional<Message>& out);
  // At most `limit` messages matching `filter`, oldest first, or newest first when `backward`.
  bool page(std::string_view owner, const Filter& filter, bool backward, std::size_t limit,
            std::vector<Message>& out);
  bool count(std::string_view owner, const Filter& filter, std::int64_t& out);
  // The oldest and newest messages (XEP-0313 metadata); nullopt for an empty archive.
  bool ends(std::string_view owner, std::optional<Message>& first, std::optional<Message>& last);

  // Forgets one message (a recipient found not to exist), gathered or written.
  bool remove(std::string_view owner, std::string_view id);
  // Everything of `owner` (an account removed).
  bool remove_user(std::string_view owner);
  // Deletes at most `limit` messages older than `before` (seconds since the epoch), of every
  // owner, or with `domain` of the owners in it only (a MUC service's rooms:
  // muc_log_expires_after); the number deleted, or -1 when the database failed.
  std::int64_t expire(std::int64_t before, std::size_t limit, std::string_view domain = {});

  const std::string& error() const { return db_.error(); }

  // Messages archived and the owners that have any, for /metrics: the sum of the per-owner
  // counts the quota keeps, read from the database at most once per kUsageInterval (at `now`)
  // and the figures of the last read in between; nullopt when the database failed.
  struct Usage {
    std::int64_t messages = 0, owners = 0;
  };
  static constexpr std::int64_t kUsageInterval = 60;  // seconds
  std::optional<Usage> usage(std::int64_t now);

 private:
  std::optional<Usage> usage_;
  std::int64_t usage_read_ = 0;
  bool write_rows(std::span<const store::Row> rows, const std::map<std::string, std::int64_t, std::less<>>& counts);
  void forget_pending();
  void recount_pending();
  bool trim(const std::string& owner, std::int64_t messages);
  bool subtract(const std::string& owner, std::int64_t n);
  // Runs `body` between BEGIN and COMMIT; rolled back when it fails.
  bool transaction(const std::function<bool()>& body);
  static std::vector<store::Value> filter_params(std::string_view owner, const Filter& filter);

  store::Database& db_;
  std::size_t max_per_user_;
  std::function<void()> pending_callback_;
  Transaction transaction_;
  std::vector<store::Row> pending_;
  std::map<std::string, std::int64_t, std::less<>> pending_counts_;
  bool retry_ = false;        // the last flush found the database out of reach
  bool full_logged_ = false;  // the bound's error is logged once per outage
};

}  // namespace xmppd::router
