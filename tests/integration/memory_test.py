#!/usr/bin/env python3
"""Memory under hostile stanzas: what a parsed stanza may hold is bounded by a budget, not
only by its size on the wire, in every process that parses XML. Each case below once grew
the router or the s2s worker by hundreds of MiB to GiB (a 120 KB namespace inherited by
30,000 children, 60,000 empty children, a long prefix reused by every child); now each
ends its stream with policy-violation and the process grows by a few MiB at most.
"""
import base64
import os
import socket
import subprocess

import certs
import harness
import streams
from harness import IntegrationTest, basic_config

C2S, S2S = 5222, 5269
HOST = "chat.test"
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")
PASSWORD = "alice's secret"
# "A few MiB": growth of the resident set allowed over all cases of one test.
ALLOWED_GROWTH_KIB = 8 * 1024


def amplifications():
    """(what, bytes of one stanza), each under the configured 256 KiB limit."""
    return [
        ("long namespace inherited by 30,000 children",
         b"<message><x xmlns='" + b"a" * 120000 + b"'>" + b"<y/>" * 30000 + b"</x></message>"),
        ("60,000 empty children", b"<message>" + b"<a/>" * 60000 + b"</message>"),
        ("long prefix reused by 20,000 children",
         b"<message xmlns:p='" + b"b" * 100000 + b"'>" + b"<p:a/>" * 20000 + b"</message>"),
        ("550 children of 64 empty attributes each",
         b"<message>" + (b"<a" + b"".join(b" b%d=''" % i for i in range(64)) + b"/>") * 550 + b"</message>"),
    ]


def rss_kib(pid):
    return int(harness.proc_status(pid)["VmRSS"].split()[0])


def send_and_read(sock, payload):
    """Sends what the server lets through, then reads what it answers until it closes."""
    try:
        sock.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        return streams.read_to_end(sock, limit=1 << 20)
    except (ConnectionResetError, socket.timeout):
        return b""


class Memory(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.ca, self.ca_file = certs.authority_in(self.workdir)
        certs.install(self.ca, f"{self.workdir}/certs", HOST)
        config = basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n')
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\n')
        self.xmppd = self.server(config).start()
        self.kids = self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts")
        self.xmppd.wait_log(r"s2s\[\d+\]: TLS certificates for 1 hosts")

    def assert_growth_bounded(self, role, attack):
        pid = self.kids[role]
        before = peak = rss_kib(pid)
        for what, reply in attack():
            peak = max(peak, rss_kib(pid))
            self.assertEqual(streams.stream_error(reply)[0], "policy-violation", f"{what}: {reply[-300:]!r}")
        peak = max(peak, rss_kib(pid))
        self.assertLess(peak - before, ALLOWED_GROWTH_KIB, f"{role} grew from {before} to {peak} KiB")
        self.assertEqual(self.xmppd.children()[role], pid, f"{role} was restarted")

    def test_before_starttls_each_connection_is_held_to_the_unauthenticated_limit(self):
        def attack():
            for what, stanza in amplifications():
                for _ in range(4):
                    with streams.connect(C2S) as sock:
                        streams.open_stream(sock, HOST)
                        yield what, send_and_read(sock, stanza)
        self.assert_growth_bounded("router", attack)

    def login(self):
        sock = streams.connect(C2S)
        tls, _, _ = streams.starttls(sock, HOST, self.ca_file)
        tls.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                    base64.b64encode(b"\0alice\0" + PASSWORD.encode()) + b"</auth>")
        self.assertIn(b"<success", streams.read_until(tls, b"/>"))
        streams.open_stream(tls, HOST)
        tls.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
        self.assertIn(b"</jid>", streams.read_until(tls, b"</iq>"))
        return tls

    def test_after_login_stanzas_are_held_to_their_memory_budget(self):
        r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "adduser", f"alice@{HOST}"], input=PASSWORD + "\n",
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

        def attack():
            for what, stanza in amplifications():
                for _ in range(2):
                    with self.login() as tls:
                        yield what, send_and_read(tls, stanza)
        self.assert_growth_bounded("router", attack)

    def test_unauthenticated_server_streams_in_the_s2s_worker(self):
        def attack():
            for what, stanza in amplifications():
                for _ in range(4):
                    with streams.connect(S2S) as sock:
                        streams.open_stream(sock, HOST, "jabber:server")
                        yield what, send_and_read(sock, stanza)
        self.assert_growth_bounded("s2s", attack)

    def test_the_unauthenticated_limit_is_10000_bytes(self):
        body = b"<message><body>%s</body></message>"
        filler = 10000 - len(body % b"")
        with streams.connect(C2S) as sock:
            streams.open_stream(sock, HOST)
            # At the limit: not a size error (a stanza before STARTTLS is refused for that).
            reply = send_and_read(sock, body % (b"x" * filler))
            self.assertNotIn(b"stanza-too-big", reply)
        with streams.connect(C2S) as sock:
            streams.open_stream(sock, HOST)
            reply = send_and_read(sock, body % (b"x" * (filler + 1)))
            self.assertEqual(streams.stream_error(reply)[0], "policy-violation", reply[-300:])
            self.assertIn(b"stanza-too-big", reply)

    def test_a_declared_encoding_other_than_utf8_is_unsupported(self):
        with streams.connect(C2S) as sock:
            sock.sendall(b"<?xml version='1.0' encoding='ISO-8859-1'?>" + streams.header(HOST)[len(b"<?xml version='1.0'?>"):])
            reply = streams.read_to_end(sock)
        self.assertEqual(streams.stream_error(reply), ("unsupported-encoding", "the stream must be UTF-8, not ISO-8859-1"))


if __name__ == "__main__":
    harness.main()
