// Groupchat messages, the subject, history on entering, private messages, mediated
// invitations, voice requests (XEP-0045 §7.2.15-§7.2.16, §7.4-§7.5, §7.8, §7.13, §8.1), and the limits an
// occupant's messages are held to (Prosody's mod_muc_limits: a token bucket per occupant,
// characters and lines per body).
//
// Trust: 'from' is the sender's real address; what it sends reaches others only re-addressed
// from its nickname, after its role allowed it, without any <occupant-id/> or room-made
// <stanza-id/> it forged. Invitations and declines go out from the room, one message per
// invitee, at most kMaxInvites at once, so that a message cannot fan out without bound; a
// decline goes only to someone who invited its sender (recently) through this room, once,
// so that nobody can make the room send their text to whomever they like.
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <set>
#include <vector>

#include "common/base64.h"
#include "router/modules/mam_query.h"
#include "router/muc/room.h"
#include "router/muc/room_forms.h"
#include "router/muc/room_stanzas.h"
#include "xmpp/stanza.h"

namespace xmppd::router::muc {
namespace {

constexpr std::size_t kMaxInvites = 10;                                            // invitations one message may carry
// Invitations remembered for their decline: a day each, at most so many per room (the
// oldest forgotten first).
constexpr std::int64_t kInvitationMs = 24 * 3600 * 1000;
constexpr std::size_t kMaxInvitations = 1024;
constexpr std::string_view kRequestNs = "http://jabber.org/protocol/muc#request";  // §7.13, §8.6

// The first value of each field of a data form, by var.
std::map<std::string, std::string, std::less<>> form_values(const xml::Element& form) {
  std::map<std::string, std::string, std::less<>> values;
  for (const xml::Element* field : form.children()) {
    if (!field->is(kDataNs, "field")) continue;
    const xml::Element* value = field->child(kDataNs, "value");
    values.emplace(field->attribute_or("var"), value != nullptr ? value->text() : std::string());
  }
  return values;
}

xml::Element form_field(std::string var, std::string_view type, std::string_view label, std::string_view value) {
  xml::Element field(kDataNs, "field", {{"var", std::move(var)}, {"type", std::string(type)}});
  if (!label.empty()) field.set_attribute("label", std::string(label));
  field.add_child(xml::Element(kDataNs, "value")).add_text(value);
  return field;
}

std::size_t lines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

// An attribute of <history/> as a count (§7.2.15): digits only, else absent.
std::optional<std::uint64_t> count_attribute(const xml::Element& history, std::string_view name) {
  const std::string* text = history.attribute(name);
  if (text == nullptr) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

xml::Element text_element(std::string_view ns, std::string name, std::string_view text) {
  xml::Element out(ns, std::move(name));
  if (!text.empty()) out.add_text(text);
  return out;
}

}  // namespace

// The helpers of this file, with the room's private parts (room.h).
struct MessageOps {
  // A message from an occupant as the room passes it on: from its nickname, without the
  // elements only the room may write, with the occupant's XEP-0421 id.
  static xml::Element from_occupant(const Room& room, const xml::Element& message, const Occupant& sender) {
    xml::Element out = filtered(message, [&](const xml::Element& child) {
      if (child.ns() == kOccupantIdNs) return false;
      if (child.is(kStanzaIdNs, "stanza-id") && child.attribute_or("by") == room.jid_) return false;
      // A delay in the room's name would pass the message off as history.
      if ((child.is(kDelayNs, "delay") || child.is("jabber:x:delay", "x")) && child.attribute_or("from") == room.jid_)
        return false;
      return true;
    });
    out.set_attribute("from", room.occupant_jid(sender.nick));
    out.add_child(occupant_id_element(sender.occupant_id));
    return out;
  }

  static std::string new_id() {
    unsigned char bytes[12];
    RAND_bytes(bytes, sizeof bytes);
    return base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  }

