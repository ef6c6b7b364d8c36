#include "router/item_store.h"

#include <climits>

namespace xmppd::router {
namespace {

using Outcome = ItemStore::Outcome;
using store::Row;
using store::Statement;
using store::Value;

std::int64_t clamp(std::size_t n) {
  return n > static_cast<std::size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(n);
}

Value text(std::string_view s) { return std::string(s); }

}  // namespace

std::optional<ItemStore> ItemStore::open(UserStore& store, std::string& /*error*/) { return ItemStore(store); }

Outcome ItemStore::put(const Key& key, std::string_view value, const Limits& limits) {
  UserStore& s = *store_;
  return s.write("cannot keep an item", [&] {
    if (limits.max_nodes > 0) {
      const std::int64_t exists = s.scalar(Statement::kItemHasNode, {text(key.bare), text(key.store), text(key.node)});
      const std::int64_t nodes = s.scalar(Statement::kItemCountNodes, {text(key.bare), text(key.store)});
      if (exists < 0 || nodes < 0) return Outcome::kFailed;
      if (exists == 0 && nodes + 1 > clamp(limits.max_nodes)) return Outcome::kOverQuota;
    }
    if (limits.max_bytes > 0) {
      const std::int64_t all = s.scalar(Statement::kItemStoreBytes, {text(key.bare), text(key.store)});
      const std::int64_t old =
          s.scalar(Statement::kItemBytes, {text(key.bare), text(key.store), text(key.node), text(key.id)});
      if (all < 0 || old < 0) return Outcome::kFailed;
      if (all - old + clamp(value.size()) > clamp(limits.max_bytes)) return Outcome::kOverQuota;
    }
    // Deleted and inserted again: the item gets a new seq and becomes the node's newest.
    if (!s.run(Statement::kItemDelete, {text(key.bare), text(key.store), text(key.node), text(key.id)}) ||
        !s.run(Statement::kItemInsert, {text(key.bare), text(key.store), text(key.node), text(key.id), text(value)}))
      return Outcome::kFailed;
    if (limits.max_items > 0) {
      const std::int64_t items = s.scalar(Statement::kItemCount, {text(key.bare), text(key.store), text(key.node)});
      if (items < 0) return Outcome::kFailed;
      if (items > clamp(limits.max_items)) {
        if (!limits.drop_oldest) return Outcome::kOverQuota;
        if (!s.run(Statement::kItemTrim, {text(key.bare), text(key.store), text(key.node), clamp(limits.max_items)}))
          return Outcome::kFailed;
      }
    }
    return Outcome::kStored;
  });
}

std::optional<std::string> ItemStore::get(const Key& key) {
  std::vector<Row> rows;
  if (!store_->run(Statement::kItemSelect, {text(key.bare), text(key.store), text(key.node), text(key.id)}, &rows)) {
    store_->report("cannot read an item");
    return std::nullopt;
  }
  if (rows.empty()) return std::nullopt;
  return store::take_text(rows[0], 0);
}

std::vector<ItemStore::Item> ItemStore::items(std::string_view bare, std::string_view store, std::string_view node,
                                              std::size_t max) {
  std::vector<Item> out;
  std::vector<Row> rows;  // id, value
  if (!store_->run(Statement::kItemSelectNewest,
                   {text(bare), text(store), text(node), max == 0 ? INT64_MAX : clamp(max)}, &rows))
    store_->report("cannot read items");
  out.reserve(rows.size());
  for (Row& row : rows) out.push_back(Item{store::take_text(row, 0), store::take_text(row, 1)});
  return out;
}

namespace {

std::vector<std::string> first_column(std::vector<Row>& rows) {
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (Row& row : rows) out.push_back(store::take_text(row, 0));
  return out;
}

}  // namespace

std::vector<std::string> ItemStore::nodes(std::string_view bare, std::string_view store) {
  std::vector<Row> rows;
  if (!store_->run(Statement::kItemNodes, {text(bare), text(store)}, &rows)) store_->report("cannot read nodes");
  return first_column(rows);
}

std::size_t ItemStore::count(std::string_view bare, std::string_view store, std::string_view node) {
  const std::int64_t n = store_->scalar(Statement::kItemCount, {text(bare), text(store), text(node)});
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

Outcome ItemStore::remove(const Key& key) {
  return store_->write("cannot remove an item", [&] {
    return store_->run(Statement::kItemDelete, {text(key.bare), text(key.store), text(key.node), text(key.id)})
               ? Outcome::kStored
               : Outcome::kFailed;
  });
}

Outcome ItemStore::remove_node(std::string_view bare, std::string_view store, std::string_view node) {
  return store_->write("cannot remove a node", [&] {
    return store_->run(Statement::kItemDeleteNode, {text(bare), text(store), text(node)}) ? Outcome::kStored
                                                                                          : Outcome::kFailed;
  });
}

Outcome ItemStore::remove_store(std::string_view bare, std::string_view store) {
  return store_->write("cannot remove a store", [&] {
    return store_->run(Statement::kItemDeleteStore, {text(bare), text(store)}) ? Outcome::kStored : Outcome::kFailed;
  });
}

// The savepoints of the writes inside nest in this one (UserStore::write).
Outcome ItemStore::atomically(const std::function<Outcome()>& body) {
  return store_->write("cannot keep items together", body);
}

std::vector<std::string> ItemStore::users(std::string_view store) {
  std::vector<Row> rows;
  if (!store_->run(Statement::kItemUsers, {text(store)}, &rows)) store_->report("cannot read an item store's users");
  return first_column(rows);
}

}  // namespace xmppd::router
