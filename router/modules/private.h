// What the private module (XEP-0049) offers the modules that keep a user's data in private
// XML storage too: bookmarks (XEP-0402 kept in sync with XEP-0048's storage:bookmarks).
// Found in the module table by name ("private"); null when the build has no private module.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "router/item_store.h"
#include "xml/element.h"

namespace xmppd::router {

class ModuleTable;

class PrivateStorage {
 public:
  using Outcome = ItemStore::Outcome;

  // The user's element of namespace `ns` and name `name` as stored; nullopt when there is none.
  virtual std::optional<xml::Element> get(const std::string& bare, std::string_view ns, std::string_view name) = 0;
  // Keeps `element` for the user under its own namespace and name, replacing what was there
  // (an element with no attributes and no content removes it), within the user's
  // max_user_private_bytes: kOverQuota, with nothing written, past it. Written in the open
  // batch of the user store; the caller commits before it acknowledges anything. The
  // listeners are not told: the caller knows, and a module that mirrors its data both ways
  // (bookmarks) does not hear its own write come back.
  virtual Outcome set(const std::string& bare, const xml::Element& element) = 0;
  // Told after a client of the user changed one element of its private storage, once the
  // change is committed: the element as the client set it (empty when it removed it).
  using Listener = std::function<void(const std::string& bare, const xml::Element& element)>;
  virtual void on_change(Listener listener) = 0;

 protected:
  ~PrivateStorage() = default;
};

// The private module's storage, if the table has one.
PrivateStorage* find_private(ModuleTable& table);

}  // namespace xmppd::router
