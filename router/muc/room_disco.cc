// What the room says of itself (XEP-0045 §6.4, §6.5: disco#info with muc#roominfo, and
// disco#items), nickname registration (§7.10, jabber:iq:register), and ping to the room.
//
// Trust: anyone may ask about a room that is not locked (a members-only room is visible, as
// in Prosody); occupants are listed only to occupants of a public room; a registration
// changes only the sender's own bare JID.
#include <string>
#include <vector>

#include "router/muc/room.h"
#include "router/muc/room_forms.h"
#include "router/muc/room_stanzas.h"
#include "xmpp/stanza.h"

namespace xmppd::router::muc {
namespace {

constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kItemsNs = "http://jabber.org/protocol/disco#items";
constexpr std::string_view kPingNs = "urn:xmpp:ping";
constexpr std::string_view kRegisterNs = "jabber:iq:register";

// The features of §6.4 that describe the room's configuration.
std::vector<std::string> config_features(const RoomConfig& c) {
  return {
      std::string(kMucNs),
      c.public_room ? "muc_public" : "muc_hidden",
      c.persistent ? "muc_persistent" : "muc_temporary",
      c.members_only ? "muc_membersonly" : "muc_open",
      c.moderated ? "muc_moderated" : "muc_unmoderated",
      c.password.empty() ? "muc_unsecured" : "muc_passwordprotected",
      c.whois == Whois::kAnyone ? "muc_nonanonymous" : "muc_semianonymous",
      "urn:xmpp:occupant-id:0",
      "http://jabber.org/protocol/muc#self-ping-optimization",
      std::string(kRegisterNs),
  };
}

xml::Element info_field(std::string_view var, std::string_view label, std::string value, std::string_view type = {}) {
  xml::Element field(kDataNs, "field", {{"var", std::string(var)}});
  if (!type.empty()) field.set_attribute("type", std::string(type));
  if (!label.empty()) field.set_attribute("label", std::string(label));
  field.add_child(xml::Element(kDataNs, "value")).add_text(value);
  return field;
}

}  // namespace

void Room::on_room_iq(const xml::Element& iq, const xmpp::Jid& from) {
  // §10.1.1: until its owner configures it, a locked room does not exist for anyone else.
  if (state_.locked && affiliation_of(from.bare()) != Affiliation::kOwner) {
    bounce(iq, "cancel", "item-not-found", "The room is locked until its owner configures it");
    return;
  }
  const xml::Element& payload = *iq.children().front();  // room.cc: exactly one
  bool get = iq.attribute_or("type") == "get";
  if (get && payload.is(kInfoNs, "query"))
    room_info(iq, payload);
  else if (get && payload.is(kItemsNs, "query"))
    room_items(iq, payload, from);
  else if (get && payload.is(kPingNs, "ping"))
    send(xmpp::reply(iq, "result"));
  else if (payload.is(kRegisterNs, "query"))
    on_register(iq, payload, from);
  else
    bounce(iq, "cancel", "service-unavailable");
}

void Room::room_info(const xml::Element& iq, const xml::Element& query) {
  if (query.attribute("node") != nullptr) {
    bounce(iq, "cancel", "item-not-found", "The room has no such node");
    return;
  }
  const RoomConfig& c = state_.config;
  xml::Element reply = xmpp::reply(iq, "result");
  xml::Element& out = reply.add_child(xml::Element(kInfoNs, "query"));
  std::string name = !c.name.empty() ? c.name : jid_.substr(0, jid_.find('@'));
  out.add_child(xml::Element(kInfoNs, "identity", {{"category", "conference"}, {"type", "text"}, {"name", name}}));
  std::vector<std::string> features = config_features(c);
  host_.room_features(*this, features);
  for (const std::string& var : features) out.add_child(xml::Element(kInfoNs, "feature", {{"var", var}}));
  // XEP-0128 extended information (§6.4 and §15.5.4), as Prosody gives it.
  xml::Element& x = out.add_child(xml::Element(kDataNs, "x", {{"type", "result"}}));
  x.add_child(info_field("FORM_TYPE", "", std::string(kRoomInfoFormType), "hidden"));
  x.add_child(info_field("muc#roominfo_description", "Description", c.description));
  x.add_child(info_field("muc#roominfo_occupants", "Number of occupants", std::to_string(occupants_.size())));
  x.add_child(info_field("muc#roominfo_subject", "Subject", state_.subject));
  x.add_child(info_field("muc#roomconfig_roomname", "Title", c.name));
  x.add_child(info_field("muc#roominfo_lang", "Language tag for room", c.language));
  x.add_child(info_field("muc#roomconfig_changesubject", "Allow anyone to set the room's subject",
                         c.change_subject ? "1" : "0", "boolean"));
  x.add_child(info_field("muc#roomconfig_whois", "Addresses (JIDs) of room occupants may be viewed by",
                         c.whois == Whois::kAnyone ? "anyone" : "moderators"));
  constexpr std::string_view kAllowPm[] = {"none", "moderators", "participants", "anyone"};  // WhoMay order
  x.add_child(info_field("muc#roomconfig_allowpm", "Allow private messages",
                         std::string(kAllowPm[static_cast<int>(c.allow_pm)])));
  x.add_child(info_field("muc#maxhistoryfetch", "Maximum number of history messages returned by room",
                         std::to_string(c.history_length)));
  send(std::move(reply));
}

void Room::room_items(const xml::Element& iq, const xml::Element& query, const xmpp::Jid& from) {
  if (query.attribute("node") != nullptr) {
    bounce(iq, "cancel", "item-not-found", "The room has no such node");
    return;
  }
  xml::Element reply = xmpp::reply(iq, "result");
  xml::Element& out = reply.add_child(xml::Element(kItemsNs, "query"));
  // §6.5 lets a room list its occupants; as Prosody, only to those in a public room already,
  // so that nicknames do not leak out of the room.
  if (state_.config.public_room && occupant_of(from.full()) != nullptr)
    for (const auto& [nick, occupant] : occupants_)
      out.add_child(xml::Element(kItemsNs, "item", {{"jid", occupant_jid(nick)}, {"name", nick}}));
  send(std::move(reply));
}

void Room::on_register(const xml::Element& iq, const xml::Element& query, const xmpp::Jid& from) {
  std::string bare = from.bare();
  Affiliation affiliation = affiliation_of(bare);
  if (affiliation == Affiliation::kOutcast) {
    bounce(iq, "auth", "forbidden", "Banned from the room");
    return;
  }
  auto entry = state_.affiliations.find(bare);
  std::string registered = entry != state_.affiliations.end() ? entry->second.nick : std::string();
  if (iq.attribute_or("type") == "get") {
    xml::Element reply = xmpp::reply(iq, "result");
    xml::Element& out = reply.add_child(xml::Element(kRegisterNs, "query"));
    if (!registered.empty()) {
      out.add_child(xml::Element(kRegisterNs, "registered"));
      out.add_child(xml::Element(kRegisterNs, "username")).add_text(registered);
    } else {
      out.add_child(register_form());
    }
    send(std::move(reply));
    return;
  }
  if (query.child(kRegisterNs, "remove") != nullptr) {
    unregister(iq, bare);
    return;
  }
  const xml::Element* x = query.child(kDataNs, "x");
  RequestError refusal{"modify", "bad-request", "Expected a submitted muc#register form"};
  std::optional<SubmittedForm> form = x != nullptr ? read_form(*x, refusal) : std::nullopt;
  if (!form || form->type != "submit" || !form_type_is(*form, kRegisterFormType)) {
    bounce(iq, refusal.type, refusal.condition, refusal.text);
    return;
  }
  register_nick(iq, *form, bare);
}

void Room::unregister(const xml::Element& iq, const std::string& bare) {
  auto entry = state_.affiliations.find(bare);
  if (entry != state_.affiliations.end()) {
    // A member registered is a member only by registering: it leaves the member list (and a
    // members-only room, 321). Admins and owners keep their affiliation, without the nickname.
    if (entry->second.affiliation == Affiliation::kMember)
      set_affiliation(bare, Affiliation::kNone, "Unregistered", "");
    else
      entry->second.nick.clear();
    changed();
  }
  send(xmpp::reply(iq, "result"));
}

void Room::register_nick(const xml::Element& iq, const SubmittedForm& form, const std::string& bare) {
  const std::vector<std::string>* values = form.values("muc#register_roomnick");
  std::optional<std::string> nick;
  if (values != nullptr && values->size() == 1) nick = xmpp::prepare_resourcepart(values->front());
  if (!nick) {
    bounce(iq, "modify", "bad-request", "muc#register_roomnick is not a nickname");
    return;
  }
  if (host_.options().max_nick_length() != 0 && characters(*nick) > host_.options().max_nick_length()) {
    bounce(iq, "modify", "not-acceptable", "The nickname is too long");
    return;
  }
  Affiliation affiliation = affiliation_of(bare);
  if (state_.config.members_only && affiliation < Affiliation::kMember) {
    // As Prosody: a members-only room's list is its admins' (or its invitations') to extend.
    bounce(iq, "cancel", "not-allowed", "Only members register in a members-only room");
    return;
  }
  if (const Occupant* holder = occupant(*nick); holder != nullptr && holder->bare != bare) {
    bounce(iq, "cancel", "conflict", "The nickname is in use");
    return;
  }
  for (const auto& [other, entry] : state_.affiliations)
    if (other != bare && entry.nick == *nick) {
      bounce(iq, "cancel", "conflict", "The nickname is registered by someone else");
      return;
    }
  if (!state_.affiliations.contains(bare) && state_.affiliations.size() >= kMaxAffiliations) {
    bounce(iq, "wait", "resource-constraint", "The room keeps no more registrations");
    return;
  }
  if (affiliation < Affiliation::kMember) set_affiliation(bare, Affiliation::kMember, {}, {});
  AffiliationEntry& entry = state_.affiliations[bare];
  if (entry.affiliation == Affiliation::kNone) entry.affiliation = Affiliation::kMember;  // a service admin
  entry.nick = *nick;
  changed();
  send(xmpp::reply(iq, "result"));
}

}  // namespace xmppd::router::muc
