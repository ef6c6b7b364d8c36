#!/usr/bin/env python3
"""Federation between two xmppd instances on two test domains, each with its own address,
names served by a real DNS server (dnsmasq) in the test's namespace: messages and presence
subscriptions across s2s both ways, authentication by SASL EXTERNAL or dialback as the
certificates and the policy allow, and the refusals."""
import asyncio
import base64
import os
import re
import socket
import ssl
import subprocess
import threading

import certs
import harness
import streams
from clients_test import Client, ClientTest
from harness import TestDns
from prosody import fresh_workdir

A, B = "a.test", "b.test"
ADDRESS = {A: "127.0.0.2", B: "127.0.0.3", "a2.test": "127.0.0.2"}
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")


def xmppd_config(workdir, domain, cafile, extra="", host_extra="", address=None, s2s_port=5269,
                 allow_private=True):
    # The test servers are all on loopback addresses, refused unless allowed.
    return f"""-- written by the test
data_path = "{workdir}/data"
empty_path = "{workdir}/empty"
interfaces = {{ "{address or ADDRESS[domain]}" }}
c2s_ports = {{ 5222 }}
s2s_ports = {{ {s2s_port} }}
certificates = "{workdir}/certs"
ssl = {{ cafile = "{cafile}" }}
dns_forwarders = {{ "127.0.0.53" }}
dns_transparent_zones = {{ "test" }}
s2s_allow_private_addresses = {"true" if allow_private else "false"}
{extra}
VirtualHost "{domain}"
{host_extra}
"""


