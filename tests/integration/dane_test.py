#!/usr/bin/env python3
"""DANE for outbound federation (use_dane; RFC 6698, RFC 7671, RFC 7673): xmppd on a.test sends
to xmppd instances whose SRV records, addresses and TLSA records are in dane.test, a zone the
test signs (ldns-signzone) and serves (nsd); the sender's resolver validates it with the
zone's DS record as dns_trust_anchor. One SRV target, so each refusal is the stanza's bounce.

- DANE-EE: a self-signed certificate that no CA vouches for, named by a validated TLSA
  record, is trusted under s2s_secure_auth.
- DANE-TA: a certificate from a CA the sender does not trust, the CA named by the record.
- A mismatching TLSA set refuses even a certificate that PKIX trusts, secure auth or not.
- TLSA records in an unsigned zone are no DANE: PKIX decides, as without use_dane.
- A TLSA record changed after signing (bogus) rules the target out.
- Without use_dane the records are not looked at.

Inbound (as Prosody's mod_s2s_auth_dane_in): a peer played by the test presents a TLS client
certificate for a domain of dane.test, whose SRV targets' TLSA records the receiver (b.test,
use_dane, s2s_secure_auth) looks up when the peer asks for SASL EXTERNAL or dialback."""
import datetime
import hashlib
import os
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

import certs
import harness
import signed_zone
from clients_test import ClientTest
from federation_test import A, B, FederationTest, RawPeer

ZONE = "dane.test"            # signed; the trust anchor is its DS record
UNSIGNED = "unsigned.test"    # served by the same nsd, not signed
NSD = "127.0.0.53"            # the test's only DNS server, where xmppd_config points
PEER = "127.0.0.3"            # every receiving server, one at a time
RESOLVE = os.path.join(harness.BUILD_DIR, "tests", "resolve")


def spki_sha256(cert):
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def cert_sha256(cert):
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


class SelfSigned:
    """Stands in for a certs.Authority: issues one self-signed certificate per domain."""

    def trust_pem(self):
        """What a client must trust to reach the server: the certificate itself."""
        return certs.cert_pem(self.cert)

    def issue(self, domain, kind="ec", client_auth=True, **_):
        key = certs.new_key(kind)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(certs.NOW - datetime.timedelta(days=1))
                   .not_valid_after(certs.NOW + datetime.timedelta(days=30))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False))
        self.cert = certs._sign(builder, key)
        return key, self.cert


class Chain:
    """A certificate followed by its issuers, written as one PEM file (certs.cert_pem)."""

    def __init__(self, *certificates):
        self.certificates = certificates

    def public_bytes(self, encoding):
        return b"".join(c.public_bytes(encoding) for c in self.certificates)


class Issued:
    """Hands out a certificate made beforehand, with its chain: the TLSA records were
    published for it before the server started."""

    def __init__(self, key, chain, trusted):
        self.key, self.chain, self.trusted = key, chain, trusted

    def trust_pem(self):
        return certs.cert_pem(self.trusted)

    def issue(self, domain, kind="ec", client_auth=True, **_):
        return self.key, self.chain


