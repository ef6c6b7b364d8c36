#include "router/roster.h"

#include <optional>

#include "router/c2s_stream.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

using xmpp::kClientNs;
constexpr std::string_view kRosterNs = "jabber:iq:roster";

bool has_to(const std::string& s) { return s == "to" || s == "both"; }
bool has_from(const std::string& s) { return s == "from" || s == "both"; }
std::string combine(bool to, bool from) { return to && from ? "both" : to ? "to" : from ? "from" : "none"; }

xml::Element item_element(const UserStore::RosterItem& item, bool removed) {
  xml::Element e(std::string(kRosterNs), "item");
  e.set_attribute("jid", item.contact);
  if (removed) {
    e.set_attribute("subscription", "remove");
    return e;
  }
  if (!item.name.empty()) e.set_attribute("name", item.name);
  e.set_attribute("subscription", item.subscription);
  if (item.ask) e.set_attribute("ask", "subscribe");
  if (item.approved) e.set_attribute("approved", "true");
  for (const std::string& g : item.groups) {
    xml::Element group(std::string(kRosterNs), "group");
    group.add_text(g);
    e.add_child(std::move(group));
  }
  return e;
}

// What a kept request may carry besides its addresses: its <status/> and XEP-0172 nick,
// each cut to this many bytes. A whole stanza (up to s2s_stanza_size_limit) is not kept.
constexpr std::size_t kMaxRequestText = 1024;
constexpr std::string_view kNickNs = "http://jabber.org/protocol/nick";

// Cut at a UTF-8 character boundary.
std::string truncated(std::string text) {
  if (text.size() <= kMaxRequestText) return text;
  std::size_t end = kMaxRequestText;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

xml::Element presence(std::string_view from, std::string_view to, std::string_view type) {
  xml::Element p(std::string(kClientNs), "presence");
  p.set_attribute("from", std::string(from));
  p.set_attribute("to", std::string(to));
  if (!type.empty()) p.set_attribute("type", std::string(type));
  return p;
}

// The request as kept for delivery at the user's next logins (RFC 6121 §3.1.3).
xml::Element reduced_request(const xml::Element& p, const std::string& contact, const std::string& user) {
  xml::Element kept = presence(contact, user, "subscribe");
  if (const xml::Element* status = p.child(kClientNs, "status")) {
    xml::Element s(std::string(kClientNs), "status");
    s.add_text(truncated(status->text()));
    kept.add_child(std::move(s));
  }
  if (const xml::Element* nick = p.child(kNickNs, "nick")) {
    xml::Element n(std::string(kNickNs), "nick");
    n.add_text(truncated(nick->text()));
    kept.add_child(std::move(n));
  }
  return kept;
}

}  // namespace

Im::Item Im::item(const std::string& bare, const std::string& contact) {
  if (store_ != nullptr)
    if (auto found = store_->roster_item(bare, contact)) return *found;
  Item fresh;
  fresh.contact = contact;
  return fresh;
}

UserStore::Outcome Im::save(const std::string& bare, const Item& item) {
  if (store_ == nullptr) return UserStore::Outcome::kFailed;
  std::int64_t version = 0;
  UserStore::Outcome outcome = store_->set_roster_item(bare, item, quotas_.roster_items, &version);
  if (outcome == UserStore::Outcome::kStored) push(bare, item, false, version);
  return outcome;
}

// A roster push (RFC 6121 §2.1.6) to every resource that asked for the roster.
void Im::push(const std::string& bare, const Item& item, bool removed, std::int64_t version) {
  for (ClientStream* s : sessions_.resources(bare)) {
    if (!s->interested()) continue;
    xml::Element iq(std::string(kClientNs), "iq");
    iq.set_attribute("type", "set");
    iq.set_attribute("to", s->full());
    iq.set_attribute("id", "push" + std::to_string(version));
    xml::Element query(std::string(kRosterNs), "query");
    query.set_attribute("ver", std::to_string(version));
    query.add_child(item_element(item, removed));
    iq.add_child(std::move(query));
    s->deliver(iq);
  }
}

