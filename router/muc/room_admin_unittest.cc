// Moderators' and admins' side of a room (XEP-0045 §8, §9): kicks, voice, moderator status,
// bans and the affiliation lists, the privilege tables of §5, and that a refused request
// changes nothing.
#include "router/muc/room_admin_test.h"
#include "router/muc/room_forms.h"

namespace xmppd::router::muc {
namespace {

using xml::testing::attr;

std::string item(std::string_view attributes, std::string_view reason = {}) {
  std::string out = "<item " + std::string(attributes);
  if (reason.empty()) return out + "/>";
  return out + "><reason>" + std::string(reason) + "</reason></item>";
}

// The items of a list reply, as "jid/nick affiliation role".
std::vector<std::string> listed(const xml::Element& reply) {
  std::vector<std::string> out;
  if (const xml::Element* query = reply.child(kMucAdminNs, "query"))
    for (const xml::Element* i : query->children())
      out.push_back(i->attribute_or("jid") + "/" + i->attribute_or("nick") + " " + i->attribute_or("affiliation") +
                    " " + i->attribute_or("role"));
  return out;
}

TEST_F(RoomTest, AModeratorKicksAParticipant) {
  everyone_enters();
  xml::Element reply = admin_iq(kAdmin, "set", item("nick='stranger' role='none'", "Avaunt"));
  EXPECT_EQ(outcome(reply), "result");
  EXPECT_FALSE(in_room("stranger"));
  EXPECT_EQ(host_.changes, 0);  // roles are not persisted
}

TEST_F(RoomTest, KicksFollowThePrivilegeTable) {
  everyone_enters();
  room().occupant("friend")->role = Role::kModerator;  // a member made moderator
  // Not a moderator: not-allowed (as Prosody).
  EXPECT_EQ(outcome(admin_iq(kGuest, "set", item("nick='friend' role='none'"))), "not-allowed");
  // A moderator below the target's affiliation: not-allowed (§8.2).
  EXPECT_EQ(outcome(admin_iq(kMember, "set", item("nick='deputy' role='none'"))), "not-allowed");
  EXPECT_EQ(outcome(admin_iq(kMember, "set", item("nick='boss' role='none'"))), "not-allowed");
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("nick='boss' role='none'"))), "not-allowed");
  // Outside the room: not a moderator.
  EXPECT_EQ(outcome(admin_iq("owner@example.org/elsewhere", "set", item("nick='stranger' role='none'"))),
            "not-allowed");
  EXPECT_EQ(room().occupants().size(), 4u);
  // An owner kicks an admin; an admin a member moderator only as an admin (moderator status
  // is the admins' to take).
  EXPECT_EQ(outcome(admin_iq(kOwner, "set", item("nick='deputy' role='none'"))), "result");
  EXPECT_FALSE(in_room("deputy"));
}

TEST_F(RoomTest, VoiceIsGrantedAndRevokedByModerators) {
  everyone_enters();
  room().occupant("friend")->role = Role::kModerator;
  EXPECT_EQ(outcome(admin_iq(kMember, "set", item("nick='stranger' role='visitor'"))), "result");  // §8.4
  EXPECT_EQ(room().occupant("stranger")->role, Role::kVisitor);
  EXPECT_EQ(outcome(admin_iq(kMember, "set", item("nick='stranger' role='participant'"))), "result");  // §8.3
  EXPECT_EQ(room().occupant("stranger")->role, Role::kParticipant);
  EXPECT_EQ(outcome(admin_iq(kGuest, "set", item("nick='friend' role='visitor'"))), "not-allowed");
  EXPECT_EQ(room().occupant("friend")->role, Role::kModerator);
}

