// Linux backend: a Policy becomes a libseccomp filter. Syscalls of other ABIs (i386, x32)
// are killed by libseccomp's bad-architecture action.
#include <seccomp.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "build_config.h"
#include "sandbox/policy.h"
#include "sandbox/sandbox.h"

namespace xmppd::sandbox {
namespace {

struct FilterDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

bool add_allow(scmp_filter_ctx ctx, const Allow& rule, std::string& error) {
  int nr = seccomp_syscall_resolve_name(rule.syscall);
  if (nr == __NR_SCMP_ERROR) {
    error = std::string("unknown syscall in policy: ") + rule.syscall;
    return false;
  }
  std::vector<scmp_arg_cmp> cmps;
  for (const ArgMatch& m : rule.only_if) cmps.push_back(SCMP_CMP(m.index, SCMP_CMP_MASKED_EQ, m.mask, m.value));
  int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, static_cast<unsigned>(cmps.size()), cmps.data());
  if (rc != 0) {
    error = std::string("cannot add rule for ") + rule.syscall + ": " + std::strerror(-rc);
    return false;
  }
  return true;
}

}  // namespace

Mode build_mode() { return XMPPD_SANDBOX_ENFORCE ? Mode::kEnforce : Mode::kLog; }

bool enter(Role role, Mode mode, std::string& error) {
  const Policy policy = policy_for(role);
  Filter filter(seccomp_init(mode == Mode::kEnforce ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_LOG));
  if (!filter) {
    error = "seccomp_init failed";
    return false;
  }
  for (const Allow& rule : policy.allow)
    if (!add_allow(filter.get(), rule, error)) return false;
  for (const Refuse& rule : policy.refuse) {
    int nr = seccomp_syscall_resolve_name(rule.syscall);
    if (nr == __NR_SCMP_ERROR) continue;  // this kernel ABI has no such call
    if (int rc = seccomp_rule_add(filter.get(), SCMP_ACT_ERRNO(rule.error), nr, 0); rc != 0) {
      error = std::string("cannot add rule for ") + rule.syscall + ": " + std::strerror(-rc);
      return false;
    }
  }
  if (int rc = seccomp_load(filter.get()); rc != 0) {
    error = std::string("seccomp_load: ") + std::strerror(-rc);
    return false;
  }
  return true;
}

}  // namespace xmppd::sandbox
