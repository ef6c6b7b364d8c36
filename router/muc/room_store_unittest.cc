// A MUC service's rooms in the user store, on a real SQLite file and a real PostgreSQL server
// of the test's own: a room written whole and read back as it was, forgotten, kept apart from
// another service's; after the first save only what changed; a damaged row skipped;
// tombstones; the occupant id key made once.
#include "router/muc/room_store.h"

#include <gtest/gtest.h>

#include "store/test_database.h"

namespace xmppd::router::muc {
namespace {

using Outcome = RoomStore::Outcome;
using store::Backend;
using Rooms = std::map<std::string, RoomState, std::less<>>;
using Tombstones = std::map<std::string, RoomStore::Tombstone, std::less<>>;

RoomState sample() {
  RoomState s;
  s.config.name = "The Room";
  s.config.description = "line one\nline two \\ with a backslash";
  s.config.password = "secret=1";
  s.config.persistent = true;
  s.config.public_room = false;
  s.config.members_only = true;
  s.config.whois = Whois::kAnyone;
  s.config.allow_pm = WhoMay::kModerators;
  s.config.max_occupants = 17;
  s.config.history_length = 3;
  s.config.archiving = false;
  s.config.creator_domain = "b.example";
  s.affiliations["owner@a.example"] = {Affiliation::kOwner, "boss", ""};
  s.affiliations["bad@b.example"] = {Affiliation::kOutcast, "", "spam"};
  s.affiliations["m@a.example"] = {Affiliation::kMember, "em", ""};
  s.subject = "Today's topic";
  s.subject_nick = "boss";
  s.created = 1'700'000'000;
  s.locked = true;
  return s;
}

TEST(RoomConfigText, RoundTripsAndRefusesDamage) {
  RoomState s = sample();
  RoomConfig back;
  bool locked = false;
  ASSERT_TRUE(decode_config(encode_config(s.config, true), back, locked));
  EXPECT_EQ(back, s.config);
  EXPECT_TRUE(locked);
  for (std::string_view damaged : {"persistent=1", "persistent=2\n", "whois=everyone\n", "max_occupants=-1\n",
                                   "name=a\\x\n", "no equals sign\n", ""})
    EXPECT_FALSE(decode_config(damaged, back, locked)) << damaged;
  // A key of a newer build is skipped.
  EXPECT_TRUE(decode_config(encode_config(s.config, false) + "future=1\n", back, locked));
}

class RoomStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string skip, error;
    db_ = store::TestDatabase::create(GetParam(), skip, error);
    if (!skip.empty()) GTEST_SKIP() << skip;
    ASSERT_NE(db_, nullptr) << error;
    users_ = open(error);
    ASSERT_NE(users_, nullptr) << error;
  }
  void TearDown() override { users_.reset(); }
  std::unique_ptr<UserStore> open(std::string& error) {
    if (GetParam() == Backend::kSqlite) return UserStore::open(db_->path(), error);
    std::unique_ptr<store::Database> connection = db_->connect(error);
    return connection ? std::make_unique<UserStore>(std::move(connection), "test") : nullptr;
  }
  // As after a restart: the batch committed, a new connection.
  void reopen() {
    ASSERT_TRUE(users_->commit());
    users_.reset();
    std::string error;
    users_ = open(error);
    ASSERT_NE(users_, nullptr) << error;
  }

  std::unique_ptr<store::TestDatabase> db_;
  std::unique_ptr<UserStore> users_;
};

