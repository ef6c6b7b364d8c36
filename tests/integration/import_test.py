#!/usr/bin/env python3
"""Migration from Prosody (xmppctl import prosody): a real Prosody 0.12 writes its data
directory (accounts made with prosodyctl and in-band, a roster with a pending subscription
each way, a vcard-temp vCard with a photo, which Prosody's default mod_vcard_legacy keeps as
vCard4 and avatar PEP nodes, private XML, a PEP item and an offline message, all set by slixmpp
clients); Prosody stops; xmppctl imports it; xmppd starts on the same host and the users log
in with their old passwords (SCRAM-SHA-1, a client that would prefer SCRAM-SHA-256, PLAIN)
and find their data: the vcard-temp vCard Prosody answered, and its XEP-0153 photo hash in
presence. A malformed account file gives a file:line error, a non-zero exit and
nothing imported for that user; a bad item of the other files (which others can write into) is
skipped with a file:line warning, never the account. PEP nodes Prosody kept for roster groups
become owner-only; no symbolic link to a directory is followed.

ImportRooms: Prosody's MUC component keeps a configured persistent members-only room (admin,
member with a reserved nickname, outcast, subject), a persistent room whose file is then
damaged, and a live room that is not persistent; xmppctl imports the host and the component,
and xmppd's room has the configuration, affiliations and subject; the damaged room is refused
with its FILE:LINE, the other imported, and a second run skips the room xmppd has."""
import asyncio
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

import slixmpp

import certs
import harness
import streams
from clients_test import Client, ClientTest, XMPPCTL
from muc import NS_MAM, NS_MUC_ADMIN, NS_SID, MucClient, MucSteps, ProsodyWithMuc, codes, condition, q
from prosody import Prosody, fresh_workdir

HOST = "chat.test"
ADDRESS = "127.0.0.1"
PASSWORDS = {"alice": "alice's old secret", "bob": "bob's old secret", "carol": "carol's plain secret"}
PRIVATE = "jabber:iq:private"
VCARD = "vcard-temp"
NICK = "http://jabber.org/protocol/nick"
VCARD_UPDATE = "vcard-temp:x:update"
# A 1x1 PNG: alice's photo.
PHOTO = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
# vcard_legacy, as Prosody's default configuration: a vcard-temp vCard set is kept in PEP.
MODULES = ["roster", "saslauth", "tls", "disco", "private", "vcard_legacy", "pep", "offline", "presence", "message"]


async def settle(client):
    return await asyncio.wait_for(client.outcome, 20)


def make_data(test):
    """Drives Prosody with slixmpp clients: see the module's docstring."""
    loop = test.loop
    prosody = test.prosody
    prosody.register("alice", PASSWORDS["alice"])
    prosody.register("bob", PASSWORDS["bob"])
    prosody.start()

    def login(user):
        client = Client(f"{user}@{HOST}/import", PASSWORDS[user], test.ca_file, "SCRAM-SHA-1")
        for plugin in ("xep_0049", "xep_0054", "xep_0163", "xep_0172", "xep_0060"):
            client.register_plugin(plugin)
        # Requests stay unanswered: the test wants them pending in Prosody's files.
        client.roster.auto_authorize = None  # neither accept nor refuse
        client.roster.auto_subscribe = False
        test.clients.append(client)
        client.connect((ADDRESS, 5222))
        test.assertEqual(loop.run_until_complete(settle(client)), "session", user)
        return client

    def run(awaitable):
        return loop.run_until_complete(asyncio.wait_for(awaitable, 20))

    alice = login("alice")
    run(alice.update_roster(f"bob@{HOST}", name="Bobby", groups=["Friends", "Work"]))
    # bob is offline: Prosody keeps the request for him (a pending inbound subscription).
    alice.send_presence(pto=f"bob@{HOST}", ptype="subscribe")
    alice.send_presence(pto=f"dave@{HOST}", ptype="subscribe")
    iq = alice.make_iq_set()
    vcard = ET.SubElement(iq.xml, f"{{{VCARD}}}vCard")
    ET.SubElement(vcard, f"{{{VCARD}}}FN").text = "Alice Liddell"
    ET.SubElement(vcard, f"{{{VCARD}}}NICKNAME").text = "Ali"
    email = ET.SubElement(vcard, f"{{{VCARD}}}EMAIL")
    ET.SubElement(email, f"{{{VCARD}}}USERID").text = "alice@example.org"
    photo = ET.SubElement(vcard, f"{{{VCARD}}}PHOTO")
    ET.SubElement(photo, f"{{{VCARD}}}TYPE").text = "image/png"
    ET.SubElement(photo, f"{{{VCARD}}}BINVAL").text = base64.b64encode(PHOTO).decode()
    run(iq.send(timeout=20))
    iq = alice.make_iq_set()
    query = ET.SubElement(iq.xml, f"{{{PRIVATE}}}query")
    ET.SubElement(query, "{urn:example:prefs}prefs", {"colour": "blue"}).text = "tea & <cake>"
    run(iq.send(timeout=20))
    run(alice["xep_0172"].publish_nick("Alice in Wonderland"))
    alice.disconnect()
    bob = login("bob")
    # bob leaves alice's request unanswered and sends alice, who is offline, a message.
    bob.send_message(mto=f"alice@{HOST}", mbody="while you were away", mtype="chat")
    run(asyncio.sleep(0.5))
    bob.disconnect()
    run(asyncio.sleep(0.5))
    prosody.stop()


