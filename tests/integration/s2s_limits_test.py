#!/usr/bin/env python3
"""The s2s worker under hostile peers: it connects to no loopback or private address unless
s2s_allow_private_addresses is set, tells a peer nothing of why a claimed domain could not be
reached, shares the dialback verifications in flight out per stream and per address, makes
outgoing connections beyond s2s_max_concurrent_connects wait their turn, answers a stanza
sent before any authentication with not-authorized, and holds only epoch keys, never the
configured dialback_secret."""
import asyncio
import hashlib
import os
import re
import secrets
import signal
import socket
import threading

import certs
import harness
import streams
from federation_test import A, ADDRESS, B, FederationTest, RawPeer
from harness import read_memory

ATTACKER = "127.0.0.66"  # the source address of the hostile peers
HANG = "127.0.0.10"      # where the claimed domains point: SYNs to it are dropped


def db_result(domain, to=B, key="0" * 64):
    return f"<db:result from='{domain}' to='{to}'>{key}</db:result>"


def dialback_answers(data):
    """{claimed domain: the whole db:result answer} of what came back."""
    return {m.group(1).decode(): m.group(0) for m in
            re.finditer(rb"<db:result [^>]*?to='([^']+)'[^>]*?(?:/>|>.*?</db:result>)", data, re.S)}


class PrivateAddresses(FederationTest):
    """A peer claims a domain whose SRV record points at a service on the server's own host."""
    EXTRA_NAMES = {"internal.test": "127.0.0.11", "closed.test": "127.0.0.12"}
    SRV = ("_xmpp-server._tcp.victim.test,internal.test,6379,0,5",)

    def claim(self, domain):
        peer = RawPeer(self, "evil.test")
        self.addCleanup(peer.close)
        peer.starttls()
        peer.send(db_result(domain))
        return peer.read_until(b"</db:result>")

    def test_srv_record_pointing_at_a_loopback_address_is_not_connected_to(self):
        b = self.start_xmppd(B, allow_private=False)
        service = harness.listen(self, "127.0.0.11", 6379)  # the "internal service"
        answer = self.claim("victim.test")
        self.assertIn(b"type='error'", answer)
        self.assertIn(b"<remote-server-not-found", answer)
        self.assertIn(b">remote server unreachable</text>", answer)
        for detail in (b"127.0.0.11", b"6379", b"internal", b"loopback", b"refused", b"port"):
            self.assertNotIn(detail, answer)
        b.wait_log(r"s2s victim.test: not connecting to 127.0.0.11 port 6379 \(internal.test\): "
                   r"loopback \(127.0.0.0/8\) address, and s2s_allow_private_addresses is false")
        # The details are in the log, for the administrator.
        b.wait_log(r"s2s inbound victim.test -> b.test .*dialback refused: cannot ask the authoritative server: "
                   r".*127.0.0.11 port 6379: not connected to, loopback")
        with self.assertRaises(socket.timeout):
            service.accept()
        # A local user is told why too (a user of this server, not the peer).
        self.adduser(b, f"bob@{B}", "bob pw")
        bob = self.login(f"bob@{B}/desk", "bob pw")
        bob.send_message(mto="x@victim.test", mbody="hello?", mtype="chat")
        m = self.receive(bob)
        self.assertEqual((m["type"], m["error"]["condition"]), ("error", "remote-server-not-found"))
        self.assertIn("not connected to, loopback", m["error"]["text"])
        with self.assertRaises(socket.timeout):
            service.accept()

    def test_connection_errors_are_not_told_to_the_peer(self):
        b = self.start_xmppd(B)  # private addresses allowed: the connection is tried, and refused
        answer = self.claim("closed.test")
        self.assertIn(b"<remote-server-not-found", answer)
        self.assertIn(b">remote server unreachable</text>", answer)
        for detail in (b"127.0.0.12", b"connection refused", b"port"):
            self.assertNotIn(detail, answer)
        b.wait_log(r"s2s inbound closed.test -> b.test .*cannot ask the authoritative server: "
                   r"127.0.0.12 port 5269: connection refused")


