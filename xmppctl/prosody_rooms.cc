// A Prosody 0.12 room file into xmppd's RoomState (prosody_rooms.h): the room's _data (its
// configuration and subject), its affiliations and the nicknames registered with them.
#include "xmppctl/prosody_rooms.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/utf8_text.h"
#include "xmpp/jid.h"
#include "xmppctl/prosody_data.h"

namespace xmppd::ctl::prosody_import {
namespace {

using prosody::Value;
using router::muc::Affiliation;
using router::muc::RoomConfig;
using router::muc::RoomState;
using router::muc::Whois;

// Bounds on what a room keeps, well above what Prosody's own forms let an owner set.
constexpr std::size_t kMaxText = 64 * 1024;
constexpr double kMaxCount = 1'000'000;
constexpr std::size_t kMaxAffiliations = 10'000;  // the router's cap per room

// A room refused: the first problem found, with the line of the value at fault.
struct Refusal {
  std::string path;
  std::string error;
  bool fail(const Value& at, const std::string& message) {
    if (error.empty()) error = path + ":" + std::to_string(at.line) + ": " + message;
    return false;
  }
};

// Text XML 1.0 can carry: UTF-8, no control characters but tab, newline and return.
bool xml_text(std::string_view text) {
  if (text.size() > kMaxText || !valid_utf8(text)) return false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f) return false;
  }
  return true;
}

bool read_text(const Value& data, std::string_view key, std::string& out, Refusal& r) {
  const Value* v = data.get(key);
  if (v == nullptr || v->kind == Value::Kind::kNil) return true;
  if (!v->is_string() || !xml_text(v->string))
    return r.fail(*v, std::string(key) + " is not a text of at most " + std::to_string(kMaxText) + " bytes");
  out = v->string;
  return true;
}

bool read_bool(const Value& data, std::string_view key, bool& out, Refusal& r) {
  const Value* v = data.get(key);
  if (v == nullptr || v->kind == Value::Kind::kNil) return true;
  if (!v->is_boolean()) return r.fail(*v, std::string(key) + " is not a boolean");
  out = v->boolean;
  return true;
}

bool read_count(const Value& data, std::string_view key, std::size_t& out, Refusal& r) {
  const Value* v = data.get(key);
  if (v == nullptr || v->kind == Value::Kind::kNil) return true;
  if (!v->is_number() || !std::isfinite(v->number) || v->number < 0 || v->number > kMaxCount ||
      v->number != std::floor(v->number))
    return r.fail(*v, std::string(key) + " is not a count from 0 to " + std::to_string(kMaxCount));
  out = static_cast<std::size_t>(v->number);
  return true;
}

// _data: the settings Prosody's muc/*.lib.lua keep, by their names there.
bool convert_config(const Value& data, RoomConfig& c, Refusal& r) {
  bool hidden = false;
  std::string whois = "moderators";
  const bool ok = read_text(data, "name", c.name, r) && read_text(data, "description", c.description, r) &&
                  read_text(data, "language", c.language, r) && read_text(data, "password", c.password, r) &&
                  read_bool(data, "persistent", c.persistent, r) && read_bool(data, "hidden", hidden, r) &&
                  read_bool(data, "members_only", c.members_only, r) && read_bool(data, "moderated", c.moderated, r) &&
                  read_bool(data, "allow_member_invites", c.allow_invites, r) &&
                  read_bool(data, "changesubject", c.change_subject, r) && read_bool(data, "archiving", c.archiving, r) &&
                  read_count(data, "history_length", c.history_length, r) &&
                  read_count(data, "max_occupants", c.max_occupants, r) && read_text(data, "whois", whois, r);
  if (!ok) return false;
  c.public_room = !hidden;
  if (whois != "moderators" && whois != "anyone")
    return r.fail(*data.get("whois"), "whois is neither \"moderators\" nor \"anyone\"");
  c.whois = whois == "anyone" ? Whois::kAnyone : Whois::kModerators;
  return true;
}

// The subject and who set it: subject_from is the setter's room JID (ROOM@SERVICE/NICK).
bool convert_subject(const Value& data, RoomState& state, Refusal& r) {
  std::string from;
  if (!read_text(data, "subject", state.subject, r) || !read_text(data, "subject_from", from, r)) return false;
  if (auto jid = xmpp::Jid::parse(from)) state.subject_nick = jid->resource();
  return true;
}