XMPPD_MODULES = '{ "roster", "offline", "private", "vcard_legacy", "pep", "disco" }'


class Import(ClientTest):
    """Prosody writes its data once per test; xmppd is set up but started only after the import."""

    def setUp(self):
        super().setUp()
        self.issue_host_certificates(HOST)
        workdir = fresh_workdir(self.workdir, "prosody")
        self.prosody = Prosody(workdir, HOST, ADDRESS, f"{self.workdir}/certs/{HOST}.crt",
                               f"{self.workdir}/certs/{HOST}.key", self.ca_file,
                               options={"modules_enabled": MODULES, "c2s_require_encryption": True})
        self.servers.append(self.prosody)
        make_data(self)
        # carol: an account of internal_plain (its password in the clear), as Prosody keeps it.
        accounts = os.path.join(self.prosody.data_path, "chat%2etest", "accounts")
        with open(os.path.join(accounts, "carol.dat"), "w") as f:
            f.write('return {\n\t["password"] = "carol\'s plain secret";\n};\n')
        config = harness.basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n'
                                      f'modules_enabled = {XMPPD_MODULES}\n')
        self.config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\n')
        self.xmppd = self.server(self.config)
        open(self.xmppd.log_path, "a").close()  # judged at the end even if xmppd never starts

    def import_prosody(self, *extra):
        return subprocess.run([XMPPCTL, "-f", self.xmppd.config, "import", "prosody", *extra,
                               self.prosody.data_path], capture_output=True, text=True, timeout=60)

    def start_xmppd(self):
        self.xmppd.start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts?")

    def login(self, user, mechanism, requests=None, presences=None, resource="new"):
        client = Client(f"{user}@{HOST}/{resource}", PASSWORDS[user], self.ca_file, mechanism)
        client.roster.auto_authorize = None  # neither accept nor refuse
        if presences is not None:
            client.add_event_handler("presence", presences.put_nowait)
        if requests is not None:
            client.add_event_handler("presence_subscribe", requests.put_nowait)
        for plugin in ("xep_0049", "xep_0054", "xep_0060"):
            client.register_plugin(plugin)
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        return client, self.loop.run_until_complete(asyncio.wait_for(client.outcome, 20))

    def mechanisms(self):
        """The SASL mechanisms the host offers after STARTTLS."""
        with streams.connect(5222) as sock:
            tls, _, after = streams.starttls(sock, HOST, self.ca_file)
            tls.close()
        return re.findall(r"<mechanism>([^<]+)</mechanism>", after.decode())

    def run_(self, awaitable):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, 20))

    def prosody_file(self, *parts):
        return os.path.join(self.prosody.data_path, "chat%2etest", *parts)

    def test_users_log_in_with_their_old_passwords_and_find_their_data(self):
        with open(self.prosody_file("roster", "alice.dat")) as f:
            prosody_version = int(re.search(r'version"?\]? = (\d+)', f.read()).group(1))
        r = self.import_prosody()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"{HOST}: 3 accounts imported, 0 skipped, 0 refused; 2 accounts SHA-1-only", r.stdout)
        # 4 PEP nodes: the nick, and the vcard4 and avatar (data, metadata) nodes of the vCard.
        self.assertRegex(r.stdout, f"{HOST}: data of 3 users: 2 roster items, 1 pending subscription requests, "
                         "1 offline messages, 1 vCards, 1 private XML elements, 4 PEP nodes with 4 items")
        # Again: every account exists now, and nothing is written twice.
        again = self.import_prosody()
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn(f"alice@{HOST}: exists in xmppd, skipped", again.stdout)
        self.assertIn(f"{HOST}: 0 accounts imported, 3 skipped, 0 refused; 2 accounts SHA-1-only", again.stdout)
        self.assertNotIn("data of", again.stdout)
        forced = self.import_prosody("-F")
        self.assertEqual(forced.returncode, 0, forced.stderr)
        self.assertIn("2 roster items, 1 pending subscription requests, 1 offline messages", forced.stdout)

        self.start_xmppd()
        # The narrowing is said at start, with how to end it.
        self.xmppd.wait_log(f"{HOST}: SCRAM-SHA-256 not offered: 2 accounts have only a SCRAM-SHA-1 credential")
        self.assertEqual(self.sha1_only_users(), {"alice", "bob"})
        # The imported SCRAM-SHA-1 credential, as Prosody kept it.
        presences = asyncio.Queue()
        alice, outcome = self.login("alice", "SCRAM-SHA-1", presences=presences)
        self.assertEqual(outcome, "session")
        # Her available presence, as her other session gets it, has the imported photo's hash.
        _, outcome = self.login("alice", "SCRAM-SHA-1", resource="other")
        self.assertEqual(outcome, "session")
        presence = self.run_(presences.get())
        while presence["from"] != f"alice@{HOST}/other":
            presence = self.run_(presences.get())
        self.assertEqual(presence.xml.findtext(f"{{{VCARD_UPDATE}}}x/{{{VCARD_UPDATE}}}photo"),
                         hashlib.sha1(PHOTO).hexdigest())
        # The same hash names the imported XEP-0084 avatar: the router's XEP-0398 pairing of
        # avatar and vCard photo finds them in step and changes neither.
        items = self.run_(alice["xep_0060"].get_items(f"alice@{HOST}", "urn:xmpp:avatar:metadata", timeout=10))
        self.assertEqual([item["id"] for item in items["pubsub"]["items"]], [hashlib.sha1(PHOTO).hexdigest()])
        message = self.run_(alice.messages.get())
        self.assertEqual(message["body"], "while you were away")
        self.assertEqual(message["from"], f"bob@{HOST}/import")
        self.assertTrue(message["delay"]["stamp"])
        roster = self.run_(harness.fresh_roster(alice))
        # Above the version Prosody gave out, which a client may have cached (XEP-0237).
        self.assertGreater(int(roster["roster"]["ver"]), max(prosody_version, 2))
        items = {item["jid"].bare: item for item in roster["roster"]}
        self.assertEqual(items[f"bob@{HOST}"]["name"], "Bobby")
        self.assertEqual(items[f"bob@{HOST}"]["subscription"], "none")
        self.assertEqual(items[f"bob@{HOST}"]["ask"], "subscribe")
        self.assertEqual(sorted(items[f"bob@{HOST}"]["groups"]), ["Friends", "Work"])
        self.assertEqual(items[f"dave@{HOST}"]["ask"], "subscribe")
        # The vcard-temp vCard Prosody's mod_vcard_legacy answered from its PEP nodes.
        iq = alice.make_iq_get(ito=f"alice@{HOST}")
        ET.SubElement(iq.xml, f"{{{VCARD}}}vCard")
        vcard = self.run_(iq.send(timeout=20)).xml.find(f"{{{VCARD}}}vCard")
        self.assertEqual(vcard.findtext(f"{{{VCARD}}}FN"), "Alice Liddell")
        self.assertEqual(vcard.findtext(f"{{{VCARD}}}NICKNAME"), "Ali")
        self.assertEqual(vcard.findtext(f"{{{VCARD}}}EMAIL/{{{VCARD}}}USERID"), "alice@example.org")
        self.assertEqual(vcard.findtext(f"{{{VCARD}}}PHOTO/{{{VCARD}}}TYPE"), "image/png")
        self.assertEqual(base64.b64decode(vcard.findtext(f"{{{VCARD}}}PHOTO/{{{VCARD}}}BINVAL")), PHOTO)
        iq = alice.make_iq_get()
        query = ET.SubElement(iq.xml, f"{{{PRIVATE}}}query")
        ET.SubElement(query, "{urn:example:prefs}prefs")
        result = self.run_(iq.send(timeout=20))
        prefs = result.xml.find(f"{{{PRIVATE}}}query/{{urn:example:prefs}}prefs")
        self.assertEqual((prefs.get("colour"), prefs.text), ("blue", "tea & <cake>"))
        items = self.run_(alice["xep_0060"].get_items(f"alice@{HOST}", NICK, timeout=10))
        nick = items.xml.find(".//{%s}nick" % NICK)
        self.assertEqual(nick.text, "Alice in Wonderland")
        # bob: the request alice sent him waits for his answer, and comes at his login.
        requests = asyncio.Queue()
        bob, outcome = self.login("bob", "SCRAM-SHA-1", requests)
        self.assertEqual(outcome, "session")
        request = self.run_(requests.get())
        self.assertEqual(request["from"], f"alice@{HOST}")
        # alice and bob have no SCRAM-SHA-256 credential: the host does not offer it, so that a
        # client that prefers it uses SCRAM-SHA-1 rather than fail.
        self.assertEqual(self.mechanisms(), ["SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN"])
        # PLAIN with the old password: accepted, and the SHA-256 credential stored from it.
        for user in ("carol", "bob", "alice"):
            _, outcome = self.login(user, "PLAIN")
            self.assertEqual(outcome, "session", user)
        # No account is SHA-1-only now: SCRAM-SHA-256 is offered again, and works.
        harness.wait_for(lambda: "SCRAM-SHA-256" in self.mechanisms(), 10, "SCRAM-SHA-256 offered")
        self.xmppd.wait_log(f"{HOST}: no account is SHA-1-only now: SCRAM-SHA-256 offered again")
        self.assertEqual(self.sha1_only_users(), set())
        for user in ("carol", "bob", "alice"):
            _, outcome = self.login(user, "SCRAM-SHA-256")
            self.assertEqual(outcome, "session", user)

    def sha1_only_users(self):
        """The accounts `xmppctl users` marks as having a SCRAM-SHA-1 credential alone."""
        r = subprocess.run([XMPPCTL, "-j", "-f", self.xmppd.config, "users", HOST], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        marked = {u["jid"].split("@")[0] for u in json.loads(r.stdout) if u["sha1_only"] is True}
        self.assertEqual(bool(marked), "only a SCRAM-SHA-1 credential" in r.stderr, r.stderr)
        return marked

    def test_a_malformed_account_refuses_that_user_with_its_line(self):
        accounts = self.prosody_file("accounts", "alice.dat")
        with open(accounts) as f:
            lines = f.read().splitlines()
        lines[2] = lines[2] + " os.exit(1)"
        with open(accounts, "w") as f:
            f.write("\n".join(lines) + "\n")
        r = self.import_prosody()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"{accounts}:3: ", r.stderr)
        self.assertIn(f"{HOST}: 2 accounts imported, 0 skipped, 1 refused", r.stdout)
        self.start_xmppd()
        _, outcome = self.login("alice", "SCRAM-SHA-1")
        self.assertEqual(outcome, "failed_auth")
        _, outcome = self.login("bob", "SCRAM-SHA-1")
        self.assertEqual(outcome, "session")

    def test_bad_data_is_skipped_never_the_account(self):
        # A remote sender's offline message with an attribute in a foreign namespace, as
        # Prosody stores it: skipped, bob's message beside it kept.
        with open(self.prosody_file("offline", "alice.list"), "a") as f:
            f.write('item({ attr = { ["urn:x:evil\\1a"] = "v"; from = "eve@evil.test"; type = "chat" }; '
                    'when = 1796455009; name = "message" });\n')
        # A roster file that does not parse: skipped whole, with its line.
        roster = self.prosody_file("roster", "bob.dat")
        with open(roster) as f:
            lines = f.read().splitlines()
        lines[2] = lines[2] + " os.exit(1)"
        with open(roster, "w") as f:
            f.write("\n".join(lines) + "\n")
        # A node for roster groups: xmppd would let every contact in; owner-only instead.
        with open(self.prosody_file("pep", "alice.dat"), "w") as f:
            f.write(f'return {{ ["{NICK}"] = {{ name = "{NICK}"; config = {{ access_model = "roster"; '
                    'roster_groups_allowed = { "Friends" } } } }\n')
        # A symbolic link to a directory is not followed (vcard/ is mod_vcard's store, kept
        # before vcard_legacy: written here, as that module would have).
        vcard = self.prosody_file("vcard")
        os.makedirs(vcard, exist_ok=True)
        with open(os.path.join(vcard, "alice.dat"), "w") as f:
            f.write('return { name = "vCard"; attr = { xmlns = "vcard-temp" } };\n')
        shutil.move(vcard, vcard + ".real")
        os.symlink(vcard + ".real", vcard)
        r = self.import_prosody()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"{HOST}: 3 accounts imported, 0 skipped, 0 refused", r.stdout)
        offline = self.prosody_file("offline", "alice.list")
        self.assertRegex(r.stderr, re.escape(offline) + r":\d+: an attribute in a foreign namespace")
        self.assertIn(f"{roster}:3: ", r.stderr)
        self.assertIn(f"{self.prosody_file('pep', 'alice.dat')}:1: access_model \"roster\"", r.stderr)
        self.assertIn(f"{vcard}: a symbolic link or not a directory, refused", r.stderr)
        self.assertRegex(r.stdout, "1 offline messages, 0 vCards")
        self.start_xmppd()
        alice, outcome = self.login("alice", "SCRAM-SHA-1")
        self.assertEqual(outcome, "session")
        self.assertEqual(self.run_(alice.messages.get())["body"], "while you were away")
        items = self.run_(alice["xep_0060"].get_items(f"alice@{HOST}", NICK, timeout=10))
        self.assertEqual(items.xml.find(".//{%s}nick" % NICK).text, "Alice in Wonderland")
        bob, outcome = self.login("bob", "SCRAM-SHA-1")
        self.assertEqual(outcome, "session")
        self.assertEqual(self.run_(harness.fresh_roster(bob))["roster"]["items"], {})
        with self.assertRaises(slixmpp.exceptions.IqError) as refused:
            self.run_(bob["xep_0060"].get_items(f"alice@{HOST}", NICK, timeout=10))
        self.assertEqual(refused.exception.condition, "not-allowed")  # closed-node
        # A symbolic link to the accounts directory refuses the host.
        accounts = self.prosody_file("accounts")
        shutil.move(accounts, accounts + ".real")
        os.symlink(accounts + ".real", accounts)
        self.xmppd.stop()
        r = self.import_prosody()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"{accounts}: a symbolic link or not a directory, refused", r.stderr)

    def test_refused_while_xmppd_runs(self):
        self.start_xmppd()
        r = self.import_prosody()
        self.assertEqual(r.returncode, 1)
        self.assertIn("stop xmppd first", r.stderr)


