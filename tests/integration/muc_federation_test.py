#!/usr/bin/env python3
"""Group chat across federation (issue 16): xmppd on a.test with its MUC service
conference.a.test, a real Prosody 0.12 on b.test with mod_muc on conference.b.test, names
served by the test's DNS server. A b.test user joins an a.test room and an a.test user joins
a b.test room: the history on joining, presences, messages and private messages, both ways,
and the leaving.

XMPPD_MUC_REFERENCE=prosody runs the same tests with Prosody on a.test too, which proves
them right. Both servers are set up once for the class."""
import os
import uuid

import certs
import harness
from federation_test import A, ADDRESS, B, xmppd_config
from harness import TestDns
from muc import MucClient, MucSteps, ProsodyWithMuc, codes, groupchat, item_of, presence_from
from prosody import fresh_workdir

REFERENCE = os.environ.get("XMPPD_MUC_REFERENCE", "xmppd")
MUC_A, MUC_B = f"conference.{A}", f"conference.{B}"
PASSWORDS = {f"alice@{A}": "alice pw", f"bob@{B}": "bob pw"}


class MucAcrossServers(MucSteps, harness.ClientLoopTest):
    @classmethod
    def setUpClass(cls):
        harness.class_workdir(cls, prefix="xmppd-mucfed-")
        cls.servers = []
        cls.failed = False
        cls.dns = TestDns(cls.workdir, {A: ADDRESS[A], B: ADDRESS[B], MUC_A: ADDRESS[A], MUC_B: ADDRESS[B]}).start()
        try:
            cls.a = cls.start_xmppd() if REFERENCE == "xmppd" else cls.start_prosody(A, MUC_A)
            cls.b = cls.start_prosody(B, MUC_B)
            for jid, password in PASSWORDS.items():
                cls.adduser(jid, password)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        harness.stop_class_servers(cls.servers, cls.workdir, cls.failed, dns=cls.dns)

    @classmethod
    def start_xmppd(cls):
        workdir = fresh_workdir(cls.workdir, A)
        harness.write_certificates(cls.ca, f"{workdir}/certs", (A, MUC_A))
        config = xmppd_config(workdir, A, cls.ca_file) + f'\nComponent "{MUC_A}" "muc"\n'
        server = harness.Server(workdir, config)
        cls.servers.append(server)
        server.start()
        server.wait_sandboxed_children(timeout=20)
        server.wait_log(r"s2s\[\d+\]: TLS certificates for \d+ hosts")
        server.wait_log(r"router\[\d+\]: TLS certificates for \d+ hosts")
        return server

    @classmethod
    def start_prosody(cls, domain, muc_domain):
        workdir = fresh_workdir(cls.workdir, domain)
        key, cert = cls.ca.issue(domain, "ec", names=[domain, muc_domain])
        certs.write(f"{workdir}/{domain}.crt", certs.cert_pem(cert))
        certs.write(f"{workdir}/{domain}.key", certs.key_pem(key), 0o600)
        prosody = ProsodyWithMuc(workdir, domain, ADDRESS[domain], f"{workdir}/{domain}.crt",
                                 f"{workdir}/{domain}.key", cls.ca_file, muc_domain=muc_domain)
        cls.servers.append(prosody)
        prosody.start()
        return prosody

    @classmethod
    def adduser(cls, jid, password):
        user, domain = jid.split("@")
        server = cls.a if domain == A else cls.b
        if isinstance(server, harness.Server):
            harness.adduser(server, jid, password)
        else:
            server.register(user, password)

    def login(self, jid):
        client = MucClient(f"{jid}/desk", PASSWORDS[jid], self.ca_file)
        self.clients.append(client)
        client.connect((ADDRESS[jid.split("@")[1]], 5222))
        self.assertEqual(self.wait(client.outcome, 20), "session", f"login of {jid}")
        return client

    def across(self, owner, guest, service):
        """owner makes a room on service (its own server's) with some history; guest, of the
        other server, joins it: history, presences, messages and private messages both ways."""
        room = f"fed-{uuid.uuid4().hex[:8]}@{service}"
        self.create(owner, room, "owner")
        self.said(owner, room, "said before the guest came")
        mark = len(owner.inbox)
        # The first stanza to the other server opens the s2s streams: more time.
        presence = self.join(guest, f"{room}/guest", timeout=30)
        self.assertEqual(item_of(presence).get("role"), "participant")
        before = guest.inbox[:guest.inbox.index(presence)]
        self.assertTrue(any(presence_from(f"{room}/owner")(s) for s in before), "the owner's presence first")
        history = self.wait_stanza(guest, groupchat("said before the guest came", f"{room}/owner"),
                                   what="the history")
        self.assertIsNotNone(history.xml.find("{urn:xmpp:delay}delay"), history)
        seen = self.wait_stanza(owner, presence_from(f"{room}/guest"), mark, what="the guest's presence")
        self.assertEqual(item_of(seen).get("jid", "").split("/")[0], guest.boundjid.bare)
        # Messages both ways.
        self.said(guest, room, "hello from the guest", owner)
        self.said(owner, room, "welcome, guest", guest)
        # Private messages both ways.
        mark = len(owner.inbox)
        guest.send_message(mto=f"{room}/owner", mbody="psst, owner", mtype="chat")
        got = self.wait_stanza(owner, lambda s: s.name == "message" and s["body"] == "psst, owner", mark,
                               what="the guest's private message")
        self.assertEqual(str(got["from"]), f"{room}/guest")
        mark = len(guest.inbox)
        owner.send_message(mto=f"{room}/guest", mbody="psst, guest", mtype="chat")
        got = self.wait_stanza(guest, lambda s: s.name == "message" and s["body"] == "psst, guest", mark,
                               what="the owner's private message")
        self.assertEqual(str(got["from"]), f"{room}/owner")
        # A presence change and the leaving.
        mark = len(owner.inbox)
        guest.send_raw(f"<presence to='{room}/guest'><show>away</show></presence>")
        self.wait_stanza(owner, lambda s: presence_from(f"{room}/guest")(s) and s["show"] == "away", mark,
                         what="the guest away")
        mark = len(owner.inbox)
        self.assertIn("110", codes(self.leave(guest, f"{room}/guest")))
        self.wait_stanza(owner, presence_from(f"{room}/guest", "unavailable"), mark, what="the guest leaving")

    def test_b_test_user_in_an_a_test_room(self):
        self.across(self.login(f"alice@{A}"), self.login(f"bob@{B}"), MUC_A)

    def test_a_test_user_in_a_b_test_room(self):
        self.across(self.login(f"bob@{B}"), self.login(f"alice@{A}"), MUC_B)


if __name__ == "__main__":
    harness.main()
