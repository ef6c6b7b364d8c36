// The MUC service (muc_service.h): rooms by JID, their creation policy and limits, the lock
// timeout, persistence and tombstones, and the service's own disco.
#include "router/muc/muc_service.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "router/disco_info.h"
#include "router/modules/mam_page.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kInfoNs = kDiscoInfoNs;
constexpr std::string_view kItemsNs = kDiscoItemsNs;
constexpr std::string_view kStanzasNs = "urn:ietf:params:xml:ns:xmpp-stanzas";
// Stanzas that came back while the service was busy, beyond which more are dropped: each
// is an answer to something the service sent (errors are not answered, so this does not
// loop), and a broadcast to a room of muc_max_occupants sends that many.
constexpr std::size_t kMaxInbound = 100000;

// An error reply that the sender cannot answer (none to an error, nor to an unavailable
// presence, which a room that is gone has nothing to say to).
bool answerable(const xml::Element& stanza) {
  return !xmpp::is_error(stanza) && !(stanza.name() == "presence" && stanza.attribute_or("type") == "unavailable");
}

}  // namespace

MucService::MucService(Server& server, const muc::MucOptions& options) : server_(server), options_(options) {}

bool MucService::ensure_loaded() {
  if (loaded_) return true;
  if (!store_) store_.emplace(server_.store(), domain());
  std::optional<std::string> key = store_->occupant_id_key();
  std::map<std::string, muc::RoomState, std::less<>> rooms;
  std::map<std::string, muc::RoomStore::Tombstone, std::less<>> tombstones;
  if (!key || !store_->load(rooms, tombstones)) {
    log::warning("muc: the rooms of %s cannot be read from the store yet: %s", domain().c_str(),
                 server_.store().database().error().c_str());
    return false;
  }
  occupant_id_key_ = std::move(*key);
  for (auto& [local, state] : rooms) {
    std::string jid = local + "@" + domain();
    saved_.emplace(jid, state);
    history_unread_.emplace(jid, 0);
    auto room = std::make_unique<muc::Room>(*this, jid, std::move(state));
    count_room(*room, 1);
    rooms_.emplace(jid, std::move(room));
  }
  for (auto& [local, stone] : tombstones) tombstones_.emplace(local + "@" + domain(), std::move(stone));
  loaded_ = true;
  log::info("muc: %s has %zu persistent rooms", domain().c_str(), rooms_.size());
  return true;
}

void MucService::receive(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  if (depth_ > 0) {
    // Called back from send() (the router bounced what the service sent): handled by drain().
    if (inbox_.size() < kMaxInbound) {
      inbox_.push_back({stanza, from, to});
    } else {
      log::warning("muc: %s: too many stanzas came back at once; one dropped", domain().c_str());
    }
    return;
  }
  depth_ = 1;
  handle(stanza, from, to);
  drain();
  depth_ = 0;
}

void MucService::send(xml::Element stanza) {
  if (depth_ > 0) {
    outbox_.push_back(std::move(stanza));
  } else {
    server_.from_component(std::move(stanza));  // no room is handling anything
  }
}

void MucService::drain() {
  for (;;) {
    gone_.clear();  // no room's code is on the stack here
    if (!outbox_.empty()) {
      xml::Element stanza = std::move(outbox_.front());
      outbox_.pop_front();
      server_.from_component(std::move(stanza));  // may come back: queued in inbox_
    } else if (!inbox_.empty()) {
      Inbound in = std::move(inbox_.front());
      inbox_.pop_front();
      handle(in.stanza, in.from, in.to);
    } else {
      return;
    }
  }
}

void MucService::handle(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  if (!ensure_loaded()) {
    if (answerable(stanza)) send(xmpp::error_reply(stanza, "wait", "internal-server-error", "The rooms are not loaded yet"));
    return;
  }
  if (!to.has_local()) {
    if (stanza.name() == "iq") service_iq(stanza, from);
    return;
  }
  const std::string bare = to.bare();
  muc::Room* room = nullptr;
  if (auto it = rooms_.find(bare); it != rooms_.end()) {
    room = it->second.get();
    if (lock_expired(*room)) {
      log::info("muc: %s was not configured within muc_room_lock_timeout; destroyed", bare.c_str());
      room->destroy(nullptr);
      gone_.clear();  // the room's code has returned: it sends through the queue
      room = nullptr;
    } else if (auto unread = history_unread_.find(bare);
               unread != history_unread_.end() && unread->second <= now_ms() / 1000) {
      const Refill refill = restore_history(*room);
      if (refill == Refill::kDone)
        history_unread_.erase(unread);
      else if (refill == Refill::kFailed)
        unread->second = now_ms() / 1000 + kHistoryRetrySeconds;
    }
  }
  bool created = false;
  if (room == nullptr) {
    if (answered_by_tombstone(stanza, from, to)) return;
    if (stanza.name() == "presence" && to.has_resource() && stanza.attribute("type") == nullptr) {
      room = create(stanza, from, to);
      if (room == nullptr) return;
      created = true;
    } else {
      if (stanza.name() != "presence" && !xmpp::is_error(stanza))
        send(xmpp::error_reply(stanza, "cancel", "item-not-found"));
      return;
    }
  }
  room->receive(stanza, from, to);
  // A creator the room refused (a nickname too long, say) leaves no room, persistent by
  // default or not: it would have no owner and count against muc_max_rooms only.
  if (created && room->empty()) gone(*room, nullptr);
}

