#!/usr/bin/env python3
"""The HTTP process (xmppd-http): started only when an HTTP service is configured, sandboxed as
its own user in its own root, answering 404 for unknown paths and 400 for paths that try to
leave their tree, and restarted by the parent when it dies."""
import http.client
import os
import shutil
import signal
import socket
import tempfile
import time
import unittest

import harness
from harness import Server, basic_config, proc_status, user_ids, wait_for

HTTP_PORT = 5280


def request(method, path, port=HTTP_PORT, headers=None, body=None, host="localhost"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
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


class ServerClass(unittest.TestCase):
    """One xmppd for the whole class (setUpClass), as the tests only read from it."""
    EXTRA = ""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="xmppd-http-test-")
        os.chmod(cls.workdir, 0o755)
        cls.xmppd = Server(cls.workdir, basic_config(cls.workdir, cls.EXTRA)).start()

    @classmethod
    def tearDownClass(cls):
        cls.xmppd.stop()
        reports = cls.xmppd.sanitizer_reports()
        if reports or os.environ.get("XMPPD_TEST_LOG"):
            print(cls.xmppd.log())
        shutil.rmtree(cls.workdir, ignore_errors=True)
        assert not reports, reports


class NoHttpService(ServerClass):
    def test_the_process_is_absent_and_nothing_listens(self):
        kids = self.xmppd.wait_sandboxed_children(count=4)
        self.assertNotIn("http", kids)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=2)


class PlainHttp(ServerClass):
    EXTRA = 'modules_enabled = { "websocket" }\nhttp_ports = { 5280 }\nhttps_ports = { }\n'

    def setUp(self):
        self.kids = self.xmppd.wait_sandboxed_children(count=5)
        self.xmppd.wait_log(r"http\[\d+\]: http on 127\.0\.0\.1 port 5280")

    def test_unknown_path_is_404_with_safe_headers(self):
        status, headers, _ = request("GET", "/nothing/here")
        self.assertEqual(status, 404)
        self.assertEqual(headers.get("X-Content-Type-Options"), "nosniff")
        self.assertNotIn("Server", headers)

    def test_traversal_nul_and_backslash_are_400(self):
        for path in ("/file_share/../../etc/passwd", "/file_share/%2e%2e/x", "/a/%00b", "/a%5c..%5cb"):
            with self.subTest(path=path):
                self.assertEqual(request("GET", path)[0], 400)

    def test_unknown_method_is_405(self):
        status, headers, _ = request("DELETE", "/x")
        self.assertEqual(status, 405)

    def test_sandboxed_as_its_own_user_in_its_own_root(self):
        pid = self.kids["http"]
        status = proc_status(pid)
        self.assertEqual(status["Seccomp"], "2")
        self.assertEqual(status["NoNewPrivs"], "1")
        uid, gid = user_ids("_xmppd_http")
        self.assertEqual(status["Uid"].split(), [str(uid)] * 4)
        self.assertEqual(status["CapEff"], "0000000000000000")
        self.assertEqual(os.readlink(f"/proc/{pid}/root"), f"{self.workdir}/data/http")
        st = os.stat(f"{self.workdir}/data/http")
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (uid, 0o700))


if __name__ == "__main__":
    harness.main()
