"""What the group chat tests share (muc_test.py, muc_federation_test.py): a slixmpp client that
records every stanza it gets, the XEP-0045 payloads written out as XML, and the waits.

Trusts nothing it receives: every expectation is checked against what arrived."""
import asyncio
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from prosody import Prosody, lua

NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = NS_MUC + "#user"
NS_MUC_ADMIN = NS_MUC + "#admin"
NS_MUC_OWNER = NS_MUC + "#owner"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_DATA = "jabber:x:data"
NS_DELAY = "urn:xmpp:delay"
NS_CONFERENCE = "jabber:x:conference"
NS_REGISTER = "jabber:iq:register"
NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"
NS_PING = "urn:xmpp:ping"
NS_MAM = "urn:xmpp:mam:2"
NS_SID = "urn:xmpp:sid:0"
NS_FORWARD = "urn:xmpp:forward:0"


def q(ns, path):
    """An ElementTree path with every step in namespace ns."""
    return "/".join(f"{{{ns}}}{step}" for step in path.split("/"))


def form(fields, form_type=None, kind="submit"):
    """A XEP-0004 form as XML text: {var: value or [values]}."""
    rows = []
    if form_type:
        rows.append(f"<field var='FORM_TYPE' type='hidden'><value>{form_type}</value></field>")
    for var, values in fields.items():
        values = values if isinstance(values, (list, tuple)) else [values]
        rows.append(f"<field var='{var}'>" + "".join(f"<value>{v}</value>" for v in values) + "</field>")
    return f"<x xmlns='{NS_DATA}' type='{kind}'>{''.join(rows)}</x>"


def codes(stanza):
    """The muc#user status codes of a stanza, as a set of strings."""
    return {s.get("code") for s in stanza.xml.findall(q(NS_MUC_USER, "x/status"))}


def item_of(stanza):
    """The muc#user <item/> of a presence, as a dict of its attributes (empty if none)."""
    item = stanza.xml.find(q(NS_MUC_USER, "x/item"))
    return dict(item.attrib) if item is not None else {}


def condition(stanza_or_error):
    """The defined condition of an error stanza (or of an <error/> element)."""
    element = getattr(stanza_or_error, "xml", stanza_or_error)
    error = element if element.tag.endswith("}error") else element.find(f"{{{NS_CLIENT}}}error")
    if error is None:
        return None
    return next((c.tag.split("}")[1] for c in error if c.tag.startswith(f"{{{NS_STANZAS}}}")
                 and not c.tag.endswith("}text")), None)


def presence_from(jid, kind="available"):
    def match(s):
        return s.name == "presence" and str(s["from"]) == jid and s.xml.get("type", "available") == kind
    return match


def groupchat(body, sender=None):
    def match(s):
        return (s.name == "message" and s.xml.get("type") == "groupchat" and s["body"] == body
                and (sender is None or str(s["from"]) == sender))
    return match


class ProsodyWithMuc(Prosody):
    """Prosody with a Component "muc_domain" "muc" section after its VirtualHost (it serves
    the component with the VirtualHost's certificate, which must name muc_domain too for s2s)."""

    def __init__(self, *args, muc_domain, component_options=None, **kwargs):
        self.muc_domain = muc_domain
        self.component_options = component_options or {}
        super().__init__(*args, **kwargs)

    def config_text(self):
        options = {"ssl": {"certificate": self.cert_file, "key": self.key_file}, **self.component_options}
        lines = [super().config_text(), f"Component {lua(self.muc_domain)} \"muc\""]
        lines += [f"    {key} = {lua(value)}" for key, value in options.items()]
        return "\n".join(lines) + "\n"


class MucClient(slixmpp.ClientXMPP):
    """A client that keeps every message and presence it gets, in order (inbox)."""

    def __init__(self, jid, password, ca_file):
        # SCRAM-SHA-1: offered by xmppd and by Prosody's internal_hashed; a named mechanism
        # makes a refusal final (im_test.py).
        super().__init__(jid, password, sasl_mech="SCRAM-SHA-1")
        self.ca_certs = ca_file
        for plugin in ("xep_0030", "xep_0045", "xep_0199", "xep_0249", "xep_0421"):
            self.register_plugin(plugin)
        self.outcome = asyncio.get_event_loop().create_future()
        self.inbox = []
        self.register_handler(Callback("muc messages", MatchXPath(f"{{{NS_CLIENT}}}message"), self.inbox.append))
        self.register_handler(Callback("muc presences", MatchXPath(f"{{{NS_CLIENT}}}presence"), self.inbox.append))
        self.add_event_handler("session_start", self._started)
        self.add_event_handler("failed_auth", lambda _: self._settle("failed_auth"))
        self.add_event_handler("stream_error", lambda e: self._settle(f"stream_error {e['condition']}"))

    def _settle(self, value):
        if not self.outcome.done():
            self.outcome.set_result(value)

    async def _started(self, _):
        self.send_presence()
        self._settle("session")


