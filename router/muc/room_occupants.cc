// Joining, nickname changes, leaving, presence and status codes (XEP-0045 §7.1-§7.7,
// §7.14), XEP-0421 occupant ids, XEP-0410 self-ping, and IQs between occupants.
//
// Trust: 'from' is the sender's real address (router/component.h); everything inside a
// presence is the sender's. Its nickname is held to the room's rules before it enters, and
// its <x/> of muc and muc#user and any <occupant-id/> are dropped before anyone sees its
// presence: what others read about an occupant (role, affiliation, real JID, id) is the
// room's. IQs between occupants carry a random id the room made and keeps (for a while,
// a bounded number) with the requester, so a reply goes back only to the requester, only
// from the occupant that was asked, only once, and the id says nothing about the requester.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <vector>

#include "common/base64.h"
#include "router/muc/room.h"
#include "router/muc/room_stanzas.h"
#include "xmpp/stanza.h"

namespace xmppd::router::muc {
namespace {

constexpr std::string_view kPingNs = "urn:xmpp:ping";  // XEP-0199, XEP-0410
constexpr std::string_view kVcardNs = "vcard-temp";
constexpr std::string_view kVcard4Ns = "urn:ietf:params:xml:ns:vcard-4.0";
constexpr std::string_view kPubsubNs = "http://jabber.org/protocol/pubsub";
// An IQ id a requester chose, at most this long, travels inside the id the room makes.
constexpr std::size_t kMaxIqIdBytes = 128;
// Forwarded IQs waiting for their reply: each forgotten after a minute (a client's own IQ
// timeout is about that), and at most so many per requesting occupant and per room, past
// which a request is refused with resource-constraint.
constexpr std::int64_t kPendingIqMs = 60'000;
constexpr std::size_t kMaxPendingIqsPerOccupant = 64;
constexpr std::size_t kMaxPendingIqs = 1024;
constexpr std::size_t kPendingIdBytes = 16;  // random
// Rate buckets kept for users who left (those full again are forgotten first).
constexpr std::size_t kMaxLeavers = 256;

// A stanza error the room answers a presence or IQ with.
struct Refusal {
  std::string_view type, condition, text;
};

// What a presence says of its sender's availability, kept for the others: without the
// room's own elements, which only the room may write.
xml::Element stored_presence(const xml::Element& presence) {
  xml::Element out(xmpp::kClientNs, "presence");
  for (const xml::Element* child : presence.children())
    if (!child->is(kMucNs, "x") && !child->is(kMucUserNs, "x") && child->ns() != kOccupantIdNs) out.add_child(*child);
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

// Error conditions that say a session is gone, not that one stanza was refused (Prosody's
// list, muc/util.lib.lua).
constexpr std::string_view kGoneConditions[] = {
    "gone",     "internal-server-error",   "item-not-found",        "jid-malformed",      "recipient-unavailable",
    "redirect", "remote-server-not-found", "remote-server-timeout", "service-unavailable"};

// The defined condition of an error stanza, or empty when it has none.
std::string error_condition(const xml::Element& stanza) {
  const xml::Element* error = stanza.child(xmpp::kClientNs, "error");
  if (error == nullptr) return {};
  for (const xml::Element* child : error->children())
    if (child->ns() == xmpp::kStanzaErrorNs && child->name() != "text") return child->name();
  return {};
}

}  // namespace

// The helpers of this file, with the room's private parts (room.h).
struct OccupantOps {
  // How a presence about an occupant is built beyond presence_of's defaults.
  struct Kind {
    bool unavailable = false;
    bool role_none = false;              // the occupant is leaving: its role is none now
    std::string_view new_nick;           // 303: the nickname it changes to
    const xml::Element* base = nullptr;  // the presence whose children go out (else the occupant's)
  };

