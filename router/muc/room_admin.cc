// Moderators' and admins' work (XEP-0045 §8, §9): roles (kick, voice, moderator) and
// affiliations (ban, member, admin, owner), one item or a list at a time (muc#admin).
//
// Trust: the actor is the stanza's real 'from'. Every item of a set is checked against the
// privilege tables (§5.1.1, §5.2.1, as Prosody applies them) before any is applied, so a
// request is applied whole or not at all.
#include <map>
#include <string>
#include <vector>

#include "router/muc/room.h"
#include "router/muc/room_forms.h"
#include "xmpp/stanza.h"

namespace xmppd::router::muc {

// One item of a muc#admin set, checked: a role for an occupant, or an affiliation for a
// bare JID.
struct AdminChange {
  std::optional<Role> role;
  std::string nick;  // the occupant whose role changes
  std::optional<Affiliation> affiliation;
  std::string bare;  // whose affiliation changes
  std::string reason;
};

namespace {

RequestError refuse(std::string_view type, std::string_view condition, std::string text) {
  return RequestError{type, condition, std::move(text)};
}

// <reason/> and <actor nick/> inside the <item/> of the presence that tells of a change.
std::vector<xml::Element> item_extra(std::string_view reason, std::string_view actor_nick) {
  std::vector<xml::Element> extra;
  if (!actor_nick.empty())
    extra.emplace_back(kMucUserNs, "actor", xml::Element::Attributes{{"nick", std::string(actor_nick)}});
  if (!reason.empty()) {
    extra.emplace_back(kMucUserNs, "reason");
    extra.back().add_text(reason);
  }
  return extra;
}

std::size_t owners_in(const std::map<std::string, AffiliationEntry, std::less<>>& affiliations) {
  std::size_t owners = 0;
  for (const auto& [bare, entry] : affiliations)
    if (entry.affiliation == Affiliation::kOwner) ++owners;
  return owners;
}

}  // namespace

void Room::on_admin_iq(const xml::Element& iq, const xmpp::Jid& from) {
  const xml::Element* query = iq.child(kMucAdminNs, "query");
  std::vector<const xml::Element*> items;
  for (const xml::Element* child : query->children())
    if (child->is(kMucAdminNs, "item")) items.push_back(child);
  if (items.empty()) {
    bounce(iq, "modify", "bad-request", "A muc#admin query carries <item/>s");
    return;
  }
  if (iq.attribute_or("type") == "get") {
    if (items.size() != 1)
      bounce(iq, "modify", "bad-request", "One list at a time");
    else
      admin_list(iq, *items.front(), from);
    return;
  }
  if (items.size() > kMaxAdminItems) {
    bounce(iq, "modify", "policy-violation", "Too many items in one request");
    return;
  }
  std::vector<AdminChange> changes;
  for (const xml::Element* item : items) {
    AdminChange change;
    if (std::optional<RequestError> refusal = read_admin_item(*item, from, change)) {
      bounce(iq, refusal->type, refusal->condition, refusal->text);
      return;
    }
    changes.push_back(std::move(change));
  }
  if (std::optional<RequestError> refusal = check_affiliation_totals(changes)) {
    bounce(iq, refusal->type, refusal->condition, refusal->text);
    return;
  }
  apply_admin_changes(changes, from);
  send(xmpp::reply(iq, "result"));
}

void Room::admin_list(const xml::Element& iq, const xml::Element& item, const xmpp::Jid& from) {
  const std::string* role_name = item.attribute("role");
  const std::string* affiliation_name = item.attribute("affiliation");
  // Nobody is listed with role or affiliation none: "none" is refused with what is unknown.
  Role role = role_name != nullptr ? parse_role(*role_name).value_or(Role::kNone) : Role::kNone;
  Affiliation affiliation = affiliation_name != nullptr
                                ? parse_affiliation(*affiliation_name).value_or(Affiliation::kNone)
                                : Affiliation::kNone;
  if ((role_name != nullptr) == (affiliation_name != nullptr) || (role_name != nullptr && role == Role::kNone) ||
      (affiliation_name != nullptr && affiliation == Affiliation::kNone)) {
    bounce(iq, "modify", "bad-request", "Ask for one role (visitor, participant, moderator) or one affiliation");
    return;
  }
  xml::Element reply = xmpp::reply(iq, "result");
  xml::Element& out = reply.add_child(xml::Element(kMucAdminNs, "query"));
  Affiliation actor = affiliation_of(from.bare());
  if (role_name != nullptr) {
    // Role lists (§8.5, §9.7) are the moderators' tools.
    const Occupant* asker = occupant_of(from.full());
    if (asker == nullptr || asker->role != Role::kModerator) {
      bounce(iq, "auth", "forbidden", "Only moderators may list roles");
      return;
    }
    for (const auto& [nick, occupant] : occupants_)
      if (occupant.role == role)
        out.add_child(xml::Element(kMucAdminNs, "item",
                                   {{"nick", nick},
                                    {"role", std::string(name_of(occupant.role))},
                                    {"affiliation", std::string(name_of(affiliation_of(occupant.bare)))},
                                    {"jid", occupant.bare}}));
  } else {
    // Admins see the lists up to their own rank (an admin not the owners'); in a room where
    // anyone may see real JIDs, members see them too (as Prosody).
    bool allowed = (actor >= Affiliation::kAdmin && actor >= affiliation) ||
                   (state_.config.whois == Whois::kAnyone && actor >= Affiliation::kMember);
    if (!allowed) {
      bounce(iq, "auth", "forbidden", "Not allowed to see this list");
      return;
    }
    for (const auto& [bare, entry] : state_.affiliations) {
      if (entry.affiliation != affiliation) continue;
      xml::Element& listed = out.add_child(
          xml::Element(kMucAdminNs, "item", {{"affiliation", std::string(name_of(entry.affiliation))}, {"jid", bare}}));
      if (!entry.nick.empty()) listed.set_attribute("nick", entry.nick);
      if (!entry.reason.empty()) listed.add_child(xml::Element(kMucAdminNs, "reason")).add_text(entry.reason);
    }
  }
  send(std::move(reply));
}

std::optional<RequestError> Room::read_admin_item(const xml::Element& item, const xmpp::Jid& from,
                                                  AdminChange& change) {
  const std::string* role_name = item.attribute("role");
  const std::string* affiliation_name = item.attribute("affiliation");
  if ((role_name != nullptr) == (affiliation_name != nullptr))
    return refuse("modify", "bad-request", "An item changes a role or an affiliation");
  if (const xml::Element* reason = item.child(kMucAdminNs, "reason")) {
    if (!valid_display_text(reason->text()))
      return refuse("modify", "bad-request", "The reason is too long or has control characters");
    change.reason = reason->text();
  }
  if (role_name != nullptr) {
    change.role = parse_role(*role_name);
    if (!change.role) return refuse("modify", "bad-request", "Unknown role");
    change.nick = item.attribute_or("nick");
    if (change.nick.empty()) return refuse("modify", "bad-request", "A role is changed by nickname");
    return check_role_change(change, from);
  }
  change.affiliation = parse_affiliation(*affiliation_name);
  if (!change.affiliation) return refuse("modify", "bad-request", "Unknown affiliation");
  if (const std::string* jid = item.attribute("jid")) {
    std::optional<xmpp::Jid> parsed = xmpp::Jid::parse(*jid);
    if (!parsed) return refuse("modify", "jid-malformed", "Not a JID: " + *jid);
    change.bare = parsed->bare();
  } else if (const std::string* nick = item.attribute("nick")) {
    const Occupant* target = occupant(*nick);
    if (target == nullptr) return refuse("cancel", "item-not-found", "No occupant has this nickname");
    change.bare = target->bare;
  } else {
    return refuse("modify", "bad-request", "An affiliation is changed by JID");
  }
  return check_affiliation_change(change, from);
}

// §5.1.1 and §8: a moderator changes roles; moderator status itself is the admins' to give
// or take; nobody changes the role of someone of a higher affiliation (as Prosody: an owner
// may kick an owner, an admin an admin).
std::optional<RequestError> Room::check_role_change(const AdminChange& change, const xmpp::Jid& from) {
  const Occupant* actor = occupant_of(from.full());
  if (actor == nullptr || actor->role != Role::kModerator)
    return refuse("cancel", "not-allowed", "Only moderators may change roles");  // as Prosody
  const Occupant* target = occupant(change.nick);
  if (target == nullptr) return refuse("cancel", "item-not-found", "No occupant has this nickname");
  Affiliation mine = affiliation_of(from.bare());
  Affiliation theirs = affiliation_of(target->bare);
  if (theirs >= Affiliation::kAdmin && mine < theirs)
    return refuse("cancel", "not-allowed", "Not allowed to change the role of an occupant of a higher affiliation");
  if ((target->role == Role::kModerator || *change.role == Role::kModerator) && mine < Affiliation::kAdmin)
    return refuse("cancel", "not-allowed", "Only admins and owners grant or revoke moderator status");
  return std::nullopt;
}

// §5.2.1, §9 and §10: admins manage outcasts and members; owners manage everyone.
std::optional<RequestError> Room::check_affiliation_change(const AdminChange& change, const xmpp::Jid& from) {
  Affiliation mine = affiliation_of(from.bare());
  if (mine < Affiliation::kAdmin) return refuse("auth", "forbidden", "Only admins and owners change affiliations");
  if (mine == Affiliation::kOwner) return std::nullopt;
  if (affiliation_of(change.bare) >= Affiliation::kAdmin || *change.affiliation >= Affiliation::kAdmin)
    return refuse("cancel", "not-allowed", "Only owners change the affiliation of admins and owners");
  return std::nullopt;
}

// What the whole request leaves behind: an owner still (§10.7: the last owner may not
// leave the room ownerless), and no more affiliations than a room may keep.
std::optional<RequestError> Room::check_affiliation_totals(const std::vector<AdminChange>& changes) const {
  // The last change of each JID counts; the room's list itself is not copied (it may be long).
  std::map<std::string_view, Affiliation> last;
  for (const AdminChange& change : changes)
    if (change.affiliation) last[change.bare] = *change.affiliation;
  std::size_t owners_before = owners_in(state_.affiliations), owners = owners_before;
  std::size_t size = state_.affiliations.size();
  for (const auto& [bare, affiliation] : last) {
    auto it = state_.affiliations.find(bare);
    bool listed = it != state_.affiliations.end();
    if (listed && it->second.affiliation == Affiliation::kOwner) --owners;
    if (affiliation == Affiliation::kOwner) ++owners;
    if (!listed && affiliation != Affiliation::kNone) ++size;
    if (listed && affiliation == Affiliation::kNone) --size;
  }
  if (owners_before != 0 && owners == 0) return refuse("cancel", "conflict", "The room would have no owner left");
  if (size > kMaxAffiliations && size > state_.affiliations.size())
    return refuse("wait", "resource-constraint", "The room keeps no more affiliations");
  return std::nullopt;
}

void Room::apply_admin_changes(const std::vector<AdminChange>& changes, const xmpp::Jid& from) {
  const Occupant* actor = occupant_of(from.full());
  std::string actor_nick = actor != nullptr ? actor->nick : std::string();
  bool affiliations_changed = false;
  for (const AdminChange& change : changes) {
    if (change.affiliation) {
      set_affiliation(change.bare, *change.affiliation, change.reason, actor_nick);
      affiliations_changed = true;
      continue;
    }
    Occupant* target = occupant(change.nick);
    if (target == nullptr) continue;  // removed by an earlier item of the same request
    std::vector<xml::Element> extra = item_extra(change.reason, actor_nick);
    if (*change.role == Role::kNone) {
      const int kicked[] = {307};  // §8.2
      remove_occupant(change.nick, kicked, extra);
    } else if (target->role != *change.role) {
      target->role = *change.role;
      broadcast_presence(*target, {}, extra);
    }
  }
  if (affiliations_changed) changed();
}

void Room::set_affiliation(const std::string& bare, Affiliation affiliation, std::string_view reason,
                           std::string_view actor_nick) {
  Affiliation before = affiliation_of(bare);
  if (affiliation == Affiliation::kNone) {
    state_.affiliations.erase(bare);
  } else {
    AffiliationEntry& entry = state_.affiliations[bare];
    entry.affiliation = affiliation;
    entry.reason = std::string(reason);
  }
  Affiliation now = affiliation_of(bare);  // service admins stay owners
  bool excluded = now == Affiliation::kOutcast || (state_.config.members_only && now < Affiliation::kMember);
  std::vector<xml::Element> extra = item_extra(reason, actor_nick);
  std::vector<std::string> affected;
  for (const auto& [nick, occupant] : occupants_)
    if (occupant.bare == bare) affected.push_back(nick);
  for (const std::string& nick : affected) {
    if (excluded) {
      // §9.1: banned (301); §9.4, §9.8: no longer a member of a members-only room (321).
      const int statuses[] = {now == Affiliation::kOutcast ? 301 : 321};
      remove_occupant(nick, statuses, extra);
      continue;
    }
    // A demotion takes the role down to the new affiliation's; a promotion raises it, but
    // never lowers a role a moderator gave (as Prosody).
    Occupant& occupant = *this->occupant(nick);
    Role role = default_role(now);
    if (now < before || role > occupant.role) occupant.role = role;
    broadcast_presence(occupant, {}, extra);
  }
}

}  // namespace xmppd::router::muc
