#!/usr/bin/env python3
"""xmppctl against one running xmppd with three logged-in slixmpp clients (one over direct
TLS): status (five processes, pids as /proc has them, and each one's memory although the parent
cannot read its children's /proc entries, as under the systemd unit), show c2s in columns and as JSON (TLS
version, SASL mechanism, direct TLS), users, kick of a full and of a bare JID (the client
gets <policy-violation/> with the reason, its other resource sees it go), reload of a good
and of a broken configuration, and a router that stalls (a timeout) or dies (an error at
once, then a new pid and a restart counted). One server start for the whole class."""
import asyncio
import json
import os
import signal
import subprocess
import time

import harness
from clients_test import Client, ClientTest
from harness import basic_config

HOST = "chat.test"
OTHER_HOST = "other.test"
C2S_TLS = 5223
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")


def hide_processes_as_the_unit_does():
    """/proc as ProtectProc=invisible (conf/xmppd.service) leaves it, without the exemption of
    group root: hidepid=invisible shows a process without CAP_SYS_PTRACE only itself and the
    dumpable processes of its own user. systemd mounts it without gid=, which exempts group 0
    (our parent's); gid=nogroup here takes that away, as in any deployment where the parent is
    not in the exempt group. The mount is in this test's private mount namespace
    (harness.enter_namespace); the prefix returned runs xmppd without CAP_SYS_PTRACE (the unit's
    CapabilityBoundingSet), which would see past hidepid."""
    subprocess.run(["mount", "--make-private", "/proc"], check=True)  # nothing leaves the namespace
    subprocess.run(["mount", "-t", "proc", "-o", "hidepid=invisible,gid=65534", "proc", "/proc"], check=True)
    return ["setpriv", "--inh-caps=-sys_ptrace", "--bounding-set=-sys_ptrace", "--"]


class WatchingClient(Client):
    """Records the stream errors it is sent and the unavailable presences it sees."""

    def __init__(self, jid, password, ca_file, mechanism=None):
        super().__init__(jid, password, ca_file, mechanism)
        self.stream_errors = asyncio.Queue()
        self.gone = asyncio.Queue()
        self.add_event_handler("stream_error", lambda e: self.stream_errors.put_nowait((e["condition"], e["text"])))
        self.add_event_handler("presence_unavailable", lambda p: self.gone.put_nowait(str(p["from"])))


