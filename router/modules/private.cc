// private (XEP-0049): a user's clients keep arbitrary XML on the server, one element per
// namespace and name, readable and writable by the user's own sessions alone.
//
// Errors, as XEP-0049 names them: another entity's data is `forbidden` (the XEP prefers it
// to service-unavailable, and the server never reveals whether the user stored anything); a
// reserved namespace (jabber:*, http://jabber.org/*, vcard-temp) is `not-acceptable`; a
// query with no element, or a get of more than one, is `bad-request` (XEP-0049's "bad
// format"), and so is a set of elements in more than one namespace (XEP-0049 §2.3: a set
// may hold several elements of the same namespace). Past max_user_private_bytes a set is
// `not-acceptable` (modify) with the limit in its text: XEP-0049 refuses data it will not
// keep with that condition, and the client must store less; resource-constraint would be
// type wait, telling it to try the same set again later, which would fail the same way. A
// set of several elements is kept all or nothing.
#include "router/modules/private.h"

#include <set>
#include <utility>
#include <vector>

#include "common/log.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xml/fragment.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kPrivateNs = "jabber:iq:private";
constexpr std::string_view kStore = "private";

// XEP-0049 §2.3: namespaces reserved in Jabber. An element in none (which a client writes
// when it forgets xmlns) is in jabber:iq:private, hence reserved too.
bool reserved(std::string_view ns) {
  return ns.empty() || ns.starts_with("jabber:") || ns.starts_with("http://jabber.org/") || ns == "vcard-temp";
}

// An element that says nothing: setting it removes what was stored (as Prosody does).
bool empty(const xml::Element& e) {
  if (!e.attributes().empty() || !e.children().empty()) return false;
  for (char c : e.text())
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  return true;
}

class Private final : public Module, public PrivateStorage {
 public:
  explicit Private(const ModuleContext& context) : Module("private", context.index), server_(context.server) {
    context.table.on_iq(IqScope::kAccount, kPrivateNs, "query", *this, [this](const IqRequest& iq) { answer(iq); });
  }
  void server_features(std::vector<std::string>& features) const override { features.emplace_back(kPrivateNs); }

  // PrivateStorage
  std::optional<xml::Element> get(const std::string& bare, std::string_view ns, std::string_view name) override {
    auto value = server_.items().get({bare, kStore, ns, name});
    return value ? parse(bare, *value) : std::nullopt;
  }
  Outcome set(const std::string& bare, const xml::Element& element) override { return write(bare, element); }
  void on_change(Listener listener) override { listeners_.push_back(std::move(listener)); }

 private:
  // What the store holds was serialized here, but the store trusts nothing it keeps.
  static std::optional<xml::Element> parse(const std::string& bare, const std::string& value) {
    std::string error;
    auto element = xml::parse_fragment(value, {}, value.size(), &error);
    if (!element) log::error("private: an element stored for %s does not parse: %s", bare.c_str(), error.c_str());
    return element;
  }

  Outcome write(const std::string& bare, const xml::Element& element) {
    const ItemStore::Key key{bare, kStore, element.ns(), element.name()};
    if (empty(element)) return server_.items().remove(key);
    std::string value;
    element.serialize(value);
    return server_.items().put(key, value, {.max_bytes = server_.quotas().private_bytes});
  }

  void answer(const IqRequest& iq) {
    // XEP-0049 §3: only an authorized resource of the user, never another entity.
    if (iq.session == nullptr || !iq.from_self())
      return server_.bounce(iq.stanza, "cancel", "forbidden", "Private XML storage is for its owner alone");
    const std::vector<const xml::Element*> elements = iq.payload.children();
    if (elements.empty())
      return server_.bounce(iq.stanza, "modify", "bad-request", "The query holds no element to store or retrieve");
    for (const xml::Element* e : elements)
      if (reserved(e->ns()))
        return server_.bounce(iq.stanza, "modify", "not-acceptable",
                              "The namespace '" + e->ns() + "' is reserved (XEP-0049)");
    if (iq.set())
      store(iq, elements);
    else
      retrieve(iq, elements);
  }

  void retrieve(const IqRequest& iq, const std::vector<const xml::Element*>& elements) {
    if (elements.size() != 1)
      return server_.bounce(iq.stanza, "modify", "bad-request", "A get asks for one element (XEP-0049)");
    const xml::Element& wanted = *elements.front();
    const std::string bare = iq.to.bare();
    xml::Element query(kPrivateNs, "query");
    if (auto value = server_.items().get({bare, kStore, wanted.ns(), wanted.name()})) {
      auto stored = parse(bare, *value);
      if (!stored) return server_.bounce(iq.stanza, "wait", "internal-server-error");
      query.add_child(std::move(*stored));
    } else {
      query.add_child(xml::Element(wanted.shared_ns(), wanted.name()));  // nothing stored: the element, empty
    }
    xml::Element result = xmpp::reply(iq.stanza, "result");
    result.add_child(std::move(query));
    server_.send(result);
  }

  // XEP-0049 §2.3: a set may hold several elements of one namespace.
  void store(const IqRequest& iq, const std::vector<const xml::Element*>& elements) {
    std::set<std::string_view> names;
    for (const xml::Element* e : elements) {
      if (e->ns() != elements.front()->ns())
        return server_.bounce(iq.stanza, "modify", "bad-request", "A set stores elements of one namespace (XEP-0049)");
      if (!names.insert(e->name()).second)
        return server_.bounce(iq.stanza, "modify", "bad-request",
                              "The element <" + e->name() + " xmlns='" + e->ns() + "'/> is set twice");
    }
    const std::string bare = iq.to.bare();
    const Outcome outcome = server_.items().atomically([&] {
      for (const xml::Element* e : elements)
        if (Outcome o = write(bare, *e); o != Outcome::kStored) return o;
      return Outcome::kStored;
    });
    if (outcome == Outcome::kOverQuota)
      return server_.bounce(iq.stanza, "modify", "not-acceptable",
                            "Private XML storage keeps at most " + std::to_string(server_.quotas().private_bytes) +
                                " bytes per user; nothing of this set was stored");
    // The result says the data is kept: it is on disk first.
    if (outcome != Outcome::kStored || !server_.store().commit())
      return server_.bounce(iq.stanza, "wait", "internal-server-error");
    server_.send(xmpp::reply(iq.stanza, "result"));
    for (const Listener& listener : listeners_)
      for (const xml::Element* e : elements) listener(bare, *e);
  }

  Server& server_;
  std::vector<Listener> listeners_;
};

}  // namespace

std::unique_ptr<Module> make_private(const ModuleContext& context) { return std::make_unique<Private>(context); }

PrivateStorage* find_private(ModuleTable& table) { return dynamic_cast<Private*>(table.find("private")); }

}  // namespace xmppd::router
