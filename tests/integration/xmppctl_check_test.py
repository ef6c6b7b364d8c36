#!/usr/bin/env python3
"""xmppctl check and xmppctl cert import against real files, a real DNS server (dnsmasq on
loopback, serving good and bad SRV records) and a running xmppd: each finding, the exit
codes, and a certificate imported from a Let's Encrypt-style directory that a client then
sees after the reload."""
import json
import os
import socket
import ssl
import pwd
import stat
import struct
import subprocess
import threading

import certs
import harness
from harness import IntegrationTest, TestDns, basic_config

XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")
C2S_TLS = 5223


class FakeDns:
    """A DNS server on 127.0.0.54:53 (inside the test's network namespace) that answers what
    `answer((name, qtype))` returns: None for no reply at all, else a list of SRV records
    (priority, weight, port, first target label) below the queried name; an empty list is NXDOMAIN.
    Only what the tests need: one question per query, UDP (truncated when too long) and TCP, no EDNS in the reply."""
    ADDRESS = "127.0.0.54"

    def __init__(self, test, answer):
        self.answer = answer
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.ADDRESS, 53))
        self.listener = socket.create_server((self.ADDRESS, 53))
        self.stopping = False
        self.resolvconf = os.path.join(test.workdir, "fake-resolv.conf")
        with open(self.resolvconf, "w") as f:
            f.write(f"nameserver {self.ADDRESS}\n")
        self.threads = [threading.Thread(target=self.serve, daemon=True),
                        threading.Thread(target=self.serve_tcp, daemon=True)]
        for sock in (self.sock, self.listener):
            sock.settimeout(0.1)  # the threads look at self.stopping this often
        for thread in self.threads:
            thread.start()
        test.addCleanup(self.stop)

    def stop(self):
        """The threads end before the sockets close, so that the next test can bind the port."""
        self.stopping = True
        for thread in self.threads:
            thread.join()
        self.sock.close()
        self.listener.close()

    def options(self):
        return f'dns_resolvconf = "{self.resolvconf}"\ndns_hosts = ""\n'

    def serve(self):
        while not self.stopping:
            try:
                query, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            reply = self.reply(query)
            if reply is None:
                continue
            if len(reply) > 1232:  # too long for UDP: truncated, and the resolver asks over TCP
                reply = reply[:2] + struct.pack("!H", struct.unpack("!H", reply[2:4])[0] | 0x0200) + \
                    reply[4:6] + b"\0\0\0\0\0\0" + reply[12:self.question_end(reply)]
            self.sock.sendto(reply, peer)

    def serve_tcp(self):
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    length = struct.unpack("!H", self.read_exactly(conn, 2))[0]
                    reply = self.reply(self.read_exactly(conn, length))
                    if reply is not None:
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
                except (OSError, struct.error):
                    pass

    @staticmethod
    def read_exactly(conn, n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data

    @staticmethod
    def question_end(message):
        offset = 12
        while message[offset]:
            offset += 1 + message[offset]
        return offset + 5

    def reply(self, query):
        end = self.question_end(query)
        labels, offset = [], 12
        while query[offset]:
            labels.append(query[offset + 1:offset + 1 + query[offset]].decode("latin-1"))
            offset += 1 + query[offset]
        qtype = struct.unpack("!H", query[end - 4:end - 2])[0]
        self.queries.append((".".join(labels), qtype))
        records = self.answer((".".join(labels), qtype))
        if records is None:
            return None
        # Each target: its own label, then a pointer to the queried name (offset 12).
        answers = b"".join(struct.pack("!HHHIH", 0xC00C, 33, 1, 60, 6 + 1 + len(label) + 2) +
                           struct.pack("!HHH", priority, weight, port) +
                           bytes([len(label)]) + label + struct.pack("!H", 0xC00C)
                           for priority, weight, port, label in records)
        flags = 0x8180 if records else 0x8183
        header = struct.pack("!HHHHHH", struct.unpack("!H", query[:2])[0], flags, 1, len(records), 0, 0)
        return header + query[12:end] + answers


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

    def test_certs_clients_and_servers_want(self):
        """A certificate naming the host only as an XmppAddr serves servers, not clients; one
        without clientAuth is a warning for s2s (our outbound SASL EXTERNAL)."""
        self.issue_into(self.certdir, "xa.test", names=["other.test"], xmpp_addr=True)
        self.issue_into(self.certdir, "nocl.test", client_auth=False)
        config = self.write_config(["xa.test", "nocl.test"])
        code, findings, _ = self.xmppctl(config, "check", "certs")
        self.assertEqual(code, 1, findings)
        both = " c2s+s2s"
        self.assertEqual(self.find(findings, "xa.test" + both, "only for servers"), "error")
        self.assertEqual(self.find(findings, "nocl.test" + both, "lacks clientAuth"), "warning")
        self.assertEqual(self.find(findings, "nocl.test" + both, "names nocl.test"), "ok")
        self.assertFalse(any("clientAuth" in f["message"] for f in findings if f["subject"].startswith("xa.test")))

    def test_cert_import_refuses_bad_input(self):
        """A key that is not the certificate's is never installed; a certificate that cannot be
        renamed into place leaves the previous pair whole; a certificates directory that others
        may write to is refused."""
        config = self.write_config(["a.test", "b.test"])
        old_key, _ = self.issue_into(self.certdir, "a.test")
        live = os.path.join(self.workdir, "live")
        _, cert = self.ca.issue("a.test")
        other_key, _ = self.ca.issue("a.test")
        certs.write(f"{live}/a.test/fullchain.pem", certs.cert_pem(cert))
        certs.write(f"{live}/a.test/privkey.pem", certs.key_pem(other_key), 0o600)
        code, findings, _ = self.xmppctl(config, "cert", "import", live)
        self.assertEqual(code, 1, findings)
        self.assertEqual(self.find(findings, "a.test", "is not the key of"), "warning")
        with open(f"{self.certdir}/a.test.key", "rb") as f:
            self.assertEqual(f.read(), certs.key_pem(old_key))

        # b.test: its certificate's place is taken by a directory, so the second rename fails.
        key, cert = self.ca.issue("b.test")
        certs.write(f"{live}/b.test/fullchain.pem", certs.cert_pem(cert))
        certs.write(f"{live}/b.test/privkey.pem", certs.key_pem(key), 0o600)
        previous_key, _ = self.ca.issue("b.test")
        certs.write(f"{self.certdir}/b.test.key", certs.key_pem(previous_key), 0o600)
        os.mkdir(f"{self.certdir}/b.test.crt")
        code, findings, _ = self.xmppctl(config, "cert", "import", live)
        self.assertEqual(code, 1, findings)
        self.assertEqual(self.find(findings, "b.test", "the previous key is back in place"), "error")
        with open(f"{self.certdir}/b.test.key", "rb") as f:
            self.assertEqual(f.read(), certs.key_pem(previous_key))
        self.assertEqual(sorted(os.listdir(self.certdir)), ["a.test.crt", "a.test.key", "b.test.crt", "b.test.key"])

        # A symlink to a directory anyone may write to.
        open_dir = os.path.join(self.workdir, "open")
        os.mkdir(open_dir)
        os.chmod(open_dir, 0o777)
        linked = os.path.join(self.workdir, "linked-certs")
        os.symlink(open_dir, linked)
        config = self.write_config(["a.test"])
        with open(config) as f:
            text = f.read()
        with open(config, "w") as f:
            f.write(text.replace(self.certdir, linked))
        code, _, stderr = self.xmppctl(config, "cert", "import", live)
        self.assertEqual(code, 1)
        self.assertIn("writable by nobody else", stderr)
        self.assertEqual(os.listdir(open_dir), [])

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
        # An error in the file: exit 2, file:line on standard error, and the findings still
        # printed (JSON with -j): the error, the warning, and the sections not checked.
        with open(config, "a") as f:
            f.write("c2s_ports = \"many\"\n")
        code, findings, stderr = self.xmppctl(config, "check")
        self.assertEqual(code, 2)
        self.assertRegex(stderr, r"check\.conf:\d+: ")
        errors = [f for f in findings if f["level"] == "error" and "c2s_ports" in f["message"]]
        self.assertEqual(len(errors), 1, findings)
        self.assertRegex(errors[0]["subject"], r"check\.conf:\d+$")
        self.assertEqual(len([f for f in findings if "no_such_option" in f["message"]]), 1, findings)
        self.assertEqual(self.find(findings, config, "certs, ports and dns not checked"), "error")
        code, findings, _ = self.xmppctl(config, "check", "dns")
        self.assertEqual(code, 2)
        self.assertEqual(self.find(findings, config, "dns not checked"), "error")

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
        self.assertEqual(self.find(findings, "_xmpp-client._tcp.bad.test", "port 5999 (127.0.0.1): this machine, but the port is not in c2s_ports { 5222 }"), "error")
        self.assertEqual(self.find(findings, "_xmpps-client._tcp.bad.test", "no SRV record"), "warning")
        self.assertEqual(self.find(findings, "_xmpp-server._tcp.bad.test", "(127.0.0.2): not an address of this machine"), "warning")
        self.assertEqual(self.find(findings, "_xmpps-server._tcp.bad.test", "nowhere.bad.test has no A or AAAA record"), "error")

    def lookup_child_of(self, xmppctl):
        """The pid of xmppctl's DNS lookup child, once it runs as `xmppctl -R dns-check`."""
        def child():
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmdline = f.read()
                except OSError:
                    continue
                if int(fields[1]) == xmppctl.pid and cmdline == b"xmppctl\0-R\0dns-check\0":
                    return int(pid)
            return None
        return harness.wait_for(child, 10, "the DNS lookup child")

    def test_dns_child_is_confined(self):
        """While the child waits for a DNS server that never answers: it is xmppd_user, with no
        new privileges, a seccomp filter, no controlling terminal, chrooted to empty_path, holds
        only /dev/null and its socket to xmppctl, and has no secret of the configuration in its
        memory. Killed, it is reported as failed."""
        silent = FakeDns(self, lambda query: None)
        secret = "Xq7-secret-of-the-configuration-" + os.urandom(8).hex()
        config = self.write_config(["good.test"], silent.options() + f'dialback_secret = "{secret}"\n')
        xmppctl = subprocess.Popen([XMPPCTL, "-j", "-f", config, "check", "dns"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        self.addCleanup(xmppctl.kill)
        pid = self.lookup_child_of(xmppctl)
        harness.wait_for(lambda: silent.queries, 10, "a query from the child")
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f.read().splitlines())
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        uids = status["Uid"].split()
        self.assertEqual(uids, [str(pwd.getpwnam("_xmppd").pw_uid)] * 4, "xmppd_user, for good")
        self.assertEqual(status["NoNewPrivs"].strip(), "1")
        self.assertEqual(status["Seccomp"].strip(), "2")
        self.assertEqual(int(fields[3]), pid, "a session of its own")  # session id
        self.assertEqual(int(fields[4]), 0, "no controlling terminal")  # tty_nr
        self.assertEqual(os.readlink(f"/proc/{pid}/root"), os.path.join(self.workdir, "empty"))
        fds = {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        self.assertEqual({fd: target for fd, target in fds.items() if fd <= 2},
                         {0: "/dev/null", 1: "/dev/null", 2: "/dev/null"})
        self.assertTrue(fds[3].startswith("socket:"), fds)
        # Beyond 3: only what libunbound and libevent made themselves (sockets, epoll, pipes, eventfd).
        for fd, target in fds.items():
            if fd > 3:
                self.assertRegex(target, r"^(socket:|anon_inode:|pipe:)", fds)
        # Executed afresh, not forked: the configuration's secrets are in xmppctl's memory, not
        # in the child's; nor is anything of root's environment.
        self.assertIn(secret.encode(), harness.read_memory(xmppctl.pid))
        self.assertNotIn(secret.encode(), harness.read_memory(pid))
        with open(f"/proc/{pid}/environ", "rb") as f:
            environment = [v for v in f.read().split(b"\0") if v]
        self.assertEqual([v for v in environment if v.split(b"_")[0] not in (b"ASAN", b"UBSAN", b"LSAN")], [])
        os.kill(pid, 9)
        out, _ = xmppctl.communicate(timeout=30)
        self.assertEqual(xmppctl.returncode, 1)
        self.assertEqual(self.find(json.loads(out), "resolver", "the DNS lookup child failed"), "error")

    def test_dns_hostile_answer(self):
        """An SRV answer with a thousand records whose targets hold terminal escapes: the report
        stays short and printable, and says what was not checked."""
        def answer(query):
            name, qtype = query
            if qtype == 33 and name.startswith("_xmpp-client._tcp.evil.test"):
                return [(0, 5, 5222, b"\x1b]0;owned\x07\x1b[2J" + str(i).encode()) for i in range(1000)]
            return []
        hostile = FakeDns(self, answer)
        config = self.write_config(["evil.test"], hostile.options())
        r = subprocess.run([XMPPCTL, "-f", config, "check", "dns"], capture_output=True, timeout=60)
        for stream in (r.stdout, r.stderr):
            self.assertFalse(any(b < 0x20 and b != 0x0a or b == 0x7f for b in stream), stream[:2000])
        self.assertLess(len(r.stdout), 64 * 1024)
        code, findings, _ = self.xmppctl(config, "check", "dns")
        self.assertEqual(code, 1, findings)
        self.assertLessEqual(len(findings), 201)
        subject = "_xmpp-client._tcp.evil.test"
        self.assertTrue(any(f["subject"] == subject and "owned" in f["message"] for f in findings), findings)
        self.assertEqual(self.find(findings, subject, "more SRV records not checked"), "warning")
        self.assertLessEqual(len(hostile.queries), 200)

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
        # A program that calls itself xmppd (PR_SET_NAME) is still another program.
        impostor = subprocess.Popen(["/usr/bin/python3", "-c",
                                     "import socket, sys, time\n"
                                     "open('/proc/self/comm', 'w').write('xmppd')\n"
                                     "s = socket.create_server(('127.0.0.1', 5269))\n"
                                     "print('ready', flush=True)\n"
                                     "time.sleep(60)\n"], stdout=subprocess.PIPE, text=True)
        self.addCleanup(impostor.kill)
        self.assertEqual(impostor.stdout.readline().strip(), "ready")
        code, findings, _ = self.xmppctl(config, "check", "ports")
        self.assertEqual(code, 1, findings)
        self.assertEqual(self.find(findings, "127.0.0.1 port 5269", f"s2s: in use by xmppd (pid {impostor.pid})"),
                         "error")
        impostor.kill()
        impostor.wait()

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
