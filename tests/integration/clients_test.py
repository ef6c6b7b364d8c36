#!/usr/bin/env python3
"""Client service with a real client library (Debian's python3-slixmpp): accounts made with
xmppctl, logins with each SASL mechanism, wrong passwords, messages between users and
resources, and a resource taken over by a newer login."""
import asyncio
import os
import subprocess
import time

import slixmpp

import certs
import harness
import streams
from harness import IntegrationTest, basic_config

HOST = "chat.test"
ANONYMOUS_HOST = "guest.test"
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, ca_file, mechanism=None):
        super().__init__(jid, password, sasl_mech=mechanism)
        self.ca_certs = ca_file
        for plugin in ("xep_0203", "xep_0030", "xep_0092", "xep_0199"):  # delay, disco, version, ping
            self.register_plugin(plugin)
        self.outcome = asyncio.get_event_loop().create_future()
        self.messages = asyncio.Queue()
        self.add_event_handler("session_start", self._started)
        # Without a forced mechanism slixmpp tries the next one after a failure (its -PLUS
        # attempt cannot bind to tls-exporter): only the last word counts then.
        if mechanism:
            self.add_event_handler("failed_auth", lambda _: self._settle("failed_auth"))
        self.add_event_handler("no_auth", lambda _: self._settle("failed_auth"))
        self.add_event_handler("message", lambda m: self.messages.put_nowait(m))
        self.add_event_handler("message_error", lambda m: self.messages.put_nowait(m))
        self.add_event_handler("stream_error", lambda e: self._settle(f"stream_error {e['condition']}"))

    def _settle(self, value):
        if not self.outcome.done():
            self.outcome.set_result(value)

    async def _started(self, _):
        self.send_presence()
        self._settle("session")


class ClientTest(IntegrationTest):
    """An asyncio loop for slixmpp clients, a test CA, and the clients disconnected at the end."""

    def setUp(self):
        super().setUp()
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.ca = certs.Authority()
        self.ca_file = os.path.join(self.workdir, "ca.pem")
        certs.write(self.ca_file, self.ca.pem())
        self.clients = []

    def issue_host_certificates(self, *hosts):
        """A certificate and key from the test CA for each host, in workdir/certs."""
        for host in hosts:
            key, cert = self.ca.issue(host, "ec")
            certs.write(f"{self.workdir}/certs/{host}.crt", certs.cert_pem(cert))
            certs.write(f"{self.workdir}/certs/{host}.key", certs.key_pem(key), 0o600)

    def tearDown(self):
        for c in self.clients:
            c.disconnect()
        self.loop.run_until_complete(asyncio.sleep(0.3))
        for task in asyncio.all_tasks(self.loop):
            task.cancel()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()
        super().tearDown()


