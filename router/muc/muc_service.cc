#include "router/muc/muc_service.h"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>

#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kItemsNs = "http://jabber.org/protocol/disco#items";

}  // namespace

MucService::MucService(Server& server, const muc::MucOptions& options) : server_(server), options_(options) {
  unsigned char key[32];
  RAND_bytes(key, sizeof key);
  occupant_id_key_.assign(reinterpret_cast<const char*>(key), sizeof key);
}

void MucService::receive(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  if (!to.has_local()) {
    if (stanza.name() == "iq") service_iq(stanza, from);
    return;
  }
  muc::Room* room = nullptr;
  if (auto it = rooms_.find(to.bare()); it != rooms_.end()) {
    room = it->second.get();
  } else if (stanza.name() == "presence" && to.has_resource() && stanza.attribute("type") == nullptr) {
    room = create(stanza, from, to);
    if (room == nullptr) return;
  } else {
    if (stanza.name() != "presence" && !xmpp::is_error(stanza))
      server_.from_component(xmpp::error_reply(stanza, "cancel", "item-not-found"));
    return;
  }
  room->receive(stanza, from, to);
  gone_.clear();
}

void MucService::service_iq(const xml::Element& iq, const xmpp::Jid& from) {
  (void)from;
  std::string type = iq.attribute_or("type");
  if (type != "get" && type != "set") return;
  auto children = iq.children();
  const xml::Element* query = children.size() == 1 ? children.front() : nullptr;
  if (type == "get" && query != nullptr && query->is(kInfoNs, "query") && query->attribute("node") == nullptr) {
    xml::Element reply = xmpp::reply(iq, "result");
    xml::Element& out = reply.add_child(xml::Element(kInfoNs, "query"));
    out.add_child(xml::Element(kInfoNs, "identity", {{"category", "conference"}, {"type", "text"}, {"name", "Chatrooms"}}));
    for (std::string_view var : {kInfoNs, kItemsNs, muc::kMucNs})
      out.add_child(xml::Element(kInfoNs, "feature", {{"var", std::string(var)}}));
    send(std::move(reply));
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

muc::Room* MucService::create(const xml::Element& presence, const xmpp::Jid& from, const xmpp::Jid& to) {
  (void)presence;
  (void)from;
  auto room = std::make_unique<muc::Room>(*this, to.bare(), new_room_state());
  muc::Room* created = room.get();
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

void MucService::changed(muc::Room&) {}

void MucService::gone(muc::Room& room, const xml::Element*) {
  auto it = rooms_.find(room.jid());
  if (it == rooms_.end()) return;
  gone_.push_back(std::move(it->second));
  rooms_.erase(it);
}

void MucService::archive(muc::Room&, xml::Element&, const std::string&) {}

bool MucService::room_iq(muc::Room&, const xml::Element&, const xml::Element&, const xmpp::Jid&) { return false; }

void MucService::room_features(const muc::Room&, std::vector<std::string>&) const {}

}  // namespace xmppd::router
