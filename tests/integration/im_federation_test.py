#!/usr/bin/env python3
"""PEP across federation (issue 13): an xmppd user (a.test) and a Prosody 0.12 user (b.test)
subscribe to each other over s2s, each publishes a XEP-0084 avatar and an OMEMO device list
and bundle (eu.siacs.conversations.axolotl, as Conversations, Dino, Gajim and Monal do), and
each gets the other's notifications and can fetch the other's items; both ways.

XMPPD_IM_REFERENCE=prosody runs the same tests with Prosody on both sides, which proves them
right; the default (CI) has xmppd on a.test. Each direction is a test of its own, so that a
failure names the side that lacks something."""
import asyncio
import base64
import hashlib
import xml.etree.ElementTree as ET

import certs
import harness
from federation_test import A, ADDRESS, B, FederationTest
from im_test import (AVATAR, MODULES, NS_AVATAR_DATA, NS_AVATAR_METADATA, NS_PUBSUB, NS_PUBSUB_EVENT, REFERENCE,
                     ImClient, pep_event, presence_from, publish, q)
from prosody import Prosody, fresh_workdir

OMEMO = "eu.siacs.conversations.axolotl"
NS_DEVICELIST = f"{OMEMO}.devicelist"
INTERESTS = [NS_AVATAR_METADATA, NS_DEVICELIST]
DEVICE_IDS = {A: 1111, B: 2222}
OPEN = {"pubsub#access_model": "open"}


def devicelist(device_id):
    return f"<list xmlns='{OMEMO}'><device id='{device_id}'/></list>"


def bundle(device_id):
    """An OMEMO bundle with made-up keys of the right shape (base64)."""
    def key(label):
        return base64.b64encode(hashlib.sha256(f"{label}{device_id}".encode()).digest()).decode()
    prekeys = "".join(f"<preKeyPublic preKeyId='{n}'>{key(f'pre{n}')}</preKeyPublic>" for n in range(1, 4))
    return (f"<bundle xmlns='{OMEMO}'><signedPreKeyPublic signedPreKeyId='1'>{key('spk')}</signedPreKeyPublic>"
            f"<signedPreKeySignature>{key('sig')}</signedPreKeySignature><identityKey>{key('ik')}</identityKey>"
            f"<prekeys>{prekeys}</prekeys></bundle>")


