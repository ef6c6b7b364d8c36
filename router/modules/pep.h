// What the pep module (XEP-0163) offers the modules that publish on a user's behalf:
// vcard_legacy (XEP-0398: a vCard photo becomes the XEP-0084 avatar nodes) and bookmarks
// (XEP-0402 kept in sync with XEP-0048 private storage). Found in the module table by name
// ("pep"); null when the build has no pep module.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "router/item_store.h"
#include "xml/element.h"

namespace xmppd::router {

class ModuleTable;

class PepService {
 public:
  using Outcome = ItemStore::Outcome;

  // Publishes `payload` as item `id` of the user's node (created with the default
  // configuration, or with `access_model` when it is given and the node is new), and notifies
  // the subscribers as a publish by the owner would. kOverQuota past the user's limits.
  virtual Outcome publish(const std::string& bare, std::string_view node, std::string_view id,
                          const xml::Element& payload, std::string_view access_model = {}) = 0;
  virtual Outcome retract(const std::string& bare, std::string_view node, std::string_view id) = 0;
  // The payload of item `id`, or of the newest item when `id` is empty.
  virtual std::optional<xml::Element> item(const std::string& bare, std::string_view node,
                                           std::string_view id = {}) = 0;
  // Creates the user's node unless it exists, with `access_model` and, when `max_items` is
  // true, as many items as the user may keep (XEP-0402: one item per bookmark).
  virtual Outcome create_node(const std::string& bare, std::string_view node, std::string_view access_model,
                              bool max_items) = 0;
  // The node's items, oldest first: id and payload.
  virtual std::vector<std::pair<std::string, xml::Element>> items(const std::string& bare, std::string_view node) = 0;
  // Told after every publish and retract on any user's node, whoever made it (the owner's
  // client or a module): XEP-0398 follows the avatar, bookmarks the XEP-0402 node.
  // Whether `who` (a bare JID) may read the items of the user's node by its access model
  // (XEP-0060 §6.1.3); false when the node does not exist. vcard4 serves the node's item
  // through an IQ of its own (XEP-0292) and must not show it to more than PEP would.
  virtual bool may_read(const std::string& bare, std::string_view node, const std::string& who) = 0;
  using Listener = std::function<void(const std::string& bare, std::string_view node, std::string_view id,
                                      const xml::Element* payload /* null: retracted */)>;
  virtual void on_change(Listener listener) = 0;

 protected:
  ~PepService() = default;
};

// The pep module's service, if the table has one.
PepService* find_pep(ModuleTable& table);

}  // namespace xmppd::router
