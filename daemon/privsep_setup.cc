#include "daemon/privsep_setup.h"

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xmppd::parent {
namespace {

bool fail(std::string& error, const std::string& path, const char* what) {
  error = path + ": " + what;
  return false;
}

bool resolve_user(const std::string& name, ipc::Privsep& p, std::string& error) {
  struct passwd* pw = getpwnam(name.c_str());
  if (pw == nullptr) {
    error = "user '" + name + "' does not exist (create it, or set the option naming it)";
    return false;
  }
  if (pw->pw_uid == 0) {
    error = "user '" + name + "' is root: the children must run unprivileged";
    return false;
  }
  p.set_switch_user(true);
  p.set_uid(pw->pw_uid);
  p.set_gid(pw->pw_gid);
  p.set_user(name);
  return true;
}

// Creates `path` if missing, then insists on a real directory with this owner and mode:
// a directory an unprivileged role could replace would let it choose another role's root.
bool ensure_dir(const std::string& path, uid_t uid, gid_t gid, mode_t mode, std::string& error) {
  if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return fail(error, path, std::strerror(errno));
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return fail(error, path, std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return fail(error, path, "not a directory");
  // Mode first, while root still owns it: chmod of another user's file would need CAP_FOWNER.
  if ((st.st_mode & 07777) != mode && chmod(path.c_str(), mode) != 0) return fail(error, path, std::strerror(errno));
  if ((st.st_uid != uid || st.st_gid != gid) && chown(path.c_str(), uid, gid) != 0)
    return fail(error, path, std::strerror(errno));
  return true;
}

bool check_empty_root_dir(const std::string& path, std::string& error) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return fail(error, path, std::strerror(errno));
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return fail(error, path, std::strerror(errno));
  if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0)
    return fail(error, path, "must be a directory owned by root and writable by nobody else");
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return fail(error, path, std::strerror(errno));
  bool empty = true;
  while (struct dirent* e = readdir(dir))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
  closedir(dir);
  return empty || fail(error, path, "must be empty");
}

}  // namespace

const ipc::Privsep& RolePrivsep::of(ipc::Role role) const {
  switch (role) {
    case ipc::ROLE_S2S: return s2s;
    case ipc::ROLE_TLS: return tls;
    case ipc::ROLE_AUTH: return auth;
    case ipc::ROLE_STORAGE: return storage;
    case ipc::ROLE_HTTP: return http;
    default: return router;
  }
}

bool prepare_privsep(const config::Settings& settings, RolePrivsep& out, std::string& error) {
  const std::string& data = settings.data_path;
  const std::string router_dir = data + "/router", auth_dir = data + "/auth";
  const std::string storage_dir = data + "/storage", http_dir = data + "/http";
  out.router.set_directory(router_dir);
  out.auth.set_directory(auth_dir);
  out.storage.set_directory(storage_dir);
  out.http.set_directory(http_dir);

  if (geteuid() != 0) {
    uid_t uid = geteuid();
    gid_t gid = getegid();
    out.s2s.set_directory("/");
    out.tls.set_directory("/");
    out.storage.set_directory("/");
    return ensure_dir(data, uid, gid, 0700, error) && ensure_dir(router_dir, uid, gid, 0700, error) &&
           ensure_dir(auth_dir, uid, gid, 0700, error) &&
           (!settings.serves_http() || ensure_dir(http_dir, uid, gid, 0700, error));
  }

  if (!resolve_user(settings.xmppd_user, out.router, error) || !resolve_user(settings.xmppd_user, out.s2s, error) ||
      !resolve_user(settings.tls_helper_user, out.tls, error) ||
      !resolve_user(settings.auth_helper_user, out.auth, error))
    return false;
  // Its own user, so that it cannot read the router's files (nor they its memory), and a
  // chroot of its own, which it cannot write to: it needs no file at all.
  if (settings.uses_postgres() &&
      (!resolve_user(settings.storage_user, out.storage, error) || !ensure_dir(data, 0, 0, 0755, error) ||
       !check_empty_root_dir(storage_dir, error)))
    return false;
  // Its own user too: the HTTP process parses HTTP from anyone, and must reach neither the
  // router's store nor the router's memory; its chroot is the upload store, its own.
  if (settings.serves_http() &&
      (!resolve_user(settings.http_user, out.http, error) || !ensure_dir(data, 0, 0, 0755, error) ||
       !ensure_dir(http_dir, out.http.uid(), out.http.gid(), 0700, error)))
    return false;
  if (!check_empty_root_dir(settings.empty_path, error)) return false;
  out.s2s.set_directory(settings.empty_path);
  out.tls.set_directory(settings.empty_path);
  return ensure_dir(data, 0, 0, 0755, error) &&
         ensure_dir(router_dir, out.router.uid(), out.router.gid(), 0700, error) &&
         ensure_dir(auth_dir, out.auth.uid(), out.auth.gid(), 0700, error);
}

}  // namespace xmppd::parent
