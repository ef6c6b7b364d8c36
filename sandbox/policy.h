// Syscall policies, one per role, declared in one place (policy.cc) and built from named sets
// so that each list reads in one screen. The backend (seccomp_linux.cc) turns a Policy into
// a filter.
#pragma once

#include <cstdint>
#include <vector>

#include "sandbox/sandbox.h"

namespace xmppd::sandbox {

// A condition on one syscall argument: (arg & mask) == value.
struct ArgMatch {
  unsigned index;
  std::uint64_t mask;
  std::uint64_t value;
};

struct Allow {
  const char* syscall;
  std::vector<ArgMatch> only_if;  // all must hold; empty means any arguments
};

// A syscall that fails with an errno instead of killing, because a library probes for it
// and handles the failure (glibc treats EPERM from clone3 as fatal, ENOSYS makes it fall back).
struct Refuse {
  const char* syscall;
  int error;
};

struct Policy {
  const char* name;
  std::vector<Allow> allow;
  std::vector<Refuse> refuse;
};

Policy policy_for(Role role);

}  // namespace xmppd::sandbox
