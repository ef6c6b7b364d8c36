// One multi-user chat room (XEP-0045): its configuration, affiliations, occupants, history
// and subject, and the protocol that changes them. A room belongs to its service
// (muc_service.h), which creates it for the first presence, keeps it (persistence, archive,
// vCard) and removes it; the room speaks only through its RoomHost.
//
// The protocol is split by concern, one file each:
//   room.cc           dispatch of what the room receives; affiliations and roles; sending
//   room_occupants.cc joining, nickname changes, leaving, presence and status codes,
//                     XEP-0421 occupant ids, XEP-0410 self-ping, IQs to occupants
//   room_messages.cc  groupchat messages, subject, history on join, private messages,
//                     mediated invitations and declines, per-occupant rate and size limits
//   room_owner.cc     creation and locking, the configuration form (muc#owner), destruction
//   room_admin.cc     roles and affiliations (muc#admin): kick, ban, voice, lists
//   room_disco.cc     disco#info and #items of the room, nickname registration (jabber:iq:register)
//
// Trust: 'from' of every stanza is the sender's real address (router/component.h); what it
// carries is checked here, and nothing an occupant sends reaches others unless the room
// re-addressed it (from the room's JID) and its role allowed it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control.pb.h"
#include "xml/element.h"
#include "xmpp/jid.h"

namespace xmppd::router::muc {

inline constexpr std::string_view kMucNs = "http://jabber.org/protocol/muc";
inline constexpr std::string_view kMucUserNs = "http://jabber.org/protocol/muc#user";
inline constexpr std::string_view kMucAdminNs = "http://jabber.org/protocol/muc#admin";
inline constexpr std::string_view kMucOwnerNs = "http://jabber.org/protocol/muc#owner";

// The service's options (config/muc.h, as the parent sent them).
using MucOptions = ipc::RouterSettings::MucService;

// Ordered by privilege: a comparison says who outranks whom (XEP-0045 §5).
enum class Affiliation { kOutcast, kNone, kMember, kAdmin, kOwner };
enum class Role { kNone, kVisitor, kParticipant, kModerator };
std::string_view name_of(Affiliation affiliation);
std::string_view name_of(Role role);
std::optional<Affiliation> parse_affiliation(std::string_view text);
std::optional<Role> parse_role(std::string_view text);

// Who may do something the configuration form controls.
enum class Whois { kModerators, kAnyone };            // muc#roomconfig_whois: who sees real JIDs
enum class WhoMay { kNobody, kModerators, kParticipants, kAnyone };  // muc#roomconfig_allowpm

// The room's configuration (muc#roomconfig, XEP-0045 §10.2), persisted with the room.
struct RoomConfig {
  std::string name, description, language;
  std::string password;  // empty: none (muc#roomconfig_passwordprotectedroom off)
  bool persistent = false;
  bool public_room = true;  // listed in the service's disco#items
  bool members_only = false;
  bool moderated = false;
  bool allow_invites = false;   // members (not only admins) may invite to a members-only room
  bool change_subject = false;  // participants (not only moderators) may change the subject
  bool archiving = true;        // muc_mam: the room's messages are archived
  Whois whois = Whois::kModerators;
  WhoMay allow_pm = WhoMay::kAnyone;
  std::size_t max_occupants = 200;
  std::size_t history_length = 20;
  // Not a form field: the domain of the user who created the room, for
  // muc_max_rooms_per_domain (muc_service.cc); kept with the configuration so that it is
  // written with the room's row. "" for a room stored before it was kept.
  std::string creator_domain;

  bool operator==(const RoomConfig&) const = default;
};

// An affiliation a room keeps for a bare JID, with the nickname it registered (XEP-0045
// §7.10) and the reason an admin gave; persisted with the room.
struct AffiliationEntry {
  Affiliation affiliation = Affiliation::kNone;
  std::string nick;
  std::string reason;

