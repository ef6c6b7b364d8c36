#!/usr/bin/env python3
"""/metrics (mod_http_openmetrics's place): what every process counts, gathered by the parent
over IPC and served by the HTTP process. `promtool check metrics` (Debian's prometheus, which
./dev installs: the test fails without it) accepts the text; OpenMetrics is served to a client
that asks for it (read by python3-prometheus-client's parser when that is installed); the
values move when a client logs in, fails a login, sends messages, writes to an unknown user,
and when a child is killed and restarted; an address that is not allowed gets 403. A second
class federates two servers and reads the s2s streams by direction and authentication."""
import asyncio
import http.client
import os
import re
import shutil
import signal
import subprocess
import time
import unittest

try:
    from prometheus_client.openmetrics import parser as openmetrics_parser
except ImportError:  # python3-prometheus-client is optional: only its parser's check is skipped
    openmetrics_parser = None

import harness
from clients_test import Client, ClientTest, XMPPCTL
from federation_test import ADDRESS, FederationTest, A, B

HOST = "chat.test"
PASSWORD = "a secret"
HTTP_PORT = 5280
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def get(path="/metrics", source="127.0.0.1", accept=None, method="GET", address="127.0.0.1"):
    conn = http.client.HTTPConnection(address, HTTP_PORT, timeout=10, source_address=(source, 0))
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", HOST)
        if accept:
            conn.putheader("Accept", accept)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def samples(text):
    """{(name, frozenset of labels): value} of a metrics text."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(text, name, **labels):
    wanted = set(labels.items())
    found = [v for (n, ls), v in samples(text).items() if n == name and wanted <= set(ls)]
    assert len(found) == 1, f"{name}{labels}: {found}"
    return found[0]


class Metrics(ClientTest):
    def setUp(self):
        super().setUp()
        self.issue_host_certificates(HOST)
        config = harness.basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n'
                                      'modules_enabled = { "http_openmetrics" }\n'
                                      f'http_ports = {{ {HTTP_PORT} }}\nhttp_interfaces = {{ "127.0.0.1" }}\n'
                                      'https_ports = { }\n')
        config = config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"\n')
        self.xmppd = self.server(config).start()
        self.kids = self.xmppd.wait_sandboxed_children(count=5)
        self.xmppd.wait_log(r"http\[\d+\]: http on 127\.0\.0\.1 port 5280")
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts")
        for user in ("alice", "bob"):
            r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "adduser", f"{user}@{HOST}"],
                               input=PASSWORD + "\n", capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)

    def wait(self, awaitable, timeout=20):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def login(self, jid):
        client = Client(jid, PASSWORD, self.ca_file, "SCRAM-SHA-256")
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        self.assertEqual(self.wait(client.outcome, 30), "session", jid)
        return client

    def metrics(self):
        status, headers, text = fresh_metrics(self)
        self.assertEqual(status, 200, text)
        return headers, text

    def test_promtool_openmetrics_values_access_and_restarts(self):
        headers, text = self.metrics()
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        self.assertIsNotNone(shutil.which("promtool"), "promtool is missing: ./dev installs Debian's prometheus")
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr + text)
        # Every process reports its memory and CPU time; the parent its own and the restarts.
        for process in ("parent", "router", "s2s", "tls", "auth", "http"):
            self.assertGreater(value(text, "xmppd_process_resident_memory_bytes", process=process), 0, process)
            cpu = sum(value(text, "xmppd_process_cpu_seconds_total", process=process, mode=mode)
                      for mode in ("user", "system"))
            self.assertGreater(cpu, 0, process)
        self.assertEqual(value(text, "xmppd_process_restarts_total", process="s2s"), 0)
        self.assertEqual(value(text, "xmppd_c2s_connections", process="router", state="authenticated"), 0)
        # The families the issue names exist before anything happened, at 0.
        for condition in ("service-unavailable", "remote-server-not-found"):
            self.assertEqual(value(text, "xmppd_router_bounces_total", process="router", condition=condition), 0)
        self.assertEqual(value(text, "xmppd_s2s_bounces_total", process="s2s", condition="remote-server-not-found"), 0)
        self.assertEqual(value(text, "xmppd_s2s_stanzas_out_total", process="s2s", kind="message"), 0)
        self.assertEqual(value(text, "xmppd_component_connections", process="router", state="authenticated"), 0)
        self.assertEqual(value(text, "xmppd_c2s_websocket_connections", process="router"), 0)
        self.assertEqual(value(text, "xmppd_upload_stored_files", process="http"), 0)
        self.assertEqual(value(text, "xmppd_upload_stored_bytes", process="http"), 0)
        self.assertEqual(value(text, "xmppd_uploads_total", process="http"), 0)
        self.assertEqual(value(text, "xmppd_tls_handshakes_total", process="router", result="completed"), 0)
        self.assertEqual(value(text, "xmppd_archive_messages", process="router"), 0)
        self.assertEqual(value(text, "xmppd_archive_owners", process="router"), 0)

        # OpenMetrics for a client that asks for it, as Prometheus does.
        status, headers, om = get(accept="application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/openmetrics-text; version=1.0.0; charset=utf-8")
        self.assertTrue(om.endswith("# EOF\n"), om[-200:])
        self.assertIn("# TYPE xmppd_c2s_logins counter\n", om)
        self.assertIn("# UNIT xmppd_process_resident_memory_bytes bytes\n", om)
        # An OpenMetrics parser of another project's (python3-prometheus-client) reads it all.
        with self.subTest("python3-prometheus-client's parser"):
            if openmetrics_parser is None:
                self.skipTest("python3-prometheus-client is not installed")
            families = {f.name: f for f in openmetrics_parser.text_string_to_metric_families(om)}
            self.assertEqual(families["xmppd_c2s_logins"].type, "counter")
            self.assertEqual(families["xmppd_process_resident_memory_bytes"].unit, "bytes")

        # Values move: a client logged in, messages sent.
        alice = self.login(f"alice@{HOST}/phone")
        bob = self.login(f"bob@{HOST}/laptop")
        _, text = self.metrics()
        self.assertEqual(value(text, "xmppd_c2s_connections", process="router", state="authenticated"), 2)
        self.assertEqual(value(text, "xmppd_c2s_sessions", process="router"), 2)
        self.assertGreaterEqual(value(text, "xmppd_c2s_logins_total", process="router"), 2)
        # Both clients' STARTTLS handshakes ended in the router.
        self.assertGreaterEqual(value(text, "xmppd_tls_handshakes_total", process="router", result="completed"), 2)
        # The auth helper's SASL exchanges; the tls helper signed the two clients' handshakes.
        self.assertGreaterEqual(value(text, "xmppd_sasl_exchanges_total", process="auth", outcome="success"), 2)
        signed = sum(v for (n, ls), v in samples(text).items()
                     if n == "xmppd_tls_signatures_total" and ("for", "router") in ls)
        self.assertGreaterEqual(signed, 2)

        # A wrong password: the failure is counted.
        failures = value(text, "xmppd_c2s_login_failures_total", process="router")
        wrong = Client(f"alice@{HOST}/x", "not the password", self.ca_file, "SCRAM-SHA-256")
        self.clients.append(wrong)
        wrong.connect(("127.0.0.1", 5222))
        self.assertEqual(self.wait(wrong.outcome, 30), "failed_auth")
        _, text = self.metrics()
        self.assertEqual(value(text, "xmppd_c2s_login_failures_total", process="router"), failures + 1)

        # A message to a user who does not exist: bounced with service-unavailable, counted.
        alice.send_message(mto=f"nobody@{HOST}", mbody="anyone?", mtype="chat")
        error = self.wait(alice.messages.get())
        self.assertEqual(error["type"], "error")
        self.assertEqual(error["error"]["condition"], "service-unavailable")
        _, text = self.metrics()
        self.assertEqual(value(text, "xmppd_router_bounces_total", process="router", condition="service-unavailable"), 1)
        sent = value(text, "xmppd_c2s_stanzas_in_total", process="router", kind="message")
        received = asyncio.Event()
        bob.add_event_handler("message", lambda msg: received.set())
        for i in range(3):
            alice.send_message(mto=f"bob@{HOST}", mbody=f"hello {i}", mtype="chat")
        self.wait(received.wait())
        _, text = harness.wait_for(
            lambda: (lambda r: r if value(r[1], "xmppd_c2s_stanzas_in_total", process="router", kind="message")
                     >= sent + 3 else None)(self.metrics()), 10, "three messages counted")
        self.assertGreaterEqual(value(text, "xmppd_c2s_stanzas_out_total", process="router", kind="message"), 1)

        # Another address than the allowed ones: 403. Only GET.
        status, _, _ = get(source="127.0.0.2")
        self.assertEqual(status, 403)
        self.assertEqual(get(method="POST")[0], 405)
        _, text = self.metrics()
        self.assertGreaterEqual(value(text, "xmppd_http_responses_total", process="http", **{"class": "4xx"}), 2)
        self.assertGreaterEqual(value(text, "xmppd_http_responses_total", process="http", **{"class": "2xx"}), 4)

        # A child killed: the parent restarts it and counts it.
        os.kill(self.kids["s2s"], signal.SIGKILL)
        harness.wait_for(lambda: value(self.metrics()[1], "xmppd_process_restarts_total", process="s2s") == 1,
                         15, "the s2s worker's restart counted")


def fresh_metrics(test, address="127.0.0.1"):
    """GET /metrics, a little more than the parent's interval after the last one (it gathers
    at most once a second and answers requests in between with its last report)."""
    wait = getattr(test, "last_metrics", 0) + 1.1 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    test.last_metrics = time.monotonic()
    return get(address=address)


class FederatedMetrics(FederationTest):
    """Two servers federated: a.test's /metrics shows its s2s streams by direction and
    authentication, the stanzas across them and the s2s worker's TLS handshakes."""

    def test_s2s_streams_by_direction_and_auth(self):
        http = (f'modules_enabled = {{ "http_openmetrics" }}\nhttp_ports = {{ {HTTP_PORT} }}\n'
                f'http_interfaces = {{ "{ADDRESS[A]}" }}\nhttps_ports = {{ }}\n')
        a = self.start_xmppd(A, extra=http, children=5)
        b = self.start_xmppd(B)
        self.adduser(a, f"alice@{A}", "alice pw")
        self.adduser(b, f"bob@{B}", "bob pw")
        alice, bob = self.login(f"alice@{A}/phone", "alice pw"), self.login(f"bob@{B}/desk", "bob pw")
        a.wait_log(r"http\[\d+\]: http on 127\.0\.0\.2 port 5280")

        def text():
            status, _, body = fresh_metrics(self, ADDRESS[A])
            self.assertEqual(status, 200, body)
            return body

        before = text()
        self.assertEqual(value(before, "xmppd_s2s_streams", process="s2s", direction="outbound", auth="certificate"), 0)
        alice.send_message(mto=f"bob@{B}", mbody="hello from a", mtype="chat")
        self.receive(bob)
        bob.send_message(mto=f"alice@{A}/phone", mbody="hello from b", mtype="chat")
        self.receive(alice)
        after = text()
        # SASL EXTERNAL both ways (each server's certificate from the test CA): one stream each.
        self.assertEqual(value(after, "xmppd_s2s_streams", process="s2s", direction="outbound", auth="certificate"), 1)
        self.assertEqual(value(after, "xmppd_s2s_streams", process="s2s", direction="inbound", auth="certificate"), 1)
        self.assertEqual(value(after, "xmppd_s2s_streams", process="s2s", direction="outbound", auth="dialback"), 0)
        self.assertGreaterEqual(value(after, "xmppd_s2s_stanzas_out_total", process="s2s", kind="message"), 1)
        self.assertGreaterEqual(value(after, "xmppd_s2s_stanzas_in_total", process="s2s", kind="message"), 1)
        self.assertGreaterEqual(value(after, "xmppd_tls_handshakes_total", process="s2s", result="completed"), 2)


if __name__ == "__main__":
    harness.main()
