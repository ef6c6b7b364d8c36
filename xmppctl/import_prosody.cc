// xmppctl import prosody [-F] DATA_DIR [HOST...]: moves the users of a stopped Prosody 0.12
// (its `internal` storage, files under DATA_DIR) into a stopped xmppd.
//
// Trust: xmppctl runs as root and never parses Prosody's files itself. It reads their bytes
// (regular files only, bounded, each directory opened with openat(O_NOFOLLOW) from DATA_DIR on,
// so no symbolic link is followed below DATA_DIR) and forks two children that drop to the users owning xmppd's
// stores, as xmppd's own children do (chroot to the role's directory, then setgid/setuid):
//   1. as auth_helper_user in DATA_PATH/auth: parses each user's accounts/USER.dat (nothing
//      else: others can write into the other files) and writes the account
//      to the credential store (auth-helper/credential_store.h), skipping an account that
//      exists unless -F; it answers one byte per user on a pipe, '1' imported, '0' skipped,
//      'e' refused; the parent reads nothing else from it.
//   2. as xmppd_user in DATA_PATH/router: parses the files of the users the first child
//      imported, and writes roster, pending requests, offline messages, vCard, private XML
//      and PEP nodes to the router's user store (router/user_store.h, router/item_store.h),
//      each user's data replacing what xmppd had for them, all or nothing.
// Each child prints its own messages and counts. A malformed account file refuses that
// account, with FILE:LINE messages, and the exit code is then 1; a bad item of the other files
// is skipped (a file that does not parse, the whole file), with a FILE:LINE warning. xmppd must not be running: the
// stores would be written under its feet.
#include "xmppctl/xmppctl.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <map>

#include "auth-helper/credential_store.h"
#include "common/unique_fd.h"
#include "daemon/privsep_setup.h"
#include "router/item_store.h"
#include "router/user_store.h"
#include "xmpp/jid.h"
#include "xmppctl/prosody_data.h"
#include "xmppctl/prosody_user.h"

