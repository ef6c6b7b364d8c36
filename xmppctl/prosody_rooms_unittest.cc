// The conversion of Prosody 0.12's room files (prosody_rooms.h): both layouts, every setting
// xmppd keeps, and the refusals, each with its file and line; and of a user's archive
// (prosody_user.h), its messages kept with their keys and bad ones skipped.
#include "xmppctl/prosody_rooms.h"

#include <gtest/gtest.h>

namespace xmppd::ctl::prosody_import {
namespace {

using Kind = ConvertedRoom::Kind;
using router::muc::Affiliation;

constexpr std::string_view kService = "conference.chat.test";

ConvertedRoom convert(const std::string& text) {
  return convert_room(RawFile{"d/config/team.dat", text, false}, "team", kService, 42);
}

TEST(ProsodyRooms, ConvertsTheNewLayout) {
  const ConvertedRoom room = convert(R"(return {
	["alice@chat.test"] = "owner";
	["dave@chat.test"] = "outcast";
	["_jid"] = "team@conference.chat.test";
	["_data"] = {
		["subject"] = "Plans";
		["subject_from"] = "team@conference.chat.test/Alice";
		["members_only"] = true; ["moderated"] = true; ["persistent"] = true; ["hidden"] = true;
		["history_length"] = 15; ["password"] = "pw"; ["whois"] = "anyone"; ["changesubject"] = true;
		["language"] = "en"; ["allow_member_invites"] = true; ["archiving"] = false;
		["name"] = "The Team"; ["description"] = "Where"; ["occupant_id_salt"] = "x";
	};
	["carol@chat.test"] = "member";
	["_affiliation_data"] = { ["carol@chat.test"] = { ["reserved_nickname"] = "Caz" } };
};
)");
  ASSERT_EQ(room.kind, Kind::kRoom) << room.error;
  const auto& c = room.state.config;
  EXPECT_EQ(c.name, "The Team");
  EXPECT_EQ(c.description, "Where");
  EXPECT_EQ(c.language, "en");
  EXPECT_EQ(c.password, "pw");
  EXPECT_TRUE(c.persistent && c.members_only && c.moderated && c.change_subject && c.allow_invites);
  EXPECT_FALSE(c.public_room);
  EXPECT_FALSE(c.archiving);
  EXPECT_EQ(c.whois, router::muc::Whois::kAnyone);
  EXPECT_EQ(c.history_length, 15u);
  EXPECT_EQ(room.state.subject, "Plans");
  EXPECT_EQ(room.state.subject_nick, "Alice");
  EXPECT_EQ(room.state.created, 42);
  EXPECT_FALSE(room.state.locked);
  ASSERT_EQ(room.state.affiliations.size(), 3u);
  EXPECT_EQ(room.state.affiliations.at("alice@chat.test").affiliation, Affiliation::kOwner);
  EXPECT_EQ(room.state.affiliations.at("dave@chat.test").affiliation, Affiliation::kOutcast);
  EXPECT_EQ(room.state.affiliations.at("carol@chat.test").affiliation, Affiliation::kMember);
  EXPECT_EQ(room.state.affiliations.at("carol@chat.test").nick, "Caz");
}

TEST(ProsodyRooms, ConvertsTheOldLayoutWithDefaults) {
  const ConvertedRoom room = convert(R"(return {
	jid = "team@conference.chat.test";
	_data = { persistent = true };
	_affiliations = { ["alice@chat.test"] = "owner"; ["bob@chat.test"] = "admin" };
};
)");
  ASSERT_EQ(room.kind, Kind::kRoom) << room.error;
  EXPECT_TRUE(room.state.config.public_room);
  EXPECT_TRUE(room.state.config.archiving);
  EXPECT_EQ(room.state.config.whois, router::muc::Whois::kModerators);
  EXPECT_EQ(room.state.affiliations.at("bob@chat.test").affiliation, Affiliation::kAdmin);
}

TEST(ProsodyRooms, ARoomNotPersistentIsLeftOut) {
  EXPECT_EQ(convert(R"(return { _jid = "team@conference.chat.test"; _data = {};
	["alice@chat.test"] = "owner" })")
                .kind,
            Kind::kNotPersistent);
}