bool add_affiliation(const Value& key, const Value& value, const Value* affiliation_data, RoomState& state,
                     Refusal& r) {
  auto jid = key.is_string() ? xmpp::Jid::parse(key.string) : std::nullopt;
  if (!jid || jid->has_resource()) return r.fail(key, "an affiliation's key is not a bare JID");
  std::optional<Affiliation> a = value.is_string() ? router::muc::parse_affiliation(value.string) : std::nullopt;
  if (!a || *a == Affiliation::kNone)
    return r.fail(value, "the affiliation of " + jid->bare() + " is not owner, admin, member or outcast");
  router::muc::AffiliationEntry entry{*a, "", ""};
  // _affiliation_data[JID] = { reserved_nickname = NICK } (muc/register.lib.lua); Prosody
  // keeps no reason.
  const Value* extra = affiliation_data != nullptr ? affiliation_data->get(key.string) : nullptr;
  if (extra != nullptr && extra->is_table() && !read_text(*extra, "reserved_nickname", entry.nick, r)) return false;
  if (entry.nick.size() > 1023) return r.fail(*extra, "the reserved nickname of " + jid->bare() + " is too long");
  if (!state.affiliations.emplace(jid->bare(), std::move(entry)).second)
    return r.fail(key, jid->bare() + " has two affiliations");
  if (state.affiliations.size() > kMaxAffiliations)
    return r.fail(key, "more than " + std::to_string(kMaxAffiliations) + " affiliations");
  return true;
}