class VerificationShares(FederationTest):
    """Hostile peers claim domains whose authoritative servers never answer (SYNs dropped), so
    that each verification would hold its slot."""
    WILDCARDS = {"hang.test": HANG}

    def setUp(self):
        super().setUp()
        harness.drop_syns(self, f"ip daddr {HANG} tcp dport 5269")

    def attacker(self):
        peer = RawPeer(self, "evil.test", source=ATTACKER)
        self.addCleanup(peer.close)
        peer.starttls()
        return peer

    def busy_answers(self, peer, count):
        """Reads until `count` dialback answers came back; all must be resource-constraint."""
        data = b""
        while len(dialback_answers(data)) < count:
            chunk = peer.sock.recv(65536)
            self.assertTrue(chunk, f"stream closed after {data!r}")
            data += chunk
        answers = dialback_answers(data)
        for domain, answer in answers.items():
            self.assertIn(b"type='error'", answer, domain)
            self.assertIn(b"<resource-constraint", answer, domain)
        return answers

    def test_a_stream_gets_eight_verifications_and_at_once_an_answer_for_more(self):
        b = self.start_xmppd(B)
        peer = self.attacker()
        for i in range(12):
            peer.send(db_result(f"d{i}.hang.test"))
        answers = self.busy_answers(peer, 4)
        self.assertEqual(sorted(answers), sorted(f"d{i}.hang.test" for i in range(8, 12)))
        b.wait_log(r"s2s inbound d8.hang.test -> b.test .*dialback refused: "
                   r"too many dialback verifications in progress on this stream")

    def test_a_peer_with_many_streams_cannot_take_every_slot(self):
        # a.test's certificate is not trusted by b.test: it must be verified by dialback, which
        # needs one of the slots that the attacker tries to fill (9 x 32 claims > 256 slots).
        other = certs.Authority("another CA")
        other_file = os.path.join(self.workdir, "other-ca.pem")
        certs.write(other_file, other.pem())
        a = self.start_xmppd(A, authority=other)
        # The listener's own limit on unauthenticated connections per address, were it set
        # low, would refuse streams first: lifted, so that the worker's share is what is tested.
        b = self.start_xmppd(B, extra="max_unauthenticated_per_address = 0\n")
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(b, f"bob@{B}", "bob pw")
        peers = [self.attacker() for _ in range(9)]
        # The first stream takes the address's 8 slots (its other 24 claims answered at once)
        # before the others claim: the worker reads ready streams in no set order.
        peers[0].send("".join(db_result(f"s0-{i}.hang.test") for i in range(32)))
        self.busy_answers(peers[0], 24)
        for s, peer in enumerate(peers[1:], start=1):
            peer.send("".join(db_result(f"s{s}-{i}.hang.test") for i in range(32)))
        for peer in peers[1:]:
            self.busy_answers(peer, 32)
        b.wait_log(r"too many dialback verifications in progress from this address")
        alice = self.login(f"alice@{A}/phone", "alice pw", other_file)
        bob = self.login(f"bob@{B}/desk", "bob pw")
        alice.send_message(mto=f"bob@{B}", mbody="still federating", mtype="chat")
        self.assertEqual(self.receive(bob)["body"], "still federating")
        b.wait_log(rf"s2s inbound {A} -> {B} from .*authenticated by dialback")


class ConnectQueue(FederationTest):
    WILDCARDS = {"hang.test": HANG}

    def test_connections_beyond_the_limit_wait_their_turn(self):
        harness.drop_syns(self, f"ip daddr {HANG} tcp dport 5269")
        a = self.start_xmppd(A, extra="s2s_max_concurrent_connects = 1\ns2s_timeout = 5\n")
        b = self.start_xmppd(B)
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(b, f"bob@{B}", "bob pw")
        alice, bob = self.login(f"alice@{A}/phone", "alice pw"), self.login(f"bob@{B}/desk", "bob pw")
        # In this order: the stanzas reach the worker in one batch or in two, in order.
        alice.send_message(mto="x@slow.hang.test", mbody="into the void", mtype="chat")
        alice.send_message(mto=f"bob@{B}", mbody="after my turn", mtype="chat")
        self.loop.run_until_complete(asyncio.sleep(1))  # the client sends while its loop runs
        a.wait_log(rf"s2s outbound {A} -> {B}: waiting, 1 connections are being set up")
        # The first attempt times out (having never connected: not-found); the second then
        # goes, and nothing was lost.
        m = self.receive(alice)
        self.assertEqual((str(m["from"]), m["type"], m["error"]["condition"]),
                         ("x@slow.hang.test", "error", "remote-server-not-found"))
        self.assertEqual(self.receive(bob)["body"], "after my turn")
        log = a.log()
        self.assertLess(log.index("did not complete within 5 s"), log.index("connecting after waiting its turn"))