namespace xmppd::ctl {
namespace {

using prosody_import::RawFile;
using prosody_import::RawUser;
using prosody_import::UserData;

constexpr std::size_t kMaxFileBytes = 64 << 20;
// For internal_plain accounts: what the server uses for new passwords (daemon/parent.cc).
constexpr std::uint32_t kNewPasswordIterations = 10000;

struct User {
  std::string host, name;
  RawUser files;
  std::string read_error;     // the account file could not be read: the account is refused
  std::string data_warnings;  // other files that could not be read: skipped
};

bool server_answers(const std::string& socket_path) {
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (!fd || socket_path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  return connect(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0;
}

// A directory under `at`, never through a symbolic link: the walk from DATA_DIR goes one
// openat(O_NOFOLLOW) at a time, so no component of the path can lead elsewhere. An empty fd
// when it does not exist; `error` set when it exists but is no directory (or a link).
UniqueFd open_dir(int at, const std::string& name, const std::string& path, std::string& error) {
  UniqueFd fd(openat(at, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY));
  if (!fd && errno != ENOENT)
    error = path + ": " +
            (errno == ELOOP || errno == ENOTDIR ? "a symbolic link or not a directory, refused"
                                                : std::string(std::strerror(errno)));
  return fd;
}

std::vector<std::string> entries(int dir) {
  std::vector<std::string> out;
  const int copy = dir < 0 ? -1 : fcntl(dir, F_DUPFD_CLOEXEC, 0);
  DIR* d = copy < 0 ? nullptr : fdopendir(copy);
  if (d == nullptr) {
    if (copy >= 0) close(copy);
    return out;
  }
  while (struct dirent* e = readdir(d))
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// The bytes of a regular file `name` in `dir` (no symbolic link followed), at most
// kMaxFileBytes. nullopt when it does not exist; `error` set when it exists but cannot be read.
std::optional<std::string> read_file(int dir, const std::string& name, const std::string& path, std::string& error) {
  if (dir < 0) return std::nullopt;
  UniqueFd fd(openat(dir, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) {
    if (errno != ENOENT) error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    return std::nullopt;
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxFileBytes) {
    error = path + ": larger than " + std::to_string(kMaxFileBytes) + " bytes";
    return std::nullopt;
  }
  std::string bytes;
  char buffer[65536];
  for (;;) {
    const ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = path + ": " + std::strerror(errno);
      return std::nullopt;
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
    if (bytes.size() > kMaxFileBytes) {
      error = path + ": larger than " + std::to_string(kMaxFileBytes) + " bytes";
      return std::nullopt;
    }
  }
  return bytes;
}

// One store's directory under a host's: its path for messages and its descriptor.
struct StoreDir {
  std::string path;
  UniqueFd fd;
};

void add_file(User& user, const std::string& store, const StoreDir& dir, const std::string& name, bool list) {
  std::string error;
  const std::string path = dir.path + "/" + name;
  if (auto bytes = read_file(dir.fd.get(), name, path, error))
    user.files[store] = RawFile{path, std::move(*bytes), list};
  if (!error.empty()) (store == "accounts" ? user.read_error : user.data_warnings) += error + "\n";
}

// The users of one host (its directory open as `host_fd`): one per accounts/USER.dat, with
// every file Prosody 0.12 keeps for them. `error` set when the host cannot be read.
std::vector<User> users_of(int host_fd, const std::string& host_dir, const std::string& host, std::string& error) {
  std::vector<User> users;
  std::map<std::string, StoreDir> stores;  // store name as xmppd names it -> its directory
  for (const std::string& entry : entries(host_fd)) {
    std::string store = entry;
    if (entry.starts_with("pep_")) {
      auto node = prosody::decode_path_part(entry.substr(4));
      if (!node) continue;
      store = "pep_" + *node;
    } else if (entry != "accounts" && entry != "roster" && entry != "vcard" && entry != "private" && entry != "pep" &&
               entry != "offline") {
      continue;
    }
    std::string why;
    StoreDir dir{host_dir + "/" + entry, open_dir(host_fd, entry, host_dir + "/" + entry, why)};
    if (entry == "accounts" && !why.empty()) {
      error = why;
      return users;
    }
    if (!why.empty()) std::fprintf(stderr, "xmppctl: %s: warning: %s (skipped)\n", host.c_str(), why.c_str());
    if (dir.fd) stores.emplace(store, std::move(dir));
  }
  if (!stores.contains("accounts")) return users;
  for (const std::string& file : entries(stores.at("accounts").fd.get())) {
    if (!file.ends_with(".dat")) continue;
    const std::string encoded = file.substr(0, file.size() - 4);
    User user{host, prosody::decode_path_part(encoded).value_or(""), {}, {}, {}};
    auto jid = xmpp::Jid::parse(user.name + "@" + host);
    if (user.name.empty() || !jid || jid->local() != user.name) {
      user.read_error = host_dir + "/accounts/" + file + ": not a username xmppd can take\n";
      users.push_back(std::move(user));
      continue;
    }
    for (const auto& [store, dir] : stores) {
      const bool list = store == "offline" || store.starts_with("pep_");
      add_file(user, store, dir, encoded + (list ? ".list" : ".dat"), list);
    }
    users.push_back(std::move(user));
  }
  return users;
}

// In a child: the role's user and directory, as daemon/child_process.cc gives xmppd's.
bool enter_role(const ipc::Privsep& role, std::string& error) {
  if (!role.switch_user()) {
    if (chdir(role.directory().c_str()) == 0) return true;
    error = role.directory() + ": " + std::strerror(errno);
    return false;
  }
  if (chroot(role.directory().c_str()) != 0 || chdir("/") != 0 || setgroups(0, nullptr) != 0 ||
      setgid(role.gid()) != 0 || setuid(role.uid()) != 0) {
    error = "cannot become " + role.user() + " in " + role.directory() + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

// The account alone: nothing in the user's other files (which others can write into, with an
// offline message or a subscription request) can refuse it.
std::optional<prosody_import::Account> convert_account(const User& user) {
  std::string error = user.read_error;
  std::optional<prosody_import::Account> account;
  auto file = user.files.find("accounts");
  if (error.empty() && file == user.files.end()) error = user.name + "@" + user.host + ": no accounts/USER.dat\n";
  if (error.empty()) account = prosody_import::convert_account(file->second, error);
  if (!account) {
    if (!error.ends_with('\n')) error += '\n';
    std::fprintf(stderr, "xmppctl: %s@%s not imported:\n%s", user.name.c_str(), user.host.c_str(), error.c_str());
  }
  return account;
}

// Child 1, as auth_helper_user: the accounts. One byte per user on `answers`.
int import_accounts(const ipc::Privsep& role, const std::vector<User>& users, bool force, int answers) {
  std::string error;
  auth::prepare_scram_crypto();  // OpenSSL's files, before the chroot hides them
  if (!enter_role(role, error)) return std::fprintf(stderr, "xmppctl: %s\n", error.c_str()), 1;
  auto store = auth::CredentialStore::open("credentials.sqlite", error);
  if (!store) return std::fprintf(stderr, "xmppctl: %s\n", error.c_str()), 1;
  struct HostCounts {
    std::size_t imported = 0, skipped = 0, refused = 0;
  };
  std::map<std::string, HostCounts> counts;
  for (const User& user : users) {
    char answer = 'e';
    std::optional<prosody_import::Account> data = convert_account(user);
    const std::string bare = user.name + "@" + user.host;
    if (data && store->exists(user.host, user.name) && !force) {
      std::printf("%s: exists in xmppd, skipped (-F to replace it)\n", bare.c_str());
      answer = '0';
    } else if (data) {
      const bool ok = data->sha1
                          ? store->set_sha1_credential(user.host, user.name, *data->sha1, error)
                          : store->set_password(user.host, user.name, *data->password, kNewPasswordIterations, error);
      if (ok)
        answer = '1';
      else
        std::fprintf(stderr, "xmppctl: %s: %s\n", bare.c_str(), error.c_str());
    }
    HostCounts& c = counts[user.host];
    ++(answer == '1' ? c.imported : answer == '0' ? c.skipped : c.refused);
    if (write(answers, &answer, 1) != 1) return 1;
  }
  for (const auto& [host, c] : counts)
    std::printf("%s: %zu accounts imported, %zu skipped, %zu refused; %zu accounts SHA-1-only\n", host.c_str(),
                c.imported, c.skipped, c.refused, store->sha1_only_accounts(host));
  return 0;
}

struct Counts {
  std::size_t users = 0, roster = 0, requests = 0, offline = 0, vcards = 0, private_xml = 0, pep_nodes = 0,
              pep_items = 0;
};

using Outcome = router::UserStore::Outcome;

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

// Child 2, as xmppd_user: everything else, for the users whose accounts were imported.
int import_user_data(const ipc::Privsep& role, const std::vector<User>& users, const std::string& answers) {
  std::string error;
  if (!enter_role(role, error)) return std::fprintf(stderr, "xmppctl: %s\n", error.c_str()), 1;
  auto store = router::UserStore::open("user.sqlite", error);
  if (!store) return std::fprintf(stderr, "xmppctl: %s\n", error.c_str()), 1;
  auto items = router::ItemStore::open(*store, error);
  if (!items) return std::fprintf(stderr, "xmppctl: %s\n", error.c_str()), 1;
  std::map<std::string, Counts> counts;
  int status = 0;
  for (std::size_t i = 0; i < users.size(); ++i) {
    if (answers[i] != '1') continue;
    const User& user = users[i];
    std::string warnings;
    const UserData data = prosody_import::convert_data(user.name, user.host, user.files, warnings);
    const std::string bare = user.name + "@" + user.host;
    if (!warnings.empty())
      std::fprintf(stderr, "xmppctl: %s: warning: skipped or narrowed:\n%s", bare.c_str(), warnings.c_str());
    if (write_user(*store, *items, bare, data, counts[user.host]) != Outcome::kStored) {
      std::fprintf(stderr, "xmppctl: %s: the account was imported, but its data could not be written\n", bare.c_str());
      status = 1;
    }
  }
  for (const auto& [host, c] : counts)
    std::printf(
        "%s: data of %zu users: %zu roster items, %zu pending subscription requests, %zu offline messages, "
        "%zu vCards, %zu private XML elements, %zu PEP nodes with %zu items\n",
        host.c_str(), c.users, c.roster, c.requests, c.offline, c.vcards, c.private_xml, c.pep_nodes, c.pep_items);
  return status;
}

// Runs `body` in a child and returns its exit status (1 if it died).
template <typename Body>
int in_child(Body body) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    const int status = body();
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(status);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: xmppctl import prosody [-F] data_dir [host ...]\n");
  std::exit(kExitUsage);
}

}  // namespace

int import_prosody(Context& context) {
  const config::Settings& settings = context.settings;
  const std::vector<std::string>& args = context.args;
  std::size_t at = 0;
  bool force = false;
  if (at < args.size() && args[at] == "-F") {
    force = true;
    ++at;
  }
  if (at >= args.size()) usage();
  const std::string data_dir = args[at++];
  std::vector<std::string> wanted(args.begin() + static_cast<std::ptrdiff_t>(at), args.end());

  if (server_answers(settings.data_path + "/control.sock"))
    fail(kExitFailed, "xmppd is running (" + settings.data_path + "/control.sock answers): stop xmppd first");
  UniqueFd data_fd(open(data_dir.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY));
  if (!data_fd) {
    std::fprintf(stderr, "xmppctl: %s: %s\n", data_dir.c_str(), std::strerror(errno));
    return 1;
  }
  std::vector<std::string> hosts;
  for (const auto& host : settings.hosts) {
    if (!host.enabled || host.authentication == "anonymous") continue;
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), host.name) == wanted.end()) continue;
    hosts.push_back(host.name);
  }
  for (const auto& w : wanted)
    if (std::find(hosts.begin(), hosts.end(), w) == hosts.end()) {
      fail(kExitUsage, w + " is not a VirtualHost of xmppd with accounts");
    }
  std::vector<User> users;
  bool host_refused = false;
  for (const std::string& host : hosts) {
    const std::string name = prosody::encode_path_part(host);
    const std::string dir = data_dir + "/" + name;
    std::string error;
    UniqueFd host_fd = open_dir(data_fd.get(), name, dir, error);
    std::vector<User> found;
    if (host_fd) found = users_of(host_fd.get(), dir, host, error);
    if (!error.empty()) {
      std::fprintf(stderr, "xmppctl: %s: not imported: %s\n", host.c_str(), error.c_str());
      host_refused = true;
      continue;
    }
    if (found.empty()) std::printf("%s: no accounts in %s\n", host.c_str(), dir.c_str());
    for (User& u : found) users.push_back(std::move(u));
  }
  for (const User& u : users)
    if (!u.data_warnings.empty())
      std::fprintf(stderr, "xmppctl: %s@%s: warning: files skipped:\n%s", u.name.c_str(), u.host.c_str(),
                   u.data_warnings.c_str());
  if (users.empty()) return host_refused ? kExitFailed : kExitOk;

  parent::RolePrivsep roles;
  std::string error;
  if (!parent::prepare_privsep(settings, roles, error)) {
    std::fprintf(stderr, "xmppctl: %s\n", error.c_str());
    return 1;
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return 1;
  UniqueFd answers_in(pipe_fds[0]), answers_out(pipe_fds[1]);
  // Read while the child runs: more users than the pipe buffers would otherwise block it.
  std::string answers;
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    answers_in.reset();
    const int status = import_accounts(roles.auth, users, force, answers_out.get());
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(status);
  }
  answers_out.reset();
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(answers_in.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answers.append(buffer, static_cast<std::size_t>(n));
    if (answers.size() > users.size()) break;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const bool accounts_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && answers.size() == users.size();
  if (!accounts_ok) {
    std::fprintf(stderr, "xmppctl: the accounts could not be imported\n");
    return 1;
  }
  for (char c : answers)
    if (c != '0' && c != '1' && c != 'e') return 1;
  const int data_status = in_child([&] { return import_user_data(roles.router, users, answers); });
  const bool refused = answers.find('e') != std::string::npos;
  return refused || host_refused || data_status != 0 ? kExitFailed : kExitOk;
}

}  // namespace xmppd::ctl