void Im::roster_iq(ClientStream& from, const xml::Element& iq) {
  const xml::Element* query = iq.child(kRosterNs, "query");
  const std::string* type = iq.attribute("type");
  if (store_ == nullptr || query == nullptr || type == nullptr) return;
  if (*type == "get") {
    from.set_interested();
    std::string current = std::to_string(store_->roster_version(from.bare()));
    xml::Element result = xmpp::reply(iq, "result");
    // XEP-0237: a client that has this version already gets an empty result.
    const std::string* ver = query->attribute("ver");
    if (ver == nullptr || *ver != current) {
      xml::Element out(std::string(kRosterNs), "query");
      out.set_attribute("ver", current);
      for (const Item& i : store_->roster(from.bare())) out.add_child(item_element(i, false));
      result.add_child(std::move(out));
    }
    from.deliver(result);
    return;
  }
  if (*type != "set") return;
  auto items = query->children();
  const std::string* jid_text = items.size() == 1 ? items[0]->attribute("jid") : nullptr;
  auto contact = jid_text ? xmpp::Jid::parse(*jid_text) : std::nullopt;
  if (!contact || contact->has_resource() || contact->bare() == from.bare()) {
    from.deliver(xmpp::error_reply(iq, "modify", "bad-request"));
    return;
  }
  const xml::Element& wanted = *items[0];
  const std::string* subscription = wanted.attribute("subscription");
  if (subscription != nullptr && *subscription == "remove") {
    Item old = item(from.bare(), contact->bare());
    // Removing a contact ends the subscriptions both ways (RFC 6121 §2.5.2).
    if (has_to(old.subscription) || old.ask)
      outbound_presence(from, presence(from.full(), contact->bare(), "unsubscribe"), *contact);
    if (has_from(old.subscription))
      outbound_presence(from, presence(from.full(), contact->bare(), "unsubscribed"), *contact);
    std::int64_t version = 0;
    if (store_->remove_roster_item(from.bare(), contact->bare(), &version) != UserStore::Outcome::kStored) {
      from.deliver(xmpp::error_reply(iq, "wait", "internal-server-error"));
      return;
    }
    push(from.bare(), old, true, version);
  } else {
    Item updated = item(from.bare(), contact->bare());
    const std::string* name = wanted.attribute("name");
    updated.name = name ? *name : "";
    updated.groups.clear();
    for (const xml::Element* g : wanted.children()) {
      std::string group = g->text();
      if (!g->is(kRosterNs, "group") || group.empty()) {
        from.deliver(xmpp::error_reply(iq, "modify", "bad-request"));
        return;
      }
      for (const std::string& existing : updated.groups)
        if (existing == group) {
          from.deliver(xmpp::error_reply(iq, "modify", "bad-request"));
          return;
        }
      updated.groups.push_back(group);
    }
    UserStore::Outcome outcome = save(from.bare(), updated);
    if (outcome == UserStore::Outcome::kOverQuota) {
      from.deliver(xmpp::error_reply(iq, "modify", "policy-violation",
                                     "Your roster has " + std::to_string(quotas_.roster_items) +
                                         " items, the most this server keeps"));
      return;
    }
    if (outcome != UserStore::Outcome::kStored) {
      from.deliver(xmpp::error_reply(iq, "wait", "internal-server-error"));
      return;
    }
  }
  // The result tells the client its roster changed: the change is on disk first.
  if (!store_->commit()) {
    from.deliver(xmpp::error_reply(iq, "wait", "internal-server-error"));
    return;
  }
  from.deliver(xmpp::reply(iq, "result"));
}

bool Im::is_local(const std::string& jid) const {
  auto parsed = xmpp::Jid::parse(jid);
  return parsed && network_.is_local(parsed->domain());
}

// A presence on a local user's behalf, to its 'to': the recipient's half runs here when the
// recipient is local; otherwise it goes to the recipient's server.
bool Im::send(const xml::Element& p) {
  const std::string* to_text = p.attribute("to");
  auto to = to_text != nullptr ? xmpp::Jid::parse(*to_text) : std::nullopt;
  if (!to) return false;
  // A local recipient's half checks the filters itself (inbound_presence).
  if (!network_.is_local(to->domain())) return network_.presence_filtered(p, *to) || network_.send_remote(p);
  inbound_presence(p, *to);
  return true;
}

void Im::deliver_to_available(const std::string& bare, const xml::Element& stanza) {
  for (ClientStream* s : sessions_.resources(bare))
    if (s->available()) s->deliver(stanza);
}

// The current presence of every available resource of `user`, or that each is gone, for `to`.
void Im::send_presence_of(const std::string& user, const std::string& to, bool available) {
  for (ClientStream* s : sessions_.resources(user)) {
    if (!s->available()) continue;
    xml::Element p = available ? s->last_presence() : presence(s->full(), to, "unavailable");
    p.set_attribute("to", to);
    send(p);
  }
}

