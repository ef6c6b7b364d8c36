// Stanza pieces that both halves of the occupants' side of a room build (room_occupants.cc,
// room_messages.cc): XEP-0421's element, copies without what a sender must not forge, and
// lengths as XEP-0045's limits count them (characters, not bytes).
//
// Trust: the stanzas handed in come from anyone; these helpers only copy and count.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "router/muc/room.h"
#include "xmpp/jid.h"
#include "xmpp/namespaces.h"

namespace xmppd::router::muc {

inline constexpr std::string_view kOccupantIdNs = "urn:xmpp:occupant-id:0";  // XEP-0421
inline constexpr std::string_view kStanzaIdNs = "urn:xmpp:sid:0";            // XEP-0359
inline constexpr std::string_view kDelayNs = "urn:xmpp:delay";               // XEP-0203

inline xml::Element occupant_id_element(const std::string& id) {
  return xml::Element(kOccupantIdNs, "occupant-id", {{"id", id}});
}

// A copy of `stanza` (name, namespace, attributes) with the child elements `keep` accepts;
// character data directly inside a stanza is only whitespace, and is dropped.
template <typename Keep>
xml::Element filtered(const xml::Element& stanza, Keep keep) {
  xml::Element out(stanza.shared_ns(), stanza.name(), stanza.attributes());
  for (const xml::Element* child : stanza.children())
    if (keep(*child)) out.add_child(*child);
  return out;
}

// Characters of UTF-8 text (the parser has checked that it is UTF-8): bytes that do not
// continue a sequence.
inline std::size_t characters(std::string_view text) {
  std::size_t count = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  return count;
}

// A session that bounced what the room sent it (an error presence, or an error message with
// a condition that says the session is gone) leaves, as Prosody has it: the others get its
// unavailable presence with 333 (room_occupants.cc). False when `from` is no occupant's
// session or the message's error says nothing of the session.
bool drop_bouncing_session(Room& room, const xml::Element& error, const xmpp::Jid& from);

}  // namespace xmppd::router::muc
