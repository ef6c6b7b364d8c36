#!/usr/bin/env python3
"""TLS with key isolation: handshakes in TLS 1.2 and 1.3 with RSA, ECDSA and Ed25519 keys
that only the tls helper holds, the helper's memory as the only place the keys are found,
restarts, reloads, and refusals of bad key material."""
import os
import signal
import socket
import ssl
import subprocess
import time

import certs
import harness
import streams
from harness import IntegrationTest, basic_config, proc_status, read_memory

C2S_TLS, S2S_TLS = 5223, 5270
HOSTS = {"rsa.test": "rsa", "ec.test": "ec", "ed.test": "ed25519"}


class Tls(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.ca = certs.Authority()
        self.ca_file = os.path.join(self.workdir, "ca.pem")
        certs.write(self.ca_file, self.ca.pem())
        self.keys = {}
        self.certdir = os.path.join(self.workdir, "certs")
        for host, kind in HOSTS.items():
            self.keys[host] = self.install(host, kind)

    def install(self, host, kind, **issue):
        """Puts a key and certificate where each host's configuration finds it: rsa.test as
        HOST.crt/.key, ec.test in Let's Encrypt's layout, ed.test through explicit ssl paths.
        Keys are root's alone (0600): only the parent can open them."""
        key, cert = self.ca.issue(host, kind, **issue)
        if host == "ec.test":
            certs.write(f"{self.certdir}/ec.test/fullchain.pem", certs.cert_pem(cert) + self.ca.pem())
            certs.write(f"{self.certdir}/ec.test/privkey.pem", certs.key_pem(key), 0o600)
        elif host == "ed.test":
            certs.write(f"{self.workdir}/ed/cert.pem", certs.cert_pem(cert))
            certs.write(f"{self.workdir}/ed/key.pem", certs.key_pem(key), 0o600)
        else:
            certs.write(f"{self.certdir}/{host}.crt", certs.cert_pem(cert))
            certs.write(f"{self.certdir}/{host}.key", certs.key_pem(key), 0o600)
        return key

    def config(self, hosts_extra=""):
        return basic_config(self.workdir, f"""
certificates = "{self.certdir}"
c2s_direct_tls_ports = {{ {C2S_TLS} }}
s2s_direct_tls_ports = {{ {S2S_TLS} }}
{hosts_extra}
VirtualHost "rsa.test"
VirtualHost "ec.test"
VirtualHost "ed.test"
ssl = {{ certificate = "{self.workdir}/ed/cert.pem"; key = "{self.workdir}/ed/key.pem" }}
""")

    def start_server(self, text=None):
        server = self.server(text or self.config()).start()
        server.wait_sandboxed_children()
        server.wait_log(r"router\[\d+\]: TLS certificates for 3 hosts")
        server.wait_log(r"s2s\[\d+\]: TLS certificates for 3 hosts")
        return server

    def handshake(self, host, port, version, alpn):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(self.ca_file)
        context.minimum_version = context.maximum_version = version
        context.set_alpn_protocols([alpn, "h2"])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                der = tls.getpeercert(binary_form=True)
                result = (tls.version(), tls.selected_alpn_protocol(), der)
                # The stream follows at once, with no STARTTLS offered on a direct TLS stream.
                features = streams.open_stream(tls, host, "jabber:client" if port == C2S_TLS else "jabber:server")
                self.assertNotIn(b"starttls", features)
                return result

    def test_handshakes_with_every_key_type_and_version_through_the_helper(self):
        server = self.start_server()
        versions = {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}
        for host in HOSTS:
            for version, name in versions.items():
                for port, alpn in ((C2S_TLS, "xmpp-client"), (S2S_TLS, "xmpp-server")):
                    with self.subTest(host=host, version=name, port=port):
                        got_version, got_alpn, der = self.handshake(host, port, version, alpn)
                        self.assertEqual(got_version, name)
                        self.assertEqual(got_alpn, alpn)
                        self.assertIn(host.encode(), der)
        server.wait_log(r"router\[\d+\]: c2s TLS from 127\.0\.0\.1 port \d+: TLSv1\.3 .*SNI ed\.test, ALPN xmpp-client")
        server.wait_log(r"s2s\[\d+\]: s2s TLS from 127\.0\.0\.1 port \d+: TLSv1\.2 .*SNI rsa\.test, ALPN xmpp-server")

    def client_context(self, version, alpn=None):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(self.ca_file)
        context.minimum_version = context.maximum_version = version
        if alpn is not None:
            context.set_alpn_protocols(alpn)
        return context

    def connect(self, host, port, version=ssl.TLSVersion.TLSv1_3, alpn=None, context=None, session=None):
        """A TLS connection and its stream features; the caller closes it."""
        context = context or self.client_context(version, alpn)
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        tls = context.wrap_socket(raw, server_hostname=host, session=session)
        # Reading the features also takes in a TLS 1.3 NewSessionTicket, were one sent.
        features = streams.open_stream(tls, host, "jabber:client" if port == C2S_TLS else "jabber:server")
        return tls, features

    def test_client_offering_alpn_without_ours_gets_no_application_protocol(self):
        server = self.start_server()
        for port, ours in ((C2S_TLS, "xmpp-client"), (S2S_TLS, "xmpp-server")):
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                with self.subTest(port=port, version=version):
                    with self.assertRaisesRegex(ssl.SSLError, "(?i)no.application.protocol"):
                        self.connect("ec.test", port, version, ["http/1.1", "h2"])
                    tls, features = self.connect("ec.test", port, version, ["http/1.1", ours])
                    self.assertEqual(tls.selected_alpn_protocol(), ours)
                    tls.close()
                    tls, features = self.connect("ec.test", port, version)  # no ALPN at all
                    self.assertIsNone(tls.selected_alpn_protocol())
                    self.assertIn(b"<stream:features", features)
                    tls.close()
        # The same with openssl's own client, as an administrator would check it.
        for alpn, refused in (("http/1.1", True), ("xmpp-client", False)):
            run = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{C2S_TLS}", "-servername", "rsa.test",
                                  "-CAfile", self.ca_file, "-alpn", alpn], input=b"", capture_output=True, timeout=30)
            text = (run.stdout + run.stderr).decode(errors="replace")
            self.assertEqual("alert no application protocol" in text, refused, text)
            if not refused:
                self.assertIn("ALPN protocol: xmpp-client", text)
        # Nothing else was lost: a client with our ALPN still gets through afterwards.
        version, alpn, _ = self.handshake("ed.test", C2S_TLS, ssl.TLSVersion.TLSv1_3, "xmpp-client")
        self.assertEqual(alpn, "xmpp-client")

    def test_sessions_are_never_resumed(self):
        server = self.start_server()
        for port in (C2S_TLS, S2S_TLS):
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                with self.subTest(port=port, version=version):
                    context = self.client_context(version)
                    tls, _ = self.connect("rsa.test", port, context=context)
                    session = tls.session
                    tls.close()
                    self.assertFalse(session.has_ticket, "no session ticket is issued")
                    again, _ = self.connect("rsa.test", port, context=context, session=session)
                    self.assertFalse(again.session_reused, "a session id is not resumed either")
                    again.close()

    def test_tls12_works_when_one_host_is_limited_to_it(self):
        """A host limited to TLS 1.2 sends no downgrade sentinel; the helper, told so, signs
        its ServerKeyExchange. The other hosts, which allow TLS 1.3, put the sentinel in a
        TLS 1.2 handshake and are held to it."""
        text = self.config().replace('VirtualHost "rsa.test"', 'VirtualHost "rsa.test"\nc2s_ssl = { protocol = "tlsv1_2" }')
        server = self.start_server(text)
        for host in HOSTS:
            for port, alpn in ((C2S_TLS, "xmpp-client"), (S2S_TLS, "xmpp-server")):
                with self.subTest(host=host, port=port):
                    version, _, der = self.handshake(host, port, ssl.TLSVersion.TLSv1_2, alpn)
                    self.assertEqual(version, "TLSv1.2")
                    self.assertIn(host.encode(), der)
        self.assertNotIn("refused to sign", server.log())

    def test_each_host_keeps_its_own_protocol_under_sni(self):
        """SNI moves a connection to the named host's context with its ssl.protocol, before
        the version is chosen: rsa.test (the first host, the default context) is limited to
        TLS 1.2, ec.test to TLS 1.3, ed.test takes both."""
        text = (self.config()
                .replace('VirtualHost "rsa.test"', 'VirtualHost "rsa.test"\nc2s_ssl = { protocol = "tlsv1_2" }')
                .replace('VirtualHost "ec.test"', 'VirtualHost "ec.test"\nc2s_ssl = { protocol = "tlsv1_3" }'))
        self.start_server(text)
        def negotiate(host, highest, verify=True):
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.load_verify_locations(self.ca_file)
            if not verify:
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            context.minimum_version, context.maximum_version = ssl.TLSVersion.TLSv1_2, highest
            context.set_alpn_protocols(["xmpp-client"])
            with socket.create_connection(("127.0.0.1", C2S_TLS), timeout=10) as raw:
                try:
                    with context.wrap_socket(raw, server_hostname=host) as tls:
                        return tls.version()
                except ssl.SSLError as e:
                    return e.reason
        tls13, tls12 = ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2
        self.assertEqual(negotiate("rsa.test", tls13), "TLSv1.2")
        self.assertEqual(negotiate("ec.test", tls13), "TLSv1.3")
        self.assertEqual(negotiate("ed.test", tls13), "TLSv1.3")
        self.assertEqual(negotiate("ed.test", tls12), "TLSv1.2")
        self.assertEqual(negotiate("ec.test", tls12), "TLSV1_ALERT_PROTOCOL_VERSION")
        # An unknown name stays with the default host, and its limit.
        self.assertEqual(negotiate("unknown.test", tls13, verify=False), "TLSv1.2")

    def test_private_keys_are_only_in_the_tls_helper(self):
        server = self.start_server()
        for host in HOSTS:
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                self.handshake(host, C2S_TLS, version, "xmpp-client")
                self.handshake(host, S2S_TLS, version, "xmpp-server")
        kids = server.children()
        memory = {role: read_memory(kids[role]) for role in ("tls", "router", "s2s")}
        memory["parent"] = read_memory(server.proc.pid)
        for host, key in self.keys.items():
            secret = certs.secret_of(key)
            forms = (secret, secret[::-1])  # as bytes, and as OpenSSL's little-endian bignum limbs
            with self.subTest(host=host):
                self.assertTrue(any(f in memory["tls"] for f in forms),
                                f"control failed: the {host} secret is not in the tls helper's memory")
                for role in ("router", "s2s", "parent"):
                    self.assertFalse(any(f in memory[role] for f in forms), f"{host} secret found in {role}")

    def test_handshake_works_after_the_tls_helper_restarts(self):
        server = self.start_server()
        old = server.children()["tls"]
        mark = len(server.log())
        os.kill(old, signal.SIGKILL)
        server.wait_log(r"router\[\d+\]: TLS certificates for 3 hosts", after=mark)
        server.wait_log(r"s2s\[\d+\]: TLS certificates for 3 hosts", after=mark)
        self.assertNotEqual(server.children()["tls"], old)
        for port, alpn in ((C2S_TLS, "xmpp-client"), (S2S_TLS, "xmpp-server")):
            version, _, _ = self.handshake("ec.test", port, ssl.TLSVersion.TLSv1_3, alpn)
            self.assertEqual(version, "TLSv1.3")

    def test_sighup_reloads_certificates(self):
        server = self.start_server()
        _, _, before = self.handshake("rsa.test", C2S_TLS, ssl.TLSVersion.TLSv1_3, "xmpp-client")
        kids = server.children()
        self.install("rsa.test", "rsa")
        mark = len(server.log())
        server.proc.send_signal(signal.SIGHUP)
        server.wait_log(r"tls\[\d+\]: serving 6 certificates \(generation 2\)", after=mark)
        server.wait_log(r"router\[\d+\]: TLS certificates for 3 hosts \(generation 2\)", after=mark)
        _, _, after = self.handshake("rsa.test", C2S_TLS, ssl.TLSVersion.TLSv1_3, "xmpp-client")
        self.assertNotEqual(before, after, "the renewed certificate is served")
        self.assertEqual(server.children(), kids, "no process was restarted for the reload")

    def test_bad_key_on_reload_keeps_the_certificates_in_force(self):
        server = self.start_server()
        _, _, before = self.handshake("rsa.test", C2S_TLS, ssl.TLSVersion.TLSv1_3, "xmpp-client")
        other, _ = self.ca.issue("rsa.test", "rsa")
        certs.write(f"{self.certdir}/rsa.test.key", certs.key_pem(other), 0o600)
        mark = len(server.log())
        server.proc.send_signal(signal.SIGHUP)
        server.wait_log(r"rsa\.test\.key: key does not match the certificate", after=mark)
        server.wait_log(r"refused; the ones in force stay", after=mark)
        _, _, after = self.handshake("rsa.test", C2S_TLS, ssl.TLSVersion.TLSv1_3, "xmpp-client")
        self.assertEqual(before, after)

    def expect_start_failure(self, message):
        server = self.server(self.config()).start()
        self.assertEqual(server.proc.wait(20), 1, server.log())
        self.assertIn(message, server.log())

    def test_key_not_matching_its_certificate_stops_the_start(self):
        other, _ = self.ca.issue("rsa.test", "rsa")
        certs.write(f"{self.certdir}/rsa.test.key", certs.key_pem(other), 0o600)
        self.expect_start_failure(f"{self.certdir}/rsa.test.key: key does not match the certificate in "
                                  f"{self.certdir}/rsa.test.crt")

    def test_short_rsa_key_stops_the_start(self):
        self.install("rsa.test", "rsa1024")
        self.expect_start_failure(f"{self.certdir}/rsa.test.key: RSA key of 1024 bits; at least 2048 are needed")

    def test_unreadable_key_file_stops_the_start(self):
        os.unlink(f"{self.workdir}/ed/key.pem")
        self.expect_start_failure(f"{self.workdir}/ed/key.pem: No such file or directory")

    def test_expired_certificate_is_a_loud_warning_and_still_served(self):
        self.install("ec.test", "ec", days=-1, not_before_days=-30)
        server = self.start_server()
        server.wait_log(r"fullchain\.pem: certificate has EXPIRED; it is served anyway")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", C2S_TLS), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="ec.test") as tls:
                self.assertIn(b"ec.test", tls.getpeercert(binary_form=True))

    def test_s2s_trust_anchors_come_from_the_system_store_or_cafile(self):
        server = self.start_server()
        found = server.wait_log(r"s2s\[\d+\]: trust anchors for remote servers: (\d+) from system store")
        self.assertGreater(int(found.group(1)), 10)
        server.stop()
        text = self.config().replace('VirtualHost "rsa.test"',
                                     f'VirtualHost "rsa.test"\ns2s_ssl = {{ cafile = "{self.ca_file}" }}')
        server = self.start_server(text)
        server.wait_log(rf"s2s\[\d+\]: trust anchors for remote servers: 1 from {self.ca_file}")

    def test_unreadable_cafile_stops_the_start(self):
        text = self.config().replace('VirtualHost "rsa.test"',
                                     f'VirtualHost "rsa.test"\nssl = {{ cafile = "{self.workdir}/none.pem" }}')
        server = self.server(text).start()
        self.assertEqual(server.proc.wait(20), 1, server.log())
        self.assertIn(f"{self.workdir}/none.pem: no certificate could be read (cafile)", server.log())

    def test_host_without_certificate_is_a_warning(self):
        server = self.server(self.config() + 'VirtualHost "bare.test"\n').start()
        server.wait_sandboxed_children()
        server.wait_log(r"no certificate for bare\.test in .*: TLS for it will fail")


if __name__ == "__main__":
    harness.main()
