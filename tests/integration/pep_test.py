#!/usr/bin/env python3
"""PEP (XEP-0163) with real clients (Debian's python3-slixmpp: xep_0060, xep_0163, xep_0084,
xep_0115): avatars and OMEMO device lists and bundles published and delivered to the contacts
whose caps ask for them, access models, max_items, retraction, node configuration and deletion,
the limits; and across s2s with a real Prosody 0.12, both ways."""
import asyncio

import slixmpp
from slixmpp.exceptions import IqError

import certs
import harness
from federation_test import A, ADDRESS, B, FederationTest
from prosody import Prosody, fresh_workdir

DEVICELIST = "eu.siacs.conversations.axolotl.devicelist"
AXOLOTL = "eu.siacs.conversations.axolotl"
AVATAR_METADATA = "urn:xmpp:avatar:metadata"
LIST = "urn:xmppd:test:list"
PEP = 'modules_enabled = { "pep" }\n'
# Small limits, to be reached by a test.
LIMITS = "max_user_pep_nodes = 8\npep_max_items = 10\nmax_user_pep_bytes = 20000\n"


def devicelist(*ids):
    return slixmpp.ET.fromstring(f"<list xmlns='{AXOLOTL}'>" + "".join(f"<device id='{i}'/>" for i in ids) +
                                 "</list>")


def payload(text, ns=LIST):
    return slixmpp.ET.fromstring(f"<entry xmlns='{ns}'>{text}</entry>")


class PepClient(slixmpp.ClientXMPP):
    """A client whose caps say which nodes it wants (+notify), and which keeps every pubsub
    event it gets."""

    def __init__(self, jid, password, ca_file, interests=(AVATAR_METADATA, DEVICELIST, LIST), plugins=()):
        super().__init__(jid, password)
        self.ca_certs = ca_file
        # All before the login: a plugin registered later changes the caps a server may be
        # asking about.
        for plugin in ("xep_0030", "xep_0004", "xep_0060", "xep_0115", "xep_0163", "xep_0084", *plugins):
            self.register_plugin(plugin)
        self.interests = interests
        # Set once the client answered a server's disco#info query about its caps.
        self.caps_answered = asyncio.Event()
        self.add_filter("out", self._outgoing)
        self.outcome = asyncio.get_event_loop().create_future()
        self.events = asyncio.Queue()
        self.messages = asyncio.Queue()
        self.add_event_handler("session_start", self._started)
        self.add_event_handler("no_auth", lambda _: self._settle("failed_auth"))
        for kind in ("publish", "retract", "delete"):
            self.add_event_handler(f"pubsub_{kind}", lambda m, kind=kind: self.events.put_nowait((kind, m)))

    def _outgoing(self, stanza):
        query = stanza.xml.find("{http://jabber.org/protocol/disco#info}query")
        if stanza.xml.tag == "{jabber:client}iq" and query is not None and "#" in query.get("node", ""):
            self.caps_answered.set()
        return stanza

    def _settle(self, value):
        if not self.outcome.done():
            self.outcome.set_result(value)

    async def _started(self, _):
        for ns in self.interests:
            self["xep_0030"].add_feature(f"{ns}+notify")
        await self["xep_0115"].update_caps(broadcast=False)
        self.send_presence()
        self._settle("session")

    def options(self, **fields):
        form = self["xep_0004"].make_form("submit")
        form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#publish-options")
        for var, value in fields.items():
            form.add_field(var=f"pubsub#{var}", value=value)
        return form


