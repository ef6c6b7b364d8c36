// Joining, nickname changes, leaving, presence and status codes (XEP-0045 §7.1-§7.7,
// §7.14), XEP-0421 occupant ids, XEP-0410 self-ping, IQs to occupants.
// STUB: the skeleton; room_occupants is being written.
#include "router/muc/room.h"

namespace xmppd::router::muc {

void Room::on_presence(const xml::Element& presence, const xmpp::Jid&, const xmpp::Jid&) {
  bounce(presence, "cancel", "service-unavailable");
}

xml::Element Room::presence_of(const Occupant& occupant, std::string_view, std::span<const int>,
                               const std::vector<xml::Element>&) const {
  return xml::Element("jabber:client", "presence", {{"from", occupant_jid(occupant.nick)}});
}

void Room::broadcast_presence(const Occupant&, std::span<const int>, const std::vector<xml::Element>&) {}

void Room::remove_occupant(const std::string& nick, std::span<const int>, const std::vector<xml::Element>&) {
  auto it = occupants_.find(nick);
  if (it == occupants_.end()) return;
  for (const auto& [full, presence] : it->second.sessions) nick_of_.erase(full);
  occupants_.erase(it);
}

void Room::on_occupant_iq(const xml::Element& iq, const xmpp::Jid&, const xmpp::Jid&) {
  bounce(iq, "cancel", "service-unavailable");
}

std::string Room::occupant_id_for(std::string_view bare) const { return std::string(bare); }

}  // namespace xmppd::router::muc
