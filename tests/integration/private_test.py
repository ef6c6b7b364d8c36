#!/usr/bin/env python3
"""The private module (XEP-0049), with slixmpp clients: elements stored, replaced, removed and
read back by namespace and name, across a restart; another user's data forbidden; reserved
namespaces and malformed queries refused; the per-user size limit, and a set of several
elements kept all or nothing."""
import asyncio
import subprocess
import xml.etree.ElementTree as ET

import slixmpp

import certs
import harness
from clients_test import Client, ClientTest, XMPPCTL

HOST = "chat.test"
PASSWORD = "a secret"
PRIVATE = "jabber:iq:private"
STANZAS = "{urn:ietf:params:xml:ns:xmpp-stanzas}"


class Private(ClientTest):
    def setUp(self):
        super().setUp()
        self.issue_host_certificates(HOST)
        # Named, whether or not it is among the defaults.
        config = harness.basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n'
                                      'modules_enabled = { "private" }\nmax_user_private_bytes = 4000\n')
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\n')
        self.xmppd = self.server(config).start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts")
        for user in ("alice", "bob"):
            r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "adduser", f"{user}@{HOST}"],
                               input=PASSWORD + "\n", capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)

    def login(self, jid):
        client = Client(jid, PASSWORD, self.ca_file, "SCRAM-SHA-256")
        client.register_plugin("xep_0049")
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        self.assertEqual(self.wait(client.outcome, 30), "session", jid)
        return client

    def wait(self, awaitable, timeout=20):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def query(self, client, kind, *elements, to=None):
        iq = client.make_iq_set(ito=to) if kind == "set" else client.make_iq_get(ito=to)
        query = ET.SubElement(iq.xml, f"{{{PRIVATE}}}query")
        for e in elements:
            query.append(ET.fromstring(e))
        return iq.send(timeout=20)

    def store(self, client, *elements):
        result = self.wait(self.query(client, "set", *elements))
        self.assertEqual(result["type"], "result")

    def get(self, client, element):
        """The element the server returns for the one asked for, as text without its namespace prefixes."""
        result = self.wait(self.query(client, "get", element))
        children = list(result.xml.find(f"{{{PRIVATE}}}query"))
        self.assertEqual(len(children), 1)
        return children[0]

    def refused(self, kind, client, *elements, to=None):
        with self.assertRaises(slixmpp.exceptions.IqError) as caught:
            self.wait(self.query(client, kind, *elements, to=to))
        error = caught.exception.iq.xml.find("{jabber:client}error")
        self.error_text = caught.exception.iq["error"]["text"]
        conditions = [c.tag[len(STANZAS):] for c in error
                      if c.tag.startswith(STANZAS) and c.tag != STANZAS + "text"]
        return error.get("type"), conditions[0]

    def test_elements_are_kept_by_namespace_and_name_across_a_restart(self):
        alice = self.login(f"alice@{HOST}/phone")
        info = self.wait(alice["xep_0030"].get_info(jid=HOST, timeout=10))
        self.assertIn(PRIVATE, info["disco_info"]["features"])
        # Nothing stored: the element asked for, empty.
        empty = self.get(alice, "<prefs xmlns='example:prefs'/>")
        self.assertEqual((empty.tag, len(empty), empty.attrib), ("{example:prefs}prefs", 0, {}))
        # Two elements of one namespace in one set, each kept by its name.
        self.store(alice, "<prefs xmlns='example:prefs' v='1'><colour>blue</colour></prefs>",
                   "<other xmlns='example:prefs'><x>1</x></other>")
        self.store(alice, "<storage xmlns='storage:bookmarks'><conference jid='room@muc.test' name='Room'/></storage>")
        prefs = self.get(alice, "<prefs xmlns='example:prefs'/>")
        self.assertEqual((prefs.get("v"), prefs.find("{example:prefs}colour").text), ("1", "blue"))
        self.assertEqual(self.get(alice, "<other xmlns='example:prefs'/>").find("{example:prefs}x").text, "1")
        # Replaced.
        self.store(alice, "<prefs xmlns='example:prefs'><colour>green</colour></prefs>")
        self.assertEqual(self.get(alice, "<prefs xmlns='example:prefs'/>").find("{example:prefs}colour").text, "green")
        # Removed by an empty element.
        self.store(alice, "<other xmlns='example:prefs'/>")
        self.assertEqual(len(self.get(alice, "<other xmlns='example:prefs'/>")), 0)
        # Kept across a restart, and for the user's other sessions.
        for c in self.clients:
            c.disconnect()
        self.loop.run_until_complete(asyncio.sleep(0.3))
        self.clients.clear()
        self.assertEqual(self.xmppd.stop(), 0)
        self.xmppd.start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts", after=0)
        laptop = self.login(f"alice@{HOST}/laptop")
        bookmarks = self.get(laptop, "<storage xmlns='storage:bookmarks'/>")
        conference = bookmarks.find("{storage:bookmarks}conference")
        self.assertEqual((conference.get("jid"), conference.get("name")), ("room@muc.test", "Room"))
        self.assertEqual(self.get(laptop, "<prefs xmlns='example:prefs'/>").find("{example:prefs}colour").text,
                         "green")

    def test_another_users_data_is_forbidden(self):
        alice = self.login(f"alice@{HOST}/phone")
        bob = self.login(f"bob@{HOST}/desk")
        self.store(alice, "<secret xmlns='example:secret'>alice's</secret>")
        self.assertEqual(self.refused("get", bob, "<secret xmlns='example:secret'/>", to=f"alice@{HOST}"),
                         ("cancel", "forbidden"))
        self.assertEqual(self.refused("set", bob, "<secret xmlns='example:secret'>bob's</secret>",
                                      to=f"alice@{HOST}"), ("cancel", "forbidden"))
        self.assertEqual(self.get(alice, "<secret xmlns='example:secret'/>").text, "alice's")
        # Bob's own storage is his.
        self.assertEqual(self.get(bob, "<secret xmlns='example:secret'/>").text, None)

    def test_reserved_namespaces_and_malformed_queries_are_refused(self):
        alice = self.login(f"alice@{HOST}/phone")
        for element in ("<query xmlns='jabber:iq:private'/>", "<x xmlns='jabber:client'/>",
                        "<vCard xmlns='vcard-temp'><FN>A</FN></vCard>",
                        "<query xmlns='http://jabber.org/protocol/disco#info'/>"):
            with self.subTest(element=element):
                self.assertEqual(self.refused("set", alice, element), ("modify", "not-acceptable"))
                self.assertEqual(self.refused("get", alice, element), ("modify", "not-acceptable"))
        self.assertEqual(self.refused("get", alice), ("modify", "bad-request"))  # no element
        self.assertEqual(self.refused("set", alice), ("modify", "bad-request"))
        self.assertEqual(self.refused("get", alice, "<a xmlns='example:a'/>", "<b xmlns='example:b'/>"),
                         ("modify", "bad-request"))  # one element per get
        self.assertEqual(self.refused("set", alice, "<a xmlns='example:a'>1</a>", "<a xmlns='example:a'>2</a>"),
                         ("modify", "bad-request"))  # the same element twice
        self.assertEqual(self.refused("set", alice, "<a xmlns='example:a'>1</a>", "<b xmlns='example:b'>2</b>"),
                         ("modify", "bad-request"))  # two namespaces (XEP-0049 §2.3)
        # A set with a reserved element among good ones stores none of them.
        self.assertEqual(self.refused("set", alice, "<a xmlns='example:a'>1</a>", "<x xmlns='jabber:server'/>"),
                         ("modify", "not-acceptable"))
        self.assertEqual(self.get(alice, "<a xmlns='example:a'/>").text, None)

    def test_the_size_limit_keeps_a_set_all_or_nothing(self):
        alice = self.login(f"alice@{HOST}/phone")
        big = "x" * 1500  # max_user_private_bytes = 4000, counted as the elements serialized
        self.store(alice, f"<one xmlns='example:big'>{big}</one>")
        self.store(alice, f"<two xmlns='example:big'>{big}</two>")
        # Past the limit: a small element and a big one, neither kept.
        self.assertEqual(self.refused("set", alice, "<small xmlns='example:big'>fits</small>",
                                      f"<three xmlns='example:big'>{big}</three>"), ("modify", "not-acceptable"))
        self.assertIn("at most 4000 bytes", self.error_text)
        self.assertEqual(self.get(alice, "<small xmlns='example:big'/>").text, None)
        self.assertEqual(self.get(alice, "<three xmlns='example:big'/>").text, None)
        # Replacing an element counts its new size only; removing one makes room.
        self.store(alice, f"<two xmlns='example:big'>{big}y</two>")
        self.store(alice, "<one xmlns='example:big'/>")
        self.store(alice, "<small xmlns='example:big'>fits</small>", f"<three xmlns='example:big'>{big}</three>")
        self.assertEqual(self.get(alice, "<small xmlns='example:big'/>").text, "fits")
        self.assertEqual(len(self.get(alice, "<three xmlns='example:big'/>").text), len(big))


if __name__ == "__main__":
    harness.main()
