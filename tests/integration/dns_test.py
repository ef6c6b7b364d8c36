#!/usr/bin/env python3
"""The s2s worker's resolver (libunbound on its event loop) and its outbound connection
attempts (s2s-worker/connector.h), run under the s2s worker's seccomp policy against a real
DNS server (dnsmasq) that the test starts on loopback, with listeners the test opens."""
import os
import socket
import struct
import subprocess
import threading
import time

import harness
from harness import IntegrationTest

RESOLVE = os.path.join(harness.BUILD_DIR, "tests", "resolve")
SERVER = "127.0.0.53"
FAILING_SERVER = "127.0.0.99"  # dnsmasq forwards broken.test there; see failing_dns_server()


class DnsServer(IntegrationTest):
    """dnsmasq on loopback, authoritative for .test."""

    def setUp(self):
        super().setUp()
        self.dnsmasq = subprocess.Popen(
            ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--port=53", f"--listen-address={SERVER}",
             "--bind-interfaces", "--local=/test/",
             "--srv-host=_xmpp-server._tcp.example.test,xmpp.example.test,5299,10,5",
             "--srv-host=_xmpp-server._tcp.example.test,backup.example.test,5269,20,1",
             "--srv-host=_xmpps-server._tcp.example.test,xmpp.example.test,5270,5,5",
             "--srv-host=_xmpp-server._tcp.noservice.test",
             "--host-record=xmpp.example.test,127.0.0.2,::2",
             "--cname=alias.example.test,xmpp.example.test",
             # Connection attempts: each domain's listeners are opened by its test.
             "--srv-host=_xmpp-server._tcp.custom.test,host1.custom.test,5299,0,0",
             "--host-record=host1.custom.test,127.0.0.21",
             "--srv-host=_xmpps-server._tcp.both.test,tls.both.test,5270,5,1",
             "--srv-host=_xmpp-server._tcp.both.test,plain.both.test,5269,10,1",
             "--host-record=tls.both.test,127.0.0.22",
             "--host-record=plain.both.test,127.0.0.23",
             "--host-record=nosrv.test,127.0.0.24",
             "--host-record=closed.test,127.0.0.25",
             "--host-record=dual.test,127.0.0.26,::1",
             "--srv-host=_xmpp-server._tcp.fallback.test,missing.fallback.test,5269,5,1",
             "--srv-host=_xmpp-server._tcp.fallback.test,dead.fallback.test,5269,10,1",
             "--srv-host=_xmpp-server._tcp.fallback.test,live.fallback.test,5269,20,1",
             "--host-record=dead.fallback.test,127.0.0.27",
             "--host-record=live.fallback.test,127.0.0.28",
             f"--server=/broken.test/{FAILING_SERVER}",
             # Only the direct TLS name fails here.
             f"--server=/_xmpps-server._tcp.halfbroken.test/{FAILING_SERVER}",
             "--srv-host=_xmpp-server._tcp.halfbroken.test,xmpp.halfbroken.test,5269,0,0",
             "--host-record=xmpp.halfbroken.test,127.0.0.29"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(self.dnsmasq.wait)
        self.addCleanup(self.dnsmasq.terminate)
        time.sleep(0.5)


class Dns(DnsServer):
    def resolve(self, kind, name):
        r = subprocess.run([RESOLVE, SERVER, "test", kind, name], capture_output=True, text=True, timeout=20)
        self.assertNotEqual(r.returncode, -31, "killed by its sandbox (SIGSYS)")
        return r.stdout.split("\n")[0], sorted(line for line in r.stdout.split("\n")[1:] if line)

    def test_srv_records(self):
        status, records = self.resolve("srv", "_xmpp-server._tcp.example.test")
        self.assertEqual(status, "ok")
        self.assertEqual(records, ["10 5 5299 xmpp.example.test", "20 1 5269 backup.example.test"])
        status, records = self.resolve("srv", "_xmpps-server._tcp.example.test")
        self.assertEqual((status, records), ("ok", ["5 5 5270 xmpp.example.test"]))

    def test_no_service_target(self):
        status, records = self.resolve("srv", "_xmpp-server._tcp.noservice.test")
        self.assertEqual(status, "ok")
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0].split(" ")[3], "")  # "." as the target: no XMPP service there

    def test_addresses_and_cname(self):
        self.assertEqual(self.resolve("a", "xmpp.example.test"), ("ok", ["127.0.0.2"]))
        self.assertEqual(self.resolve("aaaa", "xmpp.example.test"), ("ok", ["::2"]))
        self.assertEqual(self.resolve("a", "alias.example.test"), ("ok", ["127.0.0.2"]))

    def test_forwarders_replace_resolv_conf(self):
        """xmppd.conf(5): dns_forwarders are asked instead of the servers of dns_resolvconf. A
        resolv.conf naming a server that answers otherwise must never decide an answer (with
        both asked, each lookup went to either: eight fresh resolvers all missing it would be
        chance of 1 in 256)."""
        other = "127.0.0.98"
        liar = subprocess.Popen(["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--port=53",
                                 f"--listen-address={other}", "--bind-interfaces", "--local=/test/",
                                 "--host-record=xmpp.example.test,127.0.0.9"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(liar.wait)
        self.addCleanup(liar.terminate)
        resolv = os.path.join(self.workdir, "resolv.conf")
        with open(resolv, "w") as f:
            f.write(f"nameserver {other}\n")
        time.sleep(0.5)
        for _ in range(8):
            r = subprocess.run([RESOLVE, "--resolvconf", resolv, SERVER, "test", "a", "xmpp.example.test"],
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(r.stdout.split("\n")[:2], ["ok", "127.0.0.2"], r.stderr)

    def test_unknown_name(self):
        status, records = self.resolve("srv", "_xmpp-server._tcp.nowhere.test")
        self.assertEqual((status, records), ("no-records", []))
        status, _ = self.resolve("a", "nowhere.test")
        self.assertEqual(status, "no-records")


class Connect(DnsServer):
    """ConnectAttempt: SRV targets in order, then Happy Eyeballs over each target's addresses."""

    def connect(self, domain, mode="connect", options=()):
        """Runs one attempt; returns its output lines and how long it took (seconds)."""
        started = time.monotonic()
        r = subprocess.run([RESOLVE, *options, SERVER, "test", mode, domain], capture_output=True, text=True,
                           timeout=60)
        elapsed = time.monotonic() - started
        self.assertNotEqual(r.returncode, -31, "killed by its sandbox (SIGSYS)")
        lines = [line for line in r.stdout.split("\n") if line]
        self.assertTrue(lines, f"no output; stderr: {r.stderr}")
        self.assertEqual(r.returncode, 0 if lines[0].startswith("connected ") else 1, r.stdout)
        return lines, elapsed

    def listen(self, address, port):
        return harness.listen(self, address, port)

    def assert_accepted(self, sock):
        peer, _ = sock.accept()
        peer.close()

    def test_srv_target_and_port(self):
        listener = self.listen("127.0.0.21", 5299)
        lines, _ = self.connect("custom.test")
        self.assertEqual(lines, ["connected host1.custom.test 5299 starttls 127.0.0.21 port 5299"])
        self.assert_accepted(listener)

    def test_direct_tls_target_first(self):
        self.listen("127.0.0.22", 5270)
        self.listen("127.0.0.23", 5269)
        lines, _ = self.connect("both.test")
        self.assertEqual(lines, ["connected tls.both.test 5270 direct 127.0.0.22 port 5270"])

    def test_resume_goes_through_every_target(self):
        self.listen("127.0.0.22", 5270)
        self.listen("127.0.0.23", 5269)
        lines, _ = self.connect("both.test", "connect-all")
        self.assertEqual(lines[:2], ["connected tls.both.test 5270 direct 127.0.0.22 port 5270",
                                     "connected plain.both.test 5269 starttls 127.0.0.23 port 5269"])
        self.assertEqual(len(lines), 3, lines)
        self.assertEqual(lines[2], "failed 127.0.0.22 port 5270: dropped by the test; "
                                   "127.0.0.23 port 5269: dropped by the test")

    def test_no_service(self):
        lines, elapsed = self.connect("noservice.test")
        self.assertEqual(lines, ['failed noservice.test offers no XMPP service (SRV target ".")'])
        self.assertLess(elapsed, 3)

    def test_no_srv_falls_back_to_domain(self):
        listener = self.listen("127.0.0.24", 5269)
        lines, _ = self.connect("nosrv.test")
        self.assertEqual(lines, ["connected nosrv.test 5269 starttls 127.0.0.24 port 5269"])
        self.assert_accepted(listener)

    def test_private_addresses_are_skipped_unless_allowed(self):
        # As the worker does with s2s_allow_private_addresses = false: every address of every
        # target is loopback, so none is connected to, and the reasons say why.
        harness.ensure_ipv6_loopback()
        listeners = [self.listen("127.0.0.22", 5270), self.listen("127.0.0.23", 5269)]
        lines, _ = self.connect("both.test", options=("--no-private",))
        self.assertEqual(lines, ["failed 127.0.0.22 port 5270: not connected to, loopback (127.0.0.0/8) address; "
                                 "127.0.0.23 port 5269: not connected to, loopback (127.0.0.0/8) address"])
        lines, _ = self.connect("dual.test", options=("--no-private",))
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(lines[0].startswith("failed "), lines)
        # The A and AAAA answers come in either order.
        self.assertEqual(sorted(lines[0][len("failed "):].split("; ")),
                         ["127.0.0.26 port 5269: not connected to, loopback (127.0.0.0/8) address",
                          "::1 port 5269: not connected to, loopback (::1) address"])
        for listener in listeners:
            with self.assertRaises(socket.timeout):
                listener.accept()

    def test_connection_refused(self):
        lines, _ = self.connect("closed.test")
        self.assertEqual(lines, ["failed 127.0.0.25 port 5269: connection refused"])

    def test_unknown_domain(self):
        lines, _ = self.connect("nowhere.test")
        self.assertEqual(lines, ["failed no address for nowhere.test"])

    def test_next_target_after_failures(self):
        self.listen("127.0.0.28", 5269)
        lines, _ = self.connect("fallback.test", "connect-all")
        self.assertEqual(lines, ["connected live.fallback.test 5269 starttls 127.0.0.28 port 5269",
                                 "failed no address for missing.fallback.test; "
                                 "127.0.0.27 port 5269: connection refused; "
                                 "127.0.0.28 port 5269: dropped by the test"])

    def test_dns_error(self):
        failing_dns_server(self, delay=0)
        lines, _ = self.connect("broken.test")
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"^failed DNS error for _xmpps?-server\._tcp\.broken\.test$")

    def test_dns_error_for_direct_tls_only_leaves_starttls(self):
        failing_dns_server(self, delay=0)
        self.listen("127.0.0.29", 5269)
        lines, _ = self.connect("halfbroken.test")
        self.assertEqual(lines, ["connected xmpp.halfbroken.test 5269 starttls 127.0.0.29 port 5269"])

    def test_destroyed_while_dns_is_pending(self):
        # Each answer is late enough that both SRV queries are still out when the attempt
        # is destroyed; their answers arrive afterwards and must find nothing to call.
        queries = failing_dns_server(self, delay=0.3)
        r = subprocess.run([RESOLVE, SERVER, "test", "connect-cancel", "broken.test"], capture_output=True,
                           text=True, timeout=60)
        self.assertNotEqual(r.returncode, -31, "killed by its sandbox (SIGSYS)")
        self.assertEqual((r.returncode, r.stdout), (0, "cancelled\ndrained\n"), r.stderr)
        self.assertTrue(queries, "the DNS server saw no query")

    def test_happy_eyeballs_prefers_ipv6(self):
        harness.ensure_ipv6_loopback()
        self.listen("::1", 5269)
        self.listen("127.0.0.26", 5269)
        lines, _ = self.connect("dual.test", "connect-all")
        self.assertEqual(lines, ["connected dual.test 5269 starttls ::1 port 5269",
                                 "connected dual.test 5269 starttls 127.0.0.26 port 5269",
                                 "failed ::1 port 5269: dropped by the test; "
                                 "127.0.0.26 port 5269: dropped by the test"])

    def test_happy_eyeballs_past_a_silent_address(self):
        harness.ensure_ipv6_loopback()
        ipv6 = self.listen("::1", 5269)
        ipv4 = self.listen("127.0.0.26", 5269)
        # IPv6 goes first; its SYNs vanish, so only the next family can answer in time (the
        # per-address timeout is 10 s).
        harness.drop_syns(self, "ip6 daddr ::1 tcp dport 5269")
        lines, elapsed = self.connect("dual.test")
        self.assertEqual(lines, ["connected dual.test 5269 starttls 127.0.0.26 port 5269"])
        self.assertLess(elapsed, 5)
        self.assert_accepted(ipv4)
        ipv6.settimeout(0.2)
        self.assertRaises(socket.timeout, ipv6.accept)


def failing_dns_server(test, delay):
    """Answers every query SERVFAIL after `delay` seconds; returns the list of queries seen."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((FAILING_SERVER, 53))
    sock.settimeout(0.1)
    seen, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                query, peer = sock.recvfrom(4096)
            except socket.timeout:
                continue
            seen.append(query)
            time.sleep(delay)
            # The header with QR and RA set and RCODE 2 (SERVFAIL), the question echoed.
            flags = struct.unpack("!H", query[2:4])[0] & 0x7910 | 0x8082
            question_end = question_length(query)
            if question_end:
                sock.sendto(query[:2] + struct.pack("!HHHHH", flags, 1, 0, 0, 0) + query[12:question_end], peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    test.addCleanup(sock.close)
    test.addCleanup(thread.join)
    test.addCleanup(stop.set)
    return seen


def question_length(query):
    """Where the first question of a DNS query ends; 0 when it is malformed."""
    offset = 12
    while offset < len(query) and query[offset] != 0:
        offset += 1 + query[offset]
    offset += 1 + 4  # the root label, QTYPE and QCLASS
    return offset if offset <= len(query) else 0


if __name__ == "__main__":
    harness.main()