TEST_F(RoomTest, ModeratorStatusIsTheAdminsToGive) {
  everyone_enters();
  room().occupant("friend")->role = Role::kModerator;
  // §9.6: a member moderator may not make moderators, nor take it from one.
  EXPECT_EQ(outcome(admin_iq(kMember, "set", item("nick='stranger' role='moderator'"))), "not-allowed");
  enter("other", "other@example.org/x");
  room().occupant("other")->role = Role::kModerator;
  EXPECT_EQ(outcome(admin_iq(kMember, "set", item("nick='other' role='participant'"))), "not-allowed");
  EXPECT_EQ(room().occupant("stranger")->role, Role::kParticipant);
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("nick='stranger' role='moderator'"))), "result");
  EXPECT_EQ(room().occupant("stranger")->role, Role::kModerator);
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("nick='other' role='participant'"))), "result");  // §9.7
  EXPECT_EQ(room().occupant("other")->role, Role::kParticipant);
}

TEST_F(RoomTest, ABanRemovesAndIsKept) {
  everyone_enters();
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("affiliation='outcast' jid='guest@example.net'", "Treason"))),
            "result");
  EXPECT_FALSE(in_room("stranger"));
  EXPECT_EQ(room().affiliation_of("guest@example.net"), Affiliation::kOutcast);
  EXPECT_EQ(state().affiliations.at("guest@example.net").reason, "Treason");
  EXPECT_EQ(host_.changes, 1);
  // By nickname too, and a full JID means its bare JID.
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("affiliation='outcast' nick='friend'"))), "result");
  EXPECT_FALSE(in_room("friend"));
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("affiliation='member' jid='new@example.org/res'"))), "result");
  EXPECT_EQ(room().affiliation_of("new@example.org"), Affiliation::kMember);
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("affiliation='none' jid='new@example.org'"))), "result");
  EXPECT_FALSE(state().affiliations.contains("new@example.org"));
}

TEST_F(RoomTest, AffiliationsFollowThePrivilegeTable) {
  everyone_enters();
  // Members and guests change no affiliation.
  EXPECT_EQ(outcome(admin_iq(kMember, "set", item("affiliation='outcast' jid='guest@example.net'"))), "forbidden");
  EXPECT_EQ(outcome(admin_iq(kGuest, "set", item("affiliation='member' jid='guest@example.net'"))), "forbidden");
  // An admin touches neither admins nor owners, nor makes them.
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("affiliation='outcast' jid='owner@example.org'"))), "not-allowed");
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("affiliation='member' jid='admin@example.org'"))), "not-allowed");
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("affiliation='admin' jid='member@example.org'"))), "not-allowed");
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("affiliation='owner' jid='member@example.org'"))), "not-allowed");
  host_.admins().push_back("root@example.org");  // a service admin is an owner: out of reach too
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("affiliation='outcast' jid='root@example.org'"))), "not-allowed");
  EXPECT_EQ(host_.changes, 0);
  EXPECT_EQ(room().occupants().size(), 4u);
  EXPECT_EQ(state().affiliations.size(), 3u);
  // Owners do all of it.
  EXPECT_EQ(outcome(admin_iq(kOwner, "set", item("affiliation='admin' jid='member@example.org'"))), "result");
  EXPECT_EQ(room().occupant("friend")->role, Role::kModerator);  // promoted with the affiliation
  EXPECT_EQ(outcome(admin_iq(kOwner, "set", item("affiliation='member' jid='admin@example.org'"))), "result");
  EXPECT_EQ(room().occupant("deputy")->role, Role::kParticipant);  // demoted with it
  EXPECT_EQ(outcome(admin_iq(kOwner, "set", item("affiliation='owner' jid='guest@example.net'"))), "result");
  EXPECT_EQ(room().affiliation_of("guest@example.net"), Affiliation::kOwner);
}

