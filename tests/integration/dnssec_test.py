#!/usr/bin/env python3
"""DNSSEC validation by the s2s worker's resolver (libunbound with dns_trust_anchor), under the
s2s worker's sandbox, against a real signed zone: secure.test, signed by the test with fresh
keys (ldns-keygen, ldns-signzone) and served on loopback by a real authoritative server (nsd),
which returns the RRSIGs and NSEC records that the resolver, forwarding to it, checks.

The forged copies of the zone are the genuine signed zone with records changed after signing
(a redirected SRV port, a redirected address) or with signatures that have expired: with the
zone's DS record as the trust anchor they are refused ("bogus"); without one the same forged
answers come through, merely "insecure"."""
import glob
import os
import re
import subprocess

import harness
import signed_zone
from harness import IntegrationTest

RESOLVE = os.path.join(harness.BUILD_DIR, "tests", "resolve")
ZONE = "secure.test"
GENUINE = "127.0.0.54"  # serves the zone as signed
FORGED = "127.0.0.55"   # serves it with records changed after signing
EXPIRED = "127.0.0.56"  # serves it signed with signatures that expired long ago

ZONE_TEXT = f"""$ORIGIN {ZONE}.
$TTL 300
@ IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 900 604800 300
@ IN NS ns.{ZONE}.
ns IN A {GENUINE}
_xmpps-server._tcp IN SRV 5 5 5270 xmpp.{ZONE}.
_xmpp-server._tcp IN SRV 10 5 5269 xmpp.{ZONE}.
xmpp IN A 127.0.0.40
; A second XMPP domain in the zone whose SRV record names xmpp.{ZONE}: forging only that
; host's address must be caught at the address stage.
_xmpp-server._tcp.chat IN SRV 0 0 5269 xmpp.{ZONE}.
"""

# What the forged copy changes after signing: (owner, type, genuine data, forged data).
FORGERIES = [
    (f"_xmpp-server._tcp.{ZONE}.", "SRV", f"10 5 5269 xmpp.{ZONE}.", f"10 5 5299 xmpp.{ZONE}."),
    (f"xmpp.{ZONE}.", "A", "127.0.0.40", "127.0.0.66"),
]


def forge(signed, out):
    """The signed zone with FORGERIES applied, its RRSIGs left as they were."""
    signed_zone.alter(signed, out, FORGERIES)


