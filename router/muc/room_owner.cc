// What the room's owners do (XEP-0045 §10): creating and unlocking the room, instant rooms,
// the configuration form (muc#owner, muc#roomconfig), destroying the room.
// STUB: the skeleton; room_owner is being written.
#include "router/muc/room.h"

namespace xmppd::router::muc {

void Room::on_owner_iq(const xml::Element& iq, const xmpp::Jid&) { bounce(iq, "cancel", "feature-not-implemented"); }

void Room::destroy(const xml::Element* destroy) { host_.gone(*this, destroy); }

}  // namespace xmppd::router::muc
