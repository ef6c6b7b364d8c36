// The occupants' side of a room (room_occupants.cc, room_messages.cc) driven through a
// TestRoomHost: entering and each refusal, presence and nickname changes, leaving, XEP-0421
// ids, XEP-0410 self-ping and IQs between occupants, groupchat and its limits, the subject,
// history, private messages, invitations. Each refusal also checks that nothing reached
// anyone else.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/base64.h"
#include "router/muc/room.h"
#include "router/muc/room_forms.h"
#include "router/muc/test_room_host.h"
#include "xml/fragment.h"

namespace xmppd::router::muc {

constexpr std::string_view kRoom = "room@conference.example.org";
constexpr std::string_view kAlice = "alice@example.org/phone";
constexpr std::string_view kBob = "bob@example.org/laptop";
constexpr std::string_view kCarol = "carol@example.net/desk";
constexpr std::string_view kOwner = "owner@example.org/home";

using Stanzas = std::vector<xml::Element>;

std::string str(const xml::Element& e) {
  std::string out;
  e.serialize(out);
  return out;
}

std::string room_jid(std::string_view nick) { return std::string(kRoom) + "/" + std::string(nick); }

// The status codes of a presence's <x muc#user/>.
std::vector<int> statuses(const xml::Element& presence) {
  std::vector<int> codes;
  if (const xml::Element* x = presence.child(kMucUserNs, "x"))
    for (const xml::Element* c : x->children())
      if (c->name() == "status") codes.push_back(std::stoi(c->attribute_or("code")));
  return codes;
}

const xml::Element* item(const xml::Element& presence) {
  const xml::Element* x = presence.child(kMucUserNs, "x");
  return x != nullptr ? x->child(kMucUserNs, "item") : nullptr;
}

// The stanza error's condition, or "" when the stanza is no error.
std::string condition(const xml::Element& stanza) {
  const xml::Element* error = stanza.child("jabber:client", "error");
  if (error == nullptr) return "";
  auto children = error->children();
  return children.empty() ? "?" : children.front()->name();
}

std::string error_type(const xml::Element& stanza) {
  const xml::Element* error = stanza.child("jabber:client", "error");
  return error != nullptr ? error->attribute_or("type") : "";
}

std::vector<const xml::Element*> to(const Stanzas& sent, std::string_view full) {
  std::vector<const xml::Element*> out;
  for (const auto& s : sent)
    if (s.attribute_or("to") == full) out.push_back(&s);
  return out;
}

std::string occupant_id(const xml::Element& stanza) {
  const xml::Element* id = stanza.child("urn:xmpp:occupant-id:0", "occupant-id");
  return id != nullptr ? id->attribute_or("id") : "";
}

class RoomTest : public ::testing::Test {
 protected:
  RoomTest() {
    RoomState state;
    state.affiliations["owner@example.org"].affiliation = Affiliation::kOwner;
    make(std::move(state));
  }

  void make(RoomState state) { room = std::make_unique<Room>(host, std::string(kRoom), std::move(state)); }
  RoomState& state() { return room->state_; }
  std::size_t history_size() const { return room->history_.size(); }

  static xml::Element parse(std::string_view text) {
    std::string error;
    auto e = xml::parse_fragment(text, "jabber:client", 1 << 20, &error);
    EXPECT_TRUE(e) << error << ": " << text;
    return e ? *e : xml::Element("jabber:client", "bad");
  }

  // Delivers a stanza as routing would: 'from' and 'to' from its attributes.
  Stanzas deliver(std::string_view text) {
    xml::Element e = parse(text);
    auto from = xmpp::Jid::parse(e.attribute_or("from"));
    auto to_jid = xmpp::Jid::parse(e.attribute_or("to"));
    EXPECT_TRUE(from && to_jid);
    room->receive(e, *from, *to_jid);
    return host.take();
  }

  Stanzas join(std::string_view full, std::string_view nick, std::string_view in_x = "") {
    return deliver("<presence from='" + std::string(full) + "' to='" + room_jid(nick) +
                   "'><x xmlns='http://jabber.org/protocol/muc'>" + std::string(in_x) + "</x></presence>");
  }

  Stanzas say(std::string_view full, std::string_view body, std::string_view extra = "") {
    return deliver("<message type='groupchat' id='m1' from='" + std::string(full) + "' to='" + std::string(kRoom) +
                   "'><body>" + std::string(body) + "</body>" + std::string(extra) + "</message>");
  }

  // The refusal of a join: the one error to the joiner and nothing else to anyone.
  void expect_refused(const Stanzas& sent, std::string_view full, std::string_view cond, std::string_view type) {
    ASSERT_EQ(sent.size(), 1u) << (sent.empty() ? "" : str(sent.back()));
    EXPECT_EQ(sent[0].attribute_or("to"), full);
    EXPECT_EQ(condition(sent[0]), cond) << str(sent[0]);
    EXPECT_EQ(error_type(sent[0]), type);
  }

