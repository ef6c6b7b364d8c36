// A MUC service's rooms in the user store (room_store.h): the configuration's text form, and
// the rows of rooms, affiliations, tombstones and the occupant id key.
#include "router/muc/room_store.h"

#include <openssl/rand.h>

#include <charconv>
#include <set>

#include "common/log.h"
#include "router/muc/room_forms.h"
#include "xmpp/jid.h"

namespace xmppd::router::muc {
namespace {

using store::Statement;
using store::Value;

constexpr std::string_view kWhois[] = {"moderators", "anyone"};
constexpr std::string_view kWhoMay[] = {"nobody", "moderators", "participants", "anyone"};
// A key is 32 random bytes, kept as hex.
constexpr std::size_t kKeyBytes = 32;

void put(std::string& out, std::string_view key, std::string_view value) {
  out.append(key).push_back('=');
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  out.push_back('\n');
}

bool unescape(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out.push_back(in[i]);
      continue;
    }
    if (++i == in.size()) return false;
    if (in[i] == '\\')
      out.push_back('\\');
    else if (in[i] == 'n')
      out.push_back('\n');
    else
      return false;
  }
  return true;
}

bool to_bool(const std::string& text, bool& out) {
  if (text != "0" && text != "1") return false;
  out = text == "1";
  return true;
}

bool to_size(const std::string& text, std::size_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

template <typename E, std::size_t N>
bool to_enum(const std::string& text, const std::string_view (&names)[N], E& out) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == text) {
      out = static_cast<E>(i);
      return true;
    }
  return false;
}

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 15]);
  }
  return out;
}

}  // namespace

std::string encode_config(const RoomConfig& c, bool locked) {
  std::string out;
  put(out, "name", c.name);
  put(out, "description", c.description);
  put(out, "language", c.language);
  put(out, "password", c.password);
  put(out, "persistent", c.persistent ? "1" : "0");
  put(out, "public", c.public_room ? "1" : "0");
  put(out, "members_only", c.members_only ? "1" : "0");
  put(out, "moderated", c.moderated ? "1" : "0");
  put(out, "allow_invites", c.allow_invites ? "1" : "0");
  put(out, "change_subject", c.change_subject ? "1" : "0");
  put(out, "archiving", c.archiving ? "1" : "0");
  put(out, "whois", kWhois[static_cast<int>(c.whois)]);
  put(out, "allow_pm", kWhoMay[static_cast<int>(c.allow_pm)]);
  put(out, "max_occupants", std::to_string(c.max_occupants));
  put(out, "history_length", std::to_string(c.history_length));
  put(out, "locked", locked ? "1" : "0");
  if (!c.creator_domain.empty()) put(out, "creator_domain", c.creator_domain);
  return out;
}

bool decode_config(std::string_view text, RoomConfig& c, bool& locked) {
  std::set<std::string, std::less<>> seen;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    if (end == std::string_view::npos) return false;  // every line ends with one
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return false;
    std::string key(line.substr(0, eq)), value;
    if (!unescape(line.substr(eq + 1), value) || !seen.insert(key).second) return false;
    bool ok = true;
    if (key == "name") c.name = value;
    else if (key == "description") c.description = value;
    else if (key == "language") c.language = value;
    else if (key == "password") c.password = value;
    else if (key == "persistent") ok = to_bool(value, c.persistent);
    else if (key == "public") ok = to_bool(value, c.public_room);
    else if (key == "members_only") ok = to_bool(value, c.members_only);
    else if (key == "moderated") ok = to_bool(value, c.moderated);
    else if (key == "allow_invites") ok = to_bool(value, c.allow_invites);
    else if (key == "change_subject") ok = to_bool(value, c.change_subject);
    else if (key == "archiving") ok = to_bool(value, c.archiving);
    else if (key == "whois") ok = to_enum(value, kWhois, c.whois);
    else if (key == "allow_pm") ok = to_enum(value, kWhoMay, c.allow_pm);
    else if (key == "max_occupants") ok = to_size(value, c.max_occupants);
    else if (key == "history_length") ok = to_size(value, c.history_length);
    else if (key == "locked") ok = to_bool(value, locked);
    else if (key == "creator_domain") c.creator_domain = value;
    if (!ok) return false;
  }
  for (std::string_view required : {"persistent", "public", "members_only", "moderated", "whois", "max_occupants"})
    if (seen.count(required) == 0) return false;
  return true;
}

