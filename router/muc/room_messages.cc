// Groupchat messages, the subject, history on entering, private messages, mediated
// invitations (XEP-0045 §7.2.15-§7.2.16, §7.4-§7.5, §7.8, §8.1), and the limits an occupant's
// messages are held to.
// STUB: the skeleton; room_messages is being written.
#include "router/muc/room.h"

namespace xmppd::router::muc {

void Room::on_groupchat(const xml::Element& message, const xmpp::Jid&) {
  bounce(message, "cancel", "service-unavailable");
}

void Room::on_private_message(const xml::Element& message, const xmpp::Jid&, const xmpp::Jid&) {
  bounce(message, "cancel", "service-unavailable");
}

void Room::on_room_message(const xml::Element& message, const xmpp::Jid&) {
  bounce(message, "cancel", "service-unavailable");
}

void Room::send_history(std::string_view, const xml::Element*) {}
void Room::send_subject(std::string_view) {}
bool Room::within_rate(Occupant&) { return true; }

}  // namespace xmppd::router::muc
