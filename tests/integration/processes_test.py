#!/usr/bin/env python3
"""The five processes: who they run as, where, under which sandbox, and what the parent does
when one of them dies, on SIGHUP and on SIGTERM."""
import os
import re
import resource
import shutil
import socket
import signal
import subprocess
import time

import harness
import streams
from harness import IntegrationTest, basic_config, proc_status, user_ids

MIB = 1024 * 1024
# The address space each child may reserve by default (daemon/parent.cc, child_memory_limit).
DEFAULT_MEMORY_LIMIT = {"router": 4096 * MIB, "s2s": 2048 * MIB, "tls": 1024 * MIB, "auth": 1024 * MIB}
EXPECTED_USER = {"router": "_xmppd", "s2s": "_xmppd", "tls": "_xmppd_tls", "auth": "_xmppd_auth"}


def sanitized_build():
    """Whether meson built with a sanitizer, which leaves the children without RLIMIT_AS."""
    with open(os.path.join(harness.BUILD_DIR, "build_config.h")) as f:
        return re.search(r"#define XMPPD_SANITIZED 1\b", f.read()) is not None


def address_space_limit(pid):
    """(soft, hard) of /proc/PID/limits' "Max address space", None for unlimited."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max address space"):
                soft, hard = line.split()[3:5]
                return tuple(None if v == "unlimited" else int(v) for v in (soft, hard))
    raise AssertionError(f"no address space line in /proc/{pid}/limits")


class Processes(IntegrationTest):
    def start(self):
        server = self.server(basic_config(self.workdir)).start()
        return server, server.wait_sandboxed_children()

    def test_each_child_is_sandboxed_as_its_own_user_in_its_own_root(self):
        server, kids = self.start()
        roots = {"router": f"{self.workdir}/data/router", "auth": f"{self.workdir}/data/auth",
                 "s2s": f"{self.workdir}/empty", "tls": f"{self.workdir}/empty"}
        for role, pid in kids.items():
            with self.subTest(role=role):
                status = proc_status(pid)
                self.assertEqual(status["Seccomp"], "2")
                self.assertEqual(status["NoNewPrivs"], "1")
                uid, gid = user_ids(EXPECTED_USER[role])
                self.assertEqual(status["Uid"].split(), [str(uid)] * 4)
                self.assertEqual(status["Gid"].split(), [str(gid)] * 4)
                self.assertEqual(status["Groups"].split(), [str(gid)])
                self.assertEqual(status["CapEff"], "0000000000000000")
                self.assertEqual(os.readlink(f"/proc/{pid}/root"), roots[role])
        # The parent keeps root and is not filtered: it must fork, exec and bind.
        self.assertEqual(proc_status(server.proc.pid)["Uid"].split()[0], "0")

    def test_each_child_has_its_address_space_limit(self):
        _, kids = self.start()
        for role, pid in kids.items():
            with self.subTest(role=role):
                want = None if sanitized_build() else DEFAULT_MEMORY_LIMIT[role]
                self.assertEqual(address_space_limit(pid), (want, want))

    def test_child_memory_limit_sets_every_child_and_a_child_past_it_dies_alone(self):
        if sanitized_build():
            self.skipTest("a sanitizer build sets no RLIMIT_AS")
        # 64 MiB: each child starts in about 20. Then connections that each leave a
        # part of a stanza in the router, with no per-address limits, push it past.
        config = basic_config(self.workdir, "child_memory_limit = 64\nmax_connections_per_address = 0\n"
                              "max_unauthenticated_per_address = 0\nc2s_timeout = 3600\n")
        server = self.server(config).start()
        kids = server.wait_sandboxed_children()
        for role, pid in kids.items():
            with self.subTest(role=role):
                self.assertEqual(address_space_limit(pid), (64 * MIB, 64 * MIB))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        part = b"<message to='a@localhost'><body>" + b"x" * 9000
        held = []
        try:
            for n in range(6000):
                if n % 100 == 0 and server.children().get("router") != kids["router"]:
                    break
                try:
                    sock = streams.connect(5222)
                    streams.open_stream(sock, "localhost")
                    sock.sendall(part)
                except OSError:
                    break  # the router died under us
                held.append(sock)
            # It says why, and exits (runtime/child.cc) rather than abort into its filter.
            server.wait_log(rf"router\[{kids['router']}\]: out of memory: the address space limit "
                            r"\(child_memory_limit\) is reached", timeout=30)
            server.wait_log(rf"router \(pid {kids['router']}\) exited with status 71")
        finally:
            for sock in held:
                sock.close()
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        after = harness.wait_for(
            lambda: (k := server.children()).get("router", kids["router"]) != kids["router"] and
            proc_status(k["router"]).get("Seccomp") == "2" and k, timeout=15, what="a new router")
        for other in ("s2s", "tls", "auth"):
            self.assertEqual(after[other], kids[other], f"{other} was restarted too")
        self.assertEqual(address_space_limit(after["router"]), (64 * MIB, 64 * MIB))
        server.wait_log(rf"router \(pid {after['router']}\) is ready")
        self.assertIsNone(server.proc.poll())

    def test_children_hold_no_file_outside_their_own_directory(self):
        _, kids = self.start()
        own = {"auth": f"{self.workdir}/data/auth/", "router": f"{self.workdir}/data/router/"}  # their stores
        for role, pid in kids.items():
            with self.subTest(role=role):
                targets = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
                # /proc/PID/statm: its own memory counters, kept for xmppctl status.
                files = [t for t in targets if t.startswith("/") and t not in ("/dev/null", f"/proc/{pid}/statm")
                         and not (role in own and t.startswith(own[role]))]
                self.assertEqual(files, [], f"{role} holds {files}")

    def test_killed_child_is_restarted_and_the_others_keep_running(self):
        server, kids = self.start()
        for role in ["tls", "auth", "s2s", "router"]:
            with self.subTest(role=role):
                before = server.children()
                os.kill(before[role], signal.SIGKILL)
                after = harness.wait_for(
                    lambda: (k := server.children()).get(role, before[role]) != before[role] and
                    proc_status(k[role]).get("Seccomp") == "2" and k,
                    what=f"a new {role}")
                for other in before:
                    if other != role:
                        self.assertEqual(after[other], before[other], f"{other} was restarted too")
                server.wait_log(rf"{role} \(pid {before[role]}\) killed by signal 9")
                # The peers are linked to the new process.
                server.wait_log(rf"{role} \(pid {after[role]}\) is ready")
        self.assertIsNone(server.proc.poll())

    def test_restarted_child_is_linked_to_its_peers_again(self):
        server, kids = self.start()
        server.wait_log(r"linked s2s and tls")
        mark = len(server.log())
        os.kill(kids["tls"], signal.SIGKILL)
        server.wait_log(r"linked router and tls", after=mark)
        server.wait_log(r"linked s2s and tls", after=mark)
        server.wait_log(r"router\[\d+\]: new link to tls", after=mark)

    def test_invalid_configuration_on_sighup_keeps_the_old_one(self):
        server, kids = self.start()
        with open(server.config) as f:
            good = f.read()
        server.write_config(good + "\ns2s_stanza_size_limit = 9999\n")
        server.proc.send_signal(signal.SIGHUP)
        server.wait_log(r"keeping the configuration in force")
        self.assertRegex(server.log(), rf"{server.config}:\d+: .*s2s_stanza_size_limit")
        self.assertEqual(server.children(), kids)

        server.write_config(good + "\ns2s_stanza_size_limit = 20000\n")
        server.proc.send_signal(signal.SIGHUP)
        server.wait_log(r"reloaded .* \(generation 2\)")
        server.wait_log(r"router\[\d+\]: configuration generation 2")
        self.assertEqual(server.children(), kids)

    def test_sigterm_stops_every_process(self):
        server, kids = self.start()
        self.assertEqual(server.stop(), 0)
        time.sleep(0.1)
        for role, pid in kids.items():
            self.assertIsNone(proc_status(pid), f"{role} (pid {pid}) still exists")
        # A stop the parent asked for reads as one, not as a death by signal 15.
        log = server.log()
        for role, pid in kids.items():
            self.assertRegex(log, rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z notice xmppd: {role}\[{pid}\] stopped")
        self.assertNotIn("killed by signal", log)

    def test_check_mode(self):
        good = os.path.join(self.workdir, "good.conf")
        bad = os.path.join(self.workdir, "bad.conf")
        with open(good, "w") as f:
            f.write(basic_config(self.workdir))
        with open(bad, "w") as f:
            f.write('VirtualHost "localhost"\nfunction f() end\n')
        ok = subprocess.run([harness.XMPPD, "-n", "-f", good], capture_output=True, text=True)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertIn("configuration OK", ok.stderr)
        ko = subprocess.run([harness.XMPPD, "-n", "-f", bad], capture_output=True, text=True)
        self.assertEqual(ko.returncode, 1)
        self.assertRegex(ko.stderr, rf"{bad}:2: ")
        missing = subprocess.run([harness.XMPPD, "-n", "-f", bad + ".missing"], capture_output=True, text=True)
        self.assertEqual(missing.returncode, 1)
        self.assertIn(bad + ".missing", missing.stderr)

    def test_bad_command_line(self):
        r = subprocess.run([harness.XMPPD, "-x"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("usage: xmppd", r.stderr)
        r = subprocess.run([harness.XMPPD, "-d", "extra-argument"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)

    def test_port_in_use_is_a_clear_start_up_error(self):
        import socket
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", 5222))
        blocker.listen()
        try:
            server = self.server(basic_config(self.workdir)).start()
            self.assertEqual(server.proc.wait(10), 1)
            self.assertIn("cannot listen on 127.0.0.1 port 5222: Address already in use", server.log())
        finally:
            blocker.close()

    def test_runs_without_root_for_development(self):
        uid, gid = user_ids("_xmppd")
        os.chown(self.workdir, uid, gid)
        # The build tree may sit where that user cannot reach (/root): run a copy of it.
        binaries = {"xmppd": harness.XMPPD, **{os.path.basename(p): p for p in harness.ROLE_BINARIES.values()}}
        for name, path in binaries.items():
            folder = os.path.join(self.workdir, "tree", os.path.basename(os.path.dirname(path)))
            os.makedirs(folder, exist_ok=True)
            shutil.copy2(path, folder)
        server = self.server(basic_config(self.workdir))
        server.binary = os.path.join(self.workdir, "tree", "daemon", "xmppd")
        server.start_as = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
        server.start()
        kids = server.wait_sandboxed_children()
        for role, pid in kids.items():
            with self.subTest(role=role):
                status = proc_status(pid)
                self.assertEqual(status["Uid"].split()[0], str(uid))
                self.assertEqual(status["NoNewPrivs"], "1")
        server.wait_log(r"not started as root: children keep uid")
        server.wait_log(r"tls\[\d+\]: not started as root: running as uid")

    def test_helpers_link_no_xml_parser_and_no_dns_library(self):
        for role in ["tls", "auth"]:
            libs = subprocess.run(["ldd", harness.ROLE_BINARIES[role]], capture_output=True, text=True).stdout
            with self.subTest(role=role):
                self.assertIn("libc.so", libs)  # ldd did read it
                self.assertNotIn("libexpat", libs)
                self.assertNotIn("libunbound", libs)


if __name__ == "__main__":
    harness.main()
