#!/usr/bin/env python3
"""External components (XEP-0114): a Component section with a component_secret, the listener
on component_ports (loopback by default), the handshake checked by the auth helper, and the
component's stanzas routed with their 'from' held to its domain. slixmpp's ComponentXMPP and a
slixmpp client exchange messages and IQs both ways; raw streams check each refusal (wrong
secret, malformed handshake, unknown domain, a 'from' outside the domain, a second connection);
the secret is in the memory of the parent and the auth helper only. One xmppd for the class.
A Prosody 0.12 user reaches the component across s2s (ComponentAcrossServers)."""
import asyncio
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import unittest
import xml.etree.ElementTree as ET

from slixmpp.componentxmpp import ComponentXMPP

import harness
import streams
from clients_test import Client
from federation_test import A, ADDRESS, B, FederationTest, xmppd_config
from prosody import Prosody, fresh_workdir

HOST = "chat.test"
GATEWAY = "gateway.chat.test"
OTHER = "other.chat.test"
GUESSED = "guessed.chat.test"  # only test_held_handshakes_for_one_domain_leave_the_others_alone guesses at it
ROOMS = "rooms.chat.test"  # a MUC service: no external component may claim it
SECRET = "gateway's secret 5e1f0c"  # sought in each process's memory
OTHER_SECRET = "another secret"
PORT = 5347
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")
PING = "urn:xmpp:ping"


def component_config(workdir, extra=""):
    return (harness.basic_config(workdir, f'certificates = "{workdir}/certs"\n' + extra)
            .replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"') +
            f'Component "{GATEWAY}"\ncomponent_secret = "{SECRET}"\n'
            f'Component "{OTHER}"\ncomponent_secret = "{OTHER_SECRET}"\n'
            f'Component "{GUESSED}"\ncomponent_secret = "not guessed"\n'
            f'Component "{ROOMS}" "muc"\nmuc_room_locking = false\n')


class Gateway(ComponentXMPP):
    """A component that keeps what it receives and answers pings."""

    def __init__(self, domain, secret, address="127.0.0.1"):
        super().__init__(domain, secret, address, PORT)
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        self.started = asyncio.get_event_loop().create_future()
        self.messages = asyncio.Queue()
        self.add_event_handler("session_start", lambda _: self.started.done() or self.started.set_result(True))
        self.add_event_handler("message", lambda m: self.messages.put_nowait(m))
        self.add_event_handler("message_error", lambda m: self.messages.put_nowait(m))


class RawComponent:
    """A component's stream spoken byte by byte: the header, the server's answer, a handshake."""

    def __init__(self, domain=GATEWAY, address="127.0.0.1", source=None):
        self.sock = socket.create_connection((address, PORT), timeout=10,
                                             source_address=(source, 0) if source else None)
        self.sock.sendall(streams.header(domain, "jabber:component:accept", version=None))
        self.header = streams.read_until(self.sock, b">", 4096)
        while not re.search(rb"<stream:stream[^>]*>", self.header) and b"</stream:stream>" not in self.header:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.header += chunk
        m = re.search(rb"id='([^']+)'", self.header)
        self.stream_id = m.group(1).decode() if m else None

    def handshake(self, secret):
        digest = hashlib.sha1((self.stream_id + secret).encode()).hexdigest()
        return self.send(f"<handshake>{digest}</handshake>", b"handshake")

    def send(self, text, until):
        self.sock.sendall(text.encode())
        return streams.read_until(self.sock, until) if until else b""

    def read_match(self, pattern):
        data = b""
        while not re.search(pattern, data):
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError(f"the stream ended before /{pattern}/: {data!r}")
            data += chunk
        return re.search(pattern, data)

    def rest(self):
        return streams.read_to_end(self.sock)

    def close(self):
        self.sock.close()


