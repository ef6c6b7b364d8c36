"""DNSSEC-signed zones for the tests: keys made by ldns-keygen, zones signed by ldns-signzone
and served on a loopback address by a real authoritative server (nsd), and copies of a signed
zone with records changed after signing (what an attacker without the keys can do)."""
import os
import re
import shutil
import subprocess
import time


def tool(name):
    path = shutil.which(name)
    if not path:
        raise AssertionError(f"{name} is needed (./dev installs it)")
    return path


def keygen(keydir, zone, *flags):
    """An ECDSA P-256 key for `zone` in keydir (a key-signing key with "-k"); its base name.
    ldns-keygen writes NAME.key, NAME.private and, for a KSK, NAME.ds: the DS record a parent
    zone would publish, which is what a trust anchor file holds."""
    r = subprocess.run([tool("ldns-keygen"), "-a", "ECDSAP256SHA256", *flags, zone], cwd=keydir, check=True,
                       capture_output=True, text=True)
    return r.stdout.strip()


def sign(keydir, zone_file, out, *keys, validity=()):
    """ldns-signzone: NSEC, the keys' DNSKEY records added; validity: its -i/-e options."""
    r = subprocess.run([tool("ldns-signzone"), *validity, "-f", out, zone_file, *keys], cwd=keydir,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"ldns-signzone failed: {r.stderr}")


def alter(signed, out, changes):
    """The signed zone with each (owner, type, genuine rdata, altered rdata) applied, its
    RRSIGs left as they were."""
    with open(signed) as f:
        text = f.read()
    for owner, rrtype, genuine, altered in changes:
        pattern = re.compile(rf"^({re.escape(owner)}\s+\d+\s+IN\s+{rrtype}\s+){re.escape(genuine)}$", re.M)
        text, count = pattern.subn(lambda m: m.group(1) + altered, text)
        if count != 1:
            raise AssertionError(f"{owner} {rrtype} {genuine} not found once in {signed}")
    with open(out, "w") as f:
        f.write(text)


def serve(test, workdir, address, zones):
    """nsd, authoritative for `zones` ({name: zone file}) on address port 53, until the test
    ends."""
    state = os.path.join(workdir, f"nsd-{address}")
    os.mkdir(state)
    config = os.path.join(state, "nsd.conf")
    log = os.path.join(state, "nsd.log")
    with open(config, "w") as f:
        f.write(f"""server:
    ip-address: {address}
    port: 53
    do-ip6: no
    username: ""
    chroot: ""
    server-count: 1
    database: ""
    zonesdir: "{state}"
    zonelistfile: "{state}/zone.list"
    xfrdfile: "{state}/xfrd.state"
    xfrdir: "{state}"
    pidfile: ""
    logfile: "{log}"
    verbosity: 1
remote-control:
    control-enable: no
""")
        for name, zonefile in zones.items():
            f.write(f'zone:\n    name: "{name}"\n    zonefile: "{zonefile}"\n')
    proc = subprocess.Popen([tool("nsd"), "-d", "-c", config], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    test.addCleanup(proc.wait)
    test.addCleanup(proc.terminate)

    def log_text():
        try:
            with open(log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # Serving: every zone loaded (verbosity 1 logs it) and the server process started.
    wanted = [f"zone {name} read with success" for name in zones] + ["nsd started"]
    deadline = time.monotonic() + 10
    while not all(line in log_text() for line in wanted):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"nsd did not serve {', '.join(zones)}:\n{log_text()}")
        time.sleep(0.02)
