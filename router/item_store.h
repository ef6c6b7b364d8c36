// What the IM modules keep for each user (private XML, vCards, the block list, PEP nodes and
// items), in the router's user store: one table, one interface, the same batch and savepoints
// as the rest of the store (router/user_store.h). Like the rest, it trusts nothing it stores.
//
// A module names its store ("private", "pep", ...); within it a node (a PEP node, a private
// namespace; "" for a module with one) holds items by id, ordered by when each was last
// written. Limits are checked inside the write, which is all or nothing. Values are text
// (serialized XML), kept as text in both dialects.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "router/user_store.h"

namespace xmppd::router {

class ItemStore {
 public:
  using Outcome = UserStore::Outcome;

  struct Key {
    std::string_view bare, store, node, id;
  };
  struct Item {
    std::string id;
    std::string value;
  };
  // 0 is no limit.
  struct Limits {
    std::size_t max_items = 0;  // in the node
    bool drop_oldest = false;   // past max_items, the oldest go (a PEP node) rather than the write
    std::size_t max_nodes = 0;  // nodes of the user in this store, counting this one
    std::size_t max_bytes = 0;  // all of the user's values in this store, counting this one
  };

  // The items of `store`'s database (its statements are the catalog's, prepared by whoever
  // opened it). `error` is kept for the callers; it cannot fail.
  static std::optional<ItemStore> open(UserStore& store, std::string& error);

  // Writes the item (replacing one of the same id, which becomes the newest); kOverQuota,
  // with nothing written, past a limit.
  Outcome put(const Key& key, std::string_view value, const Limits& limits);
  std::optional<std::string> get(const Key& key);
  // The node's newest `max` items (all when 0), oldest first.
  std::vector<Item> items(std::string_view bare, std::string_view store, std::string_view node, std::size_t max = 0);
  std::vector<std::string> nodes(std::string_view bare, std::string_view store);
  std::size_t count(std::string_view bare, std::string_view store, std::string_view node);
  Outcome remove(const Key& key);
  Outcome remove_node(std::string_view bare, std::string_view store, std::string_view node);
  Outcome remove_store(std::string_view bare, std::string_view store);
  // Runs `body`, whose writes (puts and removes) are then kept all or nothing: rolled back
  // together unless it returns kStored.
  Outcome atomically(const std::function<Outcome()>& body);
  // The users who keep anything in `store`.
  std::vector<std::string> users(std::string_view store);

 private:
  explicit ItemStore(UserStore& store) : store_(&store) {}

  UserStore* store_;
};

}  // namespace xmppd::router
