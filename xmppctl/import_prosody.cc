// xmppctl import prosody [-F] DATA_DIR [HOST...]: moves the users of a stopped Prosody 0.12
// (its `internal` storage, files under DATA_DIR) into a stopped xmppd.
//
// Trust: xmppctl runs as root and never parses Prosody's files itself. It reads their bytes
// (regular files only, bounded, each directory opened with openat(O_NOFOLLOW) from DATA_DIR
// on, so no symbolic link below DATA_DIR is followed) and executes itself afresh twice, as
// `xmppctl -R ROLE` (import_child.cc), each child with only a socket and its stream (one
// frame per user or room, import.proto): the bytes of the stores it writes, nothing of the
// configuration. Each drops to the user owning
// its store as xmppd's own children do (chroot, setgid/setuid, no_new_privs) and enters the
// auth helper's seccomp allowlist before it parses anything:
//   1. import-accounts, as auth_helper_user in DATA_PATH/auth: gets accounts/USER.dat alone
//      (others can write into the other files) and writes the credential store, skipping an
//      account that exists unless -F; it answers one byte per user, '1' imported, '0'
//      skipped, 'e' refused.
//   2. import-data, as xmppd_user in DATA_PATH/router: gets every other file of the users the
//      first child imported (never an account's), and writes roster, pending requests,
//      offline messages, vCard, private XML, PEP nodes and the archive (mod_mam's, within
//      storage_archive_item_limit) to the router's user store, each user's data replacing
//      what xmppd had for them; and the persistent rooms of the MUC
//      components named (Component "..." "muc" in xmppd's configuration): SERVICE/config/
//      ROOM.dat, mod_muc's store, into the router's room store (prosody_rooms.h), a room
//      that exists in xmppd (or was destroyed there) skipped unless -F, one destroyed in
//      Prosody kept as a tombstone. A bad room file skips that room, whole.
// The children's messages come back in their reports and are printed with control
// characters replaced. A malformed account file refuses that account, with FILE:LINE
// messages, and the exit code is then 1; a bad item of the other files is skipped (a file
// that does not parse, the whole file) with a FILE:LINE warning. xmppd must not be running:
// the stores would be written under its feet.
#include "xmppctl/xmppctl.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>

#include "common/unique_fd.h"
#include "daemon/privsep_setup.h"
#include "import.pb.h"
#include "xmpp/jid.h"
#include "xmppctl/import_frame.h"
#include "xmppctl/prosody_data.h"
#include "xmppctl/prosody_user.h"

namespace xmppd::ctl {
namespace {

using prosody_import::RawFile;
using prosody_import::RawUser;

constexpr std::size_t kMaxFileBytes = 64 << 20;
// For internal_plain accounts: what the server uses for new passwords (daemon/parent.cc).
constexpr std::uint32_t kNewPasswordIterations = 10000;
constexpr std::size_t kMaxReportBytes = 64 << 20;  // a child's answers and messages

// A child's text as printed: control characters (but newlines) replaced, so that what a
// Prosody file held cannot drive the terminal.
std::string shown(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f) c = '?';
  return out;
}

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

// A room file of a MUC component, read as bytes.
struct Room {
  std::string service, name, path, bytes;
  std::string archive_path, archive_bytes;  // muc_log/ROOM.list, empty path without one
};

// The rooms Prosody kept for the MUC component `service` (its directory open as `dir`):
// config/ROOM.dat each. A file that cannot be read is warned about and skipped.
std::vector<Room> rooms_of(int dir, const std::string& dir_path, const std::string& service) {
  std::vector<Room> rooms;
  std::string why;
  const std::string config_path = dir_path + "/config";
  UniqueFd config = open_dir(dir, "config", config_path, why);
  if (!why.empty()) std::fprintf(stderr, "xmppctl: %s: warning: %s (skipped)\n", service.c_str(), why.c_str());
  why.clear();
  const std::string log_path = dir_path + "/muc_log";
  UniqueFd log = open_dir(dir, "muc_log", log_path, why);
  if (!why.empty()) std::fprintf(stderr, "xmppctl: %s: warning: %s (skipped)\n", service.c_str(), why.c_str());
  for (const std::string& file : entries(config.get())) {
    if (!file.ends_with(".dat")) continue;
    const std::string path = config_path + "/" + file;
    auto name = prosody::decode_path_part(file.substr(0, file.size() - 4));
    std::string error;
    std::optional<std::string> bytes;
    if (name && !name->empty()) bytes = read_file(config.get(), file, path, error);
    if (!name || name->empty()) error = path + ": not a room name";
    if (bytes) {
      Room room{service, *name, path, std::move(*bytes), {}, {}};
      const std::string list = file.substr(0, file.size() - 4) + ".list";
      std::string unread;
      if (auto archive = read_file(log.get(), list, log_path + "/" + list, unread)) {
        room.archive_path = log_path + "/" + list;
        room.archive_bytes = std::move(*archive);
      }
      if (!unread.empty())
        std::fprintf(stderr, "xmppctl: %s: warning: %s (the room's archive skipped)\n", service.c_str(), unread.c_str());
      rooms.push_back(std::move(room));
    }
    if (!error.empty()) std::fprintf(stderr, "xmppctl: %s: warning: %s (room skipped)\n", service.c_str(), error.c_str());
  }
  return rooms;
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
               entry != "offline" && entry != "archive") {
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
      const bool list = store == "offline" || store == "archive" || store.starts_with("pep_");
      add_file(user, store, dir, encoded + (list ? ".list" : ".dat"), list);
    }
    users.push_back(std::move(user));
  }
  return users;
}