  // One copy to each session of each occupant.
  static void broadcast(Room& room, const xml::Element& message) {
    for (const auto& [nick, occupant] : room.occupants_)
      for (const auto& [full, presence] : occupant.sessions) {
        xml::Element copy = message;
        copy.set_attribute("to", full);
        room.send(std::move(copy));
      }
  }

  static xml::Element without_to(const xml::Element& message) {
    xml::Element out(message.shared_ns(), message.name());
    for (const auto& [name, value] : message.attributes())
      if (name != "to") out.set_attribute(name, value);
    for (const xml::Element* child : message.children()) out.add_child(*child);
    return out;
  }

  // §8.1: moderators, or participants when the configuration lets them.
  static void change_subject(Room& room, const xml::Element& message, const Occupant& sender,
                             const xml::Element& subject) {
    const RoomConfig& config = room.state_.config;
    bool allowed = sender.role == Role::kModerator || (config.change_subject && sender.role >= Role::kParticipant);
    if (!allowed) {
      room.bounce(message, "auth", "forbidden", "You may not change the subject of this room");
      return;
    }
    std::string text = subject.text();
    if (characters(text) > room.host_.options().max_subject_length()) {
      room.bounce(message, "modify", "policy-violation", "The subject is too long");
      return;
    }
    room.state_.subject = std::move(text);
    room.state_.subject_nick = sender.nick;
    room.changed();
    xml::Element out = from_occupant(room, without_to(message), sender);
    broadcast(room, out);
  }

  // Why a body may not go out, if it may not (mod_muc_limits' sizes).
  static std::optional<std::string_view> body_refusal(const Room& room, const xml::Element& message) {
    const MucOptions& options = room.host_.options();
    for (const xml::Element* child : message.children()) {
      if (!child->is(xmpp::kClientNs, "body")) continue;
      std::string text = child->text();
      if (options.max_char_count() != 0 && characters(text) > options.max_char_count())
        return "The message is too long";
      if (options.max_line_count() != 0 && lines(text) > options.max_line_count())
        return "The message has too many lines";
    }
    return std::nullopt;
  }

  static void keep_in_history(Room& room, const xml::Element& message, const std::string& sender_bare,
                              std::int64_t time_ms) {
    HistoryEntry entry{message, time_ms, sender_bare, 0};
    std::string serialized;
    message.serialize(serialized);
    entry.chars = serialized.size();
    room.history_.push_back(std::move(entry));
    std::size_t limit = room.host_.options().max_history_messages();
    if (room.history_.size() > limit)
      room.history_.erase(room.history_.begin(),
                          room.history_.begin() + static_cast<std::ptrdiff_t>(room.history_.size() - limit));
  }

  // The oldest history entry a <history/> asks for (§7.2.15), capped by the room's length.
  static std::size_t history_start(const Room& room, const xml::Element* request) {
    std::uint64_t max_stanzas = room.state_.config.history_length;
    std::uint64_t max_chars = std::numeric_limits<std::uint64_t>::max();
    std::int64_t since = std::numeric_limits<std::int64_t>::min();
    if (request != nullptr) {
      if (auto n = count_attribute(*request, "maxstanzas")) max_stanzas = std::min(max_stanzas, *n);
      if (auto n = count_attribute(*request, "maxchars")) max_chars = *n;
      if (auto n = count_attribute(*request, "seconds"))
        since = room.host_.now_ms() - static_cast<std::int64_t>(std::min<std::uint64_t>(*n, 1ULL << 40)) * 1000;
      if (const std::string* stamp = request->attribute("since"))
        if (auto t = mam::parse_datetime(*stamp)) since = std::max(since, *t * 1000);
    }
    std::size_t start = room.history_.size();
    std::uint64_t chars = 0;
    while (start > 0 && room.history_.size() - start < max_stanzas) {
      const HistoryEntry& entry = room.history_[start - 1];
      if (entry.time_ms < since || chars + entry.chars > max_chars) break;
      chars += entry.chars;
      --start;
    }
    return start;
  }

