#!/usr/bin/env python3
"""Federation with a real Prosody 0.12 (Debian's package), started by the test with its own
configuration and data: certificates trusted both ways give SASL EXTERNAL; an untrusted
Prosody certificate gives dialback or a refusal, as s2s_secure_auth, s2s_insecure_domains
and s2s_secure_domains decide."""
import os

import certs
import harness
from federation_test import A, ADDRESS, B, FederationTest
from prosody import Prosody, fresh_workdir


class ProsodyInterop(FederationTest):
    def start_prosody(self, authority=None, options=None):
        workdir = fresh_workdir(self.workdir, "prosody")
        key, cert = (authority or self.ca).issue(B, "ec")
        certs.write(f"{workdir}/b.crt", certs.cert_pem(cert))
        certs.write(f"{workdir}/b.key", certs.key_pem(key), 0o600)
        prosody = Prosody(workdir, B, ADDRESS[B], f"{workdir}/b.crt", f"{workdir}/b.key", self.ca_file,
                          options=options or {})
        self.servers.append(prosody)
        prosody.start()
        prosody.register("bob", "bob pw")
        return prosody

    def pair(self, xmppd_extra="", prosody_authority=None, prosody_options=None):
        a = self.start_xmppd(A, extra=xmppd_extra)
        self.adduser(a, f"alice@{A}", "alice pw")
        prosody = self.start_prosody(prosody_authority, prosody_options)
        bob_ca = self.ca_file
        if prosody_authority:
            bob_ca = os.path.join(self.workdir, "prosody-ca.pem")
            certs.write(bob_ca, prosody_authority.pem())
        return (a, prosody, self.login(f"alice@{A}/phone", "alice pw"),
                self.login(f"bob@{B}/desk", "bob pw", bob_ca))

    def exchange(self, alice, bob):
        alice.send_message(mto=f"bob@{B}", mbody="from xmppd", mtype="chat")
        m = self.receive(bob)
        self.assertEqual((m["type"], m["body"], str(m["from"])), ("chat", "from xmppd", f"alice@{A}/phone"))
        bob.send_message(mto=f"alice@{A}", mbody="from prosody", mtype="chat")
        m = self.receive(alice)
        self.assertEqual((m["type"], m["body"], str(m["from"])), ("chat", "from prosody", f"bob@{B}/desk"))

    def test_trusted_certificates_give_sasl_external_both_ways(self):
        a, prosody, alice, bob = self.pair("s2s_secure_auth = true\n", prosody_options={"s2s_secure_auth": True})
        self.exchange(alice, bob)
        a.wait_log(rf"s2s outbound {A} -> {B} via .*authenticated by SASL EXTERNAL")
        a.wait_log(rf"s2s inbound {B} -> {A} from .*certificate is trusted.*authenticated by SASL EXTERNAL")
        prosody.wait_log(rf"Accepting SASL EXTERNAL identity from {A}")
        prosody.wait_log(rf"SASL EXTERNAL with {A} succeeded")

    def test_untrusted_prosody_certificate_gives_dialback_without_secure_auth(self):
        a, prosody, alice, bob = self.pair(prosody_authority=certs.Authority("another CA"))
        self.exchange(alice, bob)
        a.wait_log(rf"s2s inbound {B} -> {A} from .*is issued by a CA that is not trusted here"
                   r".*authenticated by dialback")
        prosody.wait_log(r"verified dialback key")

    def refused(self, a, alice, prosody):
        alice.send_message(mto=f"bob@{B}", mbody="refused", mtype="chat")
        m = self.receive(alice)
        self.assertEqual(m["type"], "error")
        self.assertEqual(m["error"]["condition"], "remote-server-timeout")
        self.assertIn("certificate", m["error"]["text"])
        a.wait_log(rf"s2s outbound {A} -> {B} via .*refused: {A} requires a trusted certificate valid for {B}: "
                   r"the certificate's issuer is not trusted")

    def test_secure_auth_refuses_an_untrusted_certificate(self):
        a, prosody, alice, bob = self.pair("s2s_secure_auth = true\n", prosody_authority=certs.Authority("another CA"))
        self.refused(a, alice, prosody)
        # Prosody's attempt to use dialback towards xmppd is refused too.
        bob.send_message(mto=f"alice@{A}", mbody="refused", mtype="chat")
        m = self.receive(bob)
        self.assertEqual(m["type"], "error")
        a.wait_log(rf"s2s inbound {B} -> {A} .*refused: .*{A} requires a trusted certificate valid for {B}, and "
                   r"the certificate's issuer is not trusted")

    def test_insecure_domains_exempt_from_secure_auth(self):
        a, prosody, alice, bob = self.pair(f's2s_secure_auth = true\ns2s_insecure_domains = {{ "{B}" }}\n',
                                           prosody_authority=certs.Authority("another CA"))
        self.exchange(alice, bob)
        a.wait_log(rf"s2s inbound {B} -> {A} from .*authenticated by dialback")

    def test_secure_domains_require_a_certificate_without_secure_auth(self):
        a, prosody, alice, bob = self.pair(f's2s_secure_domains = {{ "{B}" }}\n',
                                           prosody_authority=certs.Authority("another CA"))
        self.refused(a, alice, prosody)

    def big_message(self, alice, size):
        alice.send_message(mto=f"bob@{B}", mbody="x" * size, mtype="chat")

    def test_a_server_that_announces_no_limit_gets_no_stanza_over_65535_bytes(self):
        # Prosody 0.12 announces no XEP-0478 limit: jabberd2's 65535 bytes hold by default.
        a, prosody, alice, bob = self.pair()
        self.exchange(alice, bob)
        self.big_message(alice, 70000)
        m = self.receive(alice)
        # slixmpp 1.8 does not know RFC 6120's policy-violation: the element itself is read.
        self.assertEqual(m["type"], "error")
        self.assertIn("<policy-violation xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\" />", str(m))
        self.assertEqual(m["error"]["text"], f"{B} accepts stanzas of at most 65535 bytes "
                                             "(it announces no limit: s2s_peer_stanza_size_limit)")
        # The stream goes on.
        self.exchange(alice, bob)

    def test_the_peer_stanza_size_raised_for_one_domain(self):
        a, prosody, alice, bob = self.pair(f's2s_peer_stanza_size_limits = {{ ["{B}"] = 200 * 1000 }}\n')
        self.big_message(alice, 70000)
        m = self.receive(bob)
        self.assertEqual(len(m["body"]), 70000)

    def test_blacklisted_domain_refused_both_ways(self):
        a, prosody, alice, bob = self.pair(f's2s_blacklist = {{ "{B}" }}\n')
        alice.send_message(mto=f"bob@{B}", mbody="refused", mtype="chat")
        m = self.receive(alice)
        self.assertEqual((m["type"], m["error"]["condition"]), ("error", "not-allowed"))
        self.assertEqual(m["error"]["text"], f"Communication with {B} is not allowed: {B} is in the s2s_blacklist "
                                             f"of {A}")
        bob.send_message(mto=f"alice@{A}", mbody="refused", mtype="chat")
        m = self.receive(bob)
        self.assertEqual(m["type"], "error")
        a.wait_log(rf"s2s inbound {B} -> {A} .*refused: {B} is in the s2s_blacklist of {A}")


if __name__ == "__main__":
    harness.main()
