// What a MUC service (muc_service.h) keeps in the router's user store: its persistent rooms
// (configuration, subject, affiliations), the tombstones of destroyed ones, and its XEP-0421
// occupant id key. Tables in store/muc_schema.h, statements in store/catalog.cc; writes go in
// the user store's batch (UserStore::atomically), a room all or nothing.
//
// Trust: every value was set by a room's owner or occupant, i.e. by clients and other
// servers. A row read back is checked: one that does not decode (a damaged or hand-edited
// store) is logged and its room skipped, never trusted and never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "router/muc/room.h"
#include "router/user_store.h"

namespace xmppd::router::muc {

// The configuration as the store keeps it: "key=value" lines, values escaped (\\, \n).
// Unknown keys are skipped (a newer build's); a malformed line, value or missing key fails.
std::string encode_config(const RoomConfig& config, bool locked);
bool decode_config(std::string_view text, RoomConfig& config, bool& locked);

class RoomStore {
 public:
  using Outcome = UserStore::Outcome;
  struct Tombstone {
    std::int64_t expires = 0;  // seconds since the epoch
    std::string reason, alternate;
  };

  // A tombstone's reason is text a person reads, bounded as a <destroy/>'s reason is
  // (room_forms.h valid_display_text: at most 1023 bytes of UTF-8, no control characters but
  // line breaks and tabs), and its alternate venue a JID (at most 3071 bytes): what is not
  // (a damaged store, or a destroy that skipped the room's checks) is dropped, the tombstone
  // kept. True when something was dropped.
  static bool bound(Tombstone& tombstone);

  // `store` outlives this; `service` is the service's domain.
  RoomStore(UserStore& store, std::string service) : store_(store), service_(std::move(service)) {}

  // Every room of the service by localpart, and its tombstones; false when the database
  // failed (nothing is then returned: the caller tries again later).
  bool load(std::map<std::string, RoomState, std::less<>>& rooms,
            std::map<std::string, Tombstone, std::less<>>& tombstones);
  // Writes the room in one savepoint: whole (its row and its affiliations) when `saved` is
  // null, else only what differs from `saved`, the state last written (the room's row when
  // its configuration, subject or lock changed, and one statement per affiliation changed).
  Outcome save(std::string_view room, const RoomState& state, const RoomState* saved = nullptr);
  // Forgets the room (it stopped being persistent, or was destroyed).
  Outcome forget(std::string_view room);
  Outcome set_tombstone(std::string_view room, const Tombstone& tombstone);
  Outcome remove_tombstone(std::string_view room);
  // The service's occupant id key, made from RAND_bytes and stored the first time; nullopt
  // when the database failed.
  std::optional<std::string> occupant_id_key();

 private:
  bool load_affiliations(std::map<std::string, RoomState, std::less<>>& rooms);
  bool save_affiliations(std::string_view room, const RoomState& state, const RoomState& saved);

  UserStore& store_;
  std::string service_;
};

}  // namespace xmppd::router::muc
