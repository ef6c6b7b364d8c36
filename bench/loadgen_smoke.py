#!/usr/bin/env python3
"""Runs bench/loadgen against real xmppd instances in a private network namespace, to check
that it works and to get first figures. Not the xmppd/Prosody comparison, only its smoke test.

    sudo python3 bench/loadgen_smoke.py one  ACCOUNTS [loadgen options...]   one xmppd, chat.test
    sudo python3 bench/loadgen_smoke.py s2s  ACCOUNTS [loadgen options...]   a.test -> b.test over s2s
    sudo python3 bench/loadgen_smoke.py idle ACCOUNTS [loadgen options...]   one xmppd, idle clients
    sudo python3 bench/loadgen_smoke.py prosody ACCOUNTS [options...]        as "one", with Prosody 0.12

"one" creates 2 x ACCOUNTS accounts and passes --receiver-offset ACCOUNTS, so that senders and
receivers are different accounts ("prosody" too, made with prosodyctl: slow); "s2s" creates ACCOUNTS on each side. The loadgen's JSON goes
to stdout. XMPPD_BUILD_DIR selects the build (default build/); SMOKE_RUNS=K runs loadgen K times
against the same servers (with --scram-cache FILE, the runs after the first skip PBKDF2);
SMOKE_KEEP=1 keeps the servers' directories and logs.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import certs  # noqa: E402
import harness  # noqa: E402
import prosody  # noqa: E402

ADDRESS = {"chat.test": "127.0.0.1", "a.test": "127.0.0.2", "b.test": "127.0.0.3"}


def start_xmppd(work, ca, ca_file, domain):
    path = tempfile.mkdtemp(prefix=f"{domain}-", dir=work)
    os.chmod(path, 0o755)
    key, cert = ca.issue(domain, "ec")
    certs.write(f"{path}/certs/{domain}.crt", certs.cert_pem(cert))
    certs.write(f"{path}/certs/{domain}.key", certs.key_pem(key), 0o600)
    config = f"""-- written by bench/loadgen_smoke.py
data_path = "{path}/data"
empty_path = "{path}/empty"
interfaces = {{ "{ADDRESS[domain]}" }}
c2s_ports = {{ 5222 }}
s2s_ports = {{ 5269 }}
certificates = "{path}/certs"
ssl = {{ cafile = "{ca_file}" }}
dns_forwarders = {{ "127.0.0.53" }}
dns_transparent_zones = {{ "test" }}
VirtualHost "{domain}"
"""
    server = harness.Server(path, config)
    server.start()
    server.wait_sandboxed_children()
    server.wait_log(r"router\[\d+\]: TLS certificates for 1 hosts")
    return server


def add_accounts(server, domain, first, count):
    started = time.monotonic()
    xmppctl = os.path.join(harness.BUILD_DIR, "daemon", "xmppctl")
    for n in range(first, first + count):
        subprocess.run([xmppctl, "-f", server.config, "adduser", f"user{n}@{domain}"], input=f"password{n}\n",
                       text=True, check=True, stdout=subprocess.DEVNULL)
    print(f"smoke: {count} accounts on {domain} in {time.monotonic() - started:.1f} s", file=sys.stderr)


def main():
    harness.enter_namespace()
    if len(sys.argv) < 3 or sys.argv[1] not in ("one", "s2s", "idle", "prosody"):
        sys.exit(__doc__)
    scenario, n, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    work = tempfile.mkdtemp(prefix="loadgen-smoke-")
    os.chmod(work, 0o755)
    dns = harness.TestDns(work, ADDRESS).start()
    ca = certs.Authority()
    ca_file = os.path.join(work, "ca.pem")
    certs.write(ca_file, ca.pem())
    servers = []
    loadgen = [os.path.join(harness.BUILD_DIR, "bench", "loadgen"), "--cafile", ca_file, "--json",
               "--accounts", str(n)]
    try:
        if scenario == "prosody":
            path = prosody.fresh_workdir(work, "prosody")
            key, cert = ca.issue("chat.test", "ec")
            certs.write(f"{path}/chat.test.crt", certs.cert_pem(cert))
            certs.write(f"{path}/chat.test.key", certs.key_pem(key), 0o600)
            server = prosody.Prosody(path, "chat.test", "127.0.0.1", f"{path}/chat.test.crt",
                                     f"{path}/chat.test.key", ca_file, options={"log": {"warn": f"{path}/prosody.log"}})
            started = time.monotonic()
            for i in range(1, 2 * n + 1):
                server.register(f"user{i}", f"password{i}")
            print(f"smoke: {2 * n} Prosody accounts in {time.monotonic() - started:.1f} s", file=sys.stderr)
            servers.append(server.start())
            loadgen += ["--sender", "127.0.0.1:5222", "--sender-domain", "chat.test", "--mode", "messages",
                        "--receiver-offset", str(n)]
        elif scenario == "s2s":
            a, b = start_xmppd(work, ca, ca_file, "a.test"), start_xmppd(work, ca, ca_file, "b.test")
            servers += [a, b]
            add_accounts(a, "a.test", 1, n)
            add_accounts(b, "b.test", 1, n)
            loadgen += ["--mode", "messages", "--sender", "127.0.0.2:5222", "--sender-domain", "a.test",
                        "--receiver", "127.0.0.3:5222", "--receiver-domain", "b.test"]
        else:
            server = start_xmppd(work, ca, ca_file, "chat.test")
            servers.append(server)
            add_accounts(server, "chat.test", 1, 2 * n if scenario == "one" else n)
            loadgen += ["--sender", "127.0.0.1:5222", "--sender-domain", "chat.test"]
            loadgen += ["--mode", "messages", "--receiver-offset", str(n)] if scenario == "one" else ["--mode", "idle"]
        loadgen += extra
        print("smoke: " + " ".join(loadgen), file=sys.stderr)
        for _ in range(int(os.environ.get("SMOKE_RUNS", "1"))):
            status = subprocess.run(loadgen).returncode
        for server in servers:
            log = server.log()
            for word in ("error", "died", "killed", "refused"):
                lines = [line for line in log.splitlines() if word in line.lower()]
                if lines:
                    print(f"smoke: {len(lines)} log lines of {server.config} mention '{word}', e.g. {lines[0]}",
                          file=sys.stderr)
        sys.exit(status)
    finally:
        for server in servers:
            server.stop()
        dns.stop()
        if os.environ.get("SMOKE_KEEP"):
            print(f"smoke: logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
