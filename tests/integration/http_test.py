#!/usr/bin/env python3
"""The HTTP process (xmppd-http): started only when an HTTP service is configured, sandboxed as
its own user in its own root with no private key in its memory, plain and TLS listeners, 404
for unknown paths, 400 for paths that try to leave their tree, the limits on headers, bodies,
slow requests and connections, host-meta (XEP-0156), and restarted by the parent when killed."""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import certs
import harness
from harness import Server, basic_config, proc_status, user_ids, wait_for

HTTP_PORT, HTTPS_PORT = 5280, 5281
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")


def request(method, path, port=HTTP_PORT, headers=None, body=None, host="localhost", context=None):
    if context is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    else:
        conn = http.client.HTTPSConnection("localhost", port, timeout=10, context=context)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def raw_exchange(data, port=HTTP_PORT, timeout=5):
    """Sends `data` as is and reads until the server closes or `timeout` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (socket.timeout, ConnectionResetError):
            pass
        return b"".join(chunks)


def status_of(response):
    line = response.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 else None


class ServerClass(unittest.TestCase):
    """One xmppd for the whole class (setUpClass): the tests only read from it."""
    EXTRA = ""
    CHILDREN = 5

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="xmppd-http-test-")
        os.chmod(cls.workdir, 0o755)
        cls.ca, cls.ca_file = certs.authority_in(cls.workdir)
        cls.key, cert = cls.ca.issue("localhost", "ec")
        certs.write(f"{cls.workdir}/certs/localhost.crt", certs.cert_pem(cert))
        certs.write(f"{cls.workdir}/certs/localhost.key", certs.key_pem(cls.key), 0o600)
        config = basic_config(cls.workdir, f'certificates = "{cls.workdir}/certs"\n' + cls.EXTRA)
        cls.xmppd = Server(cls.workdir, config).start()
        cls.kids = cls.xmppd.wait_sandboxed_children(count=cls.CHILDREN)
        cls.context = ssl.create_default_context(cafile=cls.ca_file)

    def tearDown(self):
        result = getattr(self._outcome, "result", None)
        failed = getattr(result, "errors", []) + getattr(result, "failures", [])
        if any(test is self for test, _ in failed):
            type(self).failed = True

    @classmethod
    def tearDownClass(cls):
        cls.xmppd.stop()
        reports = cls.xmppd.sanitizer_reports()
        if reports or getattr(cls, "failed", False) or os.environ.get("XMPPD_TEST_LOG"):
            print(f"--- log of {cls.xmppd.config} ---\n{cls.xmppd.log()}")
        shutil.rmtree(cls.workdir, ignore_errors=True)
        assert not reports, reports


class NoHttpService(ServerClass):
    CHILDREN = 4

    def test_the_process_is_absent_and_nothing_listens(self):
        self.assertNotIn("http", self.kids)
        for port in (HTTP_PORT, HTTPS_PORT):
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=2)


WEBSOCKET = 'modules_enabled = { "websocket" }\nhttp_interfaces = { "127.0.0.1" }\nhttps_interfaces = { "127.0.0.1" }\n'
# The per-address limits below are tested from 127.0.0.1, which trusted_proxies trusts by
# default (its connections are then each an address of their own: websocket_test.BehindAProxy).
NO_PROXY = "trusted_proxies = { }\n"


class Http(ServerClass):
    EXTRA = WEBSOCKET + NO_PROXY + "http_max_content_size = 4096\nmax_connections_per_address = 8\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.xmppd.wait_log(r"http\[\d+\]: TLS certificates for 1 host")
        cls.xmppd.wait_log(r"http\[\d+\]: https on 127\.0\.0\.1 port 5281")

    def test_unknown_path_is_404_with_safe_headers(self):
        status, headers, _ = request("GET", "/nothing/here")
        self.assertEqual(status, 404)
        self.assertEqual(headers.get("X-Content-Type-Options"), "nosniff")
        self.assertNotIn("Server", headers)

    def test_traversal_nul_and_backslash_are_400(self):
        for path in ("/file_share/../../etc/passwd", "/file_share/%2e%2e/x", "/a/%00b", "/a%5c..%5cb"):
            with self.subTest(path=path):
                self.assertEqual(request("GET", path)[0], 400)

    def test_other_methods_are_405(self):
        status, headers, _ = request("DELETE", "/x")
        self.assertEqual(status, 405)
        self.assertIn("GET", headers.get("Allow", ""))

    def test_versions_other_than_1_x_are_refused(self):
        # evhttp itself refuses 2.0 and above (400); 0.x reaches the server's own check.
        for version, statuses in ((b"HTTP/2.0", (400, 505)), (b"HTTP/0.1", (505,))):
            with self.subTest(version=version):
                answer = raw_exchange(b"GET /x " + version + b"\r\nHost: localhost\r\n\r\n")
                self.assertTrue(answer.startswith(b"HTTP/1.1 "), answer[:40])
                self.assertIn(status_of(answer), statuses)

    def test_oversized_headers_are_refused(self):
        big = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"
        self.assertIn(status_of(raw_exchange(big)), (400, 413, 431))
        many = b"GET / HTTP/1.1\r\nHost: localhost\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(60)) + b"\r\n"
        self.assertEqual(status_of(raw_exchange(many)), 431)

    def test_body_over_the_limit_is_413(self):
        self.assertEqual(request("POST", "/x", body=b"z" * 8192)[0], 413)
        self.assertEqual(request("POST", "/x", body=b"z" * 1024)[0], 404)

    def test_slowloris_is_closed_in_about_ten_seconds(self):
        with socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=30) as sock:
            start = time.monotonic()
            sock.sendall(b"GET / HTTP/1.1\r\n")
            closed_at = None
            for i in range(30):
                time.sleep(1)
                try:
                    sock.sendall(b"X-Slow-%d: y\r\n" % i)
                except (BrokenPipeError, ConnectionResetError):
                    closed_at = time.monotonic() - start
                    break
            self.assertIsNotNone(closed_at, "a slow request was never closed")
            self.assertGreater(closed_at, 9)
            self.assertLess(closed_at, 20)  # cut at the first byte after ~11 s, seen at the next send

    def test_connections_per_address_are_limited(self):
        held = []
        try:
            for _ in range(8):
                s = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=5)
                s.sendall(b"GET / HTTP/1.1\r\n")
                held.append(s)
            # Each is counted once the server has read its first byte.
            wait_for(lambda: raw_exchange(b"GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n") == b"", 5,
                     "a ninth connection closed unanswered")
        finally:
            for s in held:
                s.close()
        wait_for(lambda: status_of(raw_exchange(b"GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
                 == 404, 5, "a connection once the others closed")

    def test_a_put_without_content_length_is_411(self):
        self.assertEqual(status_of(raw_exchange(b"PUT /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")),
                         411)

    def test_silent_and_handshaking_connections_count_and_are_cut(self):
        # Counted from the accept on, a TLS handshake included; cut once they have sent no
        # request (here: not even a whole ClientHello) for 10 s.
        start = time.monotonic()
        held = [socket.create_connection(("127.0.0.1", port), timeout=20)
                for port in [HTTPS_PORT] * 4 + [HTTP_PORT] * 4]
        try:
            for s in held[:4]:
                s.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]))
            wait_for(lambda: raw_exchange(b"GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n") == b"", 5,
                     "a ninth connection closed unanswered")
            for s in held:
                try:
                    while s.recv(4096):
                        pass
                except ConnectionResetError:
                    pass
            self.assertLess(time.monotonic() - start, 16)
        finally:
            for s in held:
                s.close()
        wait_for(lambda: status_of(raw_exchange(b"GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
                 == 404, 5, "a connection once the others were cut")

    def test_size_limits_are_bounded_by_memory(self):
        config = os.path.join(self.workdir, "big.conf")
        with open(self.xmppd.config) as f:
            text = f.read()
        with open(config, "w") as f:
            f.write(text.replace("http_max_content_size = 4096\n", "http_max_content_size = 1024 * 1024 * 1024\n"))
        r = subprocess.run([XMPPCTL, "-f", config, "check", "config"], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("512 MiB: HTTP bodies are held in memory", r.stdout + r.stderr)

    def test_host_meta_over_https(self):
        status, headers, body = request("GET", "/.well-known/host-meta", HTTPS_PORT, context=self.context)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/xrd+xml")
        self.assertEqual(headers["Access-Control-Allow-Origin"], "*")
        self.assertIn(b"rel='urn:xmpp:alt-connections:websocket' href='wss://localhost:5281/xmpp-websocket'", body)
        status, headers, body = request("GET", "/.well-known/host-meta.json", HTTPS_PORT, context=self.context)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(json.loads(body), {"links": [{"rel": "urn:xmpp:alt-connections:websocket",
                                                       "href": "wss://localhost:5281/xmpp-websocket"}]})

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        conn = http.client.HTTPSConnection("localhost", HTTPS_PORT, timeout=10, context=self.context)
        try:
            for path in ("/.well-known/host-meta", "/.well-known/host-meta.json", "/nothing"):
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if path == "/.well-known/host-meta":
                    first = conn.sock
                self.assertIs(conn.sock, first, "the connection was not kept")
            self.assertEqual(response.status, 404)
        finally:
            conn.close()

    def test_host_meta_of_another_host_is_404(self):
        self.assertEqual(request("GET", "/.well-known/host-meta", HTTPS_PORT, host="other.test",
                                 context=self.context)[0], 404)

    def test_https_negotiates_http_1_1(self):
        context = ssl.create_default_context(cafile=self.ca_file)
        context.set_alpn_protocols(["h2", "http/1.1"])
        with socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                self.assertEqual(tls.selected_alpn_protocol(), "http/1.1")

    def test_sandboxed_as_its_own_user_in_its_own_root(self):
        pid = self.kids["http"]
        status = proc_status(pid)
        self.assertEqual(status["Seccomp"], "2")
        self.assertEqual(status["NoNewPrivs"], "1")
        uid, gid = user_ids("_xmppd_http")
        self.assertEqual(status["Uid"].split(), [str(uid)] * 4)
        self.assertEqual(status["Gid"].split(), [str(gid)] * 4)
        self.assertEqual(status["CapEff"], "0000000000000000")
        self.assertEqual(os.readlink(f"/proc/{pid}/root"), f"{self.workdir}/data/http")
        st = os.stat(f"{self.workdir}/data/http")
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (uid, 0o700))

    def test_no_private_key_in_its_memory(self):
        # After a handshake, so that it has used the key (through the tls helper).
        self.assertEqual(request("GET", "/x", HTTPS_PORT, context=self.context)[0], 404)
        secret = certs.secret_of(self.key)
        self.assertIn(secret, harness.read_memory(self.kids["tls"]), "control failed: not in the tls helper")
        self.assertNotIn(secret, harness.read_memory(self.kids["http"]))


class BufferedShare(ServerClass):
    """The bytes of requests being read: one address gets a share (here 2 x 64 MiB of the 256 MiB
    budget), and the connection that brings it over is cut, not another address's."""
    EXTRA = WEBSOCKET + NO_PROXY + "http_max_content_size = 64 * 1024 * 1024\n"

    def hold(self, source, size=64 << 20):
        """A POST whose body arrives but for its last 1000 bytes."""
        s = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=10, source_address=(source, 0))
        try:
            s.sendall(b"POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % size +
                      b"a" * (size - 1000))
        except (BrokenPipeError, ConnectionResetError):
            pass
        return s

    @staticmethod
    def cut(s, timeout=5):
        s.settimeout(timeout)
        try:
            return s.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def test_one_address_cannot_take_the_whole_budget(self):
        held = []
        try:
            held = [self.hold("127.0.0.1"), self.hold("127.0.0.1")]
            third = self.hold("127.0.0.1")
            held.append(third)
            self.assertTrue(self.cut(third), "the connection over its address's share was not cut")
            other = self.hold("127.0.0.2")
            held.append(other)
            self.assertFalse(self.cut(other, 1), "another address's request was cut")
            for s in held[:2]:
                self.assertFalse(self.cut(s, 0.1), "an earlier request of the address was cut")
        finally:
            for s in held:
                s.close()


