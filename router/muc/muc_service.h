// A multi-user chat service (XEP-0045), Prosody's Component "domain" "muc": the rooms of one
// domain, created by a first presence (within restrict_room_creation and the room limits),
// kept while occupied or persistent, and what the service answers itself (disco of the
// service, room listing), with the rooms' archive (muc_mam.cc) and vCards (vcard_muc.cc).
//
// It runs inside the router, not in a process of its own: it reads only stanzas the router
// has parsed and addressed, holds no key or credential, and its fan-out (one message to
// every occupant) is the router's hot path; a process boundary would add a copy and an IPC
// hop per occupant and protect nothing the router does not already hold (docs/design.md).
//
// Persistent rooms, tombstones and the XEP-0421 key are in the user store (room_store.h),
// read when the service first needs them (the store may be PostgreSQL, reachable only once
// the storage process is linked): until then stanzas to it are answered with a wait error.
//
// Re-entry: the router answers some stanzas at once (an error for a session that is gone, a
// disconnected component, a blocking user) by calling receive() again from inside send().
// So rooms never see a stanza while their code is on the stack (walking their occupants):
// what they send is queued and sent, and what arrives meanwhile handled, only once the
// outermost receive() or sweep() has finished with the room.
//
// Trust: as router/component.h: 'from' is the sender's real address.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "router/component.h"
#include "router/muc/room.h"
#include "router/muc/room_store.h"
#include "router/server.h"

namespace xmppd::router {

class MucService final : public Component, public muc::RoomHost {
 public:
  MucService(Server& server, const muc::MucOptions& options);
  const std::string& domain() const { return options_.domain(); }
  // New options (a reload): rooms keep their configuration; new rooms take the new defaults.
  void configure(const muc::MucOptions& options) { options_ = options; }
  const muc::MucOptions& muc_options() const { return options_; }
  // Destroys the locked rooms whose muc_room_lock_timeout passed and forgets expired
  // tombstones; the router calls it now and then (and each room is checked when addressed).
  void sweep();
  std::size_t rooms() const { return rooms_.size(); }
  // Read-only, for xmppctl show muc and show components (router/admin_report.cc): the rooms
  // in memory, by JID, and whether one's messages are archived.
  const std::map<std::string, std::unique_ptr<muc::Room>, std::less<>>& loaded_rooms() const { return rooms_; }
  bool archives(const muc::Room& room) const { return archived(room); }

  // Component
  void receive(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) override;

 private:
  // A stanza that arrived while another was being handled, to handle after it.
  struct Inbound {
    xml::Element stanza;
    xmpp::Jid from, to;
  };
  void handle(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to);
  // Sends what the rooms queued and handles what came back meanwhile (depth_ is 1).
  void drain();
  // Reads the service's rooms from the store the first time; false while it cannot.
  bool ensure_loaded();
  // A stanza for the service's own domain: disco#info and #items, else an error.
  void service_iq(const xml::Element& iq, const xmpp::Jid& from);
  // The room a first presence creates, or null when it may not be created (answered).
  muc::Room* create(const xml::Element& presence, const xmpp::Jid& from, const xmpp::Jid& to);
  // Why `from` may not create a room now (an error condition), or empty.
  std::string_view refusal(const xmpp::Jid& from, std::string& text) const;
  muc::RoomState new_room_state() const;
  // The domains a room counts against for muc_max_rooms_per_domain, as counted_domain() names
  // them: its creator's, or (a room stored before that was kept) its owners' when loaded.
  static std::set<std::string> counted_domains(const muc::Room& room);
  // What a domain counts as: the domain without its first label when it has three or more,
  // so that a.evil.example and b.evil.example share evil.example's count.
  static std::string counted_domain(std::string_view domain);
  void count_room(const muc::Room& room, int delta);
  // True (answered with <gone/>) when `to` names a room that left a live tombstone.
  bool answered_by_tombstone(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to);
  bool lock_expired(const muc::Room& room) const;
  static std::string localpart(std::string_view room_jid) { return std::string(room_jid.substr(0, room_jid.find('@'))); }

  // muc_mam.cc (XEP-0313 for rooms)
  bool archived(const muc::Room& room) const;
  void mam_query(muc::Room& room, const xml::Element& iq, const xml::Element& query, const xmpp::Jid& from);
  // Fills a room loaded from the store with its history on entering, from its archive (the
  // newest messages, up to its history length). kLater when muc_mam is off (a reload may turn
  // it on), kFailed when the archive could not be read (logged): the caller tries again.
  enum class Refill { kDone, kLater, kFailed };
  Refill restore_history(muc::Room& room);
  // vcard_muc.cc (vcard-temp of rooms, XEP-0486 avatar hashes)
  void vcard_iq(muc::Room& room, const xml::Element& iq, const xml::Element& vcard, const xmpp::Jid& from);

  // muc::RoomHost (the rooms' view of the service)
  const muc::MucOptions& options() const override { return options_; }
  // Queued while receive() or sweep() runs, sent by drain() (see Re-entry above).
  void send(xml::Element stanza) override;
  bool is_service_admin(std::string_view bare) const override;
  std::int64_t now_ms() const override;
  void changed(muc::Room& room) override;
  void gone(muc::Room& room, const xml::Element* destroy) override;
  void archive(muc::Room& room, xml::Element& message, const std::string& sender_bare) override;
  bool room_iq(muc::Room& room, const xml::Element& iq, const xml::Element& payload, const xmpp::Jid& from) override;
  void room_features(const muc::Room& room, std::vector<std::string>& features) const override;
  std::string_view occupant_id_key() const override { return occupant_id_key_; }

  Server& server_;
  muc::MucOptions options_;
  std::optional<muc::RoomStore> store_;  // made on first use: the server's store is set later
  bool loaded_ = false;
  std::map<std::string, std::unique_ptr<muc::Room>, std::less<>> rooms_;  // by room JID
  // Rooms with a row in the store, by JID, as last written: a change writes only what differs.
  std::map<std::string, muc::RoomState, std::less<>> saved_;
  std::map<std::string, muc::RoomStore::Tombstone, std::less<>> tombstones_;  // by room JID
  // muc_max_rooms_per_domain's counts, by counted_domain(), kept on create, load and gone
  // (not a scan of every room per creation attempt); and what each room was counted under.
  std::map<std::string, std::size_t, std::less<>> rooms_by_domain_;
  std::map<std::string, std::set<std::string>, std::less<>> counted_under_;  // by room JID
  // Rooms loaded from the store whose history is not yet read from their archive: each is
  // read when the room is first addressed (one query then, not one per room at start), and
  // after a failed read again when addressed, at most once per kHistoryRetrySeconds. By JID:
  // the earliest time (seconds since the epoch) of the next read.
  std::map<std::string, std::int64_t, std::less<>> history_unread_;
  static constexpr std::int64_t kHistoryRetrySeconds = 60;
  // Rooms gone during the stanza being handled, freed after it (the room's code is on the stack).
  std::vector<std::unique_ptr<muc::Room>> gone_;
  int depth_ = 0;                    // 1 while receive() or sweep() runs, to queue re-entries
  std::deque<xml::Element> outbox_;  // what the rooms sent, not yet given to the router
  std::deque<Inbound> inbox_;        // stanzas that arrived during another's handling
  std::string occupant_id_key_;
};

}  // namespace xmppd::router