TEST(ProsodyRooms, RefusesWithFileAndLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"return {\n _jid = \"other@conference.chat.test\";\n}", "d/config/team.dat:2: the room's JID"},
      {"return { _jid = \"team@conference.chat.test\";\n _data = { persistent = true;\n whois = \"all\" };\n"
       " [\"a@chat.test\"] = \"owner\" }",
       "d/config/team.dat:3: whois"},
      {"return { _jid = \"team@conference.chat.test\"; _data = { persistent = true };\n"
       " [\"a@chat.test\"] = \"king\" }",
       "d/config/team.dat:2: the affiliation of a@chat.test"},
      {"return { _jid = \"team@conference.chat.test\"; _data = { persistent = true };\n"
       " [\"a@chat.test/phone\"] = \"owner\" }",
       "d/config/team.dat:2: an affiliation's key"},
      {"return { _jid = \"team@conference.chat.test\"; _data = { persistent = true;\n history_length = -1 };\n"
       " [\"a@chat.test\"] = \"owner\" }",
       "d/config/team.dat:2: history_length"},
      {"return { _jid = \"team@conference.chat.test\"; _data = { persistent = true;\n name = \"a\\1b\" };\n"
       " [\"a@chat.test\"] = \"owner\" }",
       "d/config/team.dat:2: name"},
      {"return { _jid = \"team@conference.chat.test\"; _data = { persistent = true };\n"
       " [\"a@chat.test\"] = \"member\" }",
       "d/config/team.dat:1: the room has no owner"},
      {"return { _jid = \"team@conference.chat.test\"; _data = { persistent = true;\n locked = 99 };\n"
       " [\"a@chat.test\"] = \"owner\" }",
       "d/config/team.dat:2: the room was never configured"},
      {"return { _jid = \"team@conference.chat.test\";\n os.exit(1) }", "d/config/team.dat:2: "},
  };
  for (const auto& [text, error] : cases) {
    const ConvertedRoom room = convert(text);
    EXPECT_EQ(room.kind, Kind::kRefused) << text;
    EXPECT_EQ(room.error.rfind(error, 0), 0u) << room.error;
  }
}

TEST(ProsodyArchive, KeepsKeyTimeAndWithAndSkipsBadItems) {
  RawUser files;
  files["archive"] = RawFile{"d/archive/bob.list", R"(item({ key = "k1"; when = 1796000000; with = "alice@chat.test";
	name = "message"; attr = { from = "alice@chat.test/a"; to = "bob@chat.test"; type = "chat";
	stamp = "2026-11-30T00:00:00Z" };
	{ name = "body"; "hi" }; { name = "origin-id"; attr = { xmlns = "urn:xmpp:sid:0"; id = "o1" } } });
item({ key = "k1"; when = 1796000001; with = "alice@chat.test"; name = "message"; attr = {} });
item({ key = "k2"; with = "alice@chat.test"; name = "message"; attr = {} });
item({ key = "k 3"; when = 1796000001; with = "alice@chat.test"; name = "message"; attr = {} });
item({ key = "k4"; when = 1796000001; with = "@@"; name = "message"; attr = {} });
item({ key = "k5"; when = 1796000002; with = "alice@chat.test/x"; name = "presence"; attr = {} });
)", true};
  std::string warnings;
  const UserData data = convert_data("bob", "chat.test", files, warnings);
  ASSERT_EQ(data.archive.size(), 1u) << warnings;
  const ArchivedMessage& m = data.archive.front();
  EXPECT_EQ(m.id, "k1");
  EXPECT_EQ(m.with, "alice@chat.test");
  EXPECT_EQ(m.when, 1796000000);
  EXPECT_EQ(m.origin_id, "o1");
  EXPECT_NE(m.stanza.find("xmlns='jabber:client'"), std::string::npos) << m.stanza;
  EXPECT_EQ(m.stanza.find("stamp"), std::string::npos) << m.stanza;
  for (const char* line : {"bob.list:5: an archived message whose key repeats", "bob.list:6: an archived message without a valid \"when\"",
                           "bob.list:7: an archived message without a valid key", "bob.list:8: an archived message without a valid \"with\"",
                           "bob.list:9: an archived item that is not a message"})
    EXPECT_NE(warnings.find(line), std::string::npos) << line << "\n" << warnings;
}

TEST(ProsodyArchive, ARoomsLogKeepsOccupantsMessagesWithoutRealJids) {
  const RawFile log{"d/muc_log/team.list", R"(item({ key = "r1"; when = 1796000000; with = "message<groupchat";
	name = "message"; attr = { from = "team@conference.chat.test/Alice"; type = "groupchat" };
	{ name = "body"; "hello" };
	{ name = "x"; attr = { xmlns = "http://jabber.org/protocol/muc#user" }; { name = "item"; attr = { jid = "alice@chat.test" } } } });
item({ key = "r2"; when = 1796000001; with = "presence"; name = "presence"; attr = {} });
item({ key = "r3"; when = 1796000001; with = "message<groupchat"; name = "message";
	attr = { from = "team@conference.chat.test/Alice"; type = "groupchat" }; { name = "subject"; "s" } });
item({ key = "r4"; when = 1796000002; with = "message<groupchat"; name = "message";
	attr = { from = "other@conference.chat.test/Eve"; type = "groupchat" }; { name = "body"; "x" } });
)",
                      true};
  std::string warnings;
  const auto messages = convert_room_log(log, "team@conference.chat.test", warnings);
  ASSERT_EQ(messages.size(), 1u) << warnings;
  EXPECT_EQ(messages[0].id, "r1");
  EXPECT_EQ(messages[0].with, "team@conference.chat.test/Alice");
  EXPECT_EQ(messages[0].stanza.find("alice@chat.test"), std::string::npos) << messages[0].stanza;
  EXPECT_NE(messages[0].stanza.find("hello"), std::string::npos);
  EXPECT_EQ(warnings, "d/muc_log/team.list:8: an archived message not from an occupant of the room\n");
}

