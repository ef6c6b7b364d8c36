#!/usr/bin/env python3
"""The carbons (XEP-0280) and csi_simple (XEP-0352) modules with a real client library
(Debian's python3-slixmpp): copies of sent and received messages on a user's other
carbon-enabled sessions, and none after disabling or for <private/> and <no-copy/> messages;
a client that says it is inactive gets presence and chat states only with the next message
that matters, or when it is active again, in their order."""
import asyncio
import os
import subprocess

import slixmpp
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

import certs
import harness
from clients_test import ClientTest
from federation_test import A, ADDRESS, B, FederationTest
from harness import basic_config
from prosody import Prosody, fresh_workdir

HOST = "chat.test"
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")
CARBONS = "urn:xmpp:carbons:2"
FORWARD = "urn:xmpp:forward:0"


class Client(slixmpp.ClientXMPP):
    """Everything the client receives, as (kind, from, text) in arrival order: kind is
    "message", "sent" or "received" (a carbon copy; from and text are the carried message's),
    or "presence" (text: its show)."""

    def __init__(self, jid, password, ca_file):
        super().__init__(jid, password)
        self.ca_certs = ca_file
        for plugin in ("xep_0030", "xep_0199", "xep_0280", "xep_0352", "xep_0334"):
            self.register_plugin(plugin)
        self.started = asyncio.get_event_loop().create_future()
        self.received = asyncio.Queue()
        self.raw_messages = []
        self.add_event_handler("session_start", self._started)
        # Every message, carbon copies and chat states included (slixmpp's "message" event is
        # for those with a body).
        self.register_handler(Callback("every message", MatchXPath("{jabber:client}message"), self._message))
        self.add_event_handler("presence", self._presence)

    async def _started(self, _):
        self.send_presence()
        if not self.started.done():
            self.started.set_result(True)

    def _message(self, msg):
        self.raw_messages.append(ET.tostring(msg.xml, encoding="unicode"))
        for kind in ("sent", "received"):
            inner = msg.xml.find(f"{{{CARBONS}}}{kind}/{{{FORWARD}}}forwarded/{{jabber:client}}message")
            if inner is not None:
                body = inner.find("{jabber:client}body")
                self.received.put_nowait((kind, inner.get("from"), inner.get("to"),
                                          body.text if body is not None else None, str(msg["from"])))
                return
        body = msg["body"] or None
        if body is None and msg.xml.find("{http://jabber.org/protocol/chatstates}composing") is not None:
            body = "(composing)"
        self.received.put_nowait(("message", str(msg["from"]), str(msg["to"]), body, None))

    def _presence(self, presence):
        if presence["from"].bare != self.boundjid.bare:
            self.received.put_nowait(("presence", str(presence["from"]), None, presence["show"] or presence["type"],
                                      None))


