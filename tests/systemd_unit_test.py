#!/usr/bin/env python3
"""Checks conf/xmppd.service with systemd's own tools: `systemd-analyze security --offline=true`
must rate it 2.0 or less (docs/design.md, "Under systemd"), and its SystemCallFilter= must let
through every system call the parent and its children make before their own seccomp filters and
every one those filters allow (sandbox/policy.cc): a call the unit forbids would fail with EPERM
under systemd only, where no other test runs the server.

Usage: systemd_unit_test.py UNIT POLICY_SOURCE
Exits 77 (skipped, for meson) with a message when systemd-analyze is missing: ./dev installs the
systemd package, which holds it."""
import re
import shutil
import subprocess
import sys
import unittest

UNIT = ""
POLICY = ""
MAX_EXPOSURE = 2.0
# What the parent and the children call at start-up, reload and stop outside their own filters,
# beyond glibc's usual set (found with strace -f on a running server): changing users, chroot,
# installing each child's filter, and the limits set with prlimit64 (glibc's setrlimit).
STARTUP_CALLS = ["chroot", "seccomp", "setfsuid", "setfsgid", "setgroups", "setresuid", "setresgid", "setuid", "setgid", "prlimit64",
                 "execve", "clone", "clone3", "wait4", "prctl", "socketpair", "bind", "listen", "accept4"]


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


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    UNIT, POLICY = sys.argv[1], sys.argv[2]
    if shutil.which("systemd-analyze") is None:
        print("SKIP: systemd-analyze not found; install the systemd package (./dev test does)")
        sys.exit(77)
    unittest.main(argv=sys.argv[:1] + sys.argv[3:], verbosity=2)
