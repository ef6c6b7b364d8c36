#!/usr/bin/env python3
"""Bidirectional server-to-server streams (XEP-0288, Prosody's s2s_bidi): with "s2s_bidi" in
modules_enabled, one TCP connection carries both directions, between two xmppd and between
xmppd and Prosody 0.12 (which ships mod_s2s_bidi), whichever side connects first; without
it each direction has its own connection, as before. Bad input: a bidi request after
authentication, or on a stream that is not encrypted, or to a host without it, is refused."""
import asyncio
import threading

import certs
import harness
import streams
from federation_test import A, ADDRESS, B, FederationTest, RawPeer
from prosody import Prosody, fresh_workdir

BIDI = 'modules_enabled = { "s2s_bidi" }\n'
S2S_PORT = "%04X" % 5269


def s2s_connections():
    """Established TCP connections to port 5269 in the test's network namespace (each counted
    once, by its accepting side), from /proc/net/tcp as `ss -tn state established` shows them."""
    with open("/proc/net/tcp") as f:
        next(f)
        return sum(1 for fields in (line.split() for line in f)
                   if fields[1].endswith(":" + S2S_PORT) and fields[3] == "01")


class Bidi(FederationTest):
    def exchange(self, first, first_to, second, second_to):
        """first sends to second and waits for it, then second answers."""
        first.send_message(mto=second_to, mbody="there", mtype="chat")
        m = self.receive(second)
        self.assertEqual((m["type"], m["body"]), ("chat", "there"))
        second.send_message(mto=first_to, mbody="and back", mtype="chat")
        m = self.receive(first)
        self.assertEqual((m["type"], m["body"]), ("chat", "and back"))

    def test_two_xmppd_share_one_connection(self):
        a, b, alice, bob = self.two_servers(BIDI, BIDI)
        self.exchange(alice, f"alice@{A}/phone", bob, f"bob@{B}/desk")
        b.wait_log(rf"s2s inbound {A} -> {B} from .*: bidirectional, carries {B} -> {A} too")
        self.assertEqual(s2s_connections(), 1)
        self.assertNotIn(f"s2s outbound {B} -> {A}", b.log())
        # And again, the other way round, on the same connection.
        self.exchange(bob, f"bob@{B}/desk", alice, f"alice@{A}/phone")
        self.assertEqual(s2s_connections(), 1)

    def test_without_s2s_bidi_each_direction_has_its_connection(self):
        for a_extra, b_extra in (("", ""), (BIDI, "")):
            with self.subTest(a=a_extra, b=b_extra):
                for s in self.servers:
                    s.stop()
                self.servers.clear()
                a, b, alice, bob = self.two_servers(a_extra, b_extra)
                self.exchange(alice, f"alice@{A}/phone", bob, f"bob@{B}/desk")
                b.wait_log(rf"s2s outbound {B} -> {A} via .*authenticated by SASL EXTERNAL")
                harness.wait_for(lambda: s2s_connections() == 2, what="two s2s connections")
                self.assertNotIn("bidirectional", a.log() + b.log())

    # --- with Prosody 0.12 and its mod_s2s_bidi ---

    def prosody_pair(self):
        a = self.start_xmppd(A, extra="s2s_secure_auth = true\n" + BIDI)
        self.adduser(a, f"alice@{A}", "alice pw")
        workdir = fresh_workdir(self.workdir, "prosody")
        key, cert = self.ca.issue(B, "ec")
        certs.write(f"{workdir}/b.crt", certs.cert_pem(cert))
        certs.write(f"{workdir}/b.key", certs.key_pem(key), 0o600)
        prosody = Prosody(workdir, B, ADDRESS[B], f"{workdir}/b.crt", f"{workdir}/b.key", self.ca_file,
                          options={"s2s_secure_auth": True, "modules_enabled": Prosody.MODULES + ["s2s_bidi"]})
        self.servers.append(prosody)
        prosody.start()
        prosody.register("bob", "bob pw")
        return a, prosody, self.login(f"alice@{A}/phone", "alice pw"), self.login(f"bob@{B}/desk", "bob pw")

    def test_xmppd_connects_to_prosody_and_prosody_answers_on_the_same_stream(self):
        a, prosody, alice, bob = self.prosody_pair()
        self.exchange(alice, f"alice@{A}/phone", bob, f"bob@{B}/desk")
        a.wait_log(rf"s2s outbound {A} -> {B} via .*authenticated by SASL EXTERNAL")
        prosody.wait_log(r"Requested bidirectional stream")
        self.assertEqual(s2s_connections(), 1)
        self.assertNotIn(f"s2s inbound {B} -> {A}", a.log())

    def test_prosody_connects_to_xmppd_and_xmppd_answers_on_the_same_stream(self):
        a, prosody, alice, bob = self.prosody_pair()
        self.exchange(bob, f"bob@{B}/desk", alice, f"alice@{A}/phone")
        a.wait_log(rf"s2s inbound {B} -> {A} from .*authenticated by SASL EXTERNAL")
        a.wait_log(rf"s2s inbound {B} -> {A} from .*: bidirectional, carries {A} -> {B} too")
        prosody.wait_log(r"Requesting bidirectional stream")
        self.assertEqual(s2s_connections(), 1)
        self.assertNotIn(f"s2s outbound {A} -> {B}", a.log())


