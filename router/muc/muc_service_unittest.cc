// The MUC service on a real SQLite user store, with the server around it played by a test
// Server that keeps what the service sends: who may create rooms (restrict_room_creation,
// muc_max_rooms, muc_max_rooms_per_user), rooms loaded from the store and listed, the lock
// timeout, tombstones, and the rooms' archive (muc_mam) and vCards (vcard_muc).
#include "router/muc/muc_service.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <functional>

#include "router/modules/mam_page.h"
#include "store/test_database.h"
#include "xml/fragment.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

using muc::Affiliation;
using muc::RoomState;
using muc::RoomStore;

xml::Element parse(std::string_view text) {
  std::string error;
  std::optional<xml::Element> e = xml::parse_fragment(text, "jabber:client", 1 << 16, &error);
  EXPECT_TRUE(e) << error << ": " << text;
  return e ? std::move(*e) : xml::Element("jabber:client", "none");
}

xmpp::Jid jid(std::string_view text) { return *xmpp::Jid::parse(text); }

// What the service needs of the router, and what it sent.
class TestServer final : public Server {
 public:
  explicit TestServer(UserStore& store) : store_(store), archive_(store.database(), 0) {
    std::string error;
    items_ = ItemStore::open(store, error);
  }
  std::vector<xml::Element> sent;

  bool is_local(std::string_view domain) const override { return domain == "a.example"; }
  const HostConfig* host(std::string_view) const override { return nullptr; }
  void send(const xml::Element& stanza) override { sent.push_back(stanza); }
  void bounce(const xml::Element& stanza, std::string_view type, std::string_view condition,
              std::string_view text) override {
    sent.push_back(xmpp::error_reply(stanza, type, condition, text));
  }
  void request(xml::Element, Reply) override { std::abort(); }
  void to_user(const xml::Element&, const xmpp::Jid&) override { std::abort(); }
  void user_removed(const std::string&) override { std::abort(); }
  LocalSessions& sessions() override { std::abort(); }
  UserStore& store() override { return store_; }
  ItemStore& items() override { return *items_; }
  ArchiveStore* archive() override { return &archive_; }
  AuthLink& auth() override { std::abort(); }
  const UserQuotas& quotas() const override { return quotas_; }
  Im& im() override { std::abort(); }
  void from_component(xml::Element stanza) override {
    if (answering) reentered = true;
    sent.push_back(stanza);
    if (answer && !xmpp::is_error(stanza)) {
      // As Routing does for a session that is gone: the error straight back, from inside.
      answering = true;
      answer(stanza);
      answering = false;
    }
  }
  // Called with each stanza the service sends, as the router would (it may call receive()).
  std::function<void(const xml::Element&)> answer;
  bool answering = false;
  bool reentered = false;  // the service sent something while an answer was being received

 private:
  UserStore& store_;
  ArchiveStore archive_;
  std::optional<ItemStore> items_;
  UserQuotas quotas_;
};

class MucServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip, error;
    db_ = store::TestDatabase::create(store::Backend::kSqlite, skip, error);
    ASSERT_NE(db_, nullptr) << error;
    users_ = UserStore::open(db_->path(), error);
    ASSERT_NE(users_, nullptr) << error;
    server_.emplace(*users_);
    options_.set_domain("conference.a.example");
    options_.set_parent_host("a.example");
    options_.add_admins("admin@a.example");
    options_.set_restrict_room_creation("none");
    options_.set_max_rooms(100);
    options_.set_max_rooms_per_user(50);
    options_.set_max_rooms_per_domain(500);
    options_.set_max_occupants(200);
    options_.set_room_locking(true);
    options_.set_room_lock_timeout(300);
    options_.set_tombstones(true);
    options_.set_tombstone_expiry(86400);
    options_.set_log_by_default(true);
    // What the rooms read, as config/muc.h's defaults (the rate limit off).
    options_.set_max_nick_length(64);
    options_.set_max_subject_length(1024);
    options_.set_max_char_count(5664);
    options_.set_max_line_count(23);
    options_.set_room_default_history_length(20);
    options_.set_max_history_messages(20);
    options_.set_burst_factor(6);
    options_.set_max_form_bytes(64 * 1024);
  }
  MucService& service() {
    if (!service_) service_ = std::make_unique<MucService>(*server_, options_);
    return *service_;
  }
  // A first presence to room@conference.a.example/nick from `from`; the last stanza sent back.
  void join(std::string_view room, std::string_view from) {
    std::string to = std::string(room) + "@conference.a.example/nick";
    xml::Element p = parse("<presence from='" + std::string(from) + "' to='" + to +
                           "'><x xmlns='http://jabber.org/protocol/muc'/></presence>");
    service().receive(p, jid(from), jid(to));
  }
  std::string last_error() {
    if (server_->sent.empty()) return "";
    const xml::Element* error = server_->sent.back().child("jabber:client", "error");
    if (error == nullptr) return "";
    auto children = error->children();
    return children.empty() ? "" : children.front()->name();
  }
  RoomState persistent_room(std::int64_t created) {
    RoomState s;
    s.config.persistent = true;
    s.config.name = "Kept";
    s.created = created;
    s.affiliations["owner@a.example"] = {Affiliation::kOwner, "", ""};
    return s;
  }
  std::vector<std::string> listed() {
    server_->sent.clear();
    xml::Element iq = parse("<iq type='get' id='i' from='u@a.example/r' to='conference.a.example'>"
                            "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
    service().receive(iq, jid("u@a.example/r"), jid("conference.a.example"));
    std::vector<std::string> out;
    if (server_->sent.empty()) return out;
    const xml::Element* query = server_->sent.back().child("http://jabber.org/protocol/disco#items", "query");
    if (query == nullptr) return out;
    for (const xml::Element* item : query->children()) out.push_back(item->attribute_or("jid"));
    return out;
  }

  std::unique_ptr<store::TestDatabase> db_;
  std::unique_ptr<UserStore> users_;
  std::optional<TestServer> server_;
  muc::MucOptions options_;
  std::unique_ptr<MucService> service_;
};