  // §7.8.2: who may invite; a members-only room lets admins, and members when allowed.
  static bool may_invite(const Room& room, const Occupant& sender) {
    if (!room.state_.config.members_only) return true;
    Affiliation affiliation = room.affiliation_of(sender.bare);
    return affiliation >= Affiliation::kAdmin ||
           (room.state_.config.allow_invites && affiliation >= Affiliation::kMember);
  }

  static void invite(Room& room, const xml::Element& message, const xmpp::Jid& from,
                     const std::vector<const xml::Element*>& invites) {
    Occupant* sender = room.occupant_of(from.full());
    if (sender == nullptr) {
      room.bounce(message, "cancel", "not-acceptable", "Only occupants may invite to this room");
      return;
    }
    if (sender->role < Role::kParticipant || !may_invite(room, *sender)) {
      room.bounce(message, "auth", "forbidden", "You may not invite to this room");
      return;
    }
    if (invites.size() > kMaxInvites) {
      room.bounce(message, "modify", "policy-violation", "Too many invitations in one message");
      return;
    }
    // Each invitation is a message from the room's address to anyone (and, members-only, a
    // new member): as fast as the sender's other messages, no faster.
    if (!room.within_rate(*sender)) {
      room.bounce(message, "wait", "resource-constraint", "You are sending messages too fast");
      return;
    }
    std::vector<xmpp::Jid> invitees;
    std::set<std::string, std::less<>> new_members;
    for (const xml::Element* invite : invites) {
      auto to = xmpp::Jid::parse(invite->attribute_or("to"));
      if (!to) {
        room.bounce(message, "modify", "jid-malformed", "An invitation is not to a valid address");
        return;
      }
      if (room.state_.config.members_only && !room.state_.affiliations.contains(to->bare()))
        new_members.insert(to->bare());
      invitees.push_back(*to);
    }
    // The members they make count against the room's cap, as registrations do.
    if (!new_members.empty() && room.state_.affiliations.size() + new_members.size() > kMaxAffiliations) {
      room.bounce(message, "wait", "resource-constraint", "The room keeps no more members");
      return;
    }
    bool added = false;
    for (std::size_t i = 0; i < invites.size(); ++i) added |= send_invite(room, *invites[i], from, invitees[i]);
    if (added) room.changed();
  }

  // True when the invitee became a member (the caller writes the room once).
  static bool send_invite(Room& room, const xml::Element& invite, const xmpp::Jid& from, const xmpp::Jid& invitee) {
    xml::Element out(xmpp::kClientNs, "message", {{"from", room.jid_}, {"to", invitee.full()}});
    const xml::Element* reason = invite.child(kMucUserNs, "reason");
    std::string body = from.bare() + " invited you to the room " + room.jid_;
    if (reason != nullptr && !reason->text().empty()) body += " (" + reason->text() + ")";
    out.add_child(text_element(xmpp::kClientNs, "body", body));
    xml::Element x(kMucUserNs, "x");
    xml::Element& forwarded = x.add_child(xml::Element(kMucUserNs, "invite", {{"from", from.bare()}}));
    if (reason != nullptr) forwarded.add_child(text_element(kMucUserNs, "reason", reason->text()));
    if (!room.state_.config.password.empty())
      x.add_child(text_element(kMucUserNs, "password", room.state_.config.password));
    out.add_child(std::move(x));
    // XEP-0249's element too, for clients that read only direct invitations (as Prosody).
    xml::Element direct("jabber:x:conference", "x", {{"jid", room.jid_}});
    if (reason != nullptr && !reason->text().empty()) direct.add_text(reason->text());
    out.add_child(std::move(direct));
    room.send(std::move(out));
    remember_invitation(room, invitee.bare(), from.bare());
    // As Prosody: an invitation to a members-only room is the membership.
    std::string bare = invitee.bare();
    if (room.state_.config.members_only && room.affiliation_of(bare) == Affiliation::kNone) {
      room.state_.affiliations[bare].affiliation = Affiliation::kMember;
      return true;
    }
    return false;
  }

