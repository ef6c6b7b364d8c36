// One Prosody user's data, as xmppd keeps it: what xmppctl import prosody turns the parsed
// files of Prosody's `internal` storage (xmppctl/prosody_data.h) into. The layout read is
// Prosody 0.12's: accounts/, roster/, offline/ (.list), vcard/, private/, pep/, pep_NODE/
// (.list) and archive/ (.list, mod_mam), under DATA_DIR/HOST with host, user and store names %-encoded.
//
// It trusts nothing it reads: every value is checked for its type, every JID parsed, every
// element built, serialized and parsed again as the router will parse it. The account
// (accounts/USER.dat) is converted on its own: what others could put in the user's other files
// (an offline message, a subscription request) must never stop the account's import. A bad
// item of those files is skipped, a file that does not parse is skipped whole, each with a
// "FILE:LINE: message" warning.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "auth-helper/scram.h"
#include "router/user_store.h"

namespace xmppd::ctl::prosody_import {

// The raw bytes of one user's files, read by the privileged side without looking inside:
// store name (as on disk, decoded) -> file contents, and the file's path for messages.
struct RawFile {
  std::string path;
  std::string bytes;
  bool list = false;  // a .list file (item(...) calls), else .dat
};
using RawUser = std::map<std::string, RawFile>;

struct PepNode {
  std::string node;
  std::string config;  // as router/modules/pep_node.h serializes a NodeConfig
  std::size_t max_items = 1;
  std::vector<std::pair<std::string, std::string>> items;  // id, serialized payload; oldest first
};

struct OfflineMessage {
  std::string stanza;  // serialized, jabber:client, with a XEP-0203 delay
  std::int64_t when = 0;
};

// The account: a SCRAM-SHA-1 credential (internal_hashed), or a password (internal_plain).
struct Account {
  std::optional<auth::ScramCredential> sha1;
  std::optional<std::string> password;
};

// A message of the user's archive (mod_mam's "archive" store), as xmppd's archive keeps it:
// Prosody's key stays its stanza-id, so that clients page on from where they were.
struct ArchivedMessage {
  std::string id;         // Prosody's key
  std::string with;       // bare JID of the other party
  std::string origin_id;  // XEP-0359 origin-id, "" without one
  std::string stanza;     // serialized, jabber:client
  std::int64_t when = 0;
};

struct UserData {
  std::int64_t roster_version = 0;  // Prosody's roster[false].version when a number, else 0
  std::vector<router::UserStore::RosterItem> roster;
  std::vector<std::pair<std::string, std::string>> requests;  // from, reduced subscribe stanza
  std::vector<OfflineMessage> offline;
  std::optional<std::string> vcard;  // serialized vcard-temp <vCard/>: vcard/, or built from PEP
  std::string vcard_photo_hash;      // hex SHA-1 of its PHOTO's bytes, "" without one
  std::vector<std::tuple<std::string, std::string, std::string>> private_elements;  // ns, name, serialized
  std::vector<PepNode> pep;
  std::vector<ArchivedMessage> archive;  // oldest first
};

// Parses and converts accounts/USER.dat. nullopt with `error` ("FILE:LINE: message") when it
// is malformed: the account is refused then.
std::optional<Account> convert_account(const RawFile& file, std::string& error);

// Parses and converts a MUC room's archive (mod_muc_mam's "muc_log" store, a .list) for the
// room `room_jid`: its groupchat messages with a body, from an occupant of the room, as
// xmppd's muc_mam keeps them (`with` the occupant's room JID), without the real JIDs Prosody
// added for non-anonymous rooms. Never refuses: each bad item adds a line to `warnings`.
std::vector<ArchivedMessage> convert_room_log(const RawFile& file, std::string_view room_jid, std::string& warnings);

// Parses and converts every other file in `files` ("accounts" is ignored) for user@host. Never
// refuses: each item or file skipped, and each setting narrowed, adds a line to `warnings`.
UserData convert_data(const std::string& user, const std::string& host, const RawUser& files,
                      std::string& warnings);

}  // namespace xmppd::ctl::prosody_import
