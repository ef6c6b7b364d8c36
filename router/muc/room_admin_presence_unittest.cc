// What occupants hear of owners' and admins' changes (XEP-0045 §8.2, §8.4, §9.1, §9.4, §9.7,
// §10.6): the status codes, and the actor and reason inside <item/>, as room_occupants.cc
// writes each occupant's presence.
#include <algorithm>

#include "router/muc/room_admin_test.h"

namespace xmppd::router::muc {
namespace {

using xml::testing::attr;

const xml::Element* item_of(const xml::Element& presence) {
  const xml::Element* x = presence.child(kMucUserNs, "x");
  return x != nullptr ? x->child(kMucUserNs, "item") : nullptr;
}

std::vector<int> sorted(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_F(RoomTest, AKickIsHeardWith307TheActorAndTheReason) {
  everyone_enters();
  admin_iq(kAdmin, "set", "<item nick='stranger' role='none'><reason>Avaunt</reason></item>");
  std::vector<xml::Element> own = sent_to(kGuest, "presence");
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(attr(own[0], "type"), "unavailable");
  EXPECT_EQ(attr(own[0], "from"), "room@conference.example.org/stranger");
  EXPECT_EQ(sorted(statuses(own[0])), (std::vector<int>{110, 307}));
  const xml::Element* item = item_of(own[0]);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(attr(*item, "role"), "none");
  const xml::Element* actor = item->child(kMucUserNs, "actor");
  ASSERT_NE(actor, nullptr);
  EXPECT_EQ(attr(*actor, "nick"), "deputy");
  EXPECT_EQ(xml::testing::child_text(*item, kMucUserNs, "reason"), "Avaunt");
  for (std::string_view other : {kOwner, kAdmin, kMember}) {
    std::vector<xml::Element> heard = sent_to(other, "presence");
    ASSERT_EQ(heard.size(), 1u) << other;
    EXPECT_EQ(statuses(heard[0]), std::vector<int>{307}) << other;
  }
}

TEST_F(RoomTest, ABanIsHeardWith301) {
  everyone_enters();
  admin_iq(kAdmin, "set", "<item affiliation='outcast' jid='guest@example.net'/>");
  std::vector<xml::Element> own = sent_to(kGuest, "presence");
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(sorted(statuses(own[0])), (std::vector<int>{110, 301}));
  EXPECT_EQ(attr(*item_of(own[0]), "affiliation"), "outcast");
  EXPECT_EQ(statuses(sent_to(kOwner, "presence").at(0)), std::vector<int>{301});
}

TEST_F(RoomTest, LosingMembershipOfAMembersOnlyRoomIsHeardWith321) {
  state().config.members_only = true;
  everyone_enters();
  admin_iq(kAdmin, "set", "<item affiliation='none' jid='member@example.org'/>");
  EXPECT_EQ(sorted(statuses(sent_to(kMember, "presence").at(0))), (std::vector<int>{110, 321}));
  EXPECT_EQ(statuses(sent_to(kOwner, "presence").at(0)), std::vector<int>{321});
}

TEST_F(RoomTest, MembersOnlySwitchedOnIsHeardWith322) {
  everyone_enters();
  owner_iq(kOwner, "set", form(field("muc#roomconfig_membersonly", "1")));
  EXPECT_EQ(sorted(statuses(sent_to(kGuest, "presence").at(0))), (std::vector<int>{110, 322}));
  EXPECT_EQ(statuses(sent_to(kMember, "presence").at(0)), std::vector<int>{322});
}

TEST_F(RoomTest, VoiceAndAffiliationChangesAreBroadcast) {
  everyone_enters();
  admin_iq(kAdmin, "set", "<item nick='stranger' role='visitor'><reason>Hush</reason></item>");
  for (std::string_view who : {kOwner, kAdmin, kMember, kGuest}) {
    std::vector<xml::Element> heard = sent_to(who, "presence");
    ASSERT_EQ(heard.size(), 1u) << who;
    EXPECT_EQ(attr(heard[0], "from"), "room@conference.example.org/stranger");
    EXPECT_EQ(attr(*item_of(heard[0]), "role"), "visitor");
    EXPECT_EQ(xml::testing::child_text(*item_of(heard[0]), kMucUserNs, "reason"), "Hush");
  }
  admin_iq(kOwner, "set", "<item affiliation='admin' jid='member@example.org'/>");
  std::vector<xml::Element> heard = sent_to(kGuest, "presence");
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(attr(*item_of(heard[0]), "affiliation"), "admin");
  EXPECT_EQ(attr(*item_of(heard[0]), "role"), "moderator");
  EXPECT_EQ(attr(heard[0], "type"), "(absent)");
}

}  // namespace
}  // namespace xmppd::router::muc