// The service's disco#info, to the byte: what clients have seen so far.
TEST_F(MucServiceTest, ServiceDiscoInfoIsExactly) {
  xml::Element iq = parse("<iq type='get' id='i' from='u@a.example/r' to='conference.a.example'>"
                          "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  service().receive(iq, jid("u@a.example/r"), jid("conference.a.example"));
  ASSERT_FALSE(server_->sent.empty());
  std::string text;
  server_->sent.back().serialize(text);
  EXPECT_EQ(text,
            "<iq xmlns='jabber:client' type='result' id='i' from='conference.a.example' to='u@a.example/r'>"
            "<query xmlns='http://jabber.org/protocol/disco#info'>"
            "<identity category='conference' type='text' name='Chatrooms'/>"
            "<feature var='http://jabber.org/protocol/disco#info'/>"
            "<feature var='http://jabber.org/protocol/disco#items'/>"
            "<feature var='http://jabber.org/protocol/muc'/></query></iq>");
}

TEST_F(MucServiceTest, AnyoneCreatesRoomsByDefault) {
  join("room", "u@b.example/r");
  EXPECT_EQ(service().rooms(), 1u);
}

TEST_F(MucServiceTest, AdminOnlyCreationRefusesOthersWithNotAllowed) {
  options_.set_restrict_room_creation("admin");
  join("room", "u@a.example/r");
  EXPECT_EQ(service().rooms(), 0u);
  EXPECT_EQ(last_error(), "not-allowed");
  join("room", "admin@a.example/r");
  EXPECT_EQ(service().rooms(), 1u);
}

TEST_F(MucServiceTest, LocalCreationIsForTheParentHostsUsers) {
  options_.set_restrict_room_creation("local");
  join("room", "u@b.example/r");
  EXPECT_EQ(service().rooms(), 0u);
  EXPECT_EQ(last_error(), "not-allowed");
  join("room", "u@a.example/r");
  EXPECT_EQ(service().rooms(), 1u);
}

TEST_F(MucServiceTest, TheServiceAndUserLimitsRefuseWithResourceConstraint) {
  ASSERT_EQ(RoomStore(*users_, "conference.a.example").save("one", persistent_room(std::time(nullptr))),
            RoomStore::Outcome::kStored);
  ASSERT_EQ(RoomStore(*users_, "conference.a.example").save("two", persistent_room(std::time(nullptr))),
            RoomStore::Outcome::kStored);
  options_.set_max_rooms_per_user(2);
  join("three", "owner@a.example/r");  // owns two already
  EXPECT_EQ(last_error(), "resource-constraint");
  EXPECT_EQ(service().rooms(), 2u);
  join("three", "other@a.example/r");
  EXPECT_EQ(service().rooms(), 3u);
  options_.set_max_rooms(3);
  service().configure(options_);
  join("four", "admin@a.example/r");
  EXPECT_EQ(last_error(), "resource-constraint");
  EXPECT_EQ(service().rooms(), 3u);
}

// One other server of many user names cannot fill the service: muc_max_rooms_per_domain
// counts the rooms its users created (whoever owns them now); this server's users are exempt.
TEST_F(MucServiceTest, ADomainsUsersCreateAtMostMaxRoomsPerDomain) {
  options_.set_room_locking(false);
  options_.set_room_default_persistent(true);
  options_.set_max_rooms_per_domain(3);
  RoomState old = persistent_room(std::time(nullptr));  // stored before creators were kept
  old.affiliations = {{"x@b.example", {Affiliation::kOwner, "", ""}}};
  ASSERT_EQ(RoomStore(*users_, "conference.a.example").save("old", old), RoomStore::Outcome::kStored);
  join("one", "u1@b.example/r");
  join("two", "u2@b.example/r");
  EXPECT_EQ(service().rooms(), 3u);
  // Ownership given away still counts against the creator's domain.
  std::string to = "two@conference.a.example";
  service().receive(parse("<iq type='set' id='o' from='u2@b.example/r' to='" + to +
                          "'><query xmlns='http://jabber.org/protocol/muc#admin'>"
                          "<item jid='z@c.example' affiliation='owner'/></query></iq>"),
                    jid("u2@b.example/r"), jid(to));
  service().receive(parse("<iq type='set' id='p' from='u2@b.example/r' to='" + to +
                          "'><query xmlns='http://jabber.org/protocol/muc#admin'>"
                          "<item jid='u2@b.example' affiliation='none'/></query></iq>"),
                    jid("u2@b.example/r"), jid(to));
  ASSERT_EQ(server_->sent.back().attribute_or("type"), "result");
  join("three", "u3@b.example/r");
  EXPECT_EQ(last_error(), "resource-constraint");
  EXPECT_EQ(service().rooms(), 3u);
  join("three", "u@c.example/r");  // another domain
  join("four", "u@a.example/r");   // this server's
  EXPECT_EQ(service().rooms(), 5u);
  // The creator's domain survives a restart with the room.
  service_.reset();
  ASSERT_TRUE(users_->commit());
  join("five", "u4@b.example/r");
  EXPECT_EQ(last_error(), "resource-constraint");
  options_.set_max_rooms_per_domain(4);
  service().configure(options_);
  join("five", "u4@b.example/r");
  EXPECT_EQ(service().rooms(), 6u);
  // Its subdomains share its count: a.b.example does not get rooms of its own.
  join("six", "u@x.b.example/r");
  EXPECT_EQ(last_error(), "resource-constraint");
  EXPECT_EQ(service().rooms(), 6u);
}

// A first join the room refuses leaves no room, even when rooms are persistent by default.
TEST_F(MucServiceTest, ARefusedFirstJoinLeavesNoRoom) {
  options_.set_room_default_persistent(true);
  options_.set_max_nick_length(4);
  join("r", "u@a.example/r");  // the nickname "nick" fits
  EXPECT_EQ(service().rooms(), 1u);
  std::string to = "s@conference.a.example/toolong";
  service().receive(parse("<presence from='u@a.example/r' to='" + to + "'/>"), jid("u@a.example/r"), jid(to));
  EXPECT_EQ(last_error(), "not-acceptable");
  EXPECT_EQ(service().rooms(), 1u);
}

TEST_F(MucServiceTest, PersistentRoomsAreLoadedAndListedUnlessLocked) {
  const std::int64_t now = std::time(nullptr);
  RoomStore rooms(*users_, "conference.a.example");
  ASSERT_EQ(rooms.save("kept", persistent_room(now)), RoomStore::Outcome::kStored);
  RoomState hidden = persistent_room(now);
  hidden.config.public_room = false;
  ASSERT_EQ(rooms.save("hidden", hidden), RoomStore::Outcome::kStored);
  RoomState locked = persistent_room(now);
  locked.locked = true;
  ASSERT_EQ(rooms.save("locked", locked), RoomStore::Outcome::kStored);
  EXPECT_EQ(listed(), std::vector<std::string>{"kept@conference.a.example"});
  EXPECT_EQ(service().rooms(), 3u);
}

TEST_F(MucServiceTest, ALockedRoomPastItsTimeoutIsDestroyedAndForgotten) {
  RoomState locked = persistent_room(std::time(nullptr) - 301);
  locked.locked = true;
  ASSERT_EQ(RoomStore(*users_, "conference.a.example").save("late", locked), RoomStore::Outcome::kStored);
  RoomState fresh = persistent_room(std::time(nullptr));
  fresh.locked = true;
  ASSERT_EQ(RoomStore(*users_, "conference.a.example").save("fresh", fresh), RoomStore::Outcome::kStored);
  listed();  // loads
  EXPECT_EQ(service().rooms(), 2u);
  service().sweep();
  EXPECT_EQ(service().rooms(), 1u);
  ASSERT_TRUE(users_->commit());
  EXPECT_EQ(db_->number("SELECT count(*) FROM muc_room WHERE room = 'late'"), 0);
  EXPECT_EQ(db_->number("SELECT count(*) FROM muc_room WHERE room = 'fresh'"), 1);
}

TEST_F(MucServiceTest, ATombstoneAnswersGoneUntilItExpiresOrAnAdminCreates) {
  RoomStore rooms(*users_, "conference.a.example");
  ASSERT_EQ(rooms.set_tombstone("old", {std::time(nullptr) + 1000, "Moved", "new@conference.a.example"}),
            RoomStore::Outcome::kStored);
  ASSERT_EQ(rooms.set_tombstone("expired", {std::time(nullptr) - 1, "", ""}), RoomStore::Outcome::kStored);
  join("old", "u@a.example/r");
  EXPECT_EQ(service().rooms(), 0u);
  ASSERT_EQ(last_error(), "gone");
  const xml::Element* error = server_->sent.back().child("jabber:client", "error");
  EXPECT_EQ(error->attribute_or("type"), "cancel");
  EXPECT_EQ(error->child("urn:ietf:params:xml:ns:xmpp-stanzas", "gone")->text(), "xmpp:new@conference.a.example?join");
  EXPECT_EQ(error->child("urn:ietf:params:xml:ns:xmpp-stanzas", "text")->text(), "Moved");
  EXPECT_EQ(listed(), std::vector<std::string>{});
  join("expired", "u@a.example/r");
  EXPECT_EQ(service().rooms(), 1u);
  join("old", "admin@a.example/r");
  EXPECT_EQ(service().rooms(), 2u);
  ASSERT_TRUE(users_->commit());
  EXPECT_EQ(db_->number("SELECT count(*) FROM muc_tombstone"), 0);
}

// Tombstones are held to muc_max_rooms: the soonest to expire makes way for a new one.
TEST_F(MucServiceTest, TombstonesAreHeldToMaxRooms) {
  options_.set_max_rooms(2);
  RoomStore rooms(*users_, "conference.a.example");
  ASSERT_EQ(rooms.set_tombstone("soon", {std::time(nullptr) + 100, "", ""}), RoomStore::Outcome::kStored);
  ASSERT_EQ(rooms.set_tombstone("late", {std::time(nullptr) + 1000, "", ""}), RoomStore::Outcome::kStored);
  ASSERT_EQ(rooms.save("kept", persistent_room(std::time(nullptr))), RoomStore::Outcome::kStored);
  xml::Element destroy = parse("<iq type='set' id='d' from='owner@a.example/r' to='kept@conference.a.example'>"
                               "<query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>");
  service().receive(destroy, jid("owner@a.example/r"), jid("kept@conference.a.example"));
  EXPECT_EQ(service().rooms(), 0u);
  ASSERT_TRUE(users_->commit());
  EXPECT_EQ(db_->number("SELECT count(*) FROM muc_tombstone"), 2);
  EXPECT_EQ(db_->number("SELECT count(*) FROM muc_tombstone WHERE room = 'soon'"), 0);
  join("soon", "u@a.example/r");
  EXPECT_EQ(service().rooms(), 1u);
  join("kept", "u@a.example/r");
  EXPECT_EQ(last_error(), "gone");
}

// The room's side of muc_mam, through the RoomHost the rooms see.
TEST_F(MucServiceTest, ArchivedMessagesAreStampedAndQueriedByThoseWhoMayEnter) {
  options_.set_mam(true);
  muc::RoomHost& host = service();
  RoomState state;
  state.config.members_only = true;
  state.affiliations["m@a.example"] = {Affiliation::kMember, "", ""};
  state.affiliations["bad@a.example"] = {Affiliation::kOutcast, "", ""};
  muc::Room room(host, "r@conference.a.example", state);
  for (const char* body : {"one", "two", "three"}) {
    xml::Element m = parse(std::string("<message type='groupchat' from='r@conference.a.example/m'><body>") + body +
                           "</body><stanza-id xmlns='urn:xmpp:sid:0' by='r@conference.a.example' id='forged'/></message>");
    host.archive(room, m, "m@a.example");
    const xml::Element* sid = m.child("urn:xmpp:sid:0", "stanza-id");
    ASSERT_NE(sid, nullptr);
    EXPECT_NE(sid->attribute_or("id"), "forged");
    EXPECT_EQ(m.children().size(), 2u);  // the forged one is gone
  }
  xml::Element no_body = parse("<message type='groupchat' from='r@conference.a.example/m'><subject>s</subject></message>");
  host.archive(room, no_body, "m@a.example");
  EXPECT_EQ(no_body.child("urn:xmpp:sid:0", "stanza-id"), nullptr);
  std::vector<std::string> features;
  host.room_features(room, features);
  EXPECT_EQ(features, (std::vector<std::string>{"urn:xmpp:mam:2", "urn:xmpp:sid:0"}));

  auto query = [&](std::string_view from) {
    server_->sent.clear();
    xml::Element iq = parse("<iq type='set' id='q' from='" + std::string(from) +
                            "' to='r@conference.a.example'><query xmlns='urn:xmpp:mam:2' queryid='x'>"
                            "<set xmlns='http://jabber.org/protocol/rsm'><max>2</max></set></query></iq>");
    EXPECT_TRUE(host.room_iq(room, iq, *iq.children().front(), jid(from)));
  };
  query("m@a.example/r");
  ASSERT_EQ(server_->sent.size(), 3u);
  const xml::Element* result = server_->sent[0].child("urn:xmpp:mam:2", "result");
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->attribute_or("queryid"), "x");
  EXPECT_EQ(server_->sent[0].attribute_or("from"), "r@conference.a.example");
  EXPECT_EQ(server_->sent[0].attribute_or("to"), "m@a.example/r");
  const xml::Element* fin = server_->sent[2].child("urn:xmpp:mam:2", "fin");
  ASSERT_NE(fin, nullptr);
  EXPECT_EQ(fin->attribute("complete"), nullptr);  // three, a page of two
  query("stranger@b.example/r");
  EXPECT_EQ(last_error(), "forbidden");
  query("bad@a.example/r");
  EXPECT_EQ(last_error(), "forbidden");
}

