#!/usr/bin/env python3
"""The mam module (XEP-0313 message archive, XEP-0359 stanza-ids, XEP-0059 paging) with a real
client library (Debian's python3-slixmpp, plugins xep_0313, xep_0059, xep_0359): two devices
and the archive agree on ids (carbons included), paging forward and back, the filters, the
preferences, expiry and the per-user quota, and the error of each bad query, which changes
nothing. The same classes run again with storage = "sql" on a PostgreSQL of their own (one per
class, a fresh database per test), where the rows are checked in its archive table."""
import asyncio
import os
import shutil
import subprocess
import tempfile
import time

import slixmpp
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

import harness
import postgres
from clients_test import ClientTest
from harness import basic_config

HOST = "chat.test"
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")
MAM = "urn:xmpp:mam:2"
SID = "urn:xmpp:sid:0"
RSM = "http://jabber.org/protocol/rsm"
FORWARD = "urn:xmpp:forward:0"
CARBONS = "urn:xmpp:carbons:2"


class Client(slixmpp.ClientXMPP):
    """Messages as they arrive (body, stanza-id by this account, the whole element), and the
    archive results of each query, by queryid."""

    def __init__(self, jid, password, ca_file):
        super().__init__(jid, password)
        self.ca_certs = ca_file
        for plugin in ("xep_0030", "xep_0199", "xep_0280", "xep_0059", "xep_0313", "xep_0359", "xep_0334"):
            self.register_plugin(plugin)
        self.started = asyncio.get_event_loop().create_future()
        self.messages = asyncio.Queue()
        self.results = {}
        self.add_event_handler("session_start", self._started)
        self.register_handler(Callback("every message", MatchXPath("{jabber:client}message"), self._message))

    async def _started(self, _):
        self.send_presence()
        self.get_roster()
        if not self.started.done():
            self.started.set_result(True)

    def _message(self, msg):
        result = msg.xml.find(f"{{{MAM}}}result")
        if result is not None:
            inner = result.find(f"{{{FORWARD}}}forwarded/{{jabber:client}}message")
            body = inner.find("{jabber:client}body")
            self.results.setdefault(result.get("queryid"), []).append(
                (result.get("id"), body.text if body is not None else None, inner.get("from")))
            return
        carried = msg.xml
        for kind in ("sent", "received"):
            inner = msg.xml.find(f"{{{CARBONS}}}{kind}/{{{FORWARD}}}forwarded/{{jabber:client}}message")
            if inner is not None:
                carried = inner
        body = carried.find("{jabber:client}body")
        ids = [s.get("id") for s in carried.findall(f"{{{SID}}}stanza-id") if s.get("by") == self.boundjid.bare]
        self.messages.put_nowait((body.text if body is not None else None, ids, carried))


def form(fields):
    x = ET.Element("{jabber:x:data}x", {"type": "submit"})
    for var, values in [("FORM_TYPE", [MAM])] + fields:
        f = ET.SubElement(x, "{jabber:x:data}field", {"var": var})
        for v in values if isinstance(values, list) else [values]:
            ET.SubElement(f, "{jabber:x:data}value").text = v
    return x


