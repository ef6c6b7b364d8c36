// One persistent room of a Prosody 0.12 MUC component, as xmppd's MUC service keeps it
// (router/muc/room.h RoomState): what xmppctl import prosody turns a parsed
// DATA_DIR/SERVICE/config/ROOM.dat (mod_muc's "config" store, muc.lib.lua's room:freeze())
// into. Both of Prosody's layouts are read: the new one (affiliations as fields keyed by bare
// JID beside _jid, _data and _affiliation_data) and the old one (jid, _affiliations).
//
// It trusts nothing it reads: the file holds what room owners and occupants (clients and
// other servers) set. Every value is checked for its type and range, every JID parsed, every
// text checked to be UTF-8 that XML can carry. A room with any bad value is refused whole
// ("FILE:LINE: message"), never imported in part.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "router/muc/room.h"
#include "xmppctl/prosody_user.h"

namespace xmppd::ctl::prosody_import {

struct ConvertedRoom {
  enum class Kind { kRoom, kNotPersistent, kTombstone, kRefused };
  Kind kind = Kind::kRefused;
  router::muc::RoomState state;
  std::string error;  // kRefused: "FILE:LINE: message"
  // kTombstone: a room destroyed in Prosody (muc_tombstones, on by default), which answers
  // <gone/> until `expires` (seconds since the epoch), with the reason and alternate venue
  // the destroyer gave; the caller bounds them as xmppd's own (RoomStore::bound).
  std::int64_t expires = 0;
  std::string reason, alternate;
};

// The service's options (config/muc.h, defaults as there) a room is held to: Prosody has no
// cap on history or occupants, and writes no max_occupants, so an imported room gets the
// service's cap where it has none or one above it, as its owner's form would demand.
struct RoomLimits {
  std::size_t max_occupants = 200;        // muc_max_occupants (at least 1)
  std::size_t max_history_messages = 20;  // max_history_messages
  std::size_t max_subject_length = 1024;  // muc_max_subject_length, characters
  std::size_t max_nick_length = 64;       // muc_max_nick_length, characters
  bool log_by_default = true;             // muc_log_by_default: archiving when unset
};

// Parses and converts `file`, the room `node`@`service`; `now` (seconds since the epoch) is
// its creation time in xmppd, which Prosody does not keep. A room Prosody saved only because
// it was live at shutdown (not persistent) is kNotPersistent. What was narrowed to `limits`
// is said in `warnings` ("FILE: message" lines).
ConvertedRoom convert_room(const RawFile& file, std::string_view node, std::string_view service, std::int64_t now,
                           const RoomLimits& limits = {}, std::string* warnings = nullptr);

}  // namespace xmppd::ctl::prosody_import
