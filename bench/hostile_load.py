#!/usr/bin/env python3
"""A legitimate client's login and message while one address attacks the server.

Starts xmppd (from build/) in a private network namespace with one host and two accounts.
From 127.0.0.2 it then opens, and keeps open, N connections of each hostile kind:

- idle:      TCP connected, nothing sent;
- slowloris: a stream header sent one byte every few seconds;
- sasl:      after the header, `<auth mechanism='PLAIN'/>` with no response, never finished
             (on a host that allows plaintext, so the attacker pays no TLS);
- tls loop:  STARTTLS handshakes one after another, as fast as two threads can go.

While all of that is in place, a client from 127.0.0.1 connects, negotiates STARTTLS, logs
in with SCRAM-SHA-1 (through the auth helper, as any client), binds, and sends a message to
a second client, which is already logged in; the time until that message arrives is the
figure. It reports the resident memory and the CPU time of each xmppd process before the
attack and at its peak, and what the attacker got (connections accepted, refused, closed).

    sudo python3 bench/hostile_load.py [N per kind, default 1000] [seconds of attack, default 20]
"""
import base64
import hashlib
import hmac
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import certs  # noqa: E402
import harness  # noqa: E402
import streams  # noqa: E402

HOST = "bench.test"
LAX = "lax.bench.test"  # plaintext allowed: SASL without paying for TLS
ATTACKER = "127.0.0.2"
TICKS = os.sysconf("SC_CLK_TCK")


def process_figures(pids):
    """role -> (RSS KiB, CPU seconds)."""
    out = {}
    for role, pid in pids.items():
        rss = int(harness.proc_status(pid)["VmRSS"].split()[0])
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out[role] = (rss, (int(fields[11]) + int(fields[12])) / TICKS)
    return out


def attacker_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((ATTACKER, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", 5222))
    return s


class Attack:
    def __init__(self, count, ca_file):
        self.count, self.ca_file = count, ca_file
        self.held = {"idle": [], "slowloris": [], "sasl": []}
        self.refused = {k: 0 for k in (*self.held, "tls loop")}
        self.handshakes = 0
        self.stop = threading.Event()
        self.threads = []

    def open(self, kind, first_bytes=b""):
        try:
            s = attacker_socket()
            if first_bytes:
                s.sendall(first_bytes)
            self.held[kind].append(s)
        except OSError:
            self.refused[kind] += 1

    def start(self):
        sasl = streams.header(LAX) + b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'/>"
        for _ in range(self.count):
            self.open("idle")
            self.open("slowloris", b"<")
            self.open("sasl", sasl)
        for _ in range(2):
            self.threads.append(threading.Thread(target=self.tls_loop, daemon=True))
        self.threads.append(threading.Thread(target=self.slowloris, daemon=True))
        for t in self.threads:
            t.start()

    def slowloris(self):
        rest = streams.header(HOST)[1:]
        at = 0
        while not self.stop.wait(3) and at < len(rest):
            for s in self.held["slowloris"]:
                try:
                    s.send(rest[at:at + 1])
                except OSError:
                    pass
            at += 1

    def tls_loop(self):
        while not self.stop.is_set():
            try:
                with attacker_socket() as s:
                    tls, _, _ = streams.starttls(s, HOST, self.ca_file)
                    tls.close()
                    self.handshakes += 1
            except (OSError, AssertionError):
                self.refused["tls loop"] += 1
                time.sleep(0.01)

    def still_open(self):
        """Per kind: how many of the held connections the server has not closed."""
        out = {}
        for kind, socks in self.held.items():
            alive = 0
            for s in socks:
                s.setblocking(False)
                try:
                    while s.recv(65536):  # what the server said before closing, if it did
                        pass
                except BlockingIOError:
                    alive += 1
                except OSError:
                    pass
            out[kind] = alive
        return out

    def end(self):
        self.stop.set()
        for t in self.threads:
            t.join(10)
        for socks in self.held.values():
            for s in socks:
                s.close()


def scram_login(ca_file, user, password):
    sock = streams.connect(5222, timeout=60)
    tls, _, _ = streams.starttls(sock, HOST, ca_file)
    nonce = base64.b64encode(secrets.token_bytes(18)).decode()
    first_bare = f"n={user},r={nonce}"
    tls.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>" +
                base64.b64encode(f"n,,{first_bare}".encode()) + b"</auth>")
    challenge = streams.read_until(tls, b"</challenge>")
    if b"<challenge" not in challenge:
        raise RuntimeError(f"login refused: {challenge[-200:]!r}")
    server_first = base64.b64decode(challenge.split(b">", 1)[1].split(b"<", 1)[0]).decode()
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha1", password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha1").digest()
    final_bare = f"c=biws,r={fields['r']}"
    auth_message = f"{first_bare},{server_first},{final_bare}".encode()
    signature = hmac.new(hashlib.sha1(client_key).digest(), auth_message, "sha1").digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
    tls.sendall(b"<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" +
                base64.b64encode(f"{final_bare},p={proof}".encode()) + b"</response>")
    answer = streams.read_until(tls, b"</success>")
    if b"<success" not in answer:
        raise RuntimeError(f"login refused: {answer[-200:]!r}")
    streams.open_stream(tls, HOST)
    tls.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq><presence/>")
    streams.read_until(tls, b"</iq>")
    return tls