  static xml::Element build(const Room& room, const Occupant& occupant, std::string_view viewer,
                            std::span<const int> statuses, const std::vector<xml::Element>& item_extra,
                            const Kind& kind) {
    xml::Element out(xmpp::kClientNs, "presence",
                     {{"from", room.occupant_jid(occupant.nick)}, {"to", std::string(viewer)}});
    if (kind.unavailable) out.set_attribute("type", "unavailable");
    const xml::Element* base = kind.base;
    if (base == nullptr) base = session_presence(occupant);
    if (base != nullptr)
      for (const xml::Element* child : base->children()) out.add_child(*child);
    xml::Element x(kMucUserNs, "x");
    xml::Element item(kMucUserNs, "item",
                      {{"affiliation", std::string(name_of(room.affiliation_of(occupant.bare)))},
                       {"role", std::string(name_of(kind.role_none ? Role::kNone : occupant.role))}});
    if (occupant.sessions.contains(viewer))
      item.set_attribute("jid", std::string(viewer));
    else if (sees_real_jids(room, viewer))
      item.set_attribute("jid", occupant.last_session);
    if (!kind.new_nick.empty()) item.set_attribute("nick", std::string(kind.new_nick));
    for (const xml::Element& extra : item_extra) item.add_child(extra);
    x.add_child(std::move(item));
    for (int code : statuses) x.add_child(xml::Element(kMucUserNs, "status", {{"code", std::to_string(code)}}));
    out.add_child(std::move(x));
    out.add_child(occupant_id_element(occupant.occupant_id));
    return out;
  }

  static const xml::Element* session_presence(const Occupant& occupant) {
    auto it = occupant.sessions.find(occupant.last_session);
    if (it == occupant.sessions.end()) it = occupant.sessions.begin();
    return it != occupant.sessions.end() ? &it->second : nullptr;
  }

  // XEP-0045 §7.2.3: real JIDs to moderators, or to all when the room is non-anonymous.
  static bool sees_real_jids(const Room& room, std::string_view viewer) {
    if (room.state_.config.whois == Whois::kAnyone) return true;
    auto it = room.nick_of_.find(viewer);
    if (it == room.nick_of_.end()) return false;
    auto occupant = room.occupants_.find(it->second);
    return occupant != room.occupants_.end() && occupant->second.role == Role::kModerator;
  }

  // Each session of each occupant gets `occupant`'s presence; its own with 110 added.
  static void to_everyone(Room& room, const Occupant& occupant, std::span<const int> statuses,
                          const std::vector<xml::Element>& item_extra, const Kind& kind, bool to_self = true) {
    std::vector<int> own(statuses.begin(), statuses.end());
    own.push_back(110);
    for (const auto& [nick, other] : room.occupants_) {
      bool self = &other == &occupant;
      if (self && !to_self) continue;
      for (const auto& [full, presence] : other.sessions)
        room.send(build(room, occupant, full, self ? std::span<const int>(own) : statuses, item_extra, kind));
    }
  }

  static bool registered_by_other(const Room& room, std::string_view nick, std::string_view bare) {
    for (const auto& [jid, entry] : room.state_.affiliations)
      if (entry.nick == nick && jid != bare) return true;
    return false;
  }

  static std::optional<Refusal> nick_refusal(const Room& room, std::string_view nick, std::string_view bare) {
    if (characters(nick) > room.host_.options().max_nick_length())
      return Refusal{"modify", "not-acceptable", "The nickname is too long"};
    const Occupant* holder = nullptr;
    if (auto it = room.occupants_.find(nick); it != room.occupants_.end()) holder = &it->second;
    if ((holder != nullptr && holder->bare != bare) || registered_by_other(room, nick, bare))
      return Refusal{"cancel", "conflict", "That nickname is already in use"};
    return std::nullopt;
  }

  static bool password_matches(const Room& room, const xml::Element* muc) {
    const std::string& password = room.state_.config.password;
    if (password.empty()) return true;
    const xml::Element* given = muc != nullptr ? muc->child(kMucNs, "password") : nullptr;
    if (given == nullptr) return false;
    std::string text = given->text();
    return text.size() == password.size() && CRYPTO_memcmp(text.data(), password.data(), text.size()) == 0;
  }

