#!/usr/bin/env python3
"""xmppctl check and xmppctl cert import against real files, a real DNS server (dnsmasq on
loopback, serving good and bad SRV records) and a running xmppd: each finding, the exit
codes, and a certificate imported from a Let's Encrypt-style directory that a client then
sees after the reload."""
import json
import os
import socket
import ssl
import stat
import subprocess

import certs
import harness
from harness import IntegrationTest, TestDns, basic_config

XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")
C2S_TLS = 5223


class XmppctlCheck(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.ca, self.ca_file = certs.authority_in(self.workdir)
        self.certdir = os.path.join(self.workdir, "certs")

    def write_config(self, hosts, extra=""):
        text = basic_config(self.workdir, f"""
certificates = "{self.certdir}"
pidfile = "{self.workdir}/xmppd.pid"
ssl = {{ cafile = "{self.ca_file}" }}
c2s_direct_tls_ports = {{ {C2S_TLS} }}
dns_transparent_zones = {{ "test" }}
{extra}
""").replace('VirtualHost "localhost"\n', "".join(f'VirtualHost "{h}"\n' for h in hosts))
        path = os.path.join(self.workdir, "check.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def xmppctl(self, config, *args):
        r = subprocess.run([XMPPCTL, "-j", "-f", config, *args], capture_output=True, text=True, timeout=60)
        try:
            findings = json.loads(r.stdout) if r.stdout.strip() else []
        except json.JSONDecodeError:
            self.fail(f"xmppctl {' '.join(args)} printed no JSON:\n{r.stdout}\n{r.stderr}")
        return r.returncode, findings, r.stderr

    def find(self, findings, subject, text):
        """The level of the one finding about `subject` whose message holds `text`."""
        found = [f["level"] for f in findings if f["subject"] == subject and text in f["message"]]
        self.assertEqual(len(found), 1, f"one finding about {subject} with {text!r} in:\n" +
                         "\n".join(f"{f['level']} {f['subject']}: {f['message']}" for f in findings))
        return found[0]

    def issue_into(self, directory, host, **issue):
        key, cert = self.ca.issue(host, **issue)
        certs.write(f"{directory}/{host}.crt", certs.cert_pem(cert))
        certs.write(f"{directory}/{host}.key", certs.key_pem(key), 0o600)
        return key, cert

    def test_certs(self):
        """One valid, one expired, one soon to expire, one for another name, one whose key is another's."""
        self.issue_into(self.certdir, "valid.test")
        self.issue_into(self.certdir, "expired.test", days=-1, not_before_days=-30)
        self.issue_into(self.certdir, "soon.test", days=5)
        self.issue_into(self.certdir, "wrongname.test", names=["other.test"])
        self.issue_into(self.certdir, "badkey.test")
        other_key, _ = self.ca.issue("badkey.test")
        certs.write(f"{self.certdir}/badkey.test.key", certs.key_pem(other_key), 0o600)
        config = self.write_config(["valid.test", "expired.test", "soon.test", "wrongname.test", "badkey.test",
                                    "missing.test"])
        code, findings, _ = self.xmppctl(config, "check", "certs")
        self.assertEqual(code, 1)
        self.assertTrue(all(f["section"] == "certs" for f in findings))
        both = " c2s+s2s"
        self.assertEqual(self.find(findings, "valid.test" + both, "the key matches"), "ok")
        self.assertEqual(self.find(findings, "valid.test" + both, "valid until"), "ok")
        self.assertEqual(self.find(findings, "valid.test" + both, "names valid.test"), "ok")
        self.assertEqual(self.find(findings, "valid.test" + both, "the chain verifies against " + self.ca_file), "ok")
        self.assertEqual(self.find(findings, "expired.test" + both, "the certificate expired on"), "error")
        self.assertEqual(self.find(findings, "soon.test" + both, "expires in"), "warning")
        self.assertEqual(self.find(findings, "wrongname.test" + both, "not valid for wrongname.test"), "error")
        self.assertEqual(self.find(findings, "badkey.test" + both, "is not the key of"), "error")
        self.assertEqual(self.find(findings, "missing.test", "no certificate for missing.test"), "error")
        self.assertFalse(any("PRIVATE KEY" in f["message"] for f in findings))

        # Warnings alone do not fail; the aligned form says the same as the JSON.
        config = self.write_config(["valid.test", "soon.test"])
        code, findings, _ = self.xmppctl(config, "check", "certs")
        self.assertEqual(code, 0, findings)
        r = subprocess.run([XMPPCTL, "-f", config, "check", "certs"], capture_output=True, text=True)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["LEVEL", "SECTION", "SUBJECT", "FINDING"])
        self.assertEqual(len(lines), len(findings) + 1)
        column = lines[0].index("FINDING")
        self.assertTrue(any(line.startswith("warning ") and line[column:].startswith("the certificate expires in")
                            for line in lines), r.stdout)

    def test_config(self):
        self.issue_into(self.certdir, "a.test")
        config = self.write_config(["a.test"], "s2s_secure_auth = true\ns2s_secure_domains = { \"b.test\" }\n"
                                   "no_such_option = 1\n")
        code, findings, _ = self.xmppctl(config, "check", "config")
        self.assertEqual(code, 0, findings)  # warnings only
        self.assertEqual(self.find(findings, "a.test", "s2s_secure_domains has no effect"), "warning")
        unknown = [f for f in findings if "no_such_option" in f["message"]]
        self.assertEqual(len(unknown), 1, findings)
        self.assertEqual(unknown[0]["level"], "warning")
        self.assertRegex(unknown[0]["subject"], r"check\.conf:\d+$")
        # An error in the file: exit 2, file:line on standard error.
        with open(config, "a") as f:
            f.write("c2s_ports = \"many\"\n")
        code, _, stderr = self.xmppctl(config, "check")
        self.assertEqual(code, 2)
        self.assertRegex(stderr, r"check\.conf:\d+: ")

    def start_dns(self):
        dns = TestDns(self.workdir, {"good.test": "127.0.0.1", "bad.test": "127.0.0.1",
                                     "elsewhere.bad.test": "127.0.0.2"},
                      srv=["_xmpp-client._tcp.good.test,good.test,5222,0,5",
                           "_xmpps-client._tcp.good.test,good.test,5223,0,5",
                           "_xmpp-server._tcp.good.test,good.test,5269,0,5",
                           "_xmpp-client._tcp.bad.test,bad.test,5999,0,5",
                           "_xmpp-server._tcp.bad.test,elsewhere.bad.test,5269,0,5",
                           "_xmpps-server._tcp.bad.test,nowhere.bad.test,5270,0,5"])
        self.addCleanup(dns.stop)
        dns.start()

    def test_dns(self):
        self.start_dns()
        config = self.write_config(["good.test", "bad.test"], "s2s_direct_tls_ports = { 5270 }")
        code, findings, _ = self.xmppctl(config, "check", "dns")
        self.assertEqual(code, 1, findings)
        self.assertEqual(self.find(findings, "_xmpp-client._tcp.good.test", "good.test port 5222 (127.0.0.1): this machine"), "ok")
        self.assertEqual(self.find(findings, "_xmpps-client._tcp.good.test", "good.test port 5223"), "ok")
        self.assertEqual(self.find(findings, "_xmpp-server._tcp.good.test", "good.test port 5269"), "ok")
        self.assertEqual(self.find(findings, "_xmpps-server._tcp.good.test", "no SRV record"), "warning")
        self.assertEqual(self.find(findings, "_xmpp-client._tcp.bad.test", "port 5999: the port is not in c2s_ports { 5222 }"), "error")
        self.assertEqual(self.find(findings, "_xmpps-client._tcp.bad.test", "no SRV record"), "warning")
        self.assertEqual(self.find(findings, "_xmpp-server._tcp.bad.test", "(127.0.0.2): not an address of this machine"), "warning")
        self.assertEqual(self.find(findings, "_xmpps-server._tcp.bad.test", "nowhere.bad.test has no A or AAAA record"), "error")

    def test_dns_is_read_by_an_unprivileged_child(self):
        """A hosts file only root may read is out of the lookup child's reach: it has become xmppd_user."""
        hosts = os.path.join(self.workdir, "private-hosts")
        certs.write(hosts, b"127.0.0.1 good.test\n", 0o600)
        config = self.write_config(["good.test"], f'dns_hosts = "{hosts}"')
        code, findings, _ = self.xmppctl(config, "check", "dns")
        self.assertEqual(code, 1, findings)
        self.assertEqual(self.find(findings, "resolver", hosts), "error")

    def test_ports_and_cert_import(self):
        """A port held by another program, then by xmppd; certificates imported from certbot's
        layout into the running server, which serves the new one after the reload."""
        old_key, old_cert = self.issue_into(self.certdir, "a.test")
        config = self.write_config(["a.test", "b.test", "c.test", "chat.w.test"])
        squatter = harness.listen(self, "127.0.0.1", 5269)
        code, findings, _ = self.xmppctl(config, "check", "ports")
        self.assertEqual(code, 1, findings)
        self.assertEqual(self.find(findings, "127.0.0.1 port 5269", "s2s: in use by python3"), "error")
        self.assertEqual(self.find(findings, "127.0.0.1 port 5222", "c2s: free for xmppd"), "ok")
        squatter.close()

        with open(config) as f:
            server = self.server(f.read()).start()
        server.wait_sandboxed_children()
        server.wait_log(r"router\[\d+\]: TLS certificates for")
        code, findings, _ = self.xmppctl(config, "check", "ports")
        self.assertEqual(code, 0, findings)
        self.assertEqual(self.find(findings, "127.0.0.1 port 5222", "c2s: held by xmppd"), "ok")
        # A port added to the file since xmppd started is not listened on until a restart.
        code, findings, _ = self.xmppctl(self.write_config(["a.test", "b.test", "c.test", "chat.w.test"],
                                                           "c2s_ports = { 5222, 5280 }"), "check", "ports")
        self.assertEqual(code, 0, findings)
        self.assertEqual(self.find(findings, "127.0.0.1 port 5280", "xmppd runs but does not listen here"), "warning")
        config = self.write_config(["a.test", "b.test", "c.test", "chat.w.test"])
        self.assertEqual(self.served_certificate("a.test"), old_cert.public_bytes(certs.serialization.Encoding.DER))

        live = os.path.join(self.workdir, "letsencrypt", "live")
        new_key, new_cert = self.ca.issue("a.test")
        certs.write(f"{live}/a.test/fullchain.pem", certs.cert_pem(new_cert) + self.ca.pem())
        certs.write(f"{live}/a.test/privkey.pem", certs.key_pem(new_key), 0o600)
        expired_key, expired_cert = self.ca.issue("b.test", days=-1, not_before_days=-30)
        certs.write(f"{live}/b.test/fullchain.pem", certs.cert_pem(expired_cert))
        certs.write(f"{live}/b.test/privkey.pem", certs.key_pem(expired_key), 0o600)
        wildcard_key, wildcard_cert = self.ca.issue("w.test", names=["*.w.test"])  # for chat.w.test
        certs.write(f"{live}/w.test/fullchain.pem", certs.cert_pem(wildcard_cert))
        certs.write(f"{live}/w.test/privkey.pem", certs.key_pem(wildcard_key), 0o600)
        after = len(server.log())
        code, findings, _ = self.xmppctl(config, "cert", "import", live)
        self.assertEqual(code, 0, findings)
        self.assertEqual(self.find(findings, "a.test", f"imported {live}/a.test/fullchain.pem"), "ok")
        self.assertEqual(self.find(findings, "b.test", "expired on"), "warning")
        self.assertEqual(self.find(findings, "b.test", "no usable certificate found"), "warning")
        self.assertEqual(self.find(findings, "c.test", "no usable certificate found"), "warning")
        self.assertEqual(self.find(findings, "chat.w.test", f"imported {live}/w.test/fullchain.pem"), "ok")
        self.assertEqual(self.find(findings, "reload", "xmppd reloaded (generation 2)"), "ok")
        key_stat = os.stat(f"{self.certdir}/a.test.key")
        self.assertEqual((stat.S_IMODE(key_stat.st_mode), key_stat.st_uid), (0o600, 0))
        self.assertEqual(stat.S_IMODE(os.stat(f"{self.certdir}/a.test.crt").st_mode), 0o644)
        # No temporary file left behind.
        self.assertEqual(sorted(os.listdir(self.certdir)), ["a.test.crt", "a.test.key", "chat.w.test.crt", "chat.w.test.key"])
        server.wait_log(r"reloaded", after=after)
        new_der = new_cert.public_bytes(certs.serialization.Encoding.DER)
        harness.wait_for(lambda: self.served_certificate("a.test") == new_der, 10, "the new certificate served")

        # Again: nothing to do, no reload.
        code, findings, _ = self.xmppctl(config, "cert", "import", live)
        self.assertEqual(code, 0, findings)
        self.assertEqual(self.find(findings, "a.test", "is already"), "ok")
        self.assertEqual(self.find(findings, "chat.w.test", "is already"), "ok")
        self.assertFalse(any(f["subject"] == "reload" for f in findings))

        # An older certificate elsewhere never replaces the one installed.
        stale = os.path.join(self.workdir, "stale")
        self.issue_into(stale, "a.test", days=10)
        code, findings, _ = self.xmppctl(config, "cert", "import", stale)
        self.assertEqual(code, 0, findings)
        self.assertEqual(self.find(findings, "a.test", "kept"), "ok")
        self.assertEqual(self.served_certificate("a.test"), new_der)

    def served_certificate(self, host):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(self.ca_file)
        with socket.create_connection(("127.0.0.1", C2S_TLS), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                return tls.getpeercert(binary_form=True)


if __name__ == "__main__":
    harness.main()