MUC = "conference.chat.test"
ROOM_USERS = {"alice": "alice's room secret", "bob": "bob's room secret", "carol": "carol's room secret",
              "dave": "dave's room secret"}
TEAM = f"team@{MUC}"
# What alice sets in Prosody's configuration form, by the form's names.
TEAM_FORM = {
    "muc#roomconfig_roomname": "The Team",
    "muc#roomconfig_roomdesc": "Where the team meets",
    "muc#roomconfig_persistentroom": "1",
    "muc#roomconfig_publicroom": "0",
    "muc#roomconfig_membersonly": "1",
    "muc#roomconfig_moderatedroom": "1",
    "muc#roomconfig_roomsecret": "s3cret, more",
    "muc#roomconfig_whois": "anyone",
    "muc#roomconfig_historylength": "15",
    "muc#roomconfig_lang": "en",
    "muc#roomconfig_changesubject": "1",
    "{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites": "1",
}
SUBJECT = "Plans for Monday"
ARCHIVED = "kept in the archive"
ROOM_ARCHIVED = "kept in the room's archive"


class ImportRooms(MucSteps, ClientTest):
    """One Prosody with a MUC component, filled once; each step imports into a fresh xmppd."""

    def setUp(self):
        super().setUp()
        self.issue_host_certificates(HOST)
        workdir = fresh_workdir(self.workdir, "prosody")
        self.prosody = ProsodyWithMuc(workdir, HOST, ADDRESS, f"{self.workdir}/certs/{HOST}.crt",
                                      f"{self.workdir}/certs/{HOST}.key", self.ca_file,
                                      options={"modules_enabled": Prosody.MODULES + ["disco", "mam"]}, muc_domain=MUC,
                                      component_options={"modules_enabled": ["muc_mam"]})
        self.servers.append(self.prosody)
        for user, secret in ROOM_USERS.items():
            self.prosody.register(user, secret)
        self.prosody.start()
        self.fill_prosody()
        self.prosody.stop()
        config = harness.basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n'
                                      'modules_enabled = { "mam" }\n')
        self.config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\n\nComponent "{MUC}" "muc"\n'
                                     'modules_enabled = { "muc_mam" }\n')
        self.xmppd = self.server(self.config)
        open(self.xmppd.log_path, "a").close()

    def login(self, user):
        client = MucClient(f"{user}@{HOST}/rooms", ROOM_USERS[user], self.ca_file)
        self.clients.append(client)
        client.connect((ADDRESS, 5222))
        self.assertEqual(self.wait(client.outcome, 20), "session", user)
        return client

    def fill_prosody(self):
        alice = self.login("alice")
        # A chat message, in alice's and bob's archives (mod_mam): bob's copy carries the
        # stanza-id Prosody gave it.
        bob = self.login("bob")
        mark = len(bob.inbox)
        alice.send_raw(f"<message to='bob@{HOST}' type='chat'><body>{ARCHIVED}</body></message>")
        got = self.wait_stanza(bob, lambda s: s.name == "message" and s["body"] == ARCHIVED, mark, what="the chat")
        self.archived_id = got.xml.find(f"{{{NS_SID}}}stanza-id").get("id")
        self.assertIn("201", codes(self.join(alice, f"{TEAM}/Alice")))
        self.configure(alice, TEAM, TEAM_FORM)
        self.admin_set(alice, TEAM, {"affiliation": "admin", "jid": f"bob@{HOST}"})
        self.admin_set(alice, TEAM, {"affiliation": "member", "jid": f"carol@{HOST}", "nick": "Caz"})
        self.admin_set(alice, TEAM, {"affiliation": "outcast", "jid": f"dave@{HOST}"}, reason="spam")
        mark = len(alice.inbox)
        alice.send_raw(f"<message to='{TEAM}' type='groupchat'><subject>{SUBJECT}</subject></message>")
        self.wait_stanza(alice, lambda s: s.name == "message" and s["subject"] == SUBJECT, mark, what="the subject")
        # A message in the room's archive (mod_muc_mam), with the stanza-id the room gave it.
        mark = len(alice.inbox)
        self.say(alice, TEAM, ROOM_ARCHIVED)
        echo = self.wait_stanza(alice, lambda s: s.name == "message" and s["body"] == ROOM_ARCHIVED, mark,
                                what="the room's echo")
        self.room_archived_id = echo.xml.find(f"{{{NS_SID}}}stanza-id").get("id")
        # A second persistent room, whose file the test damages; a live room not persistent.
        self.join(alice, f"broken@{MUC}/Alice")
        self.configure(alice, f"broken@{MUC}", {"muc#roomconfig_persistentroom": "1"})

    def room_file(self, room):
        return os.path.join(self.prosody.data_path, "conference%2echat%2etest", "config", f"{room}.dat")

    def import_prosody(self, *hosts, force=False):
        return subprocess.run([XMPPCTL, "-f", self.xmppd.config, "import", "prosody", *(["-F"] if force else []),
                               self.prosody.data_path, *hosts], capture_output=True, text=True, timeout=60)

    def test_rooms_keep_configuration_affiliations_and_subject(self):
        # A live room that is not persistent, as Prosody saves it when it stops with occupants
        # in it (mod_muc's room:save(nil, true)): skipped.
        with open(self.room_file("team")) as f:
            team = f.read()
        self.assertIn('["persistent"] = true;', team)
        with open(self.room_file("chat"), "w") as f:
            f.write(team.replace('["persistent"] = true;', '["persistent"] = false;').replace("team@", "chat@"))
        broken = self.room_file("broken")
        with open(broken) as f:
            lines = f.read().splitlines()
        lines[2] = lines[2] + " os.exit(1)"
        with open(broken, "w") as f:
            f.write("\n".join(lines) + "\n")
        # A room destroyed in Prosody (muc_tombstones, on by default), as mod_muc leaves it:
        # imported as a tombstone, which a later run without -F keeps.
        with open(self.room_file("gone"), "w") as f:
            f.write(f'return {{\n\t["_jid"] = "gone@{MUC}";\n\t["_data"] = {{ ["persistent"] = true; '
                    f'["hidden"] = true; ["destroyed"] = true; ["locked"] = {int(time.time()) + 86400}; '
                    f'["reason"] = "moved"; ["newjid"] = "{TEAM}"; }};\n}};\n')
        first = r = self.import_prosody()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"gone@{MUC}: destroyed in Prosody, imported as a tombstone", r.stdout)
        self.assertIn(f"{HOST}: 4 accounts imported", r.stdout)
        self.assertIn(f"broken@{MUC} not imported:\n{broken}:3: ", r.stderr)
        self.assertIn(f"chat@{MUC}: not persistent in Prosody, skipped", r.stdout)
        self.assertIn(f"{MUC}: 1 rooms imported, 1 tombstones, 1 skipped, 1 refused; 1 archived messages", r.stdout)
        # Again, for the component alone: xmppd's room, and its tombstone, kept unless -F.
        r = self.import_prosody(MUC)
        self.assertIn(f"{TEAM}: exists in xmppd, skipped (-F to replace it)", r.stdout, r.stderr)
        self.assertIn(f"gone@{MUC}: destroyed in xmppd, skipped (-F to replace it)", r.stdout, r.stderr)
        self.assertNotIn("accounts imported", r.stdout)
        r = self.import_prosody(MUC, force=True)
        self.assertIn(f"{MUC}: 1 rooms imported, 1 tombstones, 1 skipped, 1 refused", r.stdout, r.stderr)

        self.xmppd.start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for \d+ hosts?")
        alice = self.login("alice")
        self.assertEqual(condition(self.wait_stanza(alice, lambda s: s.name == "presence" and s["type"] == "error",
                                                    self.send_join(alice, f"{TEAM}/Alice"))), "not-authorized")
        self.assertEqual(condition(self.wait_stanza(alice, lambda s: s.name == "presence" and s["type"] == "error",
                                                    self.send_join(alice, f"gone@{MUC}/Alice"))), "gone")
        mark = len(alice.inbox)
        self.join(alice, f"{TEAM}/Alice", password=TEAM_FORM["muc#roomconfig_roomsecret"])
        subject = self.wait_stanza(alice, lambda s: s.name == "message" and s.xml.find("{jabber:client}subject")
                                   is not None, mark, what="the subject")
        self.assertEqual(subject["subject"], SUBJECT)
        self.assertEqual(subject["from"].resource, "Alice")
        form = self.config_form(alice, TEAM)
        for var, value in TEAM_FORM.items():
            var = var.replace("{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites",
                              "muc#roomconfig_allowinvites")
            self.assertEqual(form.get(var), [value], var)
        self.assertEqual(self.admin_list(alice, TEAM, "owner"), [f"alice@{HOST}"])
        self.assertEqual(self.admin_list(alice, TEAM, "admin"), [f"bob@{HOST}"])
        self.assertEqual(self.admin_list(alice, TEAM, "outcast"), [f"dave@{HOST}"])
        result = self.iq(alice, "get", f"<query xmlns='{NS_MUC_ADMIN}'><item affiliation='member'/></query>",
                         to=TEAM)
        self.assertEqual([(i.get("jid"), i.get("nick")) for i in result.xml.findall(q(NS_MUC_ADMIN, "query/item"))],
                         [(f"carol@{HOST}", "Caz")])
        dave = self.login("dave")
        self.assertEqual(self.join_error(dave, f"{TEAM}/Dave", password=TEAM_FORM["muc#roomconfig_roomsecret"]),
                         "forbidden")
        self.assertEqual(self.disco_items(alice, MUC), {})  # not public
        # bob's archive, with Prosody's stanza-id.
        bob = self.login("bob")
        mark = len(bob.inbox)
        self.iq(bob, "set", f"<query xmlns='{NS_MAM}' queryid='q1'/>")
        results = [s.xml.find(f"{{{NS_MAM}}}result") for s in bob.inbox[mark:] if s.name == "message"]
        bodies = [(r.get("id"), r.find(".//{jabber:client}body").text) for r in results if r is not None]
        self.assertEqual(bodies, [(self.archived_id, ARCHIVED)])
        # The room's archive, with Prosody's stanza-id and the occupant as it was seen.
        mark = len(alice.inbox)
        self.iq(alice, "set", f"<query xmlns='{NS_MAM}' queryid='r1'/>", to=TEAM)
        results = [s.xml.find(f"{{{NS_MAM}}}result") for s in alice.inbox[mark:] if s.name == "message"]
        found = [(r.get("id"), r.find(".//{jabber:client}message").get("from"),
                  r.find(".//{jabber:client}body").text) for r in results if r is not None]
        self.assertEqual(found, [(self.room_archived_id, f"{TEAM}/Alice", ROOM_ARCHIVED)])
        self.assertRegex(first.stdout, r"chat\.test: data of 4 users: .* 2 archived messages")