class BidiInbound(FederationTest):
    """The receiving side, against a peer played by the test."""

    def peer(self, domain="evil.test"):
        key, cert = self.ca.issue(domain, "ec")
        cert_file, key_file = f"{self.workdir}/{domain}.crt", f"{self.workdir}/{domain}.key"
        certs.write(cert_file, certs.cert_pem(cert))
        certs.write(key_file, certs.key_pem(key), 0o600)
        peer = RawPeer(self, domain, cert=(cert_file, key_file))
        self.addCleanup(peer.close)
        return peer

    def test_a_bidirectional_stream_carries_our_stanzas_to_its_domain(self):
        # evil.test has no address: only the stream it opened can reach it.
        b = self.start_xmppd(B, extra=BIDI + "s2s_peer_stanza_size_limit = 10000\n")
        self.adduser(b, f"bob@{B}", "bob pw")
        bob = self.login(f"bob@{B}/desk", "bob pw")
        peer = self.peer()
        self.assertIn(b"<bidi xmlns='urn:xmpp:features:bidi'/>", peer.starttls())
        peer.send("<bidi xmlns='urn:xmpp:bidi'/>")
        self.assertNotIn(b"bidi", peer.external())
        b.wait_log(r"s2s inbound evil.test -> b.test from .*: bidirectional, carries b.test -> evil.test too")
        bob.send_message(mto="eve@evil.test", mbody="over your stream", mtype="chat")
        self.loop.run_until_complete(asyncio.sleep(0.5))  # the client's loop sends it
        message = peer.read_until(b"</message>")
        self.assertIn(b"over your stream", message)
        self.assertIn(f"from='bob@{B}/desk'".encode(), message)
        # And the peer's own stanzas still arrive.
        peer.send(f"<message from='eve@evil.test' to='bob@{B}' type='chat'><body>hi</body></message>")
        self.assertEqual(self.receive(bob)["body"], "hi")
        # A peer on a stream it opened announces no limits: it gets s2s_peer_stanza_size_limit.
        bob.send_message(mto="eve@evil.test", mbody="x" * 12000, mtype="chat")
        m = self.receive(bob)
        # slixmpp 1.8 does not know RFC 6120's policy-violation: the element itself is read.
        self.assertEqual(m["type"], "error")
        self.assertIn("<policy-violation xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\" />", str(m))
        self.assertEqual(m["error"]["text"], "evil.test accepts stanzas of at most 10000 bytes "
                                             "(it announces no limit: s2s_peer_stanza_size_limit)")
        # Once that stream ends, evil.test is reached the usual way, which fails: it has no address.
        peer.send("</stream:stream>")
        streams.read_to_end(peer.sock)
        b.wait_log(r"s2s connection from \S+ port \d+ closed")
        bob.send_message(mto="eve@evil.test", mbody="after the end", mtype="chat")
        m = self.receive(bob)
        self.assertEqual((m["type"], m["error"]["condition"]), ("error", "remote-server-not-found"))

    def test_bidi_after_authentication_is_refused(self):
        b = self.start_xmppd(B, extra=BIDI)
        peer = self.peer()
        peer.starttls()
        peer.external()
        peer.send("<bidi xmlns='urn:xmpp:bidi'/>")
        condition, text = peer.error()
        self.assertEqual(condition, "policy-violation")
        self.assertIn("before authentication", text)
        b.wait_log(r"s2s inbound evil.test -> b.test from .*: bidi refused: .*before authentication")

    def test_bidi_without_encryption_is_refused(self):
        self.start_xmppd(B, extra=BIDI)
        peer = self.peer()
        self.assertNotIn(b"bidi", peer.open())
        peer.send("<bidi xmlns='urn:xmpp:bidi'/>")
        condition, text = peer.error()
        self.assertEqual(condition, "policy-violation")
        self.assertIn("encryption is required", text)

    def test_bidi_is_neither_offered_nor_taken_unless_enabled(self):
        b = self.start_xmppd(B)
        peer = self.peer()
        self.assertNotIn(b"bidi", peer.starttls())
        peer.send("<bidi xmlns='urn:xmpp:bidi'/>")
        condition, text = peer.error()
        self.assertEqual((condition, text), ("unsupported-stanza-type", f"bidirectional streams are not enabled for {B}"))
        b.wait_log(r"s2s inbound evil.test -> b.test from .*: bidi refused")