  // Why this user may not enter under this nickname, if it may not (XEP-0045 §7.2.6-§7.2.10).
  static std::optional<Refusal> join_refusal(const Room& room, const std::string& bare, std::string_view nick,
                                             Affiliation affiliation, const xml::Element* muc, bool joins_occupant) {
    const RoomState& state = room.state_;
    if (state.locked && affiliation != Affiliation::kOwner)
      return Refusal{"cancel", "item-not-found", "The room is locked until its owner configures it"};
    if (affiliation == Affiliation::kOutcast) return Refusal{"auth", "forbidden", "You are banned from this room"};
    if (auto refusal = nick_refusal(room, nick, bare)) return refusal;
    if (state.config.members_only && affiliation < Affiliation::kMember)
      return Refusal{"auth", "registration-required", "The room is for members only"};
    if (!password_matches(room, muc)) return Refusal{"auth", "not-authorized", "A password is required"};
    std::size_t limit = state.config.max_occupants;
    if (!joins_occupant && limit != 0 && room.occupants_.size() >= limit && affiliation < Affiliation::kAdmin)
      return Refusal{"wait", "service-unavailable", "The room is full"};
    return std::nullopt;
  }

  // A first presence makes a room the service just created; its first occupant owns it.
  static bool creating(const Room& room) {
    if (!room.occupants_.empty()) return false;
    return std::none_of(room.state_.affiliations.begin(), room.state_.affiliations.end(),
                        [](const auto& entry) { return entry.second.affiliation == Affiliation::kOwner; });
  }

  static void join(Room& room, const xml::Element& presence, const xmpp::Jid& from, const std::string& nick) {
    const std::string full = from.full(), bare = from.bare();
    const xml::Element* muc = presence.child(kMucNs, "x");
    const bool created = creating(room);
    Affiliation affiliation = created ? Affiliation::kOwner : room.affiliation_of(bare);
    Occupant* existing = room.occupant(nick);
    const bool joins_occupant = existing != nullptr && existing->bare == bare;
    if (auto refusal = join_refusal(room, bare, nick, affiliation, muc, joins_occupant)) {
      room.bounce(presence, refusal->type, refusal->condition, refusal->text);
      if (room.occupants_.empty() && !room.state_.config.persistent) room.host_.gone(room, nullptr);
      return;
    }
    if (created) {
      room.state_.affiliations[bare].affiliation = Affiliation::kOwner;
      room.changed();
    }
    // Entering costs a token of the user's bucket (muc_event_rate), the one it left with if
    // it was here lately: a join and leave loop is as limited as presence changes.
    Occupant bucket;
    if (!joins_occupant) left_bucket(room, bare, bucket);
    if (!room.within_rate(joins_occupant ? *existing : bucket)) {
      room.bounce(presence, "wait", "resource-constraint", "You are entering too fast");
      if (room.occupants_.empty() && !room.state_.config.persistent) room.host_.gone(room, nullptr);
      return;
    }
    Occupant& me = joins_occupant ? *existing : add_occupant(room, nick, bare, affiliation);
    if (!joins_occupant) {
      me.tokens = bucket.tokens;
      me.refilled_ms = bucket.refilled_ms;
      room.leavers_.erase(bare);
    }
    me.sessions.insert_or_assign(full, stored_presence(presence));
    me.last_session = full;
    room.nick_of_.insert_or_assign(full, nick);
    welcome(room, me, presence, full, created);
  }

  // What a session that enters gets (the others, itself, history, subject, §7.2.2-§7.2.16),
  // and the others get its presence.
  static void welcome(Room& room, const Occupant& me, const xml::Element& presence, const std::string& full,
                      bool created) {
    for (const auto& [other_nick, other] : room.occupants_)
      if (&other != &me) room.send(build(room, other, full, {}, {}, {}));
    room.send(build(room, me, full, self_statuses(room, presence, me.nick, created), {}, {}));
    for (const auto& [other_nick, other] : room.occupants_)
      if (&other != &me)
        for (const auto& [session, p] : other.sessions) room.send(build(room, me, session, {}, {}, {}));
    const xml::Element* muc = presence.child(kMucNs, "x");
    room.send_history(full, muc != nullptr ? muc->child(kMucNs, "history") : nullptr);
    room.send_subject(full);
  }

  // A join from a session already in the room under that nickname: a client that lost
  // track of the room (XEP-0410 tells it to join again) gets the room again, as Prosody.
  static void rejoin(Room& room, Occupant& me, const xml::Element& presence, const std::string& full) {
    if (!room.within_rate(me)) {
      room.bounce(presence, "wait", "resource-constraint", "You are changing presence too fast");
      return;
    }
    me.sessions.insert_or_assign(full, stored_presence(presence));
    me.last_session = full;
    welcome(room, me, presence, full, false);
  }

