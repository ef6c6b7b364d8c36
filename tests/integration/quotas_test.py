#!/usr/bin/env python3
"""Per-user quotas with a real client library (Debian's python3-slixmpp): each limit refused
with its stanza error, and nothing else lost. A victim flooded with junk offline messages and
large subscription requests still logs in and still gets its legitimate messages; stored
stanzas are delivered paced by the connection, however many there are."""
import asyncio
import base64
import os
import sqlite3
import subprocess

import slixmpp

import certs
import harness
import streams
from clients_test import Client, ClientTest, XMPPCTL

HOST = "chat.test"
QUOTAS = """max_user_offline_messages = 80
max_user_offline_bytes = 20 * 1024 * 1024
max_pending_subscriptions = 10
max_roster_items = 4
max_directed_presences = 3
max_user_sessions = 2
"""
PASSWORD = "a secret"


class Quotas(ClientTest):
    def setUp(self):
        super().setUp()
        key, cert = self.ca.issue(HOST, "ec")
        certs.write(f"{self.workdir}/certs/{HOST}.crt", certs.cert_pem(cert))
        certs.write(f"{self.workdir}/certs/{HOST}.key", certs.key_pem(key), 0o600)
        config = harness.basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n' + QUOTAS)
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\n')
        self.xmppd = self.server(config).start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts")
        for user in ("victim", "bob", "mallory"):
            self.adduser(user)

    def adduser(self, user):
        r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "adduser", f"{user}@{HOST}"], input=PASSWORD + "\n",
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def login(self, jid, configure=None):
        # A named mechanism: slixmpp would otherwise try -PLUS with a channel binding xmppd does
        # not offer, and each refusal would slow the next login from this address.
        client = Client(jid, PASSWORD, self.ca_file, "SCRAM-SHA-256")
        client.presence_errors = asyncio.Queue()
        client.add_event_handler("presence_error", lambda p: client.presence_errors.put_nowait(p))
        if configure:
            configure(client)
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        outcome = self.loop.run_until_complete(asyncio.wait_for(client.outcome, 30))
        self.assertEqual(outcome, "session", jid)
        return client

    def logout(self, *clients):
        for c in clients:
            c.disconnect()
        self.loop.run_until_complete(asyncio.sleep(0.5))

    def wait(self, coroutine, timeout=20):
        return self.loop.run_until_complete(asyncio.wait_for(coroutine, timeout))

    def send_legitimate_messages(self):
        bob = self.login(f"bob@{HOST}/desk")
        for i in range(3):
            bob.send_message(mto=f"victim@{HOST}", mbody=f"legitimate {i}", mtype="chat")
        self.loop.run_until_complete(asyncio.sleep(0.5))
        self.logout(bob)

    def expect_legitimate_messages_first(self, victim, then_at_least=0):
        """The three messages Bob sent, intact and in order, then the rest."""
        bodies = []
        for _ in range(3 + then_at_least):
            m = self.wait(victim.messages.get(), 60)
            bodies.append((str(m["from"]), m["body"]))
        self.assertEqual(bodies[:3], [(f"bob@{HOST}/desk", f"legitimate {i}") for i in range(3)])
        return bodies

    def test_offline_junk_past_the_quota_is_refused_and_a_login_past_the_output_cap_keeps_everything(self):
        self.send_legitimate_messages()
        mallory = self.login(f"mallory@{HOST}/flood")
        junk = "j" * 200_000
        # 18 MB offered; 77 × 200 kB = 15.4 MB fit: far more than the 4 MiB a session may have
        # queued, and than the kernel's socket buffers on top of it.
        for _ in range(90):
            mallory.send_message(mto=f"victim@{HOST}", mbody=junk, mtype="chat")
        errors = []
        for _ in range(90 - 77):
            e = self.wait(mallory.messages.get(), 60)
            errors.append((e["type"], e["error"]["type"], e["error"]["condition"]))
        self.assertEqual(set(errors), {("error", "wait", "resource-constraint")})
        self.logout(mallory)

        victim = self.login(f"victim@{HOST}/phone")
        bodies = self.expect_legitimate_messages_first(victim, then_at_least=77)
        self.assertEqual(bodies[3:], [(f"mallory@{HOST}/flood", junk)] * 77)
        self.assertNotIn("the peer does not read what it is sent", self.xmppd.log())
        # Written, hence deleted: the next login gets nothing, and there is room again.
        self.logout(victim)
        again = self.login(f"victim@{HOST}/laptop")
        self.loop.run_until_complete(asyncio.sleep(1))
        self.assertTrue(again.messages.empty())

    def test_a_login_that_stops_reading_loses_only_what_was_written_to_it(self):
        self.send_legitimate_messages()
        mallory = self.login(f"mallory@{HOST}/flood")
        for i in range(77):
            mallory.send_message(mto=f"victim@{HOST}", mbody=f"{i:02} " + "j" * 200_000, mtype="chat")
        self.loop.run_until_complete(asyncio.sleep(3))
        self.logout(mallory)
        # A login that takes its first bytes and then reads nothing: the kernel's buffers fill,
        # delivery waits, and what never left the server must stay stored.
        tls, answer = self.bind_by_hand("stuck")
        self.assertIn(b"type='result'", answer)
        tls.sendall(b"<presence/>")
        self.loop.run_until_complete(asyncio.sleep(3))
        tls.close()
        self.loop.run_until_complete(asyncio.sleep(1))
        victim = self.login(f"victim@{HOST}/phone")
        rest = []
        while True:
            try:
                m = self.wait(victim.messages.get(), 5)
            except asyncio.TimeoutError:
                break
            rest.append(m["body"][:2])
        # The rest arrives, in order, to the last message; at least what the kernel could not
        # hold (about 10 MB on loopback) of the 15 MB.
        self.assertGreaterEqual(len(rest), 10, rest)
        self.assertEqual(rest, [f"{i:02}" for i in range(77 - len(rest), 77)])

    def test_sigterm_commits_the_open_batch(self):
        bob = self.login(f"bob@{HOST}/desk")
        for i in range(20):
            bob.send_message(mto=f"victim@{HOST}", mbody=f"before the restart {i}", mtype="chat")
        self.loop.run_until_complete(asyncio.sleep(1))
        self.logout(bob)
        self.clients.clear()
        self.assertEqual(self.xmppd.stop(), 0)
        self.assertRegex(self.xmppd.log(), r"router\[\d+\]: SIGTERM: committing the user store and exiting")
        # Its exit (status 0, or the SIGTERM it was sent) is the stop the parent asked for.
        self.assertRegex(self.xmppd.log(), r"xmppd: router\[\d+\] stopped")
        mark = len(self.xmppd.log())
        self.xmppd.start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts", after=mark)
        victim = self.login(f"victim@{HOST}/phone")
        bodies = [self.wait(victim.messages.get())["body"] for _ in range(20)]
        self.assertEqual(bodies, [f"before the restart {i}" for i in range(20)])

    def test_a_flood_of_large_subscription_requests_keeps_only_bare_requests_within_the_quota(self):
        self.send_legitimate_messages()
        status = "s" * 100_000
        refused = []
        for i in range(20):
            user = f"throwaway{i}"
            self.adduser(user)
            sender = self.login(f"{user}@{HOST}/x")
            sender.send_presence(pto=f"victim@{HOST}", ptype="subscribe", pstatus=status)
            if i >= 10:
                e = self.wait(sender.presence_errors.get())
                refused.append((e["error"]["type"], e["error"]["condition"]))
            self.loop.run_until_complete(asyncio.sleep(0.2))
            self.logout(sender)
        self.assertEqual(refused, [("wait", "resource-constraint")] * 10)

        def hold_requests(client):
            client.auto_authorize = None  # answers nothing
            client.requests = asyncio.Queue()
            client.add_event_handler("presence_subscribe", lambda p: client.requests.put_nowait(p))

        victim = self.login(f"victim@{HOST}/phone", hold_requests)
        senders = set()
        for _ in range(10):
            p = self.wait(victim.requests.get())
            senders.add(str(p["from"]))
            self.assertLessEqual(len(p["status"]), 1024)  # only a bare request was kept
            self.assertTrue(status.startswith(p["status"]))
        self.assertEqual(senders, {f"throwaway{i}@{HOST}" for i in range(10)})
        self.expect_legitimate_messages_first(victim)
        self.loop.run_until_complete(asyncio.sleep(0.5))
        self.assertTrue(victim.requests.empty())
        # Unanswered requests stay and come again at the next login.
        self.logout(victim)
        victim = self.login(f"victim@{HOST}/phone", hold_requests)
        self.assertTrue(str(self.wait(victim.requests.get())["from"]).startswith("throwaway"))

    def test_a_store_that_fails_is_an_internal_server_error_not_a_full_quota(self):
        """The sender of what could not be kept is told the server failed (and may try again),
        not that the recipient's storage is full."""
        # Triggers planted in the router's store make its writes for Bob's stanzas fail.
        db = sqlite3.connect(f"{self.workdir}/data/router/user.sqlite", timeout=10)
        db.executescript(f"""
            CREATE TRIGGER fail_request BEFORE INSERT ON subscription_request WHEN NEW.sender = 'bob@{HOST}'
            BEGIN SELECT RAISE(ABORT, 'failed by the test'); END;
            CREATE TRIGGER fail_offline BEFORE INSERT ON offline WHEN NEW.stanza LIKE '%doomed%'
            BEGIN SELECT RAISE(ABORT, 'failed by the test'); END;""")
        db.close()
        bob = self.login(f"bob@{HOST}/desk")
        bob.send_presence(pto=f"victim@{HOST}", ptype="subscribe")
        e = self.wait(bob.presence_errors.get())
        self.assertEqual((e["from"].bare, e["error"]["type"], e["error"]["condition"]),
                         (f"victim@{HOST}", "wait", "internal-server-error"))
        bob.send_message(mto=f"victim@{HOST}", mbody="doomed", mtype="chat")
        e = self.wait(bob.messages.get())
        self.assertEqual((e["type"], e["error"]["type"], e["error"]["condition"]),
                         ("error", "wait", "internal-server-error"))
        # The statement's catalog name comes between: "...: request.upsert: failed by the test".
        self.xmppd.wait_log(r"cannot keep a subscription request: (\S+: )?failed by the test")
        self.xmppd.wait_log(r"cannot keep an offline message: (\S+: )?failed by the test")

    def test_roster_size_is_refused_with_policy_violation_and_kept_items_stay(self):
        victim = self.login(f"victim@{HOST}/phone")
        self.wait(harness.fresh_roster(victim))
        for i in range(4):
            self.wait(victim.update_roster(f"friend{i}@{HOST}", name=f"Friend {i}"))
        with self.assertRaises(slixmpp.exceptions.IqError) as refused:
            self.wait(victim.update_roster(f"friend4@{HOST}", name="one too many"))
        # slixmpp 1.8 does not know RFC 6120's policy-violation by name: read the stanza.
        self.assertEqual(refused.exception.iq["error"]["type"], "modify")
        self.assertIn("<policy-violation xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"",
                      str(refused.exception.iq))
        # Renaming a kept item still works at the limit.
        self.wait(victim.update_roster(f"friend0@{HOST}", name="Renamed"))
        items = self.wait(harness.fresh_roster(victim))["roster"]["items"]
        self.assertEqual({str(j): i["name"] for j, i in items.items()},
                         {f"friend0@{HOST}": "Renamed", **{f"friend{i}@{HOST}": f"Friend {i}" for i in range(1, 4)}})
        # A subscription request to a fifth contact would add an item: refused too.
        victim.send_presence_subscription(pto=f"friend5@{HOST}")
        e = self.wait(victim.presence_errors.get())
        self.assertIn("<policy-violation xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"", str(e))

    def test_directed_presences_per_session_are_bounded(self):
        bob = self.login(f"bob@{HOST}/desk")
        seen = asyncio.Queue()
        bob.add_event_handler("presence", lambda p: seen.put_nowait((str(p["from"]), p["type"])))
        victim = self.login(f"victim@{HOST}/phone")
        for i in range(3):
            victim.send_presence(pto=f"nobody{i}@{HOST}")
        victim.send_presence(pto=f"bob@{HOST}/desk")  # the fourth
        e = self.wait(victim.presence_errors.get())
        self.assertEqual((e["from"].bare, e["error"]["type"], e["error"]["condition"]),
                         (f"bob@{HOST}", "wait", "resource-constraint"))
        # The three that were tracked still hear the logout; Bob heard nothing.
        self.loop.run_until_complete(asyncio.sleep(0.5))
        self.assertTrue(seen.empty())
        # Saying goodbye to one of them makes room.
        victim.send_presence(pto=f"nobody0@{HOST}", ptype="unavailable")
        victim.send_presence(pto=f"bob@{HOST}/desk")
        self.assertEqual(self.wait(seen.get()), (f"victim@{HOST}/phone", "available"))
        victim.disconnect()
        self.assertEqual(self.wait(seen.get()), (f"victim@{HOST}/phone", "unavailable"))

    def bind_by_hand(self, resource, user="victim"):
        """Logs in over a raw stream; returns (socket, the answer to the bind request)."""
        sock = streams.connect(5222)
        tls, _, _ = streams.starttls(sock, HOST, self.ca_file)
        self.addCleanup(tls.close)
        token = base64.b64encode(f"\0{user}\0{PASSWORD}".encode()).decode()
        tls.sendall(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>".encode())
        self.assertIn(b"<success", streams.read_until(tls, b"success"))
        streams.open_stream(tls, HOST)
        tls.sendall(f"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                    f"<resource>{resource}</resource></bind></iq>".encode())
        return tls, streams.read_until(tls, b"</iq>")

    def test_resources_per_account_are_bounded_at_bind(self):
        one = self.login(f"victim@{HOST}/one")
        two = self.login(f"victim@{HOST}/two")
        tls, answer = self.bind_by_hand("three")
        self.assertIn(b"type='error'", answer)
        self.assertIn(b"<error type='wait'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>",
                      answer)
        # Taking over one of its own resources is allowed, and the two sessions were untouched
        # by the refusal.
        bob = self.login(f"bob@{HOST}/desk")
        bob.send_message(mto=f"victim@{HOST}/two", mbody="still there", mtype="chat")
        self.assertEqual(self.wait(two.messages.get())["body"], "still there")
        tls.sendall(b"<iq type='set' id='c'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                    b"<resource>one</resource></bind></iq>")
        self.assertIn(b"type='result'", streams.read_until(tls, b"</iq>"))
        self.assertEqual(self.wait(one.outcome), "session")
        self.xmppd.wait_log(r"stream error conflict: replaced by a new login for this resource")

    def test_subscribed_without_a_request_is_a_pre_approval_and_grants_nothing_yet(self):
        """Pre-approval (RFC 6121 §3.4): 'subscribed' that answers no request is kept in the
        user's roster as approved, and is not sent: the contact gets no subscription until it
        asks."""
        victim = self.login(f"victim@{HOST}/phone")
        bob = self.login(f"bob@{HOST}/desk")
        self.wait(harness.fresh_roster(victim))
        victim.send_presence(pto=f"bob@{HOST}", ptype="subscribed")
        self.loop.run_until_complete(asyncio.sleep(0.5))
        items = self.wait(harness.fresh_roster(victim))["roster"]["items"]
        self.assertEqual((items[f"bob@{HOST}"]["subscription"], items[f"bob@{HOST}"]["approved"]), ("none", "true"))
        items = self.wait(harness.fresh_roster(bob))["roster"]["items"]
        self.assertNotIn(f"victim@{HOST}", {str(j) for j in items})


if __name__ == "__main__":
    harness.main()