// A field of the room's own (_jid, _data, _affiliation_data, ...): as Prosody's restore_room,
// one whose host part starts with '_'. `_bot@example.org` is a JID whose affiliation counts.
bool reserved_key(std::string_view key) {
  std::string_view host = key.substr(0, key.find('/'));
  if (const auto at = host.find('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
  return host.starts_with('_');
}

// New layout: each field whose key is a JID (not _jid, _data, _affiliation_data) with a
// string value. Old layout: the _affiliations table.
bool convert_affiliations(const Value& room, RoomState& state, Refusal& r) {
  const Value* extra = room.get("_affiliation_data");
  if (extra != nullptr && !extra->is_table() && extra->kind != Value::Kind::kNil)
    return r.fail(*extra, "_affiliation_data is not a table");
  if (const Value* old = room.get("_affiliations"); old != nullptr) {
    if (!old->is_table() || !old->array.empty()) return r.fail(*old, "_affiliations is not a table of JIDs");
    for (const prosody::Entry& e : old->fields)
      if (!add_affiliation(e.key, e.value, extra, state, r)) return false;
  }
  for (const prosody::Entry& e : room.fields) {
    if (e.key.is_string() && (reserved_key(e.key.string) || e.key.string == "jid")) continue;
    if (!add_affiliation(e.key, e.value, extra, state, r)) return false;
  }
  for (const auto& [jid, entry] : state.affiliations)
    if (entry.affiliation == Affiliation::kOwner) return true;
  return r.fail(room, "the room has no owner");
}

// A tombstone (mod_muc.lua: _data = {destroyed = true, locked = expiry, reason, newjid}): no
// affiliations, nothing else to keep.
bool convert_tombstone(const Value& data, ConvertedRoom& out, Refusal& r) {
  if (!read_text(data, "reason", out.reason, r) || !read_text(data, "newjid", out.alternate, r)) return false;
  const Value* locked = data.get("locked");
  if (locked == nullptr || !locked->is_number() || std::isnan(locked->number))
    return r.fail(locked != nullptr ? *locked : data, "the tombstone has no expiry (locked)");
  constexpr double kLatest = 253402300799;  // 9999-12-31: Prosody's math.huge is "never"
  out.expires = static_cast<std::int64_t>(std::clamp(locked->number, 0.0, kLatest));
  out.kind = ConvertedRoom::Kind::kTombstone;
  return true;
}

bool destroyed(const Value& data) {
  const Value* v = data.get("destroyed");
  return v != nullptr && v->is_boolean() && v->boolean;
}

// The number of characters (code points) of UTF-8 `text`.
std::size_t characters(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

// Narrows what the service would refuse from the room's owner: a history, occupant limit,
// subject or reserved nickname above its options. Each narrowing is warned about.
void clamp(RoomState& state, const RoomLimits& limits, const std::string& path, std::string& warnings) {
  RoomConfig& c = state.config;
  auto warn = [&](const std::string& what) { warnings += path + ": " + what + "\n"; };
  if (c.history_length > limits.max_history_messages) {
    warn("history_length " + std::to_string(c.history_length) + " narrowed to max_history_messages " +
         std::to_string(limits.max_history_messages));
    c.history_length = limits.max_history_messages;
  }
  if (c.max_occupants == 0 || c.max_occupants > limits.max_occupants) {
    warn("max_occupants " + (c.max_occupants == 0 ? std::string("unlimited") : std::to_string(c.max_occupants)) +
         " narrowed to muc_max_occupants " + std::to_string(limits.max_occupants));
    c.max_occupants = limits.max_occupants;
  }
  if (characters(state.subject) > limits.max_subject_length) {
    warn("the subject is longer than muc_max_subject_length, cut");
    std::size_t kept = 0, end = 0;
    while (end < state.subject.size() && (kept < limits.max_subject_length ||
                                          (static_cast<unsigned char>(state.subject[end]) & 0xc0) == 0x80)) {
      if ((static_cast<unsigned char>(state.subject[end]) & 0xc0) != 0x80) ++kept;
      ++end;
    }
    state.subject.resize(end);
  }
  for (auto& [jid, entry] : state.affiliations)
    if (characters(entry.nick) > limits.max_nick_length) {
      warn("the reserved nickname of " + jid + " is longer than muc_max_nick_length, dropped");
      entry.nick.clear();
    }
}

}  // namespace

ConvertedRoom convert_room(const RawFile& file, std::string_view node, std::string_view service, std::int64_t now,
                           const RoomLimits& limits, std::string* warnings) {
  ConvertedRoom out;
  std::string error;
  std::optional<Value> room = prosody::parse_dat(file.path, file.bytes, error);
  if (!room) {
    out.error = error;
    return out;
  }
  Refusal r{file.path, {}};
  const std::string expected = std::string(node) + "@" + std::string(service);
  const Value* jid = room->get("_jid") != nullptr ? room->get("_jid") : room->get("jid");
  const Value* data = room->get("_data");
  auto parsed = jid != nullptr && jid->is_string() ? xmpp::Jid::parse(jid->string) : std::nullopt;
  // What Prosody leaves unset is what the service gives a new room (Prosody 0.12 writes no
  // max_occupants).
  out.state.config.max_occupants = limits.max_occupants;
  out.state.config.archiving = limits.log_by_default;
  if (!room->is_table() || !room->array.empty())
    r.fail(*room, "not a room: a table of _jid, _data and affiliations expected");
  else if (!parsed || parsed->has_resource() || parsed->bare() != expected)
    r.fail(jid != nullptr ? *jid : *room, "the room's JID is not " + expected);
  else if (data == nullptr || !data->is_table())
    r.fail(data != nullptr ? *data : *room, "_data is not a table");
  else if (destroyed(*data))
    convert_tombstone(*data, out, r);
  else if (convert_config(*data, out.state.config, r) && convert_subject(*data, out.state, r))
    convert_affiliations(*room, out.state, r);
  if (!r.error.empty()) {
    out.kind = ConvertedRoom::Kind::kRefused;
    out.error = r.error;
    return out;
  }
  if (out.kind == ConvertedRoom::Kind::kTombstone) return out;
  if (!out.state.config.persistent) {
    out.kind = ConvertedRoom::Kind::kNotPersistent;
    return out;
  }
  // A room Prosody still holds locked (created, never configured) is as good as gone: it
  // would be destroyed when its lock timed out.
  if (const Value* locked = data->get("locked"); locked != nullptr && locked->kind != Value::Kind::kNil) {
    out.error = file.path + ":" + std::to_string(locked->line) + ": the room was never configured (locked)";
    return out;
  }
  std::string narrowed;
  clamp(out.state, limits, file.path, narrowed);
  if (warnings != nullptr) *warnings += narrowed;
  out.state.created = now;
  // Prosody keeps no creator: the rooms were the old server's own, counted under its domain
  // (muc_max_rooms_per_domain exempts it), never against their owners' servers.
  out.state.config.creator_domain = std::string(service);
  out.kind = ConvertedRoom::Kind::kRoom;
  return out;
}

}  // namespace xmppd::ctl::prosody_import