// After a restart, an archived room's history on entering comes from its archive: the newest
// messages up to its history length, oldest first, with the times they were sent.
class MucHistoryTest : public MucServiceTest {
 protected:
  static constexpr std::int64_t kT0 = 1700000000;  // 2023-11-14T22:13:20Z
  void SetUp() override {
    MucServiceTest::SetUp();
    options_.set_mam(true);
    RoomState kept = persistent_room(std::time(nullptr));
    kept.config.history_length = 2;
    ASSERT_EQ(RoomStore(*users_, "conference.a.example").save("kept", kept), RoomStore::Outcome::kStored);
    ASSERT_TRUE(users_->commit());
  }
  void archive(std::string id, std::int64_t stamp, std::string stanza) {
    ArchiveStore::Entry e;
    e.owner = "kept@conference.a.example";
    e.id = std::move(id);
    e.with = "kept@conference.a.example/old";
    e.stamp = stamp;
    e.stanza = std::move(stanza);
    ASSERT_TRUE(server_->archive()->append(std::move(e)));
  }
  void archive_body(std::string id, std::int64_t stamp, std::string_view body) {
    archive(std::move(id), stamp,
            "<message xmlns='jabber:client' type='groupchat' id='m' from='kept@conference.a.example/old'><body>" +
                std::string(body) + "</body></message>");
  }
  // Enters as `from` (nickname its localpart) with `history` inside <x/>; the history it got.
  std::vector<const xml::Element*> enter(std::string_view from, std::string_view history = "") {
    server_->sent.clear();
    std::string to = "kept@conference.a.example/" + std::string(from.substr(0, from.find('@')));
    service().receive(parse("<presence from='" + std::string(from) + "' to='" + to +
                            "'><x xmlns='http://jabber.org/protocol/muc'>" + std::string(history) + "</x></presence>"),
                      jid(from), jid(to));
    std::vector<const xml::Element*> out;
    for (const xml::Element& e : server_->sent)
      if (e.name() == "message" && e.child("jabber:client", "body") != nullptr && e.attribute_or("to") == from)
        out.push_back(&e);
    return out;
  }
};

