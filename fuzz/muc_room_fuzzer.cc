// One XEP-0045 room (router/muc/room*.cc) fed stanzas from the input, through a TestRoomHost,
// as the MUC service feeds it: the room's configuration and limits from the input, three
// occupants joined first, then stanzas parsed as a link parses them, each from one of a few
// real JIDs (two sessions of one user among them) to the room, an occupant or a nickname
// the input names, with the clock moving as the input says.
//
// Invariants after each stanza, beyond "no crash, no sanitizer report": everything the room
// sends is from the room or one of its occupant JIDs, to someone, parses again, and carries
// at most one <occupant-id/>, the room's own for the sender's nickname when it speaks as an
// occupant; the room's books agree (each session maps to its occupant's nickname and back,
// each occupant has a session, its latest among them), no occupant is an outcast or without
// a role; history stays within max_history_messages; a room the host was told is gone
// stops taking stanzas.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "fuzz/xml_invariants.h"
#include "router/muc/room.h"
#include "router/muc/test_room_host.h"
#include "xml/fragment.h"

using xmppd::fuzz::fail;
namespace muc = xmppd::router::muc;
namespace xml = xmppd::xml;

namespace xmppd::router::muc {

// The fuzz target's view of the room's private books (room.h names it a friend).
class RoomTest {
 public:
  static void check(const Room& room, const MucOptions& options, const std::string& input) {
    std::size_t sessions = 0;
    for (const auto& [nick, occupant] : room.occupants_) {
      if (occupant.nick != nick) fail("an occupant filed under another nickname", input);
      if (occupant.sessions.empty()) fail("an occupant without a session", input);
      if (!occupant.sessions.contains(occupant.last_session)) fail("the latest session is not a session", input);
      if (room.affiliation_of(occupant.bare) == Affiliation::kOutcast) fail("an outcast in the room", input);
      if (occupant.role == Role::kNone) fail("an occupant without a role", input);
      for (const auto& [full, presence] : occupant.sessions) {
        auto it = room.nick_of_.find(full);
        if (it == room.nick_of_.end() || it->second != nick) fail("a session not mapped to its nickname", input);
      }
      sessions += occupant.sessions.size();
    }
    if (sessions != room.nick_of_.size()) fail("a mapped session that belongs to no occupant", input);
    if (room.history_.size() > options.max_history_messages()) fail("history past max_history_messages", input);
  }

  // The occupant id each nickname's messages and presence must carry.
  static std::map<std::string, std::string> ids(const Room& room) {
    std::map<std::string, std::string> out;
    for (const auto& [nick, occupant] : room.occupants_) out[nick] = occupant.occupant_id;
    return out;
  }
};

}  // namespace xmppd::router::muc