  bool operator==(const AffiliationEntry&) const = default;
};

// What survives a restart of a persistent room (the service writes it: RoomHost::changed).
struct RoomState {
  RoomConfig config;
  std::map<std::string, AffiliationEntry, std::less<>> affiliations;  // by bare JID
  std::string subject, subject_nick;  // the subject and the nickname that set it
  std::int64_t created = 0;           // seconds since the epoch
  bool locked = false;                // created, not yet configured (XEP-0045 §10.1)
};

// One nickname in the room. A user may be in the room under one nickname from several of
// its sessions (as in Prosody): each session is a real full JID with its last presence.
struct Occupant {
  std::string nick;
  std::string bare;         // the real bare JID
  std::string occupant_id;  // XEP-0421: stable per real bare JID and room
  Role role = Role::kNone;
  // Real full JID -> its last presence to the room (without its <x/> of muc or muc#user).
  std::map<std::string, xml::Element, std::less<>> sessions;
  std::string last_session;  // the session whose presence is the occupant's (the latest one)
  // Token bucket of muc_event_rate and muc_burst_factor: messages and presence changes.
  double tokens = 0;
  std::int64_t refilled_ms = 0;
};

// A message as the room broadcast it, for history on join (XEP-0045 §7.2.15).
struct HistoryEntry {
  xml::Element message;      // from room@service/nick, without 'to'; <delay/> added when sent
  std::int64_t time_ms = 0;  // milliseconds since the epoch: <history seconds/> counts exactly
  std::string sender_bare;   // real bare JID, for the <delay/>'s or <addresses/>'s whois ("" when
                             // read back from the archive, which does not keep it)
  std::size_t chars = 0;     // serialized size, for maxchars
};

// An IQ the room passed from one occupant to another, waiting for its reply; kept by the
// random id the target saw, which tells the target nothing (room_occupants.cc).
struct PendingIq {
  std::string requester;       // real full JID
  std::string requester_nick;  // for the per-occupant cap
  std::string id;              // the requester's own id
  std::string target_nick, target_bare;
  std::int64_t expires_ms = 0;
};

class Room;
struct SubmittedForm;  // room_forms.h
struct RequestError;   // room_forms.h
struct AdminChange;    // room_admin.cc

// What a room needs of its service (muc_service.h implements it; a unit test may too).
class RoomHost {
 public:
  virtual const MucOptions& options() const = 0;
  // A stanza from the room (or an occupant's address) to anyone, local or remote.
  virtual void send(xml::Element stanza) = 0;
  // Service admins are owners of every room (XEP-0045 §5.2.1; Prosody's admins).
  virtual bool is_service_admin(std::string_view bare) const = 0;
  virtual std::int64_t now_ms() const = 0;
  // The room's persisted state changed: written now if it is persistent (and the room
  // forgotten by the store when it stopped being persistent).
  virtual void changed(Room& room) = 0;
  // The room is gone (destroyed, or emptied and not persistent, or its lock expired): the
  // service forgets it after the current stanza. `destroy` is the owner's <destroy/>
  // (reason, alternate venue) for the tombstone, or null.
  virtual void gone(Room& room, const xml::Element* destroy) = 0;
  // A groupchat message about to be broadcast, from room@service/nick: archived when the
  // room archives (muc_mam), and given its <stanza-id by=room/> (XEP-0359) then.
  virtual void archive(Room& room, xml::Element& message, const std::string& sender_bare) = 0;
  // IQs the service answers for the room: XEP-0313 queries, vcard-temp (vcard_muc). False
  // when the service has nothing for this payload (the room answers service-unavailable).
  virtual bool room_iq(Room& room, const xml::Element& iq, const xml::Element& payload, const xmpp::Jid& from) = 0;
  // Features the service adds to the room's disco#info (urn:xmpp:mam:2, vcard-temp).
  virtual void room_features(const Room& room, std::vector<std::string>& features) const = 0;
  // The secret XEP-0421 occupant ids are derived with (HMAC over room and real bare JID).
  virtual std::string_view occupant_id_key() const = 0;

 protected:
  ~RoomHost() = default;
};

class Room {
 public:
  // A new room (state.locked when it waits for configuration) or one the service loaded.
  Room(RoomHost& host, std::string jid, RoomState state);
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;

  const std::string& jid() const { return jid_; }  // room@service
  const RoomState& state() const { return state_; }
  const std::map<std::string, Occupant, std::less<>>& occupants() const { return occupants_; }
  bool empty() const { return occupants_.empty(); }