class MamTest(ClientTest):
    EXTRA = ""

    def storage(self):
        """The storage lines of xmppd.conf: none, the SQLite default."""
        return ""

    def archived(self, owner):
        """The bodies in owner's archive as the database holds them, or None when the test
        does not look into the database (SQLite: the archive's answers are what is checked)."""
        return None

    def setUp(self):
        super().setUp()
        self.issue_host_certificates(HOST)
        config = basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n'
                              'modules_enabled = { "mam" }\n' + self.EXTRA + self.storage())
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"')
        self.xmppd = self.server(config).start()
        # With storage = "sql", xmppd-storage is a fifth.
        self.xmppd.wait_sandboxed_children(count=5 if self.storage() else 4, timeout=20)
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts?")
        if self.storage():
            self.xmppd.wait_log(r"linked router and storage")
        for user in ("alice", "bob", "carol"):
            r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "adduser", f"{user}@{HOST}"],
                               input=f"{user}'s secret\n", capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.queries = 0

    def wait(self, awaitable, timeout=15):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def login(self, jid):
        client = Client(jid, jid.split("@")[0] + "'s secret", self.ca_file)
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        self.wait(client.started, 20)
        return client

    def next(self, client):
        return self.wait(client.messages.get())

    def say(self, sender, receiver, body, to=None):
        """A chat message from sender to receiver's account; what receiver got (body, ids)."""
        sender.send_message(mto=to or receiver.boundjid.bare, mbody=body, mtype="chat")
        got = self.next(receiver)
        self.assertEqual(got[0], body)
        return got

    def query(self, client, fields=(), rsm=(), flip=False, to=None, iq_type="set"):
        """(results, fin) of a raw query: results as (id, body, from), fin the <fin/> element."""
        self.queries += 1
        queryid = f"q{self.queries}"
        iq = client.Iq()
        iq["type"] = iq_type
        if to:
            iq["to"] = to
        q = ET.Element(f"{{{MAM}}}query", {"queryid": queryid})
        if fields:
            q.append(form(list(fields)))
        if rsm:
            s = ET.SubElement(q, f"{{{RSM}}}set")
            for name, text in rsm:
                ET.SubElement(s, f"{{{RSM}}}{name}").text = text
        if flip:
            ET.SubElement(q, f"{{{MAM}}}flip-page")
        iq.append(q)
        reply = self.wait(iq.send())
        return client.results.pop(queryid, []), reply.xml.find(f"{{{MAM}}}fin")

    def error_of(self, client, **kwargs):
        with self.assertRaises(IqError) as caught:
            self.query(client, **kwargs)
        return caught.exception.iq["error"]["condition"]

    def ids(self, results):
        return [r[0] for r in results]


