#!/usr/bin/env python3
"""turn_external (XEP-0215) against a real TURN server: Debian's coturn, on loopback, set up
for the TURN REST scheme with the secret xmppd has. A client asks xmppd for the host's
services over XMPP; coturn's turnutils_uclient allocates a relay with the TURN credentials
given (and relays with them), and fails with a wrong password. One server set-up for all."""
import asyncio
import base64
import datetime
import hashlib
import hmac
import os
import shutil
import signal
import subprocess
import time
import unittest
import xml.etree.ElementTree as ET

import slixmpp

import harness
from clients_test import Client, ClientTest, XMPPCTL

HOST = "chat.test"
PASSWORD = "a secret"
SECRET = "turn shared secret"
EXTDISCO = "urn:xmpp:extdisco:2"
EXTDISCO1 = "urn:xmpp:extdisco:1"  # XEP-0215 v0.6, still answered by Prosody
TURN_PORT = 3478


class TurnServer:
    """coturn with a configuration, pid and log in the test's directory, loopback only."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "coturn")
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, "turnserver.conf")
        self.log = os.path.join(self.dir, "turn.log")
        with open(self.conf, "w") as f:
            f.write(f"""listening-ip=127.0.0.1
relay-ip=127.0.0.1
listening-port={TURN_PORT}
use-auth-secret
static-auth-secret={SECRET}
realm={HOST}
no-tls
no-dtls
no-cli
allow-loopback-peers
pidfile={self.dir}/turn.pid
log-file={self.log}
simple-log
userdb={self.dir}/turndb
""")
        self.proc = subprocess.Popen(["turnserver", "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        # Its listeners are open once its relay servers are made.
        harness.wait_for(lambda: "Total General servers" in self.read_log(), 10, "coturn listening")

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def allocate(self, username, password):
        """turnutils_uclient over UDP, three packets relayed through an allocation."""
        return subprocess.run(["turnutils_uclient", "-u", username, "-w", password, "-y", "-n", "1", "-m", "1",
                               "127.0.0.1"], capture_output=True, text=True, timeout=30)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@unittest.skipUnless(shutil.which("turnserver") and shutil.which("turnutils_uclient"),
                     "coturn is not installed (./dev installs it)")
class Turn(ClientTest):
    def setUp(self):
        super().setUp()
        self.issue_host_certificates(HOST)
        config = harness.basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n')
        config = config.replace('VirtualHost "localhost"', f'''VirtualHost "{HOST}"
modules_enabled = {{ "turn_external" }}
turn_external_secret = "{SECRET}"
turn_external_host = "127.0.0.1"
turn_external_ttl = 600
VirtualHost "plain.test"
VirtualHost "users.test"
modules_enabled = {{ "turn_external" }}
turn_external_secret = "{SECRET}"
turn_external_host = "127.0.0.1"
turn_external_user = "xmppd"
turn_external_tls_port = 5349
''')
        self.xmppd = self.server(config).start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for \d+ hosts")
        r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "adduser", f"alice@{HOST}"],
                           input=PASSWORD + "\n", capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.turn = TurnServer(self.workdir)
        self.addCleanup(self.turn.stop)
        self.alice = Client(f"alice@{HOST}/phone", PASSWORD, self.ca_file, "SCRAM-SHA-256")
        self.clients.append(self.alice)
        self.alice.connect(("127.0.0.1", 5222))
        self.assertEqual(self.wait(self.alice.outcome, 30), "session")

    def wait(self, awaitable, timeout=20):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def ask(self, name, to=HOST, services=(), ns=EXTDISCO, **attributes):
        iq = self.alice.make_iq_get(ito=to)
        payload = ET.SubElement(iq.xml, f"{{{ns}}}{name}", attributes)
        for service in services:
            ET.SubElement(payload, f"{{{ns}}}service", service)
        result = self.wait(iq.send(timeout=20))
        answer = result.xml.find(f"{{{ns}}}{name}")
        self.assertIsNotNone(answer, f"no {name} in {ns}")
        self.assertTrue(all(s.tag == f"{{{ns}}}service" for s in answer), ns)
        return [s.attrib for s in answer]

    def test_coturn_accepts_the_credentials_and_refuses_a_wrong_password_type_filter_other_host(self):
        info = self.wait(self.alice["xep_0030"].get_info(jid=HOST, timeout=10))
        self.assertIn(EXTDISCO, info["disco_info"]["features"])
        self.assertIn(EXTDISCO1, info["disco_info"]["features"])
        # The older namespace is answered in kind, as Prosody does.
        self.assertEqual([(s["type"], s["transport"]) for s in self.ask("services", ns=EXTDISCO1)],
                         [("stun", "udp"), ("turn", "udp")])
        self.assertEqual([s["type"] for s in self.ask("credentials", ns=EXTDISCO1,
                                                      services=[{"type": "turn", "host": "127.0.0.1"}])], ["turn"])
        services = self.ask("services")
        self.assertEqual([(s["type"], s["transport"]) for s in services], [("stun", "udp"), ("turn", "udp")])
        stun, turn = services
        self.assertEqual((stun["host"], stun["port"]), ("127.0.0.1", str(TURN_PORT)))
        self.assertNotIn("password", stun)
        # The TURN REST form, as Prosody gives it: the expiry as the user name, now + ttl.
        expiry = int(turn["username"])
        self.assertAlmostEqual(expiry, time.time() + 600, delta=30)
        expected = base64.b64encode(hmac.new(SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest())
        self.assertEqual(turn["password"], expected.decode())
        self.assertEqual(turn["expires"],
                         datetime.datetime.fromtimestamp(expiry, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.assertEqual(turn["restricted"], "1")

        ok = self.turn.allocate(turn["username"], turn["password"])
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("Total lost packets 0", ok.stdout + ok.stderr)
        bad = self.turn.allocate(turn["username"], "d3Jvbmc=")
        self.assertNotEqual(bad.returncode, 0, bad.stdout)
        self.assertIn("Cannot complete Allocation", bad.stdout + bad.stderr)

        # One server set-up for the rest too: the type filter, <credentials/>, another host.
        self.assertEqual([s["type"] for s in self.ask("services", type="turn")], ["turn"])
        self.assertEqual([s["type"] for s in self.ask("services", type="stun")], ["stun"])
        self.assertEqual(self.ask("services", type="turns"), [])
        # <credentials/> (XEP-0215 §3.2) for the services named by type and host (and port).
        credentials = self.ask("credentials", services=[{"type": "turn", "host": "127.0.0.1"}])
        self.assertEqual([s["type"] for s in credentials], ["turn"])
        self.assertIn("password", credentials[0])
        self.assertEqual(len(self.ask("credentials", services=[{"type": "turn", "host": "127.0.0.1",
                                                                 "port": str(TURN_PORT)}])), 1)
        self.assertEqual(self.ask("credentials", services=[{"type": "turn", "host": "other.test"}]), [])
        self.assertEqual(self.ask("credentials", services=[{"type": "stun", "host": "127.0.0.1"}]), [])
        with self.assertRaises(slixmpp.exceptions.IqError) as caught:
            self.ask("credentials", services=[{"type": "turn"}])
        self.assertEqual(caught.exception.iq["error"]["condition"], "bad-request")
        # turn_external_user and turn_external_tls_port, as Prosody: EXPIRY:USER, which coturn
        # accepts, and a turns service at the TLS port, listed without credentials.
        services = self.ask("services", to="users.test")
        self.assertEqual([(s["type"], s["transport"], s["port"]) for s in services],
                         [("stun", "udp", str(TURN_PORT)), ("turn", "udp", str(TURN_PORT)), ("turns", "tcp", "5349")])
        turn = services[1]
        expiry, user = turn["username"].split(":")
        self.assertEqual(user, "xmppd")
        self.assertAlmostEqual(int(expiry), time.time() + 86400, delta=30)
        self.assertNotIn("password", services[2])
        ok = self.turn.allocate(turn["username"], turn["password"])
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        # A host without the module offers neither the feature nor the services.
        info = self.wait(self.alice["xep_0030"].get_info(jid="plain.test", timeout=10))
        self.assertNotIn(EXTDISCO, info["disco_info"]["features"])
        with self.assertRaises(slixmpp.exceptions.IqError) as caught:
            self.ask("services", to="plain.test")
        self.assertEqual(caught.exception.iq["error"]["condition"], "service-unavailable")


if __name__ == "__main__":
    harness.main()