void MucService::sweep() {
  if (!loaded_ || depth_ > 0) return;
  depth_ = 1;
  std::vector<muc::Room*> expired;
  for (const auto& [jid, room] : rooms_)
    if (lock_expired(*room)) expired.push_back(room.get());
  for (muc::Room* room : expired) {
    log::info("muc: %s was not configured within muc_room_lock_timeout; destroyed", room->jid().c_str());
    room->destroy(nullptr);
  }
  drain();
  depth_ = 0;
  const std::int64_t now = now_ms() / 1000;
  for (auto it = tombstones_.begin(); it != tombstones_.end();) {
    if (it->second.expires > now) {
      ++it;
      continue;
    }
    store_->remove_tombstone(localpart(it->first));
    it = tombstones_.erase(it);
  }
}

bool MucService::lock_expired(const muc::Room& room) const {
  return room.state().locked &&
         room.state().created + static_cast<std::int64_t>(options_.room_lock_timeout()) < now_ms() / 1000;
}

// Prosody's answer to anything for a destroyed room: <gone/> with the new room's xmpp: URI,
// and the owner's reason as the error's text.
bool MucService::answered_by_tombstone(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  auto it = tombstones_.find(to.bare());
  if (it == tombstones_.end()) return false;
  const bool expired = it->second.expires <= now_ms() / 1000;
  const bool admin_creates = is_service_admin(from.bare()) && stanza.name() == "presence" &&
                             stanza.attribute("type") == nullptr;
  if (expired || admin_creates) {
    store_->remove_tombstone(localpart(it->first));
    tombstones_.erase(it);
    return false;
  }
  if (!answerable(stanza)) return true;
  xml::Element reply = xmpp::reply(stanza, "error");
  xml::Element& error = reply.add_child(xml::Element(xmpp::kClientNs, "error", {{"type", "cancel"}}));
  xml::Element& gone = error.add_child(xml::Element(kStanzasNs, "gone"));
  if (!it->second.alternate.empty()) gone.add_text("xmpp:" + it->second.alternate + "?join");
  if (!it->second.reason.empty()) error.add_child(xml::Element(kStanzasNs, "text")).add_text(it->second.reason);
  send(std::move(reply));
  return true;
}

void MucService::service_iq(const xml::Element& iq, const xmpp::Jid& from) {
  (void)from;
  std::string type = iq.attribute_or("type");
  if (type != "get" && type != "set") return;
  auto children = iq.children();
  const xml::Element* query = children.size() == 1 ? children.front() : nullptr;
  if (type == "get" && query != nullptr && query->is(kInfoNs, "query") && query->attribute("node") == nullptr) {
    send(DiscoInfo().identity("conference", "text", "Chatrooms").features({kInfoNs, kItemsNs, muc::kMucNs}).result(iq));
    return;
  }
  if (type == "get" && query != nullptr && query->is(kItemsNs, "query") && query->attribute("node") == nullptr) {
    xml::Element reply = xmpp::reply(iq, "result");
    xml::Element& out = reply.add_child(xml::Element(kItemsNs, "query"));
    for (const auto& [jid, room] : rooms_) {
      if (!room->state().config.public_room || room->state().locked) continue;
      xml::Element item(kItemsNs, "item", {{"jid", jid}});
      if (!room->state().config.name.empty()) item.set_attribute("name", room->state().config.name);
      out.add_child(std::move(item));
    }
    send(std::move(reply));
    return;
  }
  send(xmpp::error_reply(iq, "cancel", "service-unavailable"));
}