  TestRoomHost host;
  std::unique_ptr<Room> room;
};

// --- entering ---

TEST_F(RoomTest, CreatorOwnsALockedRoomAndOthersWaitForItsConfiguration) {
  RoomState fresh;
  fresh.locked = true;
  make(std::move(fresh));
  Stanzas sent = join(kAlice, "alice");
  ASSERT_EQ(sent.size(), 2u);  // own presence, subject
  EXPECT_EQ(sent[0].attribute_or("from"), room_jid("alice"));
  EXPECT_EQ(statuses(sent[0]), (std::vector<int>{110, 201}));
  EXPECT_EQ(item(sent[0])->attribute_or("affiliation"), "owner");
  EXPECT_EQ(item(sent[0])->attribute_or("role"), "moderator");
  EXPECT_EQ(sent[1].child("jabber:client", "subject")->text(), "");
  EXPECT_EQ(room->state().affiliations.at("alice@example.org").affiliation, Affiliation::kOwner);
  EXPECT_GE(host.changes, 1);

  expect_refused(join(kBob, "bob"), kBob, "item-not-found", "cancel");
  EXPECT_EQ(room->occupants().size(), 1u);
}

TEST_F(RoomTest, InstantRoomIsUnlockedAndOpen) {
  make(RoomState{});
  Stanzas sent = join(kAlice, "alice");
  EXPECT_EQ(statuses(sent[0]), (std::vector<int>{110, 201}));
  sent = join(kBob, "bob");
  EXPECT_EQ(to(sent, kBob).size(), 3u);  // alice, self, subject
  EXPECT_EQ(statuses(*to(sent, kBob)[1]), (std::vector<int>{110}));
}

TEST_F(RoomTest, RefusedFirstJoinLeavesNoRoom) {
  RoomState fresh;
  fresh.locked = true;
  make(std::move(fresh));
  host.mutable_options().set_max_nick_length(3);
  expect_refused(join(kAlice, "alice"), kAlice, "not-acceptable", "modify");
  EXPECT_TRUE(host.room_gone);
  EXPECT_TRUE(room->state().affiliations.empty());
}

TEST_F(RoomTest, NewcomerGetsOthersThenItselfThenHistoryThenSubject) {
  join(kAlice, "alice");
  say(kAlice, "hello");
  Stanzas sent = join(kBob, "bob");
  auto mine = to(sent, kBob);
  ASSERT_EQ(mine.size(), 4u);
  EXPECT_EQ(mine[0]->attribute_or("from"), room_jid("alice"));
  EXPECT_TRUE(statuses(*mine[0]).empty());
  EXPECT_EQ(mine[1]->attribute_or("from"), room_jid("bob"));
  EXPECT_EQ(statuses(*mine[1]), (std::vector<int>{110}));
  EXPECT_EQ(item(*mine[1])->attribute_or("jid"), kBob);  // its own real JID
  EXPECT_EQ(mine[2]->child("jabber:client", "body")->text(), "hello");
  EXPECT_NE(mine[2]->child("urn:xmpp:delay", "delay"), nullptr);
  EXPECT_EQ(mine[2]->child("urn:xmpp:delay", "delay")->attribute_or("from"), kRoom);
  EXPECT_NE(mine[3]->child("jabber:client", "subject"), nullptr);
  auto theirs = to(sent, kAlice);
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(theirs[0]->attribute_or("from"), room_jid("bob"));
  EXPECT_EQ(item(*theirs[0])->attribute("jid"), nullptr);  // alice is no moderator
  EXPECT_EQ(occupant_id(*theirs[0]), room->occupant_id_for("bob@example.org"));
}

TEST_F(RoomTest, ModeratorsSeeRealJidsAndNonAnonymousRoomsShowThemToAll) {
  join(kOwner, "boss");
  Stanzas sent = join(kAlice, "alice");
  EXPECT_EQ(item(*to(sent, kOwner)[0])->attribute_or("jid"), kAlice);
  EXPECT_EQ(item(*to(sent, kAlice)[0])->attribute("jid"), nullptr);

  state().config.whois = Whois::kAnyone;
  sent = join(kBob, "bob");
  EXPECT_EQ(item(*to(sent, kBob)[0])->attribute_or("jid").empty(), false);
  auto self = to(sent, kBob)[2];
  EXPECT_EQ(statuses(*self), (std::vector<int>{110, 100}));
}

TEST_F(RoomTest, ArchivedRoomSays170) {
  host.mutable_options().set_mam(true);
  Stanzas sent = join(kAlice, "alice");
  EXPECT_EQ(statuses(sent[0]), (std::vector<int>{110, 170}));
}

TEST_F(RoomTest, PreparedNicknameIs210) {
  xml::Element p = parse("<presence from='alice@example.org/phone' to='room@conference.example.org/Alice '/>");
  room->receive(p, *xmpp::Jid::parse(kAlice), *xmpp::Jid::parse(room_jid("Alice")));
  Stanzas sent = host.take();
  EXPECT_EQ(statuses(sent[0]), (std::vector<int>{110, 210}));
}

TEST_F(RoomTest, NicknameConflicts) {
  join(kAlice, "alice");
  expect_refused(join(kBob, "alice"), kBob, "conflict", "cancel");
  // The same user from another session is the same occupant.
  Stanzas sent = join("alice@example.org/laptop", "alice");
  EXPECT_EQ(room->occupants().size(), 1u);
  EXPECT_EQ(room->occupants().at("alice").sessions.size(), 2u);
  EXPECT_EQ(statuses(*to(sent, "alice@example.org/laptop")[0]), (std::vector<int>{110}));
  // A nickname another user registered.
  state().affiliations["carol@example.net"] = AffiliationEntry{Affiliation::kMember, "cc", ""};
  expect_refused(join(kBob, "cc"), kBob, "conflict", "cancel");
  EXPECT_EQ(to(join(kCarol, "cc"), kCarol).size(), 3u);
}

// enforce_registered_nickname: a registered user enters under its nickname, told by 210, and
// keeps it; without the option the nickname asked for is used.
TEST_F(RoomTest, ARegisteredNicknameIsEnforcedWhenTheServiceSaysSo) {
  join(kAlice, "alice");
  state().affiliations["carol@example.net"] = AffiliationEntry{Affiliation::kMember, "cc", ""};
  host.mutable_options().set_enforce_registered_nickname(true);
  Stanzas sent = join(kCarol, "carol");
  EXPECT_EQ(room->occupant_of(kCarol)->nick, "cc");
  auto own = to(sent, kCarol);
  ASSERT_FALSE(own.empty());
  EXPECT_EQ(own[1]->attribute_or("from"), room_jid("cc"));
  EXPECT_EQ(statuses(*own[1]), (std::vector<int>{110, 210}));
  expect_refused(deliver("<presence from='" + std::string(kCarol) + "' to='" + room_jid("other") + "'/>"), kCarol,
                 "not-acceptable", "cancel");
  EXPECT_EQ(room->occupant_of(kCarol)->nick, "cc");
  // Without the option, as asked.
  host.mutable_options().set_enforce_registered_nickname(false);
  join(kBob, "bob");
  state().affiliations["bob@example.org"] = AffiliationEntry{Affiliation::kMember, "bobby", ""};
  deliver("<presence from='" + std::string(kBob) + "' to='" + room_jid("bob2") + "'/>");
  EXPECT_EQ(room->occupant_of(kBob)->nick, "bob2");
}

// As Prosody 0.12: an outcast entry for a bare domain bans its users, but not one with an
// affiliation of its own.
TEST_F(RoomTest, ABannedDomainsUsersAreRefused) {
  state().affiliations["example.net"].affiliation = Affiliation::kOutcast;
  expect_refused(join(kCarol, "carol"), kCarol, "forbidden", "auth");
  EXPECT_EQ(room->affiliation_of("dave@example.net"), Affiliation::kOutcast);
  EXPECT_EQ(room->affiliation_of("dave@sub.example.net"), Affiliation::kNone);
  state().affiliations["carol@example.net"].affiliation = Affiliation::kMember;
  EXPECT_EQ(to(join(kCarol, "carol"), kCarol).size(), 2u);  // self, subject
}

TEST_F(RoomTest, BannedMembersOnlyPasswordAndFull) {
  join(kAlice, "alice");
  state().affiliations["bob@example.org"].affiliation = Affiliation::kOutcast;
  expect_refused(join(kBob, "bob"), kBob, "forbidden", "auth");

  state().config.members_only = true;
  expect_refused(join(kCarol, "carol"), kCarol, "registration-required", "auth");
  state().affiliations["carol@example.net"].affiliation = Affiliation::kMember;
  state().config.password = "secret";
  expect_refused(join(kCarol, "carol"), kCarol, "not-authorized", "auth");
  expect_refused(join(kCarol, "carol", "<password>wrong</password>"), kCarol, "not-authorized", "auth");
  EXPECT_EQ(to(join(kCarol, "carol", "<password>secret</password>"), kCarol).size(), 3u);  // alice, self, subject

  state().config.members_only = false;
  state().config.password.clear();
  state().config.max_occupants = 2;
  expect_refused(join("dave@example.org/x", "dave"), "dave@example.org/x", "service-unavailable", "wait");
  EXPECT_FALSE(to(join(kOwner, "boss"), kOwner).empty());  // owners still enter
  EXPECT_EQ(room->occupants().size(), 3u);
}

TEST_F(RoomTest, JoiningAgainFromTheSameSessionGetsTheRoomAgain) {
  join(kAlice, "alice");
  say(kAlice, "before");
  join(kBob, "bob");
  Stanzas sent = join(kBob, "bob");
  auto mine = to(sent, kBob);
  ASSERT_EQ(mine.size(), 4u);  // alice, self, history, subject
  EXPECT_EQ(statuses(*mine[1]), (std::vector<int>{110}));
  EXPECT_EQ(mine[2]->child("jabber:client", "body")->text(), "before");
  EXPECT_EQ(to(sent, kAlice).size(), 1u);
  EXPECT_EQ(room->occupants().size(), 2u);
}

TEST_F(RoomTest, JoinWithoutMucElementWorks) {
  Stanzas sent = deliver("<presence from='alice@example.org/phone' to='room@conference.example.org/alice'/>");
  EXPECT_EQ(statuses(sent[0]), (std::vector<int>{110}));
}

// --- presence ---

TEST_F(RoomTest, PresenceChangeIsBroadcastWithoutForgedElements) {
  join(kAlice, "alice");
  join(kBob, "bob");
  Stanzas sent = deliver(
      "<presence from='bob@example.org/laptop' to='room@conference.example.org/bob'><show>away</show>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/></x>"
      "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/></presence>");
  ASSERT_EQ(sent.size(), 2u);
  for (const auto& p : sent) {
    EXPECT_EQ(p.child("jabber:client", "show")->text(), "away");
    EXPECT_EQ(item(p)->attribute_or("affiliation"), "none");
    EXPECT_EQ(occupant_id(p), room->occupant_id_for("bob@example.org"));
    EXPECT_EQ(str(p).find("forged"), std::string::npos);
  }
  EXPECT_EQ(statuses(*to(sent, kBob)[0]), (std::vector<int>{110}));
}

TEST_F(RoomTest, PresenceChangesAreRateLimited) {
  host.mutable_options().set_event_rate(1);
  host.mutable_options().set_burst_factor(1);
  join(kAlice, "alice");
  host.set_now_ms(host.now_ms() + 1000);  // entering took the token
  std::string change =
      "<presence from='alice@example.org/phone' to='room@conference.example.org/alice'><show>dnd</show></presence>";
  EXPECT_EQ(deliver(change).size(), 1u);
  Stanzas sent = deliver(change);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "resource-constraint");
  host.set_now_ms(host.now_ms() + 1000);
  EXPECT_EQ(condition(deliver(change)[0]), "");
}

