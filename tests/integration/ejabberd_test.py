#!/usr/bin/env python3
"""Federation with a real ejabberd 23.01 (Debian's package), started by the test with its own
configuration, spool and Erlang cookie: under s2s_secure_auth, with certificates from one CA
both ways, each side authenticates the other by SASL EXTERNAL (ejabberd runs without
mod_s2s_dialback, so nothing else would do); messages and presence subscriptions cross both
ways. An ejabberd whose certificate xmppd does not trust proves itself by dialback when
secure auth is off."""
import asyncio
import os

import certs
import federation_test
import harness
from ejabberd import Ejabberd, fresh_workdir
from federation_test import A, ADDRESS, B, FederationTest


class EjabberdInterop(FederationTest):
    # The presence helpers of the xmppd-to-xmppd tests, shared without running those tests here.
    subscribe = federation_test.TwoServers.subscribe
    subscription = federation_test.TwoServers.subscription

    def start_ejabberd(self, authority=None, dialback=False):
        workdir = fresh_workdir(self.workdir, "ejabberd")
        # DNS names only, as xmppd's: an id-on-xmppAddr name in a peer's certificate crashes
        # ejabberd's inbound s2s at SASL EXTERNAL.
        key, cert = (authority or self.ca).issue(B, "ec")
        certs.write(f"{workdir}/b.crt", certs.cert_pem(cert))
        certs.write(f"{workdir}/b.key", certs.key_pem(key), 0o600)
        ejabberd = Ejabberd(workdir, B, ADDRESS[B], f"{workdir}/b.crt", f"{workdir}/b.key", self.ca_file,
                            dialback=dialback)
        self.servers.append(ejabberd)
        ejabberd.start()
        ejabberd.register("bob", "bob pw")
        return ejabberd

    def pair(self, xmppd_extra="s2s_secure_auth = true\n", authority=None, dialback=False, xmpp_addr=False):
        a = self.start_xmppd(A, extra=xmppd_extra, xmpp_addr=xmpp_addr)
        self.adduser(a, f"alice@{A}", "alice pw")
        ejabberd = self.start_ejabberd(authority, dialback)
        bob_ca = self.ca_file
        if authority:
            bob_ca = os.path.join(self.workdir, "ejabberd-ca.pem")
            certs.write(bob_ca, authority.pem())
        return (a, ejabberd, self.login(f"alice@{A}/phone", "alice pw"),
                self.login(f"bob@{B}/desk", "bob pw", bob_ca))

    def exchange(self, alice, bob):
        alice.send_message(mto=f"bob@{B}", mbody="from xmppd", mtype="chat")
        m = self.receive(bob)
        self.assertEqual((m["type"], m["body"], str(m["from"])), ("chat", "from xmppd", f"alice@{A}/phone"))
        bob.send_message(mto=f"alice@{A}", mbody="from ejabberd", mtype="chat")
        m = self.receive(alice)
        self.assertEqual((m["type"], m["body"], str(m["from"])), ("chat", "from ejabberd", f"bob@{B}/desk"))

    def assert_sasl_external_both_ways(self, a):
        a.wait_log(rf"s2s outbound {A} -> {B} via .*authenticated by SASL EXTERNAL")
        a.wait_log(rf"s2s inbound {B} -> {A} from .*certificate is trusted.*authenticated by SASL EXTERNAL")

    def test_messages_both_ways_with_sasl_external_under_secure_auth(self):
        a, ejabberd, alice, bob = self.pair()
        self.exchange(alice, bob)
        self.assert_sasl_external_both_ways(a)
        self.assertNotIn("dialback", "\n".join(line for line in a.log().splitlines() if f" {B} " in line))

    def test_presence_subscription_both_ways(self):
        a, ejabberd, alice, bob = self.pair()
        for client in (alice, bob):
            client.auto_authorize = None
            client.auto_subscribe = False
        self.subscribe(alice, bob, f"bob@{B}", f"bob@{B}/desk")
        self.assertEqual(self.subscription(alice, f"bob@{B}"), "to")
        self.assertEqual(self.subscription(bob, f"alice@{A}"), "from")
        self.subscribe(bob, alice, f"alice@{A}", f"alice@{A}/phone")
        self.assertEqual(self.subscription(alice, f"bob@{B}"), "both")
        self.assertEqual(self.subscription(bob, f"alice@{A}"), "both")
        gone = asyncio.Queue()
        alice.add_event_handler("presence_unavailable", lambda p: gone.put_nowait(str(p["from"])))
        bob.disconnect()
        self.assertEqual(self.loop.run_until_complete(asyncio.wait_for(gone.get(), 20)), f"bob@{B}/desk")
        self.assert_sasl_external_both_ways(a)

    def test_an_untrusted_ejabberd_proves_itself_by_dialback_without_secure_auth(self):
        # ejabberd trusts xmppd's certificate (EXTERNAL towards ejabberd); xmppd does not trust
        # ejabberd's, offers it no EXTERNAL, and ejabberd falls back to dialback.
        a, ejabberd, alice, bob = self.pair("", certs.Authority("another CA"), dialback=True)
        self.exchange(alice, bob)
        a.wait_log(rf"s2s outbound {A} -> {B} via .*authenticated by SASL EXTERNAL")
        a.wait_log(rf"s2s inbound {B} -> {A} from .*is issued by a CA that is not trusted here"
                   r".*authenticated by dialback")

    def test_a_peer_that_closes_on_our_sasl_external_gets_dialback(self):
        # With an id-on-xmppAddr name in xmppd's certificate, ejabberd 23.01 drops the
        # connection at our <auth mechanism='EXTERNAL'/>; xmppd connects again for dialback.
        a, ejabberd, alice, bob = self.pair("", dialback=True, xmpp_addr=True)
        self.exchange(alice, bob)
        a.wait_log(rf"s2s outbound {A} -> {B} via .*in answer to SASL EXTERNAL; connecting again to use dialback")
        a.wait_log(rf"s2s outbound {A} -> {B} via .*authenticated by dialback")


if __name__ == "__main__":
    harness.main()