class PepAcrossServers(FederationTest):
    def start_prosody(self, domain):
        workdir = fresh_workdir(self.workdir, domain)
        key, cert = self.ca.issue(domain, "ec")
        certs.write(f"{workdir}/{domain}.crt", certs.cert_pem(cert))
        certs.write(f"{workdir}/{domain}.key", certs.key_pem(key), 0o600)
        prosody = Prosody(workdir, domain, ADDRESS[domain], f"{workdir}/{domain}.crt", f"{workdir}/{domain}.key",
                          self.ca_file, options={"modules_enabled": MODULES + ["dialback"]})
        self.servers.append(prosody)
        prosody.start()
        return prosody

    def start_a(self):
        """a.test: xmppd, or Prosody for the reference run."""
        if REFERENCE == "prosody":
            prosody = self.start_prosody(A)
            prosody.register("alice", "alice pw")
            return prosody
        modules = "; ".join(f'"{m}"' for m in MODULES + ["dialback"])
        server = self.start_xmppd(A, extra=f"modules_enabled = {{ {modules} }}\n")
        self.adduser(server, f"alice@{A}", "alice pw")
        return server

    def im_login(self, jid, password):
        client = ImClient(jid, password, self.ca_file, INTERESTS)
        self.clients.append(client)
        client.connect((ADDRESS[jid.split("@")[1].split("/")[0]], 5222))
        outcome = self.loop.run_until_complete(asyncio.wait_for(client.outcome, 20))
        self.assertEqual(outcome, "session")
        return client

    def wait_stanza(self, client, predicate, since=0, timeout=20, what="stanza"):
        async def waiting():
            while True:
                for stanza in client.inbox[since:]:
                    if predicate(stanza):
                        return stanza
                await asyncio.sleep(0.02)
        try:
            return self.loop.run_until_complete(asyncio.wait_for(waiting(), timeout))
        except asyncio.TimeoutError:
            self.fail(f"{client.boundjid} got no {what} in {timeout}s; it got:\n" +
                      "\n".join(str(s) for s in client.inbox[since:]))

    def iq(self, client, itype, payload, to=None):
        iq = client.make_iq(itype=itype, ito=to)
        iq.append(ET.fromstring(payload))
        return self.loop.run_until_complete(asyncio.wait_for(iq.send(timeout=20), 22))

    def items(self, client, owner, node):
        result = self.iq(client, "get", f"<pubsub xmlns='{NS_PUBSUB}'><items node='{node}'/></pubsub>", to=owner)
        return {i.get("id"): next(iter(i), None) for i in result.xml.findall(q(NS_PUBSUB, "pubsub/items/item"))}

    def publish_all(self, client, domain):
        """Avatar (data, then metadata) and OMEMO device list and bundle, as clients publish them."""
        digest = hashlib.sha1(AVATAR + domain.encode()).hexdigest()
        data = base64.b64encode(AVATAR + domain.encode()).decode()
        self.iq(client, "set", publish(NS_AVATAR_DATA, digest, f"<data xmlns='{NS_AVATAR_DATA}'>{data}</data>"))
        self.iq(client, "set", publish(NS_AVATAR_METADATA, digest,
                                       f"<metadata xmlns='{NS_AVATAR_METADATA}'><info id='{digest}' "
                                       f"bytes='{len(AVATAR) + len(domain)}' type='image/png'/></metadata>"))
        device = DEVICE_IDS[domain]
        self.iq(client, "set", publish(f"{OMEMO}.bundles:{device}", "current", bundle(device), OPEN))
        self.iq(client, "set", publish(NS_DEVICELIST, "current", devicelist(device), OPEN))
        return digest

    def subscribe_both_ways(self, alice, bob):
        marks = len(alice.inbox), len(bob.inbox)
        alice.send_presence(pto=f"bob@{B}", ptype="subscribe")  # slixmpp approves and asks back
        self.wait_stanza(alice, presence_from(f"bob@{B}/desk"), marks[0], what="Bob's presence")
        self.wait_stanza(bob, presence_from(f"alice@{A}/phone"), marks[1], what="Alice's presence")

    def pair(self):
        """alice@a.test and bob@b.test logged in, with +notify for avatars and device lists,
        subscribed to each other."""
        self.start_a()
        prosody = self.start_prosody(B)
        prosody.register("bob", "bob pw")
        alice = self.im_login(f"alice@{A}/phone", "alice pw")
        bob = self.im_login(f"bob@{B}/desk", "bob pw")
        self.subscribe_both_ways(alice, bob)
        return alice, bob

    def published_and_seen(self, publisher, reader, domain, owner):
        mark = len(reader.inbox)
        digest = self.publish_all(publisher, domain)
        event = self.wait_stanza(reader, pep_event(NS_DEVICELIST, owner), mark, what=f"the device list of {owner}")
        device = event.xml.find(f"{q(NS_PUBSUB_EVENT, 'event/items/item')}/{{{OMEMO}}}list/{{{OMEMO}}}device")
        self.assertEqual(device.get("id"), str(DEVICE_IDS[domain]))
        event = self.wait_stanza(reader, pep_event(NS_AVATAR_METADATA, owner), mark,
                                 what=f"the avatar metadata of {owner}")
        info = event.xml.find(f"{q(NS_PUBSUB_EVENT, 'event/items/item')}/{q(NS_AVATAR_METADATA, 'metadata/info')}")
        self.assertEqual(info.get("id"), digest)
        # What a client does next: fetch the bundle to start a session, and the avatar.
        bundles = self.items(reader, owner, f"{OMEMO}.bundles:{DEVICE_IDS[domain]}")
        self.assertEqual(bundles["current"].tag, f"{{{OMEMO}}}bundle")
        self.assertEqual(len(bundles["current"].findall(f"{{{OMEMO}}}prekeys/{{{OMEMO}}}preKeyPublic")), 3)
        data = self.items(reader, owner, NS_AVATAR_DATA)
        self.assertEqual(base64.b64decode(data[digest].text), AVATAR + domain.encode())

    def test_a_test_user_publishes_and_the_b_test_contact_is_notified(self):
        alice, bob = self.pair()
        self.published_and_seen(alice, bob, A, f"alice@{A}")

    def test_b_test_user_publishes_and_the_a_test_contact_is_notified(self):
        alice, bob = self.pair()
        self.published_and_seen(bob, alice, B, f"bob@{B}")

    def test_both_publish_and_each_sees_the_other(self):
        alice, bob = self.pair()
        self.published_and_seen(alice, bob, A, f"alice@{A}")
        self.published_and_seen(bob, alice, B, f"bob@{B}")

    def test_device_list_of_a_contact_who_published_before_logging_in(self):
        # The last item reaches a contact on another server when it comes online.
        alice, bob = self.pair()
        self.publish_all(alice, A)
        self.publish_all(bob, B)
        for client in (alice, bob):
            client.disconnect()
        self.loop.run_until_complete(asyncio.wait_for(asyncio.gather(alice.closed, bob.closed), 10))
        for jid, password, owner in ((f"alice@{A}/laptop", "alice pw", f"bob@{B}"),
                                     (f"bob@{B}/laptop", "bob pw", f"alice@{A}")):
            with self.subTest(reader=jid):
                client = self.im_login(jid, password)
                self.wait_stanza(client, pep_event(NS_DEVICELIST, owner), what=f"the device list of {owner}")


if __name__ == "__main__":
    harness.main()
