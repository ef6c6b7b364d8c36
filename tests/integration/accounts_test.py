#!/usr/bin/env python3
"""Account management with a real client library (Debian's python3-slixmpp, XEP-0077): a
password change after login, then only the new password works; in-band removal, which ends
every session of the account and leaves no login; xmppctl deluser, which does the same for a
logged-in user; and the refusals: another account's username, a malformed request, an
anonymous host."""
import asyncio
import os
import signal
import subprocess
import time

import slixmpp
from slixmpp.exceptions import IqError

import certs
import harness
from clients_test import Client, ClientTest
from harness import basic_config

HOST = "chat.test"
ANONYMOUS_HOST = "guest.test"
NO_REGISTER_HOST = "quiet.test"  # modules_disabled = { "register" }
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")


class AccountClient(Client):
    """A client that can change its account, and records the stream errors it is sent."""

    def __init__(self, jid, password, ca_file, mechanism=None):
        super().__init__(jid, password, ca_file, mechanism)
        self.register_plugin("xep_0077")
        self.stream_errors = asyncio.Queue()
        self.add_event_handler("stream_error",
                               lambda e: self.stream_errors.put_nowait((e["condition"], e["text"])))


class Accounts(ClientTest):
    def setUp(self):
        super().setUp()
        self.issue_host_certificates(HOST, ANONYMOUS_HOST, NO_REGISTER_HOST)
        config = basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n')
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\n'
                                f'VirtualHost "{ANONYMOUS_HOST}"\nauthentication = "anonymous"\n'
                                f'VirtualHost "{NO_REGISTER_HOST}"\nmodules_disabled = {{ "register" }}\n')
        self.xmppd = self.server(config).start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 3 hosts")
        for user, password in (("alice", "alice's secret"), ("bob", "bob's secret")):
            r = self.xmppctl("adduser", f"{user}@{HOST}", password)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = self.xmppctl("adduser", f"{user}@{NO_REGISTER_HOST}", password)
            self.assertEqual(r.returncode, 0, r.stderr)

    def xmppctl(self, *args):
        *command, password = args if args[0] != "deluser" else (*args, "")
        return subprocess.run([XMPPCTL, "-f", self.xmppd.config, *command], input=password + "\n",
                              capture_output=True, text=True, timeout=30)

    def login(self, jid, password, mechanism="SCRAM-SHA-256"):
        client = AccountClient(jid, password, self.ca_file, mechanism)
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        outcome = self.wait(asyncio.wait_for(client.outcome, 20))
        return client, outcome

    def wait(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def iq_error(self, coroutine):
        """The condition of the IQ error the request gets (it must get one)."""
        with self.assertRaises(IqError) as caught:
            self.wait(asyncio.wait_for(coroutine, 10))
        return caught.exception.iq["error"]["condition"], caught.exception.iq["error"]["type"]

    def raw_register_set(self, client, payload, to=None):
        iq = client.Iq()
        iq["type"] = "set"
        if to:
            iq["to"] = to
        iq.append(slixmpp.xmlstream.ET.fromstring(f"<query xmlns='jabber:iq:register'>{payload}</query>"))
        return iq.send(timeout=10)

    def test_password_change_then_only_the_new_password_works(self):
        alice, outcome = self.login(f"alice@{HOST}/phone", "alice's secret")
        self.assertEqual(outcome, "session")
        form = self.wait(asyncio.wait_for(alice["xep_0077"].get_registration(), 10))
        self.assertTrue(form["register"]["registered"])
        self.assertEqual(form["register"]["username"], "alice")
        result = self.wait(asyncio.wait_for(alice["xep_0077"].change_password("alice's new secret"), 10))
        self.assertEqual(result["type"], "result")
        self.xmppd.wait_log(r"account alice@chat\.test: password changed in-band")
        # The session goes on; the next logins take the new password only, with each mechanism.
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"):
            with self.subTest(mechanism=mechanism):
                _, outcome = self.login(f"alice@{HOST}/{mechanism}", "alice's secret", mechanism)
                self.assertEqual(outcome, "failed_auth")
                _, outcome = self.login(f"alice@{HOST}/{mechanism}", "alice's new secret", mechanism)
                self.assertEqual(outcome, "session")
        self.assertTrue(alice.stream_errors.empty())

    def test_password_change_ends_the_accounts_other_sessions(self):
        """A login made with the old password (perhaps a stolen one) does not outlive it."""
        phone, _ = self.login(f"alice@{HOST}/phone", "alice's secret")
        laptop, _ = self.login(f"alice@{HOST}/laptop", "alice's secret")
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        self.wait(asyncio.wait_for(phone["xep_0077"].change_password("alice's new secret"), 10))
        error = self.wait(asyncio.wait_for(laptop.stream_errors.get(), 10))
        self.assertEqual(error, ("not-authorized", "Password changed"))
        self.wait(asyncio.sleep(0.3))
        self.assertTrue(phone.stream_errors.empty())
        self.assertTrue(bob.stream_errors.empty())

    def test_contacts_see_a_removed_account_go_and_lose_their_subscriptions(self):
        alice, _ = self.login(f"alice@{HOST}/phone", "alice's secret")
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        online = asyncio.get_event_loop().create_future()
        bob.add_event_handler("got_online", lambda p: online.set_result(True)
                              if str(p["from"]).startswith("alice@") and not online.done() else None)
        alice.send_presence()
        # slixmpp approves and subscribes back on its own: both ways.
        bob.send_presence_subscription(pto=f"alice@{HOST}")
        self.wait(asyncio.wait_for(online, 10))
        self.wait(asyncio.sleep(0.3))
        items = self.wait(asyncio.wait_for(harness.fresh_roster(bob), 10))["roster"]["items"]
        self.assertEqual(items[f"alice@{HOST}"]["subscription"], "both")
        offline = asyncio.get_event_loop().create_future()
        bob.add_event_handler("got_offline", lambda p: offline.set_result(str(p["from"])) if not offline.done() else None)
        r = self.xmppctl("deluser", f"alice@{HOST}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.wait(asyncio.wait_for(offline, 10)), f"alice@{HOST}/phone")
        self.wait(asyncio.sleep(0.3))
        items = self.wait(asyncio.wait_for(harness.fresh_roster(bob), 10))["roster"]["items"]
        self.assertEqual((items[f"alice@{HOST}"]["subscription"], bool(items[f"alice@{HOST}"]["ask"])), ("none", False))

    def test_password_change_refusals(self):
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        # Another account's username (XEP-0077 §3.3: not-authorized).
        condition, _ = self.iq_error(self.raw_register_set(
            bob, "<username>alice</username><password>taken over</password>"))
        self.assertEqual(condition, "not-authorized")
        # Malformed: no password, no username.
        for payload in ("<username>bob</username>", "<password>x</password>", ""):
            with self.subTest(payload=payload):
                condition, error_type = self.iq_error(self.raw_register_set(bob, payload))
                self.assertEqual((condition, error_type), ("bad-request", "modify"))
        # An empty password, as registration and xmppctl passwd refuse it.
        condition, _ = self.iq_error(self.raw_register_set(bob, "<username>bob</username><password/>"))
        self.assertEqual(condition, "not-acceptable")
        # One past what the link to the auth helper carries (64 KiB): refused, not lost.
        condition, _ = self.iq_error(self.raw_register_set(
            bob, f"<username>bob</username><password>{'x' * 70000}</password>"))
        self.assertEqual(condition, "not-acceptable")
        # Nothing changed, for either account.
        for user in ("alice", "bob"):
            _, outcome = self.login(f"{user}@{HOST}/check", f"{user}'s secret")
            self.assertEqual(outcome, "session")

    def test_request_addressed_to_the_server(self):
        # XEP-0077's own examples address the server; slixmpp addresses no one.
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        result = self.wait(asyncio.wait_for(self.raw_register_set(
            bob, "<username>bob</username><password>bob's new secret</password>", to=HOST), 10))
        self.assertEqual(result["type"], "result")
        _, outcome = self.login(f"bob@{HOST}/check", "bob's new secret")
        self.assertEqual(outcome, "session")
        # Another server's address is not where an account of this one changes.
        condition, _ = self.iq_error(self.raw_register_set(
            bob, "<username>bob</username><password>x</password>", to=NO_REGISTER_HOST))
        self.assertEqual(condition, "service-unavailable")
        # Nor is another user's.
        condition, _ = self.iq_error(self.raw_register_set(bob, "<remove/>", to=f"alice@{HOST}"))
        self.assertEqual(condition, "service-unavailable")
        _, outcome = self.login(f"alice@{HOST}/check", "alice's secret")
        self.assertEqual(outcome, "session")

    def test_module_disabled_on_a_host(self):
        bob, _ = self.login(f"bob@{NO_REGISTER_HOST}/desk", "bob's secret")
        condition, _ = self.iq_error(bob["xep_0077"].change_password("x"))
        self.assertEqual(condition, "service-unavailable")
        condition, _ = self.iq_error(bob["xep_0077"].cancel_registration())
        self.assertEqual(condition, "service-unavailable")
        _, outcome = self.login(f"bob@{NO_REGISTER_HOST}/check", "bob's secret")
        self.assertEqual(outcome, "session")

    def test_anonymous_host_has_no_account_to_change(self):
        guest, outcome = self.login(ANONYMOUS_HOST, "", "ANONYMOUS")
        self.assertEqual(outcome, "session")
        condition, _ = self.iq_error(guest["xep_0077"].change_password("x"))
        self.assertEqual(condition, "not-allowed")
        condition, _ = self.iq_error(guest["xep_0077"].cancel_registration())
        self.assertEqual(condition, "not-allowed")

    def test_in_band_removal_ends_every_session_and_login(self):
        phone, _ = self.login(f"alice@{HOST}/phone", "alice's secret")
        laptop, _ = self.login(f"alice@{HOST}/laptop", "alice's secret")
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        result = self.wait(asyncio.wait_for(laptop["xep_0077"].cancel_registration(), 10))
        self.assertEqual(result["type"], "result")
        for session in (phone, laptop):
            error = self.wait(asyncio.wait_for(session.stream_errors.get(), 10))
            self.assertEqual(error, ("not-authorized", "Account removed"))
        self.xmppd.wait_log(r"account alice@chat\.test: removed in-band")
        _, outcome = self.login(f"alice@{HOST}/again", "alice's secret")
        self.assertEqual(outcome, "failed_auth")
        # Another account is untouched.
        self.assertTrue(bob.stream_errors.empty())
        _, outcome = self.login(f"bob@{HOST}/other", "bob's secret")
        self.assertEqual(outcome, "session")
        # The name is free again, for xmppctl.
        r = self.xmppctl("adduser", f"alice@{HOST}", "fresh")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_xmppctl_deluser_ends_the_sessions_and_forgets_the_account(self):
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        alice, _ = self.login(f"alice@{HOST}/phone", "alice's secret")
        # What the router keeps for Bob: a roster item.
        self.wait(asyncio.wait_for(bob.update_roster(f"alice@{HOST}", name="Alice"), 10))
        roster = self.wait(asyncio.wait_for(bob.get_roster(), 10))
        self.assertIn(f"alice@{HOST}", [str(jid) for jid in roster["roster"]["items"]])
        r = self.xmppctl("deluser", f"bob@{HOST}")
        self.assertEqual(r.returncode, 0, r.stderr)
        error = self.wait(asyncio.wait_for(bob.stream_errors.get(), 10))
        self.assertEqual(error, ("not-authorized", "Account removed"))
        _, outcome = self.login(f"bob@{HOST}/desk", "bob's secret")
        self.assertEqual(outcome, "failed_auth")
        # A new account of the same name starts empty.
        r = self.xmppctl("adduser", f"bob@{HOST}", "another bob")
        self.assertEqual(r.returncode, 0, r.stderr)
        # The parent's log names each request by what it does.
        log = self.xmppd.log()
        self.assertIn(f"xmppd: xmppctl: deleting account bob@{HOST}", log)
        self.assertIn(f"xmppd: xmppctl: adding account bob@{HOST}", log)
        new_bob, outcome = self.login(f"bob@{HOST}/desk", "another bob")
        self.assertEqual(outcome, "session")
        roster = self.wait(asyncio.wait_for(new_bob.get_roster(), 10))
        self.assertEqual(dict(roster["roster"]["items"]), {})
        self.assertTrue(alice.stream_errors.empty())
        # Deleting an account that does not exist changes nothing and ends no session.
        r = self.xmppctl("deluser", f"carol@{HOST}")
        self.assertNotEqual(r.returncode, 0)
        self.wait(asyncio.sleep(0.3))
        self.assertTrue(alice.stream_errors.empty())

    def test_xmppctl_deluser_while_the_router_is_down(self):
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        self.wait(asyncio.wait_for(bob.update_roster(f"alice@{HOST}", name="Alice"), 10))
        bob.disconnect()
        # A router that dies soon after each start is restarted later each time (0.25, 0.5,
        # 1, 2 s): the deletion below falls into the last wait.
        for _ in range(4):
            pid = self.xmppd.children()["router"]
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while self.xmppd.children().get("router") in (None, pid):
                self.assertLess(time.monotonic(), deadline, "the router was not restarted")
                time.sleep(0.02)
        os.kill(self.xmppd.children()["router"], signal.SIGKILL)
        r = self.xmppctl("deluser", f"bob@{HOST}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.xmppd.wait_log(r"account bob@chat\.test removed; the router is told when it is back")
        self.xmppd.wait_log(r"router\[\d+\]: account bob@chat\.test removed: its sessions end", timeout=20)
        # A new account of the same name starts empty.
        r = self.xmppctl("adduser", f"bob@{HOST}", "another bob")
        self.assertEqual(r.returncode, 0, r.stderr)
        deadline = time.monotonic() + 20
        while True:
            new_bob, outcome = self.login(f"bob@{HOST}/desk", "another bob")
            if outcome == "session" or time.monotonic() > deadline:
                break
            self.wait(asyncio.sleep(0.5))  # the router's listener is not back yet
        self.assertEqual(outcome, "session")
        roster = self.wait(asyncio.wait_for(new_bob.get_roster(), 10))
        self.assertEqual(dict(roster["roster"]["items"]), {})


if __name__ == "__main__":
    harness.main()