TEST_F(MucHistoryTest, ARoomLoadedFromTheStoreTakesItsHistoryFromItsArchive) {
  archive_body("one", kT0, "one");
  archive_body("two", kT0 + 60, "two");
  archive_body("three", kT0 + 120, "three");
  ASSERT_TRUE(server_->archive()->flush());
  std::vector<const xml::Element*> got = enter("u@b.example/r");
  ASSERT_EQ(got.size(), 2u);  // the room's history length
  const std::pair<std::string, std::int64_t> expected[] = {{"two", kT0 + 60}, {"three", kT0 + 120}};
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(got[i]->child("jabber:client", "body")->text(), expected[i].first);
    EXPECT_EQ(got[i]->attribute_or("from"), "kept@conference.a.example/old");
    const xml::Element* delay = got[i]->child("urn:xmpp:delay", "delay");
    ASSERT_NE(delay, nullptr);
    EXPECT_EQ(delay->attribute_or("stamp"), mam::format_datetime(expected[i].second));
    EXPECT_EQ(delay->attribute_or("from"), "kept@conference.a.example");
    const xml::Element* sid = got[i]->child("urn:xmpp:sid:0", "stanza-id");
    ASSERT_NE(sid, nullptr);
    EXPECT_EQ(sid->attribute_or("id"), expected[i].first);
  }
  // Read once: the next joiner gets the same, not twice as much; <history seconds/> counts
  // from the original times (these are years old).
  EXPECT_EQ(enter("v@b.example/r").size(), 2u);
  EXPECT_EQ(enter("w@b.example/r", "<history seconds='3600'/>").size(), 0u);
}