  // The rate bucket `bare` left the room with, or a full one.
  static void left_bucket(const Room& room, const std::string& bare, Occupant& bucket) {
    auto it = room.leavers_.find(bare);
    if (it != room.leavers_.end()) {
      bucket.tokens = it->second.first;
      bucket.refilled_ms = it->second.second;
    } else {
      bucket.tokens = std::max(1.0, room.host_.options().burst_factor());
      bucket.refilled_ms = room.host_.now_ms();
    }
  }

  // Keeps the bucket of an occupant that leaves, forgetting first those that are full again.
  static void keep_bucket(Room& room, const Occupant& occupant) {
    const double rate = room.host_.options().event_rate();
    if (rate <= 0) return;
    const double capacity = std::max(1.0, room.host_.options().burst_factor());
    const std::int64_t now = room.host_.now_ms();
    auto full = [&](const auto& entry) {
      return entry.second.first + static_cast<double>(now - entry.second.second) / 1000.0 * rate >= capacity;
    };
    if (room.leavers_.size() >= kMaxLeavers) std::erase_if(room.leavers_, full);
    if (room.leavers_.size() >= kMaxLeavers && !room.leavers_.contains(occupant.bare)) {
      auto oldest = std::min_element(room.leavers_.begin(), room.leavers_.end(),
                                     [](const auto& a, const auto& b) { return a.second.second < b.second.second; });
      room.leavers_.erase(oldest);
    }
    room.leavers_.insert_or_assign(occupant.bare, std::make_pair(occupant.tokens, occupant.refilled_ms));
  }

  static Occupant& add_occupant(Room& room, const std::string& nick, const std::string& bare, Affiliation affiliation) {
    Occupant occupant;
    occupant.nick = nick;
    occupant.bare = bare;
    occupant.occupant_id = room.occupant_id_for(bare);
    occupant.role = room.default_role(affiliation);
    occupant.tokens = std::max(1.0, room.host_.options().burst_factor());
    occupant.refilled_ms = room.host_.now_ms();
    return room.occupants_.insert_or_assign(nick, std::move(occupant)).first->second;
  }

  // The statuses of a new occupant's own presence (XEP-0045 §7.2.2-§7.2.12).
  static std::vector<int> self_statuses(const Room& room, const xml::Element& presence, std::string_view nick,
                                        bool created) {
    std::vector<int> codes{110};
    if (room.state_.config.whois == Whois::kAnyone) codes.push_back(100);
    if (room.state_.config.archiving && room.host_.options().mam()) codes.push_back(170);
    if (created) codes.push_back(201);
    if (nick_changed_by_room(presence, nick)) codes.push_back(210);
    return codes;
  }

  // The room prepared the nickname the client asked for into another (§7.2.9, status 210).
  static bool nick_changed_by_room(const xml::Element& presence, std::string_view nick) {
    std::string to = presence.attribute_or("to");
    std::size_t slash = to.find('/');
    return slash != std::string::npos && std::string_view(to).substr(slash + 1) != nick;
  }

  // Everyone hears that the occupant left (its own sessions with 110, unless `to_self` is
  // false: a session that bounces gets nothing more); an empty room that is not persistent
  // is then gone.
  static void remove(Room& room, const std::string& nick, const xml::Element* base, std::span<const int> statuses,
                     const std::vector<xml::Element>& item_extra, bool to_self) {
    auto it = room.occupants_.find(nick);
    if (it == room.occupants_.end()) return;
    Kind kind{.unavailable = true, .role_none = true, .new_nick = {}, .base = base};
    to_everyone(room, it->second, statuses, item_extra, kind, to_self);
    for (const auto& [full, presence] : it->second.sessions) room.nick_of_.erase(full);
    keep_bucket(room, it->second);
    room.occupants_.erase(it);
    if (room.occupants_.empty() && !room.state_.config.persistent) room.host_.gone(room, nullptr);
  }