class BidiOutbound(FederationTest):
    """Our outbound stream to a server played by the test, which offers bidi and dialback."""

    def peer_server(self, after_ready):
        """Serves b.test on its address: STARTTLS, features with bidi and dialback, accepts our
        db:result; then passes what it read and the TLS socket to after_ready (in a thread)."""
        context, listener, header = self.play_server(B, A)
        failures = []

        def serve():
            try:
                conn, _ = listener.accept()
                conn.settimeout(20)
                streams.read_until(conn, b"to='b.test'>")
                conn.sendall(header + b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                                      b"<required/></starttls></stream:features>")
                streams.read_until(conn, b"/>")
                conn.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
                tls = context.wrap_socket(conn, server_side=True)
                streams.read_until(tls, b"to='b.test'>")
                tls.sendall(header + b"<stream:features><bidi xmlns='urn:xmpp:features:bidi'/>"
                                     b"<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>"
                                     b"</stream:features>")
                seen = streams.read_until(tls, b"</db:result>")
                tls.sendall(b"<db:result from='b.test' to='a.test' type='valid'/>")
                with tls:
                    after_ready(seen, tls)
            except Exception as e:  # reported by the test's thread
                failures.append(e)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        return thread, failures

    def test_the_peers_stanzas_on_our_stream_are_checked_and_delivered(self):
        a = self.start_xmppd(A, extra=BIDI)
        self.adduser(a, f"alice@{A}", "alice pw")
        alice = self.login(f"alice@{A}/phone", "alice pw")
        result = {}

        def after_ready(seen, tls):
            result["seen"] = seen
            result["message"] = streams.read_until(tls, b"</message>")
            tls.sendall(f"<message from='bob@{B}/desk' to='alice@{A}/phone' type='chat'><body>on your stream"
                        f"</body></message>".encode())
            tls.sendall(f"<message from='mallory@c.test' to='alice@{A}/phone' type='chat'><body>forged"
                        f"</body></message>".encode())
            result["end"] = streams.read_to_end(tls)

        thread, failures = self.peer_server(after_ready)
        alice.send_message(mto=f"bob@{B}", mbody="hello", mtype="chat")
        m = self.receive(alice)
        self.assertEqual((m["type"], m["body"], str(m["from"])), ("chat", "on your stream", f"bob@{B}/desk"))
        thread.join(20)
        self.assertEqual(failures, [])
        # <bidi/> went out before authentication.
        self.assertLess(result["seen"].index(b"<bidi xmlns='urn:xmpp:bidi'/>"), result["seen"].index(b"<db:result"))
        self.assertIn(b"hello", result["message"])
        self.assertEqual(streams.stream_error(result["end"])[0], "invalid-from")
        a.wait_log(rf"s2s outbound {A} -> {B} via .*\(bidirectional\): stanza from c.test, which this stream has "
                   r"not authenticated")
        # Only one message reached alice: the forged one ended the stream.
        with self.assertRaises(asyncio.TimeoutError):
            self.receive(alice, timeout=1)


if __name__ == "__main__":
    harness.main()