class Archive(MamTest):
    def test_devices_carbons_and_the_archive_agree(self):
        phone, laptop, bob = (self.login(f"alice@{HOST}/phone"), self.login(f"alice@{HOST}/laptop"),
                              self.login(f"bob@{HOST}/desk"))
        for c in (phone, laptop):
            self.wait(c.plugin["xep_0280"].enable())
        info = self.wait(phone.plugin["xep_0030"].get_info(jid=f"alice@{HOST}"))
        for feature in (MAM, SID, MAM + "#extended"):
            self.assertIn(feature, info["disco_info"]["features"])
        # To the bare JID: both devices get it, with the same stanza-id.
        bob.send_message(mto=f"alice@{HOST}", mbody="hello both", mtype="chat")
        first, second = self.next(phone), self.next(laptop)
        self.assertEqual((first[0], second[0]), ("hello both", "hello both"))
        self.assertEqual(len(first[1]), 1)
        self.assertEqual(first[1], second[1])
        # To one device: the other's carbon carries the same id.
        bob.send_message(mto=f"alice@{HOST}/phone", mbody="to the phone", mtype="chat")
        direct, carbon = self.next(phone), self.next(laptop)
        self.assertEqual(carbon[0], "to the phone")
        self.assertEqual(direct[1], carbon[1])
        # Sent from the phone: the laptop's sent carbon carries alice's archive id.
        phone.send_message(mto=f"bob@{HOST}", mbody="from the phone", mtype="chat")
        self.assertEqual(self.next(bob)[0], "from the phone")
        sent = self.next(laptop)
        self.assertEqual(sent[0], "from the phone")
        self.assertEqual(len(sent[1]), 1)
        results, fin = self.query(laptop)
        self.assertEqual([r[1] for r in results], ["hello both", "to the phone", "from the phone"])
        self.assertEqual(self.ids(results), first[1] + direct[1] + sent[1])
        self.assertEqual(fin.get("complete"), "true")
        # Bob's archive has his side, with his own ids.
        results, _ = self.query(bob)
        self.assertEqual([r[1] for r in results], ["hello both", "to the phone", "from the phone"])
        # slixmpp's own query agrees.
        reply = self.wait(laptop.plugin["xep_0313"].retrieve(with_jid=slixmpp.JID(f"bob@{HOST}")))
        self.assertEqual(len(reply["mam"]["results"]), 3)
        self.assertIn(self.archived(f"alice@{HOST}"), (None, [("hello both", first[1][0]),
                                                              ("to the phone", direct[1][0]),
                                                              ("from the phone", sent[1][0])]))

    def test_an_offline_message_is_archived_with_the_id_it_is_delivered_with(self):
        bob = self.login(f"bob@{HOST}/b")
        bob.send_message(mto=f"alice@{HOST}", mbody="while you were out", mtype="chat")
        # A round trip: the message was handled before alice logs in.
        self.wait(bob.plugin["xep_0199"].ping(jid=HOST, timeout=10))
        alice = self.login(f"alice@{HOST}/a")
        body, ids, _ = self.next(alice)
        self.assertEqual(body, "while you were out")
        self.assertEqual(len(ids), 1)
        results, _ = self.query(alice)
        self.assertEqual([(r[0], r[1]) for r in results], [(ids[0], "while you were out")])
        self.assertIn(self.archived(f"alice@{HOST}"), (None, [("while you were out", ids[0])]))

    def test_paging_forward_and_back_and_filters(self):
        alice, bob, carol = (self.login(f"alice@{HOST}/a"), self.login(f"bob@{HOST}/b"),
                             self.login(f"carol@{HOST}/c"))
        ids = []
        for i in range(7):
            sender = bob if i % 2 == 0 else carol
            ids.append(self.say(sender, alice, f"m{i}")[1][0])
        # Forward, two at a time.
        page, fin = self.query(alice, rsm=[("max", "2")])
        self.assertEqual(self.ids(page), ids[0:2])
        self.assertIsNone(fin.get("complete"))
        self.assertEqual(fin.find(f"{{{RSM}}}set/{{{RSM}}}count").text, "7")
        self.assertEqual(fin.find(f"{{{RSM}}}set/{{{RSM}}}last").text, ids[1])
        page, _ = self.query(alice, rsm=[("max", "2"), ("after", ids[1])])
        self.assertEqual(self.ids(page), ids[2:4])
        page, fin = self.query(alice, rsm=[("max", "5"), ("after", ids[3])])
        self.assertEqual(self.ids(page), ids[4:7])
        self.assertEqual(fin.get("complete"), "true")
        # Backward from the end: the last page, then the one before, each in time order.
        page, fin = self.query(alice, rsm=[("max", "3"), ("before", None)])
        self.assertEqual(self.ids(page), ids[4:7])
        page, fin = self.query(alice, rsm=[("max", "3"), ("before", ids[4])])
        self.assertEqual(self.ids(page), ids[1:4])
        page, fin = self.query(alice, rsm=[("max", "3"), ("before", ids[1])])
        self.assertEqual(self.ids(page), ids[0:1])
        self.assertEqual(fin.get("complete"), "true")
        page, _ = self.query(alice, rsm=[("max", "3"), ("before", None)], flip=True)
        self.assertEqual(self.ids(page), ids[6:3:-1])
        # Filters: with, ids, before-id/after-id, and dates.
        page, fin = self.query(alice, fields=[("with", f"carol@{HOST}")])
        self.assertEqual([r[1] for r in page], ["m1", "m3", "m5"])
        self.assertEqual(fin.find(f"{{{RSM}}}set/{{{RSM}}}count").text, "3")
        page, _ = self.query(alice, fields=[("ids", [ids[5], ids[2]])])
        self.assertEqual(self.ids(page), [ids[2], ids[5]])
        # More ids than the page holds: cut to max before any lookup (so the unknown third id
        # is never looked up), duplicates first removed.
        page, fin = self.query(alice, fields=[("ids", [ids[5], ids[5], ids[2], "no-such-id"])], rsm=[("max", "2")])
        self.assertEqual(self.ids(page), [ids[2], ids[5]])
        self.assertNotEqual(fin.get("complete"), "true")
        page, _ = self.query(alice, fields=[("after-id", ids[1]), ("before-id", ids[4])])
        self.assertEqual(self.ids(page), ids[2:4])
        now = time.time()
        past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600))
        future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))
        page, _ = self.query(alice, fields=[("start", past), ("end", future)])
        self.assertEqual(len(page), 7)
        page, fin = self.query(alice, fields=[("start", future)])
        self.assertEqual((page, fin.find(f"{{{RSM}}}set/{{{RSM}}}count").text), ([], "0"))
        self.assertIn(self.archived(f"alice@{HOST}"), (None, [(f"m{i}", ids[i]) for i in range(7)]))
        # Metadata (#extended).
        iq = alice.Iq()
        iq["type"] = "get"
        iq.append(ET.Element(f"{{{MAM}}}metadata"))
        meta = self.wait(iq.send()).xml.find(f"{{{MAM}}}metadata")
        self.assertEqual((meta.find(f"{{{MAM}}}start").get("id"), meta.find(f"{{{MAM}}}end").get("id")),
                         (ids[0], ids[6]))

    def test_bad_queries_get_the_errors_the_xep_names(self):
        alice, bob = self.login(f"alice@{HOST}/a"), self.login(f"bob@{HOST}/b")
        for i in range(3):
            self.say(bob, alice, f"m{i}")
        self.assertEqual(self.error_of(alice, fields=[("start", "yesterday")]), "bad-request")
        self.assertEqual(self.error_of(alice, fields=[("end", "2026-13-01T00:00:00Z")]), "bad-request")
        self.assertEqual(self.error_of(alice, fields=[("with", "not@@a jid")]), "bad-request")
        self.assertEqual(self.error_of(alice, rsm=[("max", "-5")]), "bad-request")
        self.assertEqual(self.error_of(alice, rsm=[("after", "no-such-id")]), "item-not-found")
        self.assertEqual(self.error_of(alice, rsm=[("before", "no-such-id")]), "item-not-found")
        self.assertEqual(self.error_of(alice, fields=[("after-id", "no-such-id")]), "item-not-found")
        self.assertEqual(self.error_of(alice, fields=[("ids", ["no-such-id"])]), "item-not-found")
        # Someone else's archive is not for bob to read, not even an id he was given.
        self.assertEqual(self.error_of(bob, to=f"alice@{HOST}"), "forbidden")
        # A huge page is clamped to max_archive_query_results (50), not refused.
        for i in range(3, 55):
            alice.send_message(mto=f"bob@{HOST}", mbody=f"n{i}", mtype="chat")
        for i in range(3, 55):
            self.next(bob)
        page, fin = self.query(alice, rsm=[("max", "100000")])
        self.assertEqual(len(page), 50)
        self.assertIsNone(fin.get("complete"))
        self.assertEqual(fin.find(f"{{{RSM}}}set/{{{RSM}}}count").text, "55")
        # Nothing changed: the whole archive is still there, in order.
        page, fin = self.query(alice, rsm=[("max", "10")])
        self.assertEqual([r[1] for r in page[:3]], ["m0", "m1", "m2"])
        # The query form (XEP-0313 §6.1.1).
        iq = alice.Iq()
        iq["type"] = "get"
        iq.append(ET.Element(f"{{{MAM}}}query"))
        fields = [f.get("var") for f in self.wait(iq.send()).xml.iter("{jabber:x:data}field")]
        for var in ("FORM_TYPE", "with", "start", "end", "before-id", "after-id", "ids"):
            self.assertIn(var, fields)

    def test_preferences_never_and_roster(self):
        alice, bob, carol = (self.login(f"alice@{HOST}/a"), self.login(f"bob@{HOST}/b"),
                             self.login(f"carol@{HOST}/c"))
        iq = alice.Iq()
        iq["type"] = "set"
        prefs = ET.Element(f"{{{MAM}}}prefs", {"default": "roster"})
        never = ET.SubElement(prefs, f"{{{MAM}}}never")
        ET.SubElement(never, f"{{{MAM}}}jid").text = f"carol@{HOST}"
        iq.append(prefs)
        self.wait(iq.send())
        # carol is never archived; bob is in her roster (added below), so kept.
        self.wait(alice.update_roster(f"bob@{HOST}", name="Bob"))
        self.say(carol, alice, "from carol")
        self.say(bob, alice, "from bob")
        results, _ = self.query(alice)
        self.assertEqual([r[1] for r in results], ["from bob"])
        # The preferences read back as set.
        iq = alice.Iq()
        iq["type"] = "get"
        iq.append(ET.Element(f"{{{MAM}}}prefs"))
        got = self.wait(iq.send()).xml.find(f"{{{MAM}}}prefs")
        self.assertEqual(got.get("default"), "roster")
        self.assertEqual([j.text for j in got.iter(f"{{{MAM}}}jid")], [f"carol@{HOST}"])
        # never: nothing more is archived.
        iq = alice.Iq()
        iq["type"] = "set"
        iq.append(ET.Element(f"{{{MAM}}}prefs", {"default": "never"}))
        self.wait(iq.send())
        self.say(bob, alice, "not kept")
        results, _ = self.query(alice)
        self.assertEqual([r[1] for r in results], ["from bob"])
        # A bad default is refused and changes nothing.
        iq = alice.Iq()
        iq["type"] = "set"
        iq.append(ET.Element(f"{{{MAM}}}prefs", {"default": "sometimes"}))
        with self.assertRaises(IqError) as caught:
            self.wait(iq.send())
        self.assertEqual(caught.exception.iq["error"]["condition"], "bad-request")