  // One session leaves (§7.14) or bounces: the occupant leaves with its last session.
  static void leave_session(Room& room, Occupant& occupant, const std::string& full, const xml::Element& base,
                            std::span<const int> statuses, bool to_self) {
    if (occupant.sessions.size() <= 1) {
      remove(room, occupant.nick, &base, statuses, {}, to_self);
      return;
    }
    if (to_self) {
      std::vector<int> own(statuses.begin(), statuses.end());
      own.push_back(110);
      room.send(build(room, occupant, full, own, {},
                      {.unavailable = true, .role_none = true, .new_nick = {}, .base = &base}));
    }
    occupant.sessions.erase(full);
    room.nick_of_.erase(full);
    if (occupant.last_session == full) {
      occupant.last_session = occupant.sessions.begin()->first;
      to_everyone(room, occupant, {}, {}, {});
    }
  }

  // §7.6: unavailable from the old nickname with 303 and the new one, then available from
  // the new one, to everyone.
  static void change_nick(Room& room, Occupant& occupant, const xml::Element& presence, const std::string& full,
                          const std::string& nick) {
    if (auto refusal = nick_refusal(room, nick, occupant.bare)) {
      room.bounce(presence, refusal->type, refusal->condition, refusal->text);
      return;
    }
    if (!room.within_rate(occupant)) {
      room.bounce(presence, "wait", "resource-constraint", "You are changing presence too fast");
      return;
    }
    // nick_refusal let through only a free nickname or one the same user holds.
    Occupant* dest = room.occupant(nick);
    if (occupant.sessions.size() > 1 || dest != nullptr) {
      move_session(room, occupant, presence, full, nick, dest);
      return;
    }
    const int changed[] = {303};
    to_everyone(room, occupant, changed, {},
                {.unavailable = true, .role_none = false, .new_nick = nick, .base = nullptr});
    auto node = room.occupants_.extract(occupant.nick);
    node.key() = nick;
    Occupant& moved = room.occupants_.insert(std::move(node)).position->second;
    moved.nick = nick;
    moved.sessions.insert_or_assign(full, stored_presence(presence));
    room.nick_of_.insert_or_assign(full, nick);
    // The room's own change of the nickname asked for (status 210) goes to its sessions only.
    std::vector<int> own;
    if (nick_changed_by_room(presence, nick)) own.push_back(210);
    for (const auto& [other_nick, other] : room.occupants_)
      for (const auto& [session, p] : other.sessions) {
        std::vector<int> codes;
        if (&other == &moved) {
          codes = own;
          codes.push_back(110);
        }
        room.send(build(room, moved, session, codes, {}, {}));
      }
  }

  static bool drop_bouncing(Room& room, const xml::Element& error, const xmpp::Jid& from) {
    const std::string full = from.full();
    Occupant* occupant = room.occupant_of(full);
    if (occupant == nullptr) return false;
    std::string condition = error_condition(error);
    if (error.name() != "presence" && !condition.empty() &&
        std::find(std::begin(kGoneConditions), std::end(kGoneConditions), condition) == std::end(kGoneConditions))
      return false;
    std::string why = "Kicked: " + (condition.empty() ? std::string("presence error") : condition);
    std::replace(why.begin(), why.end(), '-', ' ');
    xml::Element base(xmpp::kClientNs, "presence");
    base.add_child(xml::Element(xmpp::kClientNs, "status")).add_text(why);
    const int codes[] = {333};
    leave_session(room, *occupant, full, base, codes, false);
    return true;
  }