class Xmppctl(ClientTest):
    def setUp(self):
        super().setUp()
        self.issue_host_certificates(HOST, OTHER_HOST)
        self.config_text = basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n'
                                        f"c2s_direct_tls_ports = {{ {C2S_TLS} }}\n")
        self.config_text = self.config_text.replace('VirtualHost "localhost"',
                                                    f'VirtualHost "{HOST}"\nVirtualHost "{OTHER_HOST}"\n')
        self.xmppd = self.server(self.config_text)
        self.xmppd.start_as = hide_processes_as_the_unit_does()
        self.xmppd.start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 2 hosts")
        for user in ("carol", "alice", "bob"):
            r = self.xmppctl("adduser", f"{user}@{HOST}", input=f"{user}'s secret\n")
            self.assertEqual(r.returncode, 0, r.stderr)

    def xmppctl(self, *args, input="", timeout=30):
        return subprocess.run([XMPPCTL, "-f", self.xmppd.config, *args], input=input, capture_output=True,
                              text=True, timeout=timeout)

    def wait(self, coroutine, timeout=20):
        return self.loop.run_until_complete(asyncio.wait_for(coroutine, timeout))

    def login(self, jid, mechanism, direct_tls=False):
        client = WatchingClient(jid, f"{jid.split('@')[0]}'s secret", self.ca_file, mechanism)
        self.clients.append(client)
        if direct_tls:
            client.connect(("127.0.0.1", C2S_TLS), use_ssl=True, disable_starttls=True)
        else:
            client.connect(("127.0.0.1", 5222))
        self.assertEqual(self.wait(client.outcome), "session")
        return client

    def eventually(self, predicate, what, timeout=10):
        """harness.wait_for with the clients' loop running meanwhile, so that they send."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.loop.run_until_complete(asyncio.sleep(0.1))
            if predicate():
                return
        self.fail(f"timed out waiting for {what}")

    def show_c2s(self):
        r = self.xmppctl("-j", "show", "c2s")
        self.assertEqual(r.returncode, 0, r.stderr)
        return {s["jid"]: s for s in json.loads(r.stdout)}

    def test_xmppctl_sees_and_steers_the_server(self):
        phone = self.login(f"alice@{HOST}/phone", "SCRAM-SHA-256")
        laptop = self.login(f"alice@{HOST}/laptop", "PLAIN", direct_tls=True)
        bob = self.login(f"bob@{HOST}/desk", "SCRAM-SHA-256")
        self.check_status()
        self.check_show_c2s(bob)
        self.check_users()
        self.check_kick(phone, laptop)
        self.check_reload()
        self.check_router_stall_and_death()
        self.check_auth_death()

    def check_status(self):
        r = self.xmppctl("-j", "status")
        self.assertEqual(r.returncode, 0, r.stderr)
        status = json.loads(r.stdout)
        self.assertEqual(status["generation"], 1)
        self.assertRegex(status["version"], r"^\d+\.\d+")
        processes = {p["role"]: p for p in status["processes"]}
        self.assertEqual(set(processes), {"parent", "router", "s2s", "tls", "auth"})
        children = self.xmppd.children()
        self.assertEqual(processes["parent"]["pid"], self.xmppd.proc.pid)
        for role, pid in children.items():
            self.assertEqual(processes[role]["pid"], pid, role)
        for role, p in processes.items():
            self.assertIs(p["ready"], True, role)
            self.assertEqual(p["restarts"], 0, role)
            # Each child's own answer: the parent could not read /proc/PID/status.
            self.assertGreater(p["resident_bytes"], 0, role)
            self.assertGreaterEqual(p["address_space_bytes"], p["resident_bytes"], role)
        # What the parent sees: nothing of its children (else this checks the old way again).
        for role, pid in children.items():
            r = subprocess.run([*self.xmppd.start_as, "cat", f"/proc/{pid}/status"], capture_output=True)
            self.assertNotEqual(r.returncode, 0, f"{role}: /proc/{pid}/status is readable without CAP_SYS_PTRACE")
        for role in children:
            rss = int(harness.proc_status(children[role])["VmRSS"].split()[0]) * 1024
            self.assertLess(abs(processes[role]["resident_bytes"] - rss), 16 << 20, role)
        r = self.xmppctl("status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^xmppd \S+, up \S+.*generation 1\n")
        self.assertRegex(r.stdout, r"PROCESS +PID +RSS MiB +VSZ MiB +RESTARTS +UPTIME +READY")
        self.assertRegex(r.stdout, rf"router +{children['router']} ")

    def check_show_c2s(self, bob):
        sessions = self.show_c2s()
        self.assertEqual(set(sessions), {f"alice@{HOST}/phone", f"alice@{HOST}/laptop", f"bob@{HOST}/desk"})
        phone, laptop = sessions[f"alice@{HOST}/phone"], sessions[f"alice@{HOST}/laptop"]
        self.assertEqual(phone["tls_version"], "TLSv1.3")
        self.assertTrue(phone["cipher"].startswith("TLS_"), phone)
        self.assertEqual(phone["mechanism"], "SCRAM-SHA-256")
        self.assertIs(phone["direct_tls"], False)
        self.assertEqual(laptop["mechanism"], "PLAIN")
        self.assertIs(laptop["direct_tls"], True)
        self.assertEqual(laptop["tls_version"], "TLSv1.3")
        for s in sessions.values():
            self.assertEqual(s["stream_management"], "off")
            self.assertEqual(s["presence"], "available")
            self.assertIs(s["inactive"], False)
            self.assertIs(s["websocket"], False)
            self.assertRegex(s["address"], r"^127\.0\.0\.1 \d+$")
            self.assertLess(s["idle_seconds"], 60)
            self.assertLess(s["age_seconds"], 60)
        r = self.xmppctl("show", "c2s")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertRegex(lines[0], r"^JID +ADDRESS +TLS +CIPHER +SASL +SM +PRESENCE +INACTIVE +DIRECT +WS +IDLE +AGE$")
        self.assertEqual(len(lines), 4)
        # Columns for people: each heading starts where its cells start.
        column = lines[0].index("SASL")
        self.assertTrue(any(line[column:].startswith("PLAIN ") for line in lines[1:]), r.stdout)
        r = self.xmppctl("-j", "show", "c2s", OTHER_HOST)
        self.assertEqual((r.returncode, json.loads(r.stdout)), (0, []), r.stderr)
        # A host as typed in another case is the same host (the server compares lowercase).
        r = self.xmppctl("-j", "show", "c2s", HOST.upper())
        self.assertEqual((r.returncode, len(json.loads(r.stdout))), (0, 3), r.stderr)
        bob.send_presence(pshow="away")
        self.eventually(lambda: self.show_c2s()[f"bob@{HOST}/desk"]["presence"] == "away", "bob away")
        bob.send_raw("<inactive xmlns='urn:xmpp:csi:0'/>")  # XEP-0352
        self.eventually(lambda: self.show_c2s()[f"bob@{HOST}/desk"]["inactive"] is True, "bob inactive")
        r = self.xmppctl("show", "c2s", "nowhere.test")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a VirtualHost", r.stderr)

    def check_users(self):
        r = self.xmppctl("users", HOST)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), ["JID", "SHA-1", "ONLY", f"alice@{HOST}", "no", f"bob@{HOST}", "no",
                                            f"carol@{HOST}", "no"])
        self.assertEqual(r.stderr, "")  # no note on accounts with a SCRAM-SHA-1 credential alone
        r = self.xmppctl("users", HOST.upper())
        self.assertEqual(r.stdout.split()[3::2], [f"alice@{HOST}", f"bob@{HOST}", f"carol@{HOST}"], r.stderr)
        r = self.xmppctl("-j", "users", OTHER_HOST)
        self.assertEqual((r.returncode, json.loads(r.stdout)), (0, []), r.stderr)
        # More than one record's worth (40 names of 1000 bytes; pages are 32 KiB): the auth
        # helper pages, the parent passes each page on, xmppctl prints them all in order.
        names = sorted(f"{i:02d}" + "u" * 998 for i in range(40))
        for name in reversed(names):
            r = self.xmppctl("adduser", f"{name}@{OTHER_HOST}", input="secret\n")
            self.assertEqual(r.returncode, 0, r.stderr)
        r = self.xmppctl("-j", "users", OTHER_HOST)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([u["jid"] for u in json.loads(r.stdout)], [f"{n}@{OTHER_HOST}" for n in names])
        r = self.xmppctl("users", "nowhere.test")
        self.assertEqual(r.returncode, 2, r.stderr)

    def check_kick(self, phone, laptop):
        # A reason that would be malformed XML in the stream error: refused, nobody kicked.
        for bad in ("line\x01break", b"bad \xff utf-8"):
            r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "kick", f"alice@{HOST}/phone", bad],
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(b"UTF-8 text without control characters", r.stderr)
        r = self.xmppctl("kick", f"alice@{HOST}/phone", "spamming", "the", "room")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 session ended", r.stdout)
        self.assertEqual(self.wait(phone.stream_errors.get()), ("policy-violation", "spamming the room"))
        self.assertEqual(self.wait(laptop.gone.get()), f"alice@{HOST}/phone")
        harness.wait_for(lambda: f"alice@{HOST}/phone" not in self.show_c2s(), what="the kicked session gone")
        r = self.xmppctl("-j", "kick", f"alice@{HOST}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["count"], 1)
        self.assertEqual(self.wait(laptop.stream_errors.get())[0], "policy-violation")
        harness.wait_for(lambda: set(self.show_c2s()) == {f"bob@{HOST}/desk"}, what="only bob left")
        r = self.xmppctl("kick", f"alice@{HOST}")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no session", r.stderr)
        r = self.xmppctl("kick", "not a jid@")
        self.assertEqual(r.returncode, 2)

    def check_reload(self):
        r = self.xmppctl("reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("generation 2", r.stdout)
        # What only the server finds (it reads the trust anchors as root): its errors come back.
        self.xmppd.write_config(self.config_text.replace(f'VirtualHost "{HOST}"',
                                'ssl = { cafile = "/nonexistent/ca.pem" }\n' f'VirtualHost "{HOST}"'))
        r = self.xmppctl("-j", "reload")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("/nonexistent/ca.pem: no certificate could be read", r.stderr)
        self.assertEqual(json.loads(r.stdout), {"taken": False, "generation": 2, "certificates_loaded": False})
        self.xmppd.wait_log(r"reload: .* has errors; the new configuration is not taken")
        # A file that does not parse: file:line, and nothing asked of the server.
        self.xmppd.write_config(self.config_text + "this is not = = a configuration\n")
        r = self.xmppctl("reload")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stderr, rf"{self.xmppd.config}:\d+: ")
        self.assertIn("not reloaded", r.stderr)
        self.xmppd.write_config(self.config_text)
        r = self.xmppctl("-j", "status")
        self.assertEqual(json.loads(r.stdout)["generation"], 2)
        # The tls helper refuses a certificate: the configuration is taken, but the reload did
        # not do what was asked, and xmppctl says which file.
        crt = f"{self.workdir}/certs/{HOST}.crt"
        with open(crt) as f:
            good = f.read()
        with open(crt, "w") as f:
            f.write("not a certificate\n")
        try:
            r = self.xmppctl("reload")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn(crt, r.stderr)
            self.assertIn("certificates and keys were not loaded", r.stderr)
        finally:
            with open(crt, "w") as f:
                f.write(good)
        r = self.xmppctl("-j", "reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), {"taken": True, "generation": 4, "certificates_loaded": True})

    def check_router_stall_and_death(self):
        router = self.xmppd.children()["router"]
        os.kill(router, signal.SIGSTOP)
        try:
            began = time.monotonic()
            r = self.xmppctl("show", "c2s")
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn("no answer in time", r.stderr)
            self.assertLess(time.monotonic() - began, 20)
            # A question open when the router dies is answered at once, not at the deadline.
            waiting = subprocess.Popen([XMPPCTL, "-f", self.xmppd.config, "show", "c2s"], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            time.sleep(0.5)
            began = time.monotonic()
        finally:
            os.kill(router, signal.SIGKILL)
        out, err = waiting.communicate(timeout=20)
        self.assertLess(time.monotonic() - began, 5)
        self.assertEqual(waiting.returncode, 1, out)
        self.assertIn("router", err)
        # While it restarts: a clean error or, once it is back, an answer; never a hang.
        r = self.xmppctl("show", "c2s", timeout=20)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        if r.returncode == 1:
            self.assertIn("router", r.stderr)
        def restarted():
            status = json.loads(self.xmppctl("-j", "status").stdout)
            p = {p["role"]: p for p in status["processes"]}["router"]
            return p if p["ready"] is True and p["pid"] not in (0, router) else None
        p = harness.wait_for(restarted, timeout=20, what="a new router")
        self.assertEqual(p["restarts"], 1)
        self.assertEqual(p["pid"], self.xmppd.children()["router"])

    def check_auth_death(self):
        """An account request open when the auth helper dies is answered at once."""
        auth = self.xmppd.children()["auth"]
        os.kill(auth, signal.SIGSTOP)
        try:
            waiting = subprocess.Popen([XMPPCTL, "-f", self.xmppd.config, "adduser", f"dave@{HOST}"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
            waiting.stdin.write("dave's secret\n")
            waiting.stdin.close()
            waiting.stdin = None  # communicate() below reads only
            time.sleep(0.5)
            began = time.monotonic()
        finally:
            os.kill(auth, signal.SIGKILL)
        out, err = waiting.communicate(timeout=20)
        self.assertLess(time.monotonic() - began, 5)
        self.assertEqual(waiting.returncode, 1, out)
        self.assertIn("auth", err)


if __name__ == "__main__":
    harness.main()
