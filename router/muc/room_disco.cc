// What the room says of itself (XEP-0045 §6.4, §6.5: disco#info with muc#roominfo, and
// disco#items), nickname registration (§7.10, jabber:iq:register), and ping to the room.
// STUB: the skeleton; room_disco is being written.
#include "router/muc/room.h"

namespace xmppd::router::muc {

void Room::on_room_iq(const xml::Element& iq, const xmpp::Jid&) { bounce(iq, "cancel", "service-unavailable"); }

}  // namespace xmppd::router::muc
