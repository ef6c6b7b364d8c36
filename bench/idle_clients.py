#!/usr/bin/env python3
"""Resident memory per idle, authenticated TLS client connection, all xmppd processes summed.

Starts xmppd (from build/) in a private network namespace with one host, creates one account,
opens N connections that each negotiate STARTTLS, log in with PLAIN, bind a resource and send
initial presence, then compare the summed RSS of the five processes before and after.

    sudo python3 bench/idle_clients.py 1000
"""
import base64
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import certs  # noqa: E402
import harness  # noqa: E402
import streams  # noqa: E402

HOST = "bench.test"


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def login(ca_file):
    sock = streams.connect(5222)
    tls, _, _ = streams.starttls(sock, HOST, ca_file)
    token = base64.b64encode(b"\0bench\0bench password").decode()
    tls.sendall(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>".encode())
    streams.read_until(tls, b"success")
    streams.open_stream(tls, HOST)
    tls.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq><presence/>")
    streams.read_until(tls, b"</iq>")
    return tls


def main():
    harness.enter_namespace()
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (count + 1000, count + 1000))
    work = tempfile.mkdtemp(prefix="xmppd-bench-")
    os.chmod(work, 0o755)
    ca = certs.Authority()
    ca_file = os.path.join(work, "ca.pem")
    certs.write(ca_file, ca.pem())
    key, cert = ca.issue(HOST, "ec")
    certs.write(f"{work}/certs/{HOST}.crt", certs.cert_pem(cert))
    certs.write(f"{work}/certs/{HOST}.key", certs.key_pem(key), 0o600)
    # Every connection comes from one address: the per-address limits and the cap are lifted.
    config = harness.basic_config(work, f'certificates = "{work}/certs"\n'
                                  "max_connections_per_address = 0\nmax_unauthenticated_per_address = 0\n"
                                  "max_connections = 1000000\n").replace(
        'VirtualHost "localhost"', f'VirtualHost "{HOST}"')
    server = harness.Server(work, config).start()
    kids = server.wait_sandboxed_children()
    server.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts")
    subprocess.run([os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl"), "-f", server.config, "adduser",
                    f"bench@{HOST}"], input="bench password\n", text=True, check=True)
    pids = [server.proc.pid, *kids.values()]
    connections = [login(ca_file) for _ in range(10)]  # warm-up: allocator pools, OpenSSL tables
    time.sleep(1)
    before = rss_kib(pids)
    connections += [login(ca_file) for _ in range(count)]
    # Streams quiet for 20 s give back their parser and buffers (stream/sessions.cc, swept
    # every 10 s): measure an idle server, not one just done with logins.
    time.sleep(35)
    after = rss_kib(pids)
    print(f"{count} idle TLS clients: {after - before} KiB more resident memory, "
          f"{(after - before) * 1024 / count / 1024:.1f} KiB per connection (all xmppd processes)")
    for c in connections:
        c.close()
    server.stop()


if __name__ == "__main__":
    main()