class Components(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.class_workdir(cls, (HOST,))
        harness.ensure_ipv6_loopback()
        cls.xmppd = harness.Server(cls.workdir, component_config(cls.workdir)).start()
        cls.failed = False
        try:
            cls.kids = cls.xmppd.wait_sandboxed_children()
            cls.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts?")
            cls.xmppd.wait_log(r"router\[\d+\]: component on ::1 port 5347")
            for user in ("alice", "bob"):
                harness.adduser(cls.xmppd, f"{user}@{HOST}", f"{user}'s secret")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        harness.stop_class_servers([cls.xmppd], cls.workdir, cls.failed)

    def setUp(self):
        self.loop = harness.new_loop()
        self.peers = []
        self.raws = []

    def tearDown(self):
        harness.close_loop(self.loop, self.peers, settle=0.3)
        for raw in self.raws:
            raw.close()
        # The next test may connect the component again: this one's connection must be gone.
        self.wait_detached()
        if harness.has_failed(self):
            type(self).failed = True

    def wait_detached(self):
        """Until every component connection the log shows is shown gone too."""
        def balanced():
            log = self.xmppd.log()
            return all(len(re.findall(rf"component {re.escape(d)} connected from", log)) ==
                       len(re.findall(rf"component {re.escape(d)} from \S+ port \d+ disconnected", log))
                       for d in (GATEWAY, OTHER))
        harness.wait_for(balanced, 10, "components disconnected")

    def wait(self, awaitable, timeout=15):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def login(self, user, resource="phone"):
        client = Client(f"{user}@{HOST}/{resource}", f"{user}'s secret", self.ca_file)
        self.peers.append(client)
        client.connect(("127.0.0.1", 5222))
        self.assertEqual(self.wait(client.outcome, 20), "session")
        return client

    def gateway(self, domain=GATEWAY, secret=SECRET, address="127.0.0.1"):
        component = Gateway(domain, secret, address)
        self.peers.append(component)
        component.connect()
        self.wait(component.started, 20)
        return component

    def raw(self, domain=GATEWAY, address="127.0.0.1", source=None):
        raw = RawComponent(domain, address, source)
        self.raws.append(raw)
        return raw

    def test_messages_and_iqs_both_ways(self):
        gateway = self.gateway()
        alice = self.login("alice")
        self.xmppd.wait_log(rf"router\[\d+\]: component {GATEWAY} connected from 127\.0\.0\.1")
        # A user's message to an address at the component, and the component's answer.
        alice.send_message(mto=f"echo@{GATEWAY}", mbody="hello gateway", mtype="chat")
        m = self.wait(gateway.messages.get())
        self.assertEqual((m["body"], str(m["from"]), str(m["to"])),
                         ("hello gateway", f"alice@{HOST}/phone", f"echo@{GATEWAY}"))
        gateway.send_message(mto=f"alice@{HOST}/phone", mfrom=f"echo@{GATEWAY}/bot", mbody="hello alice",
                             mtype="chat")
        m = self.wait(alice.messages.get())
        self.assertEqual((m["body"], str(m["from"])), ("hello alice", f"echo@{GATEWAY}/bot"))
        # IQs: the user asks the component (disco#info, answered by slixmpp's xep_0030)...
        info = self.wait(alice.plugin["xep_0030"].get_info(jid=GATEWAY, timeout=10))
        self.assertEqual(str(info["from"]), GATEWAY)
        # ... and the component pings the user's client (answered by its xep_0199).
        iq = gateway.make_iq_get(ito=f"alice@{HOST}/phone", ifrom=GATEWAY)
        iq.append(ET.Element(f"{{{PING}}}ping"))
        result = self.wait(iq.send(timeout=10))
        self.assertEqual((result["type"], str(result["from"])), ("result", f"alice@{HOST}/phone"))
        # The component's IQ to the server itself.
        iq = gateway.make_iq_get(ito=HOST, ifrom=f"bot@{GATEWAY}")
        iq.append(ET.Element(f"{{{PING}}}ping"))
        self.assertEqual(self.wait(iq.send(timeout=10))["type"], "result")

    def test_stanzas_for_a_disconnected_component_bounce(self):
        alice = self.login("alice")
        alice.send_message(mto=f"echo@{OTHER}", mbody="anyone?", mtype="chat")
        m = self.wait(alice.messages.get())
        self.assertEqual((m["type"], m["error"]["condition"]), ("error", "service-unavailable"))

    def test_a_muc_service_turned_back_into_a_component_by_reload(self):
        # A reload makes OTHER a MUC service, another turns it back into an external
        # component: the service is gone, and what is sent to OTHER must not reach it.
        router = self.xmppd.children()["router"]
        normal = component_config(self.workdir)
        as_muc = normal.replace(f'Component "{OTHER}"\n', f'Component "{OTHER}" "muc"\n')
        try:
            for text in (as_muc, normal):
                mark = len(self.xmppd.log())
                self.xmppd.write_config(text)
                self.xmppd.proc.send_signal(signal.SIGHUP)
                self.xmppd.wait_log(r"router\[\d+\]: configuration generation \d+", after=mark)
        finally:
            self.xmppd.write_config(normal)
        alice = self.login("alice")
        alice.send_message(mto=f"echo@{OTHER}", mbody="anyone?", mtype="chat")
        m = self.wait(alice.messages.get())
        self.assertEqual((m["type"], m["error"]["condition"]), ("error", "service-unavailable"))
        self.assertEqual(self.xmppd.children().get("router"), router)

    def test_a_reload_that_moves_the_component_port_says_it_needs_a_restart(self):
        normal = component_config(self.workdir)
        try:
            mark = len(self.xmppd.log())
            self.xmppd.write_config(component_config(self.workdir, "component_ports = { 5348 }\n"))
            self.xmppd.proc.send_signal(signal.SIGHUP)
            self.xmppd.wait_log(r"reload: changes to .*ports and interfaces take effect when xmppd is restarted",
                                after=mark)
        finally:
            mark = len(self.xmppd.log())
            self.xmppd.write_config(normal)
            self.xmppd.proc.send_signal(signal.SIGHUP)
            self.xmppd.wait_log(r"router\[\d+\]: configuration generation \d+", after=mark)

    def reload(self, text):
        mark = len(self.xmppd.log())
        self.xmppd.write_config(text)
        self.xmppd.proc.send_signal(signal.SIGHUP)
        self.xmppd.wait_log(r"router\[\d+\]: configuration generation \d+", after=mark)

    def stream_error_of(self, component):
        """A future for the condition of the next stream error the component receives."""
        ended = self.loop.create_future()
        component.add_event_handler(
            "stream_error", lambda e: ended.done() or ended.set_result(e["condition"]))
        return ended

    def test_reload_ends_a_removed_component_and_one_whose_secret_changed(self):
        normal = component_config(self.workdir)
        try:
            # Its section removed: host-gone, and its domain no longer served.
            gateway = self.gateway()
            ended = self.stream_error_of(gateway)
            self.reload(normal.replace(f'Component "{GATEWAY}"\ncomponent_secret = "{SECRET}"\n', ""))
            self.assertEqual(self.wait(ended), "host-gone")
            self.xmppd.wait_log(rf"router\[\d+\]: component {re.escape(GATEWAY)} from 127\.0\.0\.1 port \d+: "
                                r"no longer configured by reload: disconnected")
            self.reload(normal)
            # Made a MUC service: host-gone too, and the service answers for the domain.
            gateway = self.gateway()
            ended = self.stream_error_of(gateway)
            self.reload(normal.replace(f'Component "{GATEWAY}"\n', f'Component "{GATEWAY}" "muc"\n'))
            self.assertEqual(self.wait(ended), "host-gone")
            alice = self.login("alice")
            info = self.wait(alice.plugin["xep_0030"].get_info(jid=GATEWAY, timeout=10))
            self.assertIn("http://jabber.org/protocol/muc", info["disco_info"]["features"])
            self.reload(normal)
            # Its secret changed: reset; the component comes back with the new secret, not the old.
            other = self.gateway(OTHER, OTHER_SECRET)
            ended = self.stream_error_of(other)
            changed = normal.replace(f'component_secret = "{OTHER_SECRET}"', 'component_secret = "rotated"')
            self.reload(changed)
            self.assertEqual(self.wait(ended), "reset")
            self.xmppd.wait_log(rf"router\[\d+\]: component {re.escape(OTHER)} from 127\.0\.0\.1 port \d+: "
                                r"component_secret changed by reload: disconnected")
            self.wait_detached()
            raw = self.raw(OTHER)
            self.assertEqual(streams.stream_error(raw.handshake(OTHER_SECRET) + raw.rest())[0], "not-authorized")
            self.gateway(OTHER, "rotated")
            # A reload that changes neither keeps it connected.
            mark = len(self.xmppd.log())
            self.reload(changed)
            self.assertNotRegex(self.xmppd.log()[mark:], rf"component {re.escape(OTHER)} from .* disconnected")
        finally:
            for peer in self.peers:
                peer.disconnect()
            self.loop.run_until_complete(asyncio.sleep(0.3))
            self.reload(normal)

    def test_failed_handshakes_slow_the_next_answers(self):
        # Three wrong secrets: answered at once, after 1 s, after 2 s more.
        took = []
        for _ in range(3):
            raw = self.raw(OTHER)
            start = time.monotonic()
            self.assertEqual(streams.stream_error(raw.handshake("a guess") + raw.rest())[0], "not-authorized")
            took.append(time.monotonic() - start)
        self.assertLess(took[0], 0.9, took)
        self.assertGreater(took[1], 0.9, took)
        self.assertGreater(took[2], 1.9, took)
        # The fourth waits 4 s, the right secret too, and then gets in; the penalty ends with it.
        raw = self.raw(OTHER)
        start = time.monotonic()
        self.assertEqual(raw.handshake(OTHER_SECRET), b"<handshake/>")
        self.assertGreater(time.monotonic() - start, 3.9)
        self.assertLess(time.monotonic() - start, 30)
        raw.close()
        self.wait_detached()
        raw = self.raw(OTHER)
        start = time.monotonic()
        self.assertEqual(raw.handshake(OTHER_SECRET), b"<handshake/>")
        self.assertLess(time.monotonic() - start, 0.9)
        # The auth helper logged the refusals.
        self.xmppd.wait_log(r"auth\[\d+\]: component other\.chat\.test: handshake refused: wrong secret")

    def test_held_handshakes_for_one_domain_leave_the_others_alone(self):
        # Three wrong secrets: the next handshakes for GUESSED are held 4 s by the auth helper.
        for _ in range(3):
            raw = self.raw(GUESSED)
            self.assertEqual(streams.stream_error(raw.handshake("a guess") + raw.rest())[0], "not-authorized")
            raw.close()
        # More wrong handshakes than the router waits for in all before (64), from three
        # addresses (32 unauthenticated connections each): a domain's own bound refuses most.
        guesses = []
        for i in range(70):
            raw = self.raw(GUESSED, source="127.0.0.%d" % (1 + i // 25))
            raw.send(f"<handshake>{hashlib.sha1((raw.stream_id + 'guess').encode()).hexdigest()}</handshake>", None)
            guesses.append(raw)
        time.sleep(0.3)
        # Another component with its right secret gets in at once.
        raw = self.raw(OTHER)
        start = time.monotonic()
        self.assertEqual(raw.handshake(OTHER_SECRET), b"<handshake/>")
        self.assertLess(time.monotonic() - start, 0.9)
        raw.close()
        # Every guess is answered: most at once as too many, the held ones once their time comes.
        answers = [streams.stream_error(g.rest()) for g in guesses]
        self.assertEqual({a[0] for a in answers}, {"not-authorized"})
        busy = sum(1 for a in answers if "too many handshakes" in a[1])
        self.assertGreaterEqual(busy, 70 - 16)
        self.assertLess(busy, 70)
        self.xmppd.wait_log(r"component guessed\.chat\.test from .*: handshake refused: too many handshakes")

    def xmppctl(self, *args):
        r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, *args], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_show_components_and_muc(self):
        gateway = self.gateway()
        alice, bob = self.login("alice"), self.login("bob")
        room = f"lobby\u00e9@{ROOMS}"  # a name that is not ASCII, printed as it is
        for client, nick in ((alice, "alice"), (bob, "bob")):
            presence = client.make_presence(pto=f"{room}/{nick}")
            presence.append(ET.Element("{http://jabber.org/protocol/muc}x"))
            presence.send()
        deadline = time.monotonic() + 15
        while not any(r["jid"] == room and r["occupants"] == 2 for r in json.loads(self.xmppctl("-j", "show", "muc"))):
            self.assertLess(time.monotonic(), deadline, self.xmppctl("show", "muc"))
            self.wait(asyncio.sleep(0.2))  # slixmpp sends while its loop runs
        # Stanzas both ways on the component's connection.
        alice.send_message(mto=f"echo@{GATEWAY}", mbody="count me", mtype="chat")
        self.wait(gateway.messages.get())
        gateway.send_message(mto=f"alice@{HOST}/phone", mfrom=f"echo@{GATEWAY}", mbody="and me", mtype="chat")
        while self.wait(alice.messages.get())["body"] != "and me":
            pass
        components = {c["domain"]: c for c in json.loads(self.xmppctl("-j", "show", "components"))}
        self.assertEqual(set(components), {GATEWAY, OTHER, GUESSED, ROOMS})
        g = components[GATEWAY]
        self.assertEqual((g["kind"], g["connected"]), ("external", True))
        self.assertRegex(g["address"], r"^127\.0\.0\.1 \d+$")
        self.assertGreaterEqual(g["stanzas_in"], 1)
        self.assertGreaterEqual(g["stanzas_out"], 1)
        self.assertEqual((components[OTHER]["kind"], components[OTHER]["connected"]), ("external", False))
        self.assertEqual((components[ROOMS]["kind"], components[ROOMS]["rooms"], components[ROOMS]["occupants"]),
                         ("muc", 1, 2))
        rooms = {r["jid"]: r for r in json.loads(self.xmppctl("-j", "show", "muc", ROOMS))}
        self.assertEqual(set(rooms), {room})
        self.assertEqual({k: rooms[room][k] for k in ("occupants", "persistent", "public", "members_only", "password",
                                                       "locked")},
                         {"occupants": 2, "persistent": False, "public": True, "members_only": False,
                          "password": False, "locked": False})
        self.assertIn(rooms[room]["archived"], (True, False))
        # For people: aligned columns, the same facts.
        text = self.xmppctl("show", "components").splitlines()
        self.assertRegex(text[0], r"^DOMAIN +KIND +CONNECTED +ADDRESS +UP +IN +OUT +ROOMS +OCCUPANTS$")
        self.assertRegex(next(l for l in text if l.startswith(ROOMS)), rf"^{re.escape(ROOMS)} +muc +no +- +- +- +- +1 +2$")
        text = self.xmppctl("show", "muc")
        self.assertRegex(text, rf"(?m)^{re.escape(room)} +2 +no +yes +no +no +no +(yes|no)$")
        # A name that is no MUC service is refused before asking.
        r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "show", "muc", GATEWAY], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_component_on_ipv6_loopback(self):
        raw = self.raw(OTHER, "::1")
        self.assertEqual(raw.handshake(OTHER_SECRET), b"<handshake/>")

    def test_answer_header(self):
        raw = self.raw()
        self.assertIn(b"xmlns='jabber:component:accept'", raw.header)
        self.assertIn(f"from='{GATEWAY}'".encode(), raw.header)
        self.assertRegex(raw.stream_id, r"^[0-9a-f]{24}$")
        self.assertNotIn(b"<stream:features", raw.header)

    def test_wrong_secret_is_refused_and_logged(self):
        raw = self.raw()
        answer = raw.handshake("not the secret") + raw.rest()
        self.assertEqual(streams.stream_error(answer), ("not-authorized", "wrong handshake"))
        self.xmppd.wait_log(rf"router\[\d+\]: component {GATEWAY} from 127\.0\.0\.1 port \d+: "
                            r"handshake refused: wrong secret")
        # Another component's secret does not open this one.
        raw = self.raw()
        answer = raw.handshake(OTHER_SECRET) + raw.rest()
        self.assertEqual(streams.stream_error(answer)[0], "not-authorized")

    def test_malformed_handshakes_are_refused(self):
        for handshake in ("<handshake/>", "<handshake>zz</handshake>", f"<handshake>{'g' * 40}</handshake>",
                          "<message to='a@chat.test'/>"):
            raw = self.raw()
            answer = raw.send(handshake, None) + raw.rest()
            self.assertEqual(streams.stream_error(answer)[0], "not-authorized", handshake)

    def test_unknown_domain_and_muc_or_host_names_are_refused(self):
        for domain in ("nowhere.test", HOST, ROOMS):
            raw = self.raw(domain)
            self.assertEqual(streams.stream_error(raw.header + raw.rest())[0], "host-unknown", domain)

    def test_from_outside_the_domain_is_invalid_from(self):
        for sender in (f"someone@{OTHER}", f"x@sub.{GATEWAY}", f"alice@{HOST}", None):
            raw = self.raw()
            self.assertEqual(raw.handshake(SECRET), b"<handshake/>")
            attribute = f" from='{sender}'" if sender else ""
            answer = raw.send(f"<message{attribute} to='bob@{HOST}'><body>x</body></message>", None) + raw.rest()
            self.assertEqual(streams.stream_error(answer)[0], "invalid-from", sender)
            raw.close()
            self.wait_detached()

    def test_missing_to_is_answered_with_bad_request(self):
        raw = self.raw()
        self.assertEqual(raw.handshake(SECRET), b"<handshake/>")
        answer = raw.send(f"<iq type='get' id='q1' from='{GATEWAY}'><ping xmlns='{PING}'/></iq>", b"</iq>")
        self.assertIn(b"type='error'", answer)
        self.assertIn(b"<bad-request", answer)
        # The stream goes on: a ping to the server is answered.
        raw.send(f"<iq type='get' id='q2' from='{GATEWAY}' to='{HOST}'><ping xmlns='{PING}'/></iq>", None)
        answer = raw.read_match(rb"<iq [^>]*id='q2'[^>]*>")
        self.assertIn(b"type='result'", answer.group(0))

    def test_a_second_connection_is_refused_with_conflict(self):
        first = self.raw()
        self.assertEqual(first.handshake(SECRET), b"<handshake/>")
        second = self.raw()
        answer = second.handshake(SECRET) + second.rest()
        self.assertEqual(streams.stream_error(answer)[0], "conflict")
        # The first one still serves the domain.
        alice = self.login("alice")
        alice.send_message(mto=f"x@{GATEWAY}", mbody="still there", mtype="chat")
        self.wait(asyncio.sleep(0.5))  # slixmpp writes from its loop
        self.assertIn(b"still there", streams.read_until(first.sock, b"</message>"))

    def test_a_component_that_does_not_read_is_cut(self):
        raw = self.raw()
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.assertEqual(raw.handshake(SECRET), b"<handshake/>")
        alice = self.login("alice")
        mark = len(self.xmppd.log())
        body = "x" * 60000
        for _ in range(200):  # 12 MB for a component that reads nothing
            alice.send_message(mto=f"sink@{GATEWAY}", mbody=body, mtype="chat")
        deadline = time.monotonic() + 30
        while not re.search(rf"component connection from 127\.0\.0\.1 port \d+ closed: the peer does not read",
                            self.xmppd.log()[mark:]):
            self.assertLess(time.monotonic(), deadline, "the stuck component was never cut")
            self.wait(asyncio.sleep(0.2))  # slixmpp sends while its loop runs
        # Gone, the component's domain answers service-unavailable.
        self.xmppd.wait_log(rf"component {GATEWAY} from \S+ port \d+ disconnected", after=mark)
        while not alice.messages.empty():
            alice.messages.get_nowait()
        alice.send_message(mto=f"sink@{GATEWAY}", mbody="and now?", mtype="chat")
        m = self.wait(alice.messages.get())
        self.assertEqual((m["type"], m["error"]["condition"]), ("error", "service-unavailable"))

    def test_secret_is_only_in_the_parent_and_the_auth_helper(self):
        raw = self.raw()
        self.assertEqual(raw.handshake(SECRET), b"<handshake/>")
        secret = SECRET.encode()
        kids = self.xmppd.children()
        self.assertIn(secret, harness.read_memory(kids["auth"]), "control failed: not in the auth helper")
        self.assertIn(secret, harness.read_memory(self.xmppd.proc.pid), "control failed: not in the parent")
        for role in ("router", "s2s", "tls"):
            self.assertNotIn(secret, harness.read_memory(kids[role]), role)


class ComponentAcrossServers(FederationTest):
    """A Prosody user on b.test and a component of xmppd's a.test, both ways across s2s."""
    EXTRA_NAMES = {f"gateway.{A}": ADDRESS[A]}

    def test_prosody_user_and_component_talk_across_servers(self):
        gateway = f"gateway.{A}"
        workdir_a = fresh_workdir(self.workdir, A)
        # The component's domain federates with a certificate of its own.
        harness.write_certificates(self.ca, f"{workdir_a}/certs", (A, gateway))
        config = xmppd_config(workdir_a, A, self.ca_file, f'component_interfaces = {{ "{ADDRESS[A]}" }}\n')
        a = harness.Server(workdir_a, config + f'Component "{gateway}"\ncomponent_secret = "{SECRET}"\n')
        self.servers.append(a)
        a.start()
        a.wait_sandboxed_children()
        a.wait_log(r"s2s\[\d+\]: TLS certificates for 2 hosts")
        self.c2s_address[A] = ADDRESS[A]
        workdir_b = fresh_workdir(self.workdir, B)
        harness.write_certificates(self.ca, workdir_b, (B,))
        prosody = Prosody(workdir_b, B, ADDRESS[B], f"{workdir_b}/{B}.crt", f"{workdir_b}/{B}.key", self.ca_file)
        self.servers.append(prosody)
        prosody.start()
        prosody.register("bob", "bob pw")
        component = Gateway(gateway, SECRET, ADDRESS[A])
        self.clients.append(component)
        component.connect()
        self.loop.run_until_complete(asyncio.wait_for(component.started, 20))
        bob = self.login(f"bob@{B}/desk", "bob pw")
        bob.send_message(mto=f"echo@{gateway}", mbody="hello across", mtype="chat")
        m = self.loop.run_until_complete(asyncio.wait_for(component.messages.get(), 30))
        self.assertEqual((m["body"], str(m["from"])), ("hello across", f"bob@{B}/desk"))
        component.send_message(mto=f"bob@{B}/desk", mfrom=f"echo@{gateway}", mbody="hello back", mtype="chat")
        m = self.receive(bob, 30)
        self.assertEqual((m["body"], str(m["from"])), ("hello back", f"echo@{gateway}"))
        # Both ways over s2s, the component's domain authenticated as a domain of a.test's.
        a.wait_log(rf"s2s inbound {B} -> {re.escape(gateway)} from .*authenticated")
        a.wait_log(rf"s2s outbound {re.escape(gateway)} -> {B} via .*authenticated")


if __name__ == "__main__":
    harness.main()