namespace {

constexpr std::string_view kRoom = "room@conference.example.org";
constexpr std::string_view kSenders[] = {"owner@example.org/home", "alice@example.org/phone",
                                         "alice@example.org/laptop", "bob@example.org/laptop", "eve@evil.example/x"};
constexpr std::string_view kNicks[] = {"boss", "alice", "bob", "eve", "Alice"};

void configure(FuzzedDataProvider& in, muc::TestRoomHost& host, muc::RoomState& state) {
  muc::MucOptions& o = host.mutable_options();
  // At least the length of the first occupants' nicknames, so that they enter.
  o.set_max_nick_length(in.ConsumeIntegralInRange<std::uint32_t>(5, 64));
  o.set_max_history_messages(in.ConsumeIntegralInRange<std::uint32_t>(0, 30));
  o.set_max_char_count(in.ConsumeIntegralInRange<std::uint32_t>(0, 6000));
  o.set_max_line_count(in.ConsumeIntegralInRange<std::uint32_t>(0, 30));
  o.set_max_subject_length(in.ConsumeIntegralInRange<std::uint32_t>(0, 100));
  o.set_event_rate(in.ConsumeBool() ? 0 : in.ConsumeFloatingPointInRange<double>(0.01, 10));
  o.set_burst_factor(in.ConsumeFloatingPointInRange<double>(0, 10));
  o.set_mam(in.ConsumeBool());
  muc::RoomConfig& c = state.config;
  c.members_only = in.ConsumeBool();
  c.moderated = in.ConsumeBool();
  c.persistent = in.ConsumeBool();
  c.change_subject = in.ConsumeBool();
  c.allow_invites = in.ConsumeBool();
  c.whois = in.ConsumeBool() ? muc::Whois::kAnyone : muc::Whois::kModerators;
  c.allow_pm = static_cast<muc::WhoMay>(in.ConsumeIntegralInRange<int>(0, 3));
  c.max_occupants = in.ConsumeIntegralInRange<std::size_t>(0, 4);
  c.history_length = in.ConsumeIntegralInRange<std::size_t>(0, 30);
  if (in.ConsumeBool()) c.password = "pw";
  state.locked = in.ConsumeBool();
  // The owner enters even a locked room; the others may be refused, as the input has it.
  state.affiliations["owner@example.org"].affiliation = muc::Affiliation::kOwner;
  if (in.ConsumeBool()) state.affiliations["alice@example.org"] = {muc::Affiliation::kMember, "alice", ""};
  if (in.ConsumeBool()) state.affiliations["eve@evil.example"].affiliation = muc::Affiliation::kOutcast;
}

// Delivers one stanza as routing does: 'from' and 'to' stamped on it and handed beside it.
void deliver(muc::Room& room, xml::Element stanza, std::string_view from, std::string_view to) {
  auto from_jid = xmppd::xmpp::Jid::parse(from);
  auto to_jid = xmppd::xmpp::Jid::parse(to);
  if (!from_jid || !to_jid) return;
  stanza.set_attribute("from", from_jid->full());
  stanza.set_attribute("to", to_jid->full());
  room.receive(stanza, *from_jid, *to_jid);
}

void check_sent(muc::TestRoomHost& host, const std::map<std::string, std::string>& ids, const std::string& input) {
  for (const xml::Element& s : host.take()) {
    std::string from = s.attribute_or("from");
    if (from != kRoom && !(from.starts_with(kRoom) && from.size() > kRoom.size() + 1 && from[kRoom.size()] == '/'))
      fail("the room spoke as someone else", from + "\n" + input);
    if (s.attribute_or("to").empty()) fail("a stanza to nobody", input);
    std::string text;
    s.serialize(text);
    if (!xml::parse_fragment(text, "jabber:client", 1 << 20)) fail("a stanza that does not parse again", text);
    int count = 0;
    std::string id;
    for (const xml::Element* c : s.children())
      if (c->is("urn:xmpp:occupant-id:0", "occupant-id")) {
        ++count;
        id = c->attribute_or("id");
      }
    if (count > 1) fail("more than one occupant-id", text);
    // History keeps the id of whoever spoke then, which another may hold the nickname of now.
    bool history = s.child("urn:xmpp:delay", "delay") != nullptr;
    if (count == 1 && !history && from.size() > kRoom.size()) {
      auto it = ids.find(from.substr(kRoom.size() + 1));
      if (it != ids.end() && it->second != id) fail("an occupant-id not the room's for that nickname", text);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string input(reinterpret_cast<const char*>(data), size);
  muc::TestRoomHost host;
  muc::RoomState state;
  configure(in, host, state);
  muc::Room room(host, std::string(kRoom), std::move(state));
  const char* joins[][2] = {
      {"owner@example.org/home", "boss"}, {"alice@example.org/phone", "alice"}, {"bob@example.org/laptop", "bob"}};
  for (const auto& [from, nick] : joins) {
    xml::Element presence("jabber:client", "presence");
    xml::Element& x = presence.add_child(xml::Element(muc::kMucNs, "x"));
    x.add_child(xml::Element(muc::kMucNs, "password")).add_text("pw");
    deliver(room, std::move(presence), from, std::string(kRoom) + "/" + nick);
  }
  check_sent(host, muc::RoomTest::ids(room), input);
  muc::RoomTest::check(room, host.options(), input);

  xml::FragmentParser parser("jabber:client");
  while (in.remaining_bytes() > 0 && !host.room_gone) {
    std::string_view from = kSenders[in.ConsumeIntegralInRange<std::size_t>(0, std::size(kSenders) - 1)];
    std::string to(kRoom);
    int addressing = in.ConsumeIntegralInRange<int>(0, 2);
    if (addressing == 1)
      to += "/" + std::string(kNicks[in.ConsumeIntegralInRange<std::size_t>(0, std::size(kNicks) - 1)]);
    host.set_now_ms(host.now_ms() + in.ConsumeIntegralInRange<std::int64_t>(0, 100'000));
    auto stanza = parser.parse(in.ConsumeRandomLengthString(8192), 1 << 16);
    if (!stanza) continue;
    // A nickname of the input's own: the resource of the stanza's 'to', which the parser
    // has held to XML's characters as routing's parser would have.
    if (addressing == 2) {
      std::string given = stanza->attribute_or("to");
      if (std::size_t slash = given.find('/'); slash != std::string::npos) to += given.substr(slash);
    }
    // Before the stanza: the ids of the nicknames it may speak from (a leaving occupant's
    // last presence carries its id too).
    auto ids = muc::RoomTest::ids(room);
    deliver(room, std::move(*stanza), from, to);
    auto after = muc::RoomTest::ids(room);
    ids.insert(after.begin(), after.end());
    check_sent(host, ids, input);
    muc::RoomTest::check(room, host.options(), input);
  }
  return 0;
}
