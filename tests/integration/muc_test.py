#!/usr/bin/env python3
"""Group chat (XEP-0045) with a real client library (Debian's python3-slixmpp 1.8.3, raw
XEP-0045 payloads so that each test shows what goes on the wire; plugins xep_0249 and
xep_0421): rooms created locked or instant, joins and their status codes, nicknames, history,
subject, private messages, invitations, the configuration form, roles and affiliations,
refusals, occupant ids (XEP-0421), self-ping (XEP-0410), the room archive (XEP-0313,
muc_mam), the room's vCard (vcard_muc), persistence over a restart, the limits,
restrict_room_creation, and Profanity (a terminal client, in tmux) joining and chatting.

One server per class (its set-up costs seconds), each test in rooms of its own. The tests
are written from XEP-0045 and checked against Prosody 0.12's mod_muc:
XMPPD_MUC_REFERENCE=prosody runs them against Prosody instead of xmppd; a test of something
Prosody 0.12 lacks (a limit of xmppd's) is marked xmppd-only with the reason."""
import asyncio
import datetime
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

from slixmpp.exceptions import IqError

import certs
import harness
from harness import basic_config
from muc import (NS_CONFERENCE, NS_DELAY, NS_FORWARD, NS_MAM, NS_MUC_ADMIN, NS_MUC_OWNER, NS_MUC_USER,
                 NS_OCCUPANT_ID, NS_PING, NS_REGISTER, NS_SID, MucClient, MucSteps, codes, condition, form,
                 groupchat, item_of, presence_from, q)
from muc import ProsodyWithMuc
from prosody import Prosody, fresh_workdir

REFERENCE = os.environ.get("XMPPD_MUC_REFERENCE", "xmppd")
HOST = "chat.test"
MUC = f"conference.{HOST}"
ADDRESS = "127.0.0.1"
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")
USERS = ("alice", "bob", "carol", "dave")
# Allow invites in the configuration form: XEP-0045's name and Prosody's.
ALLOW_INVITES = ("muc#roomconfig_allowinvites", "{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites")


def password(user):
    return f"{user}'s secret"


def xmppd_only(reason):
    """For behaviour Prosody 0.12's mod_muc lacks: the test runs against xmppd only."""
    def decorate(test):
        @functools.wraps(test)
        def run(self):
            if REFERENCE != "xmppd":
                self.skipTest(f"xmppd only: {reason}")
            return test(self)
        return run
    return decorate


def xmppd_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "{ " + ", ".join(xmppd_value(v) for v in value) + " }"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


class Terminal:
    """Profanity in a tmux session of its own (a socket in home), with home as its HOME."""

    def __init__(self, home):
        self.home = home
        self.socket = os.path.join(home, "tmux.sock")
        self.env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=f"{home}/config", XDG_DATA_HOME=f"{home}/data",
                        TERM="xterm-256color", LANG="C.UTF-8")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.socket, *args], env=self.env, capture_output=True, text=True,
                              timeout=10)

    def start_profanity(self, jid, secret):
        # The account, with the test server's address; tls.policy=trust: the test CA is not
        # in the system's store, and the check of the certificate is not what this test is about.
        os.makedirs(f"{self.home}/data/profanity", exist_ok=True)
        with open(f"{self.home}/data/profanity/accounts", "w") as f:
            f.write(f"[{jid}]\nenabled=true\njid={jid}\nserver={ADDRESS}\nport=5222\nresource=profanity\n"
                    f"password={secret}\ntls.policy=trust\n")
        r = self.tmux("new-session", "-d", "-x", "160", "-y", "50", f"profanity -a {jid}")
        if r.returncode != 0:
            raise RuntimeError(f"tmux: {r.stderr}")

    def type(self, line):
        self.tmux("send-keys", "-l", line)
        self.tmux("send-keys", "Enter")

    def screen(self):
        return self.tmux("capture-pane", "-p", "-J").stdout

    def close(self):
        self.tmux("kill-server")


