#!/usr/bin/env python3
"""XMPP over WebSocket (RFC 7395) at /xmpp-websocket of the HTTP process, with a real
WebSocket client (Debian's python3-websockets): a SCRAM login, resource binding, a stream
restart, messages and presence with a TCP client (slixmpp), and what bad input gets: a
missing xmpp subprotocol, binary, oversized, unmasked and too fragmented frames, two
elements in one message, a message that is not XML. One server for the whole class."""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import unittest

import slixmpp
import websockets

import harness

HOST = "web.test"
HTTP_PORT = 5280
HTTPS_PORT = 5281
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")
FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
OPEN = f"<open xmlns='{FRAMING}' to='{HOST}' version='1.0'/>"
CLOSE = f"<close xmlns='{FRAMING}'/>"


def scram_sha256(password, client_nonce, server_first):
    """The client-final-message of SCRAM-SHA-256 (RFC 7677) without channel binding, and the
    server signature it expects."""
    attrs = dict(item.split("=", 1) for item in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored = hashlib.sha256(client_key).digest()
    without_proof = f"c=biws,r={attrs['r']}"
    assert attrs["r"].startswith(client_nonce)
    auth_message = f"n=alice,r={client_nonce},{server_first},{without_proof}".encode()
    signature = hmac.new(stored, auth_message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    server_signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
    return f"{without_proof},p={base64.b64encode(proof).decode()}", base64.b64encode(server_signature).decode()


class Bob(slixmpp.ClientXMPP):
    """A TCP client for the WebSocket client to talk to."""

    def __init__(self, ca_file):
        super().__init__(f"bob@{HOST}/tcp", "bob's secret")
        self.ca_certs = ca_file
        self.started = asyncio.get_event_loop().create_future()
        self.messages = asyncio.Queue()
        self.add_event_handler("session_start", lambda _: self.started.set_result(True))
        self.add_event_handler("message", lambda m: self.messages.put_nowait(m))


class WebSocket(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.class_workdir(cls, (HOST,))
        config = harness.basic_config(cls.workdir, f'certificates = "{cls.workdir}/certs"\n'
                                      f"http_ports = {{ {HTTP_PORT} }}\nhttps_ports = {{ {HTTPS_PORT} }}\n"
                                      'http_interfaces = { "127.0.0.1" }\nhttps_interfaces = { "127.0.0.1" }\n')
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\nmodules_enabled = {{ "websocket" }}')
        cls.xmppd = harness.Server(cls.workdir, config).start()
        cls.failed = False
        try:
            cls.xmppd.wait_sandboxed_children(count=5)
            cls.xmppd.wait_log(r"http\[\d+\]: https on 127\.0\.0\.1 port 5281")
            cls.xmppd.wait_log(r"http\[\d+\]: TLS certificates for 1 host")
            cls.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts?")
            for user in ("alice", "bob"):
                harness.adduser(cls.xmppd, f"{user}@{HOST}", f"{user}'s secret")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        harness.stop_class_servers([cls.xmppd], cls.workdir, cls.failed, always_log=bool(os.environ.get("XMPPD_TEST_LOG")))

    def setUp(self):
        self.loop = harness.new_loop()

    def tearDown(self):
        harness.close_loop(self.loop, settle=0)
        if harness.has_failed(self):
            type(self).failed = True

    def run_async(self, coroutine, timeout=20):
        return self.loop.run_until_complete(asyncio.wait_for(coroutine, timeout))

    def url(self, secure=False):
        return f"wss://{HOST}:{HTTPS_PORT}/xmpp-websocket" if secure else f"ws://127.0.0.1:{HTTP_PORT}/xmpp-websocket"

    def connect(self, secure=False, subprotocols=("xmpp",)):
        kwargs = {}
        if secure:
            context = ssl.create_default_context(cafile=self.ca_file)
            kwargs = {"ssl": context, "host": "127.0.0.1", "port": HTTPS_PORT, "server_hostname": HOST}
        return websockets.connect(self.url(secure), subprotocols=list(subprotocols), max_size=None, **kwargs)

    async def expect(self, ws, pattern):
        message = await asyncio.wait_for(ws.recv(), 10)
        self.assertRegex(message, pattern)
        return message

    async def login(self, ws):
        """SCRAM-SHA-256, a stream restart and resource binding over `ws`; the bound JID."""
        await ws.send(OPEN)
        await self.expect(ws, rf"^<open xmlns='{FRAMING}' from='{HOST}' id='\w+' version='1.0'")
        features = await self.expect(ws, r"^<stream:features xmlns:stream='http://etherx.jabber.org/streams'>")
        self.assertIn("<mechanism>SCRAM-SHA-256</mechanism>", features)
        self.assertNotIn("PLUS", features)  # the router has no TLS of its own to bind to
        self.assertNotIn("starttls", features)
        nonce = base64.b64encode(os.urandom(18)).decode()
        first = base64.b64encode(f"n,,n=alice,r={nonce}".encode()).decode()
        await ws.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>{first}</auth>")
        challenge = await self.expect(ws, r"^<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>")
        server_first = base64.b64decode(re.search(r">([^<]+)<", challenge).group(1)).decode()
        final, signature = scram_sha256("alice's secret", nonce, server_first)
        await ws.send(f"<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{base64.b64encode(final.encode()).decode()}</response>")
        success = await self.expect(ws, r"^<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>")
        self.assertEqual(base64.b64decode(re.search(r">([^<]+)<", success).group(1)).decode(), f"v={signature}")
        # RFC 7395 §3.5: a new <open/> after SASL, answered by a new <open/> and features.
        await ws.send(OPEN)
        await self.expect(ws, rf"^<open xmlns='{FRAMING}'")
        await self.expect(ws, r"<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'")
        await ws.send("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                      "<resource>web</resource></bind></iq>")
        bound = await self.expect(ws, r"^<iq xmlns='jabber:client' type='result' id='b1'")
        return re.search(r"<jid>([^<]+)</jid>", bound).group(1)

    async def close_code(self, ws):
        await asyncio.wait_for(ws.wait_closed(), 10)
        return ws.close_code

    def test_login_chat_presence_and_close(self):
        async def scenario():
            bob = Bob(self.ca_file)
            bob.connect(("127.0.0.1", 5222))
            await asyncio.wait_for(bob.started, 10)
            async with self.connect(secure=True) as ws:
                self.assertEqual(ws.subprotocol, "xmpp")
                jid = await self.login(ws)
                self.assertEqual(jid, f"alice@{HOST}/web")
                await ws.send("<presence xmlns='jabber:client'/>")
                await ws.send(f"<message xmlns='jabber:client' to='bob@{HOST}/tcp' type='chat'><body>hi &amp; hello</body></message>")
                got = await asyncio.wait_for(bob.messages.get(), 10)
                self.assertEqual((str(got["from"]), got["body"]), (jid, "hi & hello"))
                bob.send_message(mto=jid, mbody="hello <web>", mtype="chat")
                await self.expect(ws, r"^<message xmlns='jabber:client'[^>]* from='bob@web.test/tcp'.*<body>hello &lt;web&gt;</body>")
                bob.send_presence(pto=jid, pstatus="here")
                await self.expect(ws, r"^<presence xmlns='jabber:client'[^>]* from='bob@web.test/tcp'.*<status>here</status>")
                shown = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "-j", "show", "c2s"],
                                       capture_output=True, text=True, timeout=30)
                sessions = {s["jid"]: s for s in json.loads(shown.stdout)}
                self.assertTrue(sessions[jid]["websocket"])
                self.assertEqual(sessions[jid]["tls_version"], "TLSv1.3")  # the client's TLS with the HTTP process
                self.assertFalse(sessions[f"bob@{HOST}/tcp"]["websocket"])
                # RFC 7395 §3.6: <close/> is answered with <close/>, then the WebSocket closes.
                await ws.send(CLOSE)
                await self.expect(ws, rf"^<close xmlns='{FRAMING}'/>$")
                self.assertEqual(await self.close_code(ws), 1000)
            bob.disconnect()
            await asyncio.sleep(0.2)
        self.run_async(scenario())

    def test_plain_ws_from_loopback_is_not_secure(self):
        # A local reverse proxy may serve plain ws:// to anyone: without consider_websocket_secure,
        # c2s_require_encryption offers no mechanism.
        async def scenario():
            async with self.connect(secure=False) as ws:
                await ws.send(OPEN)
                await self.expect(ws, rf"^<open xmlns='{FRAMING}' from='{HOST}'")
                features = await self.expect(ws, r"^<stream:features ")
                self.assertNotIn("<mechanism>", features)
        self.run_async(scenario())

    def test_an_upgrade_without_the_xmpp_subprotocol_is_refused(self):
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as refused:
            self.run_async(self.connect(subprotocols=("chat",)).__aenter__())
        self.assertEqual(refused.exception.status_code, 501)

    def bad_input(self, send, code, error=None, opened=True):
        """`send(ws)` after <open/>: the stream error `error` (if any) arrives, then the close
        `code`; afterwards the server still serves a new client."""
        async def scenario():
            async with self.connect() as ws:
                if opened:
                    await ws.send(OPEN)
                    await self.expect(ws, r"^<open ")
                    await self.expect(ws, r"^<stream:features")
                await send(ws)
                if error and not opened:
                    await self.expect(ws, rf"^<open xmlns='{FRAMING}'")  # RFC 7395 §3.6.1: the error needs a stream
                if error:
                    await self.expect(ws, rf"^<stream:error xmlns:stream='http://etherx.jabber.org/streams'><{error} ")
                    await self.expect(ws, rf"^<close xmlns='{FRAMING}'/>$")
                self.assertEqual(await self.close_code(ws), code)
        self.run_async(scenario())

    def test_binary_frame_is_closed_with_1003(self):
        self.bad_input(lambda ws: ws.send(b"<message/>"), 1003)

    def test_oversized_message_is_closed_with_1009(self):
        self.bad_input(lambda ws: ws.send("<message><body>" + "x" * (600 << 10) + "</body></message>"), 1009)

    def test_too_many_fragments_are_closed_with_1009(self):
        self.bad_input(lambda ws: ws.send(["<message>"] + ["<b/>"] * 8 + ["</message>"]), 1009)

    def test_fragments_within_the_limit_make_one_message(self):
        async def scenario():
            async with self.connect() as ws:
                await ws.send(["<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' ", f"to='{HOST}' version='1.0'/>"])
                await self.expect(ws, r"^<open ")
        self.run_async(scenario())

    def test_a_host_without_websocket_is_unknown(self):
        async def send(ws):
            await ws.send(f"<open xmlns='{FRAMING}' to='elsewhere.test' version='1.0'/>")
        self.bad_input(send, 1000, "host-unknown", opened=False)

    def test_ping_is_answered(self):
        async def scenario():
            async with self.connect() as ws:
                await asyncio.wait_for(await ws.ping(b"are you there"), 5)
        self.run_async(scenario())

    def test_two_elements_in_one_message_are_not_well_formed(self):
        self.bad_input(lambda ws: ws.send("<presence/><presence/>"), 1007, "not-well-formed")

    def test_a_message_that_is_not_xml_is_not_well_formed(self):
        self.bad_input(lambda ws: ws.send("hello"), 1007, "not-well-formed")

    def test_a_processing_instruction_is_restricted_xml(self):
        self.bad_input(lambda ws: ws.send("<message><?evil x?></message>"), 1007, "restricted-xml")

    def test_a_stanza_before_open_is_a_policy_violation(self):
        self.bad_input(lambda ws: ws.send("<message/>"), 1002, "policy-violation", opened=False)

    def test_an_unmasked_frame_is_closed_with_1002(self):
        sock = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET /xmpp-websocket HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 101 "), answer)
        head, _, rest = answer.partition(b"\r\n\r\n")
        expected = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.assertIn(b"Sec-WebSocket-Accept: " + expected, head)
        payload = OPEN.encode()
        sock.sendall(bytes([0x81, len(payload)]) + payload)  # no mask bit: a client must mask
        frame = rest
        while len(frame) < 4:
            chunk = sock.recv(4096)
            if not chunk:
                break
            frame += chunk
        sock.close()
        self.assertEqual(frame[0], 0x88, frame)  # a close frame
        self.assertEqual(int.from_bytes(frame[2:4], "big"), 1002)

    def test_a_plain_get_gets_a_page_and_a_wrong_version_426(self):
        def request(extra, connection="close"):
            sock = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=10)
            sock.sendall(f"GET /xmpp-websocket HTTP/1.1\r\nHost: {HOST}\r\nConnection: {connection}\r\n{extra}\r\n".encode())
            sock.shutdown(socket.SHUT_WR)  # the answer, then the end ("Upgrade, close" keeps it open)
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
            sock.close()
            return data.decode(errors="replace")
        self.assertRegex(request(""), r"(?s)^HTTP/1.1 200 .*WebSocket endpoint")
        upgrade = "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: xmpp\r\n"
        answer = request(upgrade + "Sec-WebSocket-Version: 8\r\n", "Upgrade, close")
        self.assertRegex(answer, r"^HTTP/1.1 426 ")
        self.assertIn("Sec-WebSocket-Version: 13", answer)


class BehindAProxy(unittest.TestCase):
    """trusted_proxies (127.0.0.1 and ::1 by default, as Prosody): the test client is the
    reverse proxy, on 127.0.0.1, and names clients on 127.0.0.2 and 127.0.0.3 in
    X-Forwarded-For. max_connections_per_address = 2 applies to the forwarded addresses
    (the HTTP process's, once a request is read, and the router's c2s limits); the proxy's own
    address is exempt from it. One server for the class."""

    setUp = WebSocket.setUp
    tearDown = WebSocket.tearDown
    run_async = WebSocket.run_async
    expect = WebSocket.expect
    login = WebSocket.login

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="xmppd-test-")
        os.chmod(cls.workdir, 0o755)
        config = harness.basic_config(cls.workdir, f"http_ports = {{ {HTTP_PORT} }}\nhttps_ports = {{ }}\n"
                                      'http_interfaces = { "127.0.0.1" }\nmax_connections_per_address = 2\n')
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\nmodules_enabled = {{ "websocket" }}')
        cls.xmppd = harness.Server(cls.workdir, config).start()
        cls.failed = False
        try:
            cls.xmppd.wait_sandboxed_children(count=5)
            cls.xmppd.wait_log(r"http\[\d+\]: http on 127\.0\.0\.1 port 5280")
            harness.adduser(cls.xmppd, f"alice@{HOST}", "alice's secret")
        except Exception:
            cls.tearDownClass()
            raise

    tearDownClass = classmethod(WebSocket.tearDownClass.__func__)

    def connect(self, forwarded_for=None, proto=None, source="127.0.0.1"):
        headers = {}
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        if proto:
            headers["X-Forwarded-Proto"] = proto
        return websockets.connect(f"ws://127.0.0.1:{HTTP_PORT}/xmpp-websocket", subprotocols=["xmpp"],
                                  extra_headers=headers, local_addr=(source, 0))

    def shown_address(self, jid):
        shown = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "-j", "show", "c2s"],
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(shown.returncode, 0, shown.stderr)
        return {s["jid"]: s for s in json.loads(shown.stdout)}[jid]["address"]

    def logged_in_address(self, **connect):
        """Logs alice in over a WebSocket (X-Forwarded-Proto: https, or there is no mechanism
        to log in with) and returns the address `xmppctl show c2s` gives her session."""
        async def scenario():
            async with self.connect(proto="https", **connect) as ws:
                jid = await self.login(ws)
                address = self.shown_address(jid)
                await ws.send(CLOSE)
                await self.expect(ws, rf"^<close xmlns='{FRAMING}'/>$")
                return address
        return self.run_async(scenario())

    def test_the_router_sees_the_forwarded_address(self):
        self.assertRegex(self.logged_in_address(forwarded_for="192.0.2.9, 127.0.0.2"), r"^127\.0\.0\.2\b")
        self.xmppd.wait_log(r"(?m)websocket from 127\.0\.0\.2 port \d+ via 127\.0\.0\.1: handed to the router \(secure\)")

    def test_an_untrusted_peers_headers_are_ignored(self):
        # From 127.0.0.5, not a trusted proxy: neither X-Forwarded-For nor -Proto counts, so
        # the plain stream offers no mechanism (c2s_require_encryption).
        async def scenario():
            async with self.connect(forwarded_for="127.0.0.2", proto="https", source="127.0.0.5") as ws:
                await ws.send(OPEN)
                await self.expect(ws, rf"^<open xmlns='{FRAMING}'")
                features = await self.expect(ws, r"^<stream:features ")
                self.assertNotIn("<mechanism>", features)
        self.run_async(scenario())
        self.xmppd.wait_log(r"(?m)websocket from 127\.0\.0\.5 port \d+: handed to the router$")

    def test_proto_without_forwarded_for_is_not_believed(self):
        # A proxy that forwards no X-Forwarded-For may be passing the client's -Proto through.
        async def scenario():
            async with self.connect(proto="https") as ws:
                await ws.send(OPEN)
                await self.expect(ws, rf"^<open xmlns='{FRAMING}'")
                self.assertNotIn("<mechanism>", await self.expect(ws, r"^<stream:features "))
        self.run_async(scenario())
        self.xmppd.wait_log(r"(?m)websocket from 127\.0\.0\.1 port \d+: handed to the router$")

    def test_without_trusted_proxies_the_header_is_ignored(self):
        with open(self.xmppd.config) as f:
            text = f.read()
        generation = len(re.findall(r"reloaded .*generation", self.xmppd.log()))
        try:
            self.xmppd.write_config("trusted_proxies = { }\n" + text)  # global: before any section
            self.xmppd.proc.send_signal(signal.SIGHUP)
            self.xmppd.wait_log(rf"reloaded .*generation {generation + 2}")
            async def scenario():
                async with self.connect(forwarded_for="127.0.0.2", proto="https") as ws:
                    await ws.send(OPEN)
                    await self.expect(ws, rf"^<open xmlns='{FRAMING}'")
                    self.assertNotIn("<mechanism>", await self.expect(ws, r"^<stream:features "))
            self.run_async(scenario())
            self.xmppd.wait_log(r"(?m)websocket from 127\.0\.0\.1 port \d+: handed to the router$")
        finally:
            self.xmppd.write_config(text)
            self.xmppd.proc.send_signal(signal.SIGHUP)
            self.xmppd.wait_log(rf"reloaded .*generation {generation + 3}")

    def test_per_address_limits_count_the_forwarded_address(self):
        async def opened(ws):
            await ws.send(OPEN)
            return await asyncio.wait_for(ws.recv(), 10) + await asyncio.wait_for(ws.recv(), 10)

        async def scenario():
            held = []
            try:
                # Five connections from the proxy's one address: over its cap of 2, which a
                # trusted proxy is exempt from; two clients each hold their own cap of 2, and
                # the HTTP process refuses a third upgrade for one of them.
                for client in ("127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3"):
                    ws = await self.connect(forwarded_for=client).__aenter__()
                    held.append(ws)
                    self.assertIn("<stream:features", await opened(ws))
                with self.assertRaises(websockets.exceptions.InvalidStatusCode) as refused:
                    held.append(await self.connect(forwarded_for="127.0.0.2").__aenter__())
                self.assertEqual(refused.exception.status_code, 429)
            finally:
                for ws in held:
                    await ws.close()
        self.run_async(scenario(), timeout=40)
        self.xmppd.wait_log(r"http: 127\.0\.0\.2 \(via a trusted proxy\) refused: too many connections")


if __name__ == "__main__":
    harness.main()