class PepBase(FederationTest):
    def pep_login(self, jid, password, **kwargs):
        client = PepClient(jid, password, self.ca_file, **kwargs)
        self.clients.append(client)
        domain = jid.split("@")[1].split("/")[0]
        client.connect((self.c2s_address.get(domain), 5222))
        self.assertEqual(self.loop.run_until_complete(asyncio.wait_for(client.outcome, 20)), "session")
        return client

    def wait(self, coroutine, timeout=20):
        return self.loop.run_until_complete(asyncio.wait_for(coroutine, timeout))

    def befriend(self, one, other):
        """A subscription both ways between two logged-in clients (slixmpp approves requests
        and asks back by itself)."""
        one.send_presence(pto=other.boundjid.bare, ptype="subscribe")

        async def both():
            while True:
                await asyncio.sleep(0.3)
                ok = True
                for client, contact in ((one, other), (other, one)):
                    roster = await client.get_roster()
                    items = roster["roster"]["items"]
                    ok = ok and contact.boundjid.bare in items and items[contact.boundjid.bare]["subscription"] == "both"
                if ok:
                    return
        self.wait(both(), 30)

    def event(self, client, node, kind="publish", timeout=20, publisher=None):
        """The next pubsub event of `node` (from `publisher`, a bare JID, if given) the client
        gets; others are skipped."""
        async def wait():
            while True:
                got, message = await client.events.get()
                if (message["pubsub_event"]["items"]["node"] == node and got == kind and
                        publisher in (None, message["from"].bare)):
                    return message
        return self.wait(wait(), timeout)

    def nothing(self, client, node, seconds=1.5):
        """No event of `node` reaches the client within `wait` seconds."""
        async def drain():
            await asyncio.sleep(seconds)
            while not client.events.empty():
                _, message = client.events.get_nowait()
                self.assertNotEqual(message["pubsub_event"]["items"]["node"], node)
        self.wait(drain())

    def error(self, coroutine):
        with self.assertRaises(IqError) as caught:
            self.wait(coroutine)
        iq = caught.exception.iq
        error = iq.xml.find("{jabber:client}error")

        def named(ns):
            return [c.tag.split("}")[1] for c in error if c.tag.startswith("{" + ns + "}") and not c.tag.endswith("}text")]
        # From the XML: slixmpp knows RFC 3920's conditions only (not policy-violation).
        app = named("http://jabber.org/protocol/pubsub#errors")
        return named("urn:ietf:params:xml:ns:xmpp-stanzas")[0], app[0] if app else None