class DaneTest(FederationTest):
    def setUp(self):
        # Not FederationTest's set-up, whose dnsmasq would take nsd's place.
        ClientTest.setUp(self)
        self.c2s_address = {}
        # The receiving servers' certificates, made first: the zone publishes their digests.
        self.self_signed = SelfSigned().issue(f"ee.{ZONE}")
        self.other_ca = certs.Authority("a CA only the TLSA record vouches for")
        self.ta_issued = self.other_ca.issue(f"ta.{ZONE}")
        unrelated = SelfSigned().issue("unrelated.test")[1]
        ee = spki_sha256(self.self_signed[1])
        wrong = spki_sha256(unrelated)
        ta = cert_sha256(self.other_ca.cert)

        zonedir = os.path.join(self.workdir, "zone")
        os.mkdir(zonedir)
        records = [f"@ IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 900 604800 300", f"@ IN NS ns.{ZONE}.",
                   f"ns IN A {NSD}"]
        # Each receiving domain: an SRV record naming xmpp.DOMAIN, its address, its TLSA set.
        for label, tlsa in (("ee", [f"3 1 1 {ee}"]), ("ta", [f"2 0 1 {ta}"]), ("bad", [f"3 1 1 {wrong}"]),
                            ("bogus", [f"3 1 1 {wrong}"]), ("none", [])):
            records += [f"_xmpp-server._tcp.{label} IN SRV 0 0 5269 xmpp.{label}.{ZONE}.",
                        f"xmpp.{label} IN A {PEER}"]
            records += [f"_5269._tcp.xmpp.{label} IN TLSA {t}" for t in tlsa]
        # A validated SRV record naming a host in a zone without signatures.
        records.append(f"_xmpp-server._tcp.pkix IN SRV 0 0 5269 xmpp.{UNSIGNED}.")
        # Two targets, the preferred one with a bogus TLSA set; a direct TLS target, whose
        # records are those of its own port.
        records += [f"_xmpp-server._tcp.two IN SRV 0 0 5269 xmpp.bogus.{ZONE}.",
                    f"_xmpp-server._tcp.two IN SRV 10 0 5269 xmpp.ee.{ZONE}.",
                    f"_xmpps-server._tcp.direct IN SRV 0 0 5270 xmpp.direct.{ZONE}.",
                    f"xmpp.direct IN A {PEER}",
                    f"_5270._tcp.xmpp.direct IN TLSA 3 1 1 {ee}",
                    f"_5269._tcp.xmpp.direct IN TLSA 3 1 1 {wrong}"]
        zone_file = os.path.join(zonedir, f"{ZONE}.zone")
        with open(zone_file, "w") as f:
            f.write(f"$ORIGIN {ZONE}.\n$TTL 300\n" + "\n".join(records) + "\n")
        unsigned_file = os.path.join(zonedir, f"{UNSIGNED}.zone")
        with open(unsigned_file, "w") as f:
            # A mismatching TLSA record: without DNSSEC it must not count.
            f.write(f"$ORIGIN {UNSIGNED}.\n$TTL 300\n@ IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 900 604800 300\n"
                    f"@ IN NS ns.{ZONE}.\nxmpp IN A {PEER}\n_5269._tcp.xmpp IN TLSA 3 1 1 {wrong}\n"
                    f"_xmpp-server._tcp IN SRV 0 0 5269 xmpp.{UNSIGNED}.\n")
        ksk = signed_zone.keygen(zonedir, ZONE, "-k")
        zsk = signed_zone.keygen(zonedir, ZONE)
        self.trust_anchor = os.path.join(zonedir, f"{ksk}.ds")
        signed = os.path.join(zonedir, "signed.zone")
        signed_zone.sign(zonedir, zone_file, signed, ksk, zsk)
        # The bogus domain's record changed after signing to one that would match.
        served = os.path.join(zonedir, "served.zone")
        signed_zone.alter(signed, served, [(f"_5269._tcp.xmpp.bogus.{ZONE}.", "TLSA", f"3 1 1 {wrong}",
                                            f"3 1 1 {ee}")])
        signed_zone.serve(self, self.workdir, NSD, {ZONE: served, UNSIGNED: unsigned_file})

    def connect(self, domain):
        """The s2s worker's connector alone (tests/resolve, under the s2s sandbox), as use_dane
        runs it: the target it connects to and what it found out about DANE."""
        listener = harness.listen(self, PEER, 5270 if domain.startswith("direct.") else 5269)
        r = subprocess.run([RESOLVE, "--dnssec", "--dane", "--trust-anchor", self.trust_anchor, NSD, "test",
                            "connect", domain], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, -31, f"killed by its sandbox (SIGSYS); stderr: {r.stderr}")
        listener.close()
        return r.stdout.strip()

    def test_connector_finds_the_records_of_each_kind_of_target(self):
        self.assertEqual(self.connect(f"ee.{ZONE}"),
                         f"connected xmpp.ee.{ZONE} 5269 starttls {PEER} port 5269 secure dane 1 records")
        self.assertEqual(self.connect(f"direct.{ZONE}"),
                         f"connected xmpp.direct.{ZONE} 5270 direct {PEER} port 5270 secure dane 1 records")
        self.assertEqual(self.connect(f"none.{ZONE}"),
                         f"connected xmpp.none.{ZONE} 5269 starttls {PEER} port 5269 secure no-dane no TLSA records")
        # The SRV answer validated ("secure"), the TLSA answer not.
        self.assertEqual(self.connect(f"pkix.{ZONE}"),
                         f"connected xmpp.{UNSIGNED} 5269 starttls {PEER} port 5269 secure no-dane unsigned")
        # An SRV answer that is not signed: its targets' TLSA records are not asked for.
        self.assertEqual(self.connect(UNSIGNED),
                         f"connected xmpp.{UNSIGNED} 5269 starttls {PEER} port 5269 insecure no-dane unsigned")
        # No SRV record at all (a validated denial): the domain itself, no DANE (RFC 7673 is for SRV).
        self.assertEqual(self.connect(f"xmpp.ee.{ZONE}"),
                         f"connected xmpp.ee.{ZONE} 5269 starttls {PEER} port 5269 secure no-dane no SRV record")

    def test_connector_skips_a_target_whose_tlsa_answer_is_bogus(self):
        self.assertEqual(self.connect(f"two.{ZONE}"),
                         f"connected xmpp.ee.{ZONE} 5269 starttls {PEER} port 5269 secure dane 1 records")
        self.assertEqual(self.connect(f"bogus.{ZONE}"),
                         f"failed DNSSEC validation failed for _5269._tcp.xmpp.bogus.{ZONE} (TLSA)")

    def sender(self, use_dane=True, secure_auth=True):
        extra = (f'dns_trust_anchor = "{self.trust_anchor}"\n'
                 f'use_dane = {"true" if use_dane else "false"}\n'
                 f's2s_secure_auth = {"true" if secure_auth else "false"}\n')
        a = self.start_xmppd(A, extra=extra)
        self.adduser(a, f"alice@{A}", "alice pw")
        return a, self.login(f"alice@{A}/phone", "alice pw")

    def receiver(self, domain, authority=None):
        b = self.start_xmppd(domain, authority=authority, address=PEER)
        self.adduser(b, f"bob@{domain}", "bob pw")
        client_ca = self.ca_file
        if authority is not None:
            client_ca = os.path.join(self.workdir, f"{domain}-trust.pem")
            certs.write(client_ca, authority.trust_pem())
        return b, self.login(f"bob@{domain}/desk", "bob pw", client_ca)

    def delivered(self, alice, bob, domain, body):
        alice.send_message(mto=f"bob@{domain}", mbody=body, mtype="chat")
        m = self.receive(bob)
        self.assertEqual((m["body"], str(m["from"])), (body, f"alice@{A}/phone"))

    def bounced(self, alice, domain):
        alice.send_message(mto=f"bob@{domain}", mbody="not for an impostor", mtype="chat")
        m = self.receive(alice)
        self.assertEqual((m["type"], str(m["from"])), ("error", f"bob@{domain}"))
        self.assertTrue(m["error"]["text"].startswith("Server-to-server connection failed: "), m["error"]["text"])
        return m["error"]["text"]

    def test_dane_ee_authenticates_a_self_signed_certificate_under_secure_auth(self):
        domain = f"ee.{ZONE}"
        a, alice = self.sender()
        b, bob = self.receiver(domain, Issued(*self.self_signed, self.self_signed[1]))
        self.delivered(alice, bob, domain, "by DANE-EE")
        a.wait_log(rf"s2s outbound {A} -> {domain} via {PEER} port 5269: DANE-EE matched "
                   rf"\(DANE-EE\(3\) SPKI\(1\) SHA2-256\(1\) at depth 0 of _5269\._tcp\.xmpp\.{domain}\)")
        a.wait_log(rf"s2s outbound {A} -> {domain} via .*certificate is trusted \(DANE-EE matched.*\), DANE-EE matched"
                   rf"\): authenticated by SASL EXTERNAL")

    def test_dane_ta_authenticates_a_certificate_of_an_untrusted_ca(self):
        domain = f"ta.{ZONE}"
        key, leaf = self.ta_issued
        a, alice = self.sender()
        # The CA certificate goes in the chain the server presents (RFC 7671 §5.2.2).
        b, bob = self.receiver(domain, Issued(key, Chain(leaf, self.other_ca.cert), self.other_ca.cert))
        self.delivered(alice, bob, domain, "by DANE-TA")
        a.wait_log(rf"s2s outbound {A} -> {domain} via {PEER} port 5269: DANE-TA matched "
                   rf"\(DANE-TA\(2\) Cert\(0\) SHA2-256\(1\) at depth 1, DNS-ID {domain} of ")

    def test_mismatching_tlsa_refuses_a_certificate_pkix_trusts_even_without_secure_auth(self):
        domain = f"bad.{ZONE}"
        a, alice = self.sender(secure_auth=False)
        b, bob = self.receiver(domain)  # the test CA, which a trusts
        text = self.bounced(alice, domain)
        self.assertIn(f"TLSA records for _5269._tcp.xmpp.{domain} exist and none matches", text)
        a.wait_log(rf"s2s outbound {A} -> {domain} via {PEER} port 5269: TLSA present, none matched: refused: "
                   rf"TLSA records for _5269\._tcp\.xmpp\.{domain} exist and none matches")
        self.assertNotIn("not for an impostor", b.log())

    def test_unsigned_tlsa_falls_back_to_pkix(self):
        domain = f"pkix.{ZONE}"
        a, alice = self.sender()
        b, bob = self.receiver(domain)
        self.delivered(alice, bob, domain, "by PKIX")
        a.wait_log(rf"s2s outbound {A} -> {domain} via {PEER} port 5269: no DANE \(unsigned\) for "
                   rf"_5269\._tcp\.xmpp\.{UNSIGNED}")
        a.wait_log(rf"s2s outbound {A} -> {domain} via .*certificate is trusted \(.*\), no DANE "
                   rf"\(unsigned\)\): authenticated by SASL EXTERNAL")

    def test_unsigned_tlsa_does_not_make_a_self_signed_certificate_acceptable(self):
        domain = f"pkix.{ZONE}"
        a, alice = self.sender()
        b, bob = self.receiver(domain, SelfSigned())
        text = self.bounced(alice, domain)
        self.assertIn("self-signed", text)
        # The worker's log line may reach the log after the bounce reached the client.
        a.wait_log(r"no DANE \(unsigned\)")

    def test_validated_absence_of_tlsa_is_pkix(self):
        domain = f"none.{ZONE}"
        a, alice = self.sender()
        b, bob = self.receiver(domain)
        self.delivered(alice, bob, domain, "no records, PKIX")
        a.wait_log(rf"s2s outbound {A} -> {domain} via {PEER} port 5269: no DANE \(no TLSA records\)")

    def test_bogus_tlsa_rules_the_target_out(self):
        domain = f"bogus.{ZONE}"
        a, alice = self.sender()
        b, bob = self.receiver(domain, Issued(*self.self_signed, self.self_signed[1]))
        text = self.bounced(alice, domain)
        self.assertIn(f"DNSSEC validation failed for _5269._tcp.xmpp.{domain} (TLSA)", text)
        a.wait_log(rf"s2s {domain}: not connecting to xmpp\.{domain}: DNSSEC validation failed")
        self.assertNotIn(f"s2s inbound {A} -> {domain}", b.log())

    def test_without_use_dane_records_are_not_looked_at(self):
        domain = f"ee.{ZONE}"
        a, alice = self.sender(use_dane=False)
        b, bob = self.receiver(domain, Issued(*self.self_signed, self.self_signed[1]))
        text = self.bounced(alice, domain)
        self.assertIn("self-signed", text)
        self.assertNotIn("DANE", a.log())

    # Inbound DANE.

    def dane_receiver(self):
        extra = (f'dns_trust_anchor = "{self.trust_anchor}"\nuse_dane = true\ns2s_secure_auth = true\n')
        return self.start_xmppd(B, extra=extra)

    def inbound_peer(self, domain, key_and_cert):
        key, cert = key_and_cert
        cert_file, key_file = f"{self.workdir}/{domain}.crt", f"{self.workdir}/{domain}.key"
        certs.write(cert_file, certs.cert_pem(cert))
        certs.write(key_file, certs.key_pem(key), 0o600)
        peer = RawPeer(self, domain, to=B, cert=(cert_file, key_file))
        self.addCleanup(peer.close)
        return peer

    def test_inbound_dane_ee_authenticates_a_self_signed_client_certificate(self):
        domain = f"ee.{ZONE}"
        b = self.dane_receiver()
        peer = self.inbound_peer(domain, self.self_signed)
        # PKIX does not trust it, but DANE may: EXTERNAL is offered.
        self.assertIn(b"<mechanism>EXTERNAL</mechanism>", peer.starttls())
        self.assertIn(b"<stream:features", peer.external())
        b.wait_log(rf"s2s inbound {domain} -> {B} from .*: DANE-EE matched \(DANE-EE\(3\) SPKI\(1\) SHA2-256\(1\) "
                   rf"at depth 0 of _5269\._tcp\.xmpp\.{domain}\)")
        b.wait_log(rf"s2s inbound {domain} -> {B} from .*certificate is trusted by DANE \(DANE-EE matched; "
                   rf"without it: the certificate is self-signed\)\): authenticated by SASL "
                   rf"EXTERNAL")
        # Dialback on another stream rests on the same verdict (XEP-0344), looked up again.
        peer = self.inbound_peer(domain, self.self_signed)
        peer.starttls()
        # A second domain, sent before the first is answered, waits for the first's lookup and
        # then has its own: the certificate matches none of its records.
        other = f"ta.{ZONE}"
        peer.send(f"<db:result from='{domain}' to='{B}'>0123456789abcdef</db:result>"
                  f"<db:result from='{other}' to='{B}'>0123456789abcdef</db:result>")
        answers = peer.read_until(b"</db:result>").decode()
        valid = answers.find(f"from='{B}' to='{domain}' type='valid'")
        self.assertNotEqual(valid, -1, answers)
        self.assertGreater(answers.find(f"to='{other}' type='error'"), valid, answers)
        self.assertIn(f"TLSA records for _5269._tcp.xmpp.{other} exist and none matches", answers)

    def test_inbound_mismatching_tlsa_refuses_a_certificate_pkix_trusts(self):
        domain = f"bad.{ZONE}"
        b = self.dane_receiver()
        peer = self.inbound_peer(domain, self.ca.issue(domain, "ec"))
        self.assertIn(b"<mechanism>EXTERNAL</mechanism>", peer.starttls())
        self.assertIn(b"<failure", peer.external())
        why = rf"TLSA records for _5269\._tcp\.xmpp\.{domain} exist and none matches"
        b.wait_log(rf"s2s inbound {domain} -> {B} from .*: TLSA present, none matched: {why}")
        b.wait_log(rf"s2s inbound {domain} -> {B} from .*: SASL EXTERNAL refused: {why}")
        # Dialback under s2s_secure_auth is refused for the same reason.
        peer = self.inbound_peer(domain, self.ca.issue(domain, "ec"))
        self.assertIn(b"<dialback", peer.starttls())
        peer.send(f"<db:result from='{domain}' to='{B}'>0123456789abcdef</db:result>")
        condition, text = peer.error()
        self.assertEqual(condition, "not-authorized")
        self.assertIn(f"TLSA records for _5269._tcp.xmpp.{domain} exist and none matches", text)

    def test_inbound_dane_ta_authenticates_a_certificate_of_an_untrusted_ca(self):
        domain = f"ta.{ZONE}"
        b = self.dane_receiver()
        key, leaf = self.ta_issued
        peer = self.inbound_peer(domain, (key, Chain(leaf, self.other_ca.cert)))
        peer.starttls()
        self.assertIn(b"<stream:features", peer.external())
        b.wait_log(rf"s2s inbound {domain} -> {B} from .*: DANE-TA matched \(DANE-TA\(2\) Cert\(0\) SHA2-256\(1\) "
                   rf"at depth 1, DNS-ID {domain} of ")

    def test_inbound_bogus_tlsa_leaves_the_certificate_to_pkix(self):
        domain = f"bogus.{ZONE}"
        b = self.dane_receiver()
        # The altered record would match this certificate, were it believed.
        peer = self.inbound_peer(domain, self.self_signed)
        peer.starttls()
        self.assertIn(b"<failure", peer.external())
        b.wait_log(rf"s2s inbound {domain} -> {B} from .*: no DANE \(DNSSEC validation failed for "
                   rf"_5269\._tcp\.xmpp\.{domain} \(TLSA\)\)")

    def test_inbound_unsigned_tlsa_leaves_a_self_signed_certificate_to_pkix(self):
        domain = f"pkix.{ZONE}"
        b = self.dane_receiver()
        peer = self.inbound_peer(domain, SelfSigned().issue(domain))
        peer.starttls()
        self.assertIn(b"<failure", peer.external())
        b.wait_log(rf"s2s inbound {domain} -> {B} from .*: no DANE \(unsigned for _5269\._tcp\.xmpp\.{UNSIGNED}\)")
        b.wait_log(rf"s2s inbound {domain} -> {B} from .*: SASL EXTERNAL refused: the certificate is self-signed, "
                   rf"no DANE \(unsigned")


if __name__ == "__main__":
    harness.main()
