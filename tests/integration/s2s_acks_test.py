#!/usr/bin/env python3
"""Stream management acknowledgements (XEP-0198, without resumption) on server-to-server
streams: a link cut by dropping its packets while messages are in flight loses none and
doubles none, between two xmppd and towards a real Prosody 0.12 with mod_smacks; a peer that
acknowledges more than it was sent gets the stream error XEP-0198 names."""
import json
import subprocess
import time

import certs
import harness
import streams
from federation_test import A, ADDRESS, B, XMPPCTL, FederationTest, RawPeer
from prosody import Prosody, fresh_workdir

ACK_TIMEOUT = 4  # s2s_timeout on the sending side: how long an <r/> may go unanswered


def established_port(remote):
    """The source port of the one TCP connection to `remote`:5269 (outbound connections
    leave from 127.0.0.1)."""
    out = subprocess.run(["ss", "-tnH", "state", "established"], capture_output=True, text=True, check=True).stdout
    ports = [int(fields[-2].rsplit(":", 1)[1]) for fields in map(str.split, out.splitlines())
             if len(fields) >= 4 and fields[-1] == f"{remote}:5269"]
    assert len(ports) == 1, out
    return ports[0]


def cut(test, port):
    """Drops every packet of the connection with this source port, both ways, as a lost NAT
    binding or a dead mobile link does: no reset ever comes."""
    harness.drop_syns(test, f"tcp sport {port}")
    subprocess.run(["nft", f"add rule inet xmppd_test out tcp dport {port} drop"], check=True)


