// The message archive over store::Database (router/archive_store.h). Trusts nothing stored.
#include "router/archive_store.h"

#include <openssl/rand.h>

#include <algorithm>

#include "common/base64.h"
#include "common/log.h"

namespace xmppd::router {
namespace {

using store::Statement;
using store::Value;

// Rows kept for a retry while the database is out of reach (PostgreSQL restarting): past
// this the archive loses messages rather than the router its memory.
constexpr std::size_t kMaxPendingRows = 10000;

// The text of one row, above which it is not archived: a row must fit one record of the link to
// the storage process (store::kStoragePageBytes, 1 MiB less its envelope) with room to spare
// for the encoding. A stanza grows when serialized (a raw '>' becomes "&gt;"), so a stanza
// under the stream's limit can be over this one.
constexpr std::size_t kMaxRowTextBytes = 900 * 1024;

Value optional_text(const std::optional<std::string>& v) { return v ? Value(*v) : Value(std::monostate{}); }
Value optional_integer(const std::optional<std::int64_t>& v) { return v ? Value(*v) : Value(std::monostate{}); }

ArchiveStore::Message message_of(store::Row& row) {
  ArchiveStore::Message m;
  m.seq = store::integer(row, 0);
  m.id = store::take_text(row, 1);
  m.with = store::take_text(row, 2);
  m.stamp = store::integer(row, 3);
  if (row.size() > 4) m.stanza = store::take_text(row, 4);
  return m;
}

}  // namespace

std::string ArchiveStore::new_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no randomness: nothing is safe to hand out
  std::string id = base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  while (!id.empty() && id.back() == '=') id.pop_back();
  std::replace(id.begin(), id.end(), '+', '-');
  std::replace(id.begin(), id.end(), '/', '_');
  return id;
}

bool ArchiveStore::append(Entry e) {
  const std::size_t bytes = e.owner.size() + e.id.size() + e.with.size() + e.origin_id.size() + e.stanza.size();
  if (bytes > kMaxRowTextBytes) {
    log::warning("archive: a message of %zu bytes for %s is too large to archive", bytes, e.owner.c_str());
    return false;
  }
  if (pending_.size() >= kMaxPendingRows) {
    if (!full_logged_) log::error("archive: %zu messages wait for the database; not archiving more", pending_.size());
    full_logged_ = true;
    if (pending_callback_) pending_callback_();
    return false;
  }
  // After a flush that found the database out of reach, each append asks for another one.
  if ((pending_.empty() || retry_) && pending_callback_) pending_callback_();
  retry_ = false;
  ++pending_counts_[e.owner];
  Value origin = e.origin_id.empty() ? Value(std::monostate{}) : Value(std::move(e.origin_id));
  pending_.push_back({Value(std::move(e.owner)), Value(std::move(e.id)), Value(std::move(e.with)), Value(e.stamp),
                      std::move(origin), Value(std::move(e.stanza))});
  return true;
}

bool ArchiveStore::transaction(const std::function<bool()>& body) {
  if (transaction_) return transaction_(body);
  if (!db_.run(Statement::kBegin, {})) return false;
  if (body() && db_.run(Statement::kCommit, {})) return true;
  std::string why = db_.error();
  db_.run(Statement::kRollback, {});
  log::error("archive: %s", why.c_str());
  return false;
}

bool ArchiveStore::flush() {
  if (pending_.empty()) return true;
  if (transaction([this] { return write_rows(pending_, pending_counts_); })) {
    forget_pending();
    return true;
  }
  if (db_.unavailable()) {
    retry_ = true;  // kept (append() bounds them); the next append or a query tries again
    return false;
  }
  // Refused: one bad row must not take the others with it, so each is tried alone.
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    const std::map<std::string, std::int64_t, std::less<>> one = {{store::text(pending_[i], 0), 1}};
    if (transaction([&] { return write_rows(std::span(&pending_[i], 1), one); })) continue;
    if (db_.unavailable()) {  // the database went meanwhile: the rest waits for the next flush
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(i));
      recount_pending();
      retry_ = true;
      return false;
    }
    ++dropped;
  }
  log::error("archive: %zu messages could not be archived", dropped);
  forget_pending();
  return false;
}

void ArchiveStore::forget_pending() {
  pending_.clear();
  pending_counts_.clear();
  retry_ = full_logged_ = false;
}

void ArchiveStore::recount_pending() {
  pending_counts_.clear();
  for (const store::Row& row : pending_) ++pending_counts_[store::text(row, 0)];
}

bool ArchiveStore::write_rows(std::span<const store::Row> rows,
                              const std::map<std::string, std::int64_t, std::less<>>& counts) {
  if (!db_.run_batch(Statement::kArchiveInsert, rows)) return false;
  std::vector<store::Row> usage;
  usage.reserve(counts.size());
  for (const auto& [owner, n] : counts) usage.push_back({Value(owner), Value(n)});
  if (!db_.run_batch(Statement::kArchiveUsageAdd, usage)) return false;
  if (max_per_user_ == 0) return true;
  std::vector<store::Row> over;
  const Value limit[] = {static_cast<std::int64_t>(max_per_user_)};
  if (!db_.run(Statement::kArchiveOverQuota, limit, &over)) return false;
  for (const store::Row& row : over)
    if (!trim(store::text(row, 0), store::integer(row, 1))) return false;
  return true;
}

