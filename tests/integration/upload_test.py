#!/usr/bin/env python3
"""File sharing (XEP-0363, issue 17): xmppd on a.test with http_file_share components, a real
Prosody 0.12 on b.test. slixmpp's xep_0363 finds the service through disco and uploads; another
local user downloads with curl (bytes and headers checked), and a Prosody user gets the URL over
s2s and downloads it from b.test's address. Who may upload is Prosody's rule (any VirtualHost,
or only those an access list names). Then the refusals: slots over the size limit, of a type not
allowed, with bad or too long names, over the daily and global quotas (4 KiB a slot at least),
for a remote user; PUTs without a token, with another slot's or another user's token, without
Content-Length (411), expired, of the wrong size, twice, to traversing paths; Range 206/416, not
on HEAD; a content-type's parameters dropped; nothing stored after any failure; a short
http_file_share_expires_after removes the file.

One set-up for the class (DNS, xmppd, Prosody: a few seconds); each test uses slots of its own."""
import asyncio
import http.client
import io
import os
import re
import subprocess
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

import harness
from federation_test import A, ADDRESS, B, xmppd_config
from harness import TestDns
from prosody import Prosody, fresh_workdir

UPLOAD, TIGHT, BRIEF, MUC = f"upload.{A}", f"tight.{A}", f"brief.{A}", f"conference.{A}"
# staff.a.test lets only carol@a.test and the users of second.test (a second VirtualHost) upload.
STAFF, SECOND = f"staff.{A}", "second.test"
HTTP_PORT, HTTPS_PORT = 5280, 5281
SIZE_LIMIT = 64 * 1024
DAILY_QUOTA = 200 * 1024
GLOBAL_QUOTA = 3 * 4096  # each slot counts at least 4 KiB
LOCAL_USERS = ("alice", "bob", "carol", "dave")
NS_UPLOAD = "urn:xmpp:http:upload:0"
NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_INFO = "http://jabber.org/protocol/disco#info"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_DATA = "jabber:x:data"


def password(jid):
    return f"{jid.split('@')[0]}'s secret"


def config(workdir, ca_file):
    extra = f"""
http_ports = {{ {HTTP_PORT} }}
https_ports = {{ {HTTPS_PORT} }}
http_interfaces = {{ "{ADDRESS[A]}" }}
https_interfaces = {{ "{ADDRESS[A]}" }}
"""
    components = f"""
Component "{UPLOAD}" "http_file_share"
  http_file_share_size_limit = {SIZE_LIMIT}
  http_file_share_daily_quota = {DAILY_QUOTA}
  http_file_share_allowed_file_types = {{ "image/*", "text/plain", "application/octet-stream" }}
Component "{TIGHT}" "http_file_share"
  http_file_share_global_quota = {GLOBAL_QUOTA}
Component "{BRIEF}" "http_file_share"
  http_file_share_expires_after = 2
Component "{MUC}" "muc"
Component "{STAFF}" "http_file_share"
  http_file_share_access = {{ "carol@{A}", "{SECOND}" }}
VirtualHost "{SECOND}"
"""
    return xmppd_config(workdir, A, ca_file, extra=extra) + components


class Client(slixmpp.ClientXMPP):
    """A client with XEP-0363 (and aiohttp, for its upload_file) that keeps its messages."""

    def __init__(self, jid, ca_file):
        super().__init__(jid, password(jid), sasl_mech="SCRAM-SHA-1")
        self.ca_certs = ca_file
        for plugin in ("xep_0030", "xep_0363"):
            self.register_plugin(plugin)
        self.messages = []
        self.register_handler(Callback("messages", MatchXPath(f"{{{NS_CLIENT}}}message"), self.messages.append))
        self.outcome = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", lambda _: self._settle("session"))
        self.add_event_handler("failed_auth", lambda _: self._settle("failed_auth"))

    def _settle(self, value):
        if not self.outcome.done():
            self.send_presence()
            self.outcome.set_result(value)


