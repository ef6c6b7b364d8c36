#!/usr/bin/env python3
"""Streams on the receiving side (RFC 6120 §4, §5, §11): STARTTLS for clients and servers
with keys only the tls helper holds, stream errors for bad headers, restricted XML,
oversized elements and plaintext where encryption is required."""
import os
import ssl
import subprocess

import certs
import harness
import streams
from harness import IntegrationTest, basic_config

C2S, S2S = 5222, 5269
HOST = "chat.test"
LAX_HOST = "lax.test"  # a VirtualHost with its own c2s settings
LIMIT = 10000


class Streams(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.ca, self.ca_file = certs.authority_in(self.workdir)
        certs.install(self.ca, f"{self.workdir}/certs", HOST)
        config = basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n'
                                             f"c2s_stanza_size_limit = {LIMIT}\n")
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\n'
                                f'VirtualHost "{LAX_HOST}"\nc2s_require_encryption = false\n'
                                f'c2s_stanza_size_limit = {2 * LIMIT}\n')
        self.xmppd = self.server(config).start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts")
        self.xmppd.wait_log(r"s2s\[\d+\]: TLS certificates for 1 hosts")

    def error_after(self, data_to_send, port=C2S, send_header=True, ns="jabber:client"):
        """Sends a header (unless told not to) then `data_to_send`; returns the stream error."""
        with streams.connect(port) as sock:
            if send_header:
                streams.open_stream(sock, HOST, ns)
            sock.sendall(data_to_send)
            reply = streams.read_to_end(sock)
        return streams.stream_error(reply)

    def test_starttls_for_clients(self):
        with streams.connect(C2S) as sock:
            tls, before, after = streams.starttls(sock, HOST, self.ca_file)
            self.addCleanup(tls.close)
            self.assertIn(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>", before)
            self.assertIn(f"from='{HOST}'".encode(), before)
            self.assertNotIn(b"starttls", after)
            self.assertEqual(tls.version(), "TLSv1.3")
            tls.sendall(b"</stream:stream>")
            self.assertTrue(streams.read_to_end(tls).endswith(b"</stream:stream>"))
        self.xmppd.wait_log(rf"router\[\d+\]: c2s STARTTLS from 127\.0\.0\.1 port \d+ for {HOST}: TLSv1\.3")

    def test_starttls_for_servers(self):
        with streams.connect(S2S) as sock:
            tls, before, after = streams.starttls(sock, HOST, self.ca_file, "jabber:server")
            self.addCleanup(tls.close)
            self.assertIn(b"xmlns='jabber:server'", before)
            self.assertIn(b"urn:ietf:params:xml:ns:xmpp-tls", before)
        self.xmppd.wait_log(rf"s2s\[\d+\]: s2s STARTTLS from 127\.0\.0\.1 port \d+ for {HOST}")

    def test_bytes_that_come_with_the_last_handshake_message_are_read(self):
        """The client's Finished and its stream header in one TCP segment: OpenSSL reads
        ahead and holds the header, which must be read then, not when more bytes come."""
        with streams.connect(C2S, timeout=5) as sock:
            streams.open_stream(sock, HOST)
            sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            streams.read_until(sock, b"/>")
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            tls = ssl.create_default_context(cafile=self.ca_file).wrap_bio(incoming, outgoing,
                                                                            server_hostname=HOST)
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    sock.sendall(outgoing.read())
                    incoming.write(sock.recv(65536))
            tls.write(streams.header(HOST))
            sock.sendall(outgoing.read())  # Finished, then the header
            reply = b""
            while b"</stream:features>" not in reply:
                data = sock.recv(65536)  # times out if the server sits on the header
                self.assertTrue(data, reply)
                incoming.write(data)
                try:
                    reply += tls.read(65536)
                except ssl.SSLWantReadError:
                    pass
            self.assertIn(b"urn:ietf:params:xml:ns:xmpp-sasl", reply)

    def test_openssl_s_client_verifies_the_certificate_over_starttls(self):
        for port, mode in ((C2S, "xmpp"), (S2S, "xmpp-server")):
            with self.subTest(mode=mode):
                r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-starttls", mode,
                                    "-xmpphost", HOST, "-CAfile", self.ca_file, "-verify_return_error",
                                    "-verify_hostname", HOST],
                                   input=b"", capture_output=True, timeout=30)
                self.assertIn(b"Verify return code: 0 (ok)", r.stdout, r.stdout + r.stderr)

    def test_whitespace_keepalives_are_accepted(self):
        with streams.connect(C2S) as sock:
            streams.open_stream(sock, HOST)
            sock.sendall(b"  \n\t \r\n")
            sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            self.assertEqual(streams.read_until(sock, b"/>"), b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")

    def test_restricted_xml(self):
        cases = {
            "comment": b"<!-- hello -->",
            "processing instruction": b"<?evil data?>",
            "undefined entity": b"<message>&foo;</message>",
        }
        for name, data in cases.items():
            with self.subTest(case=name):
                self.assertEqual(self.error_after(data)[0], "restricted-xml")
        with self.subTest(case="DOCTYPE before the stream"):
            doctype = b"<?xml version='1.0'?><!DOCTYPE lol [<!ENTITY lol 'lol'>]>"
            self.assertEqual(self.error_after(doctype + streams.header(HOST), send_header=False)[0],
                             "restricted-xml")

    def test_malformed_xml(self):
        self.assertEqual(self.error_after(b"<message><body></message>")[0], "not-well-formed")
        self.assertEqual(self.error_after(b"hello")[0], "not-well-formed")

    def test_bad_headers(self):
        self.assertEqual(self.error_after(streams.header("elsewhere.test"), send_header=False)[0], "host-unknown")
        self.assertEqual(self.error_after(streams.header(HOST, ns="jabber:nothing"), send_header=False)[0],
                         "invalid-namespace")
        self.assertEqual(self.error_after(streams.header(HOST, version=None), send_header=False)[0],
                         "unsupported-version")
        self.assertEqual(self.error_after(b"<html><body>", send_header=False)[0], "invalid-namespace")

    def test_plaintext_stanza_where_encryption_is_required(self):
        condition, text = self.error_after(b"<message to='a@chat.test'><body>hi</body></message>")
        self.assertEqual(condition, "policy-violation")
        self.assertIn("encryption is required", text)

    def test_stanza_size_limit_is_counted_while_parsing(self):
        def element(size):
            head, tail = b"<message><body>", b"</body></message>"
            return head + b"x" * (size - len(head) - len(tail)) + tail
        # At the limit the element is parsed (and refused for being plaintext); one byte more
        # is refused for its size.
        condition, text = self.error_after(element(LIMIT))
        self.assertEqual((condition, "encryption is required" in text), ("policy-violation", True))
        condition, text = self.error_after(element(LIMIT + 1))
        self.assertEqual(condition, "policy-violation")
        self.assertIn(f"over {LIMIT} bytes", text)

    def test_per_host_encryption_and_size_limit(self):
        with streams.connect(C2S) as sock:
            features = streams.open_stream(sock, LAX_HOST)
            self.assertNotIn(b"<required/>", features)
            # Not refused for being plaintext: refused only for not being authenticated.
            sock.sendall(b"<message to='a@lax.test'><body>" + b"x" * (LIMIT // 2) + b"</body></message>")
            self.assertEqual(streams.stream_error(streams.read_to_end(sock))[0], "not-authorized")
        with streams.connect(C2S) as sock:
            streams.open_stream(sock, LAX_HOST)
            # The host's larger limit is for authenticated streams: before, 10,000 bytes.
            sock.sendall(b"<message to='a@lax.test'><body>" + b"x" * (LIMIT + 100) + b"</body></message>")
            condition, text = streams.stream_error(streams.read_to_end(sock))
            self.assertEqual((condition, text), ("policy-violation", "stanza over 10000 bytes"))

    def test_unterminated_huge_start_tag_is_cut_off(self):
        # A start tag that never ends gives expat nothing to report: the bytes are counted
        # as they arrive, and the stream ends long before the tag would.
        condition, text = self.error_after(b"<message a='" + b"y" * (20 * LIMIT))
        self.assertEqual(condition, "policy-violation")
        self.assertIn(f"over {LIMIT} bytes", text)

if __name__ == "__main__":
    harness.main()