// Prosody skips only keys whose host part starts with '_' (restore_room): a JID whose
// localpart does keeps its affiliation, a ban above all.
TEST(ProsodyRoom, AnUnderscoreLocalpartKeepsItsAffiliation) {
  const ConvertedRoom room = convert_room(RawFile{"d/config/team.dat", R"(return {
	["alice@chat.test"] = "owner";
	["_spammer@evil.test"] = "outcast";
	["_ops@chat.test"] = "admin";
	["_jid"] = "team@conference.chat.test";
	["_data"] = { ["persistent"] = true; };
	["_affiliation_data"] = {};
};
)",
                                                  false},
                                          "team", "conference.chat.test", 42);
  ASSERT_EQ(room.kind, ConvertedRoom::Kind::kRoom) << room.error;
  EXPECT_EQ(room.state.affiliations.size(), 3u);
  ASSERT_EQ(room.state.affiliations.count("_spammer@evil.test"), 1u);
  EXPECT_EQ(room.state.affiliations.at("_spammer@evil.test").affiliation, router::muc::Affiliation::kOutcast);
  EXPECT_EQ(room.state.affiliations.at("_ops@chat.test").affiliation, router::muc::Affiliation::kAdmin);
}

// Prosody's muc_tombstones (on by default) leave a destroyed persistent room's name taken for
// a month, with no owner: a tombstone, not a broken room.
TEST(ProsodyRoom, ATombstoneIsKeptAsOne) {
  const ConvertedRoom room = convert_room(RawFile{"d/config/team.dat", R"(return {
	["_jid"] = "team@conference.chat.test";
	["_data"] = { ["persistent"] = true; ["hidden"] = true; ["destroyed"] = true; ["locked"] = 1999999999;
		["reason"] = "moved"; ["newjid"] = "new@conference.chat.test"; };
};
)",
                                                  false},
                                          "team", "conference.chat.test", 42);
  ASSERT_EQ(room.kind, ConvertedRoom::Kind::kTombstone) << room.error;
  EXPECT_EQ(room.expires, 1999999999);
  EXPECT_EQ(room.reason, "moved");
  EXPECT_EQ(room.alternate, "new@conference.chat.test");
}

// The service's options hold: what the owner's form would refuse is narrowed, with a warning,
// and what Prosody leaves unset is the service's default for a new room.
TEST(ProsodyRoom, SettingsAreHeldToTheServicesLimits) {
  RoomLimits limits;
  limits.max_occupants = 1000;
  limits.max_history_messages = 20;
  limits.max_subject_length = 3;
  limits.max_nick_length = 4;
  limits.log_by_default = false;
  std::string warnings;
  const ConvertedRoom room = convert_room(RawFile{"d/config/team.dat", R"(return {
	["alice@chat.test"] = "owner";
	["_jid"] = "team@conference.chat.test";
	["_data"] = { ["persistent"] = true; ["history_length"] = 50; ["subject"] = "héllo"; };
	["_affiliation_data"] = { ["alice@chat.test"] = { ["reserved_nickname"] = "Alice"; }; };
};
)",
                                                  false},
                                          "team", "conference.chat.test", 42, limits, &warnings);
  ASSERT_EQ(room.kind, ConvertedRoom::Kind::kRoom) << room.error;
  EXPECT_EQ(room.state.config.history_length, 20u);
  EXPECT_EQ(room.state.config.max_occupants, 1000u);
  EXPECT_FALSE(room.state.config.archiving);
  EXPECT_EQ(room.state.subject, "h\xc3\xa9l");
  EXPECT_EQ(room.state.affiliations.at("alice@chat.test").nick, "");
  EXPECT_NE(warnings.find("d/config/team.dat: history_length 50 narrowed to max_history_messages 20"),
            std::string::npos)
      << warnings;
  limits.max_occupants = 10;
  const ConvertedRoom unlimited = convert_room(RawFile{"d/config/big.dat", R"(return {
	["alice@chat.test"] = "owner";
	["_jid"] = "big@conference.chat.test";
	["_data"] = { ["persistent"] = true; ["max_occupants"] = 0; };
};
)",
                                                       false},
                                               "big", "conference.chat.test", 42, limits, &warnings);
  ASSERT_EQ(unlimited.kind, ConvertedRoom::Kind::kRoom) << unlimited.error;
  EXPECT_EQ(unlimited.state.config.max_occupants, 10u);
}

}  // namespace
}  // namespace xmppd::ctl::prosody_import