// Where a child confines itself (the first frame of its stream).
wire::ImportRequest request_for(const ipc::Privsep& role) {
  wire::ImportRequest request;
  request.set_switch_user(role.switch_user());
  request.set_uid(role.uid());
  request.set_gid(role.gid());
  request.set_directory(role.directory());
  return request;
}

// One user's frame: the accounts file alone, or (`accounts` false) every other file, moved
// out of `user`: the data child is the last to need them.
wire::ImportItem user_item(User& user, bool accounts) {
  wire::ImportItem item;
  wire::ImportUser* u = item.mutable_user();
  u->set_host(user.host);
  u->set_name(user.name);
  if (accounts) u->set_read_error(user.read_error);
  for (auto& [store, file] : user.files) {
    if ((store == "accounts") != accounts) continue;
    wire::ImportFile* f = u->add_files();
    f->set_store(store);
    f->set_path(file.path);
    if (accounts)
      f->set_bytes(file.bytes);
    else
      f->set_bytes(std::move(file.bytes));
    f->set_list(file.list);
  }
  return item;
}

wire::ImportItem room_item(Room& room, const config::MucSettings& muc) {
  wire::ImportItem item;
  wire::ImportRoom* r = item.mutable_room();
  wire::MucLimits* limits = r->mutable_limits();
  limits->set_max_occupants(muc.max_occupants);
  limits->set_max_history_messages(muc.max_history_messages);
  limits->set_max_subject_length(muc.max_subject_length);
  limits->set_max_nick_length(muc.max_nick_length);
  limits->set_log_by_default(muc.log_by_default);
  r->set_service(room.service);
  r->set_name(room.name);
  r->set_path(room.path);
  r->set_bytes(std::move(room.bytes));
  r->set_archive_path(room.archive_path);
  r->set_archive_bytes(std::move(room.archive_bytes));
  return item;
}

// The options of the MUC component `service` (one of settings.components).
const config::MucSettings& muc_of(const config::Settings& settings, const std::string& service) {
  static const config::MucSettings defaults;
  for (const auto& component : settings.components)
    if (component.name == service) return component.muc;
  return defaults;
}

// In the forked process, before exec: only async-signal-safe calls. A new session (no
// controlling terminal), /dev/null on 0-2, the socket on 3, nothing else open.
[[noreturn]] void exec_child(const char* role, int socket, int devnull, char* const* env) {
  static char arg0[] = "xmppctl", arg1[] = "-R";
  char* const argv[] = {arg0, arg1, const_cast<char*>(role), nullptr};
  const int high = fcntl(socket, F_DUPFD, 10);
  if (setsid() < 0 || high < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0 ||
      dup2(high, 3) < 0 || close_range(4, ~0U, 0) != 0)
    _exit(126);
  execve("/proc/self/exe", argv, env);
  _exit(127);
}

// The child's report: read to its end, at most kMaxReportBytes.
bool read_report(int fd, std::string& answer) {
  char buffer[65536];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    answer.append(buffer, static_cast<std::size_t>(n));
    if (answer.size() > kMaxReportBytes) return false;
  }
}

// Sends the users or rooms of a child's stream, a frame each (import.proto); false when the
// socket failed. `fd` is the child's socket.
using SendItems = std::function<bool(int fd)>;

