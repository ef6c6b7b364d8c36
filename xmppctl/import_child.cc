// `xmppctl -R import-accounts` and `xmppctl -R import-data`: the two children of xmppctl
// import prosody (import_prosody.cc), fresh processes that xmppctl executes with descriptor 3 a
// socket to it and 0-2 on /dev/null, in a session of their own. Each trusts only its request
// on descriptor 3 (from root xmppctl); the Prosody files in it came from a network-facing
// server and are hostile.
//
// Order, as the daemon's children: read the request; (accounts) load OpenSSL's files; chroot
// to the store's directory and become its user (when root), no_new_privs; open the store; the
// auth helper's seccomp allowlist (SQLite in its own directory, nothing else); only then parse
// the files and write the store. The report (answers and messages) goes back on descriptor 3.
//   import-accounts, as auth_helper_user in DATA_PATH/auth: accounts/USER.dat of each user,
//     into the credential store, skipping an account that exists unless forced.
//   import-data, as xmppd_user in DATA_PATH/router: the other files of the users whose
//     account was imported, into the router's user store, each user's replacing what xmppd
//     had for them; a bad item is skipped with a warning, never the user. Then the rooms of
//     the MUC components named, into the room store: a room all or nothing, one that xmppd
//     has (or holds as a tombstone) skipped unless forced, a bad one refused whole with its
//     FILE:LINE, one destroyed in Prosody kept as a tombstone.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>

#include "auth-helper/credential_store.h"
#include "import.pb.h"
#include "router/archive_store.h"
#include "router/item_store.h"
#include "router/muc/room_store.h"
#include "router/user_store.h"
#include "sandbox/sandbox.h"
#include "xmppctl/import_frame.h"
#include "xmppctl/prosody_rooms.h"
#include "xmppctl/prosody_user.h"
#include "xmppctl/xmppctl.h"

