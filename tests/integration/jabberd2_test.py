#!/usr/bin/env python3
"""Federation with a real jabberd2 2.7 (Debian's package: router, sm, c2s and s2s), started by
the test with its own configuration and SQLite storage. jabberd2 authenticates servers by
dialback only: without secure auth xmppd and jabberd2 federate by dialback both ways; under
s2s_secure_auth a jabberd2 whose certificate is trusted and valid for its domain is accepted by
certificate-backed dialback (XEP-0344), and one with a self-signed certificate is refused with
a bounce that says why. A stanza larger than jabberd2's default s2s stanzasize (65535) is
bounced by xmppd instead of stalling the stream."""
import datetime
import os
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import certs
import federation_test
import harness
from federation_test import A, ADDRESS, B, FederationTest
from jabberd2 import Jabberd2, fresh_workdir


def self_signed(domain):
    """A key and a self-signed certificate for domain (not a CA), valid now."""
    key = certs.new_key("ec")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


class Jabberd2Interop(FederationTest):
    # The presence helpers of the xmppd-to-xmppd tests, shared without running those tests here.
    subscribe = federation_test.TwoServers.subscribe
    subscription = federation_test.TwoServers.subscription

    def start_jabberd2(self, key, cert, **options):
        workdir = fresh_workdir(self.workdir, "jabberd2")
        certs.write(f"{workdir}/b.crt", certs.cert_pem(cert))
        certs.write(f"{workdir}/b.key", certs.key_pem(key), 0o600)
        jabberd2 = Jabberd2(workdir, B, ADDRESS[B], f"{workdir}/b.crt", f"{workdir}/b.key", **options)
        jabberd2.register("bob", "bob pw")
        self.servers.append(jabberd2)
        return jabberd2.start()

    def pair(self, xmppd_extra="", certificate="trusted", **options):
        """xmppd for A with alice, jabberd2 for B with bob (its certificate from the test CA,
        from another CA, or self-signed), both logged in."""
        a = self.start_xmppd(A, extra=xmppd_extra)
        self.adduser(a, f"alice@{A}", "alice pw")
        bob_ca = self.ca_file
        if certificate == "trusted":
            key, cert = self.ca.issue(B, "ec")
        elif certificate == "other CA":
            other = certs.Authority("another CA")
            key, cert = other.issue(B, "ec")
            bob_ca = os.path.join(self.workdir, "other-ca.pem")
            certs.write(bob_ca, other.pem())
        else:
            key, cert = self_signed(B)
            bob_ca = os.path.join(self.workdir, "self-signed.pem")
            certs.write(bob_ca, certs.cert_pem(cert))
        jabberd2 = self.start_jabberd2(key, cert, **options)
        return a, jabberd2, self.login(f"alice@{A}/phone", "alice pw"), self.login(f"bob@{B}/desk", "bob pw", bob_ca)

    def exchange(self, alice, bob, text="hello"):
        alice.send_message(mto=f"bob@{B}", mbody=f"{text} from xmppd", mtype="chat")
        m = self.receive(bob)
        self.assertEqual((m["type"], m["body"], str(m["from"])), ("chat", f"{text} from xmppd", f"alice@{A}/phone"))
        bob.send_message(mto=f"alice@{A}", mbody=f"{text} from jabberd2", mtype="chat")
        m = self.receive(alice)
        self.assertEqual((m["type"], m["body"], str(m["from"])), ("chat", f"{text} from jabberd2", f"bob@{B}/desk"))

    def presence_both_ways(self, alice, bob):
        for client in (alice, bob):
            client.auto_authorize = None
            client.auto_subscribe = False
        self.subscribe(alice, bob, f"bob@{B}", f"bob@{B}/desk")
        self.assertEqual(self.subscription(alice, f"bob@{B}"), "to")
        self.assertEqual(self.subscription(bob, f"alice@{A}"), "from")
        self.subscribe(bob, alice, f"alice@{A}", f"alice@{A}/phone")
        self.assertEqual(self.subscription(alice, f"bob@{B}"), "both")
        self.assertEqual(self.subscription(bob, f"alice@{A}"), "both")

    def test_dialback_both_ways_without_secure_auth(self):
        a, jabberd2, alice, bob = self.pair(certificate="other CA")
        self.exchange(alice, bob)
        self.presence_both_ways(alice, bob)
        a.wait_log(rf"s2s outbound {A} -> {B} via .*authenticated by dialback")
        a.wait_log(rf"s2s inbound {B} -> {A} from .*is issued by a CA that is not trusted here"
                   r".*authenticated by dialback")

    def test_certificate_backed_dialback_under_secure_auth(self):
        a, jabberd2, alice, bob = self.pair("s2s_secure_auth = true\n", ca_file=self.ca_file)
        self.exchange(alice, bob)
        a.wait_log(rf"s2s inbound {B} -> {A} from .*authenticated by dialback with a trusted certificate "
                   r"\(XEP-0344\)")
        # Our side: jabberd2's server certificate is checked on our stream, we prove a.test by dialback.
        a.wait_log(rf"s2s outbound {A} -> {B} via .*certificate is trusted \(.*\)\): authenticated by "
                   r"dialback")

    def test_self_signed_certificate_refused_under_secure_auth(self):
        a, jabberd2, alice, bob = self.pair("s2s_secure_auth = true\n", certificate="self-signed")
        started = time.monotonic()
        alice.send_message(mto=f"bob@{B}", mbody="refused", mtype="chat")
        m = self.receive(alice)
        elapsed = time.monotonic() - started
        self.assertEqual(m["type"], "error")
        text = m["error"]["text"]
        self.assertIn("certificate", text)
        self.assertIn("self-signed", text)
        self.assertNotIn("did not complete within", text)
        self.assertLess(elapsed, 10, f"the bounce took {elapsed:.1f}s: {text}")
        a.wait_log(rf"s2s outbound {A} -> {B} via .*refused: {A} requires a trusted certificate valid for {B}: "
                   r"the certificate is self-signed")
        # jabberd2's own dialback towards xmppd is refused too, and its user hears of it.
        bob.send_message(mto=f"alice@{A}", mbody="refused", mtype="chat")
        m = self.receive(bob)
        self.assertEqual(m["type"], "error")
        a.wait_log(rf"s2s inbound {B} -> {A} .*refused: .*{A} requires a trusted certificate valid for {B}, and "
                   r"the certificate is self-signed")

    def test_a_stanza_over_the_default_stanzasize_of_jabberd2_bounces(self):
        a, jabberd2, alice, bob = self.pair(certificate="other CA")
        self.exchange(alice, bob, "before")
        started = time.monotonic()
        alice.send_message(mto=f"bob@{B}", mbody="x" * 70000, mtype="chat")
        m = self.receive(alice)
        elapsed = time.monotonic() - started
        self.assertEqual(m["type"], "error")
        # slixmpp 1.8 does not know this condition's name: look for the element itself.
        self.assertIsNotNone(m["error"].xml.find("{urn:ietf:params:xml:ns:xmpp-stanzas}policy-violation"), str(m))
        self.assertIn(f"{B} accepts stanzas of at most 65535 bytes", m["error"]["text"])
        self.assertLess(elapsed, 5, f"the bounce took {elapsed:.1f}s")
        # The stream is still there: smaller stanzas keep flowing both ways; and jabberd2 never
        # saw the large one (a stanza over its limit makes it drop the connection).
        self.exchange(alice, bob, "after")
        self.assertNotIn("SSL handshake error", jabberd2.log("s2s"))


if __name__ == "__main__":
    harness.main()
