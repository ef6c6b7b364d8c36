// vcard_muc: a room's vCard (vcard-temp, XEP-0054), as Prosody's mod_vcard_muc: anyone reads
// it, the room's owners set it, and the room then tells its occupants the new avatar's hash
// in a presence from its bare JID (XEP-0486, XEP-0153's vcard-temp:x:update). Kept in the
// item store under the room's bare JID, within max_user_vcard_bytes.
//
// Trust: the vCard comes from an owner's client; it is kept as text and only its photo is
// read (decoded to be hashed: router/modules/vcard_photo.h).
#include "router/modules/vcard_photo.h"
#include "router/muc/muc_service.h"
#include "xml/fragment.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kVcardNs = "vcard-temp";
constexpr std::string_view kUpdateNs = "vcard-temp:x:update";
constexpr std::string_view kStore = "vcard_muc";

}  // namespace

void MucService::vcard_iq(muc::Room& room, const xml::Element& iq, const xml::Element& vcard, const xmpp::Jid& from) {
  const ItemStore::Key key{room.jid(), kStore, "", "vcard"};
  if (iq.attribute_or("type") != "set") {
    xml::Element reply = xmpp::reply(iq, "result");
    std::optional<std::string> stored = server_.items().get(key);
    std::optional<xml::Element> parsed;
    if (stored) parsed = xml::parse_fragment(*stored, kVcardNs, server_.quotas().vcard_bytes + 1024);
    reply.add_child(parsed ? std::move(*parsed) : xml::Element(kVcardNs, "vCard"));
    return send(std::move(reply));
  }
  if (room.affiliation_of(from.bare()) != muc::Affiliation::kOwner)
    return room.bounce(iq, "auth", "forbidden", "Only the room's owners may set its vCard");
  std::string text;
  vcard.serialize(text);
  if (text.size() > server_.quotas().vcard_bytes)
    return room.bounce(iq, "modify", "not-acceptable", "The vCard is larger than the server keeps");
  std::string why;
  auto photo = vcard_photo(vcard, why);
  if (!photo) return room.bounce(iq, "modify", "bad-request", why);
  ItemStore::Limits limits;
  limits.max_bytes = server_.quotas().vcard_bytes;
  if (server_.items().put(key, text, limits) != ItemStore::Outcome::kStored)
    return room.bounce(iq, "wait", "internal-server-error");
  send(xmpp::reply(iq, "result"));
  // XEP-0486 §3: the room's presence with its avatar's hash (empty: no avatar) to occupants.
  const std::string hash = *photo ? (*photo)->hash : std::string();
  for (const auto& [nick, occupant] : room.occupants())
    for (const auto& [full, presence] : occupant.sessions) {
      xml::Element out(xmpp::kClientNs, "presence", {{"from", room.jid()}, {"to", full}});
      xml::Element& photo_element = out.add_child(xml::Element(kUpdateNs, "x")).add_child(xml::Element(kUpdateNs, "photo"));
      if (!hash.empty()) photo_element.add_text(hash);
      send(std::move(out));
    }
}

}  // namespace xmppd::router