  // Everything addressed to the room or an occupant (room.cc dispatches).
  void receive(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to);
  // The room is destroyed (by its owner, room_owner.cc, or by the service): each occupant
  // gets its unavailable presence with `destroy` (reason, alternate venue; XEP-0045 §10.9)
  // and the host is told the room is gone.
  void destroy(const xml::Element* destroy);

  // --- room.cc: affiliations, roles, sending ---
  // The affiliation of a real bare JID (service admins are owners; an outcast bare domain
  // bans its users).
  Affiliation affiliation_of(std::string_view bare) const;
  // The role an affiliation gets on entering (XEP-0045 §5.1.2: moderated rooms give
  // visitors to those without affiliation).
  Role default_role(Affiliation affiliation) const;
  Occupant* occupant(std::string_view nick);
  // The nickname a bare JID registered in the room (XEP-0045 §7.10), or null.
  const std::string* registered_nick(std::string_view bare) const;
  // The occupant one of whose sessions is this real full JID, or null.
  Occupant* occupant_of(std::string_view real_full);
  std::string occupant_jid(std::string_view nick) const { return jid_ + "/" + std::string(nick); }
  void send(xml::Element stanza) { host_.send(std::move(stanza)); }
  // An error reply from the room to `stanza`'s sender (none to an error).
  void bounce(const xml::Element& stanza, std::string_view type, std::string_view condition,
              std::string_view text = {});
  // The persisted state changed: the host writes it (RoomHost::changed).
  void changed() { host_.changed(*this); }

  // --- room_occupants.cc ---
  // A presence to room@service/nick: join (XEP-0045 §7.2), nickname change (§7.6), status
  // change (§7.7), leave (§7.14). An error presence from an occupant removes it (§7.2.21?).
  void on_presence(const xml::Element& presence, const xmpp::Jid& from, const xmpp::Jid& to);
  // The occupant's presence as `viewer` (a real full JID in the room) receives it: from
  // room/nick, with <x muc#user><item affiliation role [jid] [nick]/> and the statuses
  // (XEP-0045 §7.2.3: jid when whois allows the viewer or the viewer is a moderator), and
  // its XEP-0421 <occupant-id/>. `session` picks which session's presence (empty: the most
  // recent); `item_extra` (a <reason/> or <actor/>) goes inside <item/>.
  xml::Element presence_of(const Occupant& occupant, std::string_view viewer, std::span<const int> statuses,
                           const std::vector<xml::Element>& item_extra = {}) const;
  // The occupant's changed role or affiliation, or a status change, to every occupant
  // (each as presence_of, 110 to its own sessions).
  void broadcast_presence(const Occupant& occupant, std::span<const int> statuses,
                          const std::vector<xml::Element>& item_extra = {});
  // Removes the occupant (all its sessions): each session gets its unavailable presence with
  // `statuses` and 110, the others the same without 110 (XEP-0045 §8.2 kick 307, §9.1 ban
  // 301, §9.4 affiliation loss 321, §9.7 members-only 322, §10.9 destruction). An empty room
  // that is not persistent is then gone.
  void remove_occupant(const std::string& nick, std::span<const int> statuses,
                       const std::vector<xml::Element>& item_extra = {});
  // An IQ to room@service/nick: XEP-0410 self-ping answered, else passed to the occupant.
  void on_occupant_iq(const xml::Element& iq, const xmpp::Jid& from, const xmpp::Jid& to);
  // XEP-0421: the occupant id of a real bare JID in this room.
  std::string occupant_id_for(std::string_view bare) const;

  // --- room_messages.cc ---
  // type=groupchat to the room: broadcast (§7.4), or a subject change (§8.1).
  void on_groupchat(const xml::Element& message, const xmpp::Jid& from);
  // A message to room@service/nick: private message (§7.5).
  void on_private_message(const xml::Element& message, const xmpp::Jid& from, const xmpp::Jid& to);
  // Any other message to the room: mediated invitations and declines (§7.8.2, §7.8.3), voice
  // requests; else an error.
  void on_room_message(const xml::Element& message, const xmpp::Jid& from);
  // On entering: the history the <history/> of the join asks for (§7.2.15), then the subject
  // (§7.2.16), to this session.
  void send_history(std::string_view to_full, const xml::Element* history_request);
  // A message the room broadcast before a restart, read back from its archive (muc_mam.cc),
  // sent at `time_ms`: kept for history on entering as if the room had never stopped. Called
  // oldest first, before the room has kept anything since; bounded as what it keeps.
  void restore_history(xml::Element message, std::int64_t time_ms);
  // The room has kept history since it was loaded (a refill would then come too late).
  bool has_history() const { return !history_.empty(); }
  void send_subject(std::string_view to_full);
  // The occupant may send one more message or presence change now (muc_event_rate).
  bool within_rate(Occupant& occupant);