  // As Prosody: one session of several changes its nickname, or joins the same user's other
  // nickname. It sees its old nickname go (303, 110); the others see the old occupant lose
  // a session (or leave with its last) and the new one appear or change.
  static void move_session(Room& room, Occupant& occupant, const xml::Element& presence, const std::string& full,
                           const std::string& nick, Occupant* dest) {
    const int changed[] = {303, 110};
    room.send(build(room, occupant, full, changed, {},
                    {.unavailable = true, .role_none = false, .new_nick = nick, .base = nullptr}));
    const Role role = occupant.role;
    const std::string bare = occupant.bare;
    if (occupant.sessions.size() == 1) {
      const xml::Element bare_presence(xmpp::kClientNs, "presence");
      remove(room, occupant.nick, &bare_presence, {}, {}, false);  // not the last occupant: dest holds the user
    } else {
      occupant.sessions.erase(full);
      room.nick_of_.erase(full);
      if (occupant.last_session == full) {
        occupant.last_session = occupant.sessions.begin()->first;
        to_everyone(room, occupant, {}, {}, {});
      }
    }
    Occupant& target = dest != nullptr ? *dest : add_occupant(room, nick, bare, room.affiliation_of(bare));
    if (dest == nullptr) target.role = role;
    target.sessions.insert_or_assign(full, stored_presence(presence));
    target.last_session = full;
    room.nick_of_.insert_or_assign(full, nick);
    to_everyone(room, target, {}, {}, {});
  }

  // Forgets the forwarded IQs whose reply did not come in time.
  static void expire_pending(Room& room) {
    const std::int64_t now = room.host_.now_ms();
    std::erase_if(room.pending_iqs_, [now](const auto& entry) { return entry.second.expires_ms <= now; });
  }

  // A fresh random id for a forwarded IQ, or empty when there is no room for one (or no
  // randomness).
  static std::string pending_id(Room& room, const Occupant& sender) {
    expire_pending(room);
    if (room.pending_iqs_.size() >= kMaxPendingIqs) return {};
    const auto mine = std::count_if(room.pending_iqs_.begin(), room.pending_iqs_.end(),
                                    [&](const auto& entry) { return entry.second.requester_nick == sender.nick; });
    if (static_cast<std::size_t>(mine) >= kMaxPendingIqsPerOccupant) return {};
    unsigned char bytes[kPendingIdBytes];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
    std::string id = "muc" + base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
    return room.pending_iqs_.contains(id) ? std::string() : id;
  }

  // A get or set to an occupant: self-ping answered (XEP-0410), vCards asked of the real
  // bare JID, anything else passed to the occupant's latest session from the sender's nick.
  static void iq_request(Room& room, const xml::Element& iq, const xmpp::Jid& from, const xmpp::Jid& to) {
    const Occupant* sender = room.occupant_of(from.full());
    if (sender == nullptr) {
      room.bounce(iq, "cancel", "not-acceptable", "You are not an occupant of this room");
      return;
    }
    auto children = iq.children();
    const xml::Element* payload = children.size() == 1 ? children.front() : nullptr;
    const std::string type = iq.attribute_or("type");
    if (type == "get" && payload != nullptr && payload->is(kPingNs, "ping") && to.resource() == sender->nick) {
      room.send(xmpp::reply(iq, "result"));
      return;
    }
    const Occupant* target = room.occupant(to.resource());
    if (target == nullptr) {
      room.bounce(iq, "cancel", "item-not-found", "No occupant has that nickname");
      return;
    }
    const std::string* id = iq.attribute("id");
    if (id == nullptr || id->size() > kMaxIqIdBytes) {
      room.bounce(iq, "modify", "bad-request", "The IQ's id is missing or too long");
      return;
    }
    // What a user publishes about itself is asked of its account, not of one of its clients.
    bool to_account =
        payload != nullptr && (payload->ns() == kVcardNs || payload->ns() == kVcard4Ns || payload->ns() == kPubsubNs);
    xml::Element out(iq.shared_ns(), "iq", iq.attributes());
    for (const xml::Element* child : children) out.add_child(*child);
    out.set_attribute("from", room.occupant_jid(sender->nick));
    out.set_attribute("to", to_account ? target->bare : target->last_session);
    std::string forwarded = pending_id(room, *sender);
    if (forwarded.empty()) {
      room.bounce(iq, "wait", "resource-constraint", "Too many requests wait for their replies");
      return;
    }
    out.set_attribute("id", forwarded);
    room.pending_iqs_.emplace(std::move(forwarded), PendingIq{from.full(), sender->nick, *id, target->nick,
                                                              target->bare, room.host_.now_ms() + kPendingIqMs});
    room.send(std::move(out));
  }