class ChildRoles(unittest.TestCase):
    """Every `xmppctl -R ROLE` child refuses an empty, short or unparsable stream, or one that
    would leave it root where it was started, before it does anything: exit non-zero, no file
    created in its working directory (the import-data child once took an empty request, past
    2 GiB of data, for "stay root here" and created ./user.sqlite)."""

    def test_bad_requests_are_refused_before_anything(self):
        header_without_user = b"\x22\x07/tmp/xx"  # ImportRequest{directory="/tmp/xx"}
        streams = {"empty": b"", "short": b"\0\0\0\x09\x22", "unparsable": b"\0\0\0\x02\xff\xff",
                   "root without a user": len(header_without_user).to_bytes(4, "big") + header_without_user}
        for role in ("import-accounts", "import-data", "dns-check"):
            for name, data in streams.items():
                with self.subTest(role=role, stream=name), tempfile.TemporaryDirectory() as cwd:
                    parent, child = socket.socketpair()
                    with parent, child:
                        proc = subprocess.Popen(["/bin/sh", "-c", f'exec "$0" -R {role} 3<&{child.fileno()}',
                                                 XMPPCTL], cwd=cwd, pass_fds=(child.fileno(),),
                                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE)
                        parent.sendall(data)
                        parent.shutdown(socket.SHUT_WR)
                        proc.communicate(timeout=30)
                    self.assertNotEqual(proc.returncode, 0)
                    self.assertEqual(os.listdir(cwd), [])


if __name__ == "__main__":
    harness.main()
