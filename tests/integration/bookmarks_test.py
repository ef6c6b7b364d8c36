#!/usr/bin/env python3
"""Bookmarks (XEP-0402) kept in sync with XEP-0048, as Prosody's mod_bookmarks does, with real
clients (Debian's python3-slixmpp): a change in private XML storage (XEP-0049), in the
XEP-0402 node or in the legacy PEP node storage:bookmarks is seen in the other two, and
notified to the user's clients that ask for it."""
import asyncio

import slixmpp

import harness
from federation_test import A
from pep_test import LIMITS, PEP, PepBase

NODE = "urn:xmpp:bookmarks:1"
LEGACY = "storage:bookmarks"
MUC = "rooms.a.test"


def conference(name, nick, autojoin=False):
    return slixmpp.ET.fromstring(f"<conference xmlns='{NODE}' name='{name}' autojoin='{str(autojoin).lower()}'>"
                                 f"<nick>{nick}</nick></conference>")


class Bookmarks(PepBase):
    def setUp(self):
        super().setUp()
        self.a = self.start_xmppd(A, extra=PEP + LIMITS)
        for user in ("alice", "bob"):
            self.adduser(self.a, f"alice@{A}" if user == "alice" else f"bob@{A}", f"{user} pw")
        # An older client (XEP-0048 in private storage) and a newer one (XEP-0402, +notify).
        plugins = ("xep_0049", "xep_0048", "xep_0223")
        self.old = self.pep_login(f"alice@{A}/old", "alice pw", interests=(), plugins=plugins)
        self.new = self.pep_login(f"alice@{A}/new", "alice pw", interests=(NODE,), plugins=plugins)
        # The server knows what the new client wants once it has asked (its caps are its own).
        self.wait(self.new.caps_answered.wait())
        self.wait(asyncio.sleep(0.3))

    def private(self):
        """The conferences of the user's private XEP-0048 storage: jid -> (name, nick, autojoin)."""
        result = self.wait(self.old["xep_0048"].get_bookmarks(method="xep_0049"))
        return {str(c["jid"]): (c["name"], c["nick"], c["autojoin"])
                for c in result["private"]["bookmarks"]["conferences"]}

    def node(self, node=NODE):
        got = self.wait(self.new["xep_0060"].get_items(None, node))
        return got["pubsub"]["items"]

    def bookmarks(self):
        """The XEP-0402 items: jid -> (name, nick, autojoin)."""
        out = {}
        for item in self.node():
            c = item.xml.find(f"{{{NODE}}}conference")
            nick = c.find(f"{{{NODE}}}nick")
            out[item["id"]] = (c.get("name"), nick.text if nick is not None else "", c.get("autojoin") == "true")
        return out

    def legacy(self):
        items = list(self.node(LEGACY))
        self.assertEqual([i["id"] for i in items], ["current"])
        storage = items[0].xml.find(f"{{{LEGACY}}}storage")
        return sorted(c.get("jid") for c in storage.findall(f"{{{LEGACY}}}conference"))

    def test_each_side_is_reflected_on_the_others(self):
        # XEP-0048 in private storage -> the XEP-0402 node, notified, and the legacy PEP node.
        storage = self.old["xep_0048"].stanza.Bookmarks()
        storage.add_conference(f"one@{MUC}", "alice", name="Room one", autojoin=True)
        storage.add_conference(f"two@{MUC}", "al", name="Room two", autojoin=False)
        self.wait(self.old["xep_0048"].set_bookmarks(storage, method="xep_0049"))
        ids = {self.event(self.new, NODE)["pubsub_event"]["items"]["item"]["id"] for _ in range(2)}
        self.assertEqual(ids, {f"one@{MUC}", f"two@{MUC}"})
        self.assertEqual(self.bookmarks(), {f"one@{MUC}": ("Room one", "alice", True),
                                            f"two@{MUC}": ("Room two", "al", False)})
        self.assertEqual(self.legacy(), [f"one@{MUC}", f"two@{MUC}"])
        # The node is the owner's alone, and keeps one item per conference (XEP-0402 §4).
        config = self.wait(self.new["xep_0060"].get_node_config(None, NODE))
        values = config["pubsub_owner"]["configure"]["form"].get_values()
        self.assertEqual((values["pubsub#access_model"], values["pubsub#max_items"]), ("whitelist", "max"))
        bob = self.pep_login(f"bob@{A}/desk", "bob pw", interests=())
        condition, app = self.error(bob["xep_0060"].get_items(f"alice@{A}", NODE))
        self.assertEqual((condition, app), ("not-allowed", "closed-node"))

        # The XEP-0402 client adds one, as it does (publish-options) -> private storage.
        form = self.new.options(access_model="whitelist", max_items="max", persist_items="true")
        form.add_field(var="pubsub#send_last_published_item", value="never")
        self.wait(self.new["xep_0060"].publish(None, NODE, id=f"three@{MUC}", payload=conference("Room 3", "ally"),
                                               options=form))
        self.assertEqual(self.private()[f"three@{MUC}"], ("Room 3", "ally", False))
        self.assertEqual(len(self.private()), 3)
        # ... and retracts one.
        self.wait(self.new["xep_0060"].retract(None, NODE, f"one@{MUC}", notify=True))
        self.assertEqual(sorted(self.private()), [f"three@{MUC}", f"two@{MUC}"])
        self.assertEqual(self.legacy(), [f"three@{MUC}", f"two@{MUC}"])

        # The legacy PEP node (XEP-0048 over XEP-0223) -> the XEP-0402 node and private storage.
        legacy = self.old["xep_0048"].stanza.Bookmarks()
        legacy.add_conference(f"two@{MUC}", "al", name="Room two", autojoin=True)
        self.wait(self.old["xep_0048"].set_bookmarks(legacy, method="xep_0223"))
        self.assertEqual(self.bookmarks(), {f"two@{MUC}": ("Room two", "al", True)})
        self.assertEqual(self.private(), {f"two@{MUC}": ("Room two", "al", True)})

    def test_an_account_without_bookmarks(self):
        self.assertEqual(self.private(), {})
        condition, _ = self.error(self.new["xep_0060"].get_items(None, NODE))
        self.assertEqual(condition, "item-not-found")
        info = self.wait(self.new["xep_0030"].get_info(jid=f"alice@{A}"))
        self.assertIn(f"{NODE}#compat", info["disco_info"]["features"])


if __name__ == "__main__":
    harness.main()