class SignedZone(IntegrationTest):
    """Keys, the signed zone and its forged copies; those in SERVED each served by an nsd of
    its own on its address."""
    SERVED = ()

    def setUp(self):
        super().setUp()
        self.zonedir = os.path.join(self.workdir, "zone")
        os.mkdir(self.zonedir)
        zone_file = os.path.join(self.zonedir, "secure.test.zone")
        with open(zone_file, "w") as f:
            f.write(ZONE_TEXT)

        def key(*flags):
            return signed_zone.keygen(self.zonedir, ZONE, *flags)

        ksk, zsk = key("-k"), key()
        # The trust anchor: the zone's DS record, as a parent zone would publish it.
        self.trust_anchor = os.path.join(self.zonedir, f"{ksk}.ds")
        with open(self.trust_anchor) as f:
            self.assertRegex(f.read(), rf"^{re.escape(ZONE)}\.\s+IN\s+DS\s+\d+ 13 2 [0-9a-f]+\s*$")
        # A key-signing key the zone was never signed with: a stale or wrong anchor.
        self.wrong_anchor = os.path.join(self.workdir, "wrong.ds")
        other = key("-k")
        os.rename(os.path.join(self.zonedir, f"{other}.ds"), self.wrong_anchor)
        for path in glob.glob(os.path.join(self.zonedir, f"{other}.*")):
            os.unlink(path)

        signed = os.path.join(self.zonedir, "signed.zone")
        signed_zone.sign(self.zonedir, zone_file, signed, ksk, zsk)
        forged = os.path.join(self.zonedir, "forged.zone")
        forge(signed, forged)
        expired = os.path.join(self.zonedir, "expired.zone")
        signed_zone.sign(self.zonedir, zone_file, expired, ksk, zsk, validity=("-i", "20200101000000", "-e", "20200201000000"))
        for address, path in ((GENUINE, signed), (FORGED, forged), (EXPIRED, expired)):
            if address in self.SERVED:
                self.serve(address, path)

    def serve(self, address, zonefile):
        """nsd, authoritative for the zone on address port 53."""
        signed_zone.serve(self, self.workdir, address, {ZONE: zonefile})

    def run_resolve(self, server, kind, name, anchor=True, timeout=20):
        """resolve with --dnssec (and the zone's trust anchor unless anchor is False or another
        file); returns its output lines."""
        args = [RESOLVE, "--dnssec"]
        if anchor:
            args += ["--trust-anchor", self.trust_anchor if anchor is True else anchor]
        r = subprocess.run(args + [server, "test", kind, name], capture_output=True, text=True, timeout=timeout)
        self.assertNotEqual(r.returncode, -31, f"killed by its sandbox (SIGSYS); stderr: {r.stderr}")
        lines = [line for line in r.stdout.split("\n") if line]
        self.assertTrue(lines, f"no output (exit {r.returncode}); stderr: {r.stderr}")
        return lines

    def resolve(self, server, kind, name, anchor=True):
        lines = self.run_resolve(server, kind, name, anchor)
        return lines[0], sorted(lines[1:])

    def connect(self, server, domain, anchor=True):
        lines = self.run_resolve(server, "connect", domain, anchor, timeout=60)
        self.assertEqual(len(lines), 1, lines)
        return lines[0]

    def listen(self, address, port):
        return harness.listen(self, address, port)


class Genuine(SignedZone):
    """The zone as signed: validated answers."""
    SERVED = (GENUINE,)

    def test_srv_records_are_secure(self):
        self.assertEqual(self.resolve(GENUINE, "srv", f"_xmpp-server._tcp.{ZONE}"),
                         ("ok secure", [f"10 5 5269 xmpp.{ZONE}"]))
        self.assertEqual(self.resolve(GENUINE, "srv", f"_xmpps-server._tcp.{ZONE}"),
                         ("ok secure", [f"5 5 5270 xmpp.{ZONE}"]))

    def test_addresses_are_secure(self):
        self.assertEqual(self.resolve(GENUINE, "a", f"xmpp.{ZONE}"), ("ok secure", ["127.0.0.40"]))

    def test_denial_of_existence_is_secure(self):
        # NODATA and NXDOMAIN, each proved by the zone's signed NSEC records.
        self.assertEqual(self.resolve(GENUINE, "aaaa", f"xmpp.{ZONE}"), ("no-records secure", []))
        self.assertEqual(self.resolve(GENUINE, "srv", f"_xmpps-server._tcp.chat.{ZONE}"), ("no-records secure", []))

    def test_connection_is_secure(self):
        listener = self.listen("127.0.0.40", 5270)
        self.assertEqual(self.connect(GENUINE, ZONE),
                         f"connected xmpp.{ZONE} 5270 direct 127.0.0.40 port 5270 secure")
        peer, _ = listener.accept()
        peer.close()

    def test_connection_without_srv_is_secure(self):
        # No SRV record (a secure NXDOMAIN): the domain itself on 5269, its A record validated.
        listener = self.listen("127.0.0.40", 5269)
        self.assertEqual(self.connect(GENUINE, f"xmpp.{ZONE}"),
                         f"connected xmpp.{ZONE} 5269 starttls 127.0.0.40 port 5269 secure")
        peer, _ = listener.accept()
        peer.close()

    def test_without_trust_anchor_nothing_is_validated(self):
        self.assertEqual(self.resolve(GENUINE, "srv", f"_xmpp-server._tcp.{ZONE}", anchor=False),
                         ("ok insecure", [f"10 5 5269 xmpp.{ZONE}"]))
        self.assertEqual(self.resolve(GENUINE, "a", f"xmpp.{ZONE}", anchor=False), ("ok insecure", ["127.0.0.40"]))

    def test_wrong_trust_anchor_refuses_everything(self):
        # A DS matching no key of the zone: nothing in it can be validated.
        self.assertEqual(self.resolve(GENUINE, "a", f"xmpp.{ZONE}", anchor=self.wrong_anchor),
                         ("bogus", []))
        self.assertEqual(self.connect(GENUINE, ZONE, anchor=self.wrong_anchor),
                         f"failed DNSSEC validation failed for _xmpps-server._tcp.{ZONE}")