bool Im::outbound_presence(ClientStream& from, const xml::Element& p, const xmpp::Jid& to) {
  const std::string* type = p.attribute("type");
  std::string t = type ? *type : "";
  if (t == "subscribe" || t == "subscribed" || t == "unsubscribe" || t == "unsubscribed")
    return subscription(from, t, to.bare(), p);
  // Directed presence: delivered as it is, and remembered so the recipient hears when this
  // session goes unavailable (RFC 6121 §4.6.3). What is remembered is bounded per session.
  if (t.empty()) {
    if (from.directed().size() >= quotas_.directed_presences && from.directed().count(to.full()) == 0) {
      from.deliver(xmpp::error_reply(p, "wait", "resource-constraint",
                                     "This session has sent directed presence to " +
                                         std::to_string(quotas_.directed_presences) +
                                         " addresses, the most this server tracks"));
      return true;
    }
    from.directed().insert(to.full());
  } else if (t == "unavailable")
    from.directed().erase(to.full());
  return send(p);
}

bool Im::inbound_presence(const xml::Element& p, const xmpp::Jid& to) {
  if (!to.has_local()) return false;  // the server itself has no presence to share
  // Either end may block the other (XEP-0191): presence of every type is dropped then.
  if (network_.presence_filtered(p, to)) return false;
  const std::string* type = p.attribute("type");
  std::string t = type ? *type : "";
  const std::string* from_text = p.attribute("from");  // stamped by this server or checked by S2sLink
  auto from = from_text != nullptr ? xmpp::Jid::parse(*from_text) : std::nullopt;
  if (!from) return false;
  if (t == "subscribe" || t == "subscribed" || t == "unsubscribe" || t == "unsubscribed") {
    // A request that could not be kept goes back to its sender, local or remote: past the
    // user's quota, or the store failed (and the sender may try again later).
    const Outcome outcome = subscription_in(from->bare(), t, to.bare(), p);
    if (outcome == Outcome::kOverQuota)
      send(xmpp::error_reply(p, "wait", "resource-constraint",
                             "The contact has too many subscription requests waiting"));
    else if (outcome == Outcome::kFailed)
      send(xmpp::error_reply(p, "wait", "internal-server-error"));
  } else if (t == "probe") {
    answer_probe(*from, to.bare());
  } else if (to.has_resource()) {
    if (ClientStream* s = sessions_.find(to.bare(), to.resource())) s->deliver(p);
  } else {
    deliver_to_available(to.bare(), p);
  }
  return true;
}

// RFC 6121 §3: the user's roster changes, then the stanza, stamped with the user's bare JID,
// goes to the contact, whose half runs here or on the contact's server.
bool Im::subscription(ClientStream& from, const std::string& type, const std::string& contact,
                      const xml::Element& p) {
  const std::string& user = from.bare();
  bool had_from = has_from(item(user, contact).subscription);
  if (subscription_out(from, type, contact, p) != Out::kPass) return true;
  xml::Element stamped = p;
  stamped.set_attribute("from", user);
  stamped.set_attribute("to", contact);
  if (!send(stamped)) return false;
  // The contact learns the user's presence, or that it is gone (RFC 6121 §3.1.5, §3.2.2); a
  // refused request learns nothing.
  if (type == "subscribed") send_presence_of(user, contact, true);
  if (type == "unsubscribed" && had_from) send_presence_of(user, contact, false);
  return true;
}

// Whether `contact` asked to see `user`'s presence and has no answer yet: a request kept
// here, or, for a local contact, its own roster's pending ask.
bool Im::pending_request(const std::string& user, const std::string& contact) {
  if (store_ != nullptr && store_->has_subscription_request(user, contact)) return true;
  return is_local(contact) && item(contact, user).ask;
}