class OneServer(PepBase):
    def setUp(self):
        super().setUp()
        self.a = self.start_xmppd(A, extra=PEP + LIMITS)
        for user in ("alice", "bob", "carol"):
            self.adduser(self.a, f"{user}@{A}", f"{user} pw")
        self.alice = self.pep_login(f"alice@{A}/phone", "alice pw")
        self.bob = self.pep_login(f"bob@{A}/desk", "bob pw")
        self.befriend(self.alice, self.bob)

    def test_avatar_published_and_notified_to_contacts_and_own_sessions(self):
        carol = self.pep_login(f"carol@{A}/laptop", "carol pw")  # no subscription
        data = b"\x89PNG not really an image"
        self.wait(self.alice["xep_0084"].publish_avatar(data))
        avatar_id = self.alice["xep_0084"].generate_id(data)
        self.wait(self.alice["xep_0084"].publish_avatar_metadata(
            [{"id": avatar_id, "type": "image/png", "bytes": len(data)}]))
        for client in (self.bob, self.alice):
            m = self.event(client, AVATAR_METADATA)
            self.assertEqual(str(m["from"]), f"alice@{A}")
            self.assertEqual(m["pubsub_event"]["items"]["item"]["id"], avatar_id)
        self.nothing(carol, AVATAR_METADATA)
        # The contact fetches the data, which nobody asked to be notified of.
        item = self.wait(self.bob["xep_0084"].retrieve_avatar(f"alice@{A}", avatar_id))
        self.assertEqual(item["pubsub"]["items"]["item"]["avatar_data"]["value"], data)
        # Presence access (the default): carol may not.
        condition, app = self.error(self.carol_items(carol, "urn:xmpp:avatar:data"))
        self.assertEqual((condition, app), ("not-authorized", "presence-subscription-required"))
        # A new session of a contact gets the last item when it becomes available.
        bob2 = self.pep_login(f"bob@{A}/phone", "bob pw")
        m = self.event(bob2, AVATAR_METADATA)
        self.assertEqual(m["pubsub_event"]["items"]["item"]["id"], avatar_id)
        # The account's disco lists the nodes the asker may see.
        items = self.wait(self.bob["xep_0030"].get_items(jid=f"alice@{A}"))
        self.assertIn((f"alice@{A}", AVATAR_METADATA, None), items["disco_items"]["items"])
        info = self.wait(self.alice["xep_0030"].get_info(jid=f"alice@{A}"))
        self.assertIn(("pubsub", "pep", None, None), info["disco_info"]["identities"])
        self.assertIn("http://jabber.org/protocol/pubsub#publish-options", info["disco_info"]["features"])

    def carol_items(self, carol, node):
        return carol["xep_0060"].get_items(f"alice@{A}", node)

    def test_omemo_device_list_and_open_bundle(self):
        carol = self.pep_login(f"carol@{A}/laptop", "carol pw")
        pubsub = self.alice["xep_0060"]
        self.wait(pubsub.publish(None, DEVICELIST, id="current", payload=devicelist(1234),
                                options=self.alice.options(access_model="open")))
        m = self.event(self.bob, DEVICELIST)
        self.assertEqual(m["pubsub_event"]["items"]["item"]["id"], "current")
        self.assertIn("1234", str(m))
        bundle = f"{AXOLOTL}.bundles:1234"
        self.wait(pubsub.publish(None, bundle, id="current", payload=payload("keys", AXOLOTL),
                                options=self.alice.options(access_model="open", max_items="max")))
        # Open: anyone may fetch the bundle, with or without a subscription.
        got = self.wait(carol["xep_0060"].get_items(f"alice@{A}", bundle))
        self.assertEqual(got["pubsub"]["items"]["item"]["id"], "current")
        # Publish-options that contradict the node's configuration: precondition-not-met
        # (XEP-0060 §7.1.5); the client reconfigures the node, then may publish.
        condition, app = self.error(pubsub.publish(None, bundle, id="current", payload=payload("keys 2", AXOLOTL),
                                                   options=self.alice.options(access_model="presence")))
        self.assertEqual((condition, app), ("conflict", "precondition-not-met"))
        config = self.wait(pubsub.get_node_config(None, bundle))
        values = config["pubsub_owner"]["configure"]["form"].get_values()
        self.assertEqual(values["pubsub#access_model"], "open")
        # A new device list replaces the old one (max_items 1) and is notified.
        self.wait(pubsub.publish(None, DEVICELIST, id="current", payload=devicelist(1234, 5678),
                                options=self.alice.options(access_model="open")))
        m = self.event(self.bob, DEVICELIST)
        self.assertIn("5678", str(m))
        got = self.wait(self.bob["xep_0060"].get_items(f"alice@{A}", DEVICELIST))
        self.assertEqual(len(got["pubsub"]["items"]), 1)

    def test_max_items_retract_configure_and_delete(self):
        pubsub = self.alice["xep_0060"]
        for i in range(5):
            self.wait(pubsub.publish(None, LIST, id=f"i{i}", payload=payload(str(i)),
                                    options=self.alice.options(max_items="3")))
            self.event(self.bob, LIST)
        got = self.wait(self.bob["xep_0060"].get_items(f"alice@{A}", LIST))
        self.assertEqual([i["id"] for i in got["pubsub"]["items"]], ["i2", "i3", "i4"])
        got = self.wait(self.bob["xep_0060"].get_items(f"alice@{A}", LIST, max_items=1))
        self.assertEqual([i["id"] for i in got["pubsub"]["items"]], ["i4"])
        got = self.wait(self.bob["xep_0060"].get_items(f"alice@{A}", LIST, item_ids=["i3"]))
        self.assertEqual([i["id"] for i in got["pubsub"]["items"]], ["i3"])
        # Retract, notified.
        self.wait(pubsub.retract(None, LIST, "i4", notify=True))
        m = self.event(self.bob, LIST, "retract")
        self.assertEqual(m["pubsub_event"]["items"]["retract"]["id"], "i4")
        # Only the owner publishes, retracts, configures.
        condition, _ = self.error(self.bob["xep_0060"].retract(f"alice@{A}", LIST, "i3"))
        self.assertEqual(condition, "forbidden")
        # Whitelist: the owner alone.
        form = self.alice["xep_0004"].make_form("submit")
        form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#node_config")
        form.add_field(var="pubsub#access_model", value="whitelist")
        form.add_field(var="pubsub#max_items", value="1")
        self.wait(pubsub.set_node_config(None, LIST, form))
        condition, app = self.error(self.bob["xep_0060"].get_items(f"alice@{A}", LIST))
        self.assertEqual((condition, app), ("not-allowed", "closed-node"))
        got = self.wait(pubsub.get_items(None, LIST))
        self.assertEqual([i["id"] for i in got["pubsub"]["items"]], ["i3"])  # max_items 1 kept the newest
        self.wait(pubsub.publish(None, LIST, id="secret", payload=payload("secret")))
        self.nothing(self.bob, LIST)
        # Purge: the items go, the node stays.
        self.wait(pubsub.purge(None, LIST))
        got = self.wait(pubsub.get_items(None, LIST))
        self.assertEqual(len(got["pubsub"]["items"]), 0)
        # Delete.
        self.wait(pubsub.delete_node(None, LIST))
        condition, _ = self.error(pubsub.get_items(None, LIST))
        self.assertEqual(condition, "item-not-found")

    def test_a_contact_who_blocked_the_publisher_gets_nothing(self):
        self.bob.register_plugin("xep_0191")
        self.wait(self.bob["xep_0191"].block([f"alice@{A}"]))
        self.wait(self.alice["xep_0060"].publish(None, LIST, id="hidden", payload=payload("not for bob")))
        self.event(self.alice, LIST)
        self.nothing(self.bob, LIST)
        self.wait(self.bob["xep_0191"].unblock([f"alice@{A}"]))
        self.wait(self.alice["xep_0060"].publish(None, LIST, id="seen", payload=payload("for bob")))
        self.assertEqual(self.event(self.bob, LIST)["pubsub_event"]["items"]["item"]["id"], "seen")

    def test_limits_and_bad_requests(self):
        pubsub = self.alice["xep_0060"]
        # More items than a node may keep (pep_max_items).
        condition, _ = self.error(pubsub.publish(None, LIST, payload=payload("x"),
                                                 options=self.alice.options(max_items="11")))
        self.assertEqual(condition, "not-acceptable")
        self.wait(pubsub.publish(None, LIST, payload=payload("x"), options=self.alice.options(max_items="max")))
        config = self.wait(pubsub.get_node_config(None, LIST))
        self.assertEqual(config["pubsub_owner"]["configure"]["form"].get_values()["pubsub#max_items"], "max")
        # More nodes than an account may have (max_user_pep_nodes): nothing of the publish kept.
        for i in range(1, 8):
            self.wait(pubsub.publish(None, f"{LIST}:{i}", payload=payload("x")))
        condition, app = self.error(pubsub.publish(None, f"{LIST}:8", payload=payload("x")))
        self.assertEqual((condition, app), ("resource-constraint", "max-nodes-exceeded"))
        condition, _ = self.error(pubsub.get_items(None, f"{LIST}:8"))
        self.assertEqual(condition, "item-not-found")
        # An item larger than all the account may keep; then items that together pass it.
        condition, app = self.error(pubsub.publish(None, LIST, payload=payload("y" * 21000)))
        self.assertEqual((condition, app), ("not-acceptable", "payload-too-big"))
        self.wait(pubsub.publish(None, LIST, id="big1", payload=payload("y" * 12000)))
        condition, _ = self.error(pubsub.publish(None, LIST, id="big2", payload=payload("y" * 12000)))
        self.assertEqual(condition, "resource-constraint")
        got = self.wait(pubsub.get_items(None, LIST))
        self.assertEqual([i["id"] for i in got["pubsub"]["items"]][-1], "big1")
        # Deleting a node frees its place.
        self.wait(pubsub.delete_node(None, f"{LIST}:1"))
        self.wait(pubsub.publish(None, f"{LIST}:8", payload=payload("x")))
        # An item without a payload.
        iq = self.alice.make_iq_set()
        iq.append(slixmpp.ET.fromstring("<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'>"
                                        "<item id='1'/></publish></pubsub>"))
        condition, app = self.error(iq.send())
        self.assertEqual((condition, app), ("bad-request", "payload-required"))


