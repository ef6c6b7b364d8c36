// The conversion of a Prosody MUC room file (xmppctl/prosody_rooms.h), which xmppctl import
// prosody runs on what room owners and occupants set. Invariants: no crash; a refusal says
// "FILE:LINE: message"; a room converted has an owner, texts of valid UTF-8, and a
// configuration that the room store's text form keeps unchanged. The same bytes as the
// room's archive: every message kept is an occupant's, with a key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/utf8_text.h"
#include "router/muc/room_store.h"
#include "xmppctl/prosody_rooms.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using xmppd::ctl::prosody_import::ConvertedRoom;
  namespace muc = xmppd::router::muc;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const ConvertedRoom room = xmppd::ctl::prosody_import::convert_room(
      xmppd::ctl::prosody_import::RawFile{"s/config", bytes, false}, "team", "conference.chat.test", 1);
  // The same bytes as the room's archive (mod_muc_mam's muc_log).
  std::string warnings;
  for (const auto& m : xmppd::ctl::prosody_import::convert_room_log(
           xmppd::ctl::prosody_import::RawFile{"s/muc_log", bytes, true}, "team@conference.chat.test", warnings))
    if (m.with.rfind("team@conference.chat.test/", 0) != 0 || m.id.empty()) std::abort();
  if (!warnings.empty() && warnings.compare(0, 10, "s/muc_log:") != 0) std::abort();
  if (room.kind == ConvertedRoom::Kind::kRefused) {
    if (room.error.compare(0, 9, "s/config:") != 0) std::abort();
    return 0;
  }
  if (room.kind == ConvertedRoom::Kind::kNotPersistent) return 0;
  bool owner = false;
  for (const auto& [jid, entry] : room.state.affiliations) {
    owner = owner || entry.affiliation == muc::Affiliation::kOwner;
    if (entry.affiliation == muc::Affiliation::kNone || !xmppd::valid_utf8(entry.nick)) std::abort();
  }
  if (!owner || !xmppd::valid_utf8(room.state.subject) || !xmppd::valid_utf8(room.state.config.name)) std::abort();
  muc::RoomConfig back;
  bool locked = true;
  if (!muc::decode_config(muc::encode_config(room.state.config, false), back, locked) || locked ||
      !(back == room.state.config))
    std::abort();
  return 0;
}
