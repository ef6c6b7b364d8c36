// Multi-user chat (XEP-0045) options of a Component "name" "muc" section, by Prosody 0.12's
// mod_muc, mod_muc_mam and mod_muc_limits names and defaults where Prosody has them, and
// xmppd's own limits where it has none (xmppd.conf(5)). The parent reads them, the router's
// MUC service (router/muc/) applies them. One struct for both, so the defaults are written once.
#ifndef XMPPD_CONFIG_MUC_H
#define XMPPD_CONFIG_MUC_H

#include <cstddef>
#include <string>

namespace xmppd::config {

struct MucSettings {
  // restrict_room_creation: who may create rooms: "none" (anyone, Prosody's false), "local"
  // (users of the VirtualHost the service is a subdomain of), "admin" (the admins; true).
  std::string restrict_room_creation = "none";
  // Defaults of a new room's configuration form.
  bool room_default_public = true;            // muc_room_default_public
  bool room_default_persistent = false;       // muc_room_default_persistent
  bool room_default_members_only = false;     // muc_room_default_members_only
  bool room_default_moderated = false;        // muc_room_default_moderated
  bool room_default_public_jids = false;      // muc_room_default_public_jids (whois anyone)
  bool room_default_change_subject = false;   // muc_room_default_change_subject
  bool room_default_allow_member_invites = false;  // muc_room_default_allow_member_invites
  std::size_t room_default_history_length = 20;   // muc_room_default_history_length
  std::size_t max_history_messages = 20;          // max_history_messages: the most a room keeps
  // muc_room_locking: a new room stays locked until configured (XEP-0045 §10.1.2), for at
  // most muc_room_lock_timeout seconds, then is destroyed.
  bool room_locking = true;
  std::size_t room_lock_timeout = 300;
  // enforce_registered_nickname: a user with a registered nickname (XEP-0045 §7.10) enters
  // under it, whatever it asked for, and keeps it.
  bool enforce_registered_nickname = false;
  // muc_tombstones: a destroyed persistent room leaves a tombstone for muc_tombstone_expiry
  // seconds that answers joins with <gone/> and the alternate venue.
  bool tombstones = true;
  std::size_t tombstone_expiry = 31 * 86400;
  // muc_max_occupants: the largest muc#roomconfig_maxusers a room may set, and a new room's.
  std::size_t max_occupants = 200;
  // xmppd's limits (Prosody has none, or mod_muc_limits's): per user, per occupant, per room.
  std::size_t max_rooms_per_user = 50;       // muc_max_rooms_per_user: rooms a user owns
  std::size_t max_rooms = 10000;             // muc_max_rooms: rooms the service holds
  // muc_max_rooms_per_domain: rooms users of one other server may have created (this
  // server's hosts are exempt), so that one server of many user names cannot fill the service.
  std::size_t max_rooms_per_domain = 500;
  std::size_t max_nick_length = 64;          // muc_max_nick_length: characters
  std::size_t max_subject_length = 1024;     // muc_max_subject_length: characters
  std::size_t max_char_count = 5664;         // muc_max_char_count: of a groupchat body
  std::size_t max_line_count = 23;           // muc_max_line_count: of a groupchat body
  double event_rate = 0.5;                   // muc_event_rate: stanzas per second per occupant
  double burst_factor = 6;                   // muc_burst_factor: the burst allowed over it
  std::size_t max_form_bytes = 64 * 1024;    // muc_max_form_bytes: a configuration form
  // muc_mam (XEP-0313 for rooms): archive a room unless its owner turned it off
  // (muc_log_by_default), archive every room whatever its setting (muc_log_all_rooms), and
  // how long (muc_log_expires_after, seconds; 0 never). Presences are not archived.
  bool log_by_default = true;
  bool log_all_rooms = false;
  std::size_t log_expires_after = 7 * 86400;

  bool operator==(const MucSettings&) const = default;
};

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_MUC_H