class FederationTest(ClientTest):
    """Shared set-up: DNS for the test domains, a CA, xmppd instances and clients."""
    EXTRA_NAMES = {}
    SRV = ()
    WILDCARDS = {}

    def setUp(self):
        super().setUp()
        self.dns = TestDns(self.workdir, {**ADDRESS, **self.EXTRA_NAMES}, srv=self.SRV,
                           wildcards=self.WILDCARDS).start()
        self.addCleanup(self.dns.stop)
        self.c2s_address = {}

    def start_xmppd(self, domain, authority=None, extra="", host_extra="", cafile=None, client_auth=True,
                    address=None, s2s_port=5269, s2s=True, more_hosts=(), allow_private=True, xmpp_addr=False,
                    children=4):
        workdir = fresh_workdir(self.workdir, domain)
        authority = authority or self.ca
        for host in (domain, *more_hosts):
            key, cert = authority.issue(host, "ec", client_auth=client_auth, xmpp_addr=xmpp_addr)
            certs.write(f"{workdir}/certs/{host}.crt", certs.cert_pem(cert))
            certs.write(f"{workdir}/certs/{host}.key", certs.key_pem(key), 0o600)
            self.c2s_address[host] = address or ADDRESS[domain]
        config = xmppd_config(workdir, domain, cafile or self.ca_file, extra, host_extra, address, s2s_port,
                              allow_private)
        config += "".join(f'VirtualHost "{host}"\n' for host in more_hosts)
        server = harness.Server(workdir, config)
        self.servers.append(server)
        server.start()
        server.wait_sandboxed_children(count=children)  # five with the HTTP process
        hosts = 1 + len(more_hosts)
        if s2s:
            server.wait_log(rf"s2s\[\d+\]: TLS certificates for {hosts} hosts")
        server.wait_log(rf"router\[\d+\]: TLS certificates for {hosts} hosts")
        return server

    def play_server(self, domain, peer):
        """What a server played by the test needs to answer an outbound stream of `peer` to
        `domain`: a TLS context with a certificate from the test CA, a listener on the
        domain's address and port 5269, and the header of its stream."""
        key, cert = self.ca.issue(domain, "ec")
        cert_file, key_file = f"{self.workdir}/{domain}.crt", f"{self.workdir}/{domain}.key"
        certs.write(cert_file, certs.cert_pem(cert))
        certs.write(key_file, certs.key_pem(key), 0o600)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        listener = socket.create_server((ADDRESS[domain], 5269))
        self.addCleanup(listener.close)
        header = (f"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                  f"xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
                  f"id='s1' from='{domain}' to='{peer}' version='1.0'>").encode()
        return context, listener, header

    def adduser(self, server, jid, password):
        r = subprocess.run([XMPPCTL, "-f", server.config, "adduser", jid], input=password + "\n",
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def login(self, jid, password, ca_file=None):
        client = Client(jid, password, ca_file or self.ca_file)
        self.clients.append(client)
        domain = jid.split("@")[1].split("/")[0]
        client.connect((self.c2s_address.get(domain, ADDRESS.get(domain)), 5222))
        outcome = self.loop.run_until_complete(asyncio.wait_for(client.outcome, 20))
        self.assertEqual(outcome, "session")
        return client

    def receive(self, client, timeout=20):
        return self.loop.run_until_complete(asyncio.wait_for(client.messages.get(), timeout))

    def two_servers(self, a_extra="", b_extra=""):
        a = self.start_xmppd(A, extra=a_extra)
        b = self.start_xmppd(B, extra=b_extra)
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(b, f"bob@{B}", "bob pw")
        return a, b, self.login(f"alice@{A}/phone", "alice pw"), self.login(f"bob@{B}/desk", "bob pw")



class TwoServers(FederationTest):
    def test_messages_both_ways_with_sasl_external(self):
        a, b, alice, bob = self.two_servers()
        alice.send_message(mto=f"bob@{B}", mbody="hello from a", mtype="chat")
        m = self.receive(bob)
        self.assertEqual((m["type"], m["body"], str(m["from"])), ("chat", "hello from a", f"alice@{A}/phone"))
        bob.send_message(mto=f"alice@{A}/phone", mbody="hello from b", mtype="chat")
        m = self.receive(alice)
        self.assertEqual((m["body"], str(m["from"])), ("hello from b", f"bob@{B}/desk"))
        a.wait_log(rf"s2s outbound {A} -> {B} via .*authenticated by SASL EXTERNAL")
        b.wait_log(rf"s2s inbound {A} -> {B} from .*certificate is trusted.*authenticated by SASL EXTERNAL")
        b.wait_log(rf"s2s outbound {B} -> {A} via .*authenticated by SASL EXTERNAL")

    def test_a_second_local_domain_piggybacks_on_the_stream_with_dialback(self):
        a = self.start_xmppd(A, more_hosts=("a2.test",))
        b = self.start_xmppd(B)
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(a, "ann@a2.test", "ann pw")
        self.adduser(b, f"bob@{B}", "bob pw")
        alice, ann = self.login(f"alice@{A}/phone", "alice pw"), self.login("ann@a2.test/x", "ann pw")
        bob = self.login(f"bob@{B}/desk", "bob pw")
        alice.send_message(mto=f"bob@{B}", mbody="first", mtype="chat")
        self.assertEqual(self.receive(bob)["body"], "first")
        ann.send_message(mto=f"bob@{B}", mbody="second, same connection", mtype="chat")
        m = self.receive(bob)
        self.assertEqual((m["body"], str(m["from"])), ("second, same connection", "ann@a2.test/x"))
        a.wait_log(rf"s2s outbound a2.test -> {B} via .*: added to the stream by dialback")
        b.wait_log(rf"s2s inbound a2.test -> {B} from .*authenticated by dialback")
        self.assertEqual(len(re.findall(rf"s2s outbound \S+ -> {B}: connected to", a.log())), 1)

    def subscribe(self, user, contact, contact_jid, contact_full):
        """user asks contact_jid for a subscription, contact approves by hand; waits for the
        approval and the contact's presence to reach user."""
        seen = asyncio.Queue()
        handlers = [("presence_available", lambda p: seen.put_nowait(("available", str(p["from"])))),
                    ("presence_subscribed", lambda p: seen.put_nowait(("subscribed", str(p["from"]))))]
        for event, handler in handlers:
            user.add_event_handler(event, handler)
        contact.add_event_handler("presence_subscribe",
                                  lambda p: contact.send_presence(pto=p["from"].bare, ptype="subscribed"))
        user.send_presence(pto=contact_jid, ptype="subscribe")
        got = set()
        while ("available", contact_full) not in got or ("subscribed", contact_jid) not in got:
            got.add(self.loop.run_until_complete(asyncio.wait_for(seen.get(), 20)))
        for event, handler in handlers:
            user.del_event_handler(event, handler)

    def subscription(self, client, contact):
        roster = self.loop.run_until_complete(asyncio.wait_for(harness.fresh_roster(client), 10))
        return roster["roster"]["items"][contact]["subscription"]

    def test_presence_subscription_across_servers_both_ways(self):
        a, b, alice, bob = self.two_servers()
        # Answers by hand only, so that each step has one known end state.
        for client in (alice, bob):
            client.auto_authorize = None
            client.auto_subscribe = False
        self.subscribe(alice, bob, f"bob@{B}", f"bob@{B}/desk")
        self.assertEqual(self.subscription(alice, f"bob@{B}"), "to")
        self.assertEqual(self.subscription(bob, f"alice@{A}"), "from")
        self.subscribe(bob, alice, f"alice@{A}", f"alice@{A}/phone")
        self.assertEqual(self.subscription(alice, f"bob@{B}"), "both")
        self.assertEqual(self.subscription(bob, f"alice@{A}"), "both")
        # Going offline is seen across the servers.
        gone = asyncio.Queue()
        alice.add_event_handler("presence_unavailable", lambda p: gone.put_nowait(str(p["from"])))
        bob.disconnect()
        self.assertEqual(self.loop.run_until_complete(asyncio.wait_for(gone.get(), 20)), f"bob@{B}/desk")

    def test_certificate_without_client_auth_usage_authenticates_with_sasl_external(self):
        a = self.start_xmppd(A, client_auth=False)
        b = self.start_xmppd(B)
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(b, f"bob@{B}", "bob pw")
        alice, bob = self.login(f"alice@{A}/phone", "alice pw"), self.login(f"bob@{B}/desk", "bob pw")
        alice.send_message(mto=f"bob@{B}", mbody="serverAuth only", mtype="chat")
        self.assertEqual(self.receive(bob)["body"], "serverAuth only")
        b.wait_log(rf"s2s inbound {A} -> {B} from .*certificate is trusted.*authenticated by SASL EXTERNAL")

    def test_dialback_between_servers_that_do_not_trust_each_other(self):
        other = certs.Authority("another CA")
        other_file = os.path.join(self.workdir, "other-ca.pem")
        certs.write(other_file, other.pem())
        a = self.start_xmppd(A)
        b = self.start_xmppd(B, authority=other, cafile=other_file)
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(b, f"bob@{B}", "bob pw")
        alice = self.login(f"alice@{A}/phone", "alice pw")
        bob_client = self.login(f"bob@{B}/desk", "bob pw", other_file)
        alice.send_message(mto=f"bob@{B}", mbody="by dialback", mtype="chat")
        self.assertEqual(self.receive(bob_client)["body"], "by dialback")
        b.wait_log(rf"s2s inbound {A} -> {B} from .*is issued by a CA that is not trusted here"
                   r".*authenticated by dialback")
        a.wait_log(rf"s2s outbound {A} -> {B} via .*authenticated by dialback")

    def test_s2s_disabled_on_one_host(self):
        a = self.start_xmppd(A, host_extra='modules_disabled = { "s2s" }\n', s2s=False)
        self.adduser(a, f"alice@{A}", "alice pw")
        alice = self.login(f"alice@{A}/phone", "alice pw")
        alice.send_message(mto=f"bob@{B}", mbody="nope", mtype="chat")
        m = self.receive(alice)
        self.assertEqual((m["type"], m["error"]["condition"], m["error"]["text"]),
                         ("error", "not-allowed", "Communication with remote domains is not enabled"))
        # Inbound streams for that host are refused.
        peer = RawPeer(self, "evil.test", to=A)
        self.addCleanup(peer.close)
        peer.sock.sendall(peer.header())
        condition, text = peer.error()
        self.assertEqual((condition, text), ("policy-violation", "Server-to-server communication is disabled for this host"))

    def test_s2s_disabled_globally_means_no_listener(self):
        self.start_xmppd(A, extra='modules_disabled = { "s2s" }\n', s2s=False)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection((ADDRESS[A], 5269), timeout=5)

    def test_anonymous_host_reaches_other_servers_only_if_allowed(self):
        for allowed in (False, True):
            with self.subTest(allow_anonymous_s2s=allowed):
                self.retire_servers()
                self.start_xmppd(A, host_extra=f'authentication = "anonymous"\n'
                                                   f'allow_anonymous_s2s = {"true" if allowed else "false"}\n')
                b = self.start_xmppd(B)
                self.adduser(b, f"bob@{B}", "bob pw")
                bob = self.login(f"bob@{B}/desk", "bob pw")
                guest = Client(A, "", self.ca_file, "ANONYMOUS")
                self.clients.append(guest)
                guest.connect((ADDRESS[A], 5222))
                self.assertEqual(self.loop.run_until_complete(asyncio.wait_for(guest.outcome, 20)), "session")
                guest.send_message(mto=f"bob@{B}", mbody="from a guest", mtype="chat")
                if allowed:
                    self.assertEqual(self.receive(bob)["body"], "from a guest")
                else:
                    m = self.receive(guest)
                    self.assertEqual((m["type"], m["error"]["condition"]), ("error", "not-allowed"))

    def stripped_starttls(self, extra):
        """A man in the middle on b.test's address removes STARTTLS from the features and
        answers the request for it with a failure; what it saw is returned."""
        a = self.start_xmppd(A, extra=extra)
        self.adduser(a, f"alice@{A}", "alice pw")
        alice = self.login(f"alice@{A}/phone", "alice pw")
        listener = socket.create_server((ADDRESS[B], 5269))
        self.addCleanup(listener.close)
        seen = []

        def mitm():
            conn, _ = listener.accept()
            with conn:
                streams.read_until(conn, b">")
                conn.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                             b"xmlns:stream='http://etherx.jabber.org/streams' id='x' from='b.test' version='1.0'>"
                             b"<stream:features><dialback xmlns='urn:xmpp:features:dialback'/></stream:features>")
                seen.append(streams.read_until(conn, b"/>"))
                conn.sendall(b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
                seen.append(streams.read_to_end(conn))
        thread = threading.Thread(target=mitm, daemon=True)
        thread.start()
        alice.send_message(mto=f"bob@{B}", mbody="secret", mtype="chat")
        m = self.receive(alice)
        self.assertEqual(m["type"], "error")
        thread.join(5)
        a.wait_log(rf"s2s outbound {A} -> {B}: .*the peer refused STARTTLS")
        return b"".join(seen)

    def test_stripped_starttls_is_refused_when_encryption_is_required(self):
        seen = self.stripped_starttls("")
        self.assertIn(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", seen)
        self.assertNotIn(b"secret", seen)
        self.assertNotIn(b"db:result", seen)

    def test_stripped_starttls_is_refused_when_a_certificate_is_required(self):
        # Encryption optional, but s2s_secure_auth wants a certificate, which needs TLS.
        seen = self.stripped_starttls("s2s_require_encryption = false\ns2s_secure_auth = true\n")
        self.assertIn(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", seen)
        self.assertNotIn(b"secret", seen)
        self.assertNotIn(b"db:result", seen)

    def test_a_silent_server_times_out(self):
        a = self.start_xmppd(A, extra="s2s_timeout = 2\n")
        self.adduser(a, f"alice@{A}", "alice pw")
        alice = self.login(f"alice@{A}/phone", "alice pw")
        listener = socket.create_server((ADDRESS[B], 5269))  # accepts, never speaks
        self.addCleanup(listener.close)
        alice.send_message(mto=f"bob@{B}", mbody="anyone?", mtype="chat")
        m = self.receive(alice)
        self.assertEqual((m["type"], m["error"]["condition"]), ("error", "remote-server-timeout"))
        self.assertIn("did not complete within 2 s", m["error"]["text"])

    def test_a_missing_resolv_conf_is_a_warning(self):
        # Read only without dns_forwarders, which replace it (the later assignment wins).
        a = self.start_xmppd(A, extra=f'dns_resolvconf = "{self.workdir}/no-such-resolv.conf"\n'
                                      'dns_forwarders = {}\n')
        a.wait_log(r"s2s\[\d+\]: DNS: dns_resolvconf .*no-such-resolv.conf does not exist; going on without it")

    def test_stanza_size_limit_of_9999_is_a_configuration_error(self):
        workdir = fresh_workdir(self.workdir, "bad")
        config = os.path.join(workdir, "xmppd.conf")
        with open(config, "w") as f:
            f.write(xmppd_config(workdir, A, self.ca_file, "s2s_stanza_size_limit = 9999\n"))
        r = subprocess.run([harness.XMPPD, "-n", "-f", config], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, rf"{config}:\d+: .*s2s_stanza_size_limit")


class Reachability(FederationTest):
    """Finding the other server: SRV records, a "." target, unreachable domains, and an
    address that silently drops connection attempts (Happy Eyeballs)."""
    EXTRA_NAMES = {"xmpp.b.test": "127.0.0.4", "dead.test": "127.0.0.9", "c.test": ("127.0.0.5", "::1")}
    SRV = ("_xmpp-server._tcp.b.test,xmpp.b.test,5299,0,5", "_xmpp-server._tcp.noservice.test")

    def send_and_expect_error(self, client, to, condition, text_part):
        client.send_message(mto=to, mbody="hello?", mtype="chat")
        m = self.receive(client)
        self.assertEqual(m["type"], "error")
        self.assertEqual(str(m["from"]), to)
        self.assertEqual(m["error"]["condition"], condition)
        self.assertIn(text_part, m["error"]["text"])
        self.assertTrue(m["error"]["text"].startswith("Server-to-server connection failed: "), m["error"]["text"])

    def test_srv_record_with_another_host_and_port(self):
        a = self.start_xmppd(A)
        b = self.start_xmppd(B, address="127.0.0.4", s2s_port=5299)
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(b, f"bob@{B}", "bob pw")
        alice, bob = self.login(f"alice@{A}/phone", "alice pw"), self.login(f"bob@{B}/desk", "bob pw")
        alice.send_message(mto=f"bob@{B}", mbody="via SRV", mtype="chat")
        self.assertEqual(self.receive(bob)["body"], "via SRV")
        a.wait_log(rf"s2s outbound {A} -> {B}: connected to 127.0.0.4 port 5299 \(xmpp.b.test:5299, STARTTLS, DNS not validated\)")

    def test_no_service_and_unreachable_domains_bounce(self):
        a = self.start_xmppd(A)
        self.adduser(a, f"alice@{A}", "alice pw")
        alice = self.login(f"alice@{A}/phone", "alice pw")
        self.send_and_expect_error(alice, "x@noservice.test", "remote-server-not-found", "offers no XMPP service")
        self.send_and_expect_error(alice, "x@dead.test", "remote-server-not-found", "connection refused")
        self.send_and_expect_error(alice, "x@nowhere.test", "remote-server-not-found", "no address for nowhere.test")
        # Meanwhile the domain is not tried again: the same answer comes at once.
        self.send_and_expect_error(alice, "y@dead.test", "remote-server-not-found", "connection refused")

    def test_happy_eyeballs_past_an_address_that_drops_connection_attempts(self):
        harness.ensure_ipv6_loopback()
        harness.drop_syns(self, "ip6 daddr ::1 tcp dport 5269")
        a = self.start_xmppd(A)
        c = self.start_xmppd("c.test", address="127.0.0.5")
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(c, "carol@c.test", "carol pw")
        alice, carol = self.login(f"alice@{A}/phone", "alice pw"), self.login("carol@c.test/x", "carol pw")
        alice.send_message(mto="carol@c.test", mbody="over IPv4", mtype="chat")
        self.assertEqual(self.receive(carol, timeout=5)["body"], "over IPv4")
        a.wait_log(r"s2s outbound a.test -> c.test: connected to 127.0.0.5 port 5269")


class RawPeer:
    """A remote server played by the test, byte by byte, on an inbound stream to xmppd."""

    def __init__(self, test, domain, to=B, cert=None, source=None):
        """source: the loopback address to connect from, so that xmppd sees another peer."""
        self.test, self.domain, self.to = test, domain, to
        self.sock = socket.create_connection((ADDRESS[to], 5269), timeout=10,
                                             source_address=(source, 0) if source else None)
        self.cert = cert  # (cert file, key file) presented in TLS

    def header(self):
        return (f"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                f"xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
                f"from='{self.domain}' to='{self.to}' version='1.0'>").encode()

    def open(self):
        self.sock.sendall(self.header())
        return streams.read_until(self.sock, b"</stream:features>")

    def starttls(self):
        self.open()
        self.sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        streams.read_until(self.sock, b"/>")
        context = ssl.create_default_context(cafile=self.test.ca_file)
        if self.cert:
            context.load_cert_chain(*self.cert)
        self.sock = context.wrap_socket(self.sock, server_hostname=self.to)
        return self.open()

    def external(self):
        self.sock.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>" +
                          base64.b64encode(self.domain.encode()) + b"</auth>")
        answer = streams.read_until(self.sock, b"/>")
        if b"<success" in answer:
            return self.open()
        return answer

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def read_until(self, marker):
        return streams.read_until(self.sock, marker)

    def error(self):
        return streams.stream_error(streams.read_to_end(self.sock))

    def close(self):
        self.sock.close()


class InboundChecks(FederationTest):
    """The receiving side alone, against peers played by the test."""

    def setUp(self):
        super().setUp()
        # Certificates are required, except from a.test, which may use dialback.
        self.b = self.start_xmppd(B, extra='s2s_secure_auth = true\ns2s_insecure_domains = { "a.test" }\n',
                                  host_extra='s2s_stanza_size_limit = 10000\ns2s_blacklist = { "spam.test" }\n')

    def peer_with_certificate(self, domain, authority=None, usages=None):
        key, cert = (authority or self.ca).issue(domain, "ec", usages=usages)
        cert_file, key_file = f"{self.workdir}/{domain}.crt", f"{self.workdir}/{domain}.key"
        certs.write(cert_file, certs.cert_pem(cert))
        certs.write(key_file, certs.key_pem(key), 0o600)
        peer = RawPeer(self, domain, cert=(cert_file, key_file))
        self.addCleanup(peer.close)
        return peer

    def test_stanza_size_limit_and_its_advertisement(self):
        def element(size):
            head, tail = b"<message from='x@evil.test' to='y@b.test'><body>", b"</body></message>"
            return head + b"x" * (size - len(head) - len(tail)) + tail
        peer = RawPeer(self, "evil.test")
        self.addCleanup(peer.close)
        features = peer.starttls()
        self.assertIn(b"<limits xmlns='urn:xmpp:stream-limits:0'><max-bytes>10000</max-bytes>"
                      b"<idle-seconds>600</idle-seconds></limits>", features)
        # At the limit the stanza is parsed, and refused only for its unauthenticated sender.
        peer.send(element(10000))
        self.assertEqual(peer.error()[0], "not-authorized")
        peer = RawPeer(self, "evil.test")
        self.addCleanup(peer.close)
        peer.starttls()
        peer.send(element(10001))
        data = streams.read_to_end(peer.sock)
        self.assertEqual(streams.stream_error(data)[0], "policy-violation")
        self.assertIn(b"<stanza-too-big xmlns='urn:xmpp:errors'/>", data)

    def test_stanza_from_a_domain_the_stream_did_not_authenticate(self):
        peer = self.peer_with_certificate("evil.test")
        features = peer.starttls()
        self.assertIn(b"<mechanism>EXTERNAL</mechanism>", features)
        features = peer.external()
        self.assertNotIn(b"EXTERNAL", features)
        self.b.wait_log(r"s2s inbound evil.test -> b.test .*authenticated by SASL EXTERNAL")
        peer.send("<message from='mallory@other.test' to='bob@b.test'><body>forged</body></message>")
        self.assertEqual(peer.error()[0], "invalid-from")
        self.b.wait_log(r"stanza from other.test, which this stream has not authenticated")

    def test_sasl_external_refused_for_another_identity(self):
        peer = self.peer_with_certificate("evil.test")
        peer.starttls()
        peer.send(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>" +
                  base64.b64encode(b"a.test") + b"</auth>")
        self.assertIn(b"<not-authorized/>", peer.read_until(b"</failure>"))
        self.b.wait_log(r"SASL EXTERNAL refused: the authorization identity \"a.test\"")

    def test_plaintext_dialback_refused_when_encryption_is_required(self):
        peer = RawPeer(self, "evil.test")
        self.addCleanup(peer.close)
        peer.open()
        peer.send("<db:result from='evil.test' to='b.test'>abcd</db:result>")
        condition, text = peer.error()
        self.assertEqual(condition, "policy-violation")
        self.assertIn("encryption is required", text)


    def test_dialback_for_an_extra_domain_refused_under_secure_auth(self):
        peer = self.peer_with_certificate("evil.test")
        peer.starttls()
        peer.external()
        peer.send("<db:result from='c.test' to='b.test'>0123456789abcdef</db:result>")
        answer = peer.read_until(b"</db:result>")
        self.assertIn(b"type='error'", answer)
        self.assertIn(b"<not-authorized", answer)
        self.assertIn(b"b.test requires a trusted certificate valid for c.test, and the certificate is not valid "
                      b"for c.test", answer)
        self.b.wait_log(r"s2s inbound c.test -> b.test .*dialback refused: b.test requires a trusted certificate "
                        r"valid for c.test, and the certificate is not valid for c.test")
        # The stream keeps the domain it proved.
        peer.send("<iq type='get' id='p1' from='evil.test' to='b.test'><ping xmlns='urn:xmpp:ping'/></iq>")
        peer.send("</stream:stream>")
        self.assertIsNone(streams.stream_error(streams.read_to_end(peer.sock)))

    def test_dialback_without_a_certificate_refused_under_secure_auth(self):
        peer = RawPeer(self, "c.test")
        self.addCleanup(peer.close)
        peer.starttls()
        peer.send("<db:result from='c.test' to='b.test'>0123456789abcdef</db:result>")
        condition, text = peer.error()
        self.assertEqual(condition, "not-authorized")
        self.assertIn("no certificate was presented", text)

    def test_certificate_backed_dialback_under_secure_auth(self):
        # XEP-0344: a dialback-only server whose certificate proves its domain. No DNS names
        # cert.test, so a callback could not succeed: "valid" comes from the certificate.
        peer = self.peer_with_certificate("cert.test")
        features = peer.starttls()
        self.assertIn(b"<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>", features)
        peer.send("<db:result from='cert.test' to='b.test'>0123456789abcdef</db:result>")
        answer = peer.read_until(b"/>")
        self.assertRegex(answer, rb"<db:result [^>]*type='valid'")
        self.b.wait_log(r"s2s inbound cert.test -> b.test from .*certificate is trusted.*"
                        r"authenticated by dialback with a trusted certificate \(XEP-0344\)")
        # A second domain on the same stream is checked against the certificate on its own.
        peer.send("<db:result from='other.test' to='b.test'>0123456789abcdef</db:result>")
        answer = peer.read_until(b"</db:result>")
        self.assertIn(b"type='error'", answer)
        self.assertIn(b"the certificate is not valid for other.test", answer)
        # The proven domain's stanzas pass; the refused one's end the stream.
        peer.send("<message from='carol@cert.test' to='nobody@b.test'><body>hi</body></message>")
        peer.send("<message from='carol@other.test' to='nobody@b.test'><body>hi</body></message>")
        self.assertEqual(peer.error()[0], "invalid-from")

    def test_dialback_on_an_untrusted_or_misused_certificate_names_the_problem(self):
        stranger = certs.Authority("stranger CA")
        for domain, authority, usages, why in [
                ("untrusted.test", stranger, None, "the certificate's issuer is not trusted"),
                ("signer.test", None, [certs.ExtendedKeyUsageOID.CODE_SIGNING],
                 "the certificate is not for TLS authentication")]:
            peer = self.peer_with_certificate(domain, authority, usages)
            features = peer.starttls()
            self.assertNotIn(b"<dialback", features)
            self.assertNotIn(b"EXTERNAL", features)
            self.b.wait_log(rf"s2s inbound {domain} -> b.test .*authentication refused: no method to offer: "
                            rf"b.test requires a trusted certificate valid for {domain}, and {why}")
            peer.send(f"<db:result from='{domain}' to='b.test'>0123456789abcdef</db:result>")
            condition, text = peer.error()
            self.assertEqual(condition, "not-authorized")
            self.assertIn(why, text)

    def test_blacklisted_domain_is_refused_even_with_a_good_certificate(self):
        peer = self.peer_with_certificate("spam.test")
        peer.starttls()
        peer.send(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>" +
                  base64.b64encode(b"spam.test") + b"</auth>")
        condition, text = peer.error()
        self.assertEqual((condition, text), ("policy-violation", "spam.test is in the s2s_blacklist of b.test"))
        peer = self.peer_with_certificate("spam.test")
        peer.starttls()
        peer.send("<db:result from='spam.test' to='b.test'>0123456789abcdef</db:result>")
        self.assertEqual(peer.error(), ("policy-violation", "spam.test is in the s2s_blacklist of b.test"))
        self.b.wait_log(r"s2s inbound spam.test -> b.test .*dialback refused: spam.test is in the s2s_blacklist")

    def test_a_stream_may_claim_only_so_many_domains(self):
        # Proven by its certificate, the stream survives each refused claim: the limit ends it.
        peer = self.peer_with_certificate("evil.test")
        peer.starttls()
        peer.external()
        for i in range(33):
            peer.send(f"<db:result from='d{i}.test' to='b.test'>{'0' * 64}</db:result>")
        condition, text = peer.error()
        self.assertEqual((condition, text), ("policy-violation", "too many domains on one stream"))

    def test_a_dialback_key_of_any_length_is_refused(self):
        peer = RawPeer(self, A)
        self.addCleanup(peer.close)
        peer.starttls()
        peer.send(f"<db:result from='{A}' to='b.test'>{'0' * 257}</db:result>")
        self.assertEqual(peer.error()[0], "policy-violation")

    def test_dialback_key_checked_with_the_authoritative_server(self):
        a = self.start_xmppd(A)
        peer = RawPeer(self, A)
        self.addCleanup(peer.close)
        features = peer.starttls()
        self.assertIn(b"<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>", features)
        peer.send(f"<db:result from='{A}' to='{B}'>{'0' * 64}</db:result>")
        answer = peer.read_until(b"</stream:stream>")
        self.assertIn(b"type='invalid'", answer)
        self.assertEqual(streams.stream_error(answer)[0], "not-authorized")
        a.wait_log(rf"dialback key for {A} -> {B} \(stream [0-9a-f]+\) is invalid")
        self.b.wait_log(rf"s2s inbound {A} -> {B} .*dialback refused: the authoritative server says the key is invalid")


class ReverseDialback(FederationTest):
    """A dialback-only server played by the test that, like jabberd2, answers our dialback only
    once its own, on the connection it opens to us, is accepted. Here it presents no client
    certificate, which s2s_secure_auth refuses: our stream's failure must say so."""

    def serve_b(self, ready):
        context, listener, header = self.play_server(B, A)

        def serve():
            conn, _ = listener.accept()
            conn.settimeout(20)
            streams.read_until(conn, b"to='b.test'>")
            conn.sendall(header + b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                                  b"</stream:features>")
            streams.read_until(conn, b"/>")
            conn.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            tls = context.wrap_socket(conn, server_side=True)
            streams.read_until(tls, b"to='b.test'>")
            tls.sendall(header + b"<stream:features><dialback xmlns='urn:xmpp:features:dialback'><errors/>"
                                 b"</dialback></stream:features>")
            streams.read_until(tls, b"</db:result>")
            # Our own dialback first, on a connection of our own, without a certificate.
            peer = RawPeer(self, B, to=A)
            peer.starttls()
            peer.send("<db:result from='b.test' to='a.test'>0123456789abcdef</db:result>")
            ready.append(peer.error())
            peer.close()
            tls.sendall(b"</stream:stream>")
            streams.read_to_end(tls)
            tls.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        return thread

    def test_our_stream_says_that_the_peers_own_dialback_was_refused(self):
        a = self.start_xmppd(A, extra="s2s_secure_auth = true\n")
        self.adduser(a, f"alice@{A}", "alice pw")
        alice = self.login(f"alice@{A}/phone", "alice pw")
        refused = []
        thread = self.serve_b(refused)
        alice.send_message(mto=f"bob@{B}", mbody="hello", mtype="chat")
        m = self.receive(alice)
        thread.join(20)
        self.assertEqual(refused[0][0], "not-authorized")
        why = f"{A} requires a trusted certificate valid for {B}, and no certificate was presented"
        self.assertEqual(m["type"], "error")
        self.assertEqual(m["error"]["text"], f"Server-to-server connection failed: the peer closed the stream; {B} may "
                                             f"be waiting for its own authentication to us, which was refused: {why}")
        a.wait_log(rf"s2s outbound {A} -> {B} via .*the peer closed the stream; {B} may be waiting")


if __name__ == "__main__":
    harness.main()