class Carbons(ClientTest):
    def setUp(self):
        super().setUp()
        self.issue_host_certificates(HOST)
        config = basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n')
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"')
        self.xmppd = self.server(config).start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts?")
        for user in ("alice", "bob"):
            r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "adduser", f"{user}@{HOST}"],
                               input=f"{user}'s secret\n", capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)

    def wait(self, awaitable, timeout=10):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def login(self, jid):
        client = Client(jid, jid.split("@")[0] + "'s secret", self.ca_file)
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        self.wait(client.started, 20)
        return client

    def next(self, client):
        return self.wait(client.received.get())

    def quiet(self, *clients, seconds=0.7):
        """Nothing more arrives at these clients (after a round trip to the server and a pause)."""
        for c in clients:
            self.wait(c.plugin["xep_0199"].ping(jid=HOST, timeout=10))
        self.loop.run_until_complete(asyncio.sleep(seconds))
        for c in clients:
            self.assertTrue(c.received.empty(), f"{c.boundjid}: {c.received._queue!r}")

    def drain(self, *clients):
        self.loop.run_until_complete(asyncio.sleep(0.5))
        for c in clients:
            while not c.received.empty():
                c.received.get_nowait()

    def three_sessions(self, enable=True):
        phone, laptop, bob = (self.login(f"alice@{HOST}/phone"), self.login(f"alice@{HOST}/laptop"),
                              self.login(f"bob@{HOST}/desk"))
        if enable:
            for c in (phone, laptop):
                self.wait(c.plugin["xep_0280"].enable())
        self.drain(phone, laptop, bob)
        return phone, laptop, bob

    def test_sent_and_received_copies(self):
        phone, laptop, bob = self.three_sessions()
        phone.send_message(mto=f"bob@{HOST}", mbody="from my phone", mtype="chat")
        self.assertEqual(self.next(bob), ("message", f"alice@{HOST}/phone", f"bob@{HOST}", "from my phone", None))
        self.assertEqual(self.next(laptop),
                         ("sent", f"alice@{HOST}/phone", f"bob@{HOST}", "from my phone", f"alice@{HOST}"))
        # The copy is wrapped as XEP-0280 §8 says: the same type, to the session's full JID.
        wrapper = ET.fromstring(laptop.raw_messages[-1])
        self.assertEqual((wrapper.get("type"), wrapper.get("to")), ("chat", f"alice@{HOST}/laptop"))

        bob.send_message(mto=f"alice@{HOST}/phone", mbody="to your phone", mtype="chat")
        self.assertEqual(self.next(phone)[:4], ("message", f"bob@{HOST}/desk", f"alice@{HOST}/phone", "to your phone"))
        self.assertEqual(self.next(laptop),
                         ("received", f"bob@{HOST}/desk", f"alice@{HOST}/phone", "to your phone", f"alice@{HOST}"))
        # A normal message with a body is copied too; one without, or a headline, is not.
        bob.send_message(mto=f"alice@{HOST}/phone", mbody="normal", mtype="normal")
        self.assertEqual(self.next(phone)[3], "normal")
        self.assertEqual(self.next(laptop)[:4], ("received", f"bob@{HOST}/desk", f"alice@{HOST}/phone", "normal"))
        bob.send_message(mto=f"alice@{HOST}/phone", mbody="news", mtype="headline")
        self.assertEqual(self.next(phone)[3], "news")
        # A chat message to the bare JID reaches both sessions itself: no copies.
        bob.send_message(mto=f"alice@{HOST}", mbody="to both", mtype="chat")
        self.assertEqual(self.next(phone)[3], "to both")
        self.assertEqual(self.next(laptop)[0:4], ("message", f"bob@{HOST}/desk", f"alice@{HOST}", "to both"))
        self.quiet(phone, laptop, bob)

    def test_disabled_or_never_enabled_sessions_get_no_copies(self):
        phone, laptop, bob = self.three_sessions()
        self.wait(laptop.plugin["xep_0280"].disable())
        bob.send_message(mto=f"alice@{HOST}/phone", mbody="one", mtype="chat")
        phone.send_message(mto=f"bob@{HOST}", mbody="two", mtype="chat")
        self.assertEqual(self.next(phone)[3], "one")
        self.assertEqual(self.next(bob)[3], "two")
        self.quiet(phone, laptop, bob)
        # Enabled again: copies again; the sending session never gets its own.
        self.wait(laptop.plugin["xep_0280"].enable())
        phone.send_message(mto=f"bob@{HOST}", mbody="three", mtype="chat")
        self.assertEqual(self.next(laptop)[:4], ("sent", f"alice@{HOST}/phone", f"bob@{HOST}", "three"))
        self.assertEqual(self.next(bob)[3], "three")
        self.quiet(phone, laptop)

    def test_private_and_no_copy_hints(self):
        phone, laptop, bob = self.three_sessions()
        # Bob has a second carbon-enabled session: as the receiving server, this one makes no
        # received copy of a <private/> message either.
        tablet = self.login(f"bob@{HOST}/tablet")
        self.wait(tablet.plugin["xep_0280"].enable())
        self.drain(phone, laptop, bob, tablet)
        msg = phone.make_message(mto=f"bob@{HOST}/desk", mbody="just between us", mtype="chat")
        msg.append(ET.Element(f"{{{CARBONS}}}private"))
        msg.send()
        self.assertEqual(self.next(bob)[3], "just between us")
        # XEP-0280 §7: the receiving server removes the element.
        self.assertNotIn("private", bob.raw_messages[-1])
        bob.send_message(mto=f"alice@{HOST}/phone", mbody="answer", mtype="chat")
        self.assertEqual(self.next(phone)[3], "answer")
        self.assertEqual(self.next(laptop)[:4], ("received", f"bob@{HOST}/desk", f"alice@{HOST}/phone", "answer"))
        # The first thing bob's tablet gets: no copy of the private message, one of his answer.
        self.assertEqual(self.next(tablet)[:4], ("sent", f"bob@{HOST}/desk", f"alice@{HOST}/phone", "answer"))
        # XEP-0334 <no-copy/>, both ways.
        msg = bob.make_message(mto=f"alice@{HOST}/phone", mbody="no copy", mtype="chat")
        msg.enable("no-copy")
        msg.send()
        msg = phone.make_message(mto=f"bob@{HOST}/desk", mbody="no copy either", mtype="chat")
        msg.enable("no-copy")
        msg.send()
        self.assertEqual(self.next(phone)[3], "no copy")
        self.assertEqual(self.next(bob)[3], "no copy either")
        self.quiet(phone, laptop, bob, tablet)
        # Without a hint, bob's tablet gets copies of both directions.
        phone.send_message(mto=f"bob@{HOST}/desk", mbody="copied", mtype="chat")
        self.assertEqual(self.next(tablet)[:4], ("received", f"alice@{HOST}/phone", f"bob@{HOST}/desk", "copied"))

    def test_carbons_are_a_feature_of_the_server_and_the_account(self):
        phone = self.login(f"alice@{HOST}/phone")
        info = self.wait(phone["xep_0030"].get_info(jid=HOST))
        self.assertIn(CARBONS, info["disco_info"]["features"])
        info = self.wait(phone["xep_0030"].get_info(jid=f"alice@{HOST}"))
        self.assertIn(CARBONS, info["disco_info"]["features"])
        # Only the account's own sessions switch carbons.
        bob = self.login(f"bob@{HOST}/desk")
        iq = bob.make_iq_set(ito=f"alice@{HOST}")
        iq.append(ET.Element(f"{{{CARBONS}}}enable"))
        with self.assertRaises(slixmpp.exceptions.IqError) as caught:
            self.wait(iq.send())
        self.assertEqual(caught.exception.iq["error"]["condition"], "not-allowed")

    # XEP-0352
    def inactive_phone(self):
        phone = self.login(f"alice@{HOST}/phone")
        bob = self.login(f"bob@{HOST}/desk")
        self.assertTrue(phone.plugin["xep_0352"].enabled)  # the stream feature was offered
        self.drain(phone, bob)
        phone.plugin["xep_0352"].send_inactive()
        self.wait(phone.plugin["xep_0199"].ping(jid=HOST, timeout=10))  # the server has read it
        return phone, bob

    def bob_fidgets(self, bob):
        """Directed presence (three shows: only the last is worth delivering) and a chat state."""
        for show in ("away", "dnd"):
            bob.send_presence(pto=f"alice@{HOST}/phone", pshow=show)
        msg = bob.make_message(mto=f"alice@{HOST}/phone", mtype="chat")
        msg.xml.append(ET.Element("{http://jabber.org/protocol/chatstates}composing"))
        msg.send()
        bob.send_presence(pto=f"alice@{HOST}/phone", pshow="xa")

    def test_an_inactive_client_gets_presence_with_the_next_message_in_order(self):
        phone, bob = self.inactive_phone()
        self.bob_fidgets(bob)
        self.quiet(bob)
        self.loop.run_until_complete(asyncio.sleep(0.5))
        self.assertTrue(phone.received.empty(), phone.received._queue)
        bob.send_message(mto=f"alice@{HOST}/phone", mbody="are you there?", mtype="chat")
        got = [self.next(phone)[0:4:3] for _ in range(3)]
        self.assertEqual(got, [("message", "(composing)"), ("presence", "xa"), ("message", "are you there?")])
        self.quiet(phone)

    def test_going_active_flushes(self):
        phone, bob = self.inactive_phone()
        self.bob_fidgets(bob)
        self.quiet(bob)
        self.assertTrue(phone.received.empty(), phone.received._queue)
        phone.plugin["xep_0352"].send_active()
        got = [self.next(phone)[0:4:3] for _ in range(2)]
        self.assertEqual(got, [("message", "(composing)"), ("presence", "xa")])
        # Active: delivered at once.
        bob.send_presence(pto=f"alice@{HOST}/phone", pshow="chat")
        self.assertEqual(self.next(phone)[0:4:3], ("presence", "chat"))

    def test_many_held_stanzas_are_flushed(self):
        phone, bob = self.inactive_phone()

        def composing():
            msg = bob.make_message(mto=f"alice@{HOST}/phone", mtype="chat")
            msg.xml.append(ET.Element("{http://jabber.org/protocol/chatstates}composing"))
            msg.send()

        for _ in range(100):  # chat states are all kept, unlike presence
            composing()
        self.quiet(bob)
        self.assertTrue(phone.received.empty())
        composing()  # past 100, they all go
        for _ in range(101):
            self.assertEqual(self.next(phone)[0:4:3], ("message", "(composing)"))