namespace xmppd::ctl {
namespace {

using prosody_import::RawFile;
using prosody_import::RawUser;
using prosody_import::UserData;
using Outcome = router::UserStore::Outcome;

constexpr int kSocket = 3;
constexpr std::size_t kArchiveChunk = 1000;  // archived messages written per transaction

// What the child says, sent back in the report.
struct Say {
  std::string out, err;
  void to(std::string& where, const char* format, ...) __attribute__((format(printf, 3, 4))) {
    va_list args;
    va_start(args, format);
    char* text = nullptr;
    const int n = vasprintf(&text, format, args);
    va_end(args);
    if (n >= 0) where.append(text, static_cast<std::size_t>(n));
    std::free(text);
  }
};

// The first frame, checked before anything is done with it: an empty, short or unparsable
// stream, or one that would leave the child root or where it was started, is refused.
bool read_request(wire::ImportRequest& request) {
  return read_frame(kSocket, request) && !request.directory().empty() &&
         (request.switch_user() || geteuid() != 0);
}

// The next user or room; false when the stream ends before its end frame (xmppctl died or
// sent something else), or at that frame.
enum class Next { kItem, kEnd, kBroken };
Next next_item(wire::ImportItem& item, Say& say) {
  item.Clear();
  if (!read_frame(kSocket, item)) {
    say.to(say.err, "xmppctl: the import stream was cut short or not understood\n");
    return Next::kBroken;
  }
  return item.has_end() ? Next::kEnd : Next::kItem;
}

bool send_report(const wire::ImportReport& report) {
  const std::string bytes = report.SerializeAsString();
  for (std::size_t sent = 0; sent < bytes.size();) {
    const ssize_t n = write(kSocket, bytes.data() + sent, bytes.size() - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool drop_privileges(const wire::ImportRequest& request, std::string& error) {
  sandbox::Privsep privsep;
  privsep.switch_user = request.switch_user() && geteuid() == 0;
  privsep.uid = request.uid();
  privsep.gid = request.gid();
  privsep.directory = request.directory();  // the chroot, or the working directory
  return sandbox::drop_privileges(privsep, error);
}

RawUser files_of(const wire::ImportUser& user) {
  RawUser files;
  for (const wire::ImportFile& f : user.files()) files[f.store()] = RawFile{f.path(), f.bytes(), f.list()};
  return files;
}

// The account alone: nothing in the user's other files (which others can write into, with an
// offline message or a subscription request) can refuse it.
std::optional<prosody_import::Account> account_of(const wire::ImportUser& user, Say& say) {
  std::string error = user.read_error();
  std::optional<prosody_import::Account> account;
  const RawUser files = files_of(user);
  auto file = files.find("accounts");
  if (error.empty() && file == files.end()) error = user.name() + "@" + user.host() + ": no accounts/USER.dat\n";
  if (error.empty()) account = prosody_import::convert_account(file->second, error);
  if (!account) {
    if (!error.ends_with('\n')) error += '\n';
    say.to(say.err, "xmppctl: %s@%s not imported:\n%s", user.name().c_str(), user.host().c_str(), error.c_str());
  }
  return account;
}

bool import_accounts(const wire::ImportRequest& request, wire::ImportReport& report, Say& say) {
  std::string error;
  auth::prepare_scram_crypto();  // OpenSSL's files, before the chroot hides them
  if (!drop_privileges(request, error)) return say.to(say.err, "xmppctl: %s\n", error.c_str()), false;
  auto store = auth::CredentialStore::open("credentials.sqlite", error);
  if (!store) return say.to(say.err, "xmppctl: %s\n", error.c_str()), false;
  if (!sandbox::enter(sandbox::Role::kAuth, sandbox::build_mode(), error))
    return say.to(say.err, "xmppctl: %s\n", error.c_str()), false;
  struct HostCounts {
    std::size_t imported = 0, skipped = 0, refused = 0;
  };
  std::map<std::string, HostCounts> counts;
  std::string answers;
  wire::ImportItem item;
  Next next;
  while ((next = next_item(item, say)) == Next::kItem) {
    if (!item.has_user()) continue;
    const wire::ImportUser& user = item.user();
    char answer = 'e';
    std::optional<prosody_import::Account> account = account_of(user, say);
    const std::string bare = user.name() + "@" + user.host();
    if (account && store->exists(user.host(), user.name()) && !request.force()) {
      say.to(say.out, "%s: exists in xmppd, skipped (-F to replace it)\n", bare.c_str());
      answer = '0';
    } else if (account) {
      const bool ok = account->sha1 ? store->set_sha1_credential(user.host(), user.name(), *account->sha1, error)
                                    : store->set_password(user.host(), user.name(), *account->password,
                                                          std::max<std::uint32_t>(request.iterations(), auth::kMinIterations), error);
      if (ok)
        answer = '1';
      else
        say.to(say.err, "xmppctl: %s: %s\n", bare.c_str(), error.c_str());
    }
    HostCounts& c = counts[user.host()];
    ++(answer == '1' ? c.imported : answer == '0' ? c.skipped : c.refused);
    answers += answer;
  }
  for (const auto& [host, c] : counts)
    say.to(say.out, "%s: %zu accounts imported, %zu skipped, %zu refused; %zu accounts SHA-1-only\n", host.c_str(),
           c.imported, c.skipped, c.refused, store->sha1_only_accounts(host));
  report.set_answers(answers);
  return next == Next::kEnd;
}

struct Counts {
  std::size_t users = 0, roster = 0, requests = 0, offline = 0, vcards = 0, private_xml = 0, pep_nodes = 0,
              pep_items = 0, archived = 0;
};

Outcome write_user(router::UserStore& store, router::ItemStore& items, const std::string& bare, const UserData& data,
                   Counts& counts) {
  constexpr std::size_t kNoLimit = SIZE_MAX;
  Counts added;
  // A client may have cached a version Prosody or an earlier xmppd gave out; one of the same
  // number would get it an empty answer and keep a stale roster (XEP-0237), so the imported
  // roster's version is above both.
  const std::int64_t old_version = std::max(store.roster_version(bare), data.roster_version);
  Outcome o = items.atomically([&] {
    if (Outcome r = store.remove_user(bare); r != Outcome::kStored) return r;  // a re-run replaces, never doubles
    for (const auto& item : data.roster) {
      if (Outcome r = store.set_roster_item(bare, item, kNoLimit); r != Outcome::kStored) return r;
      ++added.roster;
    }
    const auto version = std::max(old_version, static_cast<std::int64_t>(data.roster.size())) + 1;
    if (Outcome r = store.set_roster_version(bare, version); r != Outcome::kStored) return r;
    for (const auto& [from, stanza] : data.requests) {
      if (Outcome r = store.store_subscription_request(bare, from, stanza, kNoLimit); r != Outcome::kStored) return r;
      ++added.requests;
    }
    for (const auto& m : data.offline) {
      if (Outcome r = store.store_offline(bare, m.stanza, m.when, {kNoLimit, kNoLimit}); r != Outcome::kStored)
        return r;
      ++added.offline;
    }
    if (data.vcard) {
      if (Outcome r = items.put({bare, "vcard", "", "vcard"}, *data.vcard, {}); r != Outcome::kStored) return r;
      if (Outcome r = items.put({bare, "vcard", "photo", "hash"}, data.vcard_photo_hash, {}); r != Outcome::kStored)
        return r;
      ++added.vcards;
    }
    for (const auto& [ns, name, value] : data.private_elements) {
      if (Outcome r = items.put({bare, "private", ns, name}, value, {}); r != Outcome::kStored) return r;
      ++added.private_xml;
    }
    for (const auto& node : data.pep) {
      if (Outcome r = items.put({bare, "pep_config", node.node, ""}, node.config, {}); r != Outcome::kStored) return r;
      ++added.pep_nodes;
      for (const auto& [id, value] : node.items) {
        if (Outcome r = items.put({bare, "pep", node.node, id}, value, {node.max_items, true, 0, 0});
            r != Outcome::kStored)
          return r;
        ++added.pep_items;
      }
    }
    return Outcome::kStored;
  });
  if (o != Outcome::kStored || !store.commit()) return Outcome::kFailed;
  counts.users += 1;
  counts.roster += added.roster;
  counts.requests += added.requests;
  counts.offline += added.offline;
  counts.vcards += added.vcards;
  counts.private_xml += added.private_xml;
  counts.pep_nodes += added.pep_nodes;
  counts.pep_items += added.pep_items;
  return Outcome::kStored;
}

// The user's archive, replacing what xmppd had: Prosody's keys stay the stanza-ids.
bool write_archive(router::ArchiveStore& archive, const std::string& bare,
                   const std::vector<prosody_import::ArchivedMessage>& messages, Counts& counts) {
  if (!archive.remove_user(bare)) return false;
  std::size_t kept = 0;
  for (const auto& m : messages) {
    kept += archive.append({bare, m.id, m.with, m.when, m.origin_id, m.stanza}) ? 1 : 0;
    if (archive.pending_rows() >= kArchiveChunk && !archive.flush()) return false;  // below its bound on rows waiting
  }
  if (!archive.flush()) return false;
  counts.archived += kept;
  return true;
}

struct RoomCounts {
  std::size_t imported = 0, tombstones = 0, skipped = 0, refused = 0, archived = 0;
};

// What xmppd has of a service: its rooms and its tombstones, by localpart.
struct ServiceRooms {
  std::map<std::string, router::muc::RoomState, std::less<>> rooms;
  std::map<std::string, router::muc::RoomStore::Tombstone, std::less<>> tombstones;
  // A name xmppd holds, as a room or as a tombstone not yet expired.
  const char* holds(const std::string& name, std::int64_t now) const {
    if (rooms.contains(name)) return "exists in xmppd";
    auto t = tombstones.find(name);
    return t != tombstones.end() && t->second.expires > now ? "destroyed in xmppd" : nullptr;
  }
};

// Writes `body` (a room or a tombstone replacing what xmppd had of the name) in one savepoint,
// then commits: a failure rolls that savepoint back and leaves xmppd's room as it was, never
// committed with the next room.
bool write_whole(router::UserStore& store, const std::function<Outcome()>& body) {
  return store.atomically("cannot import a room", body) == Outcome::kStored && store.commit();
}

// A Prosody tombstone, as xmppd's own: the name answers <gone/> until it expires.
bool import_tombstone(router::UserStore& store, router::muc::RoomStore& rooms,
                      const prosody_import::ConvertedRoom& converted, const std::string& name, const std::string& jid,
                      std::int64_t now, RoomCounts& counts, Say& say) {
  if (converted.expires <= now) {
    say.to(say.out, "%s: destroyed in Prosody, its tombstone expired, skipped\n", jid.c_str());
    ++counts.skipped;
    return true;
  }
  router::muc::RoomStore::Tombstone tombstone{converted.expires, converted.reason, converted.alternate};
  if (router::muc::RoomStore::bound(tombstone))
    say.to(say.err, "xmppctl: %s: warning: the tombstone's reason or alternate venue is not valid, dropped\n",
           jid.c_str());
  if (!write_whole(store, [&] {
        const Outcome o = rooms.forget(name);
        return o == Outcome::kStored ? rooms.set_tombstone(name, tombstone) : o;
      })) {
    say.to(say.err, "xmppctl: %s: the tombstone could not be written\n", jid.c_str());
    ++counts.refused;
    return false;
  }
  say.to(say.out, "%s: destroyed in Prosody, imported as a tombstone\n", jid.c_str());
  ++counts.tombstones;
  return true;
}

// One room into the room store (`existing`: what the service has in xmppd). False when it was
// refused or could not be written.
bool import_room(router::UserStore& store, router::muc::RoomStore& rooms, router::ArchiveStore& archive,
                 const wire::ImportRoom& room, const ServiceRooms& existing, bool force, RoomCounts& counts,
                 Say& say) {
  using Kind = prosody_import::ConvertedRoom::Kind;
  const std::string jid = room.name() + "@" + room.service();
  const std::int64_t now = std::time(nullptr);
  const wire::MucLimits& l = room.limits();
  const prosody_import::RoomLimits limits{l.max_occupants(), l.max_history_messages(), l.max_subject_length(),
                                          l.max_nick_length(), l.log_by_default()};
  std::string narrowed;
  const prosody_import::ConvertedRoom converted = prosody_import::convert_room(
      prosody_import::RawFile{room.path(), room.bytes(), false}, room.name(), room.service(), now, limits, &narrowed);
  if (!narrowed.empty()) say.to(say.err, "xmppctl: %s: warning: narrowed:\n%s", jid.c_str(), narrowed.c_str());
  if (converted.kind == Kind::kNotPersistent) {
    say.to(say.out, "%s: not persistent in Prosody, skipped\n", jid.c_str());
    ++counts.skipped;
    return true;
  }
  if (converted.kind == Kind::kRefused) {
    say.to(say.err, "xmppctl: %s not imported:\n%s\n", jid.c_str(), converted.error.c_str());
    ++counts.refused;
    return false;
  }
  // A name xmppd holds (a room, or one its owners destroyed there) is not replaced unless -F.
  if (const char* held = existing.holds(room.name(), now); held != nullptr && !force) {
    say.to(say.out, "%s: %s, skipped (-F to replace it)\n", jid.c_str(), held);
    ++counts.skipped;
    return true;
  }
  if (converted.kind == Kind::kTombstone)
    return import_tombstone(store, rooms, converted, room.name(), jid, now, counts, say);
  // Its row and every affiliation replaced; a tombstone of the name would hide the room.
  if (!write_whole(store, [&] {
        const Outcome o = rooms.save(room.name(), converted.state);
        return o == Outcome::kStored ? rooms.remove_tombstone(room.name()) : o;
      })) {
    say.to(say.err, "xmppctl: %s: the room could not be written\n", jid.c_str());
    ++counts.refused;
    return false;
  }
  ++counts.imported;
  if (room.archive_path().empty()) return true;
  std::string warnings;
  const auto messages = prosody_import::convert_room_log(
      prosody_import::RawFile{room.archive_path(), room.archive_bytes(), true}, jid, warnings);
  if (!warnings.empty()) say.to(say.err, "xmppctl: %s: warning: skipped:\n%s", jid.c_str(), warnings.c_str());
  Counts archived;
  if (!write_archive(archive, jid, messages, archived)) {
    say.to(say.err, "xmppctl: %s: the room's archive could not be written: %s\n", jid.c_str(),
           archive.error().c_str());
    return false;
  }
  counts.archived += archived.archived;
  return true;
}

// The rooms, as they come (a service's room store is read once, at its first room).
class RoomImport {
 public:
  RoomImport(router::UserStore& store, const wire::ImportRequest& request)
      : store_(store), request_(request), archive_(store.database(), request.archive_items()) {}

  bool add(const wire::ImportRoom& room, Say& say) {
    router::muc::RoomStore rooms(store_, room.service());
    if (!existing_.contains(room.service())) {
      ServiceRooms& held = existing_[room.service()];
      if (!rooms.load(held.rooms, held.tombstones)) {
        say.to(say.err, "xmppctl: %s: the room store could not be read\n", room.service().c_str());
        return false;
      }
    }
    return import_room(store_, rooms, archive_, room, existing_[room.service()], request_.force(),
                       counts_[room.service()], say);
  }

  void summary(Say& say) const {
    for (const auto& [service, c] : counts_)
      say.to(say.out, "%s: %zu rooms imported, %zu tombstones, %zu skipped, %zu refused; %zu archived messages\n",
             service.c_str(), c.imported, c.tombstones, c.skipped, c.refused, c.archived);
  }

 private:
  router::UserStore& store_;
  const wire::ImportRequest& request_;
  router::ArchiveStore archive_;
  std::map<std::string, RoomCounts> counts_;
  std::map<std::string, ServiceRooms> existing_;
};

// One user's data and archive, replacing what xmppd had for them.
bool import_user_data(router::UserStore& store, router::ItemStore& items, router::ArchiveStore& archive,
                      const wire::ImportUser& user, Counts& counts, Say& say) {
  std::string warnings;
  const UserData data = prosody_import::convert_data(user.name(), user.host(), files_of(user), warnings);
  const std::string bare = user.name() + "@" + user.host();
  if (!warnings.empty()) say.to(say.err, "xmppctl: %s: warning: skipped or narrowed:\n%s", bare.c_str(), warnings.c_str());
  if (write_user(store, items, bare, data, counts) != Outcome::kStored) {
    say.to(say.err, "xmppctl: %s: the account was imported, but its data could not be written\n", bare.c_str());
    return false;
  }
  if (!write_archive(archive, bare, data.archive, counts)) {
    say.to(say.err, "xmppctl: %s: the archive could not be written: %s\n", bare.c_str(), archive.error().c_str());
    return false;
  }
  return true;
}

bool import_data(const wire::ImportRequest& request, Say& say) {
  std::string error;
  if (!drop_privileges(request, error)) return say.to(say.err, "xmppctl: %s\n", error.c_str()), false;
  auto store = router::UserStore::open("user.sqlite", error);
  if (!store) return say.to(say.err, "xmppctl: %s\n", error.c_str()), false;
  auto items = router::ItemStore::open(*store, error);
  if (!items) return say.to(say.err, "xmppctl: %s\n", error.c_str()), false;
  if (!sandbox::enter(sandbox::Role::kAuth, sandbox::build_mode(), error))
    return say.to(say.err, "xmppctl: %s\n", error.c_str()), false;
  // The archive's own transactions (the user store's batch is committed by then); rows past
  // the limit go oldest first, as the router's would.
  router::ArchiveStore archive(store->database(), request.archive_items());
  RoomImport rooms(*store, request);
  std::map<std::string, Counts> counts;
  bool ok = true;
  wire::ImportItem item;
  Next next;
  while ((next = next_item(item, say)) == Next::kItem) {
    if (item.has_user())
      ok = import_user_data(*store, *items, archive, item.user(), counts[item.user().host()], say) && ok;
    else if (item.has_room())
      ok = rooms.add(item.room(), say) && ok;
  }
  for (const auto& [host, c] : counts)
    say.to(say.out,
           "%s: data of %zu users: %zu roster items, %zu pending subscription requests, %zu offline messages, "
           "%zu vCards, %zu private XML elements, %zu PEP nodes with %zu items, %zu archived messages\n",
           host.c_str(), c.users, c.roster, c.requests, c.offline, c.vcards, c.private_xml, c.pep_nodes, c.pep_items,
           c.archived);
  rooms.summary(say);
  return ok && next == Next::kEnd;
}

}  // namespace

int import_child(std::string_view role) {
  wire::ImportRequest request;
  if (!read_request(request)) return 1;
  wire::ImportReport report;
  Say say;
  const bool ok = role == "import-accounts" ? import_accounts(request, report, say) : import_data(request, say);
  report.set_out(say.out);
  report.set_err(say.err);
  return send_report(report) && ok ? 0 : 1;
}

}  // namespace xmppd::ctl