class MucSteps:
    """The steps of the tests, for a TestCase with self.loop and self.clients, and a
    login(user) of its own."""

    def wait(self, awaitable, timeout=10):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

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

    def iq(self, client, itype, payload=None, to=None, timeout=10):
        iq = client.make_iq(itype=itype, ito=to)
        if payload:
            iq.append(ET.fromstring(payload))
        return self.wait(iq.send(timeout=timeout), timeout + 2)

    def iq_error(self, client, itype, payload=None, to=None):
        """Sends an iq that must fail; returns its error condition."""
        with self.assertRaises(IqError, msg=f"an error for {payload} to {to}") as refused:
            self.iq(client, itype, payload, to)
        return condition(refused.exception.iq)

    # --- joining and leaving ---

    def send_join(self, client, occupant, password=None, history=None, extra=""):
        """Sends the join presence to room@service/nick: history is a dict of <history/>
        attributes. Returns the inbox mark before it."""
        mark = len(client.inbox)
        inner = ""
        if password is not None:
            inner += f"<password>{password}</password>"
        if history is not None:
            inner += "<history " + " ".join(f"{k}='{v}'" for k, v in history.items()) + "/>"
        client.send_raw(f"<presence to='{occupant}'><x xmlns='{NS_MUC}'>{inner}</x>{extra}</presence>")
        return mark

    def join(self, client, occupant, password=None, history=None, timeout=10):
        """Joins and waits for the self-presence (status 110); returns it. Fails on an error."""
        mark = self.send_join(client, occupant, password, history)
        room = occupant.split("/")[0]

        def settled(s):
            return s.name == "presence" and s["from"].bare == room and (
                "110" in codes(s) or s.xml.get("type") == "error")
        got = self.wait_stanza(client, settled, mark, timeout, f"self-presence from {occupant}")
        self.assertNotEqual(got.xml.get("type"), "error", f"join of {occupant} refused: {got}")
        return got

    def join_error(self, client, occupant, password=None):
        """Joins a room that must refuse; returns the error condition."""
        mark = self.send_join(client, occupant, password)
        room = occupant.split("/")[0]
        got = self.wait_stanza(client, lambda s: s.name == "presence" and s["from"].bare == room and (
            "110" in codes(s) or s.xml.get("type") == "error"), mark, what=f"an answer from {room}")
        self.assertEqual(got.xml.get("type"), "error", f"{client.boundjid} joined {occupant}: {got}")
        return condition(got)

    def leave(self, client, occupant):
        mark = len(client.inbox)
        client.send_raw(f"<presence to='{occupant}' type='unavailable'/>")
        return self.wait_stanza(client, lambda s: s.name == "presence" and s.xml.get("type") == "unavailable"
                                and "110" in codes(s), mark, what=f"the end of {occupant}")

    def create(self, owner, room, nick, fields=None):
        """Creates a room (status 201) and configures it (an instant room when fields is None)."""
        presence = self.join(owner, f"{room}/{nick}")
        self.assertIn("201", codes(presence), f"{room} existed already")
        if fields is None:
            self.iq(owner, "set", f"<query xmlns='{NS_MUC_OWNER}'>{form({}, kind='submit')}</query>", to=room)
        else:
            self.configure(owner, room, fields)
        return presence

    def configure(self, owner, room, fields):
        self.iq(owner, "set", f"<query xmlns='{NS_MUC_OWNER}'>{form(fields, NS_MUC + '#roomconfig')}</query>",
                to=room)

    def config_form(self, owner, room):
        """var -> [values] of the room's configuration form."""
        result = self.iq(owner, "get", f"<query xmlns='{NS_MUC_OWNER}'/>", to=room)
        x = result.xml.find(q(NS_MUC_OWNER, "query") + f"/{{{NS_DATA}}}x")
        self.assertIsNotNone(x, f"no form in {result}")
        return {f.get("var"): [v.text or "" for v in f.findall(f"{{{NS_DATA}}}value")]
                for f in x.findall(f"{{{NS_DATA}}}field") if f.get("var")}

    def say(self, client, room, body, extra=""):
        client.send_raw(f"<message to='{room}' type='groupchat'><body>{body}</body>{extra}</message>")

    def said(self, sender, room, body, *readers):
        """sender says body in room; waits until sender's echo and each reader have it."""
        marks = [len(c.inbox) for c in (sender, *readers)]
        self.say(sender, room, body)
        return [self.wait_stanza(c, groupchat(body), m, what=f"'{body}' in {room}")
                for c, m in zip((sender, *readers), marks)]

    def admin_set(self, client, room, attrs, reason=None):
        item = " ".join(f"{k}='{v}'" for k, v in attrs.items())
        inner = f"<reason>{reason}</reason>" if reason else ""
        return self.iq(client, "set", f"<query xmlns='{NS_MUC_ADMIN}'><item {item}>{inner}</item></query>", to=room)

    def admin_list(self, client, room, affiliation=None, role=None):
        """The bare JIDs (or nicks, for a role) of a muc#admin list."""
        attr = f"affiliation='{affiliation}'" if affiliation else f"role='{role}'"
        result = self.iq(client, "get", f"<query xmlns='{NS_MUC_ADMIN}'><item {attr}/></query>", to=room)
        items = result.xml.findall(q(NS_MUC_ADMIN, "query/item"))
        return sorted(i.get("jid") if affiliation else i.get("nick") for i in items)

    def disco_info(self, client, jid):
        result = self.iq(client, "get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=jid)
        query = result.xml.find(q(NS_DISCO_INFO, "query"))
        features = {f.get("var") for f in query.findall(f"{{{NS_DISCO_INFO}}}feature")}
        identities = {(i.get("category"), i.get("type")) for i in query.findall(f"{{{NS_DISCO_INFO}}}identity")}
        fields = {}
        for x in query.findall(f"{{{NS_DATA}}}x"):
            for f in x.findall(f"{{{NS_DATA}}}field"):
                fields[f.get("var")] = [v.text or "" for v in f.findall(f"{{{NS_DATA}}}value")]
        return identities, features, fields

    def disco_items(self, client, jid):
        result = self.iq(client, "get", f"<query xmlns='{NS_DISCO_ITEMS}'/>", to=jid)
        return {i.get("jid"): i.get("name") for i in result.xml.findall(q(NS_DISCO_ITEMS, "query/item"))}
