// The owners' side of a room (XEP-0045 §10): the configuration form, instant rooms, locked
// rooms, every refusal of a bad form (with nothing changed), and destruction.
#include <algorithm>

#include "router/muc/room_admin_test.h"

namespace xmppd::router::muc {
namespace {

using xml::testing::attr;

// The vars of a form's fields, in order.
std::vector<std::string> vars(const xml::Element& x) {
  std::vector<std::string> out;
  for (const xml::Element* child : x.children())
    if (child->name() == "field") out.push_back(child->attribute_or("var"));
  return out;
}

const xml::Element* config_form(const xml::Element& reply) {
  const xml::Element* query = reply.child(kMucOwnerNs, "query");
  return query != nullptr ? query->child("jabber:x:data", "x") : nullptr;
}

std::string value_of(const xml::Element& x, std::string_view var) {
  for (const xml::Element* child : x.children())
    if (child->attribute_or("var") == var) {
      const xml::Element* value = child->child("jabber:x:data", "value");
      return value != nullptr ? value->text() : "";
    }
  return "(absent)";
}

TEST_F(RoomTest, TheFormHasEveryFieldOfTheConfiguration) {
  state().config.name = "Cave";
  state().config.password = "cauldron";
  xml::Element reply = owner_iq(kOwner, "get");
  ASSERT_EQ(outcome(reply), "result");
  const xml::Element* x = config_form(reply);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(attr(*x, "type"), "form");
  std::vector<std::string> expected = {"FORM_TYPE",
                                       "muc#roomconfig_roomname",
                                       "muc#roomconfig_roomdesc",
                                       "muc#roomconfig_lang",
                                       "muc#roomconfig_persistentroom",
                                       "muc#roomconfig_publicroom",
                                       "muc#roomconfig_membersonly",
                                       "muc#roomconfig_moderatedroom",
                                       "muc#roomconfig_passwordprotectedroom",
                                       "muc#roomconfig_roomsecret",
                                       "muc#roomconfig_whois",
                                       "muc#roomconfig_allowpm",
                                       "muc#roomconfig_maxusers",
                                       "muc#roomconfig_allowinvites",
                                       "muc#roomconfig_changesubject",
                                       "muc#roomconfig_historylength"};
  EXPECT_EQ(vars(*x), expected);
  EXPECT_EQ(value_of(*x, "FORM_TYPE"), "http://jabber.org/protocol/muc#roomconfig");
  EXPECT_EQ(value_of(*x, "muc#roomconfig_roomname"), "Cave");
  EXPECT_EQ(value_of(*x, "muc#roomconfig_passwordprotectedroom"), "1");
  EXPECT_EQ(value_of(*x, "muc#roomconfig_roomsecret"), "cauldron");
  EXPECT_EQ(value_of(*x, "muc#roomconfig_whois"), "moderators");
  EXPECT_EQ(value_of(*x, "muc#roomconfig_maxusers"), "200");

  // The archive's switch only where the service archives and leaves the choice to owners.
  host_.mutable_options().set_mam(true);
  x = config_form(reply = owner_iq(kOwner, "get"));
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(value_of(*x, "muc#roomconfig_enablearchiving"), "1");
  host_.mutable_options().set_log_all_rooms(true);
  x = config_form(reply = owner_iq(kOwner, "get"));
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(value_of(*x, "muc#roomconfig_enablearchiving"), "(absent)");
}

TEST_F(RoomTest, OnlyOwnersConfigure) {
  everyone_enters();
  for (std::string_view who : {kAdmin, kMember, kGuest}) {
    EXPECT_EQ(outcome(owner_iq(who, "get")), "forbidden") << who;
    EXPECT_EQ(outcome(owner_iq(who, "set", form(field("muc#roomconfig_roomname", "Mine")))), "forbidden") << who;
    EXPECT_EQ(outcome(owner_iq(who, "set", "<destroy/>")), "forbidden") << who;
    EXPECT_EQ(sent_.size(), 1u);
  }
  EXPECT_EQ(state().config, RoomConfig{});
  EXPECT_EQ(host_.changes, 0);
  EXPECT_FALSE(host_.room_gone);
  // Service admins own every room.
  host_.admins().push_back("guest@example.net");
  EXPECT_EQ(outcome(owner_iq(kGuest, "set", form(field("muc#roomconfig_roomname", "Mine")))), "result");
  EXPECT_EQ(state().config.name, "Mine");
}

TEST_F(RoomTest, AnInstantRoomIsUnlockedWithItsDefaults) {
  RoomState locked;
  locked.locked = true;
  reset(locked);
  enter("boss", kOwner);
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", "<x xmlns='jabber:x:data' type='submit'/>")), "result");
  EXPECT_FALSE(state().locked);
  EXPECT_EQ(state().config, RoomConfig{});
  EXPECT_EQ(host_.changes, 1);
  EXPECT_TRUE(sent_to(kOwner, "message").empty());  // nothing changed: no 104
}

TEST_F(RoomTest, ASubmittedFormChangesTheRoomAndTellsTheOccupants) {
  RoomState locked;
  locked.locked = true;
  reset(locked);
  everyone_enters();
  std::string fields = field("muc#roomconfig_roomname", "The Cave") +
                       field("muc#roomconfig_roomdesc", "Line one\nline two") + field("muc#roomconfig_lang", "en-GB") +
                       field("muc#roomconfig_persistentroom", "1") + field("muc#roomconfig_publicroom", "false") +
                       field("muc#roomconfig_moderatedroom", "true") + field("muc#roomconfig_roomsecret", "cauldron") +
                       field("muc#roomconfig_allowpm", "moderators") + field("muc#roomconfig_maxusers", "50") +
                       field("muc#roomconfig_allowinvites", "1") + field("muc#roomconfig_changesubject", "1") +
                       field("muc#roomconfig_historylength", "5") + field("muc#roomconfig_whois", "anyone") +
                       field("x-unknown#field", "ignored");
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", form(fields))), "result");
  const RoomConfig& c = state().config;
  EXPECT_FALSE(state().locked);
  EXPECT_EQ(c.name, "The Cave");
  EXPECT_EQ(c.description, "Line one\nline two");
  EXPECT_EQ(c.language, "en-GB");
  EXPECT_TRUE(c.persistent);
  EXPECT_FALSE(c.public_room);
  EXPECT_TRUE(c.moderated);
  EXPECT_EQ(c.password, "cauldron");
  EXPECT_EQ(c.allow_pm, WhoMay::kModerators);
  EXPECT_EQ(c.max_occupants, 50u);
  EXPECT_TRUE(c.allow_invites);
  EXPECT_TRUE(c.change_subject);
  EXPECT_EQ(c.history_length, 5u);
  EXPECT_EQ(c.whois, Whois::kAnyone);
  EXPECT_EQ(host_.changes, 1);
  for (std::string_view who : {kOwner, kAdmin, kMember, kGuest}) {
    std::vector<xml::Element> notices = sent_to(who, "message");
    ASSERT_EQ(notices.size(), 1u) << who;
    EXPECT_EQ(attr(notices[0], "type"), "groupchat");
    EXPECT_EQ(attr(notices[0], "from"), kRoomJid);
    EXPECT_EQ(statuses(notices[0]), (std::vector<int>{104, 172}));  // §10.2.1: now non-anonymous
  }
  // Back to semi-anonymous: 173; protection off clears the password.
  EXPECT_EQ(outcome(owner_iq(kOwner, "set",
                             form(field("muc#roomconfig_whois", "moderators") +
                                  field("muc#roomconfig_passwordprotectedroom", "0")))),
            "result");
  EXPECT_EQ(statuses(sent_to(kGuest, "message").at(0)), (std::vector<int>{104, 173}));
  EXPECT_EQ(state().config.password, "");
  // Prosody's name for allow invites is understood.
  EXPECT_EQ(outcome(owner_iq(kOwner, "set",
                             form(field("{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites", "0")))),
            "result");
  EXPECT_FALSE(state().config.allow_invites);
  // The same values again: no change, no notice, but the state is written.
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", form(field("muc#roomconfig_whois", "moderators")))), "result");
  EXPECT_TRUE(sent_to(kGuest, "message").empty());
}

TEST_F(RoomTest, NoLimitOfOccupantsIsTheServicesLimit) {
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", form(field("muc#roomconfig_maxusers", "none")))), "result");
  EXPECT_EQ(state().config.max_occupants, 200u);
  host_.mutable_options().set_max_occupants(0);  // the service has none
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", form(field("muc#roomconfig_maxusers", "100000")))), "result");
  EXPECT_EQ(state().config.max_occupants, 100000u);
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", form(field("muc#roomconfig_maxusers", "none")))), "result");
  EXPECT_EQ(state().config.max_occupants, 0u);
  xml::Element reply = owner_iq(kOwner, "get");
  const xml::Element* x = config_form(reply);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(value_of(*x, "muc#roomconfig_maxusers"), "none");
}

TEST_F(RoomTest, SwitchingTheArchiveIsAnnounced) {
  host_.mutable_options().set_mam(true);
  enter("friend", kMember);
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", form(field("muc#roomconfig_enablearchiving", "0")))), "result");
  EXPECT_FALSE(state().config.archiving);
  EXPECT_EQ(statuses(sent_to(kMember, "message").at(0)), (std::vector<int>{104, 171}));
  EXPECT_EQ(
      outcome(owner_iq(kOwner, "set",
                       form(field("muc#roomconfig_enablearchiving", "1") + field("muc#roomconfig_whois", "anyone")))),
      "result");
  EXPECT_EQ(statuses(sent_to(kMember, "message").at(0)), (std::vector<int>{104, 170, 172}));
  // Where every room is archived, owners have no say.
  host_.mutable_options().set_log_all_rooms(true);
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", form(field("muc#roomconfig_enablearchiving", "0")))), "result");
  EXPECT_TRUE(state().config.archiving);
}

TEST_F(RoomTest, AShorterHistoryDropsTheOldestMessages) {
  for (int i = 0; i < 4; ++i) history().push_back(HistoryEntry{xml::Element(xmpp::kClientNs, "message"), i * 1000, "", 0});
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", form(field("muc#roomconfig_historylength", "2")))), "result");
  ASSERT_EQ(history().size(), 2u);
  EXPECT_EQ(history()[0].time_ms, 2000);
}

TEST_F(RoomTest, EveryBadFieldIsRefusedAndNothingChanges) {
  RoomState locked;
  locked.locked = true;
  reset(locked);
  everyone_enters();
  struct Case {
    std::string fields;
    std::string condition;
  };
  std::vector<Case> cases = {
      {field("muc#roomconfig_persistentroom", "maybe"), "bad-request"},
      {field("muc#roomconfig_maxusers", "201"), "not-acceptable"},  // over muc_max_occupants
      {field("muc#roomconfig_maxusers", "0"), "not-acceptable"},
      {field("muc#roomconfig_maxusers", "ten"), "bad-request"},
      {field("muc#roomconfig_historylength", "21"), "not-acceptable"},  // over max_history_messages
      {field("muc#roomconfig_historylength", "-1"), "bad-request"},
      {field("muc#roomconfig_whois", "none"), "not-acceptable"},
      {field("muc#roomconfig_allowpm", "everybody"), "not-acceptable"},
      {field("muc#roomconfig_lang", "en GB"), "not-acceptable"},
      {field("muc#roomconfig_roomname", std::string(1024, 'n')), "not-acceptable"},
      {field("muc#roomconfig_roomname", "bell&#x7F;"), "not-acceptable"},
      {field("muc#roomconfig_passwordprotectedroom", "1"), "not-acceptable"},  // without a secret
      {"<field var='muc#roomconfig_roomname'><value>a</value><value>b</value></field>", "bad-request"},
      {field("muc#roomconfig_roomname", "a") + field("muc#roomconfig_roomname", "b"), "bad-request"},
      {"<field><value>no var</value></field>", "bad-request"},
      // A good field first: nothing of it is applied either.
      {field("muc#roomconfig_roomname", "Good") + field("muc#roomconfig_moderatedroom", "2"), "bad-request"},
  };
  for (const Case& c : cases) {
    xml::Element reply = owner_iq(kOwner, "set", form(c.fields));
    EXPECT_EQ(outcome(reply), c.condition) << c.fields;
    EXPECT_EQ(sent_.size(), 1u) << c.fields;
  }
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", form(field("muc#roomconfig_roomname", "x"), "urn:other"))), "bad-request");
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", "<x xmlns='jabber:x:data' type='result'/>")), "bad-request");
  EXPECT_EQ(outcome(owner_iq(kOwner, "set")), "bad-request");
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", "<x xmlns='jabber:x:data' type='submit'/><destroy/>")), "bad-request");
  EXPECT_EQ(state().config, RoomConfig{});
  EXPECT_TRUE(state().locked);
  EXPECT_EQ(host_.changes, 0);
  EXPECT_EQ(room().occupants().size(), 4u);
}

TEST_F(RoomTest, AFormOverTheSizeLimitIsAPolicyViolation) {
  host_.mutable_options().set_max_form_bytes(512);
  xml::Element reply = owner_iq(kOwner, "set", form(field("muc#roomconfig_roomdesc", std::string(600, 'd'))));
  EXPECT_EQ(outcome(reply), "policy-violation");
  EXPECT_EQ(state().config.description, "");
}

TEST_F(RoomTest, MembersOnlyRemovesTheOthers) {
  everyone_enters();
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", form(field("muc#roomconfig_membersonly", "1")))), "result");
  EXPECT_TRUE(state().config.members_only);
  EXPECT_FALSE(in_room("stranger"));  // §9.7: 322
  EXPECT_TRUE(in_room("friend"));
  EXPECT_TRUE(in_room("deputy"));
  EXPECT_TRUE(in_room("boss"));
  EXPECT_EQ(statuses(sent_to(kMember, "message").at(0)), std::vector<int>{104});
}

TEST_F(RoomTest, CancellingTheFirstConfigurationDestroysTheRoom) {
  enter("boss", kOwner);
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", "<x xmlns='jabber:x:data' type='cancel'/>")), "result");
  EXPECT_FALSE(host_.room_gone);  // configured already: nothing happens
  RoomState locked;
  locked.locked = true;
  reset(locked);
  enter("boss", kOwner);
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", "<x xmlns='jabber:x:data' type='cancel'/>")), "result");
  EXPECT_TRUE(host_.room_gone);
  EXPECT_TRUE(room().empty());
}

TEST_F(RoomTest, ATemporaryRoomLeftEmptyByItsConfigurationIsGone) {
  state().config.persistent = true;
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", form(field("muc#roomconfig_persistentroom", "0")))), "result");
  EXPECT_TRUE(host_.room_gone);
}

TEST_F(RoomTest, DestructionTellsEveryoneWhereTheRoomWent) {
  everyone_enters();
  enter("boss", "owner@example.org/laptop");  // a second session of the same nickname
  xml::Element reply = owner_iq(kOwner, "set",
                                "<destroy jid='coven@conference.example.org'><reason>Macbeth doth come</reason>"
                                "<password>cauldron</password></destroy>");
  EXPECT_EQ(outcome(reply), "result");
  EXPECT_TRUE(host_.room_gone);
  EXPECT_TRUE(room().empty());
  for (std::string_view who : {kOwner, std::string_view("owner@example.org/laptop"), kAdmin, kMember, kGuest}) {
    std::vector<xml::Element> out = sent_to(who, "presence");
    ASSERT_EQ(out.size(), 1u) << who;  // its own unavailable presence, nobody else's
    EXPECT_EQ(attr(out[0], "type"), "unavailable");
    const xml::Element* x = out[0].child(kMucUserNs, "x");
    ASSERT_NE(x, nullptr);
    const xml::Element* item = x->child(kMucUserNs, "item");
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(attr(*item, "affiliation"), "none");
    EXPECT_EQ(attr(*item, "role"), "none");
    const xml::Element* destroy = x->child(kMucUserNs, "destroy");
    ASSERT_NE(destroy, nullptr);
    EXPECT_EQ(attr(*destroy, "jid"), "coven@conference.example.org");
    EXPECT_EQ(xml::testing::child_text(*destroy, kMucUserNs, "reason"), "Macbeth doth come");
    EXPECT_EQ(xml::testing::child_text(*destroy, kMucUserNs, "password"), "cauldron");
  }
  EXPECT_EQ(attr(sent_to(kMember, "presence")[0], "from"), "room@conference.example.org/friend");
  // The result comes after the occupants were told.
  EXPECT_EQ(sent_.back().name(), "iq");
}

TEST_F(RoomTest, ABadDestroyIsRefusedAndTheRoomStays) {
  everyone_enters();
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", "<destroy jid='@bad'/>")), "jid-malformed");
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", "<destroy><reason>bell&#x7F;</reason></destroy>")), "bad-request");
  // The reason (kept in the tombstone, sent in <gone/>) is at most 1023 bytes; the venue a JID.
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", "<destroy><reason>" + std::string(1024, 'r') + "</reason></destroy>")),
            "bad-request");
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", "<destroy jid='" + std::string(1024, 'a') + "@example.org'/>")),
            "jid-malformed");
  EXPECT_FALSE(host_.room_gone);
  EXPECT_EQ(room().occupants().size(), 4u);
}

TEST_F(RoomTest, OwnerListsGoThroughMucAdmin) {
  EXPECT_EQ(outcome(owner_iq(kOwner, "get", "<item affiliation='owner'/>")), "feature-not-implemented");
  EXPECT_EQ(outcome(owner_iq(kOwner, "set", "<item affiliation='owner' jid='x@example.org'/>")),
            "feature-not-implemented");
  EXPECT_EQ(state().affiliations.size(), 3u);
}

}  // namespace
}  // namespace xmppd::router::muc
