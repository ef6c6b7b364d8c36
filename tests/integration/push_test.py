#!/usr/bin/env python3
"""Push notifications (XEP-0357, the cloud_notify module) end to end: a client registers an
app server, played here by the test over a real s2s stream (STARTTLS, dialback, XEP-0288 so
that its answers come back on the same connection), and a message kept offline for the
account is announced to it by a PubSub publish from the account. What a notification holds
(no body or sender unless the options say so, the registration's publish options), malformed
and foreign registrations refused without changing anything, disable, push_max_devices, and
push_max_errors removing a registration whose app server keeps failing. And push with stream
management (XEP-0198): a session whose connection is cut hibernates, is pushed for what waits
and for each message that arrives meanwhile, and gets each once when it resumes; a message
after the resumption is not pushed."""
import asyncio
import queue
import re
import threading
import time
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout

import harness
import streams
import smacks_test
from federation_test import A, ADDRESS, B, FederationTest

PUSH = "urn:xmpp:push:0"
PUBSUB = "http://jabber.org/protocol/pubsub"
DATA = "jabber:x:data"
ALICE, CAROL = f"alice@{A}", f"carol@{A}"
MODULES = 'modules_enabled = { "cloud_notify", "s2s_bidi" }\n'
OPTIONS = (f"<x xmlns='{DATA}' type='submit'><field var='FORM_TYPE'>"
           "<value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
           "<field var='secret'><value>s3cr3t</value></field></x>")


def fields(form):
    return {f.get("var"): [v.text for v in f.findall(f"{{{DATA}}}value")] for f in form.findall(f"{{{DATA}}}field")}


class AppServer:
    """b.test, an app server: answers xmppd's outbound stream, offers bidi and accepts its
    dialback, then queues each publish (the iq element) and answers it as `answers` says
    ("result", or an error type such as "cancel" or "wait"; "result" once the list is empty)."""

    def __init__(self, test):
        self.context, self.listener, self.header = test.play_server(B, A)
        self.loop = test.loop
        self.publishes = queue.Queue()
        self.answers = []
        self.failures = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        try:
            conn, _ = self.listener.accept()
            conn.settimeout(60)
            streams.read_until(conn, f"to='{B}'>".encode())
            conn.sendall(self.header + b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                                       b"<required/></starttls></stream:features>")
            streams.read_until(conn, b"/>")
            conn.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            tls = self.context.wrap_socket(conn, server_side=True)
            streams.read_until(tls, f"to='{B}'>".encode())
            tls.sendall(self.header + b"<stream:features><bidi xmlns='urn:xmpp:features:bidi'/>"
                                      b"<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>"
                                      b"</stream:features>")
            data = streams.read_until(tls, b"</db:result>")
            tls.sendall(f"<db:result from='{B}' to='{A}' type='valid'/>".encode())
            data = data[data.index(b"</db:result>") + len(b"</db:result>"):]
            with tls:
                self.answer_publishes(tls, data)
        except Exception as e:  # reported by the test's thread
            self.failures.append(e)

    def answer_publishes(self, tls, data):
        while True:
            m = re.search(rb"<iq\b.*?</iq>", data, re.S)
            if m is None:
                chunk = tls.recv(65536)
                if not chunk:
                    return
                data += chunk
                continue
            data = data[m.end():]
            iq = ET.fromstring(m.group(0))
            self.publishes.put(iq)
            kind = self.answers.pop(0) if self.answers else "result"
            head = f"<iq from='{B}' to='{iq.get('from')}' id='{iq.get('id')}'"
            if kind == "result":
                tls.sendall(f"{head} type='result'/>".encode())
            else:
                tls.sendall(f"{head} type='error'><error type='{kind}'><item-not-found "
                            f"xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>".encode())

    def next(self, timeout=20):
        """(node, summary fields, publish-options fields, the iq) of the next publish."""
        # The clients' loop runs meanwhile: what they send goes out only while it runs.
        deadline = time.monotonic() + timeout
        while True:
            try:
                iq = self.publishes.get_nowait()
                break
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise AssertionError(f"no publish came; failures: {self.failures}") from None
                self.loop.run_until_complete(asyncio.sleep(0.02))
        publish = iq.find(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}publish")
        form = publish.find(f"{{{PUBSUB}}}item/{{{PUSH}}}notification/{{{DATA}}}x")
        options = iq.find(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}publish-options/{{{DATA}}}x")
        return publish.get("node"), fields(form), fields(options) if options is not None else None, iq


