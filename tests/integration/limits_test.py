"""Connection limits under hostile load: per source address (open and unauthenticated
connections), the global cap, the stream header deadline, Prosody's `limits` byte rates,
and STARTTLS taking no plaintext after <starttls/>. Each refusal is shown together with
what must survive it: a client from another loopback address still logs in and exchanges
a message while the hostile address holds its maximum."""
import asyncio
import os
import socket
import ssl
import subprocess
import sys
import time

import certs
import harness
import streams
from clients_test import XMPPCTL, Client, ClientTest
from harness import basic_config

HOST = "chat.test"
C2S, C2S_TLS, S2S = 5222, 5223, 5269
HOSTILE = "127.0.0.2"  # the address that holds its maximum; legitimate clients use 127.0.0.1

# The default of max_unauthenticated_per_address.
UNAUTHENTICATED = 32

def raw(port, source=HOSTILE, timeout=10):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))


def refusal(sock):
    """The stream error a refused connection is sent, then the end of the connection."""
    with sock:
        return streams.stream_error(streams.read_to_end(sock))


class Limits(ClientTest):
    extra = ""

    def setUp(self):
        super().setUp()
        key, cert = self.ca.issue(HOST, "ec")
        certs.write(f"{self.workdir}/certs/{HOST}.crt", certs.cert_pem(cert))
        certs.write(f"{self.workdir}/certs/{HOST}.key", certs.key_pem(key), 0o600)
        config = basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n'
                              f"c2s_direct_tls_ports = {{ {C2S_TLS} }}\n{self.extra}")
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"')
        self.xmppd = self.server(config).start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts?")
        for user in ("alice", "bob"):
            r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "adduser", f"{user}@{HOST}"],
                               input=f"{user}'s secret\n", capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.held = []

    def tearDown(self):
        for sock in self.held:
            sock.close()
        super().tearDown()

    def hold(self, sock):
        self.held.append(sock)
        return sock

    def login(self, jid):
        client = Client(jid, f"{jid.split('@')[0]}'s secret", self.ca_file)
        self.clients.append(client)
        client.connect(("127.0.0.1", C2S))
        outcome = self.loop.run_until_complete(asyncio.wait_for(client.outcome, 30))
        self.assertEqual(outcome, "session")
        return client

    def assert_others_unaffected(self):
        """Two clients from 127.0.0.1 log in and exchange a message."""
        alice = self.login(f"alice@{HOST}/a")
        bob = self.login(f"bob@{HOST}/b")
        alice.send_message(mto=f"bob@{HOST}/b", mbody="still here", mtype="chat")
        m = self.loop.run_until_complete(asyncio.wait_for(bob.messages.get(), 15))
        self.assertEqual(m["body"], "still here")

    def slowloris(self, port=C2S, ns="jabber:client", source=HOSTILE):
        """A connection that sent its stream header and then nothing: unauthenticated for as
        long as negotiation may take."""
        sock = self.hold(raw(port, source))
        streams.open_stream(sock, HOST, ns)
        return sock