// XEP-0045 §10.1.1: not-allowed when policy refuses the creator; resource-constraint when a
// limit of the service does (muc_max_rooms, muc_max_rooms_per_user,
// muc_max_rooms_per_domain).
std::string_view MucService::refusal(const xmpp::Jid& from, std::string& text) const {
  const std::string bare = from.bare();
  const bool admin = is_service_admin(bare);
  const std::string& policy = options_.restrict_room_creation();
  if (policy == "admin" && !admin) {
    text = "Only the service's administrators may create rooms";
    return "not-allowed";
  }
  if (policy == "local" && !admin && (options_.parent_host().empty() || from.domain() != options_.parent_host())) {
    text = "Only users of " + options_.parent_host() + " may create rooms";
    return "not-allowed";
  }
  if (rooms_.size() >= options_.max_rooms()) {
    text = "The service holds as many rooms as it may";
    return "resource-constraint";
  }
  if (admin) return {};
  // This server's users are exempt from the per-domain cap: their accounts are made under
  // its operator's rules, and they are who the cap keeps the service for.
  const bool counted = !server_.is_local(from.domain()) && from.domain() != options_.parent_host();
  std::size_t owned = 0;
  for (const auto& [jid, room] : rooms_) {
    auto it = room->state().affiliations.find(bare);
    if (it != room->state().affiliations.end() && it->second.affiliation == muc::Affiliation::kOwner) ++owned;
  }
  const std::string domain = counted_domain(from.domain());
  const auto count = rooms_by_domain_.find(domain);
  const std::size_t by_domain = count != rooms_by_domain_.end() ? count->second : 0;
  if (owned >= options_.max_rooms_per_user()) {
    text = "You own as many rooms as you may";
    return "resource-constraint";
  }
  if (counted && by_domain >= options_.max_rooms_per_domain()) {
    text = "Users of " + domain + " have created as many rooms as they may";
    return "resource-constraint";
  }
  return {};
}

// The creator's domain is kept with the room: giving ownership away does not free a place.
// A room stored before it was kept counts for the domains of its owners.
std::set<std::string> MucService::counted_domains(const muc::Room& room) {
  const std::string& creator = room.state().config.creator_domain;
  if (!creator.empty()) return {counted_domain(creator)};
  std::set<std::string> domains;
  for (const auto& [bare, entry] : room.state().affiliations)
    if (entry.affiliation == muc::Affiliation::kOwner)
      domains.insert(counted_domain(std::string_view(bare).substr(bare.find('@') + 1)));  // all of it without '@'
  return domains;
}

std::string MucService::counted_domain(std::string_view domain) {
  const auto first = domain.find('.');
  if (first == std::string_view::npos || domain.find('.', first + 1) == std::string_view::npos)
    return std::string(domain);
  return std::string(domain.substr(first + 1));
}

void MucService::count_room(const muc::Room& room, int delta) {
  if (delta > 0) {
    std::set<std::string>& under = counted_under_[room.jid()];
    under = counted_domains(room);
    for (const std::string& d : under) ++rooms_by_domain_[d];
    return;
  }
  auto it = counted_under_.find(room.jid());
  if (it == counted_under_.end()) return;
  for (const std::string& d : it->second)
    if (auto count = rooms_by_domain_.find(d); count != rooms_by_domain_.end() && --count->second == 0)
      rooms_by_domain_.erase(count);
  counted_under_.erase(it);
}

muc::Room* MucService::create(const xml::Element& presence, const xmpp::Jid& from, const xmpp::Jid& to) {
  std::string text;
  if (std::string_view condition = refusal(from, text); !condition.empty()) {
    send(xmpp::error_reply(presence, condition == "not-allowed" ? "cancel" : "wait", condition, text));
    return nullptr;
  }
  muc::RoomState state = new_room_state();
  state.config.creator_domain = from.domain();
  auto room = std::make_unique<muc::Room>(*this, to.bare(), std::move(state));
  muc::Room* created = room.get();
  count_room(*created, 1);
  rooms_.emplace(to.bare(), std::move(room));
  return created;
}

muc::RoomState MucService::new_room_state() const {
  muc::RoomState state;
  muc::RoomConfig& c = state.config;
  c.public_room = options_.room_default_public();
  c.persistent = options_.room_default_persistent();
  c.members_only = options_.room_default_members_only();
  c.moderated = options_.room_default_moderated();
  c.whois = options_.room_default_public_jids() ? muc::Whois::kAnyone : muc::Whois::kModerators;
  c.change_subject = options_.room_default_change_subject();
  c.allow_invites = options_.room_default_allow_member_invites();
  c.history_length = std::min(options_.room_default_history_length(), options_.max_history_messages());
  c.max_occupants = options_.max_occupants();
  c.archiving = options_.log_by_default();
  state.created = now_ms() / 1000;
  state.locked = options_.room_locking();
  return state;
}

