// The sandbox every xmppd child enters before it reads a byte from anyone but the parent:
// an unprivileged user, a chroot, no_new_privs, not dumpable, and a seccomp allowlist of
// its role whose default action kills the process.
//
// This is the one interface the roles see. The Linux backend is seccomp (seccomp_linux.cc);
// an OpenBSD backend maps the same points onto pledge(2) and unveil(2).
#pragma once

#include <sys/types.h>

#include <string>

namespace xmppd::sandbox {

enum class Role { kRouter, kS2s, kTls, kAuth, kStorage, kHttp };

const char* role_name(Role role);

struct Privsep {
  bool switch_user = false;  // only when started as root
  uid_t uid = 0;
  gid_t gid = 0;
  std::string directory;  // chroot target when switching user, working directory otherwise
};

// Changes root and user, then sets no_new_privs and clears the dumpable flag. Verifies that
// root cannot be regained. On failure returns false and says why in `error`.
bool drop_privileges(const Privsep& privsep, std::string& error);

enum class Mode {
  kEnforce,  // a syscall outside the list kills the process with SIGSYS
  kLog,      // it is allowed and logged by the kernel (sanitizer builds only)
};

// The mode this build was configured with (meson option `sandbox`).
Mode build_mode();

// Installs the role's syscall filter (policy.cc). Everything the process needs to open must
// already be open. No way back.
bool enter(Role role, Mode mode, std::string& error);

}  // namespace xmppd::sandbox
