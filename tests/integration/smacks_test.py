#!/usr/bin/env python3
"""Stream management on client streams (XEP-0198, the smacks module): acknowledgements both
ways, a connection cut by dropping its packets and then resumed with every missed message
once, resumption refused for a forged token and for another account's, a hibernation that
times out sending its unacknowledged messages to offline storage (archived once, under the
stanza-id they arrived with), the stream error for an <a/> that acknowledges more than was
sent, a replaced login whose unacknowledged messages wait for the new one, a kicked session
that cannot be resumed, and offline messages kept once by a session closed while they were
being written.

Most cases speak raw XML (a small client below), which decides exactly when it acknowledges
and can send what a client library never would; one case runs Debian's slixmpp with its
xep_0198 plugin through a cut and its resumption. One server serves the whole class, with short timers so that it is quick:
an <r/> unanswered for 1 s cuts the connection, a hibernation lasts 4 s."""
import asyncio
import base64
import collections
import json
import os
import socket
import ssl
import subprocess
import time
import unittest
import xml.etree.ElementTree as ET

import slixmpp

import harness
import streams

HOST = "chat.test"
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")
SM = "urn:xmpp:sm:3"
CLIENT = "jabber:client"
STREAMS = "http://etherx.jabber.org/streams"
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
BIND = "urn:ietf:params:xml:ns:xmpp-bind"
HIBERNATION = 4
ACK_DELAY = 1
QUEUE = 20