  static std::string invitation_key(std::string_view invitee_bare, std::string_view inviter_bare) {
    std::string key(invitee_bare);
    key += '\0';
    key += inviter_bare;
    return key;
  }

  static void remember_invitation(Room& room, const std::string& invitee_bare, const std::string& inviter_bare) {
    const std::int64_t now = room.host_.now_ms();
    std::erase_if(room.invited_, [now](const auto& entry) { return entry.second <= now; });
    std::string key = invitation_key(invitee_bare, inviter_bare);
    if (!room.invited_.contains(key) && room.invited_.size() >= kMaxInvitations) {
      auto oldest = std::min_element(room.invited_.begin(), room.invited_.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
      room.invited_.erase(oldest);
    }
    room.invited_.insert_or_assign(std::move(key), now + kInvitationMs);
  }

  // §7.8.3: the decline goes to whom the invitee names, from the room, when that is who
  // invited it here (one decline per invitation); any other is dropped: Prosody relays
  // declines from anyone to anyone, which lets a stranger have the room carry its text.
  static void decline(Room& room, const xml::Element& message, const xmpp::Jid& from, const xml::Element& decline) {
    auto to = xmpp::Jid::parse(decline.attribute_or("to"));
    if (!to) {
      room.bounce(message, "modify", "jid-malformed", "A decline names whom it is for");
      return;
    }
    auto invitation = room.invited_.find(invitation_key(from.bare(), to->bare()));
    if (invitation == room.invited_.end()) return;
    const bool current = invitation->second > room.host_.now_ms();
    room.invited_.erase(invitation);
    if (!current) return;
    xml::Element out(xmpp::kClientNs, "message", {{"from", room.jid_}, {"to", to->full()}});
    const xml::Element* reason = decline.child(kMucUserNs, "reason");
    std::string body = from.bare() + " declined your invitation to the room " + room.jid_;
    if (reason != nullptr && !reason->text().empty()) body += " (" + reason->text() + ")";
    out.add_child(text_element(xmpp::kClientNs, "body", body));
    xml::Element x(kMucUserNs, "x");
    xml::Element& forwarded = x.add_child(xml::Element(kMucUserNs, "decline", {{"from", from.bare()}}));
    if (reason != nullptr) forwarded.add_child(text_element(kMucUserNs, "reason", reason->text()));
    out.add_child(std::move(x));
    room.send(std::move(out));
  }

  // §7.13 and §8.6, as Prosody: a visitor's request for voice goes to the moderators as a
  // form; a moderator's submitted form with muc#request_allow grants it.
  static void role_request(Room& room, const xml::Element& message, const xmpp::Jid& from, const xml::Element& form) {
    Occupant* sender = room.occupant_of(from.full());
    if (sender == nullptr) {
      room.bounce(message, "cancel", "not-acceptable", "You are not an occupant of this room");
      return;
    }
    if (!room.within_rate(*sender)) {
      room.bounce(message, "wait", "resource-constraint", "You are sending messages too fast");
      return;
    }
    auto fields = form_values(form);
    if (sender->role == Role::kModerator)
      grant_voice(room, fields);
    else if (sender->role == Role::kVisitor)
      ask_moderators(room, *sender, from.full());
  }

  static void ask_moderators(Room& room, const Occupant& visitor, const std::string& full) {
    xml::Element x(kDataNs, "x", {{"type", "form"}});
    x.add_child(xml::Element(kDataNs, "title")).add_text("Voice request");
    x.add_child(form_field("FORM_TYPE", "hidden", "", kRequestNs));
    x.add_child(form_field("muc#role", "list-single", "Requested role", "participant"));
    x.add_child(form_field("muc#jid", "jid-single", "User ID", full));
    x.add_child(form_field("muc#roomnick", "text-single", "Room nickname", visitor.nick));
    x.add_child(form_field("muc#request_allow", "boolean", "Grant voice to this person?", "false"));
    xml::Element request(xmpp::kClientNs, "message", {{"from", room.jid_}, {"type", "normal"}});
    request.add_child(std::move(x));
    for (const auto& [nick, occupant] : room.occupants_)
      if (occupant.role == Role::kModerator)
        for (const auto& [session, presence] : occupant.sessions) {
          xml::Element copy = request;
          copy.set_attribute("to", session);
          room.send(std::move(copy));
        }
  }

  static void grant_voice(Room& room, const std::map<std::string, std::string, std::less<>>& fields) {
    auto allow = fields.find("muc#request_allow");
    if (allow == fields.end() || (allow->second != "1" && allow->second != "true")) return;
    Occupant* visitor = nullptr;
    if (auto jid = fields.find("muc#jid"); jid != fields.end()) visitor = room.occupant_of(jid->second);
    if (auto nick = fields.find("muc#roomnick"); visitor == nullptr && nick != fields.end())
      visitor = room.occupant(nick->second);
    if (visitor == nullptr || visitor->role != Role::kVisitor) return;
    visitor->role = Role::kParticipant;
    room.broadcast_presence(*visitor, {});
  }

  // §7.5: who may send private messages (muc#roomconfig_allowpm).
  static bool may_send_private(const Room& room, const Occupant& sender) {
    switch (room.state_.config.allow_pm) {
      case WhoMay::kNobody:
        return false;
      case WhoMay::kModerators:
        return sender.role == Role::kModerator;
      case WhoMay::kParticipants:
        return sender.role >= Role::kParticipant;
      case WhoMay::kAnyone:
        return true;
    }
    return false;
  }
};

void Room::on_groupchat(const xml::Element& message, const xmpp::Jid& from) {
  Occupant* sender = occupant_of(from.full());
  if (sender == nullptr) {
    bounce(message, "cancel", "not-acceptable", "You are not an occupant of this room");
    return;
  }
  if (!within_rate(*sender)) {
    bounce(message, "wait", "resource-constraint", "You are sending messages too fast");
    return;
  }
  const xml::Element* subject = message.child(xmpp::kClientNs, "subject");
  if (subject != nullptr && message.child(xmpp::kClientNs, "body") == nullptr) {
    MessageOps::change_subject(*this, message, *sender, *subject);
    return;
  }
  if (sender->role < Role::kParticipant) {
    bounce(message, "auth", "forbidden", "Visitors may not speak in this room");
    return;
  }
  if (auto refusal = MessageOps::body_refusal(*this, message)) {
    bounce(message, "modify", "policy-violation", *refusal);
    return;
  }
  xml::Element out = MessageOps::from_occupant(*this, MessageOps::without_to(message), *sender);
  // Every occupant matches the copy it gets by id (as Prosody, one is made when none came).
  if (out.attribute("id") == nullptr) out.set_attribute("id", MessageOps::new_id());
  host_.archive(*this, out, sender->bare);
  // Only what has a body is replayed to newcomers (as Prosody, and as muc_mam archives):
  // chat states and markers would push the conversation out of the history.
  if (out.child(xmpp::kClientNs, "body") != nullptr) MessageOps::keep_in_history(*this, out, sender->bare, host_.now_ms());
  MessageOps::broadcast(*this, out);
}

void Room::on_private_message(const xml::Element& message, const xmpp::Jid& from, const xmpp::Jid& to) {
  std::string type = message.attribute_or("type");
  if (type == "error") {
    drop_bouncing_session(*this, message, from);
    return;
  }
  Occupant* sender = occupant_of(from.full());
  if (sender == nullptr) {
    bounce(message, "cancel", "not-acceptable", "You are not an occupant of this room");
    return;
  }
  if (type == "groupchat") {
    bounce(message, "modify", "bad-request", "Groupchat messages go to the room, not to an occupant");
    return;
  }
  if (!MessageOps::may_send_private(*this, *sender)) {
    bounce(message, "cancel", "not-allowed", "Private messages are not allowed in this room");
    return;
  }
  if (!within_rate(*sender)) {
    bounce(message, "wait", "resource-constraint", "You are sending messages too fast");
    return;
  }
  const Occupant* target = occupant(to.resource());
  if (target == nullptr) {
    bounce(message, "cancel", "item-not-found", "No occupant has that nickname");
    return;
  }
  xml::Element out = filtered(MessageOps::without_to(message), [](const xml::Element& child) {
    return !child.is(kMucUserNs, "x") && child.ns() != kOccupantIdNs;
  });
  out.set_attribute("from", occupant_jid(sender->nick));
  out.add_child(xml::Element(kMucUserNs, "x"));
  out.add_child(occupant_id_element(sender->occupant_id));
  for (const auto& [full, presence] : target->sessions) {
    xml::Element copy = out;
    copy.set_attribute("to", full);
    send(std::move(copy));
  }
}

void Room::on_room_message(const xml::Element& message, const xmpp::Jid& from) {
  if (xmpp::is_error(message)) {
    drop_bouncing_session(*this, message, from);
    return;
  }
  const xml::Element* x = message.child(kMucUserNs, "x");
  std::vector<const xml::Element*> invites;
  if (x != nullptr)
    for (const xml::Element* child : x->children())
      if (child->is(kMucUserNs, "invite")) invites.push_back(child);
  if (!invites.empty()) {
    MessageOps::invite(*this, message, from, invites);
    return;
  }
  if (const xml::Element* decline = x != nullptr ? x->child(kMucUserNs, "decline") : nullptr) {
    MessageOps::decline(*this, message, from, *decline);
    return;
  }
  if (const xml::Element* form = message.child(kDataNs, "x")) {
    auto values = form_values(*form);
    if (auto type = values.find("FORM_TYPE"); type != values.end() && type->second == kRequestNs) {
      MessageOps::role_request(*this, message, from, *form);
      return;
    }
  }
  bounce(message, "modify", "bad-request", "Messages to the room are groupchat messages, invitations or requests");
}

void Room::restore_history(xml::Element message, std::int64_t time_ms) {
  MessageOps::keep_in_history(*this, message, {}, time_ms);
}

void Room::send_history(std::string_view to_full, const xml::Element* history_request) {
  for (std::size_t i = MessageOps::history_start(*this, history_request); i < history_.size(); ++i) {
    const HistoryEntry& entry = history_[i];
    xml::Element copy = entry.message;
    copy.set_attribute("to", std::string(to_full));
    copy.add_child(xml::Element(kDelayNs, "delay", {{"from", jid_}, {"stamp", mam::format_datetime(entry.time_ms / 1000)}}));
    send(std::move(copy));
  }
}

void Room::send_subject(std::string_view to_full) {
  std::string from = state_.subject_nick.empty() ? jid_ : occupant_jid(state_.subject_nick);
  xml::Element message(xmpp::kClientNs, "message",
                       {{"from", from}, {"to", std::string(to_full)}, {"type", "groupchat"}});
  message.add_child(text_element(xmpp::kClientNs, "subject", state_.subject));
  send(std::move(message));
}

bool Room::within_rate(Occupant& occupant) {
  const double rate = host_.options().event_rate();
  if (rate <= 0) return true;
  const double capacity = std::max(1.0, host_.options().burst_factor());
  const std::int64_t now = host_.now_ms();
  double refill = static_cast<double>(std::max<std::int64_t>(0, now - occupant.refilled_ms)) / 1000.0 * rate;
  occupant.tokens = std::min(capacity, occupant.tokens + refill);
  occupant.refilled_ms = now;
  if (occupant.tokens < 1) return false;
  occupant.tokens -= 1;
  return true;
}

}  // namespace xmppd::router::muc