class Acks(FederationTest):
    def outbound(self, server):
        """The outbound stream to B as xmppctl -j show s2s reports it."""
        r = subprocess.run([XMPPCTL, "-f", server.config, "-j", "show", "s2s", B], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = [s for s in json.loads(r.stdout) if s["direction"] == "outbound"]
        self.assertEqual(len(out), 1, out)
        return out[0]

    def bodies(self, client, count, timeout=20):
        got = [self.receive(client, timeout)["body"] for _ in range(count)]
        # Anything more (a duplicate) would come within a moment.
        time.sleep(1.5)
        while not client.messages.empty():
            got.append(client.messages.get_nowait()["body"])
        return got

    def cut_mid_conversation(self, sender, alice, bob, log):
        """Five messages acknowledged, the link cut, five more in flight: all ten arrive once."""
        first = [f"before {i}" for i in range(5)]
        for body in first:
            alice.send_message(mto=f"bob@{B}", mbody=body, mtype="chat")
        self.assertEqual(self.bodies(bob, 5), first)
        sender.wait_log(rf"s2s outbound {A} -> {B} via .*: acknowledgements \(XEP-0198\) enabled")
        log()
        # All five acknowledged before the cut: none of them may come again.
        harness.wait_for(lambda: self.outbound(sender)["unacked"] == 0, 10, "the first five acknowledged")
        self.assertTrue(self.outbound(sender)["sm"])
        cut(self, established_port(ADDRESS[B]))
        second = [f"after {i}" for i in range(5)]
        for body in second:
            alice.send_message(mto=f"bob@{B}", mbody=body, mtype="chat")
        self.assertEqual(self.bodies(bob, 5, timeout=ACK_TIMEOUT + 20), second)
        sender.wait_log(rf"s2s outbound {A} -> {B} via .*stream lost: no acknowledgement \(XEP-0198\) within "
                        rf"{ACK_TIMEOUT} s")
        sender.wait_log(rf"s2s outbound {A} -> {B}: 5 stanzas not acknowledged; sending them again")

    def test_a_cut_link_loses_nothing_and_doubles_nothing(self):
        a = self.start_xmppd(A, extra=f"s2s_timeout = {ACK_TIMEOUT}\n")
        b = self.start_xmppd(B)
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(b, f"bob@{B}", "bob pw")
        alice, bob = self.login(f"alice@{A}/phone", "alice pw"), self.login(f"bob@{B}/desk", "bob pw")
        self.cut_mid_conversation(a, alice, bob, lambda: b.wait_log(
            rf"s2s inbound {A} -> {B} from .*: acknowledgements \(XEP-0198\) enabled"))
        # Nobody was told of a failure.
        self.assertTrue(alice.messages.empty())

    def test_unacknowledged_stanzas_bounce_when_no_new_stream_can_be_made(self):
        a = self.start_xmppd(A, extra=f"s2s_timeout = {ACK_TIMEOUT}\n")
        b = self.start_xmppd(B)
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(b, f"bob@{B}", "bob pw")
        alice, bob = self.login(f"alice@{A}/phone", "alice pw"), self.login(f"bob@{B}/desk", "bob pw")
        alice.send_message(mto=f"bob@{B}", mbody="before", mtype="chat")
        self.assertEqual(self.receive(bob)["body"], "before")
        harness.wait_for(lambda: self.outbound(a)["unacked"] == 0, 10, "the first acknowledged")
        # Every packet to or from b.test's s2s port is dropped from now on: the stream, and
        # any new one, are gone.
        harness.drop_syns(self, "tcp dport 5269")
        subprocess.run(["nft", "add rule inet xmppd_test out tcp sport 5269 drop"], check=True)
        for i in range(3):
            m = alice.make_message(mto=f"bob@{B}", mbody=f"lost {i}", mtype="chat")
            m["id"] = f"lost-{i}"
            m.send()
        errors = [self.receive(alice, timeout=3 * ACK_TIMEOUT + 20) for _ in range(3)]
        # Each bounces once (the bounce carries the id, not the body).
        self.assertEqual(sorted(m["id"] for m in errors), [f"lost-{i}" for i in range(3)])
        for m in errors:
            self.assertEqual(m["type"], "error")
            self.assertIn(m["error"]["condition"], ("remote-server-timeout", "remote-server-not-found"))
            self.assertIn("Server-to-server connection failed", m["error"]["text"])
        a.wait_log(rf"s2s outbound {A} -> {B}: 3 stanzas not acknowledged; sending them again")
        self.assertTrue(bob.messages.empty())

    def test_the_receiver_closing_mid_burst_doubles_nothing(self):
        """b.test ends the stream (xmppctl close s2s) while messages are in flight: its final
        <a h/> (XEP-0198 §4) tells a.test what arrived, so only the rest is sent again."""
        a = self.start_xmppd(A)
        b = self.start_xmppd(B)
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(b, f"bob@{B}", "bob pw")
        alice, bob = self.login(f"alice@{A}/phone", "alice pw"), self.login(f"bob@{B}/desk", "bob pw")
        alice.send_message(mto=f"bob@{B}", mbody="first", mtype="chat")
        self.assertEqual(self.receive(bob)["body"], "first")
        a.wait_log(rf"s2s outbound {A} -> {B} via .*: acknowledgements \(XEP-0198\) enabled")
        burst = [f"burst {i}" for i in range(300)]
        for body in burst:
            alice.send_message(mto=f"bob@{B}", mbody=body, mtype="chat")
        got = [self.receive(bob)["body"]]
        r = subprocess.run([XMPPCTL, "-f", b.config, "close", "s2s", A], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        got += self.bodies(bob, len(burst) - 1, timeout=30)
        self.assertEqual(sorted(got), sorted(burst))
        a.wait_log(rf"s2s outbound {A} -> {B} via .*the peer closed the stream")
        self.assertTrue(alice.messages.empty())

    def test_with_prosody_both_ways(self):
        a = self.start_xmppd(A, extra=f"s2s_timeout = {ACK_TIMEOUT}\n")
        self.adduser(a, f"alice@{A}", "alice pw")
        workdir = fresh_workdir(self.workdir, "prosody")
        key, cert = self.ca.issue(B, "ec")
        certs.write(f"{workdir}/b.crt", certs.cert_pem(cert))
        certs.write(f"{workdir}/b.key", certs.key_pem(key), 0o600)
        prosody = Prosody(workdir, B, ADDRESS[B], f"{workdir}/b.crt", f"{workdir}/b.key", self.ca_file,
                          options={"modules_enabled": Prosody.MODULES + ["smacks"]})
        self.servers.append(prosody)
        prosody.start()
        prosody.register("bob", "bob pw")
        alice, bob = self.login(f"alice@{A}/phone", "alice pw"), self.login(f"bob@{B}/desk", "bob pw")
        # Prosody enables acknowledgements on its own outbound stream to xmppd.
        bob.send_message(mto=f"alice@{A}", mbody="from prosody", mtype="chat")
        self.assertEqual(self.receive(alice)["body"], "from prosody")
        a.wait_log(rf"s2s inbound {B} -> {A} from .*: acknowledgements \(XEP-0198\) enabled")
        self.cut_mid_conversation(a, alice, bob, lambda: None)
        self.assertTrue(alice.messages.empty())


class Refusals(FederationTest):
    def test_acknowledging_more_than_was_sent_is_a_stream_error(self):
        self.start_xmppd(B)
        key, cert = self.ca.issue("peer.test", "ec")
        cert_file, key_file = f"{self.workdir}/peer.crt", f"{self.workdir}/peer.key"
        certs.write(cert_file, certs.cert_pem(cert))
        certs.write(key_file, certs.key_pem(key), 0o600)
        peer = RawPeer(self, "peer.test", cert=(cert_file, key_file))
        self.addCleanup(peer.close)
        features = peer.starttls()
        self.assertIn(b"<sm xmlns='urn:xmpp:sm:3'/>", features)
        # Not before authentication.
        peer.send("<enable xmlns='urn:xmpp:sm:3'/>")
        self.assertIn(b"<unexpected-request", peer.read_until(b"</failed>"))
        features = peer.external()
        self.assertIn(b"<sm xmlns='urn:xmpp:sm:3'/>", features)
        peer.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
        enabled = peer.read_until(b"/>")
        self.assertIn(b"<enabled xmlns='urn:xmpp:sm:3'/>", enabled)  # no resumption on s2s
        peer.send("<r xmlns='urn:xmpp:sm:3'/>")
        self.assertIn(b"h='0'", peer.read_until(b"/>"))
        peer.send(f"<presence from='x@peer.test' to='nobody@{B}' type='unavailable'/><r xmlns='urn:xmpp:sm:3'/>")
        self.assertIn(b"<a xmlns='urn:xmpp:sm:3' h='1'/>", peer.read_until(b"/>"))
        peer.send("<a xmlns='urn:xmpp:sm:3' h='999'/>")
        data = streams.read_to_end(peer.sock)
        self.assertIn(b"<undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", data)
        self.assertIn(b"<handled-count-too-high xmlns='urn:xmpp:sm:3' h='999' send-count='0'/>", data)

    def counted_peer(self):
        """A peer.test stream to b.test with acknowledgements enabled and two stanzas counted."""
        key, cert = self.ca.issue("peer.test", "ec")
        cert_file, key_file = f"{self.workdir}/peer.crt", f"{self.workdir}/peer.key"
        certs.write(cert_file, certs.cert_pem(cert))
        certs.write(key_file, certs.key_pem(key), 0o600)
        peer = RawPeer(self, "peer.test", cert=(cert_file, key_file))
        self.addCleanup(peer.close)
        peer.starttls()
        peer.external()
        peer.send("<enable xmlns='urn:xmpp:sm:3'/>")
        self.assertIn(b"<enabled xmlns='urn:xmpp:sm:3'/>", peer.read_until(b"/>"))
        peer.send(f"<presence from='x@peer.test' to='nobody@{B}' type='unavailable'/>"
                  f"<presence from='y@peer.test' to='nobody@{B}' type='unavailable'/><r xmlns='urn:xmpp:sm:3'/>")
        self.assertIn(b"h='2'", peer.read_until(b"/>"))
        return peer

    def test_a_final_acknowledgement_when_the_worker_stops(self):
        b = self.start_xmppd(B)
        peer = self.counted_peer()
        b.stop()
        self.assertTrue(streams.read_to_end(peer.sock).endswith(b"<a xmlns='urn:xmpp:sm:3' h='2'/></stream:stream>"))

    def test_a_final_acknowledgement_before_the_stream_ends(self):
        """XEP-0198 §4: <a h/> right before </stream:stream>, so the peer sends nothing again."""
        b = self.start_xmppd(B)
        peer = self.counted_peer()
        r = subprocess.run([XMPPCTL, "-f", b.config, "close", "s2s", "peer.test"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(streams.read_to_end(peer.sock).endswith(b"<a xmlns='urn:xmpp:sm:3' h='2'/></stream:stream>"))

    def test_off_with_smacks_enabled_s2s_false(self):
        self.start_xmppd(B, extra="smacks_enabled_s2s = false\n")
        peer = RawPeer(self, "peer.test")
        self.addCleanup(peer.close)
        self.assertNotIn(b"urn:xmpp:sm:3", peer.starttls())
        peer.send("<enable xmlns='urn:xmpp:sm:3'/>")
        self.assertIn(b"<feature-not-implemented", peer.read_until(b"</failed>"))


if __name__ == "__main__":
    harness.main()
