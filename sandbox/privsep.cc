#include <grp.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/sandbox.h"

namespace xmppd::sandbox {
namespace {

bool failed(std::string& error, const char* what) {
  error = std::string(what) + ": " + std::strerror(errno);
  return false;
}

bool switch_user(const Privsep& p, std::string& error) {
  // The path to the new root is looked up as the role's user: its directory is its own and
  // 0700, and under systemd (conf/xmppd.service) root has no CAP_DAC_READ_SEARCH to search
  // it. The file-system ids drop only the file capabilities; CAP_SYS_CHROOT stays.
  setfsgid(p.gid);
  setfsuid(p.uid);
  if (chroot(p.directory.c_str()) != 0) return failed(error, ("chroot " + p.directory).c_str());
  if (chdir("/") != 0) return failed(error, "chdir /");
  gid_t groups[1] = {p.gid};
  if (setgroups(1, groups) != 0) return failed(error, "setgroups");
  if (setresgid(p.gid, p.gid, p.gid) != 0) return failed(error, "setresgid");
  if (setresuid(p.uid, p.uid, p.uid) != 0) return failed(error, "setresuid");

  uid_t r, e, s;
  gid_t rg, eg, sg;
  if (getresuid(&r, &e, &s) != 0 || r != p.uid || e != p.uid || s != p.uid ||
      getresgid(&rg, &eg, &sg) != 0 || rg != p.gid || eg != p.gid || sg != p.gid) {
    error = "user switch did not take effect";
    return false;
  }
  if (p.uid != 0 && setuid(0) != -1) {
    error = "root could be regained after the user switch";
    return false;
  }
  return true;
}

}  // namespace

const char* role_name(Role role) {
  switch (role) {
    case Role::kRouter: return "router";
    case Role::kS2s: return "s2s";
    case Role::kTls: return "tls";
    case Role::kAuth: return "auth";
    case Role::kStorage: return "storage";
    case Role::kHttp: return "http";
  }
  return "?";
}

bool drop_privileges(const Privsep& privsep, std::string& error) {
  if (privsep.switch_user) {
    if (!switch_user(privsep, error)) return false;
  } else if (!privsep.directory.empty() && chdir(privsep.directory.c_str()) != 0) {
    return failed(error, ("chdir " + privsep.directory).c_str());
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failed(error, "PR_SET_NO_NEW_PRIVS");
  // Not dumpable: no core files with secrets, and no ptrace or /proc/PID/mem from processes
  // of the same user.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return failed(error, "PR_SET_DUMPABLE");
  return true;
}

}  // namespace xmppd::sandbox
