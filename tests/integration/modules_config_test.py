#!/usr/bin/env python3
"""The configuration of the IM modules as a client sees it (Debian's python3-slixmpp): per host,
contact_info (XEP-0157) in the server's disco#info, the admins as its admin contacts when
contact_info is not set, and modules_enabled/modules_disabled switching what a host answers.
Prosody's module names that xmppd does without (posix, admin_shell) change nothing."""
import asyncio
import subprocess
import xml.etree.ElementTree as ET

import slixmpp

import certs
import harness
from clients_test import Client, ClientTest, XMPPCTL

PASSWORD = "a secret"
DISCO_INFO = "{http://jabber.org/protocol/disco#info}query"
DATA = "{jabber:x:data}"
SERVERINFO = "http://jabber.org/network/serverinfo"

# Three hosts: one with its own contact_info, one with only the global admins, one that turns
# server_contact_info and ping off and version on.
HOSTS = """
admins = { "Root@B.test" }
modules_enabled = { "posix", "admin_shell" }

VirtualHost "a.test"
    admins = { "Boss@A.test" }
    contact_info = {
        abuse = { "mailto:abuse@a.test" };
        support = { "xmpp:help@a.test", "https://a.test/help" };
    }

VirtualHost "b.test"

VirtualHost "c.test"
    modules_disabled = { "server_contact_info", "ping" }
    modules_enabled = { "version" }
"""


def serverinfo(info):
    """The XEP-0157 form of a disco#info result as {field: [values]}, or None without one."""
    query = ET.fromstring(str(info)).find(DISCO_INFO)
    for form in query.findall(f"{DATA}x"):
        fields = {f.get("var"): [v.text for v in f.findall(f"{DATA}value")] for f in form.findall(f"{DATA}field")}
        if fields.get("FORM_TYPE") == [SERVERINFO]:
            del fields["FORM_TYPE"]
            return fields
    return None


class ModulesConfig(ClientTest):
    def setUp(self):
        super().setUp()
        self.issue_host_certificates("a.test", "b.test", "c.test")
        config = harness.basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n')
        config = config.replace('VirtualHost "localhost"\n', HOSTS)
        self.xmppd = self.server(config).start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 3 hosts")

    def login(self, host):
        r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "adduser", f"user@{host}"], input=PASSWORD + "\n",
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        # A named mechanism: slixmpp would otherwise try -PLUS first (clients_test.py).
        client = Client(f"user@{host}/test", PASSWORD, self.ca_file, "SCRAM-SHA-256")
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        self.assertEqual(self.run_async(client.outcome), "session")
        return client

    def run_async(self, awaitable):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, 20))

    def server_info(self, client, host):
        return self.run_async(client["xep_0030"].get_info(jid=host, timeout=10))

    def test_contact_info_is_served_per_host_in_server_disco(self):
        info = self.server_info(self.login("a.test"), "a.test")
        self.assertEqual(serverinfo(info), {"abuse-addresses": ["mailto:abuse@a.test"],
                                            "support-addresses": ["xmpp:help@a.test", "https://a.test/help"]})

    def test_without_contact_info_the_admins_are_the_admin_contacts(self):
        info = self.server_info(self.login("b.test"), "b.test")
        self.assertEqual(serverinfo(info), {"admin-addresses": ["xmpp:root@b.test"]})

    def test_modules_disabled_and_enabled_per_host(self):
        carol = self.login("c.test")
        info = self.server_info(carol, "c.test")
        self.assertIsNone(serverinfo(info))
        features = info["disco_info"]["features"]
        self.assertNotIn("urn:xmpp:ping", features)
        self.assertIn("jabber:iq:version", features)
        with self.assertRaises(slixmpp.exceptions.IqError) as refused:
            # send_ping: ping() takes an error from one's own server for a pong.
            self.run_async(carol["xep_0199"].send_ping("c.test", timeout=10))
        self.assertEqual(refused.exception.condition, "service-unavailable")
        version = self.run_async(carol["xep_0092"].get_version("c.test", timeout=10))
        self.assertEqual(version["software_version"]["name"], "xmppd")
        # The other hosts keep the defaults: ping, and no version.
        alice = self.login("a.test")
        features = self.server_info(alice, "a.test")["disco_info"]["features"]
        self.assertIn("urn:xmpp:ping", features)
        self.assertNotIn("jabber:iq:version", features)
        self.run_async(alice["xep_0199"].send_ping("a.test", timeout=10))

    def test_prosody_modules_done_without_a_module_give_no_warning(self):
        r = subprocess.run([harness.XMPPD, "-n", "-f", self.xmppd.config], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr + r.stdout, "configuration OK\n")


if __name__ == "__main__":
    harness.main()
