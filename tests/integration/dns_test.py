#!/usr/bin/env python3
"""The s2s worker's resolver (libunbound on its event loop), run under the s2s worker's
seccomp policy against a real DNS server (dnsmasq) that the test starts on loopback."""
import os
import subprocess
import time

import harness
from harness import IntegrationTest

RESOLVE = os.path.join(harness.BUILD_DIR, "tests", "resolve")
SERVER = "127.0.0.53"


class Dns(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.dnsmasq = subprocess.Popen(
            ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--port=53", f"--listen-address={SERVER}",
             "--bind-interfaces", "--local=/test/",
             "--srv-host=_xmpp-server._tcp.example.test,xmpp.example.test,5299,10,5",
             "--srv-host=_xmpp-server._tcp.example.test,backup.example.test,5269,20,1",
             "--srv-host=_xmpps-server._tcp.example.test,xmpp.example.test,5270,5,5",
             "--srv-host=_xmpp-server._tcp.noservice.test",
             "--host-record=xmpp.example.test,127.0.0.2,::2",
             "--cname=alias.example.test,xmpp.example.test"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(self.dnsmasq.wait)
        self.addCleanup(self.dnsmasq.terminate)
        time.sleep(0.5)

    def resolve(self, kind, name):
        r = subprocess.run([RESOLVE, SERVER, "test", kind, name], capture_output=True, text=True, timeout=20)
        self.assertNotEqual(r.returncode, -31, "killed by its sandbox (SIGSYS)")
        return r.stdout.split("\n")[0], sorted(line for line in r.stdout.split("\n")[1:] if line)

    def test_srv_records(self):
        status, records = self.resolve("srv", "_xmpp-server._tcp.example.test")
        self.assertEqual(status, "ok")
        self.assertEqual(records, ["10 5 5299 xmpp.example.test", "20 1 5269 backup.example.test"])
        status, records = self.resolve("srv", "_xmpps-server._tcp.example.test")
        self.assertEqual((status, records), ("ok", ["5 5 5270 xmpp.example.test"]))

    def test_no_service_target(self):
        status, records = self.resolve("srv", "_xmpp-server._tcp.noservice.test")
        self.assertEqual(status, "ok")
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0].split(" ")[3], "")  # "." as the target: no XMPP service there

    def test_addresses_and_cname(self):
        self.assertEqual(self.resolve("a", "xmpp.example.test"), ("ok", ["127.0.0.2"]))
        self.assertEqual(self.resolve("aaaa", "xmpp.example.test"), ("ok", ["::2"]))
        self.assertEqual(self.resolve("a", "alias.example.test"), ("ok", ["127.0.0.2"]))

    def test_unknown_name(self):
        status, records = self.resolve("srv", "_xmpp-server._tcp.nowhere.test")
        self.assertEqual((status, records), ("no-records", []))
        status, _ = self.resolve("a", "nowhere.test")
        self.assertEqual(status, "no-records")


if __name__ == "__main__":
    harness.main()