class Push(FederationTest):
    def start(self, host_extra=""):
        server = self.server = self.start_xmppd(A, extra=MODULES, host_extra=host_extra)
        self.adduser(server, ALICE, "alice pw")
        self.adduser(server, CAROL, "carol pw")
        self.app = AppServer(self)
        self.carol = self.login(f"{CAROL}/desk", "carol pw")
        return server

    def iq(self, client, payload):
        """Sends an IQ set with `payload` to the client's own account: "result" or the error's
        condition."""
        stanza = client.make_iq_set()
        stanza.append(ET.fromstring(payload))
        try:
            self.loop.run_until_complete(stanza.send(timeout=10))
            return "result"
        except IqError as e:
            return e.iq["error"]["condition"]
        except IqTimeout:
            return "timeout"

    def enable(self, client, node, jid=B, options=""):
        return self.iq(client, f"<enable xmlns='{PUSH}' jid='{jid}' node='{node}'>{options}</enable>")

    def offline(self, client):
        """Logs the client out, and waits until the server has closed the connection: the
        client's disconnect may complete first, and a message sent before the server has seen
        the stream end goes to the session that is ending (and is lost with it), not offline."""
        port = client.transport.get_extra_info("sockname")[1]
        self.loop.run_until_complete(asyncio.wait_for(client.disconnect(), 10))
        self.clients.remove(client)
        self.server.wait_log(rf"c2s connection from \S+ port {port} closed")

    def send_to_alice(self, body, mtype="chat"):
        self.carol.send_message(mto=ALICE, mbody=body, mtype=mtype)

    def test_notification_tells_neither_body_nor_sender_by_default(self):
        self.start()
        alice = self.login(f"{ALICE}/phone", "alice pw")
        info = self.loop.run_until_complete(alice["xep_0030"].get_info(jid=ALICE, timeout=10))
        self.assertIn(PUSH, info["disco_info"]["features"])
        # Refused, and nothing registered: no publish below goes to these.
        self.assertEqual(self.enable(alice, "bad", jid="x@@b..test"), "bad-request")
        self.assertEqual(self.iq(alice, f"<enable xmlns='{PUSH}' node='nojid'/>"), "bad-request")
        self.assertEqual(self.enable(alice, "mine", jid=ALICE), "bad-request")
        self.assertEqual(self.enable(alice, "carols", jid=CAROL), "not-allowed")
        self.assertEqual(self.enable(alice, "form", options=f"<x xmlns='{DATA}' type='form'/>"), "bad-request")
        self.assertEqual(self.enable(alice, "n1", options=OPTIONS), "result")
        # Disabling what is not registered is fine.
        self.assertEqual(self.iq(alice, f"<disable xmlns='{PUSH}' jid='other.test'/>"), "result")
        self.offline(alice)
        self.send_to_alice("a private matter")
        node, summary, options, iq = self.app.next()
        self.assertEqual((node, iq.get("from"), iq.get("to"), iq.get("type")), ("n1", ALICE, B, "set"))
        self.assertEqual(summary, {"FORM_TYPE": ["urn:xmpp:push:summary"], "message-count": ["1"]})
        self.assertEqual(options["secret"], ["s3cr3t"])
        self.assertNotIn(b"a private matter", ET.tostring(iq))
        # A headline is not worth waking a phone for; the next chat message is.
        self.send_to_alice("news", mtype="headline")
        self.send_to_alice("second")
        self.assertEqual(self.app.next()[0], "n1")
        # Disabled: the message after is not pushed, and the one after enabling again is.
        alice = self.login(f"{ALICE}/phone", "alice pw")
        self.assertEqual(self.iq(alice, f"<disable xmlns='{PUSH}' jid='{B}' node='n1'/>"), "result")
        self.assertEqual(self.enable(alice, "n2"), "result")
        self.assertEqual(self.iq(alice, f"<disable xmlns='{PUSH}' jid='{B}'/>"), "result")
        self.offline(alice)
        self.send_to_alice("unannounced")
        alice = self.login(f"{ALICE}/phone", "alice pw")
        self.assertEqual(self.enable(alice, "n3"), "result")
        self.offline(alice)
        self.send_to_alice("announced")
        node, _, options, _ = self.app.next()
        self.assertEqual((node, options), ("n3", None))
        self.assertEqual(self.app.failures, [])

    def test_body_sender_max_devices_and_max_errors(self):
        server = self.start("push_notification_with_body = true\npush_notification_with_sender = true\n"
                            "push_max_devices = 2\npush_max_errors = 2\n")
        alice = self.login(f"{ALICE}/phone", "alice pw")
        for node in ("d1", "d2", "d3"):
            self.assertEqual(self.enable(alice, node), "result")
        self.offline(alice)
        self.send_to_alice("wherefore art thou")
        # The oldest of three went: two devices, two publishes.
        first, second = self.app.next(), self.app.next()
        self.assertEqual({first[0], second[0]}, {"d2", "d3"})
        self.assertEqual(first[1]["last-message-body"], ["wherefore art thou"])
        self.assertEqual(first[1]["last-message-sender"], [f"{CAROL}/desk"])
        # d2 fails twice (an error of type wait between, which does not count) and is removed.
        self.app.answers = ["cancel", "result", "wait", "result", "cancel", "result"]
        for body in ("one", "two", "three"):
            self.send_to_alice(body)
            pushed = sorted(self.app.next()[0] for _ in range(2))
            self.assertEqual(pushed, ["d2", "d3"])
        server.wait_log(rf"cloud_notify: push notifications of {ALICE} to {B} disabled after 2 errors")
        self.send_to_alice("four")
        self.assertEqual(self.app.next()[0], "d3")
        alice = self.login(f"{ALICE}/phone", "alice pw")
        self.assertEqual(self.enable(alice, "d4"), "result")
        self.offline(alice)
        self.send_to_alice("five")
        self.assertEqual(sorted(self.app.next()[0] for _ in range(2)), ["d3", "d4"])
        self.assertEqual(self.app.failures, [])


