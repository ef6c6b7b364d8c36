// What a room says of itself (XEP-0045 §6.4, §6.5), ping, and nickname registration (§7.10):
// who may ask, what each configuration shows, and every refusal of a registration.
#include <algorithm>
#include <tuple>

#include "router/muc/room_admin_test.h"
#include "router/muc/room_forms.h"

namespace xmppd::router::muc {
namespace {

using xml::testing::attr;

constexpr std::string_view kInfo = "<query xmlns='http://jabber.org/protocol/disco#info'/>";
constexpr std::string_view kItems = "<query xmlns='http://jabber.org/protocol/disco#items'/>";

std::vector<std::string> features(const xml::Element& reply) {
  std::vector<std::string> out;
  if (const xml::Element* query = reply.child("http://jabber.org/protocol/disco#info", "query"))
    for (const xml::Element* child : query->children())
      if (child->name() == "feature") out.push_back(child->attribute_or("var"));
  return out;
}

bool has(const std::vector<std::string>& all, std::string_view one) {
  return std::find(all.begin(), all.end(), one) != all.end();
}

std::string info_value(const xml::Element& reply, std::string_view var) {
  const xml::Element* query = reply.child("http://jabber.org/protocol/disco#info", "query");
  const xml::Element* x = query != nullptr ? query->child("jabber:x:data", "x") : nullptr;
  if (x == nullptr) return "(no form)";
  for (const xml::Element* field : x->children())
    if (field->attribute_or("var") == var) return xml::testing::child_text(*field, "jabber:x:data", "value");
  return "(absent)";
}

std::string reg_form(std::string_view nick) {
  return "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>"
         "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#register</value></field>"
         "<field var='muc#register_roomnick'><value>" +
         std::string(nick) + "</value></field></x></query>";
}

constexpr std::string_view kRegisterGet = "<query xmlns='jabber:iq:register'/>";

TEST_F(RoomTest, InfoDescribesTheConfiguration) {
  everyone_enters();
  state().subject = "Double, double";
  xml::Element reply = iq(kGuest, "get", kInfo);
  ASSERT_EQ(outcome(reply), "result");
  const xml::Element* identity = reply.child("http://jabber.org/protocol/disco#info", "query")
                                     ->child("http://jabber.org/protocol/disco#info", "identity");
  ASSERT_NE(identity, nullptr);
  EXPECT_EQ(attr(*identity, "category"), "conference");
  EXPECT_EQ(attr(*identity, "type"), "text");
  EXPECT_EQ(attr(*identity, "name"), "room");  // no name: the room's localpart
  std::vector<std::string> f = features(reply);
  for (std::string_view var : {"http://jabber.org/protocol/muc", "muc_public", "muc_temporary", "muc_open",
                               "muc_unmoderated", "muc_unsecured", "muc_semianonymous", "urn:xmpp:occupant-id:0",
                               "http://jabber.org/protocol/muc#self-ping-optimization", "jabber:iq:register"})
    EXPECT_TRUE(has(f, var)) << var;
  EXPECT_EQ(info_value(reply, "FORM_TYPE"), "http://jabber.org/protocol/muc#roominfo");
  EXPECT_EQ(info_value(reply, "muc#roominfo_occupants"), "4");
  EXPECT_EQ(info_value(reply, "muc#roominfo_subject"), "Double, double");
  EXPECT_EQ(info_value(reply, "muc#roomconfig_whois"), "moderators");
  EXPECT_EQ(info_value(reply, "muc#roomconfig_allowpm"), "anyone");
  EXPECT_EQ(info_value(reply, "muc#roomconfig_changesubject"), "0");

  RoomConfig& c = state().config;
  c.name = "The Cave";
  c.description = "Thunder";
  c.language = "en";
  c.public_room = false;
  c.persistent = true;
  c.members_only = true;
  c.moderated = true;
  c.password = "cauldron";
  c.whois = Whois::kAnyone;
  c.allow_pm = WhoMay::kParticipants;
  c.change_subject = true;
  reply = iq(kGuest, "get", kInfo);  // members-only rooms are visible (as Prosody)
  f = features(reply);
  for (std::string_view var : {"muc_hidden", "muc_persistent", "muc_membersonly", "muc_moderated",
                               "muc_passwordprotected", "muc_nonanonymous"})
    EXPECT_TRUE(has(f, var)) << var;
  for (std::string_view var :
       {"muc_public", "muc_temporary", "muc_open", "muc_unmoderated", "muc_unsecured", "muc_semianonymous"})
    EXPECT_FALSE(has(f, var)) << var;
  EXPECT_EQ(info_value(reply, "muc#roomconfig_roomname"), "The Cave");
  EXPECT_EQ(info_value(reply, "muc#roominfo_description"), "Thunder");
  EXPECT_EQ(info_value(reply, "muc#roominfo_lang"), "en");
  EXPECT_EQ(info_value(reply, "muc#roomconfig_whois"), "anyone");
  EXPECT_EQ(info_value(reply, "muc#roomconfig_allowpm"), "participants");
  EXPECT_EQ(info_value(reply, "muc#roomconfig_changesubject"), "1");
  EXPECT_EQ(outcome(iq(kGuest, "get", "<query xmlns='http://jabber.org/protocol/disco#info' node='x'/>")),
            "item-not-found");
}

TEST_F(RoomTest, ALockedRoomIsTheOwnersAlone) {
  RoomState locked;
  locked.locked = true;
  reset(locked);
  for (std::string_view payload : {kInfo, kItems, std::string_view("<ping xmlns='urn:xmpp:ping'/>"), kRegisterGet})
    EXPECT_EQ(outcome(iq(kGuest, "get", payload)), "item-not-found") << payload;
  EXPECT_EQ(outcome(iq(kAdmin, "get", kInfo)), "item-not-found");
  EXPECT_EQ(outcome(iq(kOwner, "get", kInfo)), "result");
  // Nor does the service answer for it (its archive, its vCard) to anyone but its owners.
  host_.room_iqs = 0;
  EXPECT_EQ(outcome(iq(kGuest, "set", "<query xmlns='urn:xmpp:mam:2'/>")), "item-not-found");
  EXPECT_EQ(outcome(iq(kGuest, "get", "<vCard xmlns='vcard-temp'/>")), "item-not-found");
  EXPECT_EQ(host_.room_iqs, 0);
}

TEST_F(RoomTest, ItemsListOccupantsToOccupantsOfAPublicRoom) {
  everyone_enters();
  xml::Element reply = iq(kGuest, "get", kItems);
  ASSERT_EQ(outcome(reply), "result");
  std::vector<std::string> jids;
  for (const xml::Element* i : reply.child("http://jabber.org/protocol/disco#items", "query")->children())
    jids.push_back(i->attribute_or("jid"));
  EXPECT_EQ(jids,
            (std::vector<std::string>{"room@conference.example.org/boss", "room@conference.example.org/deputy",
                                      "room@conference.example.org/friend", "room@conference.example.org/stranger"}));
  reply = iq("outsider@example.com/x", "get", kItems);
  EXPECT_EQ(outcome(reply), "result");
  EXPECT_TRUE(reply.child("http://jabber.org/protocol/disco#items", "query")->children().empty());
  state().config.public_room = false;
  reply = iq(kGuest, "get", kItems);
  EXPECT_TRUE(reply.child("http://jabber.org/protocol/disco#items", "query")->children().empty());
}

TEST_F(RoomTest, PingAndEverythingElse) {
  EXPECT_EQ(outcome(iq("outsider@example.com/x", "get", "<ping xmlns='urn:xmpp:ping'/>")), "result");
  EXPECT_EQ(outcome(iq(kGuest, "get", "<query xmlns='jabber:iq:version'/>")), "service-unavailable");
  EXPECT_EQ(outcome(iq(kGuest, "set", "<ping xmlns='urn:xmpp:ping'/>")), "service-unavailable");
  EXPECT_EQ(outcome(iq(kGuest, "set", kInfo)), "service-unavailable");
}

TEST_F(RoomTest, ANicknameIsRegisteredAndUnregistered) {
  xml::Element reply = iq(kGuest, "get", kRegisterGet);
  ASSERT_EQ(outcome(reply), "result");
  const xml::Element* x = reply.child("jabber:iq:register", "query")->child("jabber:x:data", "x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(attr(*x, "type"), "form");

  EXPECT_EQ(outcome(iq(kGuest, "set", reg_form("Hecate"))), "result");
  EXPECT_EQ(room().affiliation_of("guest@example.net"), Affiliation::kMember);
  EXPECT_EQ(state().affiliations.at("guest@example.net").nick, "Hecate");
  EXPECT_EQ(host_.changes, 1);
  reply = iq(kGuest, "get", kRegisterGet);
  const xml::Element* query = reply.child("jabber:iq:register", "query");
  EXPECT_NE(query->child("jabber:iq:register", "registered"), nullptr);
  EXPECT_EQ(xml::testing::child_text(*query, "jabber:iq:register", "username"), "Hecate");

  EXPECT_EQ(outcome(iq(kGuest, "set", "<query xmlns='jabber:iq:register'><remove/></query>")), "result");
  EXPECT_FALSE(state().affiliations.contains("guest@example.net"));
  // An owner keeps its affiliation without its nickname.
  EXPECT_EQ(outcome(iq(kOwner, "set", reg_form("boss"))), "result");
  EXPECT_EQ(outcome(iq(kOwner, "set", "<query xmlns='jabber:iq:register'><remove/></query>")), "result");
  EXPECT_EQ(room().affiliation_of("owner@example.org"), Affiliation::kOwner);
  EXPECT_EQ(state().affiliations.at("owner@example.org").nick, "");
}

TEST_F(RoomTest, RegistrationsAreRefusedWithNothingChanged) {
  enter("witch", "third@example.org/a");
  state().affiliations["member@example.org"].nick = "friend";
  state().affiliations["bad@example.com"] = AffiliationEntry{Affiliation::kOutcast, {}, {}};
  RoomState before = state();
  std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"bad@example.com/x", reg_form("ok"), "forbidden"},     // banned
      {std::string(kGuest), reg_form("friend"), "conflict"},  // registered by another
      {std::string(kGuest), reg_form("witch"), "conflict"},   // in use by another
      {std::string(kGuest), reg_form(""), "bad-request"},
      {std::string(kGuest), reg_form(std::string(65, 'n')), "not-acceptable"},  // over muc_max_nick_length
      {std::string(kGuest), "<query xmlns='jabber:iq:register'/>", "bad-request"},
      {std::string(kGuest), "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'/></query>",
       "bad-request"},
      {std::string(kGuest),
       "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field "
       "var='FORM_TYPE'><value>urn:x</value>"
       "</field><field var='muc#register_roomnick'><value>ok</value></field></x></query>",
       "bad-request"},
  };
  for (const auto& [from, payload, condition] : cases) {
    EXPECT_EQ(outcome(iq(from, "set", payload)), condition) << payload;
    EXPECT_EQ(sent_.size(), 1u);
  }
  EXPECT_EQ(state().affiliations, before.affiliations);
  EXPECT_EQ(host_.changes, 0);
  // A members-only room takes registrations from its members only.
  state().config.members_only = true;
  EXPECT_EQ(outcome(iq(kGuest, "set", reg_form("ok"))), "not-allowed");
  EXPECT_EQ(outcome(iq(kMember, "set", reg_form("ok"))), "result");
  EXPECT_EQ(state().affiliations.at("member@example.org").nick, "ok");
  // muc_max_nick_length counts characters, as when joining: 64 Cyrillic ones (128 bytes) fit.
  std::string cyrillic;
  for (int i = 0; i < 64; ++i) cyrillic += "\u0434";
  EXPECT_EQ(outcome(iq(kMember, "set", reg_form(cyrillic))), "result");
  // The same user's own occupant may hold the nickname it registers.
  EXPECT_EQ(outcome(iq("third@example.org/b", "get", kRegisterGet)), "result");
  state().config.members_only = false;
  EXPECT_EQ(outcome(iq("third@example.org/b", "set", reg_form("witch"))), "result");
}

TEST_F(RoomTest, AFullRoomTakesNoMoreRegistrations) {
  for (std::size_t i = state().affiliations.size(); i < kMaxAffiliations; ++i)
    state().affiliations.emplace("u" + std::to_string(i) + "@example.org",
                                 AffiliationEntry{Affiliation::kMember, {}, {}});
  EXPECT_EQ(outcome(iq(kGuest, "set", reg_form("late"))), "resource-constraint");
  EXPECT_FALSE(state().affiliations.contains("guest@example.net"));
}

}  // namespace
}  // namespace xmppd::router::muc