// Runs `xmppctl -R role` on `request` and the frames `send_items` writes: a fresh process
// that holds nothing of this one but its stream (no configuration, no other store's bytes).
// Its messages are printed with control characters replaced; false when it failed or its
// report is not understood.
bool run_child(const char* role, const wire::ImportRequest& request, const SendItems& send_items,
               wire::ImportReport& report) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return false;
  UniqueFd ours(pair[0]), theirs(pair[1]);
  UniqueFd devnull(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) return false;
  // Only the sanitizers' settings (a sanitizer build's child reports as its parent does).
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "ASAN_", 5) == 0 || std::strncmp(*e, "UBSAN_", 6) == 0 || std::strncmp(*e, "LSAN_", 5) == 0)
      env.push_back(*e);
  env.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) exec_child(role, theirs.get(), devnull.get(), env.data());
  theirs.reset();
  wire::ImportItem end;
  end.set_end(true);
  // A child that stopped early (it could not confine itself) still sent its report.
  const bool sent = write_frame(ours.get(), request) && send_items(ours.get()) && write_frame(ours.get(), end);
  if (!sent) std::fprintf(stderr, "xmppctl: the %s child did not take all of its data\n", role);
  shutdown(ours.get(), SHUT_WR);
  std::string answer;
  const bool ok = read_report(ours.get(), answer);
  ours.reset();
  if (!ok) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const bool parsed = ok && report.ParseFromString(answer);
  if (parsed) {
    std::fputs(shown(report.out()).c_str(), stdout);
    std::fputs(shown(report.err()).c_str(), stderr);
  }
  return sent && parsed && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Writes `item`, or when it is larger than a frame may be, says so and leaves it out.
bool send_item(int fd, const wire::ImportItem& item, const std::string& what, bool& too_large) {
  if (item.ByteSizeLong() > kMaxImportFrame) {
    std::fprintf(stderr, "xmppctl: %s: more than %zu bytes of data, not imported\n", what.c_str(), kMaxImportFrame);
    too_large = true;
    return true;
  }
  return write_frame(fd, item);
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
  std::vector<std::string> services;  // MUC components
  for (const auto& component : settings.components) {
    if (!component.enabled || component.component_module != "muc") continue;
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), component.name) == wanted.end()) continue;
    services.push_back(component.name);
  }
  for (const auto& w : wanted)
    if (std::find(hosts.begin(), hosts.end(), w) == hosts.end() &&
        std::find(services.begin(), services.end(), w) == services.end()) {
      fail(kExitUsage, w + " is not a VirtualHost of xmppd with accounts or a MUC Component");
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
  std::vector<Room> rooms;
  for (const std::string& service : services) {
    const std::string name = prosody::encode_path_part(service);
    std::string error;
    UniqueFd dir = open_dir(data_fd.get(), name, data_dir + "/" + name, error);
    std::vector<Room> found;
    if (dir) found = rooms_of(dir.get(), data_dir + "/" + name, service);
    if (!error.empty()) {
      std::fprintf(stderr, "xmppctl: %s: not imported: %s\n", service.c_str(), error.c_str());
      host_refused = true;
    } else if (found.empty()) {
      std::printf("%s: no rooms in %s/%s/config\n", service.c_str(), data_dir.c_str(), name.c_str());
    }
    for (Room& r : found) rooms.push_back(std::move(r));
  }
  if (users.empty() && rooms.empty()) return host_refused ? kExitFailed : kExitOk;

  parent::RolePrivsep roles;
  std::string error;
  if (!parent::prepare_privsep(settings, roles, error)) {
    std::fprintf(stderr, "xmppctl: %s\n", error.c_str());
    return 1;
  }
  std::string answers;
  bool too_large = false;
  if (!users.empty()) {
    wire::ImportRequest accounts = request_for(roles.auth);
    accounts.set_force(force);
    accounts.set_iterations(kNewPasswordIterations);
    // An account file is at most kMaxFileBytes: its frame is never too large.
    const SendItems send = [&](int fd) {
      for (User& user : users)
        if (!write_frame(fd, user_item(user, true))) return false;
      return true;
    };
    wire::ImportReport report;
    const bool accounts_ok = run_child("import-accounts", accounts, send, report);
    answers = report.answers();
    if (!accounts_ok || answers.size() != users.size() ||
        answers.find_first_not_of("01e") != std::string::npos) {
      std::fprintf(stderr, "xmppctl: the accounts could not be imported\n");
      return kExitFailed;
    }
  }
  bool data_ok = true;
  if (answers.find('1') != std::string::npos || !rooms.empty()) {
    wire::ImportRequest data = request_for(roles.router);
    data.set_force(force);
    data.set_archive_items(settings.quotas.archive_items);
    // A user or room at a time, each moved out as it is sent: xmppctl never holds a second
    // copy, nor the child more than one.
    const SendItems send = [&](int fd) {
      for (std::size_t i = 0; i < users.size(); ++i) {
        if (answers[i] != '1') continue;
        if (!send_item(fd, user_item(users[i], false), users[i].name + "@" + users[i].host, too_large)) return false;
        users[i].files.clear();
      }
      for (Room& room : rooms)
        if (!send_item(fd, room_item(room, muc_of(settings, room.service)), room.name + "@" + room.service,
                       too_large))
          return false;
      return true;
    };
    wire::ImportReport data_report;
    data_ok = run_child("import-data", data, send, data_report);
  }
  const bool refused = answers.find('e') != std::string::npos;
  return refused || host_refused || too_large || !data_ok ? kExitFailed : kExitOk;
}

}  // namespace xmppd::ctl