class PushHibernation(FederationTest):
    """A phone with push and resumable stream management loses its network (its packets
    dropped, as smacks_test does): one server, short timers."""
    SM = "urn:xmpp:sm:3"

    def raw(self, user, password, resource, bind=True):
        r = smacks_test.Raw(self.ca_file, user, resource, bind, host=A, address=ADDRESS[A], password=password)
        self.addCleanup(r.close)
        return r

    def no_publish(self, client, seconds=2):
        """No publish for `seconds`, while the client reads (and so answers the server's <r/>,
        as a connected phone does); what else it gets is a test failure."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                e = client.next(0.1)
                self.assertTrue(e.tag.startswith(f"{{{self.SM}}}"), f"unexpected: {ET.tostring(e)}")
            except TimeoutError:
                pass
        if not self.app.publishes.empty():
            self.fail(f"a publish came: {ET.tostring(self.app.publishes.get())}")

    def test_hibernating_session_is_pushed_and_resumes_with_each_message_once(self):
        server = self.start_xmppd(A, extra=MODULES + "smacks_hibernation_time = 60\nsmacks_max_ack_delay = 1\n",
                                  host_extra="push_notification_with_body = true\n"
                                             "push_notification_with_sender = true\n")
        self.adduser(server, ALICE, "alice pw")
        self.adduser(server, CAROL, "carol pw")
        self.app = AppServer(self)
        phone, carol = self.raw("alice", "alice pw", "phone"), self.raw("carol", "carol pw", "desk")
        phone.send(f"<iq type='set' id='push'><enable xmlns='{PUSH}' jid='{B}' node='n1'/></iq>")
        self.assertEqual(phone.expect("{jabber:client}iq").get("type"), "result")
        token = phone.enable()
        smacks_test.send_messages(carol, phone.jid, ["m1"])
        self.assertEqual(phone.messages(1), ["m1"])
        # Connected and acknowledging: nothing is pushed.
        self.no_publish(phone, 1)
        # The phone leaves the network; the message after finds the connection dead (its <r/>
        # unanswered for smacks_max_ack_delay) and the session hibernates with it unacknowledged.
        mark = len(server.log())
        phone.auto_ack = False
        smacks_test.cut(self, phone.port)
        smacks_test.send_messages(carol, phone.jid, ["m2"])
        server.wait_log(r"the session hibernates", timeout=10, after=mark)
        node, summary, _, iq = self.app.next()
        # What waited is not at hand when the session hibernates: a count, no body, no sender.
        self.assertEqual((node, iq.get("from")), ("n1", ALICE))
        self.assertEqual(summary, {"FORM_TYPE": ["urn:xmpp:push:summary"], "message-count": ["1"]})
        # Each message for the hibernating session is pushed, as the options say.
        smacks_test.send_messages(carol, phone.jid, ["m3"])
        node, summary, _, _ = self.app.next()
        self.assertEqual(node, "n1")
        self.assertEqual(summary["last-message-body"], ["m3"])
        self.assertEqual(summary["last-message-sender"], [carol.jid])
        # The phone is woken and resumes: m2 and m3, once each.
        again = self.raw("alice", "alice pw", "phone", bind=False)
        again.send(f"<resume xmlns='{self.SM}' previd='{token}' h='{phone.handled}'/>")
        again.handled = phone.handled
        self.assertEqual(again.expect(f"{{{self.SM}}}resumed").get("previd"), token)
        self.assertEqual(again.messages(2), ["m2", "m3"])
        again.send(f"<iq type='get' id='after' to='{A}'><ping xmlns='urn:xmpp:ping'/></iq>")
        while (e := again.next()).tag != "{jabber:client}iq" or e.get("id") != "after":
            self.assertNotEqual(e.tag, "{jabber:client}message", ET.tostring(e))
        # Connected again: a new message is delivered, not pushed.
        smacks_test.send_messages(carol, phone.jid, ["m4"])
        self.assertEqual(again.messages(1), ["m4"])
        self.no_publish(again)
        self.assertEqual(self.app.failures, [])


if __name__ == "__main__":
    harness.main()