class Clients(ClientTest):
    def setUp(self):
        super().setUp()
        for host in (HOST, ANONYMOUS_HOST):
            key, cert = self.ca.issue(host, "ec")
            certs.write(f"{self.workdir}/certs/{host}.crt", certs.cert_pem(cert))
            certs.write(f"{self.workdir}/certs/{host}.key", certs.key_pem(key), 0o600)
        config = basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n')
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\nallow_registration = true\n'
                                f'VirtualHost "{ANONYMOUS_HOST}"\nauthentication = "anonymous"\n'
                                'modules_enabled = { "version" }\n')
        self.xmppd = self.server(config).start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 2 hosts")
        for user, password in (("alice", "alice's secret"), ("bob", "bob's secret")):
            r = self.xmppctl("adduser", f"{user}@{HOST}", password)
            self.assertEqual(r.returncode, 0, r.stderr)

    def xmppctl(self, *args):
        *command, password = args if args[0] != "deluser" else (*args, "")
        return subprocess.run([XMPPCTL, "-f", self.xmppd.config, *command], input=password + "\n",
                              capture_output=True, text=True, timeout=30)

    def login(self, jid, password, mechanism=None):
        client = Client(jid, password, self.ca_file, mechanism)
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        outcome = self.loop.run_until_complete(asyncio.wait_for(client.outcome, 20))
        return client, outcome

    def test_login_with_each_sasl_mechanism(self):
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"):
            with self.subTest(mechanism=mechanism):
                client, outcome = self.login(f"alice@{HOST}/{mechanism}", "alice's secret", mechanism)
                self.assertEqual(outcome, "session")
                self.assertEqual(str(client.boundjid), f"alice@{HOST}/{mechanism}")

    def test_scram_plus_with_tls_exporter_channel_binding(self):
        client = os.path.join(harness.BUILD_DIR, "tests", "scram_plus_client")
        for mechanism in ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"):
            with self.subTest(mechanism=mechanism):
                ok = subprocess.run([client, "127.0.0.1", "5222", HOST, self.ca_file, "alice", "alice's secret",
                                     mechanism], capture_output=True, text=True, timeout=30)
                self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
                # A binding that is not this TLS session's (a man in the middle's) is refused.
                bad = subprocess.run([client, "127.0.0.1", "5222", HOST, self.ca_file, "alice", "alice's secret",
                                      mechanism, "corrupt"], capture_output=True, text=True, timeout=30)
                self.assertEqual(bad.returncode, 1, bad.stdout + bad.stderr)
                self.assertIn("not-authorized", bad.stdout)

    def test_wrong_password_and_unknown_user_are_refused(self):
        _, outcome = self.login(f"alice@{HOST}", "not the password", "SCRAM-SHA-256")
        self.assertEqual(outcome, "failed_auth")
        _, outcome = self.login(f"nobody@{HOST}", "whatever", "PLAIN")
        self.assertEqual(outcome, "failed_auth")
        self.xmppd.wait_log(r"authentication failed for chat\.test: not-authorized")

    def test_a_successful_login_does_not_reset_the_failure_delay(self):
        _, outcome = self.login(f"alice@{HOST}", "wrong once", "PLAIN")
        self.assertEqual(outcome, "failed_auth")
        _, outcome = self.login(f"bob@{HOST}", "bob's secret", "PLAIN")
        self.assertEqual(outcome, "session")
        started = time.monotonic()
        _, outcome = self.login(f"alice@{HOST}", "wrong twice", "PLAIN")
        self.assertEqual(outcome, "failed_auth")
        self.assertGreaterEqual(time.monotonic() - started, 1.0)  # the second failure waits a second

    def test_sessions_resume_after_their_idle_parsers_were_freed(self):
        alice, _ = self.login(f"alice@{HOST}/phone", "alice's secret")
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        # Quiet for longer than the 20 s after which the router frees a stream's parser.
        self.loop.run_until_complete(asyncio.sleep(32))
        alice.send_message(mto=f"bob@{HOST}/desk", mbody="still there?", mtype="chat")
        m = self.loop.run_until_complete(asyncio.wait_for(bob.messages.get(), 10))
        self.assertEqual((m["body"], str(m["from"])), ("still there?", f"alice@{HOST}/phone"))
        bob.send_message(mto=f"alice@{HOST}/phone", mbody="yes", mtype="chat")
        m = self.loop.run_until_complete(asyncio.wait_for(alice.messages.get(), 10))
        self.assertEqual(m["body"], "yes")

    def test_messages_between_users_and_resources(self):
        alice_phone, _ = self.login(f"alice@{HOST}/phone", "alice's secret")
        alice_laptop, _ = self.login(f"alice@{HOST}/laptop", "alice's secret")
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        self.loop.run_until_complete(asyncio.sleep(0.3))  # initial presences arrive

        bob.send_message(mto=f"alice@{HOST}", mbody="to both of you", mtype="chat")
        for resource in (alice_phone, alice_laptop):
            m = self.loop.run_until_complete(asyncio.wait_for(resource.messages.get(), 10))
            self.assertEqual(m["body"], "to both of you")
            self.assertEqual(str(m["from"]), f"bob@{HOST}/desk")

        bob.send_message(mto=f"alice@{HOST}/laptop", mbody="just the laptop", mtype="chat")
        m = self.loop.run_until_complete(asyncio.wait_for(alice_laptop.messages.get(), 10))
        self.assertEqual(m["body"], "just the laptop")
        self.assertTrue(alice_phone.messages.empty())

        # The sender's claimed address is replaced by the real one.
        alice_phone.send_message(mto=f"bob@{HOST}/desk", mbody="hi", mfrom=f"admin@{HOST}/x")
        m = self.loop.run_until_complete(asyncio.wait_for(bob.messages.get(), 10))
        self.assertEqual(str(m["from"]), f"alice@{HOST}/phone")

    def test_newest_login_takes_over_a_resource(self):
        first, _ = self.login(f"alice@{HOST}/same", "alice's secret")
        second, outcome = self.login(f"alice@{HOST}/same", "alice's secret")
        self.assertEqual(outcome, "session")
        self.assertEqual(self.loop.run_until_complete(asyncio.wait_for(first.outcome, 10)), "session")
        self.xmppd.wait_log(r"stream error conflict: replaced by a new login for this resource")

    def test_offline_messages_survive_a_restart_and_arrive_in_order(self):
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        for i in range(3):
            bob.send_message(mto=f"alice@{HOST}", mbody=f"while you were away {i}", mtype="chat")
        bob.send_message(mto=f"nobody@{HOST}", mbody="anyone?", mtype="chat")
        error = self.loop.run_until_complete(asyncio.wait_for(bob.messages.get(), 10))
        self.assertEqual(error["type"], "error")
        self.assertEqual(error["error"]["condition"], "service-unavailable")
        for c in self.clients:
            c.disconnect()
        self.loop.run_until_complete(asyncio.sleep(0.3))
        self.clients.clear()

        self.assertEqual(self.xmppd.stop(), 0)
        self.xmppd.start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 2 hosts", after=0)
        alice, outcome = self.login(f"alice@{HOST}/phone", "alice's secret")
        self.assertEqual(outcome, "session")
        bodies = []
        for _ in range(3):
            m = self.loop.run_until_complete(asyncio.wait_for(alice.messages.get(), 10))
            bodies.append(m["body"])
            self.assertEqual(str(m["from"]), f"bob@{HOST}/desk")
            self.assertTrue(m["delay"]["stamp"], "XEP-0203 delay stamp")
        self.assertEqual(bodies, [f"while you were away {i}" for i in range(3)])
        # Delivered once: a second login gets nothing.
        other, _ = self.login(f"alice@{HOST}/laptop", "alice's secret")
        self.loop.run_until_complete(asyncio.sleep(0.5))
        self.assertTrue(other.messages.empty())

    def roster_of(self, client):
        """The roster as the server has it now, contact → (subscription, ask)."""
        result = self.loop.run_until_complete(asyncio.wait_for(harness.fresh_roster(client), 10))
        items = result["roster"]["items"]
        return {str(jid): (i["subscription"], bool(i["ask"])) for jid, i in items.items()}, result["roster"]["ver"]

    def test_subscription_handshake_and_presence(self):
        alice, _ = self.login(f"alice@{HOST}/phone", "alice's secret")
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        # slixmpp approves and subscribes back on its own (auto_authorize, auto_subscribe).
        online = asyncio.get_event_loop().create_future()
        alice.add_event_handler("got_online", lambda p: online.set_result(str(p["from"]))
                                if str(p["from"]).startswith("bob@") and not online.done() else None)
        _, version_before = self.roster_of(alice)
        alice.send_presence_subscription(pto=f"bob@{HOST}")
        self.assertEqual(self.loop.run_until_complete(asyncio.wait_for(online, 10)), f"bob@{HOST}/desk")
        self.loop.run_until_complete(asyncio.sleep(0.5))
        roster, version = self.roster_of(alice)
        self.assertEqual(roster[f"bob@{HOST}"][0], "both")
        self.assertNotEqual(version, version_before)
        roster, _ = self.roster_of(bob)
        self.assertEqual(roster[f"alice@{HOST}"][0], "both")
        # Bob leaves: Alice sees him go.
        offline = asyncio.get_event_loop().create_future()
        alice.add_event_handler("got_offline", lambda p: offline.set_result(str(p["from"])) if not offline.done() else None)
        bob.disconnect()
        self.assertEqual(self.loop.run_until_complete(asyncio.wait_for(offline, 10)), f"bob@{HOST}/desk")

    def test_subscription_request_waits_for_an_offline_contact(self):
        alice, _ = self.login(f"alice@{HOST}/phone", "alice's secret")
        self.roster_of(alice)
        alice.send_presence_subscription(pto=f"bob@{HOST}")
        self.loop.run_until_complete(asyncio.sleep(0.5))
        roster, _ = self.roster_of(alice)
        self.assertEqual(roster[f"bob@{HOST}"], ("none", True))  # pending: ask='subscribe'
        bob = Client(f"bob@{HOST}/desk", "bob's secret", self.ca_file)
        bob.auto_authorize = None  # decide by hand
        request = asyncio.get_event_loop().create_future()
        bob.add_event_handler("presence_subscribe", lambda p: request.set_result(str(p["from"])) if not request.done() else None)
        self.clients.append(bob)
        bob.connect(("127.0.0.1", 5222))
        self.assertEqual(self.loop.run_until_complete(asyncio.wait_for(request, 15)), f"alice@{HOST}")

    def test_directed_presence_recipient_hears_the_logout(self):
        alice, _ = self.login(f"alice@{HOST}/phone", "alice's secret")
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        seen = asyncio.Queue()
        bob.add_event_handler("presence", lambda p: seen.put_nowait((str(p["from"]), p["type"])))
        alice.send_presence(pto=f"bob@{HOST}")
        self.assertEqual(self.loop.run_until_complete(asyncio.wait_for(seen.get(), 10)),
                         (f"alice@{HOST}/phone", "available"))
        alice.disconnect()
        self.assertEqual(self.loop.run_until_complete(asyncio.wait_for(seen.get(), 10)),
                         (f"alice@{HOST}/phone", "unavailable"))

    def test_account_disco_only_for_the_user_and_subscribers(self):
        alice, _ = self.login(f"alice@{HOST}/phone", "alice's secret")
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        info = self.loop.run_until_complete(alice["xep_0030"].get_info(jid=f"alice@{HOST}", timeout=10))
        self.assertIn(("account", "registered", None, None), info["disco_info"]["identities"])
        with self.assertRaises(slixmpp.exceptions.IqError) as refused:
            self.loop.run_until_complete(bob["xep_0030"].get_info(jid=f"alice@{HOST}", timeout=10))
        self.assertEqual(refused.exception.condition, "service-unavailable")

    def test_roster_set_and_remove(self):
        alice, _ = self.login(f"alice@{HOST}/phone", "alice's secret")
        self.roster_of(alice)
        self.loop.run_until_complete(alice.update_roster(f"carol@{HOST}", name="Carol", groups=["Friends"]))
        roster, _ = self.roster_of(alice)
        self.assertEqual(roster[f"carol@{HOST}"], ("none", False))
        self.loop.run_until_complete(alice.del_roster_item(f"carol@{HOST}"))
        roster, _ = self.roster_of(alice)
        self.assertNotIn(f"carol@{HOST}", roster)

    def test_anonymous_host_gives_a_temporary_address(self):
        client, outcome = self.login(ANONYMOUS_HOST, "", "ANONYMOUS")
        self.assertEqual(outcome, "session")
        self.assertEqual(client.boundjid.domain, ANONYMOUS_HOST)
        self.assertRegex(client.boundjid.user, r"^[0-9a-f]{32}$")
        # Only ANONYMOUS there, and not ANONYMOUS elsewhere.
        _, outcome = self.login(f"alice@{ANONYMOUS_HOST}", "alice's secret", "PLAIN")
        self.assertEqual(outcome, "failed_auth")
        _, outcome = self.login(HOST, "", "ANONYMOUS")
        self.assertEqual(outcome, "failed_auth")

    def register(self, username, password, host=HOST):
        """XEP-0077 over a raw stream; returns the iq answer."""
        with streams.connect(5222) as sock:
            tls, _, features = streams.starttls(sock, host, self.ca_file)
            with tls:
                if b"iq-register" not in features:
                    return features
                tls.sendall(b"<iq type='get' id='g'><query xmlns='jabber:iq:register'/></iq>")
                form = streams.read_until(tls, b"</iq>")
                self.assertIn(b"<username/>", form)
                tls.sendall(f"<iq type='set' id='s'><query xmlns='jabber:iq:register'><username>{username}"
                            f"</username><password>{password}</password></query></iq>".encode())
                answer = b""
                while b"</iq>" not in answer and not answer.endswith(b"/>"):
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
                return answer

    def test_in_band_registration(self):
        answer = self.register("carol", "carol's secret")
        self.assertIn(b"type='result'", answer)
        _, outcome = self.login(f"carol@{HOST}", "carol's secret", "SCRAM-SHA-256")
        self.assertEqual(outcome, "session")
        # An existing account is never overwritten.
        answer = self.register("alice", "hijacked")
        self.assertIn(b"<conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>", answer)
        _, outcome = self.login(f"alice@{HOST}", "alice's secret", "PLAIN")
        self.assertEqual(outcome, "session")
        # Not offered where the configuration does not allow it.
        self.assertNotIn(b"iq-register", self.register("dave", "x", host=ANONYMOUS_HOST))

    def test_server_answers_ping_disco_and_version_only_where_enabled(self):
        alice, _ = self.login(f"alice@{HOST}/phone", "alice's secret")
        rtt = self.loop.run_until_complete(alice["xep_0199"].ping(HOST, timeout=10))
        self.assertIsNotNone(rtt)
        info = self.loop.run_until_complete(alice["xep_0030"].get_info(jid=HOST, timeout=10))
        self.assertIn(("server", "im", None, None), info["disco_info"]["identities"])
        self.assertIn("urn:xmpp:ping", info["disco_info"]["features"])
        self.assertNotIn("jabber:iq:version", info["disco_info"]["features"])
        with self.assertRaises(slixmpp.exceptions.IqError) as refused:
            self.loop.run_until_complete(alice["xep_0092"].get_version(HOST, timeout=10))
        self.assertEqual(refused.exception.condition, "service-unavailable")
        guest, _ = self.login(ANONYMOUS_HOST, "", "ANONYMOUS")
        version = self.loop.run_until_complete(guest["xep_0092"].get_version(ANONYMOUS_HOST, timeout=10))
        self.assertEqual(version["software_version"]["name"], "xmppd")

    def test_a_client_that_does_not_read_is_disconnected_not_buffered_forever(self):
        import base64
        import time
        # Alice logs in by hand (PLAIN), sends presence, then stops reading.
        sock = streams.connect(5222)
        tls, _, _ = streams.starttls(sock, HOST, self.ca_file)
        self.addCleanup(tls.close)
        token = base64.b64encode(b"\0alice\0alice's secret").decode()
        tls.sendall(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>".encode())
        self.assertIn(b"<success", streams.read_until(tls, b"success"))
        streams.open_stream(tls, HOST)
        tls.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                    b"<resource>stuck</resource></bind></iq><presence/>")
        streams.read_until(tls, b"</iq>")
        bob, _ = self.login(f"bob@{HOST}/desk", "bob's secret")
        body = "x" * 60000
        for _ in range(200):  # 12 MB for a reader that reads nothing
            bob.send_message(mto=f"alice@{HOST}/stuck", mbody=body, mtype="chat")
        deadline = time.monotonic() + 30
        while "the peer does not read what it is sent" not in self.xmppd.log():
            self.assertLess(time.monotonic(), deadline, "the stuck reader was never disconnected")
            self.loop.run_until_complete(asyncio.sleep(0.2))  # slixmpp sends while its loop runs

    def test_xmppctl(self):
        r = self.xmppctl("adduser", f"alice@{HOST}", "again")
        self.assertEqual(r.returncode, 1)
        self.assertIn("the account exists already", r.stderr)
        r = self.xmppctl("adduser", "carol@elsewhere.test", "pw")
        self.assertEqual(r.returncode, 2)  # a usage error: xmppctl(8), EXIT STATUS
        self.assertIn("elsewhere.test is not a VirtualHost", r.stderr)
        r = self.xmppctl("passwd", f"carol@{HOST}", "pw")
        self.assertIn("no such account", r.stderr)
        r = self.xmppctl("passwd", f"bob@{HOST}", "new secret")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, outcome = self.login(f"bob@{HOST}", "bob's secret", "PLAIN")
        self.assertEqual(outcome, "failed_auth")
        _, outcome = self.login(f"bob@{HOST}", "new secret", "SCRAM-SHA-1")
        self.assertEqual(outcome, "session")
        r = self.xmppctl("deluser", f"bob@{HOST}")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, outcome = self.login(f"bob@{HOST}", "new secret", "SCRAM-SHA-256")
        self.assertEqual(outcome, "failed_auth")

    def test_only_the_auth_helper_opens_the_credential_store(self):
        kids = self.xmppd.children()
        store = f"{self.workdir}/data/auth/credentials.sqlite"
        self.assertTrue(os.path.exists(store))
        holders = [role for role, pid in kids.items()
                   if any(os.readlink(f"/proc/{pid}/fd/{fd}").endswith("credentials.sqlite")
                          for fd in os.listdir(f"/proc/{pid}/fd"))]
        self.assertEqual(holders, ["auth"])
        with open(store, "rb") as f:
            data = f.read()
        self.assertNotIn(b"alice's secret", data)


if __name__ == "__main__":
    harness.main()