// The sender's half (RFC 6121 §3.1.2, §3.1.5, §3.3.2, §3.2.2): kDrop when the stanza changes
// nothing and is not passed on, kRefused when it was answered with an error.
Im::Out Im::subscription_out(ClientStream& from, const std::string& type, const std::string& contact,
                             const xml::Element& p) {
  const std::string& user = from.bare();
  Item mine = item(user, contact);
  const auto saved = [&](const Item& changed) {
    UserStore::Outcome outcome = save(user, changed);
    if (outcome == UserStore::Outcome::kStored) return true;
    if (outcome == UserStore::Outcome::kOverQuota)
      from.deliver(xmpp::error_reply(p, "modify", "policy-violation",
                                     "Your roster has " + std::to_string(quotas_.roster_items) +
                                         " items, the most this server keeps"));
    else
      from.deliver(xmpp::error_reply(p, "wait", "internal-server-error"));
    return false;
  };
  if (type == "subscribe") {
    if (!has_to(mine.subscription) && !mine.ask) {
      mine.ask = true;
      if (!saved(mine)) return Out::kRefused;
    }
    return Out::kPass;
  }
  if (type == "subscribed") {
    if (has_from(mine.subscription)) {
      if (store_ != nullptr) store_->delete_subscription_request(user, contact);
      return Out::kDrop;
    }
    // Without a request to answer it is a pre-approval (RFC 6121 §3.4.2): kept in the
    // roster, and not sent; the contact's request, when it comes, is approved at once.
    if (!pending_request(user, contact)) {
      if (mine.approved) return Out::kDrop;
      mine.approved = true;
      return saved(mine) ? Out::kDrop : Out::kRefused;
    }
    mine.subscription = combine(has_to(mine.subscription), true);
    mine.approved = false;
    if (!saved(mine)) return Out::kRefused;
    if (store_ != nullptr) store_->delete_subscription_request(user, contact);
    return Out::kPass;
  }
  if (type == "unsubscribe") {
    if (!has_to(mine.subscription) && !mine.ask) return Out::kDrop;
    mine.ask = false;
    mine.subscription = combine(false, has_from(mine.subscription));
    return saved(mine) ? Out::kPass : Out::kRefused;
  }
  // unsubscribed: the user withdraws the contact's subscription or a pre-approval (RFC 6121
  // §3.4.3), or refuses its request.
  if (store_ != nullptr) store_->delete_subscription_request(user, contact);
  if (mine.approved) {
    mine.approved = false;
    if (!saved(mine)) return Out::kRefused;
  }
  if (has_from(mine.subscription)) {
    mine.subscription = combine(has_to(mine.subscription), false);
    return saved(mine) ? Out::kPass : Out::kRefused;
  }
  // A request may have been delivered without being kept: only the contact's server knows
  // (this one, for a local contact).
  return !is_local(contact) || item(contact, user).ask ? Out::kPass : Out::kDrop;
}

// The recipient's half (RFC 6121 §3.1.3, §3.1.6, §3.3.3, §3.2.3): `contact` sent it to
// local `user`. What does not match the user's roster is ignored, so another server cannot
// subscribe itself to a user's presence or plant roster items.
Im::Outcome Im::subscription_in(const std::string& contact, const std::string& type, const std::string& user,
                                const xml::Element& p) {
  Item mine = item(user, contact);
  xml::Element stamped = p;
  stamped.set_attribute("from", contact);
  stamped.set_attribute("to", user);
  if (type == "subscribe") {
    if (has_from(mine.subscription)) {
      // Already approved: the server answers at once.
      send(presence(user, contact, "subscribed"));
      send_presence_of(user, contact, true);
      return Outcome::kStored;
    }
    if (mine.approved) {
      // Pre-approved (RFC 6121 §3.4.2): approved now, without asking the user again.
      mine.approved = false;
      mine.subscription = combine(has_to(mine.subscription), true);
      const Outcome outcome = save(user, mine);
      if (outcome != Outcome::kStored) return outcome;
      send(presence(user, contact, "subscribed"));
      send_presence_of(user, contact, true);
      return Outcome::kStored;
    }
    // Kept until the user answers, online or not: it is delivered again at each login, and
    // it is what a later 'subscribed' from the user answers. Only its status and nick are kept.
    if (store_ != nullptr) {
      std::string serialized;
      reduced_request(p, contact, user).serialize(serialized, kClientNs);
      const Outcome outcome =
          store_->store_subscription_request(user, contact, serialized, quotas_.pending_subscriptions);
      if (outcome != Outcome::kStored) return outcome;
    }
    deliver_to_available(user, stamped);
    return Outcome::kStored;
  }
  if (type == "subscribed") {
    if (!mine.ask) return Outcome::kStored;  // only the answer to a request of the user's
    mine.ask = false;
    mine.subscription = combine(true, has_from(mine.subscription));
    if (save(user, mine) == Outcome::kStored) deliver_to_available(user, stamped);
    return Outcome::kStored;
  }
  if (type == "unsubscribe") {
    if (store_ != nullptr) store_->delete_subscription_request(user, contact);
    if (!has_from(mine.subscription)) return Outcome::kStored;
    mine.subscription = combine(has_to(mine.subscription), false);
    save(user, mine);
    deliver_to_available(user, stamped);
    send_presence_of(user, contact, false);
    return Outcome::kStored;
  }
  // unsubscribed: the contact ended the user's subscription or refused the request.
  if (!has_to(mine.subscription) && !mine.ask) return Outcome::kStored;
  mine.ask = false;
  mine.subscription = combine(false, has_from(mine.subscription));
  save(user, mine);
  deliver_to_available(user, stamped);
  return Outcome::kStored;
}