def http_request(method, path, body=None, headers=None, host=UPLOAD):
    """One request to the HTTP process: (status, headers dict (lowercase names), body)."""
    conn = http.client.HTTPConnection(ADDRESS[A], HTTP_PORT, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Host": f"{host}:{HTTP_PORT}", **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def curl(url, *args):
    """curl's status, headers (lowercase names) and body for url (https: the test CA trusted)."""
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["curl", "-sS", "--cacert", os.environ["SSL_CERT_FILE"], "-D", f"{tmp}/h", "-o", f"{tmp}/b",
                            "-w", "%{http_code}", *args, url],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError(f"curl {url}: {r.stderr}")
        headers = {}
        with open(f"{tmp}/h") as f:
            for line in f.read().splitlines()[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
        with open(f"{tmp}/b", "rb") as f:
            return int(r.stdout), headers, f.read()


def chunked_put(path, body, auth):
    """The status of a PUT whose body is chunked (no Content-Length)."""
    conn = http.client.HTTPConnection(ADDRESS[A], HTTP_PORT, timeout=10)
    try:
        conn.request("PUT", path, body=iter([body]), encode_chunked=True,
                     headers={"Host": f"{UPLOAD}:{HTTP_PORT}", "Authorization": auth, "Transfer-Encoding": "chunked"})
        return conn.getresponse().status
    finally:
        conn.close()


def path_of(url):
    return url[url.index("/", len("https://")):]


class FileSharing(harness.ClientLoopTest):
    @classmethod
    def setUpClass(cls):
        harness.class_workdir(cls, prefix="xmppd-upload-")
        # The slots' URLs are https (the default): aiohttp (slixmpp's upload_file) and curl trust the test CA.
        os.environ["SSL_CERT_FILE"] = cls.ca_file
        cls.servers = []
        cls.failed = False
        names = {A: ADDRESS[A], B: ADDRESS[B]}
        names.update({name: ADDRESS[A] for name in (UPLOAD, TIGHT, BRIEF, MUC, STAFF, SECOND)})
        cls.dns = TestDns(cls.workdir, names).start()
        try:
            cls.a = cls.start_xmppd()
            cls.b = cls.start_prosody()
            for user in LOCAL_USERS:
                cls.adduser(f"{user}@{A}")
            cls.adduser(f"erin@{SECOND}")
            cls.b.register("bob", password(f"bob@{B}"))
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        harness.stop_class_servers(cls.servers, cls.workdir, cls.failed, dns=cls.dns)

    @classmethod
    def start_xmppd(cls):
        workdir = fresh_workdir(cls.workdir, A)
        harness.write_certificates(cls.ca, f"{workdir}/certs", (A, UPLOAD, TIGHT, BRIEF, MUC, STAFF, SECOND))
        server = harness.Server(workdir, config(workdir, cls.ca_file))
        cls.servers.append(server)
        server.start()
        server.wait_sandboxed_children(timeout=20, count=5)
        server.wait_log(r"router\[\d+\]: TLS certificates for \d+ hosts")
        server.wait_log(r"http\[\d+\]: http on ")
        server.wait_log(r"http\[\d+\]: TLS certificates for \d+ hosts")
        cls.files = os.path.join(workdir, "data", "http", "file_share")
        return server

    @classmethod
    def start_prosody(cls):
        workdir = fresh_workdir(cls.workdir, B)
        harness.write_certificates(cls.ca, workdir, (B,))
        prosody = Prosody(workdir, B, ADDRESS[B], f"{workdir}/{B}.crt", f"{workdir}/{B}.key", cls.ca_file)
        cls.servers.append(prosody)
        prosody.start()
        return prosody

    @classmethod
    def adduser(cls, jid):
        harness.adduser(cls.a, jid, password(jid))

    def tearDown(self):
        super().tearDown()
        # No child may die along the way (a restarted HTTP process would also sweep and hide
        # what it lost): a seccomp kill or a crash fails the test that caused it.
        died = re.findall(r"xmppd: \w+ \(pid \d+\) (?:killed|exited)[^\n]*", self.a.log())
        if died:
            type(self).failed = True
            self.fail(f"a child died: {died}")

    # --- helpers ---

    def wait(self, awaitable, timeout=15):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def wait_until(self, predicate, timeout, what):
        """Runs the clients' loop until predicate() holds."""
        async def polling():
            while not predicate():
                await asyncio.sleep(0.05)
        try:
            self.wait(polling(), timeout)
        except asyncio.TimeoutError:
            self.fail(f"timed out after {timeout}s waiting for {what}")

    def login(self, jid):
        client = Client(f"{jid}/desk", self.ca_file)
        self.clients.append(client)
        client.connect((ADDRESS.get(jid.split("@")[1], ADDRESS[A]), 5222))
        self.assertEqual(self.wait(client.outcome, 20), "session", f"login of {jid}")
        return client

    def iq(self, client, payload, to, itype="get"):
        iq = client.make_iq(itype=itype, ito=to)
        iq.append(ET.fromstring(payload))
        return self.wait(iq.send(timeout=10))

    def request(self, client, filename, size, content_type="text/plain", service=UPLOAD):
        """A slot: (put path, Authorization value, get url)."""
        attrs = f"filename='{filename}' size='{size}'" + (f" content-type='{content_type}'" if content_type else "")
        reply = self.iq(client, f"<request xmlns='{NS_UPLOAD}' {attrs}/>", service)
        slot = reply.xml.find(f"{{{NS_UPLOAD}}}slot")
        put, get = slot.find(f"{{{NS_UPLOAD}}}put"), slot.find(f"{{{NS_UPLOAD}}}get")
        header = put.find(f"{{{NS_UPLOAD}}}header")
        self.assertEqual(header.get("name"), "Authorization")
        self.assertEqual(put.get("url"), get.get("url"))
        return path_of(put.get("url")), header.text, get.get("url")

    def refused(self, client, filename, size, content_type="text/plain", service=UPLOAD):
        """The error of a slot request that must fail: (condition, <error/>)."""
        attrs = f"filename='{filename}' size='{size}'" + (f" content-type='{content_type}'" if content_type else "")
        with self.assertRaises(IqError, msg=f"a slot for {filename!r} ({size} bytes)") as ctx:
            self.iq(client, f"<request xmlns='{NS_UPLOAD}' {attrs}/>", service)
        error = ctx.exception.iq.xml.find(f"{{{NS_CLIENT}}}error")
        condition = next(c.tag.split("}")[1] for c in error if c.tag.startswith(f"{{{NS_STANZAS}}}")
                         and not c.tag.endswith("}text"))
        return condition, error

    def stored(self):
        """The names in the store's directory."""
        return sorted(os.listdir(self.files))

    # --- the tests ---

    def test_disco_lists_the_service_with_its_size_limit(self):
        alice = self.login(f"alice@{A}")
        items = self.iq(alice, f"<query xmlns='{NS_ITEMS}'/>", A)
        listed = {i.get("jid") for i in items.xml.iter(f"{{{NS_ITEMS}}}item")}
        self.assertTrue({UPLOAD, TIGHT, BRIEF, MUC} <= listed, listed)
        info = self.iq(alice, f"<query xmlns='{NS_INFO}'/>", UPLOAD).xml.find(f"{{{NS_INFO}}}query")
        identities = [(i.get("category"), i.get("type")) for i in info.iter(f"{{{NS_INFO}}}identity")]
        self.assertEqual(identities, [("store", "file")])
        self.assertIn(NS_UPLOAD, [f.get("var") for f in info.iter(f"{{{NS_INFO}}}feature")])
        fields = {f.get("var"): f.findtext(f"{{{NS_DATA}}}value") for f in info.iter(f"{{{NS_DATA}}}field")}
        self.assertEqual(fields, {"FORM_TYPE": NS_UPLOAD, "max-file-size": str(SIZE_LIMIT)})
        self.assertEqual(list(self.iq(alice, f"<query xmlns='{NS_ITEMS}'/>", UPLOAD).xml.iter(f"{{{NS_ITEMS}}}item")), [])

    def test_upload_then_download_by_another_user_and_over_s2s(self):
        alice = self.login(f"alice@{A}")
        data = os.urandom(40000)
        # slixmpp 1.8.3's own service discovery (get_info_from_domain) fails on Python 3.11
        # (it hands coroutines to asyncio.wait): the service is found here as XEP-0363 §4 says,
        # the disco#items of the server then each item's disco#info, and given to the plugin.
        items = self.iq(alice, f"<query xmlns='{NS_ITEMS}'/>", A)
        found = [i.get("jid") for i in items.xml.iter(f"{{{NS_ITEMS}}}item")
                 if NS_UPLOAD in [f.get("var") for f in self.iq(alice, f"<query xmlns='{NS_INFO}'/>", i.get("jid"))
                                  .xml.iter(f"{{{NS_INFO}}}feature")]]
        self.assertEqual(sorted(found), sorted([UPLOAD, TIGHT, BRIEF, STAFF]))
        alice["xep_0363"].upload_service = slixmpp.JID(UPLOAD)
        alice["xep_0363"].max_file_size = SIZE_LIMIT
        url = self.wait(alice["xep_0363"].upload_file("été photo.png", input_file=io.BytesIO(data),
                                                        content_type="image/png", domain=A, timeout=10), 30)
        self.assertTrue(url.startswith(f"https://{UPLOAD}:{HTTPS_PORT}/file_share/"), url)
        self.assertTrue(url.endswith("/%C3%A9t%C3%A9%20photo.png"), url)

        # bob, a local user, downloads it with curl.
        status, headers, body = curl(url)
        self.assertEqual(status, 200)
        self.assertEqual(body, data)
        self.assertEqual(headers["content-type"], "image/png")
        self.assertEqual(headers["content-disposition"], "inline; filename*=UTF-8''%C3%A9t%C3%A9%20photo.png")
        self.assertIn("sandbox", headers["content-security-policy"])
        self.assertEqual(headers["x-content-type-options"], "nosniff")
        self.assertEqual(headers["access-control-allow-origin"], "*")
        self.assertIn("max-age=", headers["cache-control"])
        status, headers, body = http_request("HEAD", path_of(url))
        self.assertEqual((status, headers["content-length"], body), (200, str(len(data)), b""))
        # RFC 9110 14.2: Range is for GET only; HEAD tells the whole length.
        status, headers, body = http_request("HEAD", path_of(url), headers={"Range": "bytes=0-0"})
        self.assertEqual((status, headers["content-length"], body), (200, str(len(data)), b""))
        self.assertNotIn("content-range", headers)
        self.assertEqual(headers["content-type"], "image/png")
        status, headers, body = curl(url, "-r", "100-199")
        self.assertEqual((status, body, headers["content-range"]), (206, data[100:200], f"bytes 100-199/{len(data)}"))
        status, headers, body = curl(url, "-H", "Range: bytes=-10")
        self.assertEqual((status, body), (206, data[-10:]))
        status, headers, _ = curl(url, "-r", f"{len(data)}-")
        self.assertEqual((status, headers["content-range"]), (416, f"bytes */{len(data)}"))
        status, headers, _ = curl(url, "-X", "OPTIONS", "-H", "Origin: https://web.example",
                                  "-H", "Access-Control-Request-Method: PUT")
        self.assertEqual(status, 200)
        self.assertIn("PUT", headers["access-control-allow-methods"])
        self.assertIn("Authorization", headers["access-control-allow-headers"])

        # bob@b.test, on Prosody, gets the URL in a message over s2s and downloads it.
        remote = Client(f"bob@{B}/desk", self.ca_file)
        self.clients.append(remote)
        remote.connect((ADDRESS[B], 5222))
        self.assertEqual(self.wait(remote.outcome, 20), "session")
        alice.send_message(mto=f"bob@{B}", mbody=url, mtype="chat")
        self.wait_until(lambda: any(m["body"] == url for m in remote.messages), 20, "the URL at bob@b.test")
        received = next(m["body"] for m in remote.messages if m["body"] == url)
        # Fetched from b.test's side: from the Prosody server's address, with the URL as received.
        status, _, body = curl(received, "--interface", ADDRESS[B])
        self.assertEqual((status, body), (200, data))

    def test_slot_refusals(self):
        carol = self.login(f"carol@{A}")
        condition, error = self.refused(carol, "big.bin", SIZE_LIMIT + 1)
        self.assertEqual(condition, "not-acceptable")
        self.assertEqual(error.findtext(f"{{{NS_UPLOAD}}}file-too-large/{{{NS_UPLOAD}}}max-file-size"), str(SIZE_LIMIT))
        self.assertEqual(self.refused(carol, "x.exe", 10, "application/x-msdownload")[0], "not-acceptable")
        for name in ("../x", "a/b", "a\\b", "..", "."):
            self.assertEqual(self.refused(carol, name, 10)[0], "bad-request", name)
        self.assertEqual(self.refused(carol, "zero.txt", 0)[0], "bad-request")
        self.assertEqual(self.refused(carol, "neg.txt", -5)[0], "bad-request")
        # No content type: application/octet-stream, which is allowed here.
        self.request(carol, "untyped", 10, content_type=None)

    def test_remote_user_gets_no_slot(self):
        remote = Client(f"bob@{B}/desk", self.ca_file)
        self.clients.append(remote)
        remote.connect((ADDRESS[B], 5222))
        self.assertEqual(self.wait(remote.outcome, 20), "session")
        self.assertEqual(self.refused(remote, "from-afar.txt", 10)[0], "forbidden")

    def test_daily_and_global_quotas(self):
        carol, dave = self.login(f"carol@{A}"), self.login(f"dave@{A}")
        granted = 0
        while granted + SIZE_LIMIT <= DAILY_QUOTA:
            self.request(dave, f"part{granted}.bin", SIZE_LIMIT)
            granted += SIZE_LIMIT
        condition, error = self.refused(dave, "one-more.bin", DAILY_QUOTA - granted + 1)
        self.assertEqual(condition, "resource-constraint")
        self.assertIn("quota", error.findtext(f"{{{NS_STANZAS}}}text").lower())
        self.request(carol, "others-still-may.txt", 100)  # the quota is per user
        # tight.a.test stores at most GLOBAL_QUOTA bytes in all, whoever uploads.
        self.request(carol, "first.txt", 8000, service=TIGHT)
        self.assertEqual(self.refused(dave, "second.txt", 8000, service=TIGHT)[0], "resource-constraint")
        self.request(dave, "small.txt", 10, service=TIGHT)  # 8000 + 4096 charged
        self.assertEqual(self.refused(dave, "tiny.txt", 10, service=TIGHT)[0], "resource-constraint", "4 KiB each")

    def test_bad_uploads_store_nothing(self):
        bob = self.login(f"bob@{A}")
        path, auth, url = self.request(bob, "note.txt", 5)
        other_path, other_auth, _ = self.request(bob, "other.txt", 5)
        before = self.stored()
        self.assertEqual(http_request("PUT", path, b"hello")[0], 401)
        self.assertEqual(http_request("PUT", path, b"hello", {"Authorization": "Bearer v1.bogus.token"})[0], 403)
        self.assertEqual(http_request("PUT", path, b"hello", {"Authorization": other_auth})[0], 403, "another slot's token")
        _, alices_auth, _ = self.request(self.login(f"alice@{A}"), "note.txt", 5)
        self.assertEqual(http_request("PUT", path, b"hello", {"Authorization": alices_auth})[0], 403,
                         "another user's valid token")
        self.assertEqual(chunked_put(path, b"hello", auth), 411, "no Content-Length")
        self.assertEqual(http_request("PUT", path.replace("note.txt", "renamed.txt"), b"hello", {"Authorization": auth})[0], 403)
        self.assertEqual(http_request("PUT", path, b"hell", {"Authorization": auth})[0], 400, "shorter than announced")
        self.assertEqual(http_request("PUT", path, b"hello!", {"Authorization": auth})[0], 413, "longer than announced")
        self.assertIn(http_request("PUT", "/file_share/../../etc/passwd", b"hello", {"Authorization": auth})[0], (400, 404))
        self.assertIn(http_request("GET", "/file_share/%2e%2e/%2e%2e/etc/passwd")[0], (400, 404))
        self.assertEqual(self.stored(), before, "nothing stored after the failures")
        self.assertEqual(http_request("GET", path)[0], 404)
        self.assertEqual(http_request("PUT", path, b"hello", {"Authorization": auth, "Content-Type": "text/plain"})[0], 201)
        self.assertEqual(http_request("PUT", path, b"hello", {"Authorization": auth})[0], 409, "a second upload to the slot")
        status, _, body = curl(url)
        self.assertEqual((status, body), (200, b"hello"))
        self.assertEqual(http_request("GET", other_path)[0], 404, "a slot never used")
        self.assertEqual(http_request("DELETE", path)[0], 405)
        # A slot is good for 300 s, or for the files' lifetime when that is shorter (brief.a.test: 2 s).
        late_path, late_auth, _ = self.request(bob, "late.txt", 5, service=BRIEF)
        time.sleep(2.5)
        self.assertEqual(http_request("PUT", late_path, b"hello", {"Authorization": late_auth}, host=BRIEF)[0], 403, "expired")

    def test_access_as_prosody(self):
        erin, carol, alice = self.login(f"erin@{SECOND}"), self.login(f"carol@{A}"), self.login(f"alice@{A}")
        # No access list (upload.a.test): the users of any VirtualHost, here second.test's.
        self.request(erin, "from-second.txt", 10)
        # A list: only those named, not even the users of a.test, the component's parent.
        self.assertEqual(self.refused(alice, "a.txt", 10, service=STAFF)[0], "forbidden")
        self.request(carol, "c.txt", 10, service=STAFF)
        self.request(erin, "e.txt", 10, service=STAFF)

    def test_content_type_parameters_are_dropped(self):
        carol = self.login(f"carol@{A}")
        path, auth, url = self.request(carol, "p.txt", 5, content_type="text/plain; charset=utf-8")
        self.assertEqual(http_request("PUT", path, b"hello", {"Authorization": auth})[0], 201)
        status, headers, body = curl(url)
        self.assertEqual((status, headers["content-type"], body), (200, "text/plain", b"hello"))
        condition, error = self.refused(carol, "n" * 300, 5)
        self.assertEqual((condition, error.findtext(f"{{{NS_STANZAS}}}text")), ("bad-request", "File name too long"))

    def test_expired_files_are_removed(self):
        dave = self.login(f"dave@{A}")
        path, auth, url = self.request(dave, "brief.txt", 6, service=BRIEF)
        self.assertEqual(http_request("PUT", path, b"short!", {"Authorization": auth}, host=BRIEF)[0], 201)
        slot_id = path.split("/")[2]
        self.assertIn(slot_id, self.stored())
        self.assertEqual(curl(url)[0], 200)
        # expires_after = 2: gone within the sweep's interval (half of it) after that.
        harness.wait_for(lambda: slot_id not in self.stored(), 6, "the expired file removed")
        self.assertEqual(curl(url)[0], 404)


if __name__ == "__main__":
    harness.main()