bool MucService::is_service_admin(std::string_view bare) const {
  return std::find(options_.admins().begin(), options_.admins().end(), bare) != options_.admins().end();
}

std::int64_t MucService::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A persistent room is written whole the first time, then only what changed since (a room
// of many affiliations would otherwise cost as many statements, each a round trip to
// PostgreSQL, per subject or member); one that stopped being persistent is forgotten.
void MucService::changed(muc::Room& room) {
  if (!store_) return;
  auto saved = saved_.find(room.jid());
  if (room.state().config.persistent) {
    const muc::RoomState* last = saved != saved_.end() ? &saved->second : nullptr;
    if (store_->save(localpart(room.jid()), room.state(), last) == muc::RoomStore::Outcome::kStored)
      saved_.insert_or_assign(room.jid(), room.state());
    else
      log::error("muc: room %s could not be written to the store", room.jid().c_str());
  } else if (saved != saved_.end()) {
    if (store_->forget(localpart(room.jid())) == muc::RoomStore::Outcome::kStored)
      saved_.erase(saved);
    else
      log::error("muc: room %s could not be forgotten by the store", room.jid().c_str());
  }
}

void MucService::gone(muc::Room& room, const xml::Element* destroy) {
  auto it = rooms_.find(room.jid());
  if (it == rooms_.end()) return;
  const bool persistent = room.state().config.persistent;
  if (store_ && saved_.count(room.jid()) > 0) {
    if (store_->forget(localpart(room.jid())) == muc::RoomStore::Outcome::kStored)
      saved_.erase(room.jid());
    else  // it comes back at the next start; retrying is left to a later change
      log::error("muc: room %s is gone but could not be forgotten by the store", room.jid().c_str());
  }
  // Destroyed by its owner (a <destroy/>), not emptied or expired: its name is held.
  if (store_ && destroy != nullptr && persistent && options_.tombstones()) {
    muc::RoomStore::Tombstone stone;
    stone.expires = now_ms() / 1000 + static_cast<std::int64_t>(options_.tombstone_expiry());
    stone.alternate = destroy->attribute_or("jid");
    if (const xml::Element* reason = destroy->child(destroy->ns(), "reason")) stone.reason = reason->text();
    if (muc::RoomStore::bound(stone))  // the room checked them (room_owner.cc): a bug if not
      log::error("muc: the reason or alternate venue of %s's destruction is not text or a JID; dropped",
                 room.jid().c_str());
    // Anyone may create, persist and destroy rooms: tombstones are held to muc_max_rooms,
    // the soonest to expire making way (a name is then freed early, never a room refused).
    if (!tombstones_.contains(room.jid()) && tombstones_.size() >= options_.max_rooms()) {
      auto soonest = std::min_element(tombstones_.begin(), tombstones_.end(), [](const auto& a, const auto& b) {
        return a.second.expires < b.second.expires;
      });
      if (soonest != tombstones_.end()) {
        store_->remove_tombstone(localpart(soonest->first));
        tombstones_.erase(soonest);
      }
    }
    store_->set_tombstone(localpart(room.jid()), stone);
    tombstones_[room.jid()] = std::move(stone);
  }
  // As Prosody's muc-room-destroyed: the room's archive and vCard go with it, whatever the
  // cause, so that whoever creates the name next sees none of the old room's history.
  if (ArchiveStore* archive = server_.archive(); archive != nullptr && !archive->remove_user(room.jid()))
    log::error("muc: the archive of %s could not be removed: %s", room.jid().c_str(), archive->error().c_str());
  if (server_.items().remove_store(room.jid(), "vcard_muc") == ItemStore::Outcome::kFailed)  // vcard_muc.cc's
    log::error("muc: the vCard of %s could not be removed", room.jid().c_str());
  history_unread_.erase(room.jid());  // a room made under its name later has none of its history
  count_room(*it->second, -1);
  gone_.push_back(std::move(it->second));
  rooms_.erase(it);
}

bool MucService::room_iq(muc::Room& room, const xml::Element& iq, const xml::Element& payload, const xmpp::Jid& from) {
  if (options_.mam() && payload.is(mam::kMamNs, "query")) {
    mam_query(room, iq, payload, from);
    return true;
  }
  if (options_.vcard() && payload.is("vcard-temp", "vCard")) {
    vcard_iq(room, iq, payload, from);
    return true;
  }
  return false;
}

void MucService::room_features(const muc::Room& room, std::vector<std::string>& features) const {
  if (archived(room)) {
    features.emplace_back(mam::kMamNs);
    features.emplace_back(mam::kSidNs);
  }
  if (options_.vcard()) features.emplace_back("vcard-temp");
}

}  // namespace xmppd::router