class Raw:
    """A client stream spoken by hand: STARTTLS, SASL PLAIN, binding; then whatever the test
    sends. Received top-level elements are parsed; stanzas are counted as XEP-0198's h."""

    def __init__(self, ca_file, user, resource="phone", bind=True, host=HOST, address="127.0.0.1", password=None):
        self.host = host
        plain = socket.create_connection((address, 5222), timeout=10)
        self.buffer = collections.deque()
        self.handled = 0
        # The server's <r/> is answered as it is read, with the count of what was read, as a
        # client library does; a test that plays a dead client turns this off.
        self.auto_ack = True
        self.requests = 0
        self.sock = plain
        self.port = plain.getsockname()[1]
        self.open()
        self.sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        self.expect("{urn:ietf:params:xml:ns:xmpp-tls}proceed")
        self.sock = ssl.create_default_context(cafile=ca_file).wrap_socket(plain, server_hostname=host)
        self.open()
        password = password or f"{user}'s secret"
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{token}</auth>")
        self.expect(f"{{{SASL}}}success")
        self.features = self.open()
        self.jid = None
        if bind:
            self.send(f"<iq type='set' id='bind'><bind xmlns='{BIND}'><resource>{resource}</resource></bind></iq>")
            self.jid = self.expect(f"{{{CLIENT}}}iq").find(f"{{{BIND}}}bind/{{{BIND}}}jid").text

    def open(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.sock.sendall(streams.header(self.host))
        return self.expect(f"{{{STREAMS}}}features")

    def send(self, text):
        self.sock.sendall(text.encode() if isinstance(text, str) else text)

    def _read(self, timeout):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the server closed the connection")
        self.raw = getattr(self, "raw", b"") + data
        self.parser.feed(data)
        for event, element in self.parser.read_events():
            if event == "start":
                self.depth += 1
                continue
            self.depth -= 1
            if self.depth == 1:
                if element.tag in (f"{{{CLIENT}}}message", f"{{{CLIENT}}}presence", f"{{{CLIENT}}}iq"):
                    self.handled += 1
                elif element.tag == f"{{{SM}}}r":
                    self.requests += 1
                    if self.auto_ack:
                        self.send(f"<a xmlns='{SM}' h='{self.handled}'/>")
                self.buffer.append(element)

    def next(self, timeout=10):
        deadline = time.monotonic() + timeout
        while not self.buffer:
            self._read(max(0.01, deadline - time.monotonic()))
        return self.buffer.popleft()

    def expect(self, tag, timeout=10):
        element = self.next(timeout)
        assert element.tag == tag, (tag, ET.tostring(element))
        return element

    def enable(self, resume=True):
        self.send(f"<enable xmlns='{SM}'" + (" resume='true'/>" if resume else "/>"))
        enabled = self.expect(f"{{{SM}}}enabled")
        self.handled = 0  # XEP-0198 counts from <enable/>
        return enabled.get("id")

    def messages(self, count, timeout=10):
        """The ids of the next `count` messages, what else came skipped."""
        ids = []
        deadline = time.monotonic() + timeout
        while len(ids) < count:
            e = self.next(max(0.01, deadline - time.monotonic()))
            if e.tag == f"{{{CLIENT}}}message":
                ids.append(e.get("id"))
        return ids

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def cut(test, port):
    """Drops every packet of the client's connection (its local `port`) from now on, both
    ways: no FIN, no RST, as when a phone leaves the network. Undone when `test` ends."""
    table = f"smacks_{port}"
    subprocess.run(["nft", "add", "table", "inet", table], check=True)
    test.addCleanup(subprocess.run, ["nft", "delete", "table", "inet", table], check=True)
    subprocess.run(["nft", f"add chain inet {table} out {{ type filter hook output priority 0 ; }}"], check=True)
    subprocess.run(["nft", f"add rule inet {table} out tcp sport {port} drop"], check=True)
    subprocess.run(["nft", f"add rule inet {table} out tcp dport {port} drop"], check=True)


def send_messages(sender, to, ids):
    for i in ids:
        sender.send(f"<message to='{to}' id='{i}' type='chat'><body>{i}</body></message>")


class SlixmppClient(slixmpp.ClientXMPP):
    def __init__(self, jid, password, ca_file):
        super().__init__(jid, password)
        self.ca_certs = ca_file
        self.register_plugin("xep_0198")
        self.register_plugin("xep_0199")
        self.enabled = asyncio.get_event_loop().create_future()
        self.resumed = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_resumed", lambda _: self.resumed.done() or self.resumed.set_result(True))
        self.bodies = asyncio.Queue()
        self.add_event_handler("sm_enabled", lambda _: self.enabled.done() or self.enabled.set_result(True))
        self.add_event_handler("message", lambda m: self.bodies.put_nowait(m["body"]))


class Smacks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.class_workdir(cls, (HOST,))
        config = harness.basic_config(cls.workdir, f'certificates = "{cls.workdir}/certs"\n'
                                      f"smacks_hibernation_time = {HIBERNATION}\n"
                                      f"smacks_max_ack_delay = {ACK_DELAY}\n"
                                      "smacks_max_hibernated_sessions = 2\n"
                                      f"smacks_max_queue_size = {QUEUE}\n"
                                      'modules_enabled = { "mam" }\n')
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"')
        cls.xmppd = harness.Server(cls.workdir, config).start()
        cls.failed = False
        try:
            cls.xmppd.wait_sandboxed_children()
            cls.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts?")
            for user in ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivy", "jack"):
                harness.adduser(cls.xmppd, f"{user}@{HOST}", f"{user}'s secret")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        harness.stop_class_servers([cls.xmppd], cls.workdir, cls.failed)

    def setUp(self):
        self.raws = []

    def tearDown(self):
        for r in self.raws:
            r.close()
        if harness.has_failed(self):
            type(self).failed = True

    def raw(self, user, resource="phone", bind=True):
        r = Raw(self.ca_file, user, resource, bind)
        self.raws.append(r)
        return r

    def cut(self, port):
        cut(self, port)

    def xmppctl_c2s(self):
        r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "-j", "show", "c2s"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return {s["jid"]: s for s in json.loads(r.stdout)}

    def test_feature_offered_after_authentication_and_enable_needs_a_bound_resource(self):
        alice = self.raw("alice", bind=False)
        self.assertIsNotNone(alice.features.find(f"{{{SM}}}sm"), ET.tostring(alice.features))
        alice.send(f"<enable xmlns='{SM}' resume='true'/>")
        failed = alice.expect(f"{{{SM}}}failed")
        self.assertIsNotNone(failed.find("{urn:ietf:params:xml:ns:xmpp-stanzas}unexpected-request"))

    def test_acknowledgements_both_ways(self):
        alice, bob = self.raw("alice", "acks"), self.raw("bob", "acks")
        alice.enable(resume=False)
        self.assertEqual(self.xmppctl_c2s()[alice.jid]["stream_management"], "on")
        # The client's count: the stanzas the server handled from it.
        for i in range(3):
            alice.send(f"<iq type='get' id='p{i}' to='{HOST}'><ping xmlns='urn:xmpp:ping'/></iq>")
        alice.send(f"<r xmlns='{SM}'/>")
        while (e := alice.next()).tag != f"{{{SM}}}a":
            pass
        self.assertEqual(e.get("h"), "3")
        # The server's: it asks after each batch (smacks_max_unacked_stanzas = 0), and the
        # client's answers (3 results, 2 messages) are taken.
        send_messages(bob, alice.jid, ["a1", "a2"])
        self.assertEqual(alice.messages(2), ["a1", "a2"])
        self.assertGreaterEqual(alice.requests, 1)
        self.assertEqual(alice.handled, 5)
        # Still connected, past smacks_max_ack_delay: each <r/> was answered.
        time.sleep(ACK_DELAY + 0.5)
        alice.send(f"<r xmlns='{SM}'/>")
        while (e := alice.next()).tag != f"{{{SM}}}a":
            pass
        self.assertEqual(e.get("h"), "3")

    def test_cut_connection_resumed_with_nothing_lost_or_doubled(self):
        alice, bob = self.raw("alice", "mobile"), self.raw("bob", "desk")
        token = alice.enable()
        self.assertTrue(token and len(token) >= 22, token)
        alice.auto_ack = True
        self.assertEqual(self.xmppctl_c2s()[alice.jid]["stream_management"], "resumable")
        send_messages(bob, alice.jid, [f"m{i}" for i in range(1, 6)])
        got = alice.messages(5)
        # The phone leaves the network: its packets go nowhere, the server's too.
        log_mark = len(self.xmppd.log())
        alice.auto_ack = False
        self.cut(alice.port)
        send_messages(bob, alice.jid, [f"m{i}" for i in range(6, 11)])
        # The server's <r/> goes unanswered: the session hibernates within smacks_max_ack_delay.
        self.xmppd.wait_log(r"the session hibernates", timeout=ACK_DELAY + 5, after=log_mark)
        self.assertEqual(self.xmppctl_c2s()[alice.jid]["stream_management"], "hibernating")
        send_messages(bob, alice.jid, [f"m{i}" for i in range(11, 16)])
        time.sleep(0.3)
        again = self.raw("alice", bind=False)
        again.send(f"<resume xmlns='{SM}' previd='{token}' h='{alice.handled}'/>")
        again.handled = alice.handled  # the count goes on
        resumed = again.expect(f"{{{SM}}}resumed")
        self.assertEqual(resumed.get("previd"), token)
        got += again.messages(10)
        self.assertEqual(got, [f"m{i}" for i in range(1, 16)])
        # Nothing more, once: a ping round trip, and no message came before its answer.
        again.send(f"<iq type='get' id='after' to='{HOST}'><ping xmlns='urn:xmpp:ping'/></iq>")
        while True:
            e = again.next()
            self.assertNotEqual(e.tag, f"{{{CLIENT}}}message", ET.tostring(e))
            if e.tag == f"{{{CLIENT}}}iq" and e.get("id") == "after":
                break
        self.assertEqual(self.xmppctl_c2s()[alice.jid]["stream_management"], "resumable")
        # The resumed session is the same: bob's next message reaches it.
        send_messages(bob, alice.jid, ["m16"])
        self.assertEqual(again.messages(1), ["m16"])

    def test_resumed_while_the_old_connection_still_stands(self):
        frank, bob = self.raw("frank", "tablet"), self.raw("bob", "tablet")
        token = frank.enable()
        send_messages(bob, frank.jid, ["t1", "t2"])
        self.assertEqual(frank.messages(2), ["t1", "t2"])
        frank.auto_ack = False
        send_messages(bob, frank.jid, ["t3"])
        self.assertEqual(frank.messages(1), ["t3"])
        # A client that believes its connection dead, before the server does: t3 was read but
        # not acknowledged, so the client says h without it and gets it again.
        again = self.raw("frank", bind=False)
        again.send(f"<resume xmlns='{SM}' previd='{token}' h='{frank.handled - 1}'/>")
        again.expect(f"{{{SM}}}resumed")
        again.handled = frank.handled - 1
        self.assertEqual(again.messages(1), ["t3"])
        # The old connection is closed; the session goes on here.
        with self.assertRaises(EOFError):
            while True:
                frank._read(5)
        send_messages(bob, frank.jid, ["t4"])
        self.assertEqual(again.messages(1), ["t4"])
        self.assertEqual(len([j for j in self.xmppctl_c2s() if j.startswith("frank@")]), 1)

    def test_offline_messages_cut_before_their_acknowledgement_come_once(self):
        bob = self.raw("bob", "offline")
        ids = [f"k{i}" for i in range(3)]
        for i in ids:
            bob.send(f"<message to='carol@{HOST}' id='{i}' type='chat'><body>{i}</body></message>")
        bob.send(f"<iq type='get' id='sync' to='{HOST}'><ping xmlns='urn:xmpp:ping'/></iq>")
        while (e := bob.next()).get("id") != "sync":
            pass
        carol = self.raw("carol", "offline")
        token = carol.enable()
        carol.auto_ack = False
        carol.send("<presence/>")
        self.assertEqual(carol.messages(3), ids)
        log_mark = len(self.xmppd.log())
        carol.close()
        self.xmppd.wait_log(r"carol@chat.test/offline: connection lost", after=log_mark)
        # Resumed claiming nothing: the offline messages come again, from the queue.
        again = self.raw("carol", bind=False)
        again.send(f"<resume xmlns='{SM}' previd='{token}' h='0'/>")
        again.expect(f"{{{SM}}}resumed")
        self.assertEqual(again.messages(3), ids)
        again.send(f"<a xmlns='{SM}' h='{again.handled}'/></stream:stream>")
        harness.wait_for(lambda: f"carol@{HOST}/offline" not in self.xmppctl_c2s(), what="the session's end")
        # Acknowledged, they are gone from offline storage too.
        later = self.raw("carol", "later")
        later.send("<presence/>")
        later.send(f"<iq type='get' id='after' to='{HOST}'><ping xmlns='urn:xmpp:ping'/></iq>")
        while (e := later.next()).get("id") != "after":
            self.assertNotEqual(e.tag, f"{{{CLIENT}}}message", ET.tostring(e))

    def test_queue_overflow_ends_a_hibernating_session_and_loses_nothing(self):
        frank, bob = self.raw("frank", "overflow"), self.raw("bob", "overflow")
        frank.send("<presence/>")
        frank.enable()
        log_mark = len(self.xmppd.log())
        frank.close()
        self.xmppd.wait_log(r"frank@chat.test/overflow: connection lost", after=log_mark)
        ids = [f"q{i}" for i in range(QUEUE + 5)]
        send_messages(bob, frank.jid, ids)
        self.xmppd.wait_log(r"frank@chat.test/overflow: \d+ stanzas unacknowledged, the session ends", after=log_mark)
        harness.wait_for(lambda: frank.jid not in self.xmppctl_c2s(), what="the session's end")
        later = self.raw("frank", "after")
        later.send("<presence/>")
        self.assertEqual(sorted(later.messages(len(ids))), sorted(ids))

    def test_resumption_refused_for_another_account_or_a_forged_token(self):
        carol = self.raw("carol", "phone")
        token = carol.enable()
        dave = self.raw("dave", bind=False)
        dave.send(f"<resume xmlns='{SM}' previd='{token}' h='0'/>")
        failed = dave.expect(f"{{{SM}}}failed")
        self.assertIsNotNone(failed.find("{urn:ietf:params:xml:ns:xmpp-stanzas}item-not-found"))
        forged = self.raw("carol", bind=False)
        forged.send(f"<resume xmlns='{SM}' previd='{token[:-2]}AA' h='0'/>")
        failed = forged.expect(f"{{{SM}}}failed")
        self.assertIsNotNone(failed.find("{urn:ietf:params:xml:ns:xmpp-stanzas}item-not-found"))
        # Nothing changed: carol's session still answers on its own connection, and a stream
        # refused a resumption may still bind.
        carol.send(f"<r xmlns='{SM}'/>")
        self.assertEqual(carol.expect(f"{{{SM}}}a").get("h"), "0")
        dave.send(f"<iq type='set' id='bind'><bind xmlns='{BIND}'><resource>x</resource></bind></iq>")
        self.assertEqual(dave.expect(f"{{{CLIENT}}}iq").get("type"), "result")

    def test_handled_count_too_high_is_a_stream_error(self):
        erin = self.raw("erin", "high")
        erin.enable()
        erin.send(f"<a xmlns='{SM}' h='5'/>")
        try:
            while True:
                erin._read(5)
        except EOFError:
            pass
        text = erin.raw.decode(errors="replace")
        self.assertIn("<undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", text)
        self.assertRegex(text, r"<handled-count-too-high xmlns='urn:xmpp:sm:3' h='5' send-count='0'/>")
        # A stream error is no cut: nothing hibernates.
        harness.wait_for(lambda: "erin@chat.test/high" not in self.xmppctl_c2s(), what="the session's end")

    def test_expired_hibernation_keeps_the_messages_offline(self):
        dave, bob = self.raw("dave", "phone"), self.raw("bob", "office")
        dave.send("<presence/>")
        dave.enable()
        dave.auto_ack = False
        ids = [f"o{i}" for i in range(1, 5)]
        send_messages(bob, dave.jid, ids)
        self.assertEqual(dave.messages(4), ids)
        log_mark = len(self.xmppd.log())
        dave.close()  # no </stream:stream>: a lost connection
        self.xmppd.wait_log(r"dave@chat.test/phone: connection lost, the session hibernates", after=log_mark)
        send_messages(bob, dave.jid, ["o5"])
        bob.send(f"<iq type='get' id='v1' to='{dave.jid}'><query xmlns='jabber:iq:version'/></iq>")
        self.xmppd.wait_log(r"dave@chat.test/phone: not resumed in time", timeout=HIBERNATION + 5, after=log_mark)
        # The IQ request that waited in the queue is answered for the session that is gone.
        while (e := bob.next()).tag != f"{{{CLIENT}}}iq":
            pass
        self.assertEqual((e.get("id"), e.get("type")), ("v1", "error"))
        self.assertIsNotNone(e.find("{jabber:client}error/{urn:ietf:params:xml:ns:xmpp-stanzas}recipient-unavailable"))
        # None was acknowledged: all of them wait for the next login, once each.
        later = self.raw("dave", "laptop")
        later.send("<presence/>")
        got = later.messages(5)
        self.assertEqual(sorted(got), sorted(ids + ["o5"]))

    def ping(self, client, id="after"):
        """The ids of the messages that come before the answer to a ping."""
        client.send(f"<iq type='get' id='{id}' to='{HOST}'><ping xmlns='urn:xmpp:ping'/></iq>")
        got = []
        while (e := client.next()).get("id") != id:
            if e.tag == f"{{{CLIENT}}}message":
                got.append(e.get("id"))
        return got

    def test_replaced_login_gets_the_unacknowledged_messages_and_nothing_is_bounced(self):
        gina, bob = self.raw("gina", "phone"), self.raw("bob", "replacing")
        gina.send("<presence/>")
        gina.enable()
        gina.auto_ack = False
        send_messages(bob, gina.jid, ["x1", "x2"])
        self.assertEqual(gina.messages(2), ["x1", "x2"])
        # The app restarted: the same resource logs in again, without resuming.
        again = self.raw("gina", "phone")
        again.send("<presence/>")
        self.assertEqual(sorted(self.ping(again)), ["x1", "x2"])
        # Nothing went back to the sender.
        self.assertEqual(self.ping(bob, "bob-after"), [])

    def test_kicked_session_cannot_be_resumed(self):
        hank = self.raw("hank", "kick")
        token = hank.enable()
        spare = self.raw("hank", bind=False)  # authenticated ahead of time
        r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "kick", hank.jid], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        spare.send(f"<resume xmlns='{SM}' previd='{token}' h='0'/>")
        failed = spare.expect(f"{{{SM}}}failed")
        self.assertIsNotNone(failed.find("{urn:ietf:params:xml:ns:xmpp-stanzas}item-not-found"), ET.tostring(failed))
        harness.wait_for(lambda: hank.jid not in self.xmppctl_c2s(), what="the kicked session's end")

    def test_cleanly_closed_while_offline_messages_are_written_keeps_them_once(self):
        bob = self.raw("bob", "offline-writer")
        ids = [f"d{i}" for i in range(3)]
        for i in ids:
            bob.send(f"<message to='ivy@{HOST}' id='{i}' type='chat'><body>{i}</body></message>")
        self.ping(bob, "sync")
        ivy = self.raw("ivy", "one")
        ivy.enable(resume=False)
        ivy.auto_ack = False
        # Presence and the stream's end at once: the offline messages are written, never
        # acknowledged, and the session ends (not resumable, closed anyway).
        ivy.send("<presence/></stream:stream>")
        harness.wait_for(lambda: ivy.jid not in self.xmppctl_c2s(), what="the session's end")
        later = self.raw("ivy", "two")
        later.send("<presence/>")
        got = self.ping(later)
        time.sleep(0.5)
        got += self.ping(later, "again")
        self.assertEqual(sorted(got), ids)

    def test_expired_hibernation_archives_and_keeps_each_message_once(self):
        jack, bob = self.raw("jack", "phone"), self.raw("bob", "archiving")
        jack.send("<presence/>")
        jack.enable()
        jack.auto_ack = False
        send_messages(bob, jack.jid, ["a1"])
        while (live := jack.next()).tag != f"{{{CLIENT}}}message":
            pass
        # The id of jack's archive (the sender's archive adds one of its own).
        sid = [c.get("id") for c in live if c.tag == "{urn:xmpp:sid:0}stanza-id" and c.get("by") == f"jack@{HOST}"]
        self.assertEqual(len(sid), 1, ET.tostring(live))
        log_mark = len(self.xmppd.log())
        jack.close()
        self.xmppd.wait_log(r"jack@chat.test/phone: not resumed in time", timeout=HIBERNATION + 8, after=log_mark)
        later = self.raw("jack", "laptop")
        later.send("<presence/>")
        while (kept := later.next()).tag != f"{{{CLIENT}}}message":
            pass
        self.assertEqual(kept.get("id"), "a1")
        # The stanza-id it arrived with, and one <delay/>: not a second arrival.
        self.assertEqual(
            [c.get("id") for c in kept if c.tag == "{urn:xmpp:sid:0}stanza-id" and c.get("by") == f"jack@{HOST}"], sid)
        self.assertEqual(len(kept.findall("{urn:xmpp:delay}delay")), 1, ET.tostring(kept))
        later.send("<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='q'/></iq>")
        rows = []
        while not ((e := later.next()).tag == f"{{{CLIENT}}}iq" and e.get("id") == "q1"):
            r = e.find("{urn:xmpp:mam:2}result")
            if r is not None:
                rows.append(r.get("id"))
        self.assertEqual(rows, sid)

    def test_unacknowledged_request_drops_the_connection_without_closing_the_stream(self):
        gina, bob = self.raw("gina", "slow"), self.raw("bob", "to-slow")
        token = gina.enable()
        gina.auto_ack = False
        log_mark = len(self.xmppd.log())
        send_messages(bob, gina.jid, ["w1"])
        self.assertEqual(gina.messages(1), ["w1"])
        self.xmppd.wait_log(r"gina@chat.test/slow: connection lost, the session hibernates", timeout=ACK_DELAY + 5,
                            after=log_mark)
        # A client alive after all sees a cut, not </stream:stream>, and resumes.
        with self.assertRaises((EOFError, ConnectionResetError)):
            while True:
                gina._read(5)
        self.assertNotIn(b"</stream:stream>", gina.raw)
        again = self.raw("gina", bind=False)
        again.send(f"<resume xmlns='{SM}' previd='{token}' h='{gina.handled}'/>")
        again.expect(f"{{{SM}}}resumed")
        send_messages(bob, gina.jid, ["w2"])
        self.assertEqual(again.messages(1), ["w2"])

    def test_slixmpp_cut_mid_conversation_and_resumed(self):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        client = SlixmppClient(f"erin@{HOST}/slix", "erin's secret", self.ca_file)
        try:
            client.connect(("127.0.0.1", 5222))
            loop.run_until_complete(asyncio.wait_for(client.enabled, 20))
            sm = client.plugin["xep_0198"]
            self.assertTrue(sm.sm_id)
            bob = self.raw("bob", "slix")
            send_messages(bob, f"erin@{HOST}/slix", ["s1", "s2", "s3"])
            got = [loop.run_until_complete(asyncio.wait_for(client.bodies.get(), 10)) for _ in range(3)]
            self.assertEqual(got, ["s1", "s2", "s3"])
            # slixmpp answered the server's <r/>: its h went past the three messages.
            harness.wait_for(lambda: sm.handled >= 3, what="slixmpp's count")
            self.assertEqual(self.xmppctl_c2s()[f"erin@{HOST}/slix"]["stream_management"], "resumable")
            # Cut mid-conversation: the packets go nowhere; slixmpp notices nothing until it
            # is told the connection is dead, then resumes on a new one.
            log_mark = len(self.xmppd.log())
            self.cut(client.transport.get_extra_info("sockname")[1])
            send_messages(bob, f"erin@{HOST}/slix", ["s4", "s5", "s6"])
            self.xmppd.wait_log(r"erin@chat.test/slix: connection lost, the session hibernates", after=log_mark,
                                timeout=ACK_DELAY + 5)
            send_messages(bob, f"erin@{HOST}/slix", ["s7"])
            client.abort()
            loop.run_until_complete(asyncio.sleep(0.2))
            client.connect(("127.0.0.1", 5222))
            loop.run_until_complete(asyncio.wait_for(client.resumed, 20))
            got = [loop.run_until_complete(asyncio.wait_for(client.bodies.get(), 10)) for _ in range(4)]
            self.assertEqual(got, ["s4", "s5", "s6", "s7"])
            loop.run_until_complete(client.plugin["xep_0199"].ping(jid=HOST, timeout=10))
            loop.run_until_complete(asyncio.sleep(0.3))
            self.assertTrue(client.bodies.empty())
        finally:
            client.disconnect()
            loop.run_until_complete(asyncio.sleep(0.3))
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()



if __name__ == "__main__":
    harness.main()
