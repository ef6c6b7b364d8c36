#!/usr/bin/env python3
"""Messages under load, with bench/loadgen: two xmppd federating, and one xmppd within its
domain, driven as fast as they take messages. Every message must arrive once and none may
bounce. This is where stalls show that a few messages at a time never meet: a stream that
holds stanzas back and is never told to go on, a burst bigger than a buffer. The figures
themselves are the business of bench/compare.py, not of a test."""
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import harness
from federation_test import ADDRESS, A, B, FederationTest

LOADGEN = os.path.join(harness.BUILD_DIR, "bench", "loadgen")
PAIRS = 20
# loadgen's clients all come from one address, over the default per-address limits.
UNLIMITED = "max_connections_per_address = 0\nmax_unauthenticated_per_address = 0\n"


class Load(FederationTest):
    def accounts(self, server, domain, count):
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda n: self.adduser(server, f"user{n}@{domain}", f"password{n}"), range(1, count + 1)))

    def loadgen(self, sender, receiver, *options):
        r = subprocess.run([LOADGEN, "--mode", "messages", "--sender", f"{ADDRESS[sender]}:5222",
                            "--sender-domain", sender, "--receiver", f"{ADDRESS[receiver]}:5222",
                            "--receiver-domain", receiver, "--cafile", self.ca_file, "--accounts", str(PAIRS),
                            "--warmup", "1", "--duration", "3", "--drain", "20", "--json", *options],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        return json.loads(r.stdout)

    def assert_all_delivered(self, result, at_least):
        summary = {k: result[k] for k in ("sent", "received", "lost", "bounced", "duplicates", "disconnects")}
        self.assertEqual(result["errors"]["count"], 0, result["errors"])
        self.assertEqual((result["lost"], result["bounced"], result["duplicates"], result["disconnects"]),
                         (0, 0, 0, 0), summary)
        self.assertEqual(result["received"], result["sent"], summary)
        # A run that moved little would prove nothing about bursts.
        self.assertGreater(result["sent"], at_least, summary)

    def test_saturation_across_servers_loses_nothing(self):
        a, b = self.start_xmppd(A, extra=UNLIMITED), self.start_xmppd(B, extra=UNLIMITED)
        self.accounts(a, A, PAIRS)
        self.accounts(b, B, PAIRS)
        # 20 pairs with 128 messages each in flight: bursts of several hundred KiB per turn
        # through one s2s stream, past its high-water mark.
        self.assert_all_delivered(self.loadgen(A, B, "--rate", "0", "--window", "128"), 10000)
        # And back the other way, on the other pair of streams.
        self.assert_all_delivered(self.loadgen(B, A, "--rate", "0", "--window", "128"), 10000)

    def test_saturation_within_one_domain_loses_nothing(self):
        a = self.start_xmppd(A, extra=UNLIMITED)
        self.accounts(a, A, 2 * PAIRS)
        self.assert_all_delivered(
            self.loadgen(A, A, "--rate", "0", "--window", "128", "--receiver-offset", str(PAIRS)), 10000)


if __name__ == "__main__":
    harness.main()