// RFC 6121 §4.3.2: a subscriber gets the presence of each available resource, or
// unavailable; anyone else is told it has no subscription (and learns nothing more, not
// even whether the account exists).
void Im::answer_probe(const xmpp::Jid& prober, const std::string& user) {
  if (!has_from(item(user, prober.bare()).subscription)) {
    send(presence(user, prober.bare(), "unsubscribed"));
    return;
  }
  bool available = false;
  for (ClientStream* s : sessions_.resources(user)) available |= s->available();
  if (available)
    send_presence_of(user, prober.full(), true);
  else
    send(presence(user, prober.full(), "unavailable"));
}

// RFC 6121 §4.2.2, §4.4.2: to contacts with a subscription from the user, here or on other
// servers, and the user's other resources.
void Im::broadcast(ClientStream& from, const xml::Element& p) {
  const std::string* type = p.attribute("type");
  if (type != nullptr && *type == "unavailable") {
    for (const std::string& to : from.directed()) {
      xml::Element copy = p;
      copy.set_attribute("to", to);
      send(copy);
    }
    from.directed().clear();
  }
  for (ClientStream* s : sessions_.resources(from.bare()))
    if (s != &from && s->available()) s->deliver(p);
  if (store_ == nullptr) return;
  for (const Item& i : store_->roster(from.bare())) {
    if (!has_from(i.subscription)) continue;
    xml::Element copy = p;
    copy.set_attribute("to", i.contact);
    send(copy);
  }
}

void Im::initial_presence(ClientStream& stream) {
  if (store_ == nullptr) return;
  std::optional<xmpp::Jid> self;  // parsed for the first local contact's presence
  for (const Item& i : store_->roster(stream.bare())) {
    if (!has_to(i.subscription)) continue;
    // A remote contact's server is asked (RFC 6121 §4.3.1); its answers go to the bare JID.
    if (!is_local(i.contact)) {
      send(presence(stream.bare(), i.contact, "probe"));
      continue;
    }
    // A local contact's presence is known here.
    for (ClientStream* s : sessions_.resources(i.contact)) {
      if (!s->available()) continue;
      xml::Element p = s->last_presence();
      p.set_attribute("to", stream.full());
      if (!self) self = xmpp::Jid::parse(stream.full());
      if (self && network_.presence_filtered(p, *self)) continue;
      stream.deliver(p);
    }
  }
  // The user's other resources' presence, as for any subscriber.
  for (ClientStream* s : sessions_.resources(stream.bare())) {
    if (s == &stream || !s->available()) continue;
    xml::Element p = s->last_presence();
    p.set_attribute("to", stream.full());
    stream.deliver(p);
  }
}

void Im::unsubscribe_all(const std::string& bare) {
  if (store_ == nullptr) return;
  for (const Item& item : store_->roster(bare)) {
    if (has_to(item.subscription) || item.ask) send(presence(bare, item.contact, "unsubscribe"));
    if (has_from(item.subscription)) send(presence(bare, item.contact, "unsubscribed"));
  }
}

void Im::directed_gone(ClientStream& stream) {
  xml::Element p(std::string(kClientNs), "presence");
  p.set_attribute("from", stream.full());
  p.set_attribute("type", "unavailable");
  for (const std::string& to : std::exchange(stream.directed(), {})) {
    p.set_attribute("to", to);
    send(p);
  }
}

void Im::gone(ClientStream& stream) {
  xml::Element p(std::string(kClientNs), "presence");
  p.set_attribute("from", stream.full());
  p.set_attribute("type", "unavailable");
  broadcast(stream, p);  // subscribers, other resources, and directed-presence recipients
}

}  // namespace xmppd::router