class PerAddress(Limits):
    def test_unauthenticated_connections_per_address(self):
        idle = [self.slowloris() for _ in range(UNAUTHENTICATED)]
        refused = [raw(C2S) for _ in range(20)]
        for sock in refused:
            self.assertEqual(refusal(sock), ("policy-violation", "too many connections from your address"))
        # The refusals were logged once, then summed up, not one line each.
        self.xmppd.wait_log(r"refused a connection to c2s: from 127\.0\.0\.2: the limit of unauthenticated")
        self.xmppd.wait_log(r"refused a connection to c2s 19 more times in the last 10 s \(last: from 127\.0\.0\.2",
                            timeout=20)
        self.assertEqual(self.xmppd.log().count("refused a connection to c2s: from 127.0.0.2"), 1)
        self.assert_others_unaffected()
        # The held connections are still open: a stanza on one is answered (encryption is
        # required, so with a stream error, which only an open stream can send).
        idle[0].sendall(b"<presence/>")
        self.assertEqual(streams.stream_error(streams.read_to_end(idle[0]))[0], "policy-violation")
        # Its place is free again once it is gone.
        idle[0].close()
        time.sleep(1)
        sock = self.slowloris()
        sock.sendall(b"</stream:stream>")

    def test_inbound_server_streams_are_limited_too(self):
        for _ in range(UNAUTHENTICATED):
            self.slowloris(S2S, "jabber:server")
        with raw(S2S) as sock:
            data = streams.read_to_end(sock)
        self.assertIn(b"xmlns='jabber:server'", data)
        self.assertEqual(streams.stream_error(data)[0], "policy-violation")
        # Another address may still open a server stream.
        self.slowloris(S2S, "jabber:server", source="127.0.0.3")
        self.xmppd.wait_log(r"refused a connection to s2s: from 127\.0\.0\.2")

    def test_direct_tls_is_refused_before_any_tls_work(self):
        for _ in range(UNAUTHENTICATED):
            self.hold(raw(C2S_TLS))
        time.sleep(0.5)
        with raw(C2S_TLS) as sock:
            # Closed without a word: no handshake was started for it.
            self.assertEqual(sock.recv(100), b"")
        self.xmppd.wait_log(r"refused a connection to c2s: from 127\.0\.0\.2: the limit of unauthenticated")
        self.assertNotIn("c2s TLS from 127.0.0.2", self.xmppd.log())
        self.assert_others_unaffected()


class OpenPerAddress(Limits):
    extra = "max_connections_per_address = 4\nmax_unauthenticated_per_address = 0\n"

    def test_open_connections_per_address(self):
        for _ in range(4):
            self.slowloris()
        self.assertEqual(refusal(raw(C2S)), ("policy-violation", "too many connections from your address"))
        self.xmppd.wait_log(r"refused a connection to c2s: from 127\.0\.0\.2: the limit of connections per address")
        self.assert_others_unaffected()


class Global(Limits):
    extra = "max_connections = 4\nmax_connections_per_address = 0\nmax_unauthenticated_per_address = 0\n"

    def test_the_global_cap_refuses_with_resource_constraint(self):
        held = [self.slowloris(source=f"127.0.0.{i}") for i in range(2, 6)]
        self.assertEqual(refusal(raw(C2S, "127.0.0.9")), ("resource-constraint", "the server has too many connections"))
        self.xmppd.wait_log(r"refused a connection to c2s: from 127\.0\.0\.9: the server's connection limit")
        # A place freed is a place taken again: nothing leaks.
        held[0].sendall(b"</stream:stream>")
        streams.read_to_end(held[0])
        time.sleep(0.5)
        for sock in held:
            sock.close()
        self.held.clear()
        time.sleep(0.5)
        self.assert_others_unaffected()


