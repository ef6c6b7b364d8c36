// What the room's owners do (XEP-0045 §10): creating and unlocking the room, instant rooms,
// the configuration form (muc#owner, muc#roomconfig), destroying the room.
//
// Trust: only owners (and the service's admins, who are owners of every room) get past the
// first check; the form is checked whole (room_forms.cc) before anything changes.
#include <string>
#include <vector>

#include "router/muc/room.h"
#include "router/muc/room_forms.h"
#include "xmpp/stanza.h"

namespace xmppd::router::muc {
namespace {

// <x xmlns='muc#user'><status code=.../>...</x>
xml::Element status_x(const std::vector<int>& statuses) {
  xml::Element x(kMucUserNs, "x");
  for (int code : statuses) x.add_child(xml::Element(kMucUserNs, "status", {{"code", std::to_string(code)}}));
  return x;
}

// The status codes that tell occupants the configuration changed (§10.2.1): 104, 170/171
// when the archive was switched on or off (where the service archives), 172/173 when the
// room's anonymity changed.
std::vector<int> config_statuses(const RoomConfig& before, const RoomConfig& after, const MucOptions& options) {
  std::vector<int> statuses;
  if (before == after) return statuses;
  statuses.push_back(104);
  if (before.archiving != after.archiving && options.mam()) statuses.push_back(after.archiving ? 170 : 171);
  if (before.whois != after.whois) statuses.push_back(after.whois == Whois::kAnyone ? 172 : 173);
  return statuses;
}

// The owner's <destroy/> as occupants see it, in muc#user: the alternate venue, the reason
// and the venue's password.
xml::Element destroy_notice(const xml::Element* destroy) {
  xml::Element out(kMucUserNs, "destroy");
  if (destroy == nullptr) return out;
  if (const std::string* jid = destroy->attribute("jid")) out.set_attribute("jid", *jid);
  for (std::string_view name : {"reason", "password"})
    if (const xml::Element* child = destroy->child(destroy->ns(), name))
      out.add_child(xml::Element(kMucUserNs, std::string(name))).add_text(child->text());
  return out;
}

// A <destroy/> an owner sent: an alternate venue that is a JID, text without control
// characters.
bool valid_destroy(const xml::Element& destroy, RequestError& refusal) {
  if (const std::string* jid = destroy.attribute("jid"); jid != nullptr && !xmpp::Jid::parse(*jid)) {
    refusal = RequestError{"modify", "jid-malformed", "The alternate venue is not a JID"};
    return false;
  }
  for (std::string_view name : {"reason", "password"})
    if (const xml::Element* child = destroy.child(destroy.ns(), name);
        child != nullptr && !valid_display_text(child->text())) {
      refusal = RequestError{"modify", "bad-request", std::string(name) + " is too long or has control characters"};
      return false;
    }
  return true;
}

}  // namespace

void Room::on_owner_iq(const xml::Element& iq, const xmpp::Jid& from) {
  if (affiliation_of(from.bare()) != Affiliation::kOwner) {
    bounce(iq, "auth", "forbidden", "Only owners may configure the room");
    return;
  }
  const xml::Element* query = iq.child(kMucOwnerNs, "query");
  std::vector<const xml::Element*> payload = query->children();
  if (iq.attribute_or("type") == "get") {
    if (!payload.empty()) {
      // Owner and admin lists through muc#owner are deprecated (§10.5): muc#admin has them.
      bounce(iq, "cancel", "feature-not-implemented", "Affiliation lists are asked for with muc#admin");
      return;
    }
    xml::Element reply = xmpp::reply(iq, "result");
    reply.add_child(xml::Element(kMucOwnerNs, "query")).add_child(room_config_form(state_.config, host_.options()));
    send(std::move(reply));
    return;
  }
  std::string size;
  query->serialize(size);
  if (host_.options().max_form_bytes() != 0 && size.size() > host_.options().max_form_bytes()) {
    bounce(iq, "modify", "policy-violation", "The form is too large");
    return;
  }
  if (payload.size() != 1) {
    bounce(iq, "modify", "bad-request", "A muc#owner set carries one form or one <destroy/>");
    return;
  }
  const xml::Element& what = *payload.front();
  if (what.is(kDataNs, "x")) {
    RequestError refusal;
    std::optional<SubmittedForm> form = read_form(what, refusal);
    if (!form)
      bounce(iq, refusal.type, refusal.condition, refusal.text);
    else if (form->type == "cancel")
      cancel_configuration(iq);
    else
      submit_configuration(iq, *form);
  } else if (what.is(kMucOwnerNs, "destroy")) {
    RequestError refusal;
    if (!valid_destroy(what, refusal)) {
      bounce(iq, refusal.type, refusal.condition, refusal.text);
      return;
    }
    destroy(&what);
    send(xmpp::reply(iq, "result"));
  } else {
    bounce(iq, "cancel", "feature-not-implemented", "Affiliations are changed with muc#admin");
  }
}

void Room::cancel_configuration(const xml::Element& iq) {
  send(xmpp::reply(iq, "result"));
  // §10.1.3: an owner who cancels the first configuration does not want the room.
  if (state_.locked) destroy(nullptr);
}

void Room::submit_configuration(const xml::Element& iq, const SubmittedForm& form) {
  if (form.type != "submit" || !form_type_is(form, kRoomConfigFormType)) {
    bounce(iq, "modify", "bad-request", "Expected a submitted muc#roomconfig form");
    return;
  }
  RoomConfig next = state_.config;
  if (std::optional<RequestError> refusal = apply_room_config(form, host_.options(), next)) {
    bounce(iq, refusal->type, refusal->condition, refusal->text);
    return;
  }
  RoomConfig before = std::exchange(state_.config, std::move(next));
  state_.locked = false;  // §10.1.2 and §10.1.3: configured (or instant), the room opens
  if (history_.size() > state_.config.history_length)
    history_.erase(history_.begin(), history_.end() - static_cast<std::ptrdiff_t>(state_.config.history_length));
  send(xmpp::reply(iq, "result"));
  if (state_.config.members_only && !before.members_only) remove_non_members(322);
  announce(config_statuses(before, state_.config, host_.options()));
  changed();
  if (!state_.config.persistent && empty()) host_.gone(*this, nullptr);
}

void Room::remove_non_members(int status) {
  std::vector<std::string> leaving;
  for (const auto& [nick, occupant] : occupants_)
    if (affiliation_of(occupant.bare) < Affiliation::kMember) leaving.push_back(nick);
  const int statuses[] = {status};
  for (const std::string& nick : leaving) remove_occupant(nick, statuses);
}

void Room::announce(const std::vector<int>& statuses) {
  if (statuses.empty()) return;
  for (const auto& [nick, occupant] : occupants_)
    for (const auto& [full, presence] : occupant.sessions) {
      xml::Element message("jabber:client", "message", {{"type", "groupchat"}, {"from", jid_}, {"to", full}});
      message.add_child(status_x(statuses));
      send(std::move(message));
    }
}

void Room::destroy(const xml::Element* destroy) {
  // §10.9: each occupant learns it is out, and where the room went; only its own
  // unavailable presence, as everyone leaves at once.
  for (const auto& [nick, occupant] : occupants_)
    for (const auto& [full, presence] : occupant.sessions) {
      xml::Element out("jabber:client", "presence",
                       {{"type", "unavailable"}, {"from", occupant_jid(nick)}, {"to", full}});
      xml::Element& x = out.add_child(xml::Element(kMucUserNs, "x"));
      x.add_child(xml::Element(kMucUserNs, "item", {{"affiliation", "none"}, {"role", "none"}}));
      x.add_child(destroy_notice(destroy));
      send(std::move(out));
    }
  occupants_.clear();
  nick_of_.clear();
  host_.gone(*this, destroy);
}

}  // namespace xmppd::router::muc