// A room first addressed while muc_mam is off is refilled once a reload turns it on.
TEST_F(MucHistoryTest, ARoomAddressedWhileMucMamIsOffIsRefilledWhenItIsOn) {
  archive_body("one", kT0, "one");
  ASSERT_TRUE(server_->archive()->flush());
  options_.set_mam(false);
  EXPECT_EQ(enter("u@b.example/r").size(), 0u);
  options_.set_mam(true);
  service().configure(options_);  // a reload
  EXPECT_EQ(enter("v@b.example/r").size(), 1u);
}

TEST_F(MucHistoryTest, ADamagedArchivedMessageIsLeftOut) {
  archive_body("one", kT0, "one");
  archive("bad", kT0 + 60, "<message xmlns='jabber:client'><body>cut");
  ASSERT_TRUE(server_->archive()->flush());
  std::vector<const xml::Element*> got = enter("u@b.example/r");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->child("jabber:client", "body")->text(), "one");
}

TEST_F(MucHistoryTest, ARoomThatDoesNotArchiveHasNoHistoryAfterARestart) {
  archive_body("one", kT0, "one");
  ASSERT_TRUE(server_->archive()->flush());
  options_.set_mam(false);
  EXPECT_EQ(enter("u@b.example/r").size(), 0u);
}

