#!/usr/bin/env python3
"""What every modern client asks of its server (issue 13), with a real client library
(Debian's python3-slixmpp 1.8.3): roster versioning and pre-approval, the server's entity
capabilities, carbons, the block list, private XML storage, PEP with its access models and
+notify, avatars and vCards, bookmarks, client state indication, time, uptime, version and
ping, contact addresses, in-band password change and account removal, and the per-user limits.

The test bodies are written once (ImTests) and run against one of two servers:
  - xmppd from the build tree (the default, what CI runs);
  - Prosody 0.12 (Debian's) with the modules of its default configuration, the reference
    that proves the tests right: XMPPD_IM_REFERENCE=prosody. A test of something Prosody
    lacks (a per-user limit, a namespace refusal) is marked xmppd-only with the reason.

Payloads are written out as XML in the tests, so that each test shows what goes on the wire;
slixmpp does the streams, TLS, SASL, caps and the +notify features.

Ordering without sleeps: a "barrier" is a ping from a client to its server. A server handles
one client's stanzas in order and writes to one client's stream in order, so when client A's
ping is answered, everything A sent before has been routed, and when client B's ping is
answered, everything routed to B before has reached B."""
import asyncio
import base64
import functools
import hashlib
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

import certs
import harness
from clients_test import ClientTest
from harness import basic_config
from prosody import Prosody, fresh_workdir

REFERENCE = os.environ.get("XMPPD_IM_REFERENCE", "xmppd")
HOST = "chat.test"
ADDRESS = "127.0.0.1"
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")
USERS = {"alice": "alice's secret", "bob": "bob's secret", "carol": "carol's secret"}
# The modules the issue names, Prosody's names, enabled on both servers.
MODULES = ["roster", "saslauth", "tls", "disco", "carbons", "blocklist", "private", "pep", "bookmarks",
           "vcard_legacy", "vcard4", "csi_simple", "time", "uptime", "version", "ping", "register",
           "server_contact_info"]
CONTACT_INFO = {"abuse": ["mailto:abuse@chat.test"], "admin": ["xmpp:admin@chat.test"]}
# Per-user limits for xmppd, small so that a test reaches them quickly (xmppd.conf(5)).
LIMITS = {"max_user_pep_nodes": 4, "max_user_pep_bytes": 16384, "max_user_private_bytes": 4096,
          "max_user_vcard_bytes": 8192, "max_blocklist_items": 3}

NS_CLIENT = "jabber:client"
NS_STREAM = "http://etherx.jabber.org/streams"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_PUBSUB_EVENT = "http://jabber.org/protocol/pubsub#event"
NS_PUBSUB_ERRORS = "http://jabber.org/protocol/pubsub#errors"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_CAPS = "http://jabber.org/protocol/caps"
NS_DATA = "jabber:x:data"
NS_CARBONS = "urn:xmpp:carbons:2"
NS_FORWARD = "urn:xmpp:forward:0"
NS_BLOCKING = "urn:xmpp:blocking"
NS_PRIVATE = "jabber:iq:private"
NS_AVATAR_DATA = "urn:xmpp:avatar:data"
NS_AVATAR_METADATA = "urn:xmpp:avatar:metadata"
NS_VCARD = "vcard-temp"
NS_VCARD_UPDATE = "vcard-temp:x:update"
NS_BOOKMARKS2 = "urn:xmpp:bookmarks:1"
NS_BOOKMARKS_LEGACY = "storage:bookmarks"
TEST_NODE = "urn:xmppd:test:mood"  # a PEP node whose +notify the clients choose
# A 1x1 PNG, the avatar.
AVATAR = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def q(ns, path):
    """An ElementTree path with every step in namespace ns: q(NS, "a/b") -> "{NS}a/{NS}b"."""
    return "/".join(f"{{{ns}}}{step}" for step in path.split("/"))


def xml(text):
    return ET.fromstring(text)


def form(fields, form_type=None, kind="submit"):
    """A XEP-0004 form as XML text: {var: value or [values]}."""
    rows = []
    if form_type:
        rows.append(f"<field var='FORM_TYPE' type='hidden'><value>{form_type}</value></field>")
    for var, values in fields.items():
        values = values if isinstance(values, (list, tuple)) else [values]
        rows.append(f"<field var='{var}'>" + "".join(f"<value>{v}</value>" for v in values) + "</field>")
    return f"<x xmlns='{NS_DATA}' type='{kind}'>{''.join(rows)}</x>"


PUBLISH_OPTIONS_FORM = "http://jabber.org/protocol/pubsub#publish-options"


def publish(node, item_id, payload, options=None):
    """A XEP-0060 publish (with publish-options when given) as XML text."""
    opts = ""
    if options:
        opts = f"<publish-options>{form(options, PUBLISH_OPTIONS_FORM)}</publish-options>"
    item_id_attr = f" id='{item_id}'" if item_id else ""
    return (f"<pubsub xmlns='{NS_PUBSUB}'><publish node='{node}'><item{item_id_attr}>{payload}</item>"
            f"</publish>{opts}</pubsub>")


def mood(text):
    return f"<mood xmlns='{TEST_NODE}'><text>{text}</text></mood>"


def caps_ver(query):
    """The XEP-0115 §5.1 verification string of a disco#info <query/> (sha-1), forms included."""
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    identities = sorted((i.get("category", ""), i.get("type", ""), i.get(lang, ""), i.get("name", ""))
                        for i in query.findall(q(NS_DISCO_INFO, "identity")))
    s = "".join("/".join(identity) + "<" for identity in identities)
    s += "".join(f + "<" for f in sorted(f.get("var") for f in query.findall(q(NS_DISCO_INFO, "feature"))))
    forms = []
    for x in query.findall(q(NS_DATA, "x")):
        fields = {f.get("var"): sorted(v.text or "" for v in f.findall(q(NS_DATA, "value")))
                  for f in x.findall(q(NS_DATA, "field"))}
        form_type = fields.pop("FORM_TYPE", [""])[0]
        forms.append((form_type, sorted(fields.items())))
    for form_type, fields in sorted(forms):
        s += form_type + "<"
        for var, values in fields:
            s += var + "<" + "".join(v + "<" for v in values)
    return base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()


def xmppd_only(reason):
    """For behaviour that Prosody 0.12 lacks: the test runs against xmppd only."""
    def decorate(test):
        @functools.wraps(test)
        def run(self):
            if self.SERVER != "xmppd":
                self.skipTest(f"xmppd only: {reason}")
            return test(self)
        return run
    return decorate


class ImClient(slixmpp.ClientXMPP):
    """A client that records every message and presence it gets, in order (inbox), and every
    stream features element (features). interests: the PEP nodes it asks +notify for, in its
    caps, before its initial presence (none when presence=False)."""

    def __init__(self, jid, password, ca_file, interests=(), presence=True):
        # A named mechanism, so that a refusal is final: slixmpp otherwise tries a -PLUS one
        # first and falls back after its failure (clients_test.py). SCRAM-SHA-1: the one that
        # Prosody 0.12 (internal_hashed) offers too.
        super().__init__(jid, password, sasl_mech="SCRAM-SHA-1")
        self.ca_certs = ca_file
        for plugin in ("xep_0030", "xep_0115", "xep_0060", "xep_0163", "xep_0297", "xep_0280", "xep_0199"):
            self.register_plugin(plugin)
        self.interests = list(interests)
        self.initial_presence = presence
        self.outcome = asyncio.get_event_loop().create_future()
        self.inbox = []
        self.stream_features = []
        self.closed = asyncio.get_event_loop().create_future()
        self.register_handler(Callback("im features", MatchXPath(f"{{{NS_STREAM}}}features"),
                                       lambda s: self.stream_features.append(s.xml)))
        self.register_handler(Callback("im messages", MatchXPath(f"{{{NS_CLIENT}}}message"), self.inbox.append))
        self.register_handler(Callback("im presences", MatchXPath(f"{{{NS_CLIENT}}}presence"), self.inbox.append))
        self.add_event_handler("session_start", self._started)
        self.add_event_handler("failed_auth", lambda _: self._settle("failed_auth"))
        self.add_event_handler("no_auth", lambda _: self._settle("failed_auth"))
        self.add_event_handler("stream_error", lambda e: self._settle(f"stream_error {e['condition']}"))
        self.add_event_handler("disconnected", lambda _: self.closed.done() or self.closed.set_result(True))

    def _settle(self, value):
        if not self.outcome.done():
            self.outcome.set_result(value)

    async def _started(self, _):
        for ns in self.interests:
            self["xep_0030"].add_feature(f"{ns}+notify")
        await self["xep_0115"].update_caps(broadcast=False)
        # As real clients do: a resource that asked for the roster gets roster pushes and
        # subscription presences (RFC 6121 §2.1.6, an "interested resource").
        await self.get_roster()
        if self.initial_presence:
            self.send_presence()
        self._settle("session")


