#include "router/item_store.h"

#include <sqlite3.h>

#include <climits>

namespace xmppd::router {
namespace {

using sqlite::bind_blob;
using sqlite::bind_int;
using sqlite::bind_text;
using sqlite::column_blob;
using sqlite::column_text;
using sqlite::Use;
using Outcome = ItemStore::Outcome;

std::int64_t clamp(std::size_t n) {
  return n > static_cast<std::size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(n);
}

bool bind_texts(sqlite3_stmt* s, std::initializer_list<std::string_view> texts) {
  int i = 1;
  for (std::string_view t : texts)
    if (!bind_text(s, i++, t)) return false;
  return true;
}

}  // namespace

std::optional<ItemStore> ItemStore::open(UserStore& store, std::string& error) {
  ItemStore items(store);
  sqlite3* db = store.database();
  const std::pair<sqlite::Statement*, std::string_view> all[] = {
      {&items.upsert_, "INSERT OR REPLACE INTO item (bare, store, node, id, value) VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&items.select_, "SELECT value FROM item WHERE bare = ?1 AND store = ?2 AND node = ?3 AND id = ?4"},
      {&items.select_items_,
       "SELECT id, value FROM (SELECT seq, id, value FROM item WHERE bare = ?1 AND store = ?2 AND node = ?3 "
       "ORDER BY seq DESC LIMIT ?4) ORDER BY seq"},
      {&items.select_nodes_, "SELECT DISTINCT node FROM item WHERE bare = ?1 AND store = ?2 ORDER BY node"},
      {&items.count_items_, "SELECT count(*) FROM item WHERE bare = ?1 AND store = ?2 AND node = ?3"},
      {&items.count_nodes_, "SELECT count(DISTINCT node) FROM item WHERE bare = ?1 AND store = ?2"},
      {&items.has_node_, "SELECT count(*) FROM item WHERE bare = ?1 AND store = ?2 AND node = ?3 LIMIT 1"},
      {&items.bytes_, "SELECT coalesce(sum(length(value)), 0) FROM item WHERE bare = ?1 AND store = ?2"},
      {&items.item_bytes_,
       "SELECT coalesce(sum(length(value)), 0) FROM item WHERE bare = ?1 AND store = ?2 AND node = ?3 AND id = ?4"},
      {&items.trim_,
       "DELETE FROM item WHERE seq IN (SELECT seq FROM item WHERE bare = ?1 AND store = ?2 AND node = ?3 "
       "ORDER BY seq DESC LIMIT -1 OFFSET ?4)"},
      {&items.delete_, "DELETE FROM item WHERE bare = ?1 AND store = ?2 AND node = ?3 AND id = ?4"},
      {&items.delete_node_, "DELETE FROM item WHERE bare = ?1 AND store = ?2 AND node = ?3"},
      {&items.delete_store_, "DELETE FROM item WHERE bare = ?1 AND store = ?2"},
  };
  for (const auto& [statement, sql] : all) {
    *statement = sqlite::prepare(db, sql);
    if (!*statement) {
      error = "user store: " + std::string(sql) + ": " + sqlite3_errmsg(db);
      return std::nullopt;
    }
  }
  return items;
}

// The first column of the first row, or -1 when the statement failed.
std::int64_t ItemStore::scalar(sqlite3_stmt* s, std::initializer_list<std::string_view> texts) {
  const Use use(s);
  if (!bind_texts(s, texts) || sqlite3_step(s) != SQLITE_ROW) return -1;
  return sqlite3_column_int64(s, 0);
}

Outcome ItemStore::put(const Key& key, std::string_view value, const Limits& limits) {
  return store_->write("cannot keep an item", [&] {
    if (limits.max_nodes > 0) {
      const std::int64_t exists = scalar(has_node_.get(), {key.bare, key.store, key.node});
      const std::int64_t nodes = scalar(count_nodes_.get(), {key.bare, key.store});
      if (exists < 0 || nodes < 0) return Outcome::kFailed;
      if (exists == 0 && nodes + 1 > clamp(limits.max_nodes)) return Outcome::kOverQuota;
    }
    if (limits.max_bytes > 0) {
      const std::int64_t all = scalar(bytes_.get(), {key.bare, key.store});
      const std::int64_t old = scalar(item_bytes_.get(), {key.bare, key.store, key.node, key.id});
      if (all < 0 || old < 0) return Outcome::kFailed;
      if (all - old + clamp(value.size()) > clamp(limits.max_bytes)) return Outcome::kOverQuota;
    }
    {
      sqlite3_stmt* s = upsert_.get();
      const Use use(s);
      if (!bind_texts(s, {key.bare, key.store, key.node, key.id}) || !bind_blob(s, 5, value) ||
          sqlite3_step(s) != SQLITE_DONE)
        return Outcome::kFailed;
    }
    if (limits.max_items > 0) {
      const std::int64_t items = scalar(count_items_.get(), {key.bare, key.store, key.node});
      if (items < 0) return Outcome::kFailed;
      if (items > clamp(limits.max_items)) {
        if (!limits.drop_oldest) return Outcome::kOverQuota;
        sqlite3_stmt* s = trim_.get();
        const Use use(s);
        if (!bind_texts(s, {key.bare, key.store, key.node}) || !bind_int(s, 4, clamp(limits.max_items)) ||
            sqlite3_step(s) != SQLITE_DONE)
          return Outcome::kFailed;
      }
    }
    return Outcome::kStored;
  });
}

std::optional<std::string> ItemStore::get(const Key& key) {
  sqlite3_stmt* s = select_.get();
  const Use use(s);
  if (!bind_texts(s, {key.bare, key.store, key.node, key.id}) || sqlite3_step(s) != SQLITE_ROW) return std::nullopt;
  return column_blob(s, 0);
}

std::vector<ItemStore::Item> ItemStore::items(std::string_view bare, std::string_view store, std::string_view node,
                                              std::size_t max) {
  std::vector<Item> out;
  sqlite3_stmt* s = select_items_.get();
  const Use use(s);
  if (!bind_texts(s, {bare, store, node}) || !bind_int(s, 4, max == 0 ? -1 : clamp(max))) return out;
  while (sqlite3_step(s) == SQLITE_ROW) out.push_back(Item{column_text(s, 0), column_blob(s, 1)});
  return out;
}

std::vector<std::string> ItemStore::nodes(std::string_view bare, std::string_view store) {
  std::vector<std::string> out;
  sqlite3_stmt* s = select_nodes_.get();
  const Use use(s);
  if (!bind_texts(s, {bare, store})) return out;
  while (sqlite3_step(s) == SQLITE_ROW) out.push_back(column_text(s, 0));
  return out;
}

std::size_t ItemStore::count(std::string_view bare, std::string_view store, std::string_view node) {
  const std::int64_t n = scalar(count_items_.get(), {bare, store, node});
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

namespace {

Outcome run_delete(sqlite3_stmt* s, std::initializer_list<std::string_view> texts) {
  const Use use(s);
  return bind_texts(s, texts) && sqlite3_step(s) == SQLITE_DONE ? Outcome::kStored : Outcome::kFailed;
}

}  // namespace

Outcome ItemStore::remove(const Key& key) {
  return store_->write("cannot remove an item",
                       [&] { return run_delete(delete_.get(), {key.bare, key.store, key.node, key.id}); });
}

Outcome ItemStore::remove_node(std::string_view bare, std::string_view store, std::string_view node) {
  return store_->write("cannot remove a node", [&] { return run_delete(delete_node_.get(), {bare, store, node}); });
}

Outcome ItemStore::remove_store(std::string_view bare, std::string_view store) {
  return store_->write("cannot remove a store", [&] { return run_delete(delete_store_.get(), {bare, store}); });
}

}  // namespace xmppd::router