def get_with(path, headers, sock=None):
    """GET `path` from 127.0.0.1 with `headers`, a list of (name, value) so that one may be
    repeated; on `sock` (kept open, HTTP/1.1 keep-alive) if given. The status, or None if the
    server closed without an answer."""
    conn = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=10)
    if sock is not None:
        conn.sock = sock
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "localhost")
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        response.read()
        return response.status
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        return None
    finally:
        if sock is None:
            conn.close()


class Proxied(ServerClass):
    """trusted_proxies at its default (loopback): the test client is the proxy, on 127.0.0.1,
    and /metrics (openmetrics_allow_ips: loopback) shows whose address a request got."""
    EXTRA = ('modules_enabled = { "http_openmetrics" }\nhttp_interfaces = { "127.0.0.1" }\n'
             "https_ports = { }\nmax_connections_per_address = 2\nmax_connections = 8\n")

    def test_a_forwarded_for_without_a_valid_client_is_refused_never_the_proxys(self):
        xff = "X-Forwarded-For"
        self.assertEqual(get_with("/metrics", []), 200)  # the proxy itself
        for headers, status in (([(xff, "198.51.100.7")], 403),
                                # Junk left of the entry the proxy appended is the client's own.
                                ([(xff, "unknown, 198.51.100.7")], 403),
                                ([(xff, "198.51.100.7:5555, 198.51.100.7")], 403),
                                # HAProxy adds a line: joined, the last is the client's.
                                ([(xff, "127.0.0.1"), (xff, "198.51.100.7")], 403),
                                ([(xff, "127.0.0.1, ::1")], 200),  # all trusted: the proxy's
                                ([(xff, "198.51.100.7, unknown")], 400),
                                ([(xff, "198.51.100.7:5555")], 400),
                                ([(xff, "")], 400)):
            self.assertEqual(get_with("/metrics", headers), status, headers)
        self.xmppd.wait_log(r"http: 127\.0\.0\.1 port \d+: X-Forwarded-For's client entry is not an IP "
                            r"address; refused \(400\)")


    def test_a_forwarded_address_is_held_to_its_connection_cap(self):
        # max_connections_per_address = 2 for the client a request names, once it is read;
        # the proxy's own address holds more.
        held = []
        try:
            for _ in range(2):
                held.append(socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=10))
                self.assertEqual(get_with("/metrics", [("X-Forwarded-For", "198.51.100.7")], held[-1]), 403)
            third = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=10)
            held.append(third)
            third.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: 198.51.100.7\r\n\r\n")
            answer = b""
            while chunk := third.recv(65536):  # to the end: the server closes it (or recv times out)
                answer += chunk
            self.assertEqual(status_of(answer), 429, answer)
            other = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=10)
            held.append(other)
            self.assertEqual(get_with("/metrics", [("X-Forwarded-For", "198.51.100.8")], other), 403)
            self.xmppd.wait_log(r"http: 198\.51\.100\.7 \(via a trusted proxy\) refused: too many connections")
        finally:
            for s in held:
                s.close()
            time.sleep(0.5)  # the server sees them close

    def test_trusted_proxies_keep_to_their_share_of_max_connections(self):
        # max_connections = 8: the proxies get 6 together, a direct client still gets in.
        held = []
        try:
            for _ in range(6):
                held.append(socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=10))
            seventh = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=3)
            held.append(seventh)
            try:
                closed = seventh.recv(1) == b""
            except ConnectionResetError:
                closed = True
            self.assertTrue(closed, "a trusted proxy's connection over their share stayed open")
            direct = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=10, source_address=("127.0.0.2", 0))
            held.append(direct)
            self.assertEqual(get_with("/metrics", [], direct), 403)  # admitted, not on the allow list
            self.xmppd.wait_log(r"http: 127\.0\.0\.1 refused: trusted proxies hold 6 connections, their share of 8")
        finally:
            for s in held:
                s.close()
            time.sleep(0.5)