class NotAuthorized(FederationTest):
    def test_stanza_before_any_authentication_is_not_authorized(self):
        self.start_xmppd(B)
        peer = RawPeer(self, "evil.test")
        self.addCleanup(peer.close)
        peer.starttls()
        peer.send("<message from='x@evil.test' to='bob@b.test'><body>early</body></message>")
        self.assertEqual(peer.error(), ("not-authorized", "no domain is authenticated on this stream"))


class EpochKeys(FederationTest):
    EXTRA_NAMES = {"fake.test": "127.0.0.13"}

    def test_the_worker_never_holds_the_configured_secret(self):
        secret = "dialback-secret-" + secrets.token_hex(16)
        other = certs.Authority("another CA")
        other_file = os.path.join(self.workdir, "other-ca.pem")
        certs.write(other_file, other.pem())
        # Dialback both ways, so that keys are made and checked with what the worker holds.
        a = self.start_xmppd(A, authority=other, extra=f'dialback_secret = "{secret}"\n')
        b = self.start_xmppd(B)
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(b, f"bob@{B}", "bob pw")
        alice = self.login(f"alice@{A}/phone", "alice pw", other_file)
        bob = self.login(f"bob@{B}/desk", "bob pw")
        alice.send_message(mto=f"bob@{B}", mbody="signed by an epoch key", mtype="chat")
        self.assertEqual(self.receive(bob)["body"], "signed by an epoch key")
        a.wait_log(rf"s2s outbound {A} -> {B} via .*authenticated by dialback")
        a.wait_log(rf"dialback key for {A} -> {B} \(stream [0-9a-f]+\) is valid")
        kids = a.children()
        forms = [secret.encode(), hashlib.sha256(secret.encode()).hexdigest().encode(),
                 hashlib.sha256(secret.encode()).digest()]
        parent = read_memory(a.proc.pid)
        self.assertIn(forms[0], parent, "control failed: the secret is not in the parent's memory")
        for role in ("s2s", "router", "tls", "auth"):
            memory = read_memory(kids[role])
            for form in forms:
                self.assertNotIn(form, memory, f"a form of the dialback secret found in {role}")

    def fake_server_key(self, b, bob, stream_id):
        """b.test dials fake.test (played here) for a message and sends its dialback key for
        the stream id we give; returns that key."""
        listener = socket.create_server(("127.0.0.13", 5269))
        self.addCleanup(listener.close)
        listener.settimeout(20)
        got = []

        def serve():
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(20)
                streams.read_until(conn, b">")
                conn.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                             b"xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
                             b"id='" + stream_id.encode() + b"' from='fake.test' version='1.0'>"
                             b"<stream:features><dialback xmlns='urn:xmpp:features:dialback'/></stream:features>")
                got.append(streams.read_until(conn, b"</db:result>"))
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        bob.send_message(mto="x@fake.test", mbody="hi", mtype="chat")
        for _ in range(50):  # the client sends while its loop runs
            self.loop.run_until_complete(asyncio.sleep(0.5))
            if not thread.is_alive():
                break
        m = re.search(rb"<db:result [^>]*>([0-9a-f]{64})</db:result>", got[0] if got else b"")
        self.assertTrue(m, got)
        return m.group(1).decode()

    def verify(self, stream_id, key):
        peer = RawPeer(self, "fake.test")
        self.addCleanup(peer.close)
        peer.open()
        peer.send(f"<db:verify from='fake.test' to='{B}' id='{stream_id}'>{key}</db:verify>")
        answer = peer.read_until(b"/>")
        return re.search(rb"type='(\w+)'", answer).group(1).decode()

    def restart_worker(self, b, starts):
        os.kill(b.children()["s2s"], signal.SIGKILL)
        harness.wait_for(lambda: len(re.findall(r"s2s\[\d+\]: dialback keys of epoch", b.log())) >= starts, 20,
                         "a new s2s worker with its keys")

    def test_a_key_outlives_one_new_epoch_and_not_two(self):
        b = self.start_xmppd(B, extra="s2s_require_encryption = false\n")
        self.adduser(b, f"bob@{B}", "bob pw")
        bob = self.login(f"bob@{B}/desk", "bob pw")
        key = self.fake_server_key(b, bob, "fake-stream-1")
        self.assertEqual(self.verify("fake-stream-1", key), "valid")
        self.assertEqual(self.verify("fake-stream-2", key), "invalid")  # control: the id counts
        self.restart_worker(b, 2)
        self.assertEqual(self.verify("fake-stream-1", key), "valid")  # the previous epoch's key
        self.restart_worker(b, 3)
        self.assertEqual(self.verify("fake-stream-1", key), "invalid")  # two epochs old


if __name__ == "__main__":
    harness.main()
