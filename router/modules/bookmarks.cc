// bookmarks (XEP-0402, kept in sync with XEP-0048 as Prosody's mod_bookmarks does): a user's
// bookmarks live in the PEP node urn:xmpp:bookmarks:1, one item per conference (whitelist
// access, as many items as the user may keep); XEP-0048's storage:bookmarks element, in
// private XML storage (XEP-0049) and in the legacy PEP node storage:bookmarks, mirrors it. A
// change on any of the three, by a client or a module, is written to the other two.
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/modules/pep.h"
#include "router/modules/private.h"
#include "router/server.h"
#include "common/log.h"

#include <map>

namespace xmppd::router {
namespace {

constexpr std::string_view kNode = "urn:xmpp:bookmarks:1";
constexpr std::string_view kLegacy = "storage:bookmarks";

bool truthy(std::string_view v) { return v == "1" || v == "true"; }

// The text of child `name` of `e`, if it has one.
const xml::Element* child(const xml::Element& e, std::string_view name) {
  for (const xml::Element* c : e.children())
    if (c->name() == name) return c;
  return nullptr;
}

// XEP-0402 §3: an item's payload for a XEP-0048 <conference/>.
xml::Element from_legacy(const xml::Element& conference) {
  xml::Element out(kNode, "conference");
  if (const std::string* name = conference.attribute("name")) out.set_attribute("name", *name);
  if (truthy(conference.attribute_or("autojoin"))) out.set_attribute("autojoin", "true");
  for (std::string_view field : {"nick", "password"}) {
    if (const xml::Element* c = child(conference, field)) {
      xml::Element e(kNode, std::string(field));
      e.add_text(c->text());
      out.add_child(std::move(e));
    }
  }
  return out;
}

// XEP-0048 §3.2: a <conference/> for an item of the XEP-0402 node.
xml::Element to_legacy(const std::string& jid, const xml::Element& conference) {
  xml::Element out(kLegacy, "conference");
  out.set_attribute("jid", jid);
  if (const std::string* name = conference.attribute("name")) out.set_attribute("name", *name);
  out.set_attribute("autojoin", truthy(conference.attribute_or("autojoin")) ? "true" : "false");
  for (std::string_view field : {"nick", "password"}) {
    if (const xml::Element* c = child(conference, field)) {
      xml::Element e(kLegacy, std::string(field));
      e.add_text(c->text());
      out.add_child(std::move(e));
    }
  }
  return out;
}

std::string text_of(const xml::Element& e) {
  std::string out;
  e.serialize(out);
  return out;
}

class Bookmarks final : public Module {
 public:
  explicit Bookmarks(const ModuleContext& context)
      : Module("bookmarks", context.index), server_(context.server), pep_(find_pep(context.table)),
        private_(find_private(context.table)) {
    if (pep_ != nullptr)
      pep_->on_change([this](const std::string& bare, std::string_view node, std::string_view, const xml::Element*) {
        if (node == kNode || node == kLegacy) pep_changed(bare, node);
      });
    if (private_ != nullptr)
      private_->on_change([this](const std::string& bare, const xml::Element& element) {
        if (element.is(kLegacy, "storage")) private_changed(bare, element);
      });
  }
  void account_features(std::vector<std::string>& features) const override {
    // XEP-0402 §5.3: the server keeps XEP-0048's storage in sync.
    features.push_back(std::string(kNode) + "#compat");
    features.push_back(std::string(kNode) + "#compat-pep");
  }

 private:
  bool enabled_for(const std::string& bare) const {
    const HostConfig* host = server_.host(bare.substr(bare.find('@') + 1));
    return host != nullptr && enabled(host->modules);
  }

  // The writes of a sync do not start another.
  struct Guard {
    explicit Guard(bool& flag) : flag_(flag) { flag_ = true; }
    ~Guard() { flag_ = false; }
    bool& flag_;
  };

  void pep_changed(const std::string& bare, std::string_view node) {
    if (syncing_ || !enabled_for(bare)) return;
    Guard guard(syncing_);
    if (node == kNode) {
      xml::Element storage = storage_of(bare);
      write_private(bare, storage);
      write_legacy_pep(bare, storage);
    } else {
      auto storage = pep_->item(bare, kLegacy);
      xml::Element empty(kLegacy, "storage");
      const xml::Element& s = storage && storage->is(kLegacy, "storage") ? *storage : empty;
      write_node(bare, s);
      write_private(bare, s);
    }
  }

  void private_changed(const std::string& bare, const xml::Element& storage) {
    if (syncing_ || pep_ == nullptr || !enabled_for(bare)) return;
    Guard guard(syncing_);
    write_node(bare, storage);
    write_legacy_pep(bare, storage);
  }

  // XEP-0048's storage element for the items of the XEP-0402 node.
  xml::Element storage_of(const std::string& bare) {
    xml::Element storage(kLegacy, "storage");
    for (const auto& [id, payload] : pep_->items(bare, kNode))
      if (payload.is(kNode, "conference")) storage.add_child(to_legacy(id, payload));
    return storage;
  }

  // The XEP-0402 node made to hold the conferences of `storage`, and nothing else.
  void write_node(const std::string& bare, const xml::Element& storage) {
    std::map<std::string, xml::Element> wanted;
    for (const xml::Element* c : storage.children()) {
      if (!c->is(kLegacy, "conference")) continue;
      auto jid = xmpp::Jid::parse(c->attribute_or("jid"));
      if (jid) wanted.insert_or_assign(jid->full(), from_legacy(*c));
    }
    // More than a node keeps (pep_max_items): the node is left as it is rather than cut to
    // its newest, which the next change on its side would then write back over storage.
    if (wanted.size() > server_.quotas().pep_items) {
      log::notice("bookmarks of %s: %zu conferences, more than pep_max_items; the XEP-0402 node is not updated",
                  bare.c_str(), wanted.size());
      return;
    }
    if (pep_->create_node(bare, kNode, "whitelist", true) != PepService::Outcome::kStored) {
      log::error("bookmarks of %s: the XEP-0402 node could not be created", bare.c_str());
      return;
    }
    std::map<std::string, std::string> existing;
    for (const auto& [id, payload] : pep_->items(bare, kNode)) existing.emplace(id, text_of(payload));
    for (const auto& [id, text] : existing)
      if (wanted.count(id) == 0) pep_->retract(bare, kNode, id);
    for (const auto& [id, conference] : wanted) {
      auto it = existing.find(id);
      if (it != existing.end() && it->second == text_of(conference)) continue;
      if (pep_->publish(bare, kNode, id, conference, "whitelist") != PepService::Outcome::kStored)
        log::error("bookmarks of %s: %s could not be kept in the XEP-0402 node", bare.c_str(), id.c_str());
    }
  }

  void write_private(const std::string& bare, const xml::Element& storage) {
    if (private_ == nullptr) return;
    if (private_->set(bare, storage) != PrivateStorage::Outcome::kStored)
      log::error("bookmarks of %s: could not be mirrored in private XML storage", bare.c_str());
  }

  void write_legacy_pep(const std::string& bare, const xml::Element& storage) {
    if (pep_->publish(bare, kLegacy, "current", storage, "whitelist") != PepService::Outcome::kStored)
      log::error("bookmarks of %s: could not be mirrored in the storage:bookmarks node", bare.c_str());
  }

  Server& server_;
  PepService* pep_;
  PrivateStorage* private_;
  bool syncing_ = false;
};

}  // namespace

std::unique_ptr<Module> make_bookmarks(const ModuleContext& context) { return std::make_unique<Bookmarks>(context); }

}  // namespace xmppd::router
