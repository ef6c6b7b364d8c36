#!/usr/bin/env python3
"""vCards (modules vcard_legacy and vcard4) with a real client library (Debian's
python3-slixmpp): XEP-0054 set and get of one's own vCard and reads of another user's, the
XEP-0153 photo hash the server puts in presence, the size limit, malformed photos, the vCard
gone with its account; with the pep module, XEP-0398 (a vCard photo becomes the XEP-0084
avatar and an avatar becomes the vCard photo) and XEP-0292 vCard4 over the urn:xmpp:vcard4
node; and across s2s with Prosody 0.12, vCards and photo hashes both ways.

Ordering without sleeps: a client's ping to the server is answered after everything the
client sent before it was routed, and after everything routed to the client before it."""
import asyncio
import base64
import contextlib
import hashlib
import os
import sqlite3
import subprocess
import unittest
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

import certs
import harness
from clients_test import ClientTest
import pep_test
from harness import basic_config
from prosody import Prosody, fresh_workdir

HOST = "chat.test"
NO_PEP_HOST = "plain.test"  # a host with pep disabled
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")
USERS = {"alice": "alice's secret", "bob": "bob's secret", "carol": "carol's secret"}
VCARD_LIMIT = 8192

NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_VCARD = "vcard-temp"
NS_VCARD_UPDATE = "vcard-temp:x:update"
NS_VCARD4 = "urn:ietf:params:xml:ns:vcard-4.0"
NS_AVATAR_DATA = "urn:xmpp:avatar:data"
NS_AVATAR_METADATA = "urn:xmpp:avatar:metadata"
# A 1x1 PNG, and another.
PHOTO = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
OTHER_PHOTO = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")


def q(ns, path):
    return "/".join(f"{{{ns}}}{step}" for step in path.split("/"))


def vcard_with_photo(data, extra="<FN>Alice</FN>"):
    return (f"<vCard xmlns='{NS_VCARD}'>{extra}<PHOTO><TYPE>image/png</TYPE>"
            f"<BINVAL>{base64.b64encode(data).decode()}</BINVAL></PHOTO></vCard>")


class Client(slixmpp.ClientXMPP):
    """A client that keeps every presence it gets (inbox)."""

    def __init__(self, jid, password, ca_file, plugins=()):
        super().__init__(jid, password)
        self.ca_certs = ca_file
        for plugin in ("xep_0030", "xep_0054", "xep_0060", "xep_0084", "xep_0199", *plugins):
            self.register_plugin(plugin)
        self.outcome = asyncio.get_event_loop().create_future()
        self.inbox = []
        self.register_handler(Callback("vcard presences", MatchXPath(f"{{{NS_CLIENT}}}presence"), self.inbox.append))
        self.add_event_handler("session_start", self._started)
        # slixmpp tries the next mechanism after a failure (its -PLUS attempt): the last word counts.
        self.add_event_handler("no_auth", lambda _: self._settle("failed_auth"))

    def _settle(self, value):
        if not self.outcome.done():
            self.outcome.set_result(value)

    async def _started(self, _):
        self.send_presence()
        self._settle("session")