  // A result or error to an IQ the room passed on: back to the requester, from the nickname
  // it asked. Anything else is dropped: no reply to a reply.
  // Each id gets one reply, and only from the occupant asked (anyone else's is dropped
  // without using it up).
  static void iq_reply(Room& room, const xml::Element& iq, const xmpp::Jid& from) {
    expire_pending(room);
    auto it = room.pending_iqs_.find(iq.attribute_or("id"));
    if (it == room.pending_iqs_.end() || from.bare() != it->second.target_bare) return;
    const PendingIq pending = std::move(it->second);
    room.pending_iqs_.erase(it);
    xml::Element out(iq.shared_ns(), "iq", iq.attributes());
    for (const xml::Element* child : iq.children()) out.add_child(*child);
    out.set_attribute("from", room.occupant_jid(pending.target_nick));
    out.set_attribute("to", pending.requester);
    out.set_attribute("id", pending.id);
    room.send(std::move(out));
  }
};

bool drop_bouncing_session(Room& room, const xml::Element& error, const xmpp::Jid& from) {
  return OccupantOps::drop_bouncing(room, error, from);
}

void Room::on_presence(const xml::Element& presence, const xmpp::Jid& from, const xmpp::Jid& to) {
  const std::string full = from.full();
  const std::string type = presence.attribute_or("type");
  Occupant* me = occupant_of(full);
  if (type == "error") {
    drop_bouncing_session(*this, presence, from);
    return;
  }
  if (type == "unavailable") {
    if (me != nullptr) OccupantOps::leave_session(*this, *me, full, stored_presence(presence), {}, true);
    return;
  }
  if (!type.empty()) {
    // Rooms have no roster; a probe is answered by the presence the room broadcasts anyway.
    if (type != "probe") bounce(presence, "modify", "bad-request", "Occupants take no subscriptions");
    return;
  }
  const std::string& asked = to.resource();
  const std::string* registered = host_.options().enforce_registered_nickname() ? registered_nick(from.bare()) : nullptr;
  const std::string& nick = registered != nullptr ? *registered : asked;
  if (me != nullptr && registered != nullptr && asked != *registered) {
    bounce(presence, "cancel", "not-acceptable", "You must use the nickname you registered in this room");
    return;
  }
  if (me == nullptr) {
    OccupantOps::join(*this, presence, from, nick);
  } else if (me->nick != nick) {
    OccupantOps::change_nick(*this, *me, presence, full, nick);
  } else if (presence.child(kMucNs, "x") != nullptr) {
    OccupantOps::rejoin(*this, *me, presence, full);
  } else if (!within_rate(*me)) {
    bounce(presence, "wait", "resource-constraint", "You are changing presence too fast");
  } else {
    me->sessions.insert_or_assign(full, stored_presence(presence));
    me->last_session = full;
    broadcast_presence(*me, {});
  }
}

xml::Element Room::presence_of(const Occupant& occupant, std::string_view viewer, std::span<const int> statuses,
                               const std::vector<xml::Element>& item_extra) const {
  return OccupantOps::build(*this, occupant, viewer, statuses, item_extra, {});
}

void Room::broadcast_presence(const Occupant& occupant, std::span<const int> statuses,
                              const std::vector<xml::Element>& item_extra) {
  OccupantOps::to_everyone(*this, occupant, statuses, item_extra, {});
}

void Room::remove_occupant(const std::string& nick, std::span<const int> statuses,
                           const std::vector<xml::Element>& item_extra) {
  // A removal says only why (the statuses, the item's reason and actor), not the occupant's
  // last <show/> or <status/>.
  const xml::Element bare_presence(xmpp::kClientNs, "presence");
  OccupantOps::remove(*this, nick, &bare_presence, statuses, item_extra, true);
}

void Room::on_occupant_iq(const xml::Element& iq, const xmpp::Jid& from, const xmpp::Jid& to) {
  std::string type = iq.attribute_or("type");
  if (type == "get" || type == "set")
    OccupantOps::iq_request(*this, iq, from, to);
  else if (type == "result" || type == "error")
    OccupantOps::iq_reply(*this, iq, from);
}

std::string Room::occupant_id_for(std::string_view bare) const {
  std::string data = jid_;
  data += '\0';
  data += bare;
  return base64_encode(hmac_sha256(host_.occupant_id_key(), data));
}

}  // namespace xmppd::router::muc