TEST_F(MucHistoryTest, AnUnreadableArchiveLeavesTheHistoryEmptyAndTheRoomWorking) {
  std::string error;
  ASSERT_TRUE(db_->execute("DROP TABLE archive", error)) << error;
  EXPECT_EQ(enter("u@b.example/r").size(), 0u);
  bool self_presence = false;
  for (const xml::Element& e : server_->sent)
    if (e.name() == "presence" && e.attribute_or("to") == "u@b.example/r" && !xmpp::is_error(e)) self_presence = true;
  EXPECT_TRUE(self_presence);
}

TEST_F(MucServiceTest, OwnersSetTheRoomsVcardAndAnyoneReadsIt) {
  options_.set_vcard(true);
  muc::RoomHost& host = service();
  RoomState state;
  state.affiliations["owner@a.example"] = {Affiliation::kOwner, "", ""};
  muc::Room room(host, "r@conference.a.example", state);
  auto iq = [&](std::string_view from, std::string_view type, std::string_view vcard) {
    server_->sent.clear();
    xml::Element stanza = parse("<iq type='" + std::string(type) + "' id='v' from='" + std::string(from) +
                                "' to='r@conference.a.example'>" + std::string(vcard) + "</iq>");
    EXPECT_TRUE(host.room_iq(room, stanza, *stanza.children().front(), jid(from)));
  };
  const std::string vcard = "<vCard xmlns='vcard-temp'><FN>Room</FN><PHOTO><TYPE>image/png</TYPE>"
                            "<BINVAL>aGVsbG8=</BINVAL></PHOTO></vCard>";
  iq("u@a.example/r", "set", vcard);
  EXPECT_EQ(last_error(), "forbidden");
  iq("owner@a.example/r", "set", vcard);
  ASSERT_FALSE(server_->sent.empty());
  EXPECT_EQ(server_->sent.front().attribute_or("type"), "result");
  iq("u@b.example/r", "get", "<vCard xmlns='vcard-temp'/>");
  ASSERT_EQ(server_->sent.size(), 1u);
  const xml::Element* got = server_->sent[0].child("vcard-temp", "vCard");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->child("vcard-temp", "FN")->text(), "Room");
  std::vector<std::string> features;
  host.room_features(room, features);
  EXPECT_EQ(features, std::vector<std::string>{"vcard-temp"});
}

// As Prosody: a room that is gone (here emptied, not persistent) takes its archive and vCard
// with it, so whoever creates the name next reads none of the old room's.
TEST_F(MucServiceTest, ARoomReCreatedUnderTheSameNameHasNoOldHistoryNorVcard) {
  options_.set_mam(true);
  options_.set_vcard(true);
  auto deliver = [&](std::string_view from, std::string_view to, std::string_view text) {
    server_->sent.clear();
    service().receive(parse(text), jid(from), jid(to));
  };
  const std::string room = "r@conference.a.example";
  join("r", "owner@a.example/x");
  deliver("owner@a.example/x", room,
          "<iq type='set' id='c' from='owner@a.example/x' to='r@conference.a.example'><query "
          "xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>");
  deliver("owner@a.example/x", room,
          "<message type='groupchat' from='owner@a.example/x' to='r@conference.a.example'><body>secret</body></message>");
  deliver("owner@a.example/x", room,
          "<iq type='set' id='v' from='owner@a.example/x' to='r@conference.a.example'>"
          "<vCard xmlns='vcard-temp'><FN>Old</FN></vCard></iq>");
  ASSERT_EQ(server_->sent.front().attribute_or("type"), "result");
  auto mam_query = [&](std::string_view from) {
    deliver(from, room,
            "<iq type='set' id='q' from='" + std::string(from) +
                "' to='r@conference.a.example'><query xmlns='urn:xmpp:mam:2'/></iq>");
  };
  mam_query("owner@a.example/x");
  ASSERT_EQ(server_->sent.size(), 2u);  // the message, then <fin/>
  deliver("owner@a.example/x", room + "/nick",
          "<presence type='unavailable' from='owner@a.example/x' to='r@conference.a.example/nick'/>");
  EXPECT_EQ(service().rooms(), 0u);

  join("r", "other@b.example/y");
  ASSERT_EQ(service().rooms(), 1u);
  mam_query("other@b.example/y");
  ASSERT_EQ(server_->sent.size(), 1u);
  EXPECT_NE(server_->sent[0].child("urn:xmpp:mam:2", "fin"), nullptr);
  deliver("other@b.example/y", room,
          "<iq type='get' id='g' from='other@b.example/y' to='r@conference.a.example'><vCard xmlns='vcard-temp'/></iq>");
  ASSERT_EQ(server_->sent.size(), 1u);
  const xml::Element* vcard = server_->sent[0].child("vcard-temp", "vCard");
  ASSERT_NE(vcard, nullptr);
  EXPECT_EQ(vcard->child("vcard-temp", "FN"), nullptr);
}

}  // namespace
}  // namespace xmppd::router