class Vcards(ClientTest):
    def setUp(self):
        super().setUp()
        self.issue_host_certificates(HOST, NO_PEP_HOST)
        # A small vCard limit, reached quickly (xmppd.conf(5): max_user_vcard_bytes).
        config = basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n'
                                            f"max_user_vcard_bytes = {VCARD_LIMIT}\n")
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\n'
                                f'VirtualHost "{NO_PEP_HOST}"\nmodules_disabled = {{ "pep" }}\n')
        self.xmppd = self.server(config).start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 2 hosts")
        for user, password in USERS.items():
            self.xmppctl("adduser", f"{user}@{HOST}", password)
        self.xmppctl("adduser", f"dave@{NO_PEP_HOST}", USERS["alice"])

    def xmppctl(self, command, jid, password=""):
        r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, command, jid], input=password + "\n",
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def wait(self, awaitable, timeout=10):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def login(self, user, resource="phone", host=HOST, plugins=()):
        client = Client(f"{user}@{host}/{resource}", USERS.get(user, USERS["alice"]), self.ca_file, plugins)
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        self.assertEqual(self.wait(client.outcome, 20), "session", f"login of {user}")
        return client

    def iq(self, client, itype, payload=None, to=None):
        iq = client.make_iq(itype=itype, ito=to)
        if payload:
            iq.append(ET.fromstring(payload))
        return self.wait(iq.send(timeout=10), 12)

    def iq_error(self, client, itype, payload, to=None):
        """The condition and type of the error an iq must get."""
        with self.assertRaises(IqError, msg=f"an error for {payload[:80]}") as refused:
            self.iq(client, itype, payload, to)
        error = refused.exception.iq.xml.find(q(NS_CLIENT, "error"))
        condition = next(c.tag.split("}")[1] for c in error if c.tag.startswith(f"{{{NS_STANZAS}}}"))
        return condition, error.get("type")

    def get_vcard(self, client, owner=None):
        result = self.wait(client["xep_0054"].get_vcard(owner or client.boundjid.bare, timeout=10), 12)
        return result.xml.find(q(NS_VCARD, "vCard"))

    def barrier(self, *clients):
        for client in clients:
            self.iq(client, "get", "<ping xmlns='urn:xmpp:ping'/>", to=HOST)

    def photo_in_presence(self, watcher, sender, status):
        """The vcard-temp:x:update photo of sender's presence with `status`, as watcher got it."""
        mark = len(watcher.inbox)
        sender.send_raw(f"<presence><status>{status}</status><x xmlns='{NS_VCARD_UPDATE}'>"
                        "<photo>0000000000000000000000000000000000000000</photo></x></presence>")
        self.barrier(sender, watcher)
        got = [p for p in watcher.inbox[mark:] if p.xml.findtext(q(NS_CLIENT, "status")) == status]
        self.assertEqual(len(got), 1, [str(p) for p in watcher.inbox[mark:]])
        updates = got[0].xml.findall(q(NS_VCARD_UPDATE, "x"))
        self.assertEqual(len(updates), 1, str(got[0]))
        return updates[0].findtext(q(NS_VCARD_UPDATE, "photo"))

    def pep_rows(self, bare):
        """The rows the pep module keeps for the user, read from the router's store (the
        router commits at the end of each loop turn; a barrier before makes them visible)."""
        path = os.path.join(self.workdir, "data", "router", "user.sqlite")
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return db.execute("SELECT count(*) FROM item WHERE bare = ? AND store LIKE 'pep%'", (bare,)).fetchone()[0]

    def has_pep(self, client):
        info = self.wait(client["xep_0030"].get_info(jid=HOST, timeout=10), 12)
        return "urn:xmpp:vcard4" in info["disco_info"]["features"]

    # --- XEP-0054 ---

    def test_set_and_get_own_and_another_users(self):
        alice, bob = self.login("alice"), self.login("bob")
        features = self.wait(bob["xep_0030"].get_info(jid=HOST, timeout=10), 12)["disco_info"]["features"]
        self.assertIn(NS_VCARD, features)
        self.assertIn("urn:xmpp:pep-vcard-conversion:0", features)
        # Nobody has a vCard yet: an empty one, as from Prosody.
        self.assertEqual(len(self.get_vcard(bob, f"alice@{HOST}")), 0)
        vcard = alice["xep_0054"].make_vcard()
        vcard["FN"] = "Alice Liddell"
        vcard["NICKNAME"] = "alice"
        self.wait(alice["xep_0054"].publish_vcard(vcard, timeout=10), 12)
        for client in (alice, bob):
            got = self.get_vcard(client, f"alice@{HOST}")
            self.assertEqual(got.findtext(q(NS_VCARD, "FN")), "Alice Liddell")
            self.assertEqual(got.findtext(q(NS_VCARD, "NICKNAME")), "alice")
        # Asked without a 'to': the account's own.
        self.assertEqual(self.iq(alice, "get", f"<vCard xmlns='{NS_VCARD}'/>").xml.findtext(
            q(NS_VCARD, "vCard/FN")), "Alice Liddell")
        # Bob sets his, not Alice's.
        self.assertEqual(self.iq_error(bob, "set", f"<vCard xmlns='{NS_VCARD}'><FN>Mallory</FN></vCard>",
                                       to=f"alice@{HOST}"), ("forbidden", "auth"))
        self.iq(bob, "set", f"<vCard xmlns='{NS_VCARD}'><FN>Bob</FN></vCard>")
        self.assertEqual(self.get_vcard(bob, f"alice@{HOST}").findtext(q(NS_VCARD, "FN")), "Alice Liddell")
        self.assertEqual(self.get_vcard(alice, f"bob@{HOST}").findtext(q(NS_VCARD, "FN")), "Bob")
        # A new set replaces the whole vCard.
        self.iq(alice, "set", f"<vCard xmlns='{NS_VCARD}'><NICKNAME>al</NICKNAME></vCard>")
        got = self.get_vcard(bob, f"alice@{HOST}")
        self.assertIsNone(got.find(q(NS_VCARD, "FN")))
        self.assertEqual(got.findtext(q(NS_VCARD, "NICKNAME")), "al")

    def test_photo_hash_in_presence(self):
        watcher = self.login("alice", "watcher")  # Alice's other resource gets her broadcast
        alice = self.login("alice")
        # No vCard: the client's own x is passed on as it was.
        self.assertEqual(self.photo_in_presence(watcher, alice, "no vcard"), "0" * 40)
        self.iq(alice, "set", vcard_with_photo(PHOTO))
        self.assertEqual(self.photo_in_presence(watcher, alice, "photo"), hashlib.sha1(PHOTO).hexdigest())
        # A session that comes later gets that presence as it was broadcast, hash included
        # (what probe answers and new subscribers get too).
        late = self.login("alice", "late")
        self.barrier(late)
        kept = [p for p in late.inbox if str(p["from"]) == f"alice@{HOST}/phone"]
        self.assertEqual(len(kept), 1, [str(p) for p in late.inbox])
        self.assertEqual(kept[0].xml.findtext(q(NS_VCARD_UPDATE, "x/photo")), hashlib.sha1(PHOTO).hexdigest())
        # Folded base64 (RFC 2426) is the same photo.
        folded = base64.encodebytes(OTHER_PHOTO).decode()
        self.iq(alice, "set", f"<vCard xmlns='{NS_VCARD}'><PHOTO><TYPE>image/png</TYPE><BINVAL>{folded}"
                              "</BINVAL></PHOTO></vCard>")
        self.assertEqual(self.photo_in_presence(watcher, alice, "other"), hashlib.sha1(OTHER_PHOTO).hexdigest())
        got = self.get_vcard(watcher)
        self.assertEqual(base64.b64decode(got.findtext(q(NS_VCARD, "PHOTO/BINVAL"))), OTHER_PHOTO)
        # A vCard without a photo: an empty <photo/>, "no photo" (XEP-0153 §3.1).
        self.iq(alice, "set", f"<vCard xmlns='{NS_VCARD}'><FN>Alice</FN></vCard>")
        self.assertEqual(self.photo_in_presence(watcher, alice, "none") or "", "")

    def test_a_xep_0153_client_sets_its_avatar(self):
        watcher = self.login("alice", "watcher")
        # slixmpp's xep_0153 reads the vCard first (an empty one, not an error, when there is
        # none), sets its PHOTO, publishes it and sends its presence again.
        alice = self.login("alice", plugins=("xep_0153",))
        mark = len(watcher.inbox)
        self.wait(alice["xep_0153"].set_avatar(avatar=PHOTO, mtype="image/png", timeout=10), 12)
        self.barrier(alice, watcher)
        hashes = [p.xml.findtext(q(NS_VCARD_UPDATE, "x/photo")) for p in watcher.inbox[mark:]
                  if p["from"] == alice.boundjid]
        self.assertEqual(hashes[-1:], [hashlib.sha1(PHOTO).hexdigest()])
        got = self.get_vcard(watcher)
        self.assertEqual((got.findtext(q(NS_VCARD, "PHOTO/TYPE")), base64.b64decode(got.findtext(
            q(NS_VCARD, "PHOTO/BINVAL")))), ("image/png", PHOTO))

    def test_over_the_limit_refused_and_not_stored(self):
        alice = self.login("alice")
        self.iq(alice, "set", f"<vCard xmlns='{NS_VCARD}'><FN>Alice</FN></vCard>")
        big = "x" * VCARD_LIMIT
        self.assertEqual(self.iq_error(alice, "set", f"<vCard xmlns='{NS_VCARD}'><DESC>{big}</DESC></vCard>"),
                         ("not-acceptable", "modify"))
        got = self.get_vcard(alice)
        self.assertEqual(got.findtext(q(NS_VCARD, "FN")), "Alice")
        self.assertIsNone(got.find(q(NS_VCARD, "DESC")))
        # Just under the limit is kept.
        fits = "y" * (VCARD_LIMIT - 200)
        self.iq(alice, "set", f"<vCard xmlns='{NS_VCARD}'><DESC>{fits}</DESC></vCard>")
        self.assertEqual(self.get_vcard(alice).findtext(q(NS_VCARD, "DESC")), fits)

    def test_malformed_photo_is_a_bad_request(self):
        alice, bob = self.login("alice"), self.login("bob")
        self.iq(alice, "set", vcard_with_photo(PHOTO))
        self.assertEqual(self.iq_error(alice, "set", f"<vCard xmlns='{NS_VCARD}'><PHOTO><TYPE>image/png</TYPE>"
                                                     "<BINVAL>not base64!</BINVAL></PHOTO></vCard>"),
                         ("bad-request", "modify"))
        got = self.get_vcard(bob, f"alice@{HOST}")
        self.assertEqual(base64.b64decode(got.findtext(q(NS_VCARD, "PHOTO/BINVAL"))), PHOTO)

    def test_vcard_goes_with_the_account(self):
        alice = self.login("alice")
        self.iq(alice, "set", vcard_with_photo(PHOTO))
        self.xmppctl("deluser", f"alice@{HOST}")
        # The removal reaches the router, which ends the account's sessions (branch accounts).
        try:
            self.wait(alice.disconnected, 10)
        except asyncio.TimeoutError:
            self.skipTest("xmppctl deluser does not reach the router in this build")
        self.xmppctl("adduser", f"alice@{HOST}", USERS["alice"])
        bob = self.login("bob")
        self.assertEqual(len(self.get_vcard(bob, f"alice@{HOST}")), 0)

    def test_host_without_pep(self):
        dave = self.login("dave", host=NO_PEP_HOST)
        self.iq(dave, "set", vcard_with_photo(PHOTO))
        self.assertEqual(base64.b64decode(self.get_vcard(dave).findtext(q(NS_VCARD, "PHOTO/BINVAL"))), PHOTO)
        # No avatar node was made for him (as one is for Alice, whose host has pep), and
        # vCard4, a PEP node, is not served.
        alice = self.login("alice")
        self.iq(alice, "set", vcard_with_photo(PHOTO))
        self.barrier(alice, dave)
        self.assertGreater(self.pep_rows(f"alice@{HOST}"), 0)
        self.assertEqual(self.pep_rows(f"dave@{NO_PEP_HOST}"), 0)
        self.assertEqual(self.iq_error(dave, "get", f"<vcard xmlns='{NS_VCARD4}'/>"),
                         ("service-unavailable", "cancel"))

    # --- with the pep module: XEP-0398 and XEP-0292 ---

    def test_vcard_photo_becomes_the_avatar_and_back(self):
        alice = self.login("alice")
        if not self.has_pep(alice):
            self.skipTest("the build has no pep module")
        watcher = self.login("alice", "watcher")
        self.iq(alice, "set", vcard_with_photo(PHOTO))
        digest = hashlib.sha1(PHOTO).hexdigest()
        items = self.wait(alice["xep_0060"].get_items(f"alice@{HOST}", NS_AVATAR_METADATA, timeout=10), 12)
        info = items.xml.find(f"{q(NS_PUBSUB, 'pubsub/items/item')}/{q(NS_AVATAR_METADATA, 'metadata/info')}")
        self.assertEqual((info.get("id"), info.get("type"), info.get("bytes")), (digest, "image/png", str(len(PHOTO))))
        data = self.wait(alice["xep_0060"].get_item(f"alice@{HOST}", NS_AVATAR_DATA, digest, timeout=10), 12)
        self.assertEqual(base64.b64decode(data.xml.findtext(f"{q(NS_PUBSUB, 'pubsub/items/item')}/"
                                                            f"{q(NS_AVATAR_DATA, 'data')}")), PHOTO)
        # An avatar published through PEP (XEP-0084) becomes the vCard's photo and the hash.
        other = hashlib.sha1(OTHER_PHOTO).hexdigest()
        self.wait(alice["xep_0084"].publish_avatar(OTHER_PHOTO, timeout=10), 12)
        self.wait(alice["xep_0084"].publish_avatar_metadata(
            [{"id": other, "type": "image/png", "bytes": len(OTHER_PHOTO)}], timeout=10), 12)
        got = self.get_vcard(watcher)
        self.assertEqual(base64.b64decode(got.findtext(q(NS_VCARD, "PHOTO/BINVAL"))), OTHER_PHOTO)
        self.assertEqual(got.findtext(q(NS_VCARD, "FN")), "Alice")
        self.assertEqual(self.photo_in_presence(watcher, alice, "pep avatar"), other)
        # A vCard over the limit publishes nothing of its photo either.
        big = "x" * VCARD_LIMIT
        self.assertEqual(self.iq_error(alice, "set", vcard_with_photo(PHOTO, f"<DESC>{big}</DESC>")),
                         ("not-acceptable", "modify"))
        items = self.wait(alice["xep_0060"].get_items(f"alice@{HOST}", NS_AVATAR_METADATA, max_items=1,
                                                      timeout=10), 12)
        self.assertEqual([i.get("id") for i in items.xml.findall(q(NS_PUBSUB, "pubsub/items/item"))], [other])

    def test_vcard4(self):
        alice, bob = self.login("alice"), self.login("bob")
        if not self.has_pep(alice):
            self.skipTest("the build has no pep module")
        self.assertEqual(self.iq_error(bob, "get", f"<vcard xmlns='{NS_VCARD4}'/>", to=f"alice@{HOST}"),
                         ("item-not-found", "cancel"))
        self.iq(alice, "set", f"<vcard xmlns='{NS_VCARD4}'><fn><text>Alice</text></fn></vcard>")
        got = self.iq(bob, "get", f"<vcard xmlns='{NS_VCARD4}'/>", to=f"alice@{HOST}")
        self.assertEqual(got.xml.findtext(q(NS_VCARD4, "vcard/fn/text")), "Alice")
        # The same vCard4 is the urn:xmpp:vcard4 node's item.
        items = self.wait(bob["xep_0060"].get_item(f"alice@{HOST}", "urn:xmpp:vcard4", "current", timeout=10), 12)
        self.assertEqual(items.xml.findtext(f"{q(NS_PUBSUB, 'pubsub/items/item')}/{q(NS_VCARD4, 'vcard/fn/text')}"),
                         "Alice")
        self.assertEqual(self.iq_error(bob, "set", f"<vcard xmlns='{NS_VCARD4}'/>", to=f"alice@{HOST}"),
                         ("forbidden", "auth"))
        # The node's access model holds for the vCard4 IQ as for a pubsub request.
        self.iq(alice, "set", f"<pubsub xmlns='{NS_PUBSUB}#owner'><configure node='urn:xmpp:vcard4'>"
                              "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
                              f"<value>{NS_PUBSUB}#node_config</value></field><field var='pubsub#access_model'>"
                              "<value>whitelist</value></field></x></configure></pubsub>")
        self.assertEqual(self.iq_error(bob, "get", f"<vcard xmlns='{NS_VCARD4}'/>", to=f"alice@{HOST}"),
                         ("forbidden", "auth"))
        got = self.iq(alice, "get", f"<vcard xmlns='{NS_VCARD4}'/>")
        self.assertEqual(got.xml.findtext(q(NS_VCARD4, "vcard/fn/text")), "Alice")
        big = "x" * VCARD_LIMIT
        self.assertEqual(self.iq_error(alice, "set", f"<vcard xmlns='{NS_VCARD4}'><note><text>{big}</text></note>"
                                                     "</vcard>"), ("not-acceptable", "modify"))


