#!/usr/bin/env python3
"""Checks conf/xmppd.service with systemd's own tools: `systemd-analyze security --offline=true`
must rate it 2.0 or less (docs/design.md, "Under systemd"), and its SystemCallFilter= must let
through every system call the parent and its children make before their own seccomp filters and
every one those filters allow (sandbox/policy.cc): a call the unit forbids would fail with EPERM
under systemd only, where no other test runs the server.

Usage: systemd_unit_test.py UNIT POLICY_SOURCE
Exits 77 (skipped, for meson) with a message when systemd-analyze is missing: ./dev installs the
systemd package, which holds it."""
import os
import re
import shutil
import subprocess
import sys
import unittest

UNIT = ""
POLICY = ""
MAX_EXPOSURE = 2.0
# What the parent and the children call at start-up, reload and stop outside their own filters,
# beyond glibc's usual set (found with strace -f on a running server, docs/design.md "Under
# systemd"): changing users, chroot, installing each child's filter, the limits set with
# prlimit64 (glibc's setrlimit), starting and reaping the children, the sockets the parent binds.
# Each system call maps to the call in xmppd's sources that makes it.
#
# The list is kept by hand: which system calls a process makes before its filter is known only by
# running it (strace), and no test runs the server under systemd. How it goes stale:
# - a call that nothing makes any more: test_startup_calls_are_still_made fails and names it
#   (drop it here, and from the unit's SystemCallFilter= if only it needed it);
# - a new call made before a child's filter (a new wrapper in sandbox/, daemon/, runtime/) that
#   is neither here nor in the unit's filter: nothing here fails, and under systemd that call gets
#   EPERM (SystemCallErrorNumber=) so the server does not start or a child dies at start. Whoever
#   adds such a call runs strace -f on the server again and adds it here with its caller.
# None: made by a library, not by a call in xmppd's sources.
STARTUP_CALLS = {
    "chroot": r"\bchroot\(", "seccomp": r"\bseccomp_load\(", "setfsuid": r"\bsetfsuid\(",
    "setfsgid": r"\bsetfsgid\(", "setgroups": r"\bsetgroups\(", "setresuid": r"\bsetresuid\(",
    "setresgid": r"\bsetresgid\(", "setuid": r"\bsetuid\(", "prlimit64": r"\bsetrlimit\(",
    "execve": r"\bexecve\(", "clone": r"\bfork\(", "wait4": r"\bwaitpid\(", "prctl": r"\bprctl\(",
    "socketpair": r"\bsocketpair\(", "bind": r"\bbind\(", "listen": r"\blisten\(",
    "accept4": r"\baccept4\(",
    "clone3": None,  # glibc 2.34 and later try it first for a new thread or posix_spawn
}
# Where the processes' code lives (xmppctl runs outside the unit).
SOURCE_DIRS = ["daemon", "sandbox", "runtime", "common", "proto", "router", "s2s-worker", "auth-helper",
               "tls-helper"]

def analyze(*args):
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, check=False)


def expand(group, seen=None):
    """The system calls a @group (or a single name) stands for, as systemd-analyze lists them."""
    if not group.startswith("@"):
        return {group}
    seen = set() if seen is None else seen
    if group in seen:
        return set()
    seen.add(group)
    calls = set()
    for line in analyze("syscall-filter", group).stdout.splitlines():
        name = line.strip()
        if not name or name.startswith("#") or name == group:
            continue
        calls |= expand(name, seen)
    return calls


def unit_filter(text):
    """The calls the unit's SystemCallFilter= lines allow: an allow list, then ~ removals."""
    allowed = set()
    for line in re.findall(r"^SystemCallFilter=(.*)$", text, re.M):
        if line.startswith("~"):
            for item in line[1:].split():
                allowed -= expand(item)
        else:
            for item in line.split():
                allowed |= expand(item)
    return allowed


class SystemdUnitTest(unittest.TestCase):
    def test_exposure_at_most_two(self):
        result = analyze("security", "--offline=true", "--no-pager", UNIT)
        match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
        self.assertIsNotNone(match, f"no overall exposure in:\n{result.stdout}\n{result.stderr}")
        failing = [l for l in result.stdout.splitlines() if l.startswith("✗")]
        self.assertLessEqual(float(match.group(1)), MAX_EXPOSURE,
                             "systemd-analyze security rates %s %s; what costs points:\n%s"
                             % (UNIT, match.group(1), "\n".join(failing)))

    def test_filter_allows_what_xmppd_calls(self):
        with open(UNIT) as f:
            allowed = unit_filter(f.read())
        self.assertTrue(allowed, "the unit has no SystemCallFilter=")
        with open(POLICY) as f:
            sandboxed = set(re.findall(r'\{"([a-z0-9_]+)",', f.read()))
        self.assertTrue(sandboxed, f"no system calls found in {POLICY}")
        missing = sorted((sandboxed | set(STARTUP_CALLS)) - allowed)
        self.assertEqual(missing, [], "the unit's SystemCallFilter= forbids calls xmppd makes")

    def test_startup_calls_are_still_made(self):
        root = os.path.dirname(os.path.dirname(os.path.abspath(POLICY)))
        sources = []
        for folder in SOURCE_DIRS:
            for dirpath, _, names in os.walk(os.path.join(root, folder)):
                for name in names:
                    if name.endswith((".cc", ".h")) and "unittest" not in name:
                        with open(os.path.join(dirpath, name), errors="replace") as f:
                            sources.append(f.read())
        self.assertTrue(sources, f"no sources under {root}")
        text = "\n".join(sources)
        stale = sorted(call for call, made_by in STARTUP_CALLS.items()
                       if made_by is not None and not re.search(made_by, text))
        self.assertEqual(stale, [], "STARTUP_CALLS names system calls that nothing in the sources makes any more")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    UNIT, POLICY = sys.argv[1], sys.argv[2]
    if shutil.which("systemd-analyze") is None:
        print("SKIP: systemd-analyze not found; install the systemd package (./dev test does)")
        sys.exit(77)
    unittest.main(argv=sys.argv[:1] + sys.argv[3:], verbosity=2)