namespace xmppd::router {
namespace {

// Finding 1 of review 16: the router bounces a stanza to a gone session synchronously, into
// receive(); the room must not handle it (and remove that occupant, or free itself) while
// it is still walking its occupants: the bounce is handled once the broadcast is over.
class MucReentryTest : public MucServiceTest {
 protected:
  void enter(std::string_view from, std::string_view nick) {
    std::string to = "room@conference.a.example/" + std::string(nick);
    service().receive(parse("<presence from='" + std::string(from) + "' to='" + to +
                            "'><x xmlns='http://jabber.org/protocol/muc'/></presence>"),
                      jid(from), jid(to));
  }
  // Every stanza to `gone` is answered with service-unavailable, at once.
  void bounce_to(std::string gone) {
    server_->answer = [this, gone](const xml::Element& stanza) {
      if (stanza.attribute_or("to") != gone) return;
      xml::Element error = xmpp::error_reply(stanza, "cancel", "service-unavailable");
      service().receive(error, jid(error.attribute_or("from")), jid(error.attribute_or("to")));
    };
  }
  int count(std::string_view name, std::string_view to, std::string_view type) {
    int n = 0;
    for (const xml::Element& e : server_->sent)
      if (e.name() == name && e.attribute_or("to") == to && e.attribute_or("type") == type) ++n;
    return n;
  }
};

TEST_F(MucReentryTest, AGroupchatBouncedByAGoneSessionIsHandledAfterTheBroadcast) {
  options_.set_room_locking(false);
  enter("a@a.example/1", "a");
  enter("b@a.example/1", "b");
  enter("c@a.example/1", "c");
  bounce_to("b@a.example/1");
  server_->sent.clear();
  service().receive(parse("<message type='groupchat' from='a@a.example/1' to='room@conference.a.example'>"
                          "<body>hi</body></message>"),
                    jid("a@a.example/1"), jid("room@conference.a.example"));
  EXPECT_FALSE(server_->reentered);
  EXPECT_EQ(count("message", "a@a.example/1", "groupchat"), 1);
  EXPECT_EQ(count("message", "c@a.example/1", "groupchat"), 1);
  // Then b, whose session bounced, left.
  EXPECT_EQ(count("presence", "a@a.example/1", "unavailable"), 1);
  EXPECT_EQ(count("presence", "c@a.example/1", "unavailable"), 1);
}

TEST_F(MucReentryTest, APrivateMessageToItselfBouncedFreesTheRoomOnlyAfterwards) {
  options_.set_room_locking(false);
  enter("a@a.example/1", "a");
  ASSERT_EQ(service().rooms(), 1u);
  bounce_to("a@a.example/1");
  service().receive(parse("<message type='chat' from='a@a.example/1' to='room@conference.a.example/a'>"
                          "<body>hi</body></message>"),
                    jid("a@a.example/1"), jid("room@conference.a.example/a"));
  EXPECT_FALSE(server_->reentered);
  EXPECT_EQ(service().rooms(), 0u);  // emptied by the bounce, and not persistent
}

}  // namespace
}  // namespace xmppd::router
