#!/usr/bin/env python3
"""The blocklist module (XEP-0191) with spam reports (XEP-0377), with slixmpp clients: the list
read, changed and pushed to the sessions that asked for it; a blocked JID (bare, full or a
domain) gets nothing from the user and reaches nothing, whether the user is online or not;
a subscribed contact sees the user go when blocked and come back when unblocked, and a
request waiting from a contact blocked is dropped; reports
logged for the administrator; the list's limit, with nothing stored half, and bad input."""
import asyncio
import subprocess
import xml.etree.ElementTree as ET

import slixmpp

import certs
import harness
from clients_test import Client, ClientTest, XMPPCTL

HOST = "chat.test"
OTHER = "other.test"
PASSWORD = "a secret"
BLOCKING = "urn:xmpp:blocking"
STANZAS = "{urn:ietf:params:xml:ns:xmpp-stanzas}"


def condition(stanza):
    """The stanza error's condition, read from the XML: slixmpp 1.8 knows only RFC 3920's."""
    for child in stanza.xml.find("{jabber:client}error"):
        if child.tag.startswith(STANZAS) and child.tag != STANZAS + "text":
            return child.tag[len(STANZAS):]
    return None


class Blocklist(ClientTest):
    def setUp(self):
        super().setUp()
        self.issue_host_certificates(HOST, OTHER)
        # Named, whether or not it is among the defaults.
        config = harness.basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n'
                                      'modules_enabled = { "blocklist" }\nmax_blocklist_items = 20\n')
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\nVirtualHost "{OTHER}"\n')
        self.xmppd = self.server(config).start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 2 hosts")
        for jid in (f"alice@{HOST}", f"bob@{HOST}", f"dave@{OTHER}"):
            r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "adduser", jid], input=PASSWORD + "\n",
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)

    def login(self, jid, decide=False):
        client = Client(jid, PASSWORD, self.ca_file, "SCRAM-SHA-256")
        if decide:  # subscription requests answered by hand, not by slixmpp
            client.auto_authorize = None
            client.requests = asyncio.Queue()
            client.add_event_handler("presence_subscribe", lambda p: client.requests.put_nowait(str(p["from"])))
        for plugin in ("xep_0191", "xep_0377"):
            client.register_plugin(plugin)
        client.pushes = asyncio.Queue()
        client.add_event_handler("blocked", lambda iq: client.pushes.put_nowait(
            ("block", sorted(str(j) for j in iq["block"]["items"]))))
        client.add_event_handler("unblocked", lambda iq: client.pushes.put_nowait(
            ("unblock", sorted(str(j) for j in iq["unblock"]["items"]))))
        client.presences = asyncio.Queue()
        client.add_event_handler("presence", lambda p: client.presences.put_nowait(
            (str(p["from"]), p["type"], p["status"])))
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        self.assertEqual(self.wait(client.outcome, 30), "session", jid)
        return client

    def wait(self, awaitable, timeout=20):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def settle(self, seconds=0.5):
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def drain(self, queue):
        items = []
        while not queue.empty():
            items.append(queue.get_nowait())
        return items

    def blocklist(self, client):
        return sorted(str(j) for j in self.wait(client["xep_0191"].get_blocked(timeout=10))["blocklist"]["items"])

    def refused(self, coroutine):
        """The error an IQ got: (type, condition, text, with <blocked/>)."""
        with self.assertRaises(slixmpp.exceptions.IqError) as caught:
            self.wait(coroutine)
        iq = caught.exception.iq
        blocked = iq.xml.find("{jabber:client}error/{urn:xmpp:blocking:errors}blocked") is not None
        return iq["error"]["type"], condition(iq), iq["error"]["text"], blocked

    def raw_set(self, client, payload):
        iq = client.make_iq_set()
        iq.append(ET.fromstring(payload))
        return iq.send(timeout=10)

    def subscribe_both_ways(self, alice, bob):
        online = asyncio.get_event_loop().create_future()
        alice.add_event_handler("got_online", lambda p: online.set_result(True)
                                if str(p["from"]).startswith("bob@") and not online.done() else None)
        alice.send_presence_subscription(pto=f"bob@{HOST}")  # slixmpp approves and subscribes back
        self.wait(online)
        self.settle()
        self.drain(alice.presences)
        self.drain(bob.presences)

    def test_the_list_is_read_changed_and_pushed_to_the_sessions_that_asked(self):
        phone = self.login(f"alice@{HOST}/phone")
        laptop = self.login(f"alice@{HOST}/laptop")
        info = self.wait(phone["xep_0030"].get_info(jid=HOST, timeout=10))
        for feature in (BLOCKING, "urn:xmpp:reporting:1"):
            self.assertIn(feature, info["disco_info"]["features"])
        self.assertEqual(self.blocklist(phone), [])
        self.wait(phone["xep_0191"].block([f"spammer@{OTHER}", f"Bob@{HOST.upper()}", f"{OTHER}"], timeout=10))
        self.assertEqual(self.wait(phone.pushes.get()),
                         ("block", sorted([f"spammer@{OTHER}", f"bob@{HOST}", OTHER])))
        self.assertEqual(self.blocklist(phone), sorted([f"spammer@{OTHER}", f"bob@{HOST}", OTHER]))
        self.wait(phone["xep_0191"].unblock([f"bob@{HOST}"], timeout=10))
        self.assertEqual(self.wait(phone.pushes.get()), ("unblock", [f"bob@{HOST}"]))
        # The laptop never asked for the list: it gets no pushes (XEP-0191 §3.3).
        self.settle()
        self.assertTrue(laptop.pushes.empty())
        # Kept across a restart.
        for c in self.clients:
            c.disconnect()
        self.settle()
        self.clients.clear()
        self.assertEqual(self.xmppd.stop(), 0)
        self.xmppd.start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 2 hosts", after=0)
        phone = self.login(f"alice@{HOST}/phone")
        self.assertEqual(self.blocklist(phone), sorted([f"spammer@{OTHER}", OTHER]))
        # Unblock with no item: everything (XEP-0191 §3.5).
        unblock_all = phone.make_iq_set()
        unblock_all.enable("unblock")
        self.wait(unblock_all.send(timeout=10))
        self.assertEqual(self.wait(phone.pushes.get()), ("unblock", []))
        self.assertEqual(self.blocklist(phone), [])

    def test_a_blocked_contact_gets_nothing_and_reaches_nothing(self):
        alice = self.login(f"alice@{HOST}/phone")
        bob = self.login(f"bob@{HOST}/desk")
        self.subscribe_both_ways(alice, bob)
        self.wait(alice["xep_0191"].block([f"bob@{HOST}"], timeout=10))
        # Bob, subscribed to Alice, sees her go (XEP-0191 §3.3).
        self.assertEqual(self.wait(bob.presences.get()), (f"alice@{HOST}/phone", "unavailable", ""))

        # Inbound: a message or an IQ gets service-unavailable, presence nothing.
        bob.send_message(mto=f"alice@{HOST}", mbody="hello?", mtype="chat")
        bob.send_message(mto=f"alice@{HOST}/phone", mbody="hello, phone?", mtype="chat")
        for _ in range(2):
            error = self.wait(bob.messages.get())
            self.assertEqual((error["type"], error["error"]["condition"]), ("error", "service-unavailable"))
        self.assertEqual(self.refused(bob["xep_0199"].ping(f"alice@{HOST}/phone", timeout=10))[1],
                         "service-unavailable")
        self.assertEqual(self.refused(bob["xep_0030"].get_info(jid=f"alice@{HOST}", timeout=10))[1],
                         "service-unavailable")
        bob.send_presence(pstatus="busy")  # broadcast to Alice, a subscriber
        bob.send_presence(pto=f"alice@{HOST}/phone", pstatus="directed")
        self.settle()
        self.assertTrue(alice.messages.empty())
        self.assertEqual(self.drain(alice.presences), [])

        # Outbound: not-acceptable with <blocked/>, and Bob gets nothing.
        alice.send_message(mto=f"bob@{HOST}/desk", mbody="I blocked you", mtype="chat")
        error = self.wait(alice.messages.get())
        self.assertEqual((error["type"], error["error"]["condition"]), ("error", "not-acceptable"))
        self.assertIsNotNone(error.xml.find("{jabber:client}error/{urn:xmpp:blocking:errors}blocked"))
        self.assertEqual(self.refused(alice["xep_0199"].ping(f"bob@{HOST}/desk", timeout=10)),
                         ("cancel", "not-acceptable", f"You have blocked bob@{HOST}/desk", True))
        presence_errors = asyncio.Queue()
        alice.add_event_handler("presence_error", lambda p: presence_errors.put_nowait(p["error"]["condition"]))
        alice.send_presence(pto=f"bob@{HOST}/desk")
        self.assertEqual(self.wait(presence_errors.get()), "not-acceptable")
        alice.send_presence(pstatus="away")  # broadcast: not to Bob
        self.settle()
        self.assertTrue(bob.messages.empty())
        self.assertEqual(self.drain(bob.presences), [])

        # Offline, the same answer: nothing kept for Alice either.
        alice.disconnect()
        self.settle()
        self.clients.remove(alice)
        bob.send_message(mto=f"alice@{HOST}", mbody="while you are away", mtype="chat")
        error = self.wait(bob.messages.get())
        self.assertEqual(error["error"]["condition"], "service-unavailable")
        alice = self.login(f"alice@{HOST}/phone")
        self.settle()
        self.assertTrue(alice.messages.empty())
        # Bob's presence is not among the contacts' presences Alice gets at login.
        self.assertNotIn(f"bob@{HOST}/desk", [p[0] for p in self.drain(alice.presences)])

        # Unblocked: Bob sees Alice again, and messages flow.
        self.drain(bob.presences)
        self.wait(alice["xep_0191"].unblock([f"bob@{HOST}"], timeout=10))
        self.assertEqual(self.wait(bob.presences.get())[:2], (f"alice@{HOST}/phone", "available"))
        bob.send_message(mto=f"alice@{HOST}", mbody="friends again", mtype="chat")
        self.assertEqual(self.wait(alice.messages.get())["body"], "friends again")

    def test_a_request_waiting_from_a_contact_blocked_is_dropped(self):
        bob = self.login(f"bob@{HOST}/desk")
        bob.send_presence_subscription(pto=f"alice@{HOST}")  # Alice is offline: it waits for her
        self.settle()
        alice = self.login(f"alice@{HOST}/phone", decide=True)
        self.assertEqual(self.wait(alice.requests.get()), f"bob@{HOST}")
        self.wait(alice["xep_0191"].block([f"bob@{HOST}"], timeout=10))
        alice.disconnect()
        self.settle()
        self.clients.remove(alice)
        # Without the block the request would come again at each login, until answered.
        alice = self.login(f"alice@{HOST}/phone", decide=True)
        self.settle(1)
        self.assertTrue(alice.requests.empty())

    def test_full_jid_and_domain_items_match_as_xep_0191_says(self):
        alice = self.login(f"alice@{HOST}/phone")
        desk = self.login(f"bob@{HOST}/desk")
        laptop = self.login(f"bob@{HOST}/laptop")
        dave = self.login(f"dave@{OTHER}/home")
        self.wait(alice["xep_0191"].block([f"bob@{HOST}/desk", OTHER, "remote.example"], timeout=10))
        desk.send_message(mto=f"alice@{HOST}", mbody="from the desk", mtype="chat")
        laptop.send_message(mto=f"alice@{HOST}", mbody="from the laptop", mtype="chat")
        dave.send_message(mto=f"alice@{HOST}", mbody="from the other domain", mtype="chat")
        self.assertEqual(self.wait(desk.messages.get())["error"]["condition"], "service-unavailable")
        self.assertEqual(self.wait(dave.messages.get())["error"]["condition"], "service-unavailable")
        self.assertEqual(self.wait(alice.messages.get())["body"], "from the laptop")
        self.settle()
        self.assertTrue(alice.messages.empty())
        # A whole domain, outbound, before any attempt to reach it.
        alice.send_message(mto=f"someone@remote.example/x", mbody="hi", mtype="chat")
        error = self.wait(alice.messages.get())
        self.assertEqual(error["error"]["condition"], "not-acceptable")

    def test_spam_reports_are_logged_for_the_administrator(self):
        alice = self.login(f"alice@{HOST}/phone")
        self.wait(self.raw_set(alice, f"<block xmlns='{BLOCKING}'><item jid='spammer@{OTHER}'>"
                                      "<report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'>"
                                      "<text xml:lang='en'>Buy cheap watches\nforged: line</text></report>"
                                      "</item></block>"))
        self.xmppd.wait_log(rf"blocklist: alice@chat\.test/phone reports spammer@other\.test for spam: "
                            r"Buy cheap watches forged: line")
        # XEP-0377 0.2, as slixmpp 1.8 sends it.
        iq = alice.make_iq_set()
        iq["block"]["items"] = [f"troll@{OTHER}"]
        iq["block"]["report"]["abuse"] = True
        self.wait(iq.send(timeout=10))
        self.xmppd.wait_log(r"blocklist: alice@chat\.test/phone reports troll@other\.test for abuse")
        # A reason this server does not know: bad-request, nothing blocked.
        self.assertEqual(self.refused(self.raw_set(alice, f"<block xmlns='{BLOCKING}'><item jid='x@{OTHER}'>"
                                                          "<report xmlns='urn:xmpp:reporting:1' reason='boring'/>"
                                                          "</item></block>"))[1], "bad-request")
        self.assertEqual(self.blocklist(alice), [f"spammer@{OTHER}", f"troll@{OTHER}"])

    def test_the_limit_and_bad_input_store_nothing_half(self):
        alice = self.login(f"alice@{HOST}/phone")
        bob = self.login(f"bob@{HOST}/desk")
        # max_blocklist_items = 20.
        too_many = [f"u{i}@spam.example" for i in range(21)]
        error = self.refused(alice["xep_0191"].block(too_many, timeout=10))
        self.assertEqual(error[:3], ("modify", "policy-violation",
                                     "A block list holds at most 20 JIDs; nothing of this block was stored"))
        self.assertEqual(self.blocklist(alice), [])
        self.wait(alice["xep_0191"].block(too_many[:20], timeout=10))
        self.assertEqual(self.refused(alice["xep_0191"].block([too_many[20], "new@spam.example"], timeout=10))[:2],
                         ("modify", "policy-violation"))
        listed = self.blocklist(alice)
        self.assertEqual(len(listed), 20)
        self.assertNotIn("new@spam.example", listed)
        self.wait(alice["xep_0191"].block([too_many[0]], timeout=10))  # already there: no new item
        # Bad input.
        self.assertEqual(self.refused(self.raw_set(alice, f"<block xmlns='{BLOCKING}'/>"))[1], "bad-request")
        self.assertEqual(self.refused(self.raw_set(alice, f"<block xmlns='{BLOCKING}'><item jid='ok@{OTHER}'/>"
                                                          "<item jid='bad@'/></block>"))[1], "jid-malformed")
        self.assertEqual(self.refused(self.raw_set(alice, f"<block xmlns='{BLOCKING}'><item/></block>"))[1],
                         "bad-request")
        self.assertNotIn(f"ok@{OTHER}", self.blocklist(alice))
        get_as_set = alice.make_iq_set()
        get_as_set.enable("blocklist")
        self.assertEqual(self.refused(get_as_set.send(timeout=10))[1], "bad-request")
        # Another user's list is nobody else's business.
        self.assertEqual(self.refused(self.other_users_list(bob))[1], "service-unavailable")

    def other_users_list(self, bob):
        iq = bob.make_iq_get(ito=f"alice@{HOST}")
        iq.enable("blocklist")
        return iq.send(timeout=10)


if __name__ == "__main__":
    harness.main()