  // --- room_owner.cc ---
  // muc#owner: the configuration form get and set, instant rooms (§10.1.2), destruction
  // (§10.9).
  void on_owner_iq(const xml::Element& iq, const xmpp::Jid& from);

  // --- room_admin.cc ---
  // muc#admin: kick (§8.2), voice (§8.3, §8.4), role lists (§8.5, §9.7), ban (§9.1), member,
  // admin and owner lists and changes (§9.2-§9.8, §10.3-§10.8).
  void on_admin_iq(const xml::Element& iq, const xmpp::Jid& from);
  // Sets a bare JID's affiliation, with what follows for its occupants (roles changed,
  // removed when outcast, or when a members-only room loses a member). False when not allowed.
  void set_affiliation(const std::string& bare, Affiliation affiliation, std::string_view reason,
                       std::string_view actor_nick);

  // --- room_disco.cc ---
  // disco#info (§6.4, with muc#roominfo) and disco#items (§6.5) of the room, jabber:iq:register
  // (§7.10), and ping to the room.
  void on_room_iq(const xml::Element& iq, const xmpp::Jid& from);

 private:
  // --- room_owner.cc ---
  void cancel_configuration(const xml::Element& iq);
  void submit_configuration(const xml::Element& iq, const SubmittedForm& form);
  void remove_non_members(int status);
  // A message from the room with these status codes to every occupant (§10.2.1).
  void announce(const std::vector<int>& statuses);
  // --- room_admin.cc ---
  void admin_list(const xml::Element& iq, const xml::Element& item, const xmpp::Jid& from);
  std::optional<RequestError> read_admin_item(const xml::Element& item, const xmpp::Jid& from, AdminChange& change);
  std::optional<RequestError> check_role_change(const AdminChange& change, const xmpp::Jid& from);
  std::optional<RequestError> check_affiliation_change(const AdminChange& change, const xmpp::Jid& from);
  std::optional<RequestError> check_affiliation_totals(const std::vector<AdminChange>& changes) const;
  void apply_admin_changes(const std::vector<AdminChange>& changes, const xmpp::Jid& from);
  // --- room_disco.cc ---
  void room_info(const xml::Element& iq, const xml::Element& query);
  void room_items(const xml::Element& iq, const xml::Element& query, const xmpp::Jid& from);
  void on_register(const xml::Element& iq, const xml::Element& query, const xmpp::Jid& from);
  void unregister(const xml::Element& iq, const std::string& bare);
  void register_nick(const xml::Element& iq, const SubmittedForm& form, const std::string& bare);

  RoomHost& host_;
  std::string jid_;
  RoomState state_;
  std::map<std::string, Occupant, std::less<>> occupants_;  // by nickname
  std::map<std::string, std::string, std::less<>> nick_of_;  // real full JID -> nickname
  std::vector<HistoryEntry> history_;                        // oldest first, bounded
  std::map<std::string, PendingIq, std::less<>> pending_iqs_;  // by the id the target saw
  // Invitations the room sent, for their declines: invitee bare '\0' inviter bare -> when
  // it is forgotten (ms). Bounded (room_messages.cc).
  std::map<std::string, std::int64_t, std::less<>> invited_;
  // The rate buckets (tokens, refilled_ms) of users who left, by real bare JID, so that
  // leaving and entering again does not refill them. Bounded (room_occupants.cc).
  std::map<std::string, std::pair<double, std::int64_t>, std::less<>> leavers_;
  friend class RoomTest;
  // The helpers of room_occupants.cc and room_messages.cc (static functions on the room).
  friend struct OccupantOps;
  friend struct MessageOps;
};

}  // namespace xmppd::router::muc