class ExpiryAndQuota(MamTest):
    EXTRA = 'archive_expires_after = 4\narchive_cleanup_interval = 1\nstorage_archive_item_limit = 5\n'

    def test_quota_keeps_the_newest_and_expiry_deletes_in_the_background(self):
        alice, bob = self.login(f"alice@{HOST}/a"), self.login(f"bob@{HOST}/b")
        for i in range(8):
            self.say(bob, alice, f"m{i}")
        results, _ = self.query(alice)
        self.assertEqual([r[1] for r in results], [f"m{i}" for i in range(3, 8)])
        deadline = time.monotonic() + 10
        while results and time.monotonic() < deadline:
            self.loop.run_until_complete(asyncio.sleep(0.5))
            results, _ = self.query(alice)
        self.assertEqual(results, [])
        self.xmppd.wait_log(r"archive: \d+ expired messages deleted")


class OnPostgres:
    """Mixed in before a class above: the same tests with storage = "sql" on a PostgreSQL of
    the class's own, a fresh database for each test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg_dir = tempfile.mkdtemp(prefix="xmppd-mam-pg-")
        os.chmod(cls.pg_dir, 0o755)
        cls.pg = postgres.Postgres(cls.pg_dir)
        try:
            cls.pg.start()
        except Exception:
            shutil.rmtree(cls.pg_dir, ignore_errors=True)
            raise
        cls.databases = 0

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()
        shutil.rmtree(cls.pg_dir, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        type(self).databases += 1
        self.pg.database = f"xmppd_{self.databases}"
        self.pg.psql(f"CREATE DATABASE {self.pg.database} OWNER {self.pg.username}", database="postgres")
        super().setUp()

    def storage(self):
        return 'storage = "sql"\n' + self.pg.sql_option()

    def archived(self, owner):
        """(body, stanza-id) of each row of owner's archive, in order, as PostgreSQL has them
        (called after a query, which the batches written before it answer)."""
        rows = self.pg.psql(f"SELECT id, stanza FROM archive WHERE owner = '{owner}' ORDER BY seq")
        return [(next((c.text for c in ET.fromstring(stanza) if c.tag.rpartition("}")[2] == "body"), None), sid)
                for sid, stanza in rows]


class ArchiveOnPostgres(OnPostgres, Archive):
    pass


class ExpiryAndQuotaOnPostgres(OnPostgres, ExpiryAndQuota):
    pass


if __name__ == "__main__":
    harness.main()  # in a network namespace of its own, as every integration test
