#!/usr/bin/env python3
"""xmppctl show s2s and close s2s against real Prosody peers: b.test with a certificate xmppd
trusts (SASL EXTERNAL both ways) and c.test with one from a CA xmppd does not know (dialback
both ways). show s2s names each stream's method and certificate status, -j gives the same as
JSON, close s2s ends the streams with one peer cleanly (Prosody sees the </stream:stream>)
and leaves the other's, and the next stanza connects again. A Prosody that stops ends its
stream to xmppd with a stream error, which xmppd takes as the end of the stream.

S2sCtlClaims plays peers that only claim a domain: one whose claimed domain is long and
non-ASCII (the report's cuts must stay valid UTF-8, or the parent kills the s2s worker),
one that claims b.test without proving it (listed as unverified, and close s2s leaves it)."""
import json
import os
import re
import subprocess

import certs
from federation_test import A, ADDRESS, B, XMPPCTL, FederationTest, RawPeer
from prosody import Prosody, fresh_workdir

C = "c.test"
C_ADDRESS = "127.0.0.4"


class S2sCtl(FederationTest):
    EXTRA_NAMES = {C: C_ADDRESS}

    def prosody(self, domain, address, authority, options=None):
        workdir = fresh_workdir(self.workdir, f"prosody-{domain}")
        key, cert = authority.issue(domain, "ec")
        certs.write(f"{workdir}/{domain}.crt", certs.cert_pem(cert))
        certs.write(f"{workdir}/{domain}.key", certs.key_pem(key), 0o600)
        server = Prosody(workdir, domain, address, f"{workdir}/{domain}.crt", f"{workdir}/{domain}.key",
                         self.ca_file, options=options or {})
        self.servers.append(server)
        server.start()
        return server

    def xmppctl(self, server, *args):
        return subprocess.run([XMPPCTL, "-f", server.config, *args], capture_output=True, text=True, timeout=30)

    def streams(self, server, *remote):
        r = self.xmppctl(server, "-j", "show", "s2s", *remote)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def exchange(self, sender, receiver, to):
        sender.send_message(mto=to, mbody="ping", mtype="chat")
        m = self.receive(receiver)
        self.assertEqual((m["type"], m["body"]), ("chat", "ping"))

    def by_remote(self, streams, remote):
        found = {}
        for s in streams:
            for route in s["routes"]:
                if route["remote"] == remote:
                    found[s["direction"]] = (s, route)
        return found

    def test_show_and_close_with_two_prosody_peers(self):
        a = self.start_xmppd(A)
        self.adduser(a, f"alice@{A}", "alice pw")
        other_ca = certs.Authority("another CA")
        other_ca_file = os.path.join(self.workdir, "other-ca.pem")
        certs.write(other_ca_file, other_ca.pem())
        b = self.prosody(B, ADDRESS[B], self.ca, {"s2s_secure_auth": True})
        c = self.prosody(C, C_ADDRESS, other_ca)
        b.register("bob", "bob pw")
        c.register("carol", "carol pw")
        self.c2s_address[C] = C_ADDRESS
        alice = self.login(f"alice@{A}/phone", "alice pw")
        bob = self.login(f"bob@{B}/desk", "bob pw")
        carol = self.login(f"carol@{C}/desk", "carol pw", other_ca_file)
        for sender, receiver, to in ((alice, bob, f"bob@{B}"), (bob, alice, f"alice@{A}"),
                                     (alice, carol, f"carol@{C}"), (carol, alice, f"alice@{A}")):
            self.exchange(sender, receiver, to)
        a.wait_log(rf"s2s inbound {B} -> {A} from .*authenticated by SASL EXTERNAL")
        a.wait_log(rf"s2s inbound {C} -> {A} from .*authenticated by dialback")

        # Aligned columns: one line per stream and pair, EXTERNAL for one peer, dialback for the other.
        r = self.xmppctl(a, "show", "s2s")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertRegex(lines[0], r"^DIR\s+LOCAL\s+REMOTE\s+AUTH\s+CERTIFICATE\s+TLS\s+ADDRESS\s+QUEUE\s+AGE\s+IDLE")
        rows = {(line.split()[0], line.split()[2]): line for line in lines[1:] if re.match(rf"^(in|out)\s+{A}\s", line)}
        self.assertEqual(set(rows), {("out", B), ("in", B), ("out", C), ("in", C)}, r.stdout)
        for direction in ("in", "out"):
            self.assertRegex(rows[direction, B], rf"^{direction}\s+{A}\s+{B}\s+EXTERNAL\s+trusted\s+TLSv1\.3 ")
        # c.test proves itself to us by dialback; we prove a.test to it by EXTERNAL (it trusts
        # our CA), on a stream where its own certificate is not trusted.
        self.assertRegex(rows["in", C], rf"^in\s+{A}\s+{C}\s+dialback\s+untrusted\s+TLSv1\.[23] ")
        self.assertRegex(rows["out", C], rf"^out\s+{A}\s+{C}\s+EXTERNAL\s+untrusted\s+TLSv1\.3 ")
        self.assertRegex(rows["out", B], rf"\s{re.escape(ADDRESS[B])} 5269\s")
        # Why c.test's certificate is not trusted, and its chain.
        self.assertRegex(r.stdout, rf"\n(in|out) {C} 127\.0\.0\.\d+ \d+: unable to get local issuer certificate"
                                   rf".*; chain: CN={C}")

        # JSON: the same, with the certificate's verdict in full.
        streams = self.streams(a)
        self.assertEqual(len(streams), 4, streams)
        for direction, (s, route) in self.by_remote(streams, B).items():
            self.assertEqual((route["local"], route["method"], route["certified"]), (A, "SASL EXTERNAL", True))
            self.assertEqual((s["certificate"], s["certificate_error"]), ("trusted", ""))
            self.assertEqual(s["tls_version"], "TLSv1.3")
            self.assertTrue(s["cipher"])
            self.assertIn(f"CN={B}", s["chain"][0])
            self.assertRegex(s["address"], r"^127\.0\.0\.\d+ \d+$")
            self.assertEqual((s["queue_length"], s["dane"], s["bidi"], s["direct_tls"]), (0, False, False, False))
            self.assertGreaterEqual(s["age_seconds"], s["idle_seconds"])
        self.assertEqual(self.by_remote(streams, B)["outbound"][0]["address"], f"{ADDRESS[B]} 5269")
        c_streams = self.by_remote(streams, C)
        self.assertEqual(set(c_streams), {"inbound", "outbound"})
        method = {direction: (route["method"], route["certified"]) for direction, (_, route) in c_streams.items()}
        self.assertEqual(method, {"inbound": ("dialback", False), "outbound": ("SASL EXTERNAL", False)})
        for s, route in c_streams.values():
            self.assertEqual(s["certificate"], "untrusted")
            self.assertIn("unable to get local issuer certificate", s["certificate_error"])
            self.assertEqual(s["chain"], [f"CN={C}"])
        self.assertEqual({s["routes"][0]["remote"] for s in self.streams(a, C)}, {C})

        # close s2s ends both streams with c.test cleanly; b.test's stay.
        r = self.xmppctl(a, "close", "s2s", C)
        self.assertEqual((r.returncode, r.stdout), (0, f"{C}: 2 streams closed\n"), r.stderr)
        a.wait_log(rf"s2s outbound {A} -> {C}: closed at the administrator's request")
        a.wait_log(rf"s2s inbound {C} -> {A} from .*: closed at the administrator's request")
        c.wait_log(r"Received </stream:stream>")
        self.assertEqual(self.by_remote(self.streams(a), C), {})
        self.assertEqual(set(self.by_remote(self.streams(a), B)), {"inbound", "outbound"})
        r = self.xmppctl(a, "close", "s2s", "nowhere.test")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no stream with nowhere.test", r.stderr)
        # The next stanza opens a stream again.
        self.exchange(alice, carol, f"carol@{C}")
        self.assertIn("outbound", self.by_remote(self.streams(a), C))

        # Prosody ends its streams with <system-shutdown/> when it stops: xmppd closes its side
        # and answers with no error of its own.
        b.stop()
        a.wait_log(rf"s2s stream from 127\.0\.0\.\d+ port \d+ \({B} -> {A}\): the peer ended the stream "
                   r"with its error system-shutdown")
        self.assertNotIn("stream error unsupported-stanza-type", a.log())


