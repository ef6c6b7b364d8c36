// Moderators' and admins' work (XEP-0045 §8, §9): roles (kick, voice) and affiliations (ban,
// member, admin, owner), one item or a list at a time (muc#admin).
// STUB: the skeleton; room_admin is being written.
#include "router/muc/room.h"

namespace xmppd::router::muc {

void Room::on_admin_iq(const xml::Element& iq, const xmpp::Jid&) { bounce(iq, "cancel", "feature-not-implemented"); }

void Room::set_affiliation(const std::string& bare, Affiliation affiliation, std::string_view reason,
                           std::string_view) {
  state_.affiliations[bare] = AffiliationEntry{affiliation, {}, std::string(reason)};
}

}  // namespace xmppd::router::muc