TEST_P(RoomStoreTest, ARoomIsReadBackAsItWasWritten) {
  RoomStore rooms(*users_, "conference.a.example");
  ASSERT_EQ(rooms.save("room", sample()), Outcome::kStored);
  RoomState changed = sample();
  changed.affiliations.erase("m@a.example");
  changed.subject = "New topic";
  ASSERT_EQ(rooms.save("room", changed), Outcome::kStored);  // written whole again
  ASSERT_EQ(RoomStore(*users_, "conference.b.example").save("other", sample()), Outcome::kStored);
  reopen();
  RoomStore again(*users_, "conference.a.example");
  Rooms loaded;
  Tombstones stones;
  ASSERT_TRUE(again.load(loaded, stones));
  ASSERT_EQ(loaded.size(), 1u);
  const RoomState& r = loaded.at("room");
  EXPECT_EQ(r.config, changed.config);
  EXPECT_EQ(r.affiliations, changed.affiliations);
  EXPECT_EQ(r.subject, "New topic");
  EXPECT_EQ(r.subject_nick, "boss");
  EXPECT_EQ(r.created, 1'700'000'000);
  EXPECT_TRUE(r.locked);
  EXPECT_TRUE(stones.empty());
}

// Given the state last written, a save writes only what differs: rows it leaves alone keep
// what the store holds (here changed behind its back to show it), whatever the room's size.
TEST_P(RoomStoreTest, ASaveAfterTheFirstWritesOnlyWhatChanged) {
  RoomStore rooms(*users_, "conference.a.example");
  const RoomState first = sample();
  ASSERT_EQ(rooms.save("room", first), Outcome::kStored);
  reopen();
  std::string error;
  ASSERT_TRUE(db_->execute("UPDATE muc_affiliation SET reason = 'untouched' WHERE jid = 'owner@a.example'", error))
      << error;
  ASSERT_TRUE(db_->execute("UPDATE muc_room SET subject = 'untouched'", error)) << error;
  RoomState next = first;
  next.affiliations.erase("m@a.example");
  next.affiliations["bad@b.example"].reason = "worse";
  next.affiliations["new@a.example"] = {Affiliation::kMember, "newbie", ""};
  next.affiliations["none@a.example"] = {Affiliation::kNone, "", ""};  // no row
  RoomStore again(*users_, "conference.a.example");
  ASSERT_EQ(again.save("room", next, &first), Outcome::kStored);
  reopen();
  Rooms loaded;
  Tombstones stones;
  ASSERT_TRUE(RoomStore(*users_, "conference.a.example").load(loaded, stones));
  const RoomState& r = loaded.at("room");
  EXPECT_EQ(r.subject, "untouched");
  ASSERT_EQ(r.affiliations.size(), 3u);
  EXPECT_EQ(r.affiliations.at("owner@a.example").reason, "untouched");
  EXPECT_EQ(r.affiliations.at("bad@b.example").reason, "worse");
  EXPECT_EQ(r.affiliations.at("new@a.example"), next.affiliations.at("new@a.example"));
  // A changed subject rewrites the room's row; an affiliation back to none loses its row.
  RoomState third = next;
  third.subject = "Later";
  third.affiliations["new@a.example"].affiliation = Affiliation::kNone;
  ASSERT_EQ(RoomStore(*users_, "conference.a.example").save("room", third, &next), Outcome::kStored);
  reopen();
  loaded.clear();
  ASSERT_TRUE(RoomStore(*users_, "conference.a.example").load(loaded, stones));
  EXPECT_EQ(loaded.at("room").subject, "Later");
  EXPECT_EQ(loaded.at("room").affiliations.count("new@a.example"), 0u);
  EXPECT_EQ(loaded.at("room").affiliations.size(), 2u);
}

TEST_P(RoomStoreTest, AForgottenRoomIsGoneWithItsAffiliations) {
  RoomStore rooms(*users_, "conference.a.example");
  ASSERT_EQ(rooms.save("room", sample()), Outcome::kStored);
  ASSERT_EQ(rooms.forget("room"), Outcome::kStored);
  reopen();
  Rooms loaded;
  Tombstones stones;
  ASSERT_TRUE(RoomStore(*users_, "conference.a.example").load(loaded, stones));
  EXPECT_TRUE(loaded.empty());
  EXPECT_EQ(db_->number("SELECT count(*) FROM muc_affiliation"), 0);
}

TEST_P(RoomStoreTest, ADamagedRowIsSkippedAndTheOthersLoad) {
  RoomStore rooms(*users_, "conference.a.example");
  ASSERT_EQ(rooms.save("good", sample()), Outcome::kStored);
  ASSERT_EQ(rooms.save("bad", sample()), Outcome::kStored);
  reopen();
  std::string error;
  ASSERT_TRUE(db_->execute("UPDATE muc_room SET config = 'whois=everyone\n' WHERE room = 'bad'", error)) << error;
  ASSERT_TRUE(db_->execute("UPDATE muc_affiliation SET affiliation = 'emperor' WHERE jid = 'm@a.example' AND "
                           "room = 'good'",
                           error))
      << error;
  Rooms loaded;
  Tombstones stones;
  ASSERT_TRUE(RoomStore(*users_, "conference.a.example").load(loaded, stones));
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded.at("good").affiliations.size(), 2u);
}