bool RoomStore::bound(Tombstone& tombstone) {
  bool dropped = false;
  if (!valid_display_text(tombstone.reason)) {
    tombstone.reason.clear();
    dropped = true;
  }
  if (!tombstone.alternate.empty() && !xmpp::Jid::parse(tombstone.alternate)) {
    tombstone.alternate.clear();
    dropped = true;
  }
  return dropped;
}

bool RoomStore::load(std::map<std::string, RoomState, std::less<>>& rooms,
                     std::map<std::string, Tombstone, std::less<>>& tombstones) {
  store::Database& db = store_.database();
  std::vector<store::Row> rows;
  const Value service[] = {service_};
  if (!db.run(Statement::kMucRoomSelect, service, &rows)) return false;
  std::map<std::string, RoomState, std::less<>> loaded;
  for (store::Row& row : rows) {
    std::string room = store::take_text(row, 0);
    RoomState state;
    if (!decode_config(store::text(row, 1), state.config, state.locked)) {
      log::error("muc: room %s@%s has a damaged configuration in the store; it is skipped", room.c_str(),
                 service_.c_str());
      continue;
    }
    state.subject = store::take_text(row, 2);
    state.subject_nick = store::take_text(row, 3);
    state.created = store::integer(row, 4);
    loaded.emplace(std::move(room), std::move(state));
  }
  if (!load_affiliations(loaded)) return false;
  rows.clear();
  if (!db.run(Statement::kMucTombstoneSelect, service, &rows)) return false;
  std::map<std::string, Tombstone, std::less<>> stones;
  for (store::Row& row : rows) {
    std::string room = store::take_text(row, 0);
    Tombstone stone{store::integer(row, 1), store::take_text(row, 2), store::take_text(row, 3)};
    if (bound(stone))
      log::error("muc: the tombstone of %s@%s has a damaged reason or alternate venue; dropped", room.c_str(),
                 service_.c_str());
    stones[std::move(room)] = std::move(stone);
  }
  rooms = std::move(loaded);
  tombstones = std::move(stones);
  return true;
}

// An affiliation that does not decode, or of a room that was skipped, is skipped too.
bool RoomStore::load_affiliations(std::map<std::string, RoomState, std::less<>>& rooms) {
  std::vector<store::Row> rows;
  const Value service[] = {service_};
  if (!store_.database().run(Statement::kMucAffiliationSelect, service, &rows)) return false;
  for (store::Row& row : rows) {
    auto room = rooms.find(store::text(row, 0));
    if (room == rooms.end()) continue;
    std::optional<Affiliation> affiliation = parse_affiliation(store::text(row, 2));
    if (!affiliation || *affiliation == Affiliation::kNone) {
      log::error("muc: room %s@%s has a damaged affiliation in the store; it is skipped", room->first.c_str(),
                 service_.c_str());
      continue;
    }
    room->second.affiliations[store::take_text(row, 1)] =
        AffiliationEntry{*affiliation, store::take_text(row, 3), store::take_text(row, 4)};
  }
  return true;
}

RoomStore::Outcome RoomStore::save(std::string_view room, const RoomState& state, const RoomState* saved) {
  return store_.atomically("cannot keep a room", [&] {
    store::Database& db = store_.database();
    const bool row_changed = saved == nullptr || state.config != saved->config || state.locked != saved->locked ||
                             state.subject != saved->subject || state.subject_nick != saved->subject_nick ||
                             state.created != saved->created;
    const Value row[] = {service_,       std::string(room),          encode_config(state.config, state.locked),
                         state.subject, state.subject_nick, state.created};
    if (row_changed && !db.run(Statement::kMucRoomUpsert, row)) return Outcome::kFailed;
    if (saved != nullptr) return save_affiliations(room, state, *saved) ? Outcome::kStored : Outcome::kFailed;
    const Value key[] = {service_, std::string(room)};
    if (!db.run(Statement::kMucAffiliationDeleteRoom, key)) return Outcome::kFailed;
    for (const auto& [jid, entry] : state.affiliations) {
      if (entry.affiliation == Affiliation::kNone) continue;
      const Value a[] = {service_, std::string(room), jid, std::string(name_of(entry.affiliation)), entry.nick,
                         entry.reason};
      if (!db.run(Statement::kMucAffiliationUpsert, a)) return Outcome::kFailed;
    }
    return Outcome::kStored;
  });
}