class WithProsody(PepBase):
    def start_prosody(self):
        workdir = fresh_workdir(self.workdir, "prosody")
        key, cert = self.ca.issue(B, "ec")
        certs.write(f"{workdir}/b.crt", certs.cert_pem(cert))
        certs.write(f"{workdir}/b.key", certs.key_pem(key), 0o600)
        prosody = Prosody(workdir, B, ADDRESS[B], f"{workdir}/b.crt", f"{workdir}/b.key", self.ca_file,
                          options={"modules_enabled": Prosody.MODULES + ["pep"]})
        self.servers.append(prosody)
        prosody.start()
        prosody.register("bob", "bob pw")
        self.c2s_address[B] = ADDRESS[B]
        return prosody

    def test_avatar_and_device_list_both_ways(self):
        a = self.start_xmppd(A, extra=PEP)
        self.adduser(a, f"alice@{A}", "alice pw")
        self.start_prosody()
        alice = self.pep_login(f"alice@{A}/phone", "alice pw")
        bob = self.pep_login(f"bob@{B}/desk", "bob pw")
        self.befriend(alice, bob)
        for publisher, reader in ((alice, bob), (bob, alice)):
            with self.subTest(publisher=str(publisher.boundjid)):
                self.wait(publisher["xep_0060"].publish(None, DEVICELIST, id="current", payload=devicelist(42),
                                                       options=publisher.options(access_model="open")))
                m = self.event(reader, DEVICELIST, timeout=30, publisher=publisher.boundjid.bare)
                self.assertEqual(str(m["from"]), publisher.boundjid.bare)
                self.assertIn("42", str(m))
                data = b"avatar of " + publisher.boundjid.bare.encode()
                avatar_id = publisher["xep_0084"].generate_id(data)
                self.wait(publisher["xep_0084"].publish_avatar(data))
                self.wait(publisher["xep_0084"].publish_avatar_metadata(
                    [{"id": avatar_id, "type": "image/png", "bytes": len(data)}]))
                m = self.event(reader, AVATAR_METADATA, timeout=30, publisher=publisher.boundjid.bare)
                self.assertEqual(m["pubsub_event"]["items"]["item"]["id"], avatar_id)
                item = self.wait(reader["xep_0084"].retrieve_avatar(publisher.boundjid.bare, avatar_id), 30)
                self.assertEqual(item["pubsub"]["items"]["item"]["avatar_data"]["value"], data)
        # A new client of the contact gets the last items when it comes online (XEP-0163 §4.3.3).
        for jid, password, contact in ((f"bob@{B}/laptop", "bob pw", f"alice@{A}"),
                                       (f"alice@{A}/laptop", "alice pw", f"bob@{B}")):
            with self.subTest(new_client=jid):
                client = self.pep_login(jid, password)
                m = self.event(client, DEVICELIST, timeout=30, publisher=contact)
                self.assertIn("42", str(m))


if __name__ == "__main__":
    harness.main()