// Review 16, finding 7: entering costs a token, and leaving and entering again does not
// refill the bucket.
TEST_F(RoomTest, LeavingAndEnteringAgainIsRateLimited) {
  host.mutable_options().set_event_rate(1);
  host.mutable_options().set_burst_factor(3);
  join(kOwner, "boss");
  const std::string leave =
      "<presence type='unavailable' from='alice@example.org/phone' to='room@conference.example.org/alice'/>";
  join(kAlice, "alice");  // 2 tokens left
  ASSERT_NE(room->occupant("alice"), nullptr);
  deliver(leave);
  ASSERT_EQ(room->occupant("alice"), nullptr);
  join(kAlice, "alice");  // 1 left
  deliver(leave);
  join(kAlice, "alice");  // 0 left
  deliver(leave);
  Stanzas sent = join(kAlice, "alice");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "resource-constraint");
  EXPECT_EQ(room->occupant("alice"), nullptr);
  host.set_now_ms(host.now_ms() + 1000);
  join(kAlice, "alice");
  EXPECT_NE(room->occupant("alice"), nullptr);
}

TEST_F(RoomTest, NicknameChange) {
  join(kAlice, "alice");
  join(kBob, "bob");
  Stanzas sent = deliver("<presence from='bob@example.org/laptop' to='room@conference.example.org/robert'/>");
  ASSERT_EQ(sent.size(), 4u);
  auto alice = to(sent, kAlice);
  EXPECT_EQ(alice[0]->attribute_or("type"), "unavailable");
  EXPECT_EQ(alice[0]->attribute_or("from"), room_jid("bob"));
  EXPECT_EQ(item(*alice[0])->attribute_or("nick"), "robert");
  EXPECT_EQ(statuses(*alice[0]), (std::vector<int>{303}));
  EXPECT_EQ(alice[1]->attribute_or("from"), room_jid("robert"));
  EXPECT_EQ(alice[1]->attribute("type"), nullptr);
  auto bob = to(sent, kBob);
  EXPECT_EQ(statuses(*bob[0]), (std::vector<int>{303, 110}));
  EXPECT_EQ(statuses(*bob[1]), (std::vector<int>{110}));
  EXPECT_EQ(room->occupants().count("bob"), 0u);
  EXPECT_EQ(room->occupants().at("robert").bare, "bob@example.org");

  sent = deliver("<presence from='bob@example.org/laptop' to='room@conference.example.org/alice'/>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "conflict");
}

TEST_F(RoomTest, OneOfTwoSessionsChangesNickname) {
  join(kAlice, "alice");
  join("alice@example.org/laptop", "alice");
  join(kBob, "bob");
  Stanzas sent = deliver("<presence from='alice@example.org/laptop' to='room@conference.example.org/ally'/>");
  auto laptop = to(sent, "alice@example.org/laptop");
  ASSERT_GE(laptop.size(), 2u);
  EXPECT_EQ(laptop[0]->attribute_or("type"), "unavailable");
  EXPECT_EQ(laptop[0]->attribute_or("from"), room_jid("alice"));
  EXPECT_EQ(statuses(*laptop[0]), (std::vector<int>{303, 110}));
  EXPECT_EQ(item(*laptop[0])->attribute_or("nick"), "ally");
  EXPECT_EQ(laptop.back()->attribute_or("from"), room_jid("ally"));
  EXPECT_EQ(statuses(*laptop.back()), (std::vector<int>{110}));
  // Bob sees a new occupant, and alice stays.
  auto bob = to(sent, kBob);
  ASSERT_FALSE(bob.empty());
  EXPECT_EQ(bob.back()->attribute_or("from"), room_jid("ally"));
  for (const auto* p : bob) EXPECT_EQ(p->attribute("type"), nullptr);
  EXPECT_EQ(room->occupants().at("alice").sessions.size(), 1u);
  EXPECT_EQ(room->occupants().at("ally").sessions.size(), 1u);

  // Back into the same user's other nickname: ally leaves, alice has two sessions again.
  sent = deliver("<presence from='alice@example.org/laptop' to='room@conference.example.org/alice'/>");
  EXPECT_EQ(room->occupants().count("ally"), 0u);
  EXPECT_EQ(room->occupants().at("alice").sessions.size(), 2u);
  bob = to(sent, kBob);
  ASSERT_EQ(bob.size(), 2u);
  EXPECT_EQ(bob[0]->attribute_or("from"), room_jid("ally"));
  EXPECT_EQ(bob[0]->attribute_or("type"), "unavailable");
  EXPECT_EQ(bob[1]->attribute_or("from"), room_jid("alice"));
  EXPECT_EQ(room->occupant_of("alice@example.org/laptop")->nick, "alice");
}

TEST_F(RoomTest, LeavingAndTheLastOneOut) {
  join(kAlice, "alice");
  join(kBob, "bob");
  Stanzas sent = deliver(
      "<presence type='unavailable' from='bob@example.org/laptop' to='room@conference.example.org/bob'>"
      "<status>bye</status></presence>");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(statuses(*to(sent, kBob)[0]), (std::vector<int>{110}));
  EXPECT_EQ(to(sent, kAlice)[0]->attribute_or("type"), "unavailable");
  EXPECT_EQ(to(sent, kAlice)[0]->child("jabber:client", "status")->text(), "bye");
  EXPECT_EQ(item(*to(sent, kAlice)[0])->attribute_or("role"), "none");
  EXPECT_FALSE(host.room_gone);
  deliver("<presence type='unavailable' from='alice@example.org/phone' to='room@conference.example.org/alice'/>");
  EXPECT_TRUE(host.room_gone);
  EXPECT_TRUE(room->empty());
}

TEST_F(RoomTest, PersistentRoomStaysWhenEmpty) {
  state().config.persistent = true;
  join(kAlice, "alice");
  deliver("<presence type='unavailable' from='alice@example.org/phone' to='room@conference.example.org/alice'/>");
  EXPECT_FALSE(host.room_gone);
}

TEST_F(RoomTest, OneOfTwoSessionsLeaving) {
  join(kAlice, "alice");
  join("alice@example.org/laptop", "alice");
  join(kBob, "bob");
  Stanzas sent =
      deliver("<presence type='unavailable' from='alice@example.org/laptop' to='room@conference.example.org/alice'/>");
  EXPECT_EQ(to(sent, "alice@example.org/laptop").size(), 1u);
  EXPECT_EQ(to(sent, "alice@example.org/laptop")[0]->attribute_or("type"), "unavailable");
  for (const auto& s : to(sent, kBob)) EXPECT_EQ(s->attribute("type"), nullptr);
  EXPECT_EQ(room->occupants().at("alice").sessions.size(), 1u);
}

TEST_F(RoomTest, ErrorPresenceRemovesTheSession) {
  join(kAlice, "alice");
  join(kBob, "bob");
  Stanzas sent = deliver(
      "<presence type='error' from='bob@example.org/laptop' to='room@conference.example.org/bob'>"
      "<error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attribute_or("to"), kAlice);
  EXPECT_EQ(statuses(sent[0]), (std::vector<int>{333}));
  EXPECT_EQ(sent[0].child("jabber:client", "status")->text(), "Kicked: gone");
  EXPECT_EQ(room->occupants().count("bob"), 0u);
}

TEST_F(RoomTest, ErrorMessageThatSaysTheSessionIsGoneRemovesIt) {
  join(kAlice, "alice");
  join(kBob, "bob");
  // A refusal of one message says nothing of the session.
  Stanzas sent = deliver(
      "<message type='error' from='bob@example.org/laptop' to='room@conference.example.org/alice'>"
      "<error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
  EXPECT_TRUE(sent.empty());
  EXPECT_EQ(room->occupants().count("bob"), 1u);
  sent = deliver(
      "<message type='error' from='bob@example.org/laptop' to='room@conference.example.org'>"
      "<error type='cancel'><recipient-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attribute_or("to"), kAlice);
  EXPECT_EQ(statuses(sent[0]), (std::vector<int>{333}));
  EXPECT_EQ(room->occupants().count("bob"), 0u);
  // From someone who is no occupant: nothing.
  EXPECT_TRUE(deliver("<message type='error' from='carol@example.net/desk' to='room@conference.example.org'>"
                      "<error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>")
                  .empty());
}

TEST_F(RoomTest, SubscriptionsToOccupantsAreRefused) {
  join(kAlice, "alice");
  Stanzas sent =
      deliver("<presence type='subscribe' from='bob@example.org/laptop' to='room@conference.example.org/alice'/>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "bad-request");
}

TEST_F(RoomTest, RemoveOccupantTellsEveryone) {
  join(kAlice, "alice");
  join(kBob, "bob");
  deliver("<presence from='bob@example.org/laptop' to='room@conference.example.org/bob'><show>away</show></presence>");
  const int kicked[] = {307};
  room->remove_occupant("bob", kicked);
  Stanzas sent = host.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(statuses(*to(sent, kBob)[0]), (std::vector<int>{307, 110}));
  EXPECT_EQ(statuses(*to(sent, kAlice)[0]), (std::vector<int>{307}));
  EXPECT_EQ(item(*to(sent, kAlice)[0])->attribute_or("role"), "none");
  EXPECT_EQ(to(sent, kAlice)[0]->child("jabber:client", "show"), nullptr);
  EXPECT_EQ(room->occupant_of(kBob), nullptr);
}

TEST_F(RoomTest, OccupantIdsAreStablePerUserAndRoom) {
  std::string id = room->occupant_id_for("alice@example.org");
  EXPECT_EQ(id, room->occupant_id_for("alice@example.org"));
  EXPECT_NE(id, room->occupant_id_for("bob@example.org"));
  EXPECT_EQ(id.size(), 44u);  // base64 of 32 bytes
  TestRoomHost other_host;
  Room other(other_host, "other@conference.example.org", RoomState{});
  EXPECT_NE(id, other.occupant_id_for("alice@example.org"));
}

// --- IQs to occupants ---

TEST_F(RoomTest, SelfPing) {
  Stanzas sent = deliver(
      "<iq type='get' id='p1' from='alice@example.org/phone' to='room@conference.example.org/alice'>"
      "<ping xmlns='urn:xmpp:ping'/></iq>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "not-acceptable");
  join(kAlice, "alice");
  sent = deliver(
      "<iq type='get' id='p2' from='alice@example.org/phone' to='room@conference.example.org/alice'>"
      "<ping xmlns='urn:xmpp:ping'/></iq>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attribute_or("type"), "result");
  EXPECT_EQ(sent[0].attribute_or("id"), "p2");
  EXPECT_EQ(sent[0].attribute_or("to"), kAlice);
}

TEST_F(RoomTest, IqToAnotherOccupantGoesThereAndBack) {
  join(kAlice, "alice");
  join(kBob, "bob");
  Stanzas sent = deliver(
      "<iq type='get' id='v1' from='alice@example.org/phone' to='room@conference.example.org/bob'>"
      "<query xmlns='jabber:iq:version'/></iq>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attribute_or("to"), kBob);
  EXPECT_EQ(sent[0].attribute_or("from"), room_jid("alice"));
  std::string id = sent[0].attribute_or("id");
  EXPECT_NE(id, "v1");
  auto reply = [&](std::string_view from, std::string_view reply_id) {
    return deliver("<iq type='result' id='" + std::string(reply_id) + "' from='" + std::string(from) +
                   "' to='room@conference.example.org/alice'><query xmlns='jabber:iq:version'/></iq>");
  };
  // Someone else, or a changed id, gets nothing through.
  EXPECT_TRUE(reply(kCarol, id).empty());
  std::string tampered = id;
  tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(reply(kBob, tampered).empty());
  sent = reply(kBob, id);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attribute_or("to"), kAlice);
  EXPECT_EQ(sent[0].attribute_or("from"), room_jid("bob"));
  EXPECT_EQ(sent[0].attribute_or("id"), "v1");
  // One reply per request: a replay gets nothing through.
  EXPECT_TRUE(reply(kBob, id).empty());
}

// Review 16, finding 2: the id bob sees must not tell him alice's real JID (the room is
// semi-anonymous), in clear or encoded; a reply after a minute finds nothing.
TEST_F(RoomTest, AForwardedIqsIdSaysNothingOfTheRequester) {
  join(kAlice, "alice");
  join(kBob, "bob");
  Stanzas sent = deliver(
      "<iq type='get' id='v1' from='alice@example.org/phone' to='room@conference.example.org/bob'>"
      "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  ASSERT_EQ(sent.size(), 1u);
  const std::string id = sent[0].attribute_or("id");
  EXPECT_EQ(id.find("alice"), std::string::npos);
  for (std::size_t start = 0; start < id.size(); ++start)
    for (std::size_t end = start + 4; end <= id.size(); end += 4)
      if (auto decoded = base64_decode(std::string_view(id).substr(start, end - start))) {
        EXPECT_EQ(decoded->find("alice"), std::string::npos) << id;
      }
  host.set_now_ms(host.now_ms() + 60'001);
  EXPECT_TRUE(deliver("<iq type='result' id='" + id +
                      "' from='bob@example.org/laptop' to='room@conference.example.org/alice'/>")
                  .empty());
}

TEST_F(RoomTest, AnOccupantHasAtMost64IqsWaitingForReplies) {
  join(kAlice, "alice");
  join(kBob, "bob");
  for (int i = 0; i < 64; ++i) {
    Stanzas sent = deliver("<iq type='get' id='q" + std::to_string(i) +
                           "' from='alice@example.org/phone' to='room@conference.example.org/bob'>"
                           "<ping xmlns='urn:xmpp:ping'/></iq>");
    ASSERT_EQ(sent.size(), 1u);
    ASSERT_EQ(sent[0].attribute_or("to"), kBob);
  }
  Stanzas sent = deliver(
      "<iq type='get' id='q64' from='alice@example.org/phone' to='room@conference.example.org/bob'>"
      "<ping xmlns='urn:xmpp:ping'/></iq>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "resource-constraint");
  // Bob's own requests are his to count.
  sent = deliver("<iq type='get' id='b' from='" + std::string(kBob) +
                 "' to='room@conference.example.org/alice'><ping xmlns='urn:xmpp:ping'/></iq>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attribute_or("to"), kAlice);
}

TEST_F(RoomTest, VcardOfAnOccupantIsAskedOfItsRealBareJid) {
  join(kAlice, "alice");
  join(kBob, "bob");
  Stanzas sent = deliver(
      "<iq type='get' id='c1' from='alice@example.org/phone' to='room@conference.example.org/bob'>"
      "<vCard xmlns='vcard-temp'/></iq>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attribute_or("to"), "bob@example.org");
  sent = deliver(
      "<iq type='get' id='c2' from='alice@example.org/phone' to='room@conference.example.org/nobody'>"
      "<vCard xmlns='vcard-temp'/></iq>");
  EXPECT_EQ(condition(sent[0]), "item-not-found");
}

// --- groupchat ---

TEST_F(RoomTest, GroupchatGoesToEverySessionFromTheNickname) {
  join(kAlice, "alice");
  join("alice@example.org/laptop", "alice");
  join(kBob, "bob");
  Stanzas sent = say(kBob, "hi all",
                     "<stanza-id xmlns='urn:xmpp:sid:0' by='room@conference.example.org' id='forged'/>"
                     "<stanza-id xmlns='urn:xmpp:sid:0' by='bob@example.org' id='own'/>"
                     "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/>");
  ASSERT_EQ(sent.size(), 3u);
  for (const auto& m : sent) {
    EXPECT_EQ(m.attribute_or("from"), room_jid("bob"));
    EXPECT_EQ(m.attribute_or("type"), "groupchat");
    EXPECT_EQ(m.attribute_or("id"), "m1");
    EXPECT_EQ(occupant_id(m), room->occupant_id_for("bob@example.org"));
    EXPECT_EQ(str(m).find("forged"), std::string::npos) << str(m);
    EXPECT_NE(str(m).find("own"), std::string::npos);
  }
  EXPECT_EQ(to(sent, "alice@example.org/laptop").size(), 1u);
  EXPECT_EQ(history_size(), 1u);
}

// Review 16, finding 6: a chat state is broadcast but not replayed to newcomers.
TEST_F(RoomTest, OnlyMessagesWithABodyAreKeptInHistory) {
  join(kAlice, "alice");
  join(kBob, "bob");
  say(kBob, "hello");
  Stanzas sent = deliver(
      "<message type='groupchat' from='bob@example.org/laptop' to='room@conference.example.org'>"
      "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
  EXPECT_EQ(sent.size(), 2u);
  EXPECT_EQ(history_size(), 1u);
  sent = join(kCarol, "carol");
  int replayed = 0;
  for (const auto& m : sent)
    if (m.name() == "message" && m.child("jabber:client", "subject") == nullptr) ++replayed;
  EXPECT_EQ(replayed, 1);
}

TEST_F(RoomTest, GroupchatWithoutIdGetsOneAndForgedDelaysGo) {
  join(kAlice, "alice");
  join(kBob, "bob");
  Stanzas sent = deliver(
      "<message type='groupchat' from='bob@example.org/laptop' to='room@conference.example.org'><body>x</body>"
      "<delay xmlns='urn:xmpp:delay' from='room@conference.example.org' stamp='2000-01-01T00:00:00Z'/>"
      "<delay xmlns='urn:xmpp:delay' from='bob@example.org' stamp='2000-01-01T00:00:00Z'/></message>");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_FALSE(sent[0].attribute_or("id").empty());
  EXPECT_EQ(sent[0].attribute_or("id"), sent[1].attribute_or("id"));
  EXPECT_EQ(str(sent[0]).find("from='room@conference.example.org' stamp"), std::string::npos) << str(sent[0]);
  EXPECT_NE(str(sent[0]).find("from='bob@example.org' stamp"), std::string::npos);
}

TEST_F(RoomTest, GroupchatRefusals) {
  join(kAlice, "alice");
  join(kBob, "bob");
  Stanzas sent = say(kCarol, "let me in");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "not-acceptable");

  host.mutable_options().set_max_char_count(5);
  sent = say(kBob, "too long");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "policy-violation");
  host.mutable_options().set_max_char_count(100);
  host.mutable_options().set_max_line_count(2);
  sent = say(kBob, "1\n2\n3");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "policy-violation");
  EXPECT_EQ(sent[0].attribute_or("to"), kBob);

  state().config.moderated = true;
  join(kCarol, "carol");  // a visitor now
  sent = say(kCarol, "can I speak?");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "forbidden");
  EXPECT_EQ(history_size(), 0u);
}

TEST_F(RoomTest, GroupchatIsRateLimited) {
  host.mutable_options().set_event_rate(0.5);
  host.mutable_options().set_burst_factor(2);
  join(kAlice, "alice");
  EXPECT_EQ(say(kAlice, "1").size(), 1u);
  EXPECT_EQ(say(kAlice, "2").size(), 1u);
  Stanzas sent = say(kAlice, "3");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "resource-constraint");
  EXPECT_EQ(error_type(sent[0]), "wait");
  host.set_now_ms(host.now_ms() + 2000);
  EXPECT_EQ(condition(say(kAlice, "4")[0]), "");
}

TEST_F(RoomTest, Subject) {
  join(kOwner, "boss");
  join(kAlice, "alice");
  std::string set_subject =
      "<message type='groupchat' from='alice@example.org/phone' "
      "to='room@conference.example.org'><subject>mine</subject></message>";
  Stanzas sent = deliver(set_subject);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "forbidden");
  state().config.change_subject = true;
  sent = deliver(set_subject);
  EXPECT_EQ(sent.size(), 2u);
  EXPECT_EQ(room->state().subject, "mine");
  EXPECT_EQ(room->state().subject_nick, "alice");
  host.mutable_options().set_max_subject_length(3);
  sent = deliver(set_subject);
  EXPECT_EQ(condition(sent[0]), "policy-violation");
  sent = join(kBob, "bob");
  const xml::Element* subject = to(sent, kBob).back();
  EXPECT_EQ(subject->attribute_or("from"), room_jid("alice"));
  EXPECT_EQ(subject->child("jabber:client", "subject")->text(), "mine");
  EXPECT_EQ(history_size(), 0u);
}

TEST_F(RoomTest, HistoryAsAsked) {
  join(kAlice, "alice");
  for (int i = 0; i < 30; ++i) {
    say(kAlice, "m" + std::to_string(i));
    host.set_now_ms(host.now_ms() + 10'000);
  }
  EXPECT_EQ(history_size(), 20u);  // max_history_messages
  auto bodies = [&](const Stanzas& sent) {
    std::vector<std::string> out;
    for (const auto& s : sent)
      if (const xml::Element* b = s.child("jabber:client", "body"); b && s.attribute_or("to") == kBob)
        out.push_back(b->text());
    return out;
  };
  state().config.history_length = 5;
  EXPECT_EQ(bodies(join(kBob, "bob")), (std::vector<std::string>{"m25", "m26", "m27", "m28", "m29"}));
  auto rejoin = [&](std::string_view history) {
    deliver("<presence type='unavailable' from='bob@example.org/laptop' to='room@conference.example.org/bob'/>");
    return join(kBob, "bob", history);
  };
  EXPECT_EQ(bodies(rejoin("<history maxstanzas='2'/>")), (std::vector<std::string>{"m28", "m29"}));
  EXPECT_TRUE(bodies(rejoin("<history maxchars='0'/>")).empty());
  // Messages 10 s apart; the last one was sent 10 s ago.
  EXPECT_EQ(bodies(rejoin("<history seconds='25'/>")), (std::vector<std::string>{"m28", "m29"}));
  EXPECT_EQ(bodies(rejoin("<history since='1970-01-01T00:00:00Z'/>")).size(), 5u);
  EXPECT_TRUE(bodies(rejoin("<history since='2100-01-01T00:00:00Z'/>")).empty());
}

// --- private messages ---

TEST_F(RoomTest, PrivateMessages) {
  join(kAlice, "alice");
  join("alice@example.org/laptop", "alice");
  join(kBob, "bob");
  std::string pm =
      "<message type='chat' id='p' from='bob@example.org/laptop' "
      "to='room@conference.example.org/alice'><body>psst</body>"
      "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/></message>";
  Stanzas sent = deliver(pm);
  ASSERT_EQ(sent.size(), 2u);
  for (const auto& m : sent) {
    EXPECT_EQ(m.attribute_or("from"), room_jid("bob"));
    EXPECT_NE(m.child(kMucUserNs, "x"), nullptr);
    EXPECT_EQ(occupant_id(m), room->occupant_id_for("bob@example.org"));
    EXPECT_EQ(str(m).find("forged"), std::string::npos);
  }
  sent = deliver(
      "<message type='chat' from='bob@example.org/laptop' "
      "to='room@conference.example.org/nobody'><body>x</body></message>");
  EXPECT_EQ(condition(sent[0]), "item-not-found");
  sent = deliver(
      "<message type='chat' from='carol@example.net/desk' "
      "to='room@conference.example.org/alice'><body>x</body></message>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "not-acceptable");
  sent = deliver(
      "<message type='groupchat' from='bob@example.org/laptop' "
      "to='room@conference.example.org/alice'><body>x</body></message>");
  EXPECT_EQ(condition(sent[0]), "bad-request");
  state().config.allow_pm = WhoMay::kNobody;
  sent = deliver(pm);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "not-allowed");
}

// --- invitations ---

TEST_F(RoomTest, MediatedInvitations) {
  join(kAlice, "alice");
  state().config.password = "pw";
  std::string invite =
      "<message from='alice@example.org/phone' to='room@conference.example.org'>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='carol@example.net'><reason>come</reason></invite></x>"
      "</message>";
  Stanzas sent = deliver(invite);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attribute_or("from"), kRoom);
  EXPECT_EQ(sent[0].attribute_or("to"), "carol@example.net");
  const xml::Element* x = sent[0].child(kMucUserNs, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->child(kMucUserNs, "invite")->attribute_or("from"), "alice@example.org");
  EXPECT_EQ(x->child(kMucUserNs, "invite")->child(kMucUserNs, "reason")->text(), "come");
  EXPECT_EQ(x->child(kMucUserNs, "password")->text(), "pw");
  EXPECT_EQ(sent[0].child("jabber:x:conference", "x")->attribute_or("jid"), kRoom);
  EXPECT_NE(sent[0].child("jabber:client", "body"), nullptr);

  // Visitors of a moderated room may not invite.
  state().config.moderated = true;
  join(kBob, "bob", "<password>pw</password>");
  sent = deliver(
      "<message from='bob@example.org/laptop' to='room@conference.example.org'>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='carol@example.net'/></x></message>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "forbidden");
  deliver("<presence type='unavailable' from='bob@example.org/laptop' to='room@conference.example.org/bob'/>");
  state().config.moderated = false;

  // Members-only: members invite only when allowed; an admin's invitee becomes a member.
  state().config.members_only = true;
  state().affiliations["alice@example.org"].affiliation = Affiliation::kMember;
  sent = deliver(invite);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "forbidden");
  state().config.allow_invites = true;
  EXPECT_EQ(deliver(invite).size(), 1u);
  EXPECT_EQ(room->affiliation_of("carol@example.net"), Affiliation::kMember);

  std::string many =
      "<message from='alice@example.org/phone' to='room@conference.example.org'>"
      "<x xmlns='http://jabber.org/protocol/muc#user'>";
  for (int i = 0; i < 11; ++i) many += "<invite to='u" + std::to_string(i) + "@example.org'/>";
  sent = deliver(many + "</x></message>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "policy-violation");

  sent = deliver(
      "<message from='bob@example.org/laptop' to='room@conference.example.org'>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='carol@example.net'/></x></message>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "not-acceptable");
}

// Invitations that make members count against the room's cap (all or none of a message's),
// are written once per message, and are rate-limited as the sender's other messages.
TEST_F(RoomTest, InvitationsAreCappedAndRateLimited) {
  join(kAlice, "alice");
  state().config.members_only = true;
  state().affiliations["alice@example.org"].affiliation = Affiliation::kAdmin;
  auto invite_message = [](int first, int count) {
    std::string m = "<message from='alice@example.org/phone' to='room@conference.example.org'>"
                    "<x xmlns='http://jabber.org/protocol/muc#user'>";
    for (int i = first; i < first + count; ++i) m += "<invite to='u" + std::to_string(i) + "@example.net'/>";
    return m + "</x></message>";
  };
  host.changes = 0;
  EXPECT_EQ(deliver(invite_message(0, 3)).size(), 3u);
  EXPECT_EQ(host.changes, 1);
  for (std::size_t i = 0; state().affiliations.size() < kMaxAffiliations - 1; ++i)
    state().affiliations["filler" + std::to_string(i) + "@example.org"].affiliation = Affiliation::kMember;
  Stanzas sent = deliver(invite_message(100, 2));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "resource-constraint");
  EXPECT_EQ(state().affiliations.size(), kMaxAffiliations - 1);
  EXPECT_EQ(deliver(invite_message(100, 1)).size(), 1u);
  EXPECT_EQ(state().affiliations.size(), kMaxAffiliations);
  // Re-inviting a member adds nothing, so it is not refused.
  EXPECT_EQ(condition(deliver(invite_message(0, 1))[0]), "");

  host.mutable_options().set_event_rate(1);
  host.mutable_options().set_burst_factor(1);
  host.set_now_ms(host.now_ms() + 10'000);
  EXPECT_EQ(condition(deliver(invite_message(0, 1))[0]), "");
  sent = deliver(invite_message(0, 1));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition(sent[0]), "resource-constraint");
}

TEST_F(RoomTest, DeclineGoesToTheInviter) {
  const std::string declined =
      "<message from='carol@example.net/desk' to='room@conference.example.org'>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><decline "
      "to='alice@example.org'><reason>busy</reason></decline></x>"
      "</message>";
  // Review 16, finding 5: nobody invited carol, so the room carries her text to nobody.
  EXPECT_TRUE(deliver(declined).empty());
  join(kAlice, "alice");
  ASSERT_EQ(deliver("<message from='alice@example.org/phone' to='room@conference.example.org'>"
                    "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='carol@example.net'/></x></message>")
                .size(),
            1u);
  // Only to the inviter.
  EXPECT_TRUE(deliver("<message from='carol@example.net/desk' to='room@conference.example.org'>"
                      "<x xmlns='http://jabber.org/protocol/muc#user'><decline to='mallory@example.org'/></x>"
                      "</message>")
                  .empty());
  Stanzas sent = deliver(declined);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attribute_or("to"), "alice@example.org");
  const xml::Element* decline = sent[0].child(kMucUserNs, "x")->child(kMucUserNs, "decline");
  EXPECT_EQ(decline->attribute_or("from"), "carol@example.net");
  EXPECT_EQ(decline->child(kMucUserNs, "reason")->text(), "busy");
  EXPECT_EQ(sent[0].child("jabber:client", "body")->text(),
            "carol@example.net declined your invitation to the room room@conference.example.org (busy)");
  // Once per invitation; and an invitation is forgotten after a day.
  EXPECT_TRUE(deliver(declined).empty());
  deliver(
      "<message from='alice@example.org/phone' to='room@conference.example.org'>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='carol@example.net'/></x></message>");
  host.set_now_ms(host.now_ms() + 24 * 3600 * 1000 + 1);
  EXPECT_TRUE(deliver(declined).empty());
}

TEST_F(RoomTest, VoiceRequestsGoToModeratorsWhoMayGrantThem) {
  state().config.moderated = true;
  join(kOwner, "boss");
  join(kAlice, "alice");  // a visitor
  auto request = [](std::string_view from, std::string_view fields) {
    return "<message from='" + std::string(from) +
           "' to='room@conference.example.org'><x xmlns='jabber:x:data' type='submit'>"
           "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>" +
           std::string(fields) + "</x></message>";
  };
  Stanzas sent = deliver(request(kAlice, "<field var='muc#role'><value>participant</value></field>"));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attribute_or("to"), kOwner);
  EXPECT_NE(str(sent[0]).find("alice"), std::string::npos);
  // Another visitor cannot grant it.
  join(kBob, "bob");
  sent = deliver(request(kBob,
                         "<field var='muc#roomnick'><value>alice</value></field>"
                         "<field var='muc#request_allow'><value>true</value></field>"));
  EXPECT_EQ(to(sent, kBob).size(), 0u);  // bob's own request goes to the moderator only
  EXPECT_EQ(room->occupant("alice")->role, Role::kVisitor);
  sent = deliver(request(kOwner,
                         "<field var='muc#roomnick'><value>alice</value></field>"
                         "<field var='muc#request_allow'><value>true</value></field>"));
  EXPECT_EQ(room->occupant("alice")->role, Role::kParticipant);
  EXPECT_EQ(sent.size(), 3u);  // alice's new presence to everyone
  EXPECT_EQ(item(*to(sent, kBob)[0])->attribute_or("role"), "participant");
}

// The hot path: one message to 50 occupants. Not a benchmark that fails; it prints the cost
// so that a change that makes fan-out much slower shows.
TEST_F(RoomTest, FanOutToFiftyOccupants) {
  for (int i = 0; i < 50; ++i) join("user" + std::to_string(i) + "@example.org/r", "user" + std::to_string(i));
  xml::Element message = parse(
      "<message type='groupchat' id='x' from='user0@example.org/r' to='room@conference.example.org'>"
      "<body>a line of chat of an ordinary length, about as long as most are</body></message>");
  auto from = *xmpp::Jid::parse("user0@example.org/r");
  auto to_jid = *xmpp::Jid::parse(kRoom);
  auto start = std::chrono::steady_clock::now();
  constexpr int kRounds = 1000;
  std::size_t delivered = 0;
  for (int i = 0; i < kRounds; ++i) {
    room->receive(message, from, to_jid);
    delivered += host.take().size();
  }
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(delivered, 50u * kRounds);
  std::printf("fan-out: %d messages to 50 occupants in %lld us (%.2f us per delivered copy)\n", kRounds,
              static_cast<long long>(us), static_cast<double>(us) / static_cast<double>(delivered));
}

}  // namespace xmppd::router::muc