class MucServer(MucSteps, unittest.TestCase):
    """One server (xmppd, or Prosody for the reference run) for the whole class, with the
    users of USERS; an asyncio loop and fresh clients per test."""
    # Options of the Component section, by the names xmppd and Prosody share.
    MUC_OPTIONS = {"modules_enabled": ["muc_mam"]}
    # xmppd's own: its limits. Its default message rate (Prosody's mod_muc_limits's, 0.5 per
    # second) would throttle tests that say five things in a row; the Limits class checks it.
    # vcard_muc: Prosody 0.12 has it as a community module only.
    XMPPD_MUC_OPTIONS = {"muc_event_rate": 50, "muc_burst_factor": 10, "modules_enabled": ["muc_mam", "vcard_muc"]}
    PROSODY_MUC_OPTIONS = {}  # Prosody's own
    GLOBAL_OPTIONS = {}       # both, global (admins)

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="xmppd-muc-")
        os.chmod(cls.workdir, 0o755)
        cls.ca = certs.Authority()
        cls.ca_file = os.path.join(cls.workdir, "ca.pem")
        certs.write(cls.ca_file, cls.ca.pem())
        for host in (HOST, MUC):
            key, cert = cls.ca.issue(host, "ec")
            certs.write(f"{cls.workdir}/certs/{host}.crt", certs.cert_pem(cert))
            certs.write(f"{cls.workdir}/certs/{host}.key", certs.key_pem(key), 0o600)
        cls.failed = False
        cls.server = None
        try:
            cls.start_server()
            for user in USERS:
                cls.adduser(user)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        reports = []
        if cls.server:
            cls.server.stop()
            if isinstance(cls.server, harness.Server):
                reports = cls.server.sanitizer_reports()
            if reports or cls.failed:
                sys.stderr.write(f"--- log of {cls.server.config} ---\n"
                                 f"{cls.server.log() if REFERENCE == 'xmppd' else cls.server.tail(200)}\n")
        shutil.rmtree(cls.workdir, ignore_errors=True)
        if reports:
            raise AssertionError("sanitizer reports in the xmppd log:\n" + "\n".join(reports))

    @classmethod
    def start_server(cls):
        if REFERENCE == "prosody":
            workdir = fresh_workdir(cls.workdir, "prosody")
            options = {"modules_enabled": Prosody.MODULES + ["disco"], **cls.GLOBAL_OPTIONS}
            cls.server = ProsodyWithMuc(workdir, HOST, ADDRESS, f"{cls.workdir}/certs/{HOST}.crt",
                                        f"{cls.workdir}/certs/{HOST}.key", cls.ca_file, options=options,
                                        muc_domain=MUC,
                                        component_options={**cls.MUC_OPTIONS, **cls.PROSODY_MUC_OPTIONS})
            cls.server.start()
            return
        globals_ = "".join(f"{k} = {xmppd_value(v)}\n" for k, v in cls.GLOBAL_OPTIONS.items())
        component = "".join(f"{k} = {xmppd_value(v)}\n"
                            for k, v in {**cls.MUC_OPTIONS, **cls.XMPPD_MUC_OPTIONS}.items())
        config = basic_config(cls.workdir, f'certificates = "{cls.workdir}/certs"\n' + globals_)
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\n\nComponent "{MUC}" "muc"\n'
                                + component)
        cls.server = harness.Server(cls.workdir, config).start()
        cls.server.wait_sandboxed_children(timeout=20)
        cls.server.wait_log(r"router\[\d+\]: TLS certificates for \d+ hosts?")

    @classmethod
    def restart_server(cls):
        cls.server.stop()
        if REFERENCE == "prosody":
            cls.server.start()
            return
        mark = len(cls.server.log())
        cls.server.start()
        cls.server.wait_sandboxed_children(timeout=20)
        cls.server.wait_log(r"router\[\d+\]: TLS certificates for \d+ hosts?", after=mark)

    @classmethod
    def adduser(cls, user):
        if REFERENCE == "prosody":
            cls.server.register(user, password(user))
            return
        r = subprocess.run([XMPPCTL, "-f", cls.server.config, "adduser", f"{user}@{HOST}"],
                           input=password(user) + "\n", capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"xmppctl adduser {user}: {r.stderr}")

    def setUp(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.disconnect()
        self.loop.run_until_complete(asyncio.sleep(0.2))
        for task in asyncio.all_tasks(self.loop):
            task.cancel()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()
        result = getattr(self._outcome, "result", None)
        if any(test is self for test, _ in getattr(result, "errors", []) + getattr(result, "failures", [])):
            type(self).failed = True

    def login(self, user, resource="phone", initial_presence=True):
        client = MucClient(f"{user}@{HOST}/{resource}", password(user), self.ca_file, initial_presence)
        self.clients.append(client)
        client.connect((ADDRESS, 5222))
        self.assertEqual(self.wait(client.outcome, 20), "session", f"login of {user}")
        return client

    def room(self, name="room"):
        """A fresh room address for one test."""
        return f"{name}-{uuid.uuid4().hex[:8]}@{MUC}"

    def barrier(self, client, room):
        """A groupchat message from client through room, back to client: everything client
        sent to room before has been handled."""
        body = f"barrier {uuid.uuid4().hex[:6]}"
        mark = len(client.inbox)
        self.say(client, room, body)
        self.wait_stanza(client, groupchat(body), mark, what="the barrier's echo")

    def room_with(self, *users, fields=None, name="room"):
        """A room made by the first user (alice, owner, nick = user name), the others joined;
        returns (room, clients)."""
        room = self.room(name)
        clients = [self.login(user) for user in users]
        self.create(clients[0], room, users[0], fields)
        for user, client in zip(users[1:], clients[1:]):
            self.join(client, f"{room}/{user}")
        return room, clients


class Rooms(MucServer):
    def test_service_and_room_discovery(self):
        alice = self.login("alice")
        self.assertIn(MUC, self.disco_items(alice, HOST), "the server's disco#items lists the MUC service")
        identities, features, _ = self.disco_info(alice, MUC)
        self.assertIn(("conference", "text"), identities)
        self.assertIn("http://jabber.org/protocol/muc", features)
        room = self.room("public")
        self.create(alice, room, "alice", {"muc#roomconfig_roomname": "The Public Room",
                                           "muc#roomconfig_roomdesc": "for everyone",
                                           "muc#roomconfig_publicroom": "1"})
        hidden = self.room("hidden")
        self.create(alice, hidden, "alice", {"muc#roomconfig_publicroom": "0"})
        bob = self.login("bob")
        rooms = self.disco_items(bob, MUC)
        self.assertEqual(rooms.get(room), "The Public Room")
        self.assertNotIn(hidden, rooms)
        identities, features, fields = self.disco_info(bob, room)
        self.assertIn(("conference", "text"), identities)
        self.assertTrue({"http://jabber.org/protocol/muc", "muc_public", "muc_open", "muc_unmoderated",
                         "muc_unsecured", "muc_temporary", "muc_semianonymous"} <= features, features)
        self.assertEqual(fields.get("muc#roominfo_description"), ["for everyone"])
        self.assertIn("muc_hidden", self.disco_info(bob, hidden)[1])

    def test_new_room_locked_until_configured_then_instant(self):
        alice, bob = self.login("alice"), self.login("bob")
        room = self.room()
        presence = self.join(alice, f"{room}/alice")
        self.assertTrue({"110", "201"} <= codes(presence), presence)
        self.assertEqual((item_of(presence).get("affiliation"), item_of(presence).get("role")), ("owner", "moderator"))
        # XEP-0045 §10.1.2: locked until the owner configures it.
        self.assertEqual(self.join_error(bob, f"{room}/bob"), "item-not-found")
        self.iq(alice, "set", f"<query xmlns='{NS_MUC_OWNER}'>{form({})}</query>", to=room)  # instant room
        self.join(bob, f"{room}/bob")

    def test_join_presences_and_status_codes(self):
        room, (alice, bob) = self.room_with("alice", "bob")
        carol = self.login("carol")
        marks = len(alice.inbox), len(bob.inbox)
        presence = self.join(carol, f"{room}/carol")
        # A semi-anonymous room: no 100 (170 when the room is logged, §7.2.12, is optional:
        # Prosody 0.12 sends it only on a configuration change).
        self.assertEqual(codes(presence) - {"170"}, {"110"})
        self.assertEqual((item_of(presence).get("affiliation"), item_of(presence).get("role")), ("none", "participant"))
        # The occupants' presences came before the self-presence (§7.2.3).
        before = carol.inbox[:carol.inbox.index(presence)]
        for nick in ("alice", "bob"):
            self.assertTrue(any(presence_from(f"{room}/{nick}")(s) for s in before), f"{nick} before the self-presence")
        for client, mark in zip((alice, bob), marks):
            seen = self.wait_stanza(client, presence_from(f"{room}/carol"), mark, what="carol's join")
            # Semi-anonymous: a moderator sees the real JID, a participant does not.
            jid = item_of(seen).get("jid")
            self.assertEqual(jid and jid.split("/")[0], f"carol@{HOST}" if client is alice else None)
        # whois anyone: 172 to the occupants, and 100 in the next self-presence.
        mark = len(bob.inbox)
        self.configure(alice, room, {"muc#roomconfig_whois": "anyone"})
        notice = self.wait_stanza(bob, lambda s: s.name == "message" and "172" in codes(s), mark,
                                  what="the configuration change 172")
        self.assertEqual(str(notice["from"]), room)
        dave = self.login("dave")
        self.assertEqual(codes(self.join(dave, f"{room}/dave")) - {"170"}, {"110", "100"})

    def test_nickname_conflict_and_change(self):
        room, (alice, bob) = self.room_with("alice", "bob")
        carol = self.login("carol")
        self.assertEqual(self.join_error(carol, f"{room}/bob"), "conflict")
        self.assertEqual(self.join_error(carol, f"{room}/alice"), "conflict")
        mark_alice, mark_bob = len(alice.inbox), len(bob.inbox)
        bob.send_raw(f"<presence to='{room}/robert'/>")
        gone = self.wait_stanza(bob, lambda s: presence_from(f"{room}/bob", "unavailable")(s) and "303" in codes(s),
                                mark_bob, what="303 to bob")
        self.assertIn("110", codes(gone))
        self.assertEqual(item_of(gone).get("nick"), "robert")
        back = self.wait_stanza(bob, presence_from(f"{room}/robert"), mark_bob, what="bob as robert")
        self.assertIn("110", codes(back))
        seen = self.wait_stanza(alice, presence_from(f"{room}/bob", "unavailable"), mark_alice, what="303 to alice")
        self.assertEqual((codes(seen), item_of(seen).get("nick")), ({"303"}, "robert"))
        self.wait_stanza(alice, presence_from(f"{room}/robert"), mark_alice, what="robert to alice")
        # The old nickname is free again, the new one taken.
        self.join(carol, f"{room}/bob")
        mark = len(carol.inbox)
        carol.send_raw(f"<presence to='{room}/robert'/>")
        error = self.wait_stanza(carol, lambda s: s.name == "presence" and s.xml.get("type") == "error", mark,
                                 what="the conflict of a nick change")
        self.assertEqual(condition(error), "conflict")

    def test_leave(self):
        room, (alice, bob) = self.room_with("alice", "bob")
        mark = len(alice.inbox)
        bob.send_raw(f"<presence to='{room}/bob' type='unavailable'><status>bye</status></presence>")
        self.wait_stanza(bob, lambda s: presence_from(f"{room}/bob", "unavailable")(s) and "110" in codes(s),
                         what="bob's own unavailable")
        seen = self.wait_stanza(alice, presence_from(f"{room}/bob", "unavailable"), mark, what="bob leaving")
        self.assertEqual(seen["status"], "bye")
        # Gone: a message from bob is refused, nothing reaches alice.
        mark_bob, mark_alice = len(bob.inbox), len(alice.inbox)
        self.say(bob, room, "still here?")
        error = self.wait_stanza(bob, lambda s: s.name == "message" and s.xml.get("type") == "error", mark_bob,
                                 what="the error of a message from a non-occupant")
        self.assertIn(condition(error), ("not-acceptable", "forbidden"))
        self.barrier(alice, room)
        self.none_of(alice, groupchat("still here?"), mark_alice)

    def test_a_session_without_initial_presence_leaves_when_it_goes(self):
        # RFC 6121 §4.6.3: the room had directed presence from the session, which never
        # broadcast any; when the session ends the room hears it go, or keeps a ghost.
        room, (alice,) = self.room_with("alice")
        bob = self.login("bob", resource="quiet", initial_presence=False)
        self.join(bob, f"{room}/bob")
        mark = len(alice.inbox)
        bob.disconnect()
        self.wait_stanza(alice, presence_from(f"{room}/bob", "unavailable"), mark, what="bob's session going")

    def test_an_occupants_vcard_is_asked_of_its_account(self):
        # The room passes a vCard request for an occupant to the occupant's bare JID, as
        # Prosody does; the occupant's server answers it (here: the same server).
        room, (alice, bob) = self.room_with("alice", "bob")
        try:
            self.iq(alice, "get", "<vCard xmlns='vcard-temp'/>", to=f"{room}/bob")
        except IqError as e:
            self.assertNotEqual(condition(e.iq), "remote-server-timeout", str(e.iq))

    def test_history_on_join(self):
        room, (alice,) = self.room_with("alice")
        bodies = [f"line {n}" for n in range(1, 6)]
        for body in bodies:
            self.said(alice, room, body)
        time.sleep(1.1)  # the 'seconds' case below: older than one second

        def history(user, attributes):
            client = self.login(user, f"h{uuid.uuid4().hex[:6]}")
            self.join(client, f"{room}/{user}-{uuid.uuid4().hex[:4]}", history=attributes)
            # The subject (possibly empty) ends the history (§7.2.15); wait for it.
            self.wait_stanza(client, lambda s: s.name == "message" and s.xml.find("{jabber:client}subject")
                             is not None, what="the subject after the history")
            got = [s for s in client.inbox if s.name == "message" and s["body"]]
            for s in got:
                delay = s.xml.find(f"{{{NS_DELAY}}}delay")
                self.assertIsNotNone(delay, f"history without a delay: {s}")
                self.assertEqual(delay.get("from"), room)
                self.assertEqual(str(s["from"]), f"{room}/alice")
            client.disconnect()
            return [s["body"] for s in got]

        self.assertEqual(history("bob", None), bodies)
        self.assertEqual(history("bob", {"maxstanzas": 2}), bodies[-2:])
        self.assertEqual(history("bob", {"maxstanzas": 0}), [])
        self.assertEqual(history("bob", {"maxchars": 0}), [])
        self.assertEqual(history("bob", {"seconds": 1}), [])
        self.assertEqual(history("bob", {"seconds": 3600}), bodies)
        self.assertEqual(history("bob", {"since": "2000-01-01T00:00:00Z"}), bodies)
        self.assertEqual(history("bob", {"since": "2100-01-01T00:00:00Z"}), [])

    def test_subject(self):
        room, (alice, bob) = self.room_with("alice", "bob")
        mark = len(bob.inbox)
        alice.send_raw(f"<message to='{room}' type='groupchat'><subject>Today: tests</subject></message>")
        got = self.wait_stanza(bob, lambda s: s.name == "message" and s["subject"] == "Today: tests", mark,
                               what="the subject")
        self.assertEqual(str(got["from"]), f"{room}/alice")
        # A participant may not change it (muc#roomconfig_changesubject is off by default).
        mark = len(bob.inbox)
        bob.send_raw(f"<message to='{room}' type='groupchat'><subject>mine now</subject></message>")
        error = self.wait_stanza(bob, lambda s: s.name == "message" and s.xml.get("type") == "error", mark,
                                 what="the refusal of bob's subject")
        self.assertEqual(condition(error), "forbidden")
        self.configure(alice, room, {"muc#roomconfig_changesubject": "1"})
        mark = len(alice.inbox)
        bob.send_raw(f"<message to='{room}' type='groupchat'><subject>mine now</subject></message>")
        self.wait_stanza(alice, lambda s: s.name == "message" and s["subject"] == "mine now", mark,
                         what="bob's subject")
        # A newcomer gets the subject after the history.
        carol = self.login("carol")
        presence = self.join(carol, f"{room}/carol")
        got = self.wait_stanza(carol, lambda s: s.name == "message" and s["subject"], carol.inbox.index(presence),
                               what="the subject on join")
        self.assertEqual((got["subject"], str(got["from"])), ("mine now", f"{room}/bob"))

    def test_private_messages(self):
        room, (alice, bob) = self.room_with("alice", "bob")
        mark = len(alice.inbox)
        bob.send_message(mto=f"{room}/alice", mbody="psst", mtype="chat")
        got = self.wait_stanza(alice, lambda s: s.name == "message" and s["body"] == "psst", mark, what="the PM")
        self.assertEqual((str(got["from"]), got.xml.get("type")), (f"{room}/bob", "chat"))
        self.assertNotIn(f"bob@{HOST}", str(got), "a private message shows the sender's nick, not the real JID")
        mark = len(bob.inbox)
        alice.send_message(mto=f"{room}/bob", mbody="yes?", mtype="chat")
        got = self.wait_stanza(bob, lambda s: s.name == "message" and s["body"] == "yes?", mark, what="the answer")
        self.assertEqual(str(got["from"]), f"{room}/alice")
        mark = len(bob.inbox)
        bob.send_message(mto=f"{room}/nobody", mbody="hello?", mtype="chat")
        error = self.wait_stanza(bob, lambda s: s.name == "message" and s.xml.get("type") == "error", mark,
                                 what="the error of a PM to nobody")
        self.assertEqual(condition(error), "item-not-found")

    def test_mediated_and_direct_invitations(self):
        room, (alice,) = self.room_with("alice")
        carol, dave = self.login("carol"), self.login("dave")
        mark = len(carol.inbox)
        alice.send_raw(f"<message to='{room}'><x xmlns='{NS_MUC_USER}'><invite to='carol@{HOST}'>"
                       f"<reason>join us</reason></invite></x></message>")
        got = self.wait_stanza(carol, lambda s: s.name == "message" and s.xml.find(q(NS_MUC_USER, "x/invite"))
                               is not None, mark, what="the mediated invitation")
        invite = got.xml.find(q(NS_MUC_USER, "x/invite"))
        self.assertEqual(str(got["from"]), room)
        # §7.8.2: from the inviter; Prosody names her by her occupant JID in a semi-anonymous
        # room, which hides her real one.
        self.assertIn(invite.get("from"), (f"alice@{HOST}", str(alice.boundjid), f"{room}/alice"))
        self.assertEqual(invite.findtext(f"{{{NS_MUC_USER}}}reason"), "join us")
        # XEP-0249: from client to client, the server passes it on.
        mark = len(dave.inbox)
        alice.plugin["xep_0249"].send_invitation(dave.boundjid.bare, room, reason="come along")
        got = self.wait_stanza(dave, lambda s: s.name == "message" and s.xml.find(f"{{{NS_CONFERENCE}}}x")
                               is not None, mark, what="the direct invitation")
        self.assertEqual(got.xml.find(f"{{{NS_CONFERENCE}}}x").get("jid"), room)
        self.join(dave, f"{room}/dave")
        # A mere member may not invite in a members-only room without allow invites: forbidden
        # (§9.5, a MUST). (A non-member would have been removed, 322, when the room became
        # members-only.)
        self.admin_set(alice, room, {"jid": f"dave@{HOST}", "affiliation": "member"})
        self.configure(alice, room, {"muc#roomconfig_membersonly": "1", **{var: "0" for var in ALLOW_INVITES}})
        mark = len(dave.inbox)
        dave.send_raw(f"<message to='{room}'><x xmlns='{NS_MUC_USER}'><invite to='bob@{HOST}'/></x></message>")
        error = self.wait_stanza(dave, lambda s: s.name == "message" and s.xml.get("type") == "error", mark,
                                 what="the refusal of dave's invitation")
        self.assertEqual(condition(error), "forbidden")

    def test_configuration_form(self):
        room, (alice,) = self.room_with("alice")
        fields = self.config_form(alice, room)
        # Prosody's form has no muc#roomconfig_passwordprotectedroom (a non-empty secret is
        # the protection) and names allow invites {http://prosody.im/protocol/muc}
        # roomconfig_allowmemberinvites; clients set the secret, and either name of the other.
        for var in ("muc#roomconfig_roomname", "muc#roomconfig_roomdesc", "muc#roomconfig_persistentroom",
                    "muc#roomconfig_publicroom", "muc#roomconfig_membersonly", "muc#roomconfig_moderatedroom",
                    "muc#roomconfig_roomsecret", "muc#roomconfig_whois", "muc#roomconfig_changesubject"):
            self.assertIn(var, fields)
        self.assertTrue(set(fields) & set(ALLOW_INVITES), fields)
        self.configure(alice, room, {"muc#roomconfig_roomname": "Settings", "muc#roomconfig_roomdesc": "all set",
                                     "muc#roomconfig_persistentroom": "1", "muc#roomconfig_publicroom": "0",
                                     "muc#roomconfig_membersonly": "1", "muc#roomconfig_moderatedroom": "1",
                                     "muc#roomconfig_passwordprotectedroom": "1",
                                     "muc#roomconfig_roomsecret": "sesame", "muc#roomconfig_whois": "anyone",
                                     **{var: "1" for var in ALLOW_INVITES}, "muc#roomconfig_changesubject": "1"})
        fields = self.config_form(alice, room)
        self.assertEqual(fields["muc#roomconfig_roomname"], ["Settings"])
        self.assertEqual(fields["muc#roomconfig_roomdesc"], ["all set"])
        self.assertEqual(fields["muc#roomconfig_roomsecret"], ["sesame"])
        self.assertEqual(fields["muc#roomconfig_whois"], ["anyone"])
        for var in ("persistentroom", "membersonly", "moderatedroom", "changesubject"):
            self.assertIn(fields[f"muc#roomconfig_{var}"], (["1"], ["true"]), var)
        self.assertIn([fields[var] for var in ALLOW_INVITES if var in fields][0], (["1"], ["true"]))
        self.assertIn(fields["muc#roomconfig_publicroom"], (["0"], ["false"]))
        _, features, info = self.disco_info(alice, room)
        self.assertTrue({"muc_persistent", "muc_hidden", "muc_membersonly", "muc_moderated",
                         "muc_passwordprotected", "muc_nonanonymous"} <= features, features)
        # Only the owner sees or changes the form.
        bob = self.login("bob")
        self.assertEqual(self.iq_error(bob, "get", f"<query xmlns='{NS_MUC_OWNER}'/>", to=room), "forbidden")

    def test_kick(self):
        room, (alice, bob, carol) = self.room_with("alice", "bob", "carol")
        marks = len(bob.inbox), len(carol.inbox)
        self.admin_set(alice, room, {"nick": "bob", "role": "none"}, reason="out")
        own = self.wait_stanza(bob, lambda s: presence_from(f"{room}/bob", "unavailable")(s), marks[0],
                               what="bob's kick")
        self.assertTrue({"307", "110"} <= codes(own), own)
        seen = self.wait_stanza(carol, presence_from(f"{room}/bob", "unavailable"), marks[1], what="bob's kick")
        self.assertIn("307", codes(seen))
        # A kicked user may come back; a participant may not kick (XEP-0045 names no condition
        # for it: Prosody says not-allowed).
        self.join(bob, f"{room}/bob")
        self.assertIn(self.iq_error(bob, "set", f"<query xmlns='{NS_MUC_ADMIN}'><item nick='carol' role='none'/>"
                                                "</query>", to=room), ("not-allowed", "forbidden"))

    def test_ban(self):
        room, (alice, carol) = self.room_with("alice", "carol")
        mark = len(carol.inbox)
        self.admin_set(alice, room, {"jid": f"carol@{HOST}", "affiliation": "outcast"}, reason="spam")
        own = self.wait_stanza(carol, presence_from(f"{room}/carol", "unavailable"), mark, what="carol's ban")
        self.assertTrue({"301", "110"} <= codes(own), own)
        self.assertEqual(self.admin_list(alice, room, "outcast"), [f"carol@{HOST}"])
        self.assertEqual(self.join_error(carol, f"{room}/carol"), "forbidden")
        self.assertEqual(self.join_error(carol, f"{room}/another-nick"), "forbidden")
        # Lifted, she may join again.
        self.admin_set(alice, room, {"jid": f"carol@{HOST}", "affiliation": "none"})
        self.join(carol, f"{room}/carol")

    def test_voice_in_a_moderated_room(self):
        room, (alice,) = self.room_with("alice", fields={"muc#roomconfig_moderatedroom": "1"})
        bob = self.login("bob")
        presence = self.join(bob, f"{room}/bob")
        self.assertEqual(item_of(presence).get("role"), "visitor")
        mark_bob, mark_alice = len(bob.inbox), len(alice.inbox)
        self.say(bob, room, "may I?")
        error = self.wait_stanza(bob, lambda s: s.name == "message" and s.xml.get("type") == "error", mark_bob,
                                 what="a visitor's message refused")
        self.assertEqual(condition(error), "forbidden")
        self.barrier(alice, room)
        self.none_of(alice, groupchat("may I?"), mark_alice)
        mark = len(bob.inbox)
        self.admin_set(alice, room, {"nick": "bob", "role": "participant"})
        voiced = self.wait_stanza(bob, presence_from(f"{room}/bob"), mark, what="bob's voice")
        self.assertEqual(item_of(voiced).get("role"), "participant")
        self.said(bob, room, "thank you", alice)
        self.assertEqual(self.admin_list(alice, room, role="participant"), ["bob"])

    def test_member_admin_and_owner_lists(self):
        room, (alice,) = self.room_with("alice")
        self.admin_set(alice, room, {"jid": f"bob@{HOST}", "affiliation": "member"})
        self.admin_set(alice, room, {"jid": f"carol@{HOST}", "affiliation": "admin"})
        self.admin_set(alice, room, {"jid": f"dave@{HOST}", "affiliation": "owner"})
        self.assertEqual(self.admin_list(alice, room, "member"), [f"bob@{HOST}"])
        self.assertEqual(self.admin_list(alice, room, "admin"), [f"carol@{HOST}"])
        self.assertEqual(self.admin_list(alice, room, "owner"), [f"alice@{HOST}", f"dave@{HOST}"])
        carol = self.login("carol")
        presence = self.join(carol, f"{room}/carol")
        self.assertEqual((item_of(presence).get("affiliation"), item_of(presence).get("role")), ("admin", "moderator"))
        # An admin may not touch an owner (§10.6, §9.4).
        self.assertIn(self.iq_error(carol, "set", f"<query xmlns='{NS_MUC_ADMIN}'><item jid='dave@{HOST}' "
                                                  "affiliation='none'/></query>", to=room), ("not-allowed", "forbidden"))
        # The last owner cannot leave the owner list (§10.9).
        self.admin_set(alice, room, {"jid": f"dave@{HOST}", "affiliation": "none"})
        self.assertIn(self.iq_error(alice, "set", f"<query xmlns='{NS_MUC_ADMIN}'><item jid='alice@{HOST}' "
                                                  "affiliation='admin'/></query>", to=room), ("conflict", "not-allowed"))

    def test_members_only_room(self):
        room, (alice,) = self.room_with("alice", fields={"muc#roomconfig_membersonly": "1"})
        carol = self.login("carol")
        self.assertEqual(self.join_error(carol, f"{room}/carol"), "registration-required")
        self.admin_set(alice, room, {"jid": f"carol@{HOST}", "affiliation": "member"})
        self.join(carol, f"{room}/carol")
        # Losing the membership removes her (321).
        mark = len(carol.inbox)
        self.admin_set(alice, room, {"jid": f"carol@{HOST}", "affiliation": "none"})
        gone = self.wait_stanza(carol, presence_from(f"{room}/carol", "unavailable"), mark, what="carol removed")
        self.assertIn("321", codes(gone))

    def test_password_protected_room(self):
        room, (alice,) = self.room_with("alice", fields={"muc#roomconfig_passwordprotectedroom": "1",
                                                         "muc#roomconfig_roomsecret": "sesame"})
        bob = self.login("bob")
        self.assertEqual(self.join_error(bob, f"{room}/bob"), "not-authorized")
        self.assertEqual(self.join_error(bob, f"{room}/bob", password="wrong"), "not-authorized")
        self.join(bob, f"{room}/bob", password="sesame")

    def test_reserved_nickname(self):
        room, (alice,) = self.room_with("alice")
        # Prosody lets affiliated users register (allow_unaffiliated_register is off).
        self.admin_set(alice, room, {"jid": f"bob@{HOST}", "affiliation": "member"})
        bob, carol = self.login("bob"), self.login("carol")
        result = self.iq(bob, "get", f"<query xmlns='{NS_REGISTER}'/>", to=room)
        self.assertIsNotNone(result.xml.find(q(NS_REGISTER, "query") + "/{jabber:x:data}x"), result)
        self.iq(bob, "set", f"<query xmlns='{NS_REGISTER}'>"
                            f"{form({'muc#register_roomnick': 'bobby'}, 'http://jabber.org/protocol/muc#register')}"
                            "</query>", to=room)
        self.assertEqual(self.join_error(carol, f"{room}/bobby"), "conflict")
        self.join(bob, f"{room}/bobby")

    def test_occupants_cannot_impersonate(self):
        room, (alice, bob) = self.room_with("alice", "bob")
        # Bob names himself alice in every way a stanza can: the room sends it from bob.
        mark = len(alice.inbox)
        self.say(bob, room, "I am alice", extra="<nick xmlns='http://jabber.org/protocol/nick'>alice</nick>")
        got = self.wait_stanza(alice, groupchat("I am alice"), mark, what="bob's message")
        self.assertEqual(str(got["from"]), f"{room}/bob")
        # A groupchat message to an occupant's address is no way around it.
        mark_alice = len(alice.inbox)
        bob.send_raw(f"<message to='{room}/alice' type='groupchat'><body>forged</body></message>")
        self.barrier(bob, room)
        self.barrier(alice, room)
        self.none_of(alice, lambda s: s.name == "message" and s["body"] == "forged" and str(s["from"]) != f"{room}/bob",
                     mark_alice, "message from a forged sender")
        self.none_of(alice, groupchat("forged"), mark_alice, "groupchat message sent to one occupant")

    def test_destroy_with_an_alternate_venue(self):
        room, (alice, bob) = self.room_with("alice", "bob", fields={"muc#roomconfig_persistentroom": "1"})
        venue = self.room("venue")
        mark = len(bob.inbox)
        self.iq(alice, "set", f"<query xmlns='{NS_MUC_OWNER}'><destroy jid='{venue}'><reason>moved</reason>"
                              "</destroy></query>", to=room)
        gone = self.wait_stanza(bob, presence_from(f"{room}/bob", "unavailable"), mark, what="the destruction")
        destroy = gone.xml.find(q(NS_MUC_USER, "x/destroy"))
        self.assertIsNotNone(destroy, gone)
        self.assertEqual((destroy.get("jid"), destroy.findtext(f"{{{NS_MUC_USER}}}reason")), (venue, "moved"))
        # The tombstone (muc_tombstones) answers a later join with gone and the venue.
        mark = self.send_join(bob, f"{room}/bob")
        error = self.wait_stanza(bob, lambda s: s.name == "presence" and s["from"].bare == room, mark,
                                 what="the tombstone's answer")
        self.assertEqual(condition(error), "gone", error)
        self.assertIn(venue, error.xml.find("{jabber:client}error").findtext(
            "{urn:ietf:params:xml:ns:xmpp-stanzas}gone") or "")
        self.assertNotIn(room, self.disco_items(bob, MUC))

    def test_occupant_ids(self):
        room, (alice, bob) = self.room_with("alice", "bob")
        self.assertIn(NS_OCCUPANT_ID, self.disco_info(alice, room)[1])
        carol = self.login("carol")
        mark = len(alice.inbox)
        presence = self.join(carol, f"{room}/carol")
        own_id = presence["occupant-id"]["id"]
        self.assertTrue(own_id)
        seen = self.wait_stanza(alice, presence_from(f"{room}/carol"), mark, what="carol's join")
        self.assertEqual(seen["occupant-id"]["id"], own_id)
        bob_id = self.wait_stanza(alice, presence_from(f"{room}/bob"), what="bob")["occupant-id"]["id"]
        self.assertNotEqual(bob_id, own_id)
        # Same id after a nick change, and on messages.
        mark = len(alice.inbox)
        carol.send_raw(f"<presence to='{room}/caroline'/>")
        renamed = self.wait_stanza(alice, presence_from(f"{room}/caroline"), mark, what="carol renamed")
        self.assertEqual(renamed["occupant-id"]["id"], own_id)
        message = self.said(carol, room, "who am I", alice)[1]
        self.assertEqual(message["occupant-id"]["id"], own_id)
        # An occupant's own occupant-id element is replaced, not passed on.
        mark = len(alice.inbox)
        self.say(bob, room, "forged id", extra=f"<occupant-id xmlns='{NS_OCCUPANT_ID}' id='{own_id}'/>")
        got = self.wait_stanza(alice, groupchat("forged id"), mark, what="bob's message")
        self.assertEqual([e.get("id") for e in got.xml.findall(f"{{{NS_OCCUPANT_ID}}}occupant-id")], [bob_id])

    def test_self_ping(self):
        room, (alice, bob) = self.room_with("alice", "bob")
        self.iq(bob, "get", f"<ping xmlns='{NS_PING}'/>", to=f"{room}/bob")
        self.leave(bob, f"{room}/bob")
        self.assertEqual(self.iq_error(bob, "get", f"<ping xmlns='{NS_PING}'/>", to=f"{room}/bob"), "not-acceptable")

    def test_room_archive(self):
        room, (alice, bob) = self.room_with("alice", "bob")
        ids = []
        for body in ("first", "second", "third"):
            echo, seen = self.said(alice, room, body, bob)
            sids = [s.get("id") for s in seen.xml.findall(f"{{{NS_SID}}}stanza-id") if s.get("by") == room]
            self.assertEqual(len(sids), 1, seen)
            self.assertEqual([s.get("id") for s in echo.xml.findall(f"{{{NS_SID}}}stanza-id")
                              if s.get("by") == room], sids)
            ids += sids
        self.assertIn(NS_MAM, self.disco_info(bob, room)[1])
        mark = len(bob.inbox)
        reply = self.iq(bob, "set", f"<query xmlns='{NS_MAM}' queryid='q1'/>", to=room)
        results = [m for m in bob.inbox[mark:] if m.name == "message"
                   and m.xml.find(f"{{{NS_MAM}}}result[@queryid='q1']") is not None]
        got = []
        for m in results:
            result = m.xml.find(f"{{{NS_MAM}}}result")
            inner = result.find(f"{{{NS_FORWARD}}}forwarded/{{jabber:client}}message")
            self.assertEqual(str(m["from"]), room)
            got.append((result.get("id"), inner.findtext("{jabber:client}body"), inner.get("from")))
        self.assertEqual(got, [(i, b, f"{room}/alice") for i, b in zip(ids, ("first", "second", "third"))])
        self.assertEqual(reply.xml.find(f"{{{NS_MAM}}}fin").get("complete"), "true")
        # 170/171: archiving turned off and on shows in a status message.
        mark = len(bob.inbox)
        self.configure(alice, room, {"muc#roomconfig_enablearchiving": "0"})
        self.wait_stanza(bob, lambda s: s.name == "message" and "171" in codes(s), mark, what="171")
        mark = len(bob.inbox)
        self.configure(alice, room, {"muc#roomconfig_enablearchiving": "1"})
        self.wait_stanza(bob, lambda s: s.name == "message" and "170" in codes(s), mark, what="170")

    def test_profanity_joins_sees_the_history_and_chats(self):
        # A person's view: Profanity (Debian's 0.13, libstrophe) in a tmux terminal.
        self.assertTrue(shutil.which("profanity") and shutil.which("tmux"), "profanity and tmux (./dev installs them)")
        room, (alice,) = self.room_with("alice")
        self.said(alice, room, "said before profanity came")
        terminal = Terminal(tempfile.mkdtemp(prefix="profanity-", dir=self.workdir))
        self.addCleanup(terminal.close)
        terminal.start_profanity(f"bob@{HOST}", password("bob"))
        self.wait_screen(terminal, "logged in successfully")
        mark = len(alice.inbox)
        terminal.type(f"/join {room} nick bob")
        self.wait_stanza(alice, presence_from(f"{room}/bob"), mark, what="profanity's join")
        self.wait_screen(terminal, "said before profanity came")
        terminal.type("hello from profanity")
        got = self.wait_stanza(alice, groupchat("hello from profanity"), mark, what="profanity's message")
        self.assertEqual(str(got["from"]), f"{room}/bob")
        self.say(alice, room, "hello back, bob")
        self.wait_screen(terminal, "hello back, bob")

    def wait_screen(self, terminal, text, timeout=15):
        try:
            harness.wait_for(lambda: text in terminal.screen(), timeout, f"'{text}' on profanity's screen")
        except AssertionError as e:
            raise AssertionError(f"{e}; the screen:\n{terminal.screen()}") from None

    @xmppd_only("vcard_muc is a community module for Prosody 0.12")
    def test_room_vcard(self):
        room, (alice, bob) = self.room_with("alice", "bob")
        self.assertIn("vcard-temp", self.disco_info(bob, room)[1])
        photo = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
        vcard = (f"<vCard xmlns='vcard-temp'><FN>The Room</FN><PHOTO><TYPE>image/png</TYPE>"
                 f"<BINVAL>{photo}</BINVAL></PHOTO></vCard>")
        self.iq(alice, "set", vcard, to=room)
        got = self.iq(bob, "get", "<vCard xmlns='vcard-temp'/>", to=room)
        self.assertEqual(got.xml.findtext("{vcard-temp}vCard/{vcard-temp}PHOTO/{vcard-temp}BINVAL"), photo)
        # Only an owner sets it.
        self.assertEqual(self.iq_error(bob, "set", vcard.replace("The Room", "Mine"), to=room), "forbidden")


class RegisteredNicknames(MucServer):
    """A registered nickname is the one its owner gets (Prosody's enforce_registered_nickname,
    off by default; XEP-0045 §7.2.9 the service changing a nickname: 210). The only way a
    client sees 210 from Prosody, and from xmppd: both prepare the nickname in the address
    before the room sees it (a full-width nickname arrives as ASCII, without 210)."""
    MUC_OPTIONS = {**MucServer.MUC_OPTIONS, "enforce_registered_nickname": True}

    def test_registered_nickname_replaces_the_requested_one(self):
        room, (alice,) = self.room_with("alice")
        self.admin_set(alice, room, {"jid": f"bob@{HOST}", "affiliation": "member"})
        bob = self.login("bob")
        self.iq(bob, "set", f"<query xmlns='{NS_REGISTER}'>"
                            f"{form({'muc#register_roomnick': 'bobby'}, 'http://jabber.org/protocol/muc#register')}"
                            "</query>", to=room)
        mark = self.send_join(bob, f"{room}/bob")
        got = self.wait_stanza(bob, lambda s: s.name == "presence" and s["from"].bare == room and "110" in codes(s),
                               mark, what="bob's self-presence")
        self.assertEqual(str(got["from"]), f"{room}/bobby")
        self.assertIn("210", codes(got))


class Persistence(MucServer):
    def test_persistent_room_survives_a_restart_a_temporary_one_does_not(self):
        alice = self.login("alice")
        kept, lost = self.room("kept"), self.room("lost")
        self.create(alice, kept, "alice", {"muc#roomconfig_persistentroom": "1",
                                           "muc#roomconfig_roomname": "Kept", "muc#roomconfig_membersonly": "1",
                                           "muc#roomconfig_publicroom": "1"})
        self.admin_set(alice, kept, {"jid": f"bob@{HOST}", "affiliation": "member"})
        # The room is archived (muc_mam, muc_log_by_default): its history on entering is
        # read back from the archive after the restart, with the original times and ids.
        sent = []
        for body in ("before the restart", "and a second line"):
            before = time.time()
            echo, = self.said(alice, kept, body)
            sids = [e.get("id") for e in echo.xml.findall(f"{{{NS_SID}}}stanza-id") if e.get("by") == kept]
            sent.append((body, sids, before, time.time()))
        self.create(alice, lost, "alice")
        alice.disconnect()
        self.wait(asyncio.sleep(1.1))  # a restart later than the messages' seconds
        restarted = time.time()
        self.restart_server()
        alice, bob, carol = self.login("alice", "again"), self.login("bob"), self.login("carol")
        self.assertEqual(self.disco_items(bob, MUC).get(kept), "Kept")
        self.assertNotIn(lost, self.disco_items(bob, MUC))
        self.assertEqual(self.join_error(carol, f"{kept}/carol"), "registration-required")
        mark = len(bob.inbox)
        presence = self.join(bob, f"{kept}/bob")
        self.assertNotIn("201", codes(presence))
        self.assertEqual(item_of(presence).get("affiliation"), "member")
        self.wait_stanza(bob, lambda s: s.name == "message" and s.xml.find("{jabber:client}subject") is not None,
                         mark, what="the subject after the history")
        history = [s for s in bob.inbox[mark:] if s.name == "message" and s["body"]]
        self.assertEqual([s["body"] for s in history], [body for body, _, _, _ in sent])
        for s, (body, sids, before, after) in zip(history, sent):
            self.assertEqual(str(s["from"]), f"{kept}/alice")
            delay = s.xml.find(f"{{{NS_DELAY}}}delay")
            self.assertIsNotNone(delay, f"history without a delay: {s}")
            self.assertEqual(delay.get("from"), kept)
            stamp = datetime.datetime.fromisoformat(delay.get("stamp").replace("Z", "+00:00")).timestamp()
            self.assertTrue(int(before) - 1 <= stamp <= after + 1 < restarted, (body, delay.get("stamp"), before))
            self.assertEqual([e.get("id") for e in s.xml.findall(f"{{{NS_SID}}}stanza-id") if e.get("by") == kept],
                             sids)
        self.assertEqual(self.config_form(alice, kept)["muc#roomconfig_roomname"], ["Kept"])
        # The temporary room is new again.
        self.assertIn("201", codes(self.join(carol, f"{lost}/carol")))


class Limits(MucServer):
    """xmppd's limits, small so that a test reaches them (xmppd.conf(5))."""
    XMPPD_MUC_OPTIONS = {"muc_max_occupants": 3, "muc_max_nick_length": 16, "muc_event_rate": 1,
                         "muc_burst_factor": 4, "muc_max_rooms_per_user": 2}

    @xmppd_only("Prosody 0.12 has no muc#roomconfig_maxusers")
    def test_room_full(self):
        room, (alice, bob, carol) = self.room_with("alice", "bob", "carol")
        dave = self.login("dave")
        self.assertEqual(self.join_error(dave, f"{room}/dave"), "service-unavailable")
        fields = self.config_form(alice, room)
        self.assertIn("muc#roomconfig_maxusers", fields)

    @xmppd_only("Prosody 0.12 has no nickname length limit")
    def test_nickname_too_long(self):
        room, (alice,) = self.room_with("alice")
        bob = self.login("bob")
        self.assertIn(self.join_error(bob, f"{room}/{'b' * 17}"), ("not-acceptable", "policy-violation",
                                                                    "jid-malformed"))
        self.join(bob, f"{room}/{'b' * 16}")

    @xmppd_only("Prosody 0.12 has its message rate limit in a community module (mod_muc_limits)")
    def test_message_rate(self):
        room, (alice, bob) = self.room_with("alice", "bob")
        mark = len(bob.inbox)
        for n in range(12):
            self.say(bob, room, f"flood {n}")
        error = self.wait_stanza(bob, lambda s: s.name == "message" and s.xml.get("type") == "error", mark,
                                 what="the rate limit's error")
        self.assertEqual(condition(error), "resource-constraint")

    @xmppd_only("Prosody 0.12 has no per-user room limit")
    def test_rooms_per_user(self):
        dave = self.login("dave")  # who made no room in the other tests
        for _ in range(2):
            self.create(dave, self.room("mine"), "dave")
        self.assertIn(self.join_error(dave, f"{self.room('one-too-many')}/dave"),
                      ("resource-constraint", "not-allowed", "policy-violation"))


class RestrictedCreation(MucServer):
    GLOBAL_OPTIONS = {"admins": [f"alice@{HOST}"]}
    MUC_OPTIONS = {"restrict_room_creation": "admin"}

    def test_only_admins_create_rooms(self):
        alice, bob = self.login("alice"), self.login("bob")
        room = self.room()
        self.assertEqual(self.join_error(bob, f"{room}/bob"), "not-allowed")
        self.create(alice, room, "alice")
        self.join(bob, f"{room}/bob")


if __name__ == "__main__":
    harness.main()