class S2sCtlClaims(FederationTest):
    """Inbound streams that have proved nothing, played by the test against one xmppd."""

    def test_claimed_domains_are_reported_safely_and_never_closed(self):
        a = self.start_xmppd(A)
        worker = a.children()["s2s"]
        # 30 + 201 bytes, then two-byte characters: a cut at 256 bytes of the route's domain or
        # of "the certificate does not name DOMAIN" would fall inside one.
        long_claim = "a" * 201 + "\u00e9" * 40
        key, cert = self.ca.issue("other.test", "ec")
        cert_file, key_file = f"{self.workdir}/other.crt", f"{self.workdir}/other.key"
        certs.write(cert_file, certs.cert_pem(cert))
        certs.write(key_file, certs.key_pem(key), 0o600)
        long_peer = RawPeer(self, long_claim, to=A, cert=(cert_file, key_file))
        self.addCleanup(long_peer.close)
        long_peer.starttls()
        liar = RawPeer(self, B, to=A)  # says it is b.test, proves nothing
        self.addCleanup(liar.close)
        liar.starttls()  # before TLS, a stream is no s2s stream yet

        r = subprocess.run([XMPPCTL, "-f", a.config, "-j", "show", "s2s"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        routes = {route["remote"]: (s, route) for s in json.loads(r.stdout) for route in s["routes"]}
        self.assertEqual(set(routes), {"(invalid)", B}, r.stdout)
        for s, route in routes.values():
            self.assertEqual((s["direction"], route["local"], route["method"], route["certified"]),
                             ("inbound", A, "none", False))
        s, _ = routes["(invalid)"]
        self.assertEqual(s["certificate"], "wrong name")
        self.assertTrue(s["certificate_error"].startswith("the certificate does not name aaa"), s)
        self.assertLessEqual(len(s["certificate_error"].encode()), 256)
        self.assertEqual(s["chain"][0], "CN=other.test")
        r = subprocess.run([XMPPCTL, "-f", a.config, "show", "s2s", B], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, rf"\nin\s+{A}\s+{B}\s+unverified\s+none\s+TLSv1\.3\s")

        # A claim is no proof: close s2s b.test finds no stream, and the liar's stays open.
        r = subprocess.run([XMPPCTL, "-f", a.config, "close", "s2s", B], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(f"no stream with {B}", r.stderr)
        liar.send("<iq type='get' id='1' from='b.test' to='a.test'><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertIn(b"not-authorized", liar.read_until(b"</stream:stream>"))

        # The worker answered each time and is the same process.
        self.assertEqual(a.children()["s2s"], worker)
        self.assertNotIn("broke the control protocol", a.log())


if __name__ == "__main__":
    import harness
    harness.main()