class CarbonsOverS2s(FederationTest):
    """A Prosody user (bob@b.test) and an xmppd user with two carbon-enabled sessions."""

    def test_a_message_from_another_server_is_copied(self):
        a = self.start_xmppd(A)
        self.adduser(a, f"alice@{A}", "alice's secret")
        workdir = fresh_workdir(self.workdir, "prosody")
        key, cert = self.ca.issue(B, "ec")
        certs.write(f"{workdir}/b.crt", certs.cert_pem(cert))
        certs.write(f"{workdir}/b.key", certs.key_pem(key), 0o600)
        prosody = Prosody(workdir, B, ADDRESS[B], f"{workdir}/b.crt", f"{workdir}/b.key", self.ca_file)
        self.servers.append(prosody)
        prosody.start()
        prosody.register("bob", "bob pw")
        sessions = []
        for resource in ("phone", "laptop"):
            c = Client(f"alice@{A}/{resource}", "alice's secret", self.ca_file)
            self.clients.append(c)
            c.connect((ADDRESS[A], 5222))
            self.loop.run_until_complete(asyncio.wait_for(c.started, 20))
            self.loop.run_until_complete(asyncio.wait_for(c.plugin["xep_0280"].enable(), 10))
            sessions.append(c)
        phone, laptop = sessions
        bob = self.login(f"bob@{B}/desk", "bob pw")

        def next_of(client):
            return self.loop.run_until_complete(asyncio.wait_for(client.received.get(), 20))

        phone.send_message(mto=f"bob@{B}", mbody="over s2s", mtype="chat")
        self.assertEqual(next_of(laptop), ("sent", f"alice@{A}/phone", f"bob@{B}", "over s2s", f"alice@{A}"))
        self.assertEqual(self.receive(bob)["body"], "over s2s")
        bob.send_message(mto=f"alice@{A}/phone", mbody="back from prosody", mtype="chat")
        self.assertEqual(next_of(phone)[:4], ("message", f"bob@{B}/desk", f"alice@{A}/phone", "back from prosody"))
        self.assertEqual(next_of(laptop),
                         ("received", f"bob@{B}/desk", f"alice@{A}/phone", "back from prosody", f"alice@{A}"))


if __name__ == "__main__":
    harness.main()
