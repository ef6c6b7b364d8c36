// The room's dispatch (what it receives goes to the file of its concern, room.h), and what
// every concern uses: affiliations, roles, occupants by nickname and by real JID, errors.
#include "router/muc/room.h"

#include "xmpp/stanza.h"

namespace xmppd::router::muc {
namespace {

constexpr std::string_view kAffiliations[] = {"outcast", "none", "member", "admin", "owner"};
constexpr std::string_view kRoles[] = {"none", "visitor", "participant", "moderator"};

// The single child of an IQ get or set, or null.
const xml::Element* iq_payload(const xml::Element& iq) {
  auto children = iq.children();
  return children.size() == 1 ? children.front() : nullptr;
}

}  // namespace

std::string_view name_of(Affiliation affiliation) { return kAffiliations[static_cast<int>(affiliation)]; }
std::string_view name_of(Role role) { return kRoles[static_cast<int>(role)]; }

std::optional<Affiliation> parse_affiliation(std::string_view text) {
  for (int i = 0; i < 5; ++i)
    if (kAffiliations[i] == text) return static_cast<Affiliation>(i);
  return std::nullopt;
}

std::optional<Role> parse_role(std::string_view text) {
  for (int i = 0; i < 4; ++i)
    if (kRoles[i] == text) return static_cast<Role>(i);
  return std::nullopt;
}

Room::Room(RoomHost& host, std::string jid, RoomState state)
    : host_(host), jid_(std::move(jid)), state_(std::move(state)) {}

void Room::receive(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  const std::string& kind = stanza.name();
  if (kind == "presence") {
    // A presence to the bare room JID has no nickname: XEP-0045 §7.2.1 wants one.
    if (!to.has_resource()) {
      bounce(stanza, "modify", "jid-malformed", "A nickname is required to enter the room");
      return;
    }
    on_presence(stanza, from, to);
    return;
  }
  if (kind == "message") {
    if (to.has_resource())
      on_private_message(stanza, from, to);
    else if (stanza.attribute_or("type") == "groupchat")
      on_groupchat(stanza, from);
    else
      on_room_message(stanza, from);
    return;
  }
  if (kind != "iq") return;
  if (to.has_resource()) {
    on_occupant_iq(stanza, from, to);
    return;
  }
  std::string type = stanza.attribute_or("type");
  if (type != "get" && type != "set") return;  // results and errors for the room: none asked
  const xml::Element* payload = iq_payload(stanza);
  if (payload == nullptr) {
    bounce(stanza, "modify", "bad-request");
    return;
  }
  if (payload->ns() == kMucOwnerNs && payload->name() == "query")
    on_owner_iq(stanza, from);
  else if (payload->ns() == kMucAdminNs && payload->name() == "query")
    on_admin_iq(stanza, from);
  else if (state_.locked && affiliation_of(from.bare()) != Affiliation::kOwner)
    // §10.1.1: a locked room does not exist for anyone else, its archive and vCard included.
    bounce(stanza, "cancel", "item-not-found", "The room is locked until its owner configures it");
  else if (!host_.room_iq(*this, stanza, *payload, from))
    on_room_iq(stanza, from);
}

Affiliation Room::affiliation_of(std::string_view bare) const {
  if (host_.is_service_admin(bare)) return Affiliation::kOwner;
  auto it = state_.affiliations.find(bare);
  if (it != state_.affiliations.end()) return it->second.affiliation;
  // As Prosody: an outcast entry for a bare domain bans every user at it (a server ban),
  // unless the user has an entry of its own.
  if (std::size_t at = bare.find('@'); at != std::string_view::npos) {
    auto domain = state_.affiliations.find(bare.substr(at + 1));
    if (domain != state_.affiliations.end() && domain->second.affiliation == Affiliation::kOutcast)
      return Affiliation::kOutcast;
  }
  return Affiliation::kNone;
}

Role Room::default_role(Affiliation affiliation) const {
  switch (affiliation) {
    case Affiliation::kOwner:
    case Affiliation::kAdmin:
      return Role::kModerator;
    case Affiliation::kMember:
      return Role::kParticipant;
    case Affiliation::kNone:
      return state_.config.moderated ? Role::kVisitor : Role::kParticipant;
    case Affiliation::kOutcast:
      break;
  }
  return Role::kNone;
}

const std::string* Room::registered_nick(std::string_view bare) const {
  auto it = state_.affiliations.find(bare);
  return it != state_.affiliations.end() && !it->second.nick.empty() ? &it->second.nick : nullptr;
}

Occupant* Room::occupant(std::string_view nick) {
  auto it = occupants_.find(nick);
  return it != occupants_.end() ? &it->second : nullptr;
}

Occupant* Room::occupant_of(std::string_view real_full) {
  auto it = nick_of_.find(real_full);
  return it != nick_of_.end() ? occupant(it->second) : nullptr;
}

void Room::bounce(const xml::Element& stanza, std::string_view type, std::string_view condition,
                  std::string_view text) {
  if (!xmpp::is_error(stanza)) send(xmpp::error_reply(stanza, type, condition, text));
}

}  // namespace xmppd::router::muc