TEST_P(RoomStoreTest, TombstonesAreKeptAndRemoved) {
  RoomStore rooms(*users_, "conference.a.example");
  ASSERT_EQ(rooms.set_tombstone("old", {1'800'000'000, "moved", "new@conference.a.example"}), Outcome::kStored);
  ASSERT_EQ(rooms.set_tombstone("older", {1'800'000'001, "", ""}), Outcome::kStored);
  ASSERT_EQ(rooms.remove_tombstone("older"), Outcome::kStored);
  reopen();
  Rooms loaded;
  Tombstones stones;
  ASSERT_TRUE(RoomStore(*users_, "conference.a.example").load(loaded, stones));
  ASSERT_EQ(stones.size(), 1u);
  EXPECT_EQ(stones.at("old").expires, 1'800'000'000);
  EXPECT_EQ(stones.at("old").reason, "moved");
  EXPECT_EQ(stones.at("old").alternate, "new@conference.a.example");
}

// A damaged row (hand-edited, or written by a build without the bounds) keeps its tombstone,
// not what would go into <gone/> unchecked: a reason past 1023 bytes or with control
// characters, an alternate venue that is not a JID.
TEST_P(RoomStoreTest, ATombstonesReasonAndAlternateVenueAreBounded) {
  RoomStore rooms(*users_, "conference.a.example");
  const std::string longest(1023, 'r');
  ASSERT_EQ(rooms.set_tombstone("fits", {1'800'000'000, longest, "new@conference.a.example"}), Outcome::kStored);
  ASSERT_EQ(rooms.set_tombstone("long", {1'800'000'000, longest + "r", "@bad"}), Outcome::kStored);
  ASSERT_EQ(rooms.set_tombstone("bell", {1'800'000'000, "ring\x07", std::string(1024, 'a') + "@b.example"}),
            Outcome::kStored);
  ASSERT_EQ(rooms.set_tombstone("lines", {1'800'000'000, "moved\nfor good", ""}), Outcome::kStored);
  reopen();
  Rooms loaded;
  Tombstones stones;
  ASSERT_TRUE(RoomStore(*users_, "conference.a.example").load(loaded, stones));
  ASSERT_EQ(stones.size(), 4u);
  EXPECT_EQ(stones.at("fits").reason, longest);
  EXPECT_EQ(stones.at("fits").alternate, "new@conference.a.example");
  for (const char* damaged : {"long", "bell"}) {
    EXPECT_EQ(stones.at(damaged).reason, "") << damaged;
    EXPECT_EQ(stones.at(damaged).alternate, "") << damaged;
    EXPECT_EQ(stones.at(damaged).expires, 1'800'000'000) << damaged;
  }
  EXPECT_EQ(stones.at("lines").reason, "moved\nfor good");
}

TEST_P(RoomStoreTest, TheOccupantIdKeyIsMadeOnceAndKept) {
  std::optional<std::string> key = RoomStore(*users_, "conference.a.example").occupant_id_key();
  ASSERT_TRUE(key);
  EXPECT_EQ(key->size(), 64u);
  std::optional<std::string> other = RoomStore(*users_, "conference.b.example").occupant_id_key();
  ASSERT_TRUE(other);
  EXPECT_NE(*key, *other);
  reopen();
  EXPECT_EQ(RoomStore(*users_, "conference.a.example").occupant_id_key(), key);
}

INSTANTIATE_TEST_SUITE_P(Backends, RoomStoreTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::backend_name(info.param); });

}  // namespace
}  // namespace xmppd::router::muc