TEST_F(RoomTest, TheLastOwnerStays) {
  everyone_enters();
  EXPECT_EQ(outcome(admin_iq(kOwner, "set", item("affiliation='admin' jid='owner@example.org'"))), "conflict");
  EXPECT_EQ(outcome(admin_iq(kOwner, "set", item("affiliation='none' jid='owner@example.org'"))), "conflict");
  EXPECT_EQ(room().affiliation_of("owner@example.org"), Affiliation::kOwner);
  // The last item of a JID is what counts.
  EXPECT_EQ(outcome(admin_iq(kOwner, "set",
                             item("affiliation='member' jid='owner@example.org'") +
                                 item("affiliation='owner' jid='owner@example.org'"))),
            "result");
  EXPECT_EQ(outcome(admin_iq(kOwner, "set",
                             item("affiliation='owner' jid='admin@example.org'") +
                                 item("affiliation='none' jid='admin@example.org'") +
                                 item("affiliation='none' jid='owner@example.org'"))),
            "conflict");
  EXPECT_EQ(room().affiliation_of("owner@example.org"), Affiliation::kOwner);
  EXPECT_EQ(room().affiliation_of("admin@example.org"), Affiliation::kAdmin);
  // With a second owner named in the same request, the first may step down.
  EXPECT_EQ(outcome(admin_iq(kOwner, "set",
                             item("affiliation='owner' jid='admin@example.org'") +
                                 item("affiliation='member' jid='owner@example.org'"))),
            "result");
  EXPECT_EQ(room().affiliation_of("owner@example.org"), Affiliation::kMember);
  EXPECT_EQ(room().affiliation_of("admin@example.org"), Affiliation::kOwner);
}

TEST_F(RoomTest, ARequestIsAppliedWholeOrNotAtAll) {
  everyone_enters();
  std::vector<std::pair<std::string, std::string>> cases = {
      {item("affiliation='outcast' jid='guest@example.net'") + item("affiliation='owner' jid='x@example.org'"),
       "not-allowed"},
      {item("affiliation='outcast' jid='guest@example.net'") + item("affiliation='member' jid='@@'"), "jid-malformed"},
      {item("nick='stranger' role='none'") + item("nick='nobody' role='visitor'"), "item-not-found"},
      {item("nick='stranger' role='none'") + item("nick='friend' role='king'"), "bad-request"},
      {item("nick='stranger' role='none'") + item("affiliation='pope' jid='x@example.org'"), "bad-request"},
      {item("nick='stranger' role='none'") +
           item("affiliation='member' jid='x@example.org' role='visitor' nick='friend'"),
       "bad-request"},
      {item("nick='stranger' role='none'") + item("jid='x@example.org'"), "bad-request"},
      {item("nick='stranger' role='none'") + item("role='visitor'"), "bad-request"},
      {item("nick='stranger' role='none'") + item("affiliation='member'"), "bad-request"},
      {item("nick='stranger' role='none'") + item("affiliation='member' nick='nobody'"), "item-not-found"},
      {item("nick='stranger' role='none'", "bell&#x7F;"), "bad-request"},
      {"", "bad-request"},
  };
  for (const auto& [items, condition] : cases) {
    EXPECT_EQ(outcome(admin_iq(kAdmin, "set", items)), condition) << items;
    EXPECT_EQ(sent_.size(), 1u) << items;  // the error, nothing else
  }
  EXPECT_EQ(room().occupants().size(), 4u);
  EXPECT_EQ(state().affiliations.size(), 3u);
  EXPECT_EQ(host_.changes, 0);
}

TEST_F(RoomTest, RequestsAndRoomsAreBounded) {
  everyone_enters();
  std::string items;
  for (std::size_t i = 0; i <= kMaxAdminItems; ++i)
    items += item("affiliation='member' jid='u" + std::to_string(i) + "@example.org'");
  EXPECT_EQ(outcome(admin_iq(kOwner, "set", items)), "policy-violation");
  EXPECT_EQ(state().affiliations.size(), 3u);
  for (std::size_t i = state().affiliations.size(); i < kMaxAffiliations; ++i)
    state().affiliations.emplace("u" + std::to_string(i) + "@example.org",
                                 AffiliationEntry{Affiliation::kMember, {}, {}});
  EXPECT_EQ(outcome(admin_iq(kOwner, "set", item("affiliation='outcast' jid='spam@example.com'"))),
            "resource-constraint");
  EXPECT_FALSE(state().affiliations.contains("spam@example.com"));
  // Changing one that is there still works.
  EXPECT_EQ(outcome(admin_iq(kOwner, "set", item("affiliation='outcast' jid='u9@example.org'"))), "result");
}