class Deadlines(Limits):
    def test_stream_header_deadline(self):
        sock = self.hold(raw(C2S, timeout=60))  # well past the deadline: the server must act first
        start = time.monotonic()
        data = streams.read_to_end(sock)
        elapsed = time.monotonic() - start
        self.assertEqual(streams.stream_error(data), ("connection-timeout", "no stream header within 10 seconds"))
        self.assertGreater(elapsed, 8)
        self.assertLess(elapsed, 40)
        # The same for a direct TLS connection that never starts its handshake, and one that
        # sends half a ClientHello: closed, with nothing to say.
        silent = self.hold(raw(C2S_TLS, timeout=60))
        partial = self.hold(raw(C2S_TLS, timeout=60))
        partial.sendall(bytes.fromhex("16030100c8010000c40303"))
        start = time.monotonic()
        self.assertEqual(silent.recv(100), b"")
        self.assertEqual(partial.recv(100), b"")
        self.assertLess(time.monotonic() - start, 40)
        self.xmppd.wait_log(r"c2s connection from 127\.0\.0\.2 port \d+: TLS handshake not finished in time")

    def test_a_header_in_time_leaves_the_negotiation_deadline(self):
        sock = self.slowloris()
        time.sleep(12)  # past the header deadline
        sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        self.assertEqual(streams.read_until(sock, b"/>"), b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")


class NegotiationDeadline(Limits):
    extra = "c2s_timeout = 20\n"

    def test_a_stream_that_never_authenticates_is_closed_at_c2s_timeout(self):
        start = time.monotonic()
        sock = self.slowloris()
        sock.settimeout(90)
        data = streams.read_to_end(sock)
        elapsed = time.monotonic() - start
        self.assertEqual(streams.stream_error(data), ("connection-timeout", "stream negotiation took too long"))
        self.assertGreater(elapsed, 18)
        self.assertLess(elapsed, 60)


class RateLimit(Limits):
    extra = 'limits = { c2s = { rate = "4kb/s", burst = "1s" } }\nunlimited_jids = { "Bob@chat.test" }\n'

    def flood(self, sender, receiver, to):
        """Seconds for 40 messages of 1 kB from sender to receiver, all checked."""
        count, body = 40, "x" * 1000
        start = time.monotonic()
        for i in range(count):
            sender.send_message(mto=to, mbody=f"{i} {body}", mtype="chat")
        got = []
        while len(got) < count:
            m = self.loop.run_until_complete(asyncio.wait_for(receiver.messages.get(), 60))
            got.append(m["body"])
        self.assertEqual(got, [f"{i} {body}" for i in range(count)])
        return time.monotonic() - start

    def test_a_flooding_client_is_slowed_and_loses_nothing(self):
        alice = self.login(f"alice@{HOST}/a")
        bob = self.login(f"bob@{HOST}/b")
        limited = self.flood(alice, bob, f"bob@{HOST}/b")
        # bob is in unlimited_jids.
        unlimited = self.flood(bob, alice, f"alice@{HOST}/a")
        print(f"40 messages of 1 kB at 4 kB/s: {limited:.1f} s; unlimited: {unlimited:.1f} s", file=sys.stderr)
        # Over 40 kB at 4 kB/s with a 4 kB burst: at least 9 s; without the limit well under one.
        self.assertGreater(limited, 6)
        self.assertLess(limited, 60)
        self.assertLess(unlimited, 5)


class Starttls(Limits):
    def test_plaintext_after_starttls_is_not_processed(self):
        sock = self.hold(raw(C2S, "127.0.0.1"))
        streams.open_stream(sock, HOST)
        # Were the presence read as XML before TLS, encryption being required would end the
        # stream with a plaintext stream error instead of the handshake.
        sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><presence/>")
        self.assertEqual(streams.read_until(sock, b"/>"), b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        context = ssl.create_default_context(cafile=self.ca_file)
        tls = self.hold(context.wrap_socket(sock, server_hostname=HOST))
        features = streams.open_stream(tls, HOST)
        self.assertIn(b"<mechanisms", features)


class Config(harness.IntegrationTest):
    def test_debians_stock_limits_block_loads_without_a_warning(self):
        config = basic_config(self.workdir, """
modules_enabled = {
		"roster"; "saslauth"; "tls"; "dialback"; "disco";
		"limits"; -- Enable bandwidth limiting for XMPP connections
}
-- Rate limits
-- Enable rate limits for incoming client and server connections. These help
-- protect from excessive resource consumption and denial-of-service attacks.

limits = {
	c2s = {
		rate = "10kb/s";
	};
	s2sin = {
		rate = "30kb/s";
	};
}
""")
        path = os.path.join(self.workdir, "debian.conf")
        with open(path, "w") as f:
            f.write(config)
        r = subprocess.run([harness.XMPPD, "-n", "-f", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "configuration OK\n")


if __name__ == "__main__":
    harness.main()