// The two sorted maps walked together: an entry new or changed is upserted, one gone (or
// back to none, which has no row) deleted, the others left alone.
bool RoomStore::save_affiliations(std::string_view room, const RoomState& state, const RoomState& saved) {
  store::Database& db = store_.database();
  static const AffiliationEntry kAbsent;
  auto now = state.affiliations.begin(), before = saved.affiliations.begin();
  while (now != state.affiliations.end() || before != saved.affiliations.end()) {
    const bool take_now = before == saved.affiliations.end() ||
                          (now != state.affiliations.end() && now->first <= before->first);
    const bool take_before = now == state.affiliations.end() ||
                             (before != saved.affiliations.end() && before->first <= now->first);
    const std::string& jid = take_now ? now->first : before->first;
    const AffiliationEntry& entry = take_now ? now->second : kAbsent;
    const AffiliationEntry& old = take_before ? before->second : kAbsent;
    if (take_now) ++now;
    if (take_before) ++before;
    const bool had_row = old.affiliation != Affiliation::kNone;
    if (entry.affiliation == Affiliation::kNone) {
      const Value key[] = {service_, std::string(room), jid};
      if (had_row && !db.run(Statement::kMucAffiliationDelete, key)) return false;
    } else if (entry != old) {
      const Value a[] = {service_, std::string(room), jid, std::string(name_of(entry.affiliation)), entry.nick,
                         entry.reason};
      if (!db.run(Statement::kMucAffiliationUpsert, a)) return false;
    }
  }
  return true;
}

RoomStore::Outcome RoomStore::forget(std::string_view room) {
  return store_.atomically("cannot forget a room", [&] {
    const Value key[] = {service_, std::string(room)};
    return store_.database().run(Statement::kMucAffiliationDeleteRoom, key) &&
                   store_.database().run(Statement::kMucRoomDelete, key)
               ? Outcome::kStored
               : Outcome::kFailed;
  });
}

RoomStore::Outcome RoomStore::set_tombstone(std::string_view room, const Tombstone& t) {
  return store_.atomically("cannot keep a tombstone", [&] {
    const Value row[] = {service_, std::string(room), t.expires, t.reason, t.alternate};
    return store_.database().run(Statement::kMucTombstoneUpsert, row) ? Outcome::kStored : Outcome::kFailed;
  });
}

RoomStore::Outcome RoomStore::remove_tombstone(std::string_view room) {
  return store_.atomically("cannot remove a tombstone", [&] {
    const Value key[] = {service_, std::string(room)};
    return store_.database().run(Statement::kMucTombstoneDelete, key) ? Outcome::kStored : Outcome::kFailed;
  });
}

std::optional<std::string> RoomStore::occupant_id_key() {
  const Value service[] = {service_};
  std::vector<store::Row> rows;
  if (!store_.database().run(Statement::kMucKeySelect, service, &rows)) return std::nullopt;
  if (rows.empty()) {
    unsigned char bytes[kKeyBytes];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return std::nullopt;
    const Value row[] = {service_, hex(bytes, sizeof bytes)};
    if (store_.atomically("cannot keep the occupant id key", [&] {
          return store_.database().run(Statement::kMucKeyInsert, row) ? Outcome::kStored : Outcome::kFailed;
        }) != Outcome::kStored)
      return std::nullopt;
    // Read back: another router may have made it first (ON CONFLICT DO NOTHING kept its).
    if (!store_.database().run(Statement::kMucKeySelect, service, &rows) || rows.empty()) return std::nullopt;
  }
  std::string key = store::text(rows.front(), 0);
  if (key.size() != 2 * kKeyBytes) {
    log::error("muc: the occupant id key of %s in the store is damaged", service_.c_str());
    return std::nullopt;
  }
  return key;
}

}  // namespace xmppd::router::muc