// Past the quota the oldest go, as Prosody truncates an archive at its item limit.
bool ArchiveStore::trim(const std::string& owner, std::int64_t messages) {
  if (max_per_user_ == 0 || messages <= static_cast<std::int64_t>(max_per_user_)) return true;
  std::vector<store::Row> deleted;
  const Value params[] = {owner, messages - static_cast<std::int64_t>(max_per_user_)};
  if (!db_.run(Statement::kArchiveTrimOldest, params, &deleted)) return false;
  return subtract(owner, static_cast<std::int64_t>(deleted.size()));
}

bool ArchiveStore::subtract(const std::string& owner, std::int64_t n) {
  if (n == 0) return true;
  const Value params[] = {n, owner};  // the text's order: $1 the number, $2 the owner
  // An owner with nothing left keeps no row: a stranger's messages to invented names (removed
  // once the auth helper says there is no such account) would otherwise leave one each.
  const Value drop[] = {owner};
  return db_.run(Statement::kArchiveUsageSubtract, params) && db_.run(Statement::kArchiveUsageDropEmpty, drop);
}

std::vector<Value> ArchiveStore::filter_params(std::string_view owner, const Filter& f) {
  return {std::string(owner), optional_text(f.with), optional_integer(f.start), optional_integer(f.end)};
}

bool ArchiveStore::by_id(std::string_view owner, std::string_view id, std::optional<Message>& out) {
  if (!flush() && pending()) return false;
  std::vector<store::Row> rows;
  const Value params[] = {std::string(owner), std::string(id)};
  if (!db_.run(Statement::kArchiveById, params, &rows)) return false;
  out.reset();
  if (!rows.empty()) out = message_of(rows.front());
  return true;
}

bool ArchiveStore::page(std::string_view owner, const Filter& filter, bool backward, std::size_t limit,
                        std::vector<Message>& out) {
  if (!flush() && pending()) return false;
  std::vector<Value> params = filter_params(owner, filter);
  params.emplace_back(filter.after_seq);
  params.emplace_back(filter.before_seq);
  params.emplace_back(static_cast<std::int64_t>(limit));
  std::vector<store::Row> rows;
  if (!db_.run(backward ? Statement::kArchivePageBackward : Statement::kArchivePageForward, params, &rows))
    return false;
  out.clear();
  for (store::Row& row : rows) out.push_back(message_of(row));
  return true;
}

bool ArchiveStore::count(std::string_view owner, const Filter& filter, std::int64_t& out) {
  if (!flush() && pending()) return false;
  std::vector<store::Row> rows;
  if (!db_.run(Statement::kArchiveCount, filter_params(owner, filter), &rows) || rows.empty()) return false;
  out = store::integer(rows.front(), 0);
  return true;
}

bool ArchiveStore::ends(std::string_view owner, std::optional<Message>& first, std::optional<Message>& last) {
  if (!flush() && pending()) return false;
  const Value params[] = {std::string(owner)};
  std::vector<store::Row> a, b;
  if (!db_.run(Statement::kArchiveFirst, params, &a) || !db_.run(Statement::kArchiveLast, params, &b)) return false;
  first.reset();
  last.reset();
  if (!a.empty()) first = message_of(a.front());
  if (!b.empty()) last = message_of(b.front());
  return true;
}

bool ArchiveStore::remove(std::string_view owner, std::string_view id) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (store::text(*it, 0) != owner || store::text(*it, 1) != id) continue;
    pending_.erase(it);
    if (auto c = pending_counts_.find(owner); c != pending_counts_.end() && --c->second == 0) pending_counts_.erase(c);
    return true;
  }
  return transaction([&] {
    std::vector<store::Row> deleted;
    const Value params[] = {std::string(owner), std::string(id)};
    return db_.run(Statement::kArchiveDeleteId, params, &deleted) &&
           subtract(std::string(owner), static_cast<std::int64_t>(deleted.size()));
  });
}

bool ArchiveStore::remove_user(std::string_view owner) {
  std::erase_if(pending_, [owner](const store::Row& row) { return store::text(row, 0) == owner; });
  if (auto c = pending_counts_.find(owner); c != pending_counts_.end()) pending_counts_.erase(c);
  return transaction([&] {
    const Value params[] = {std::string(owner)};
    return db_.run(Statement::kArchiveRemoveUser, params) && db_.run(Statement::kArchiveRemoveUsage, params);
  });
}

std::int64_t ArchiveStore::expire(std::int64_t before, std::size_t limit, std::string_view domain) {
  std::int64_t deleted = 0;
  bool ok = transaction([&] {
    std::vector<store::Row> owners;
    const Value params[] = {before, static_cast<std::int64_t>(limit)};
    const Value in_domain[] = {"@" + std::string(domain), before, static_cast<std::int64_t>(limit)};
    if (domain.empty() ? !db_.run(Statement::kArchiveExpire, params, &owners)
                       : !db_.run(Statement::kArchiveExpireDomain, in_domain, &owners))
      return false;
    std::map<std::string, std::int64_t> per_owner;
    for (const store::Row& row : owners) ++per_owner[store::text(row, 0)];
    for (const auto& [owner, n] : per_owner)
      if (!subtract(owner, n)) return false;
    deleted = static_cast<std::int64_t>(owners.size());
    return true;
  });
  return ok ? deleted : -1;
}

std::optional<ArchiveStore::Usage> ArchiveStore::usage(std::int64_t now) {
  if (usage_ && now - usage_read_ < kUsageInterval && now >= usage_read_) return usage_;
  std::vector<store::Row> rows;
  if (!db_.run(Statement::kArchiveUsageTotal, {}, &rows) || rows.size() != 1) return std::nullopt;
  usage_ = Usage{store::integer(rows[0], 0), store::integer(rows[0], 1)};
  usage_read_ = now;
  return usage_;
}

}  // namespace xmppd::router