TEST_F(RoomTest, MembersOnlyRoomsLoseThoseNoLongerMembers) {
  state().config.members_only = true;
  everyone_enters();
  EXPECT_EQ(outcome(admin_iq(kAdmin, "set", item("affiliation='none' jid='member@example.org'"))), "result");
  EXPECT_FALSE(in_room("friend"));   // §9.4: 321
  EXPECT_TRUE(in_room("stranger"));  // put in directly: nobody re-checks those not changed
}

TEST_F(RoomTest, AffiliationListsAreForAdminsUpToTheirRank) {
  state().affiliations["member@example.org"].nick = "friend";
  state().affiliations["bad@example.com"] = AffiliationEntry{Affiliation::kOutcast, {}, "Spam"};
  xml::Element reply = admin_iq(kAdmin, "get", item("affiliation='member'"));
  EXPECT_EQ(outcome(reply), "result");
  EXPECT_EQ(listed(reply), std::vector<std::string>{"member@example.org/friend member "});
  reply = admin_iq(kAdmin, "get", item("affiliation='outcast'"));
  EXPECT_EQ(listed(reply), std::vector<std::string>{"bad@example.com/ outcast "});
  EXPECT_EQ(listed(admin_iq(kAdmin, "get", item("affiliation='admin'"))),
            std::vector<std::string>{"admin@example.org/ admin "});
  EXPECT_EQ(outcome(admin_iq(kAdmin, "get", item("affiliation='owner'"))), "forbidden");
  EXPECT_EQ(listed(admin_iq(kOwner, "get", item("affiliation='owner'"))),
            std::vector<std::string>{"owner@example.org/ owner "});
  EXPECT_EQ(outcome(admin_iq(kMember, "get", item("affiliation='member'"))), "forbidden");
  // Where anyone sees real JIDs, members see the lists (as Prosody).
  state().config.whois = Whois::kAnyone;
  EXPECT_EQ(outcome(admin_iq(kMember, "get", item("affiliation='member'"))), "result");
  EXPECT_EQ(outcome(admin_iq(kGuest, "get", item("affiliation='member'"))), "forbidden");
  EXPECT_EQ(outcome(admin_iq(kOwner, "get", item("affiliation='none'"))), "bad-request");
  EXPECT_EQ(outcome(admin_iq(kOwner, "get", item("affiliation='member'") + item("affiliation='admin'"))),
            "bad-request");
}

TEST_F(RoomTest, RoleListsAreForModerators) {
  everyone_enters();
  xml::Element reply = admin_iq(kAdmin, "get", item("role='participant'"));
  EXPECT_EQ(outcome(reply), "result");
  EXPECT_EQ(listed(reply), (std::vector<std::string>{"member@example.org/friend member participant",
                                                     "guest@example.net/stranger none participant"}));
  EXPECT_EQ(
      listed(admin_iq(kOwner, "get", item("role='moderator'"))),
      (std::vector<std::string>{"owner@example.org/boss owner moderator", "admin@example.org/deputy admin moderator"}));
  EXPECT_EQ(outcome(admin_iq(kMember, "get", item("role='participant'"))), "forbidden");
  EXPECT_EQ(outcome(admin_iq(kOwner, "get", item("role='none'"))), "bad-request");
}

TEST_F(RoomTest, RoleChangesAreAnnounced) {
  everyone_enters();
  admin_iq(kAdmin, "set", item("nick='stranger' role='visitor'", "Hush"));
  // What the occupants receive is room_occupants.cc's presence; here, that the change
  // reached the occupant and only it.
  EXPECT_EQ(room().occupant("stranger")->role, Role::kVisitor);
  EXPECT_EQ(room().occupant("friend")->role, Role::kParticipant);
  EXPECT_EQ(attr(sent_.back(), "type"), "result");
}

}  // namespace
}  // namespace xmppd::router::muc
