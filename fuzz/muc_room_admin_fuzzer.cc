// What owners, admins and anyone send to a multi-user chat room's own JID
// (router/muc/room_owner.cc, room_admin.cc, room_disco.cc, room_forms.cc): muc#owner forms and
// <destroy/>, muc#admin items, disco, jabber:iq:register, from network bytes. The input is a
// sender (one byte: owner, admin, member, guest, outsider, service admin), the room's
// state (one byte: locked, members-only, whois, archiving offered) and the IQ's payload.
//
// Invariants: every get or set gets exactly one reply, to its sender; a refusal changes
// nothing and sends nothing else; only owners change the configuration or the lock; nobody
// but admins and owners changes anyone else's affiliation; a room that had an owner keeps
// one; a configuration stays within the service's limits.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/xml_invariants.h"
#include "router/muc/room.h"
#include "router/muc/room_forms.h"
#include "router/muc/test_room_host.h"
#include "xml/fragment.h"

using xmppd::fuzz::fail;

namespace xmppd::router::muc {

// The Room's friend for tests: puts occupants in without a join.
class RoomTest {
 public:
  static void enter(Room& room, const std::string& nick, const std::string& full, Role role) {
    Occupant& occupant = room.occupants_[nick];
    occupant.nick = nick;
    occupant.bare = full.substr(0, full.find('/'));
    occupant.role = role;
    occupant.sessions.emplace(full, xml::Element("jabber:client", "presence"));
    occupant.last_session = full;
    room.nick_of_[full] = nick;
  }
};

namespace {

constexpr const char* kSenders[] = {"owner@example.org/a", "admin@example.org/b",    "member@example.org/c",
                                    "guest@example.net/d", "outsider@example.com/e", "root@example.org/f"};

RoomState initial_state(std::uint8_t flags) {
  RoomState state;
  state.locked = (flags & 1) != 0;
  state.config.members_only = (flags & 2) != 0;
  state.config.whois = (flags & 4) != 0 ? Whois::kAnyone : Whois::kModerators;
  state.affiliations["owner@example.org"] = {Affiliation::kOwner, "boss", {}};
  state.affiliations["admin@example.org"] = {Affiliation::kAdmin, {}, {}};
  state.affiliations["member@example.org"] = {Affiliation::kMember, "friend", {}};
  state.affiliations["bad@example.com"] = {Affiliation::kOutcast, {}, {}};
  return state;
}

struct Snapshot {
  RoomConfig config;
  std::map<std::string, AffiliationEntry, std::less<>> affiliations;
  bool locked;
  std::size_t occupants;
};

Snapshot snapshot(const Room& room) {
  return {room.state().config, room.state().affiliations, room.state().locked, room.occupants().size()};
}

std::size_t owners(const std::map<std::string, AffiliationEntry, std::less<>>& affiliations) {
  std::size_t n = 0;
  for (const auto& [bare, entry] : affiliations) n += entry.affiliation == Affiliation::kOwner;
  return n;
}

void check(const Snapshot& before, const Room& room, const TestRoomHost& host, const std::vector<xml::Element>& sent,
           std::string_view sender, Affiliation actor, const std::string& text) {
  int replies = 0;
  const xml::Element* reply = nullptr;
  for (const xml::Element& stanza : sent)
    if (stanza.name() == "iq") ++replies, reply = &stanza;
  if (replies != 1 || reply->attribute_or("to") != sender || reply->attribute_or("id") != "f")
    fail("not exactly one reply to the sender", text);
  Snapshot after = snapshot(room);
  if (reply->attribute_or("type") == "error") {
    if (sent.size() != 1) fail("a refusal sent more than its error", text);
    if (!(after.config == before.config) || after.affiliations != before.affiliations ||
        after.locked != before.locked || after.occupants != before.occupants || host.changes != 0 || host.room_gone)
      fail("a refusal changed the room", text);
    return;
  }
  if (actor != Affiliation::kOwner && (!(after.config == before.config) || after.locked != before.locked))
    fail("a non-owner changed the configuration", text);
  std::string own_bare(sender.substr(0, sender.find('/')));
  if (actor < Affiliation::kAdmin)
    for (const auto& [bare, entry] : after.affiliations)
      if (bare != own_bare && (!before.affiliations.contains(bare) || !(before.affiliations.at(bare) == entry)))
        fail("a non-admin changed someone else's affiliation", text);
  if (!host.room_gone && owners(before.affiliations) != 0 && owners(after.affiliations) == 0)
    fail("the room lost its last owner", text);
  const MucOptions& options = host.options();
  if (after.config.max_occupants > options.max_occupants() ||
      after.config.history_length > options.max_history_messages() || !valid_display_text(after.config.name) ||
      !valid_display_text(after.config.description))
    fail("a configuration outside the service's limits", text);
  if (after.config.members_only && !before.config.members_only)
    for (const auto& [nick, occupant] : room.occupants())
      if (room.affiliation_of(occupant.bare) < Affiliation::kMember) fail("members-only kept a non-member", text);
}

}  // namespace
}  // namespace xmppd::router::muc

namespace muc = xmppd::router::muc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const std::string sender = muc::kSenders[input.ConsumeIntegralInRange<int>(0, 5)];
  const std::uint8_t flags = input.ConsumeIntegral<std::uint8_t>();
  const bool get = input.ConsumeBool();
  const std::string text = input.ConsumeRemainingBytesAsString();
  xmppd::xml::FragmentParser parser("jabber:client", xmppd::xml::FragmentParser::Content::kWhole);
  auto payload = parser.parse(text, 64 << 10, nullptr);
  if (!payload) return 0;

  muc::TestRoomHost host;
  host.admins().push_back("root@example.org");
  host.mutable_options().set_mam((flags & 8) != 0);
  host.mutable_options().set_max_form_bytes(4096);
  muc::Room room(host, "room@conference.example.org", muc::initial_state(flags));
  muc::RoomTest::enter(room, "boss", muc::kSenders[0], muc::Role::kModerator);
  muc::RoomTest::enter(room, "deputy", muc::kSenders[1], muc::Role::kModerator);
  muc::RoomTest::enter(room, "friend", muc::kSenders[2], muc::Role::kParticipant);
  if ((flags & 2) == 0) muc::RoomTest::enter(room, "stranger", muc::kSenders[3], muc::Role::kVisitor);

  xmppd::xml::Element iq("jabber:client", "iq",
                         {{"type", get ? "get" : "set"}, {"id", "f"}, {"from", sender}, {"to", room.jid()}});
  iq.add_child(std::move(*payload));
  muc::Snapshot before = muc::snapshot(room);
  muc::Affiliation actor = room.affiliation_of(sender.substr(0, sender.find('/')));
  room.receive(iq, *xmppd::xmpp::Jid::parse(sender), *xmppd::xmpp::Jid::parse(room.jid()));
  muc::check(before, room, host, host.take(), sender, actor, text);
  return 0;
}