class Forged(SignedZone):
    """Records changed after signing: refused with the trust anchor, believed without."""
    SERVED = (FORGED,)

    def test_forged_srv_record_is_bogus(self):
        self.assertEqual(self.resolve(FORGED, "srv", f"_xmpp-server._tcp.{ZONE}"), ("bogus", []))

    def test_forged_address_is_bogus(self):
        self.assertEqual(self.resolve(FORGED, "a", f"xmpp.{ZONE}"), ("bogus", []))

    def test_untouched_records_stay_secure(self):
        self.assertEqual(self.resolve(FORGED, "srv", f"_xmpps-server._tcp.{ZONE}"),
                         ("ok secure", [f"5 5 5270 xmpp.{ZONE}"]))

    def test_connect_refuses_forged_srv(self):
        # _xmpps-server validates; the forged _xmpp-server set ends the attempt all the same.
        self.listen("127.0.0.66", 5270)
        self.listen("127.0.0.66", 5299)
        line = self.connect(FORGED, ZONE)
        self.assertTrue(line.startswith("failed DNSSEC validation failed"), line)
        self.assertEqual(line, f"failed DNSSEC validation failed for _xmpp-server._tcp.{ZONE}")

    def test_connect_refuses_forged_address(self):
        self.listen("127.0.0.66", 5269)
        line = self.connect(FORGED, f"chat.{ZONE}")
        self.assertTrue(line.startswith("failed DNSSEC validation failed"), line)
        self.assertEqual(line, f"failed DNSSEC validation failed for xmpp.{ZONE} (A)")

    def test_without_trust_anchor_the_forgery_is_believed(self):
        self.assertEqual(self.resolve(FORGED, "srv", f"_xmpp-server._tcp.{ZONE}", anchor=False),
                         ("ok insecure", [f"10 5 5299 xmpp.{ZONE}"]))
        self.assertEqual(self.resolve(FORGED, "a", f"xmpp.{ZONE}", anchor=False), ("ok insecure", ["127.0.0.66"]))
        listener = self.listen("127.0.0.66", 5270)
        self.assertEqual(self.connect(FORGED, ZONE, anchor=False),
                         f"connected xmpp.{ZONE} 5270 direct 127.0.0.66 port 5270 insecure")
        peer, _ = listener.accept()
        peer.close()


class Expired(SignedZone):
    """Signatures past their expiration date: refused with the trust anchor."""
    SERVED = (EXPIRED,)

    def test_expired_signatures_are_bogus(self):
        self.assertEqual(self.resolve(EXPIRED, "srv", f"_xmpp-server._tcp.{ZONE}"), ("bogus", []))
        self.assertEqual(self.resolve(EXPIRED, "a", f"xmpp.{ZONE}"), ("bogus", []))
        line = self.connect(EXPIRED, ZONE)
        self.assertTrue(line.startswith("failed DNSSEC validation failed"), line)

    def test_without_trust_anchor_they_are_believed(self):
        self.assertEqual(self.resolve(EXPIRED, "a", f"xmpp.{ZONE}", anchor=False), ("ok insecure", ["127.0.0.40"]))


if __name__ == "__main__":
    harness.main()