class ProsodyVcardClient(pep_test.PepClient):
    """A PEP client that also keeps the presences it gets."""

    def __init__(self, jid, password, ca_file):
        super().__init__(jid, password, ca_file)
        self.register_plugin("xep_0054")
        self.inbox = []
        self.register_handler(Callback("vcard presences", MatchXPath(f"{{{NS_CLIENT}}}presence"), self.inbox.append))


class WithProsody(pep_test.PepBase):
    """vCards across s2s with Prosody 0.12 (its vcard_legacy over pep), both ways."""

    def login(self, jid, password):
        client = ProsodyVcardClient(jid, password, self.ca_file)
        self.clients.append(client)
        client.connect((self.c2s_address.get(jid.split("@")[1].split("/")[0]), 5222))
        self.assertEqual(self.wait(client.outcome), "session")
        return client

    def vcard_of(self, client, owner):
        result = self.wait(client["xep_0054"].get_vcard(owner, timeout=20), 25)
        return result.xml.find(q(NS_VCARD, "vCard"))

    def test_vcards_and_photo_hash_both_ways(self):
        a = self.start_xmppd(pep_test.A)
        self.adduser(a, f"alice@{pep_test.A}", "alice pw")
        workdir = fresh_workdir(self.workdir, "prosody")
        key, cert = self.ca.issue(pep_test.B, "ec")
        certs.write(f"{workdir}/b.crt", certs.cert_pem(cert))
        certs.write(f"{workdir}/b.key", certs.key_pem(key), 0o600)
        prosody = Prosody(workdir, pep_test.B, pep_test.ADDRESS[pep_test.B], f"{workdir}/b.crt", f"{workdir}/b.key",
                          self.ca_file, options={"modules_enabled": Prosody.MODULES + ["pep", "vcard_legacy"]})
        self.servers.append(prosody)
        prosody.start()
        prosody.register("bob", "bob pw")
        self.c2s_address[pep_test.B] = pep_test.ADDRESS[pep_test.B]
        alice = self.login(f"alice@{pep_test.A}/phone", "alice pw")
        bob = self.login(f"bob@{pep_test.B}/desk", "bob pw")
        self.befriend(alice, bob)
        for owner, reader, data in ((alice, bob, PHOTO), (bob, alice, OTHER_PHOTO)):
            with self.subTest(owner=owner.boundjid.bare):
                self.wait(owner["xep_0054"].publish_vcard(ET.fromstring(vcard_with_photo(data, "<FN>Someone</FN>")),
                                                          timeout=20), 25)
                got = self.vcard_of(reader, owner.boundjid.bare)
                self.assertEqual(got.findtext(q(NS_VCARD, "FN")), "Someone")
                self.assertEqual(base64.b64decode(got.findtext(q(NS_VCARD, "PHOTO/BINVAL"))), data)
                # The server puts the photo's hash in the owner's next presence (XEP-0153).
                mark = len(reader.inbox)
                owner.send_presence(pstatus="with a photo")

                async def hashed():
                    while True:
                        for p in reader.inbox[mark:]:
                            if p.xml.findtext(q(NS_CLIENT, "status")) == "with a photo":
                                return p.xml.findtext(q(NS_VCARD_UPDATE, "x/photo"))
                        await asyncio.sleep(0.05)
                self.assertEqual(self.wait(hashed(), 20), hashlib.sha1(data).hexdigest())


if __name__ == "__main__":
    harness.main()