class Supervision(ServerClass):
    EXTRA = WEBSOCKET

    def test_killed_under_load_it_is_restarted_and_listed(self):
        old = self.kids["http"]
        self.xmppd.wait_log(r"http\[\d+\]: http on 127\.0\.0\.1 port 5280")
        held = [socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=5) for _ in range(20)]
        for s in held:
            s.sendall(b"GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n")
        os.kill(old, signal.SIGKILL)
        for s in held:
            s.close()
        kids = wait_for(lambda: (k := self.xmppd.children()).get("http") not in (None, old) and k, 15,
                        "a new http process")
        wait_for(lambda: proc_status(kids["http"]).get("Seccomp") == "2", 10, "its sandbox")
        wait_for(lambda: self._answers(), 10, "404 from the new process")
        out = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "status"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        line = next((l for l in out.stdout.splitlines() if l.split() and l.split()[0] == "http"), None)
        self.assertIsNotNone(line, out.stdout)
        self.assertIn(str(kids["http"]), line)
        for role in ("router", "s2s", "tls", "auth"):
            self.assertEqual(kids[role], self.kids[role], f"{role} was restarted too")

    @staticmethod
    def _answers():
        try:
            return request("GET", "/x")[0] == 404
        except OSError:
            return False


class Reload(ServerClass):
    EXTRA = WEBSOCKET + "http_max_content_size = 4096\n"

    def test_a_reload_reaches_the_running_process(self):
        pid = self.kids["http"]
        self.xmppd.wait_log(r"http\[\d+\]: http on 127\.0\.0\.1 port 5280")
        self.assertEqual(request("POST", "/x", body=b"z" * 2048)[0], 404)
        with open(self.xmppd.config) as f:
            text = f.read()
        self.xmppd.write_config(text.replace("http_max_content_size = 4096", "http_max_content_size = 1024"))
        self.xmppd.proc.send_signal(signal.SIGHUP)
        self.xmppd.wait_log(r"reloaded .*generation 2")
        wait_for(lambda: request("POST", "/x", body=b"z" * 2048)[0] == 413, 5, "the new body limit")
        self.assertEqual(self.xmppd.children()["http"], pid)


if __name__ == "__main__":
    harness.main()
