// The fixture of the owners', admins' and disco unit tests (room_admin_unittest.cc,
// room_owner_unittest.cc, room_disco_unittest.cc): one room on a TestRoomHost, occupants put
// in directly (RoomTest is the Room's friend) so that these tests do not depend on how
// joining works, and stanzas sent as a client would write them.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "router/muc/room.h"
#include "router/muc/test_room_host.h"
#include "xml/element_test_util.h"
#include "xml/fragment.h"
#include "xmpp/namespaces.h"

namespace xmppd::router::muc {

inline constexpr std::string_view kRoomJid = "room@conference.example.org";
inline constexpr std::string_view kOwner = "owner@example.org/phone";
inline constexpr std::string_view kAdmin = "admin@example.org/desk";
inline constexpr std::string_view kMember = "member@example.org/laptop";
inline constexpr std::string_view kGuest = "guest@example.net/web";

class RoomTest : public ::testing::Test {
 protected:
  RoomTest() { reset(RoomState{}); }

  // A fresh room with this state: owner@ owner, admin@ admin, member@ member, nobody in it.
  void reset(RoomState state) {
    state.affiliations.emplace("owner@example.org", AffiliationEntry{Affiliation::kOwner, {}, {}});
    state.affiliations.emplace("admin@example.org", AffiliationEntry{Affiliation::kAdmin, {}, {}});
    state.affiliations.emplace("member@example.org", AffiliationEntry{Affiliation::kMember, {}, {}});
    room_ = std::make_unique<Room>(host_, std::string(kRoomJid), std::move(state));
    host_.changes = 0;
    host_.room_gone = false;
  }

  // Puts a real full JID in the room under `nick` with the role its affiliation gives.
  Occupant& enter(std::string_view nick, std::string_view full) {
    auto jid = xmpp::Jid::parse(full);
    Occupant& occupant = room_->occupants_[std::string(nick)];
    occupant.nick = std::string(nick);
    occupant.bare = jid->bare();
    occupant.role = room_->default_role(room_->affiliation_of(occupant.bare));
    occupant.sessions.emplace(std::string(full), xml::Element(xmpp::kClientNs, "presence"));
    occupant.last_session = std::string(full);
    room_->nick_of_[std::string(full)] = std::string(nick);
    return occupant;
  }
  // The owner, the admin, the member and the guest, in the room.
  void everyone_enters() {
    enter("boss", kOwner);
    enter("deputy", kAdmin);
    enter("friend", kMember);
    enter("stranger", kGuest);
  }

  RoomState& state() { return room_->state_; }
  std::vector<HistoryEntry>& history() { return room_->history_; }
  Room& room() { return *room_; }

  static xml::Element parse(std::string_view text) {
    auto e = xml::parse_fragment(text, "jabber:client", 1 << 20);
    EXPECT_TRUE(e.has_value()) << text;
    return e ? *e : xml::Element("", "none");
  }

  // Sends <iq type from to=room id='q'>payload</iq> and returns the room's reply to it (the
  // last IQ it sent); everything it sent is left in sent().
  xml::Element iq(std::string_view from, std::string_view type, std::string_view payload,
                  std::string_view to = kRoomJid) {
    xml::Element stanza = parse("<iq xmlns='jabber:client' id='q' type='" + std::string(type) + "' from='" +
                                std::string(from) + "' to='" + std::string(to) + "'>" + std::string(payload) + "</iq>");
    room_->receive(stanza, *xmpp::Jid::parse(from), *xmpp::Jid::parse(to));
    sent_ = host_.take();
    for (auto it = sent_.rbegin(); it != sent_.rend(); ++it)
      if (it->name() == "iq") return *it;
    ADD_FAILURE() << "no reply";
    return xml::Element("", "none");
  }

  xml::Element owner_iq(std::string_view from, std::string_view type, std::string_view inner = {}) {
    return iq(from, type, "<query xmlns='http://jabber.org/protocol/muc#owner'>" + std::string(inner) + "</query>");
  }
  xml::Element admin_iq(std::string_view from, std::string_view type, std::string_view items) {
    return iq(from, type, "<query xmlns='http://jabber.org/protocol/muc#admin'>" + std::string(items) + "</query>");
  }
  // A submitted form of these fields (<field var=...><value>...</value></field>).
  static std::string form(std::string_view fields,
                          std::string_view form_type = "http://jabber.org/protocol/muc#roomconfig") {
    std::string out = "<x xmlns='jabber:x:data' type='submit'>";
    if (!form_type.empty()) out += "<field var='FORM_TYPE'><value>" + std::string(form_type) + "</value></field>";
    return out + std::string(fields) + "</x>";
  }
  static std::string field(std::string_view var, std::string_view value) {
    return "<field var='" + std::string(var) + "'><value>" + std::string(value) + "</value></field>";
  }

  // "result", or the error's condition.
  static std::string outcome(const xml::Element& reply) {
    if (reply.attribute_or("type") != "error") return reply.attribute_or("type");
    const xml::Element* error = reply.child(xmpp::kClientNs, "error");
    if (error == nullptr) return "error without <error/>";
    for (const xml::Element* child : error->children())
      if (child->ns() == xmpp::kStanzaErrorNs && child->name() != "text") return child->name();
    return "error without condition";
  }

  // What the room sent of this kind to this address.
  std::vector<xml::Element> sent_to(std::string_view to, std::string_view kind) const {
    std::vector<xml::Element> out;
    for (const xml::Element& stanza : sent_)
      if (stanza.attribute_or("to") == to && stanza.name() == kind) out.push_back(stanza);
    return out;
  }
  // The status codes of a stanza's <x xmlns='muc#user'/>.
  static std::vector<int> statuses(const xml::Element& stanza) {
    std::vector<int> out;
    if (const xml::Element* x = stanza.child(kMucUserNs, "x"))
      for (const xml::Element* status : x->children())
        if (status->name() == "status") out.push_back(std::stoi(status->attribute_or("code", "0")));
    return out;
  }
  bool in_room(std::string_view nick) const { return room_->occupants().contains(nick); }

  TestRoomHost host_;
  std::unique_ptr<Room> room_;
  std::vector<xml::Element> sent_;
};

}  // namespace xmppd::router::muc