def victim_round(ca_file, receiver):
    """Seconds from connecting to the message arriving at `receiver`, or why it failed."""
    started = time.monotonic()
    try:
        sender = scram_login(ca_file, "alice", "alice password")
    except (OSError, RuntimeError, AssertionError) as e:
        return f"failed after {time.monotonic() - started:.1f} s: {e}"
    sender.sendall(f"<message to='bob@{HOST}' type='chat'><body>hello</body></message>".encode())
    receiver.settimeout(60)
    streams.read_until(receiver, b"hello</body>", limit=1 << 20)
    elapsed = time.monotonic() - started
    sender.close()
    return elapsed


def report(title, figures):
    print(title)
    for role, (rss, cpu) in sorted(figures.items()):
        print(f"  {role:7} {rss / 1024:8.1f} MiB resident {cpu:8.2f} s CPU")


def main():
    harness.enter_namespace()
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    resource.setrlimit(resource.RLIMIT_NOFILE, (4 * count + 1000, 4 * count + 1000))
    work = tempfile.mkdtemp(prefix="xmppd-bench-")
    os.chmod(work, 0o755)
    ca, ca_file = certs.authority_in(work)
    certs.install(ca, f"{work}/certs", HOST)
    certs.install(ca, f"{work}/certs", LAX)
    config = harness.basic_config(work, f'certificates = "{work}/certs"\n').replace(
        'VirtualHost "localhost"', f'VirtualHost "{HOST}"\nVirtualHost "{LAX}"\nc2s_require_encryption = false\n')
    server = harness.Server(work, config).start()
    try:
        run(server, work, ca_file, count, seconds)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def run(server, work, ca_file, count, seconds):
    kids = server.wait_sandboxed_children()
    server.wait_log(r"router\[\d+\]: TLS certificates for 2 hosts")
    for user in ("alice", "bob"):
        subprocess.run([os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl"), "-f", server.config, "adduser",
                        f"{user}@{HOST}"], input=f"{user} password\n", text=True, check=True)
    pids = {"parent": server.proc.pid, **kids}
    receiver = scram_login(ca_file, "bob", "bob password")
    quiet = victim_round(ca_file, receiver)
    before = process_figures(pids)

    attack = Attack(count, ca_file)
    attack.start()
    time.sleep(min(5, seconds / 2))
    under_attack = victim_round(ca_file, receiver)
    time.sleep(max(0, seconds - 5))
    peak = process_figures(pids)
    alive = attack.still_open()
    attack.end()

    print(f"{count} connections of each kind from {ATTACKER}, {seconds:.0f} s of attack")
    def shown(outcome):
        return f"{outcome * 1000:.0f} ms" if isinstance(outcome, float) else outcome
    print(f"victim login + message: {shown(quiet)} quiet, {shown(under_attack)} under attack")
    print(f"attacker: refused at connect {attack.refused}, still open at the end {alive}, "
          f"TLS handshakes completed {attack.handshakes}")
    report("before the attack:", before)
    report("at the end of the attack:", peak)
    receiver.close()


if __name__ == "__main__":
    main()