def presence_from(jid, kind="available"):
    def match(s):
        # slixmpp's s["type"] gives <show/> for an available presence: read the attribute.
        return s.name == "presence" and str(s["from"]) == jid and s.xml.get("type", "available") == kind
    return match


def message_with_body(body):
    return lambda s: s.name == "message" and s["body"] == body


def pep_event(node, publisher=None):
    """A PEP notification of node (from publisher's bare JID, when given)."""
    def match(s):
        return (s.name == "message" and s.xml.find(f"{q(NS_PUBSUB_EVENT, 'event/items')}[@node='{node}']") is not None
                and (publisher is None or str(s["from"]) == publisher))
    return match


class ImTests:
    """The test bodies, for a concrete class that also derives from ClientTest and defines
    SERVER, start_server() and adduser()."""
    SERVER = None

    def setUp(self):
        super().setUp()
        key, cert = self.ca.issue(HOST, "ec")
        self.cert_file, self.key_file = f"{self.workdir}/{HOST}.crt", f"{self.workdir}/{HOST}.key"
        certs.write(self.cert_file, certs.cert_pem(cert))
        certs.write(self.key_file, certs.key_pem(key), 0o600)
        try:
            self.start_server()
            for user, password in USERS.items():
                self.adduser(user, password)
        except BaseException:
            # tearDown is not called after a failed setUp: stop the server here, with its log.
            for server in self.servers:
                sys.stderr.write(f"--- log of {server.config} ---\n{server.log()}\n")
            self.tearDown()
            raise

    # --- clients ---

    def wait(self, awaitable, timeout=10):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def connect(self, user, resource="phone", interests=(), presence=True, password=None):
        client = ImClient(f"{user}@{HOST}/{resource}", password or USERS[user], self.ca_file, interests, presence)
        self.clients.append(client)
        client.connect((ADDRESS, 5222))
        return client, self.wait(client.outcome, 20)

    def login(self, user, resource="phone", interests=(), presence=True):
        client, outcome = self.connect(user, resource, interests, presence)
        self.assertEqual(outcome, "session", f"login of {user}")
        return client

    def iq(self, client, itype, payload=None, to=None, timeout=10):
        """Sends an iq with payload (XML text); returns the result stanza, raises IqError."""
        iq = client.make_iq(itype=itype, ito=to)
        if payload:
            iq.append(xml(payload))
        return self.wait(iq.send(timeout=timeout), timeout + 2)

    def iq_error(self, client, itype, payload=None, to=None):
        """Sends an iq that must fail; returns its <error/> element."""
        with self.assertRaises(IqError, msg=f"an error for {payload}") as refused:
            self.iq(client, itype, payload, to)
        return refused.exception.iq.xml.find(q(NS_CLIENT, "error"))

    def condition(self, error):
        return next((c.tag.split("}")[1] for c in error if c.tag.startswith(f"{{{NS_STANZAS}}}")
                     and not c.tag.endswith("}text")), None)

    def send(self, client, text):
        client.send_raw(text)

    def barrier(self, *clients):
        """Each client in turn pings the server and waits for the answer (module docstring)."""
        for client in clients:
            self.iq(client, "get", "<ping xmlns='urn:xmpp:ping'/>", to=HOST)

    def wait_stanza(self, client, predicate, since=0, timeout=10, what="stanza"):
        async def waiting():
            while True:
                for stanza in client.inbox[since:]:
                    if predicate(stanza):
                        return stanza
                await asyncio.sleep(0.02)
        try:
            return self.wait(waiting(), timeout)
        except asyncio.TimeoutError:
            self.fail(f"{client.boundjid} got no {what} in {timeout}s; it got:\n" +
                      "\n".join(str(s) for s in client.inbox[since:]))

    def none_of(self, client, predicate, since=0, what="stanza"):
        got = [str(s) for s in client.inbox[since:] if predicate(s)]
        self.assertEqual(got, [], f"{client.boundjid} got a {what}")

    def make_contacts(self, a, b):
        """Mutual presence subscription between two logged-in clients (slixmpp approves and
        subscribes back by itself); waits until each has the other's presence."""
        a_mark, b_mark = len(a.inbox), len(b.inbox)
        a.send_presence(pto=b.boundjid.bare, ptype="subscribe")
        self.wait_stanza(a, presence_from(str(b.boundjid)), a_mark, what=f"presence of {b.boundjid}")
        self.wait_stanza(b, presence_from(str(a.boundjid)), b_mark, what=f"presence of {a.boundjid}")

    def roster(self, client):
        """jid -> the item's attributes, from a fresh roster get."""
        result = self.iq(client, "get", "<query xmlns='jabber:iq:roster'/>")
        return {i.get("jid"): dict(i.attrib) for i in result.xml.findall(q("jabber:iq:roster", "query/item"))}

    def items(self, client, owner, node, max_items=None):
        """The items of owner's PEP node: [(id, payload element)]."""
        limit = f" max_items='{max_items}'" if max_items else ""
        result = self.iq(client, "get", f"<pubsub xmlns='{NS_PUBSUB}'><items node='{node}'{limit}/></pubsub>", to=owner)
        return [(i.get("id"), next(iter(i), None)) for i in result.xml.findall(q(NS_PUBSUB, "pubsub/items/item"))]

    def item_ids(self, client, owner, node, max_items=None):
        return [item_id for item_id, _ in self.items(client, owner, node, max_items)]

    def last_features(self, client):
        return client.stream_features[-1]

    # --- roster ---

    def test_roster_versioning_is_a_stream_feature(self):
        alice = self.login("alice")
        self.assertIsNotNone(self.last_features(alice).find(q("urn:xmpp:features:rosterver", "ver")),
                             ET.tostring(self.last_features(alice)))
        result = self.iq(alice, "get", "<query xmlns='jabber:iq:roster' ver=''/>")
        version = result.xml.find(q("jabber:iq:roster", "query")).get("ver")
        self.assertTrue(version, "a roster result with a version")
        # Asked with the current version: an empty result, the client's copy is current.
        result = self.iq(alice, "get", f"<query xmlns='jabber:iq:roster' ver='{version}'/>")
        self.assertEqual(result.xml.findall(q("jabber:iq:roster", "query/item")), [])

    def test_subscription_pre_approval(self):
        alice, bob = self.login("alice"), self.login("bob")
        self.assertIsNotNone(self.last_features(alice).find(q("urn:xmpp:features:pre-approval", "sub")))
        alice.auto_authorize = None  # answers nothing by hand: only the server can approve
        alice.send_presence(pto=f"bob@{HOST}", ptype="subscribed")  # before Bob asks: a pre-approval
        self.barrier(alice)
        item = self.roster(alice)[f"bob@{HOST}"]
        if self.SERVER == "xmppd":  # RFC 6121 §3.4.1: approved='true' (Prosody 0.12 does not show it)
            self.assertEqual(item.get("approved"), "true")
        mark = len(alice.inbox)
        bob.send_presence(pto=f"alice@{HOST}", ptype="subscribe")
        self.wait_stanza(bob, lambda s: s.name == "presence" and s["type"] == "subscribed"
                         and s["from"].bare == f"alice@{HOST}", what="the server's approval")
        self.assertEqual(self.roster(alice)[f"bob@{HOST}"]["subscription"], "from")
        self.assertEqual(self.roster(bob)[f"alice@{HOST}"]["subscription"], "to")
        self.barrier(bob, alice)
        self.none_of(alice, lambda s: s.name == "presence" and s["type"] == "subscribe", mark,
                     "subscription request that was pre-approved")

    # --- disco and caps ---

    def test_server_caps_in_stream_features_match_its_disco(self):
        alice = self.login("alice")
        c = self.last_features(alice).find(q(NS_CAPS, "c"))
        self.assertIsNotNone(c, ET.tostring(self.last_features(alice)))
        self.assertEqual(c.get("hash"), "sha-1")
        self.assertTrue(c.get("node"))
        info = self.iq(alice, "get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=HOST)
        self.assertEqual(c.get("ver"), caps_ver(info.xml.find(q(NS_DISCO_INFO, "query"))))
        # The node#ver query answers the same.
        same = self.iq(alice, "get", f"<query xmlns='{NS_DISCO_INFO}' node='{c.get('node')}#{c.get('ver')}'/>", to=HOST)
        self.assertEqual(caps_ver(same.xml.find(q(NS_DISCO_INFO, "query"))), c.get("ver"))

    def test_server_disco_lists_the_modules_features(self):
        alice = self.login("alice")
        info = self.iq(alice, "get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=HOST)
        features = {f.get("var") for f in info.xml.findall(q(NS_DISCO_INFO, "query/feature"))}
        for feature in (NS_CARBONS, NS_BLOCKING, NS_PRIVATE, "urn:xmpp:time", "jabber:iq:last", "jabber:iq:version",
                        "urn:xmpp:ping"):
            self.assertIn(feature, features)
        account = self.iq(alice, "get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=f"alice@{HOST}")
        identities = {(i.get("category"), i.get("type")) for i in account.xml.findall(q(NS_DISCO_INFO, "query/identity"))}
        self.assertIn(("pubsub", "pep"), identities)
        account_features = {f.get("var") for f in account.xml.findall(q(NS_DISCO_INFO, "query/feature"))}
        self.assertIn(f"{NS_PUBSUB}#publish-options", account_features)
        self.assertIn(NS_BOOKMARKS2 + "#compat", account_features)

    def test_contact_addresses_in_server_disco(self):
        alice = self.login("alice")
        info = self.iq(alice, "get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=HOST)
        forms = info.xml.findall(q(NS_DISCO_INFO, "query") + "/" + q(NS_DATA, "x"))
        serverinfo = [x for x in forms if any(v.text == "http://jabber.org/network/serverinfo"
                                              for v in x.findall(q(NS_DATA, "field/value")))]
        self.assertEqual(len(serverinfo), 1, ET.tostring(info.xml))
        fields = {f.get("var"): [v.text for v in f.findall(q(NS_DATA, "value"))]
                  for f in serverinfo[0].findall(q(NS_DATA, "field"))}
        self.assertEqual(fields["abuse-addresses"], CONTACT_INFO["abuse"])
        self.assertEqual(fields["admin-addresses"], CONTACT_INFO["admin"])

    # --- carbons ---

    def carbons_pair(self):
        phone, laptop = self.login("alice", "phone"), self.login("alice", "laptop")
        bob = self.login("bob", "desk")
        for client in (phone, laptop):
            self.iq(client, "set", f"<enable xmlns='{NS_CARBONS}'/>")
        return phone, laptop, bob

    def carbon(self, kind, body):
        """A carbon copy (received or sent) of a message with this body."""
        def match(s):
            forwarded = s.xml.find(f"{q(NS_CARBONS, kind)}/{q(NS_FORWARD, 'forwarded')}/{q(NS_CLIENT, 'message')}")
            return (s.name == "message" and forwarded is not None
                    and forwarded.findtext(q(NS_CLIENT, "body")) == body)
        return match

    def chat(self, sender, to, body, extra=""):
        self.send(sender, f"<message xmlns='jabber:client' to='{to}' type='chat' id='{body.replace(' ', '-')}'>"
                          f"<body>{body}</body>{extra}</message>")

    def test_carbons_copy_messages_to_the_other_resources(self):
        phone, laptop, bob = self.carbons_pair()
        self.chat(bob, f"alice@{HOST}/phone", "to the phone")
        copy = self.wait_stanza(laptop, self.carbon("received", "to the phone"), what="received carbon")
        self.assertEqual(str(copy["from"]), f"alice@{HOST}")
        self.wait_stanza(phone, message_with_body("to the phone"))
        self.chat(phone, f"bob@{HOST}/desk", "from the phone")
        copy = self.wait_stanza(laptop, self.carbon("sent", "from the phone"), what="sent carbon")
        self.assertEqual(str(copy["from"]), f"alice@{HOST}")
        self.wait_stanza(bob, message_with_body("from the phone"))
        # The sender gets no copy of its own message.
        self.barrier(phone)
        self.none_of(phone, self.carbon("sent", "from the phone"))

    def test_carbons_honour_private_and_no_copy_hints(self):
        phone, laptop, bob = self.carbons_pair()
        self.chat(phone, f"bob@{HOST}/desk", "private sent", f"<private xmlns='{NS_CARBONS}'/>")
        self.chat(phone, f"bob@{HOST}/desk", "no-copy sent", "<no-copy xmlns='urn:xmpp:hints'/>")
        self.chat(bob, f"alice@{HOST}/phone", "private received", f"<private xmlns='{NS_CARBONS}'/>")
        self.chat(bob, f"alice@{HOST}/phone", "no-copy received", "<no-copy xmlns='urn:xmpp:hints'/>")
        for body in ("private sent", "no-copy sent"):
            self.wait_stanza(bob, message_with_body(body))
        for body in ("private received", "no-copy received"):
            self.wait_stanza(phone, message_with_body(body))
        self.chat(bob, f"alice@{HOST}/phone", "copied")
        self.wait_stanza(laptop, self.carbon("received", "copied"))
        for kind in ("sent", "received"):
            for hint in ("private", "no-copy"):
                self.none_of(laptop, self.carbon(kind, f"{hint} {kind}"), what=f"carbon of a {hint} message")

    def test_carbons_only_after_enable(self):
        phone, laptop, bob = self.carbons_pair()
        self.iq(laptop, "set", f"<disable xmlns='{NS_CARBONS}'/>")
        self.chat(bob, f"alice@{HOST}/phone", "not copied")
        self.wait_stanza(phone, message_with_body("not copied"))
        self.barrier(bob, laptop)
        self.none_of(laptop, self.carbon("received", "not copied"))

    # --- block list ---

    def blocklist(self, client):
        result = self.iq(client, "get", f"<blocklist xmlns='{NS_BLOCKING}'/>")
        return sorted(i.get("jid") for i in result.xml.findall(q(NS_BLOCKING, "blocklist/item")))

    def test_block_list_and_unblock(self):
        alice = self.login("alice")
        self.assertEqual(self.blocklist(alice), [])
        self.iq(alice, "set", f"<block xmlns='{NS_BLOCKING}'><item jid='bob@{HOST}'/><item jid='spam.example'/></block>")
        self.assertEqual(self.blocklist(alice), [f"bob@{HOST}", "spam.example"])
        self.iq(alice, "set", f"<unblock xmlns='{NS_BLOCKING}'><item jid='bob@{HOST}'/></unblock>")
        self.assertEqual(self.blocklist(alice), ["spam.example"])
        self.iq(alice, "set", f"<unblock xmlns='{NS_BLOCKING}'/>")  # no item: everything
        self.assertEqual(self.blocklist(alice), [])
        error = self.iq_error(alice, "set", f"<block xmlns='{NS_BLOCKING}'/>")
        self.assertEqual(self.condition(error), "bad-request")

    def test_block_pushed_to_the_other_resources(self):
        phone, laptop = self.login("alice", "phone"), self.login("alice", "laptop")
        self.blocklist(laptop)  # a resource that asked for the list gets the pushes
        self.iq(phone, "set", f"<block xmlns='{NS_BLOCKING}'><item jid='bob@{HOST}'/></block>")
        self.assertEqual(self.blocklist(laptop), [f"bob@{HOST}"])

    def test_blocked_contact_gets_nothing_back(self):
        alice, bob = self.login("alice"), self.login("bob", "desk")
        self.make_contacts(alice, bob)
        bob_mark = len(bob.inbox)
        self.iq(alice, "set", f"<block xmlns='{NS_BLOCKING}'><item jid='bob@{HOST}'/></block>")
        # Blocking a contact looks to him as if the user went offline.
        self.wait_stanza(bob, presence_from(f"alice@{HOST}/phone", "unavailable"), bob_mark)
        alice_mark, bob_mark = len(alice.inbox), len(bob.inbox)
        self.chat(bob, f"alice@{HOST}/phone", "to the full JID")
        bob.send_presence(pstatus="hidden presence")
        bob.send_presence(pto=f"alice@{HOST}", ptype="probe")
        self.send(bob, f"<presence xmlns='jabber:client' to='alice@{HOST}/phone'/>")
        self.chat(bob, f"alice@{HOST}", "to the bare JID")
        self.barrier(bob, alice)
        self.none_of(alice, lambda s: s["from"].bare == f"bob@{HOST}", alice_mark, "stanza from a blocked JID")
        self.none_of(bob, lambda s: s["from"].bare == f"alice@{HOST}" and s.name == "presence", bob_mark,
                     "presence of a user who blocked him")
        # Nothing that tells apart "blocked" from "offline": no error, or the error an absent
        # user gives.
        for stanza in bob.inbox[bob_mark:]:
            if stanza["from"].bare == f"alice@{HOST}":
                self.assertEqual((stanza.name, stanza["type"], stanza["error"]["condition"]),
                                 ("message", "error", "service-unavailable"), str(stanza))
                self.assertIsNone(stanza.xml.find(f"{q(NS_CLIENT, 'error')}/{{urn:xmpp:blocking:errors}}blocked"))
                self.assertIsNone(stanza.xml.find(f"{q(NS_CLIENT, 'error')}/{{{NS_STANZAS}}}text"))

    def test_messages_to_a_blocked_jid_are_refused(self):
        alice = self.login("alice")
        self.iq(alice, "set", f"<block xmlns='{NS_BLOCKING}'><item jid='bob@{HOST}'/></block>")
        bob = self.login("bob", "desk")
        self.chat(alice, f"bob@{HOST}/desk", "to someone I blocked")
        error = self.wait_stanza(alice, lambda s: s.name == "message" and s["type"] == "error",
                                 what="an error for a message to a blocked JID")
        self.assertEqual(error["error"]["condition"], "not-acceptable")
        self.assertIsNotNone(error.xml.find(f"{q(NS_CLIENT, 'error')}/{{urn:xmpp:blocking:errors}}blocked"))
        self.barrier(alice, bob)
        self.none_of(bob, message_with_body("to someone I blocked"))

    def test_spam_report_with_a_block_is_accepted(self):
        alice = self.login("alice")
        self.iq(alice, "set", f"<block xmlns='{NS_BLOCKING}'><item jid='spammer@{HOST}'>"
                              "<report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'>"
                              "<text xmlns='urn:xmpp:reporting:1'>buy now</text></report></item></block>")
        self.assertEqual(self.blocklist(alice), [f"spammer@{HOST}"])

    # --- private XML storage ---

    def private_get(self, client, element, to=None):
        result = self.iq(client, "get", f"<query xmlns='{NS_PRIVATE}'>{element}</query>", to=to)
        query = result.xml.find(q(NS_PRIVATE, "query"))
        self.assertEqual(len(query), 1, ET.tostring(result.xml))
        return query[0]

    def test_private_xml_storage_set_and_get(self):
        alice = self.login("alice")
        self.assertEqual(len(self.private_get(alice, "<prefs xmlns='urn:xmppd:test:prefs'/>")), 0)
        self.iq(alice, "set", f"<query xmlns='{NS_PRIVATE}'><prefs xmlns='urn:xmppd:test:prefs'>"
                              "<colour>blue</colour></prefs></query>")
        prefs = self.private_get(alice, "<prefs xmlns='urn:xmppd:test:prefs'/>")
        self.assertEqual(prefs.findtext("{urn:xmppd:test:prefs}colour"), "blue")
        # Another session of the same account sees it; so does the next login.
        laptop = self.login("alice", "laptop")
        prefs = self.private_get(laptop, "<prefs xmlns='urn:xmppd:test:prefs'/>")
        self.assertEqual(prefs.findtext("{urn:xmppd:test:prefs}colour"), "blue")
        # Two elements of different namespaces in one query: refused, as Prosody does (bad-format)
        # and xmppd (bad-request); nothing of it is kept.
        two = f"<query xmlns='{NS_PRIVATE}'><a xmlns='urn:a'>1</a><b xmlns='urn:b'>2</b></query>"
        self.assertIn(self.condition(self.iq_error(alice, "set", two)), ("bad-format", "bad-request"))
        self.assertEqual(len(self.private_get(alice, "<a xmlns='urn:a'/>")), 0)

    def test_private_xml_of_another_user_is_not_given(self):
        alice, bob = self.login("alice"), self.login("bob")
        self.iq(alice, "set", f"<query xmlns='{NS_PRIVATE}'><prefs xmlns='urn:xmppd:test:prefs'>"
                              "<colour>secret</colour></prefs></query>")
        error = self.iq_error(bob, "get", f"<query xmlns='{NS_PRIVATE}'><prefs xmlns='urn:xmppd:test:prefs'/></query>",
                              to=f"alice@{HOST}")
        self.assertIn(self.condition(error), ("forbidden", "service-unavailable"))
        self.assertNotIn(b"secret", ET.tostring(error))
        self.iq_error(bob, "set", f"<query xmlns='{NS_PRIVATE}'><prefs xmlns='urn:xmppd:test:prefs'>"
                                  "<colour>overwritten</colour></prefs></query>", to=f"alice@{HOST}")
        self.assertEqual(len(self.private_get(bob, "<prefs xmlns='urn:xmppd:test:prefs'/>")), 0)
        prefs = self.private_get(alice, "<prefs xmlns='urn:xmppd:test:prefs'/>")
        self.assertEqual(prefs.findtext("{urn:xmppd:test:prefs}colour"), "secret")

    @xmppd_only("Prosody 0.12's mod_private stores any namespace")
    def test_private_xml_refuses_reserved_namespaces(self):
        alice = self.login("alice")
        for ns in ("jabber:client", "jabber:server", "jabber:iq:private"):
            with self.subTest(ns=ns):
                error = self.iq_error(alice, "set", f"<query xmlns='{NS_PRIVATE}'><x xmlns='{ns}'/></query>")
                self.assertEqual(self.condition(error), "not-acceptable")

    # --- PEP ---

    def test_pep_publish_items_and_retract(self):
        alice = self.login("alice")
        # PEP nodes keep one item unless configured otherwise (Prosody's default).
        self.iq(alice, "set", publish(TEST_NODE, "one", mood("happy"), {"pubsub#max_items": "10"}))
        result = self.iq(alice, "set", publish(TEST_NODE, None, mood("sad"), {"pubsub#max_items": "10"}))
        generated = result.xml.find(q(NS_PUBSUB, "pubsub/publish/item"))
        self.assertIsNotNone(generated, "the result names the id the service chose")
        ids = self.item_ids(alice, f"alice@{HOST}", TEST_NODE)
        self.assertEqual(sorted(ids), sorted(["one", generated.get("id")]))
        payloads = dict(self.items(alice, f"alice@{HOST}", TEST_NODE))
        self.assertEqual(payloads["one"].findtext(q(TEST_NODE, "text")), "happy")
        self.iq(alice, "set", f"<pubsub xmlns='{NS_PUBSUB}'><retract node='{TEST_NODE}'><item id='one'/></retract></pubsub>")
        self.assertEqual(self.item_ids(alice, f"alice@{HOST}", TEST_NODE), [generated.get("id")])
        # Persistent: a new session (and the deletion of the node) sees it.
        laptop = self.login("alice", "laptop")
        self.assertEqual(self.item_ids(laptop, f"alice@{HOST}", TEST_NODE), [generated.get("id")])
        self.iq(alice, "set", f"<pubsub xmlns='{NS_PUBSUB}#owner'><delete node='{TEST_NODE}'/></pubsub>")
        error = self.iq_error(alice, "get", f"<pubsub xmlns='{NS_PUBSUB}'><items node='{TEST_NODE}'/></pubsub>",
                              to=f"alice@{HOST}")
        self.assertEqual(self.condition(error), "item-not-found")

    def test_pep_max_items_keeps_the_newest(self):
        alice = self.login("alice")
        for n in range(4):
            self.iq(alice, "set", publish(TEST_NODE, f"i{n}", mood(n), {"pubsub#max_items": "2"}))
        self.assertEqual(sorted(self.item_ids(alice, f"alice@{HOST}", TEST_NODE)), ["i2", "i3"])
        self.assertEqual(self.item_ids(alice, f"alice@{HOST}", TEST_NODE, max_items=1), ["i3"])

    def test_pep_publish_options_precondition(self):
        alice = self.login("alice")
        self.iq(alice, "set", publish(TEST_NODE, "a", mood("x"), {"pubsub#access_model": "presence"}))
        error = self.iq_error(alice, "set", publish(TEST_NODE, "b", mood("y"), {"pubsub#access_model": "open"}))
        self.assertEqual(self.condition(error), "conflict")
        self.assertIsNotNone(error.find(q(NS_PUBSUB_ERRORS, "precondition-not-met")))
        self.assertEqual(self.item_ids(alice, f"alice@{HOST}", TEST_NODE), ["a"])
        # The node configuration names the model.
        result = self.iq(alice, "get", f"<pubsub xmlns='{NS_PUBSUB}#owner'><configure node='{TEST_NODE}'/></pubsub>")
        fields = {f.get("var"): f.findtext(q(NS_DATA, "value"))
                  for f in result.xml.findall(f"{q(NS_PUBSUB + '#owner', 'pubsub/configure')}/{q(NS_DATA, 'x/field')}")}
        self.assertEqual(fields["pubsub#access_model"], "presence")

    def test_pep_max_items_past_the_service_limit_refused(self):
        alice = self.login("alice")
        error = self.iq_error(alice, "set", publish(TEST_NODE, "a", mood("x"), {"pubsub#max_items": "100000"}))
        # Prosody: bad-request (the form's value is out of its range).
        self.assertIn(self.condition(error), ("not-acceptable", "bad-request", "conflict", "policy-violation"))
        error = self.iq_error(alice, "get", f"<pubsub xmlns='{NS_PUBSUB}'><items node='{TEST_NODE}'/></pubsub>",
                              to=f"alice@{HOST}")
        self.assertEqual(self.condition(error), "item-not-found")

    def test_pep_presence_access_model(self):
        alice, bob, carol = self.login("alice"), self.login("bob"), self.login("carol")
        self.make_contacts(alice, bob)
        self.iq(alice, "set", publish(TEST_NODE, "a", mood("for contacts")))
        self.assertEqual(self.item_ids(bob, f"alice@{HOST}", TEST_NODE), ["a"])
        error = self.iq_error(carol, "get", f"<pubsub xmlns='{NS_PUBSUB}'><items node='{TEST_NODE}'/></pubsub>",
                              to=f"alice@{HOST}")
        self.assertIn(self.condition(error), ("not-authorized", "forbidden", "item-not-found"))
        self.assertNotIn(b"for contacts", ET.tostring(error))

    def test_pep_open_access_model(self):
        alice, carol = self.login("alice"), self.login("carol")
        self.iq(alice, "set", publish(TEST_NODE, "a", mood("for all"), {"pubsub#access_model": "open"}))
        payloads = dict(self.items(carol, f"alice@{HOST}", TEST_NODE))
        self.assertEqual(payloads["a"].findtext(q(TEST_NODE, "text")), "for all")

    def test_pep_notifications_follow_caps_and_subscription(self):
        alice = self.login("alice", interests=[TEST_NODE])
        bob = self.login("bob", interests=[TEST_NODE])
        carol = self.login("carol", interests=[TEST_NODE])
        bob_without_notify = self.login("bob", "no-interest")  # the same account, without +notify
        self.make_contacts(alice, bob)
        marks = {c: len(c.inbox) for c in (alice, bob, carol, bob_without_notify)}
        self.iq(alice, "set", publish(TEST_NODE, "n1", mood("notified")))
        event = self.wait_stanza(bob, pep_event(TEST_NODE, f"alice@{HOST}"), marks[bob], what="PEP notification")
        item = event.xml.find(f"{q(NS_PUBSUB_EVENT, 'event/items/item')}")
        self.assertEqual((item.get("id"), item.findtext(f"{q(TEST_NODE, 'mood/text')}")), ("n1", "notified"))
        # The publisher's own resources with +notify get it too.
        self.wait_stanza(alice, pep_event(TEST_NODE, f"alice@{HOST}"), marks[alice], what="own PEP notification")
        self.barrier(carol, bob_without_notify)
        self.none_of(carol, pep_event(TEST_NODE), marks[carol], "notification without a subscription")
        self.none_of(bob_without_notify, pep_event(TEST_NODE), marks[bob_without_notify], "notification without +notify")
        # A retraction is notified too (notify_retract is Prosody's default).
        mark = len(bob.inbox)
        self.iq(alice, "set", f"<pubsub xmlns='{NS_PUBSUB}'><retract node='{TEST_NODE}' notify='true'>"
                              "<item id='n1'/></retract></pubsub>")
        event = self.wait_stanza(bob, pep_event(TEST_NODE, f"alice@{HOST}"), mark, what="retract notification")
        self.assertIsNotNone(event.xml.find(q(NS_PUBSUB_EVENT, "event/items/retract")))

    def test_pep_last_item_sent_on_available_presence(self):
        alice = self.login("alice")
        bob = self.login("bob", "desk")
        self.make_contacts(alice, bob)
        self.iq(alice, "set", publish(TEST_NODE, "first", mood("old")))
        self.iq(alice, "set", publish(TEST_NODE, "last", mood("current")))
        bob.disconnect()
        self.wait(bob.closed)
        later = self.login("bob", "later", interests=[TEST_NODE])
        event = self.wait_stanza(later, pep_event(TEST_NODE, f"alice@{HOST}"), what="last published item")
        self.assertEqual([i.get("id") for i in event.xml.findall(q(NS_PUBSUB_EVENT, "event/items/item"))], ["last"])

    def test_omemo_device_list_and_bundle_between_two_users(self):
        omemo = "eu.siacs.conversations.axolotl"
        alice = self.login("alice", interests=[f"{omemo}.devicelist"])
        bob = self.login("bob", interests=[f"{omemo}.devicelist"])
        self.make_contacts(alice, bob)
        for publisher, reader, owner, device in ((alice, bob, f"alice@{HOST}", "101"), (bob, alice, f"bob@{HOST}", "202")):
            mark = len(reader.inbox)
            # As Conversations publishes them: the bundle, then the list, both open.
            self.iq(publisher, "set", publish(f"{omemo}.bundles:{device}", "current",
                                              f"<bundle xmlns='{omemo}'><identityKey>aWs=</identityKey></bundle>",
                                              {"pubsub#access_model": "open"}))
            self.iq(publisher, "set", publish(f"{omemo}.devicelist", "current",
                                              f"<list xmlns='{omemo}'><device id='{device}'/></list>",
                                              {"pubsub#access_model": "open"}))
            event = self.wait_stanza(reader, pep_event(f"{omemo}.devicelist", owner), mark, what="device list")
            self.assertEqual(event.xml.find(f".//{{{omemo}}}device").get("id"), device)
            bundle = dict(self.items(reader, owner, f"{omemo}.bundles:{device}"))
            self.assertEqual(bundle["current"].findtext(f"{{{omemo}}}identityKey"), "aWs=")

    # --- avatars and vCards ---

    def publish_avatar(self, client, data=AVATAR):
        digest = hashlib.sha1(data).hexdigest()
        self.iq(client, "set", publish(NS_AVATAR_DATA, digest,
                                       f"<data xmlns='{NS_AVATAR_DATA}'>{base64.b64encode(data).decode()}</data>"))
        self.iq(client, "set", publish(NS_AVATAR_METADATA, digest,
                                       f"<metadata xmlns='{NS_AVATAR_METADATA}'><info id='{digest}' bytes='{len(data)}' "
                                       "type='image/png' width='1' height='1'/></metadata>"))
        return digest

    def test_avatar_published_notified_and_hashed_in_presence(self):
        alice = self.login("alice")
        bob = self.login("bob", interests=[NS_AVATAR_METADATA])
        self.make_contacts(alice, bob)
        mark = len(bob.inbox)
        digest = self.publish_avatar(alice)
        event = self.wait_stanza(bob, pep_event(NS_AVATAR_METADATA, f"alice@{HOST}"), mark, what="avatar metadata")
        info = event.xml.find(f"{q(NS_PUBSUB_EVENT, 'event/items/item')}/{q(NS_AVATAR_METADATA, 'metadata/info')}")
        self.assertEqual(info.get("id"), digest)
        data = dict(self.items(bob, f"alice@{HOST}", NS_AVATAR_DATA))
        self.assertEqual(base64.b64decode(data[digest].text), AVATAR)
        # XEP-0153: the server puts the photo hash in the next presence.
        mark = len(bob.inbox)
        alice.send_presence(pstatus="with an avatar")
        presence = self.wait_stanza(bob, lambda s: presence_from(f"alice@{HOST}/phone")(s)
                                    and s["status"] == "with an avatar", mark)
        self.assertEqual(presence.xml.findtext(q(NS_VCARD_UPDATE, "x/photo")), digest)
        # XEP-0398: the vCard shows the avatar.
        vcard = self.iq(bob, "get", f"<vCard xmlns='{NS_VCARD}'/>", to=f"alice@{HOST}")
        self.assertEqual(base64.b64decode(vcard.xml.findtext(q(NS_VCARD, "vCard/PHOTO/BINVAL"))), AVATAR)

    def test_vcard_temp_set_and_get(self):
        alice, bob = self.login("alice"), self.login("bob")
        self.iq(alice, "set", f"<vCard xmlns='{NS_VCARD}'><FN>Alice Liddell</FN><NICKNAME>alice</NICKNAME></vCard>")
        for client in (alice, bob):
            vcard = self.iq(client, "get", f"<vCard xmlns='{NS_VCARD}'/>", to=f"alice@{HOST}")
            self.assertEqual(vcard.xml.findtext(q(NS_VCARD, "vCard/FN")), "Alice Liddell")
        # The account's own vCard, asked without a 'to'.
        vcard = self.iq(alice, "get", f"<vCard xmlns='{NS_VCARD}'/>")
        self.assertEqual(vcard.xml.findtext(q(NS_VCARD, "vCard/NICKNAME")), "alice")
        # Bob cannot set Alice's.
        self.iq_error(bob, "set", f"<vCard xmlns='{NS_VCARD}'><FN>Mallory</FN></vCard>", to=f"alice@{HOST}")
        vcard = self.iq(bob, "get", f"<vCard xmlns='{NS_VCARD}'/>", to=f"alice@{HOST}")
        self.assertEqual(vcard.xml.findtext(q(NS_VCARD, "vCard/FN")), "Alice Liddell")

    def test_vcard_photo_becomes_the_avatar(self):
        alice = self.login("alice")
        self.iq(alice, "set", f"<vCard xmlns='{NS_VCARD}'><FN>Alice</FN><PHOTO><TYPE>image/png</TYPE>"
                              f"<BINVAL>{base64.b64encode(AVATAR).decode()}</BINVAL></PHOTO></vCard>")
        digest = hashlib.sha1(AVATAR).hexdigest()
        metadata = dict(self.items(alice, f"alice@{HOST}", NS_AVATAR_METADATA))
        self.assertIn(digest, metadata)
        self.assertEqual(metadata[digest].find(q(NS_AVATAR_METADATA, "info")).get("type"), "image/png")
        data = dict(self.items(alice, f"alice@{HOST}", NS_AVATAR_DATA))
        self.assertEqual(base64.b64decode(data[digest].text), AVATAR)

    def test_vcard4_publish_and_get(self):
        alice, bob = self.login("alice"), self.login("bob")
        self.make_contacts(alice, bob)
        self.iq(alice, "set", publish("urn:xmpp:vcard4", "current",
                                      "<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Alice</text></fn></vcard>"))
        payloads = dict(self.items(bob, f"alice@{HOST}", "urn:xmpp:vcard4"))
        self.assertEqual(payloads["current"].findtext("{urn:ietf:params:xml:ns:vcard-4.0}fn/"
                                                      "{urn:ietf:params:xml:ns:vcard-4.0}text"), "Alice")

    # --- bookmarks ---

    def test_bookmarks_pep_seen_in_private_storage(self):
        alice = self.login("alice")
        room = "tea@rooms.chat.test"
        self.iq(alice, "set", publish(NS_BOOKMARKS2, room,
                                      f"<conference xmlns='{NS_BOOKMARKS2}' name='Tea party' autojoin='true'>"
                                      "<nick>alice</nick></conference>",
                                      {"pubsub#persist_items": "true", "pubsub#max_items": "max",
                                       "pubsub#send_last_published_item": "never", "pubsub#access_model": "whitelist"}))
        storage = self.private_get(alice, f"<storage xmlns='{NS_BOOKMARKS_LEGACY}'/>")
        conferences = {c.get("jid"): c for c in storage.findall(q(NS_BOOKMARKS_LEGACY, "conference"))}
        self.assertIn(room, conferences)
        self.assertEqual(conferences[room].get("name"), "Tea party")
        self.assertIn(conferences[room].get("autojoin"), ("true", "1"))
        self.assertEqual(conferences[room].findtext(q(NS_BOOKMARKS_LEGACY, "nick")), "alice")

    def test_private_storage_bookmarks_seen_in_pep(self):
        alice = self.login("alice")
        room = "coffee@rooms.chat.test"
        self.iq(alice, "set", f"<query xmlns='{NS_PRIVATE}'><storage xmlns='{NS_BOOKMARKS_LEGACY}'>"
                              f"<conference jid='{room}' name='Coffee' autojoin='true'><nick>al</nick></conference>"
                              "</storage></query>")
        bookmarks = dict(self.items(alice, f"alice@{HOST}", NS_BOOKMARKS2))
        self.assertIn(room, bookmarks)
        self.assertEqual(bookmarks[room].get("name"), "Coffee")
        self.assertIn(bookmarks[room].get("autojoin"), ("true", "1"))
        self.assertEqual(bookmarks[room].findtext(q(NS_BOOKMARKS2, "nick")), "al")
        # The node is private: nobody else reads it.
        bob = self.login("bob")
        self.iq_error(bob, "get", f"<pubsub xmlns='{NS_PUBSUB}'><items node='{NS_BOOKMARKS2}'/></pubsub>",
                      to=f"alice@{HOST}")

    # --- client state indication ---

    def go_inactive(self, client, contact):
        """The client says it is inactive. Its next stanza, a message to the contact, tells when
        the server has read that: no iq to the inactive client, whose answer would flush."""
        client.send_raw("<inactive xmlns='urn:xmpp:csi:0'/>")
        self.chat(client, str(contact.boundjid), "going inactive")
        self.wait_stanza(contact, message_with_body("going inactive"))

    def test_csi_holds_presence_until_active(self):
        alice, bob = self.login("alice"), self.login("bob", "desk")
        self.make_contacts(alice, bob)
        self.assertIsNotNone(self.last_features(alice).find(q("urn:xmpp:csi:0", "csi")))
        self.go_inactive(alice, bob)
        mark = len(alice.inbox)
        bob.send_presence(pstatus="away for lunch", pshow="away")
        self.barrier(bob)
        # Held: a short wait cannot prove a negative, but a held presence shows in none.
        self.loop.run_until_complete(asyncio.sleep(0.5))
        self.none_of(alice, presence_from(f"bob@{HOST}/desk"), mark, "presence while inactive")
        self.send(alice, "<active xmlns='urn:xmpp:csi:0'/>")
        presence = self.wait_stanza(alice, presence_from(f"bob@{HOST}/desk"), mark, what="the held presence")
        self.assertEqual(presence["status"], "away for lunch")

    def test_csi_flushes_on_an_important_message(self):
        alice, bob = self.login("alice"), self.login("bob", "desk")
        self.make_contacts(alice, bob)
        self.go_inactive(alice, bob)
        mark = len(alice.inbox)
        bob.send_presence(pstatus="back", pshow="chat")
        self.barrier(bob)
        self.loop.run_until_complete(asyncio.sleep(0.5))
        self.none_of(alice, presence_from(f"bob@{HOST}/desk"), mark, "presence while inactive")
        self.chat(bob, f"alice@{HOST}", "important")
        self.wait_stanza(alice, message_with_body("important"), mark)
        stanzas = [s for s in alice.inbox[mark:] if s["from"] == f"bob@{HOST}/desk"]
        self.assertEqual([(s.name, s["status"] or s["body"]) for s in stanzas],
                         [("presence", "back"), ("message", "important")])

    # --- server information ---

    def test_server_time(self):
        alice = self.login("alice")
        result = self.iq(alice, "get", "<time xmlns='urn:xmpp:time'/>", to=HOST)
        self.assertRegex(result.xml.findtext(q("urn:xmpp:time", "time/utc")), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        self.assertRegex(result.xml.findtext(q("urn:xmpp:time", "time/tzo")), r"^([+-]\d\d:\d\d|Z)$")

    def test_server_uptime(self):
        alice = self.login("alice")
        result = self.iq(alice, "get", "<query xmlns='jabber:iq:last'/>", to=HOST)
        seconds = int(result.xml.find(q("jabber:iq:last", "query")).get("seconds"))
        self.assertGreaterEqual(seconds, 0)
        self.assertLess(seconds, 600)

    def test_server_version(self):
        alice = self.login("alice")
        result = self.iq(alice, "get", "<query xmlns='jabber:iq:version'/>", to=HOST)
        name = result.xml.findtext(q("jabber:iq:version", "query/name"))
        self.assertEqual(name, {"xmppd": "xmppd", "prosody": "Prosody"}[self.SERVER])
        self.assertTrue(result.xml.findtext(q("jabber:iq:version", "query/version")))

    def test_server_ping(self):
        alice = self.login("alice")
        result = self.iq(alice, "get", "<ping xmlns='urn:xmpp:ping'/>", to=HOST)
        self.assertEqual(result["type"], "result")

    # --- in-band account management ---

    def test_in_band_password_change(self):
        alice = self.login("alice")
        self.iq(alice, "set", "<query xmlns='jabber:iq:register'><username>alice</username>"
                              "<password>a new secret</password></query>")
        _, outcome = self.connect("alice", "old", presence=False)
        self.assertEqual(outcome, "failed_auth")
        _, outcome = self.connect("alice", "new", presence=False, password="a new secret")
        self.assertEqual(outcome, "session")
        # Another user's password is not Alice's to change.
        error = self.iq_error(alice, "set", "<query xmlns='jabber:iq:register'><username>bob</username>"
                                            "<password>stolen</password></query>")
        self.assertIn(self.condition(error), ("not-authorized", "bad-request", "not-allowed", "forbidden"))
        _, outcome = self.connect("bob", presence=False)
        self.assertEqual(outcome, "session")

    def test_in_band_account_removal(self):
        carol = self.login("carol")
        other = self.login("carol", "laptop")
        self.iq(carol, "set", f"<query xmlns='{NS_PRIVATE}'><prefs xmlns='urn:xmppd:test:prefs'>"
                              "<colour>red</colour></prefs></query>")
        self.iq(carol, "set", publish(TEST_NODE, "old", mood("of the old account")))
        self.iq(carol, "set", f"<block xmlns='{NS_BLOCKING}'><item jid='spam.example'/></block>")
        self.wait(carol.update_roster(f"alice@{HOST}", name="Alice"))
        try:
            self.iq(carol, "set", "<query xmlns='jabber:iq:register'><remove/></query>")
        except IqError as e:
            self.fail(f"removal refused: {e.condition}")
        except slixmpp.exceptions.IqTimeout:
            pass  # the server may close the stream before its answer is read
        # Its sessions end.
        self.wait(carol.closed)
        self.wait(other.closed)
        _, outcome = self.connect("carol", "again", presence=False)
        self.assertEqual(outcome, "failed_auth")
        # Nothing of the old account comes back with a new one of the same name.
        self.adduser("carol", "carol's new secret")
        carol = self.login_with("carol", "carol's new secret")
        self.assertEqual(len(self.private_get(carol, "<prefs xmlns='urn:xmppd:test:prefs'/>")), 0)
        self.assertEqual(self.roster(carol), {})
        self.assertEqual(self.blocklist(carol), [])
        error = self.iq_error(carol, "get", f"<pubsub xmlns='{NS_PUBSUB}'><items node='{TEST_NODE}'/></pubsub>",
                              to=f"carol@{HOST}")
        self.assertEqual(self.condition(error), "item-not-found")

    def login_with(self, user, password):
        client, outcome = self.connect(user, "fresh", password=password)
        self.assertEqual(outcome, "session")
        return client

    # --- per-user limits (xmppd.conf(5), "Per-user quotas") ---

    @xmppd_only("Prosody 0.12 has no per-user PEP byte limit")
    def test_pep_item_over_the_size_refused_and_not_stored(self):
        alice = self.login("alice")
        self.iq(alice, "set", publish(TEST_NODE, "small", mood("fits")))
        big = mood("x" * (LIMITS["max_user_pep_bytes"] + 1))
        error = self.iq_error(alice, "set", publish(TEST_NODE, "big", big))
        self.assertEqual(self.condition(error), "not-acceptable")
        self.assertIsNotNone(error.find(q(NS_PUBSUB_ERRORS, "payload-too-big")))
        self.assertEqual(self.item_ids(alice, f"alice@{HOST}", TEST_NODE), ["small"])

    @xmppd_only("Prosody 0.12 has no limit on the number of PEP nodes")
    def test_too_many_pep_nodes_refused(self):
        alice = self.login("alice")
        for n in range(LIMITS["max_user_pep_nodes"]):
            self.iq(alice, "set", publish(f"{TEST_NODE}:{n}", "i", mood(n)))
        error = self.iq_error(alice, "set", publish(f"{TEST_NODE}:one-too-many", "i", mood("no")))
        self.assertIn(self.condition(error), ("policy-violation", "resource-constraint", "not-allowed"))
        error = self.iq_error(alice, "get", f"<pubsub xmlns='{NS_PUBSUB}'><items node='{TEST_NODE}:one-too-many'/>"
                                            "</pubsub>", to=f"alice@{HOST}")
        self.assertEqual(self.condition(error), "item-not-found")
        # Deleting one makes room.
        self.iq(alice, "set", f"<pubsub xmlns='{NS_PUBSUB}#owner'><delete node='{TEST_NODE}:0'/></pubsub>")
        self.iq(alice, "set", publish(f"{TEST_NODE}:one-too-many", "i", mood("now")))

    @xmppd_only("Prosody 0.12 has no limit on the length of a block list")
    def test_block_list_past_its_length_refused_whole(self):
        alice = self.login("alice")
        self.iq(alice, "set", f"<block xmlns='{NS_BLOCKING}'><item jid='a@spam.example'/><item jid='b@spam.example'/></block>")
        error = self.iq_error(alice, "set", f"<block xmlns='{NS_BLOCKING}'><item jid='c@spam.example'/>"
                                            "<item jid='d@spam.example'/></block>")
        self.assertIn(self.condition(error), ("policy-violation", "resource-constraint", "not-acceptable"))
        self.assertEqual(self.blocklist(alice), ["a@spam.example", "b@spam.example"])

    @xmppd_only("Prosody 0.12 has no per-user private storage limit")
    def test_private_xml_over_the_size_refused_and_not_stored(self):
        alice = self.login("alice")
        self.iq(alice, "set", f"<query xmlns='{NS_PRIVATE}'><prefs xmlns='urn:xmppd:test:prefs'>"
                              "<colour>blue</colour></prefs></query>")
        big = "x" * (LIMITS["max_user_private_bytes"] + 1)
        error = self.iq_error(alice, "set", f"<query xmlns='{NS_PRIVATE}'><prefs xmlns='urn:xmppd:test:prefs'>"
                                            f"<colour>{big}</colour></prefs></query>")
        self.assertIn(self.condition(error), ("not-acceptable", "policy-violation", "resource-constraint"))
        prefs = self.private_get(alice, "<prefs xmlns='urn:xmppd:test:prefs'/>")
        self.assertEqual(prefs.findtext("{urn:xmppd:test:prefs}colour"), "blue")

    @xmppd_only("Prosody 0.12 has no vCard size limit")
    def test_vcard_over_the_size_refused_and_not_stored(self):
        alice = self.login("alice")
        self.iq(alice, "set", f"<vCard xmlns='{NS_VCARD}'><FN>Alice</FN></vCard>")
        big = "x" * (LIMITS["max_user_vcard_bytes"] + 1)
        error = self.iq_error(alice, "set", f"<vCard xmlns='{NS_VCARD}'><FN>Alice</FN><DESC>{big}</DESC></vCard>")
        self.assertIn(self.condition(error), ("not-acceptable", "policy-violation", "resource-constraint"))
        vcard = self.iq(alice, "get", f"<vCard xmlns='{NS_VCARD}'/>")
        self.assertIsNone(vcard.xml.find(q(NS_VCARD, "vCard/DESC")))

    def test_malformed_payloads_get_bad_request(self):
        alice = self.login("alice")
        error = self.iq_error(alice, "set", f"<block xmlns='{NS_BLOCKING}'><item jid='@@@'/></block>")
        self.assertIn(self.condition(error), ("jid-malformed", "bad-request"))
        error = self.iq_error(alice, "set", f"<pubsub xmlns='{NS_PUBSUB}'><publish node='{TEST_NODE}'/></pubsub>")
        self.assertIn(self.condition(error), ("bad-request", "not-acceptable"))


class XmppdIm(ImTests, ClientTest):
    SERVER = "xmppd"

    def start_server(self):
        limits = "".join(f"{key} = {value}\n" for key, value in LIMITS.items())
        modules = "; ".join(f'"{m}"' for m in MODULES)
        contact = "; ".join(f'{field} = {{ "{addresses[0]}" }}' for field, addresses in CONTACT_INFO.items())
        config = basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n'
                                            f"modules_enabled = {{ {modules} }}\n{limits}")
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\ncontact_info = {{ {contact} }}\n')
        os.makedirs(f"{self.workdir}/certs", exist_ok=True)
        os.replace(self.cert_file, f"{self.workdir}/certs/{HOST}.crt")
        os.replace(self.key_file, f"{self.workdir}/certs/{HOST}.key")
        self.xmppd = self.server(config).start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts?")

    def test_a_c1_control_makes_no_address(self):
        # U+0085 makes no room JID: jid-malformed, from an address the client can read
        # (slixmpp drops its stream on a stanza from a JID it cannot prepare). xmppd's own:
        # Prosody 0.12 answers from the malformed address.
        alice = self.login("alice")
        mark = len(alice.inbox)
        self.send(alice, f"<presence to='tea\u0085party@conference.{HOST}/alice' id='c1'/>")

        def refused(s):
            return s.name == "presence" and s.xml.get("id") == "c1" and s.xml.get("type") == "error"
        error = self.wait_stanza(alice, refused, mark, what="the presence error").xml.find(q(NS_CLIENT, "error"))
        self.assertEqual(self.condition(error), "jid-malformed")
        self.barrier(alice)
        self.assertFalse(alice.closed.done(), "the client was disconnected")

    def adduser(self, user, password):
        r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "adduser", f"{user}@{HOST}"], input=password + "\n",
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)


class ProsodyIm(ImTests, ClientTest):
    SERVER = "prosody"

    def start_server(self):
        workdir = fresh_workdir(self.workdir, "prosody")
        self.prosody = Prosody(workdir, HOST, ADDRESS, self.cert_file, self.key_file, self.ca_file,
                               options={"modules_enabled": MODULES, "contact_info": CONTACT_INFO,
                                        "c2s_require_encryption": True})
        self.servers.append(self.prosody)
        self.prosody.start()

    def adduser(self, user, password):
        self.prosody.register(user, password)


# One server per run: xmppd (CI), or Prosody as the reference (XMPPD_IM_REFERENCE=prosody).
if REFERENCE == "prosody":
    del XmppdIm
elif REFERENCE == "xmppd":
    del ProsodyIm
else:
    raise SystemExit(f"XMPPD_IM_REFERENCE={REFERENCE}: neither xmppd nor prosody")

if __name__ == "__main__":
    harness.main()
