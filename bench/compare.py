#!/usr/bin/env python3
"""xmppd and Prosody 0.12 side by side: the same load on the same machine, runs alternated.

What it does. In a private network and mount namespace (as the integration tests do: the
script re-executes itself under `unshare --net --mount`), with a dnsmasq answering for the
test domains, it starts four servers, each on its own loopback address:

    xmppd    a.test  127.0.0.2     xmppd    b.test  127.0.0.3     (federating with each other)
    Prosody  pa.test 127.0.0.4     Prosody  pb.test 127.0.0.5     (federating with each other)

and drives them with bench/loadgen (one process, TLS clients with SCRAM-SHA-1 logins):

 1. throughput: messages/s at saturation (`loadgen --rate 0`: each of PAIRS pairs keeps WINDOW
    messages in flight) from userI@A to userI@B across s2s, for xmppd and for Prosody, plus
    xmppd within one domain (a.test -> a.test, no s2s) as a reference line; ROUNDS rounds, the
    order of the servers reversed every round; medians reported.
 2. latency at a fixed moderate rate: half of xmppd's median s2s saturation rate of this run,
    the same rate for both servers (p50/p99/max of the messages sent in the measured period).
    If Prosody cannot sustain that rate, it says so and also runs both servers at half of
    Prosody's own saturation rate.
 3. CPU seconds per 100,000 messages: utime+stime (/proc/PID/stat) of every server process
    (xmppd: the parent and its four children, of both instances; Prosody: both processes)
    from the moment loadgen's logins are done to the moment it prints its results, divided
    by the messages delivered or bounced in that time, for every run (the cost of a message
    is lower at saturation, where each wake-up and system call carries many).
 4. memory per idle connection: the serving instance (a.test, pa.test) is restarted, the
    summed resident memory (VmRSS) of the server processes (both instances) measured with no
    clients, then with N idle authenticated TLS clients (`loadgen --mode idle`, one loadgen
    per step, the earlier ones kept connected) 32 s after the last has logged in (xmppd's
    streams give back their parser after 20 s of quiet, swept every 10 s: the figure is that
    of an idle server, not of one just done with logins): (RSS(N) - RSS(0)) / N, at
    N = 1,000 and 10,000. The servers and loadgen get the hard RLIMIT_NOFILE as soft limit.

Group chat (--muc): instead of the above, xmppd a.test with Component "conference.a.test"
"muc" and Prosody pa.test with Component "conference.pa.test" "muc" (mod_muc), the same load on
each (`loadgen --mode muc`: ROOMS rooms of OCCUPANTS clients each, every SENDER_EVERY-th
occupant sending groupchat messages; each first joiner creates its room and unlocks it with
an instant-room form): --only's phases then mean
 1. throughput: deliveries/s at saturation (each sender keeps --muc-window messages in flight,
    counted back when its own copy comes back from the room), ROUNDS rounds alternated;
 2. latency: both at one fixed rate of messages sent, half of the lower of the two median
    saturation rates of messages sent (or --rate); p50/p99/max over every delivery;
 3. CPU seconds per 100,000 delivered groupchat messages, from the moment all have joined to
    loadgen's results, for every run;
 4. idle: memory per occupant: the serving instance restarted, --muc-idle-occupants clients
    log in and stay idle (RSS sampled --idle-settle s later), then join rooms of OCCUPANTS
    (sampled again --idle-settle s after the last join): (RSS joined - RSS logged in) / N.
With --archive, both services archive their rooms (muc_mam), and nothing else.

Between runs it waits (at most --quiet-wait s) until the machine is nearly idle, so that a server still
working off the previous run's backlog, or another user's compiler, does not weigh on the
next run; messages a run left undelivered (stored offline) are taken by the receivers before
the next run. Every run's losses (sent - received, bounces included), stale messages, errors
and disconnects are reported, and so are server processes that died or restarted and what
else used the CPU during each run. The table goes to stdout; the progress to stderr; each
loadgen's log to the work directory (--keep keeps it); --json FILE keeps every raw result.

Accounts. xmppd's are made with `xmppctl adduser` (the real path: the auth helper derives
SCRAM-SHA-1 and -SHA-256 credentials with 10,000 PBKDF2 iterations), several at a time, once:
the credential store (DATA_PATH/auth/credentials.sqlite) is then kept in the cache directory
and copied into the next runs' fresh data directories. Prosody's are written as its
`prosodyctl register` writes them (data/HOST/accounts/USER.dat: salt, iteration_count 10000,
stored_key, server_key of SCRAM-SHA-1), computed here with hashlib, also cached; prosodyctl
takes 0.15 s per account. loadgen's --scram-cache (salted passwords) lives there too, so that
the client's PBKDF2 is paid once per account. First run: about 2 minutes more.

Prerequisites (checked at start; missing ones are named): root (namespaces, chroots of the
children); Debian 12 with what `./dev test` installs (it installs the packages, creates the
users _xmppd, _xmppd_tls, _xmppd_auth and builds build/): unshare, ip, mount, setpriv,
dnsmasq, prosody 0.12 (the Debian package) and its Lua interpreter, python3 with
python3-cryptography; and the built binaries (xmppd, its four children, xmppctl and
bench/loadgen). --profile needs perf as well: `apt-get install linux-perf`.

Usage (as root, from anywhere; XMPPD_BUILD_DIR or --build selects the build, default build/):

    python3 bench/compare.py                      the whole comparison (about 13 minutes)
    python3 bench/compare.py --only throughput,latency --rounds 5
    python3 bench/compare.py --only idle --idle-counts 1000,10000
    python3 bench/compare.py --profile /tmp/prof  one xmppd s2s saturation run under perf
                                                  (no Prosody); reports in /tmp/prof
    python3 bench/compare.py --muc                group chat (about 8 minutes)
    python3 bench/compare.py --muc --archive --only throughput,latency

Options: see --help. Exit status 0 when every run completed, whatever it measured (losses are
in the table), 1 on a missing prerequisite, a failed set-up or a run without results.
"""
import argparse
import concurrent.futures
import hashlib
import hmac
import json
import multiprocessing
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INTEGRATION = os.path.join(ROOT, "tests", "integration")
ADDRESS = {"a.test": "127.0.0.2", "b.test": "127.0.0.3", "pa.test": "127.0.0.4", "pb.test": "127.0.0.5"}
XMPPD_USERS = ("_xmppd", "_xmppd_tls", "_xmppd_auth")
ITERATIONS = 10000  # what xmppd's auth helper and Prosody's internal_hashed use by default
CLK_TCK = os.sysconf("SC_CLK_TCK")


STARTED = time.monotonic()


def log(text):
    elapsed = time.monotonic() - STARTED
    print(f"compare [{int(elapsed // 60):2d}:{int(elapsed % 60):02d}]: {text}", file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description="xmppd against Prosody 0.12, side by side (see the docstring).",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--build", help="build directory (default: $XMPPD_BUILD_DIR or build/)")
    p.add_argument("--only", default="throughput,latency,idle",
                   help="comma-separated phases: throughput, latency, idle (latency needs throughput)")
    p.add_argument("--rounds", type=int, default=3, help="alternated rounds of the message runs")
    p.add_argument("--idle-rounds", type=int, default=1,
                   help="alternated rounds of the idle measurements (each takes about 4 minutes; they differ by "
                        "less than 3 %% from round to round)")
    p.add_argument("--pairs", type=int, default=100, help="sender/receiver pairs of the message runs")
    p.add_argument("--window", type=int, default=16, help="saturation: messages in flight per pair")
    p.add_argument("--body-bytes", type=int, default=100, help="message body size")
    p.add_argument("--duration", type=float, default=10, help="measured seconds of each message run")
    p.add_argument("--warmup", type=float, default=2, help="warm-up seconds of each message run")
    p.add_argument("--rate", type=float, default=0,
                   help="latency runs at this rate instead of half of xmppd's s2s saturation rate")
    p.add_argument("--idle-counts", default="1000,10000", help="numbers of idle clients")
    p.add_argument("--idle-settle", type=float, default=32,
                   help="seconds between the last login and the RSS sample (xmppd's streams give back their parser "
                        "after 20 s of quiet, swept every 10 s)")
    p.add_argument("--connect-rate", type=float, default=250, help="loadgen --connect-rate of the idle runs")
    p.add_argument("--max-pending", type=int, default=250,
                   help="loadgen --max-pending of the idle runs (Prosody's listen backlog is 128: at 500/s with "
                        "1000 pending, some of its connections are reset)")
    p.add_argument("--no-prosody", action="store_true", help="xmppd only")
    p.add_argument("--no-xmppd", action="store_true", help="--muc: Prosody only (to try the measurement)")
    p.add_argument("--archive", action="store_true",
                   help="the message archive on: xmppd's mam module and Prosody's mod_mam (XEP-0313); with --muc, "
                        "the rooms' archive (muc_mam) on both services instead")
    p.add_argument("--storage", choices=("default", "sqlite", "postgres"), default="default",
                   help="default: xmppd's SQLite file and Prosody's internal (files) storage; sqlite: "
                        "Prosody's sql storage on SQLite3 too; postgres: both on one PostgreSQL 15 server of "
                        "the bench's own (a database each, fsync on)")
    p.add_argument("--quickack", action="store_true",
                   help="diagnosis: no delayed ACKs on the namespace's loopback (ip route ... quickack 1), to see "
                        "how much of the latency is Nagle's algorithm waiting for a delayed ACK")
    p.add_argument("--cache-dir", default="/var/cache/xmppd-bench",
                   help="accounts and loadgen's SCRAM cache, kept between runs")
    p.add_argument("--fresh-accounts", action="store_true", help="make the accounts anew (and replace the cache)")
    p.add_argument("--json", metavar="FILE", help="write every raw result to FILE")
    p.add_argument("--keep", action="store_true", help="keep the work directory (configurations, logs)")
    p.add_argument("--muc", action="store_true",
                   help="group chat instead: xmppd's and Prosody's MUC services (see the docstring)")
    p.add_argument("--rooms", type=int, default=10, help="--muc: rooms of the message runs")
    p.add_argument("--occupants", type=int, default=20, help="--muc: occupants per room")
    p.add_argument("--sender-every", type=int, default=4, help="--muc: one occupant in this many sends")
    p.add_argument("--muc-window", type=int, default=4,
                   help="--muc saturation: messages in flight per sender (each is delivered to every occupant)")
    p.add_argument("--muc-idle-occupants", type=int, default=1000,
                   help="--muc: idle occupants of the memory measurement (in rooms of --occupants)")
    p.add_argument("--unlocked-rooms", action="store_true",
                   help="--muc: muc_room_locking = false in both services (new rooms open at once) instead of "
                        "the first joiner's instant-room form")
    p.add_argument("--quiet-wait", type=float, default=60,
                   help="seconds to wait at most for a nearly idle machine before each run")
    p.add_argument("--profile", metavar="DIR",
                   help="instead of the comparison: one xmppd s2s saturation run under perf record, reports in DIR")
    p.add_argument("--profile-frequency", type=int, default=499, help="perf sampling frequency (Hz)")
    args = p.parse_args()
    args.phases = {phase.strip() for phase in args.only.split(",") if phase.strip()}
    unknown = args.phases - {"throughput", "latency", "idle"}
    if unknown:
        p.error(f"--only: unknown phase(s) {', '.join(sorted(unknown))}")
    if "latency" in args.phases and "throughput" not in args.phases and not args.rate:
        p.error("--only latency needs throughput (for the rate) or --rate")
    args.idle_counts = [int(n) for n in args.idle_counts.split(",") if n.strip()]
    if args.muc and args.profile:
        p.error("--muc and --profile do not go together")
    if args.no_xmppd and (not args.muc or args.no_prosody):
        p.error("--no-xmppd is for --muc, with Prosody")
    if args.muc and args.storage != "default":
        p.error("--muc measures the default storage only")
    if args.profile:
        args.no_prosody = True
        args.phases = set()
    return args


# --- prerequisites ---------------------------------------------------------------------------

def build_dir(args):
    return os.path.abspath(args.build or os.environ.get("XMPPD_BUILD_DIR") or os.path.join(ROOT, "build"))


def binaries(build):
    return {
        "xmppd": os.path.join(build, "daemon", "xmppd"),
        "xmppd-router": os.path.join(build, "router", "xmppd-router"),
        "xmppd-s2s": os.path.join(build, "s2s-worker", "xmppd-s2s"),
        "xmppd-tls": os.path.join(build, "tls-helper", "xmppd-tls"),
        "xmppd-auth": os.path.join(build, "auth-helper", "xmppd-auth"),
        "xmppctl": os.path.join(build, "xmppctl", "xmppctl"),
        "loadgen": os.path.join(build, "bench", "loadgen"),
    }


def prosody_version():
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "prosody"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def check_prerequisites(args):
    """Names everything missing and exits, or returns."""
    missing, hints = [], set()
    if os.geteuid() != 0:
        missing.append("root (the script makes network namespaces and xmppd's children chroot)")
    for command in ("unshare", "ip", "mount", "umount", "setpriv", "dnsmasq", "dpkg-query"):
        if not shutil.which(command, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
            missing.append(f"the command {command}")
            hints.add("./dev test (installs the packages)")
    try:
        import cryptography  # noqa: F401
    except ImportError:
        missing.append(f"the Python module cryptography for {sys.executable} (Debian: python3-cryptography)")
        hints.add("./dev test")
    for user in XMPPD_USERS:
        try:
            pwd.getpwnam(user)
        except KeyError:
            missing.append(f"the user {user}")
            hints.add("./dev test (creates the users)")
    for name, path in binaries(build_dir(args)).items():
        if not os.access(path, os.X_OK):
            missing.append(f"{name} ({path})")
            hints.add("./dev test or `meson setup build && ninja -C build` (builds xmppd and bench/loadgen)")
    if not args.no_prosody:
        version = prosody_version()
        if not version or not os.path.exists("/usr/bin/prosody"):
            missing.append("Prosody (Debian package prosody)")
            hints.add("./dev test (installs prosody)")
        elif not version.startswith("0.12"):
            missing.append(f"Prosody 0.12 (installed: {version})")
        else:
            with open("/usr/bin/prosody") as f:
                words = f.readline()[2:].split()
            interpreter = words[1] if words and os.path.basename(words[0]) == "env" and len(words) > 1 else \
                (words[0] if words else "lua")
            if not shutil.which(interpreter):
                missing.append(f"Prosody's Lua interpreter {interpreter}")
        try:
            pwd.getpwnam("prosody")
        except KeyError:
            missing.append("the user prosody (made by the Debian package)")
    if args.profile and not shutil.which("perf"):
        missing.append("perf (for --profile)")
        hints.add("apt-get install linux-perf")
    if missing:
        print("compare: missing prerequisites:\n  - " + "\n  - ".join(missing), file=sys.stderr)
        if hints:
            print("compare: to get them: " + "; ".join(sorted(hints)), file=sys.stderr)
        sys.exit(1)


def raise_open_files(args):
    """N idle clients need N descriptors in loadgen and in the serving process, which inherit
    this limit: xmppd does not raise its own, Prosody neither."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = max([*args.idle_counts, 2 * args.pairs]) + 1024
    want = max(needed, 65536)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return
        except (ValueError, OSError):
            want = hard  # no CAP_SYS_RESOURCE: the hard limit is as far as it goes
    if want < needed:
        print(f"compare: the open files limit is {hard} (hard), {needed} are needed for "
              f"{max(args.idle_counts)} idle clients: raise it (ulimit -Hn) or lower --idle-counts", file=sys.stderr)
        sys.exit(1)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# --- /proc ------------------------------------------------------------------------------------

def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def cpu_sample(pids):
    return {pid: cpu_ticks(pid) for pid in pids}


def cpu_seconds_between(before, after):
    """Summed CPU seconds of the processes present in both samples, and the pids that went away."""
    total, gone = 0, []
    for pid, start in before.items():
        end = after.get(pid)
        if start is None or end is None:
            gone.append(pid)
            continue
        total += end - start
    return total / CLK_TCK, gone


def machine_ticks():
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already in user
    return total - idle, total


def rss_by_pid(pids):
    """pid -> (process name, VmRSS in KiB)."""
    found = {}
    for pid in pids:
        name, rss = "?", None
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("Name:"):
                        name = line.split()[1]
                    elif line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
        if rss is None:
            raise RuntimeError(f"server process {pid} is gone")
        found[pid] = (name, rss)
    return found


def tls_ready(address, domain, ca_file, ns):
    """Whether a STARTTLS negotiation with a certificate for domain completes on address:5222/5269."""
    port = 5222 if ns == "jabber:client" else 5269
    try:
        with socket.create_connection((address, port), timeout=3) as sock:
            sock.sendall(f"<?xml version='1.0'?><stream:stream xmlns='{ns}' xmlns:stream='http://etherx.jabber.org/"
                         f"streams' to='{domain}' from='probe.test' version='1.0'>".encode())
            data = b""
            while b"</stream:features>" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    return False
                data += chunk
            sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            data = b""
            while b"/>" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    return False
                data += chunk
            if b"<proceed" not in data:
                return False
            context = ssl.create_default_context(cafile=ca_file)
            with context.wrap_socket(sock, server_hostname=domain):
                return True
    except (OSError, ssl.SSLError):
        return False


def wait_tls(address, domain, ca_file, timeout=20):
    deadline = time.monotonic() + timeout
    for ns in ("jabber:client", "jabber:server"):
        while not tls_ready(address, domain, ca_file, ns):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{domain} on {address}: no STARTTLS with its certificate ({ns}) "
                                   f"within {timeout} s")
            time.sleep(0.1)


# --- servers ----------------------------------------------------------------------------------

class BenchServer:
    """What both kinds of server share: self.server (started and stopped by its own class),
    self.address, self.domain, self.bench; start() waits until TLS is served."""

    def start(self):
        self.server.start()
        self.started()
        wait_tls(self.address, self.domain, self.bench.ca_file)
        return self

    def started(self):
        """Waits for what else must be up after the server process starts."""

    def stop(self):
        self.server.stop()

    def restart(self):
        self.stop()
        return self.start()

    def log_text(self):
        return self.server.log()


class Xmppd(BenchServer):
    """One xmppd (harness.Server, without -v: the default log level) serving one domain."""
    kind = "xmppd"

    def __init__(self, bench, domain):
        import certs
        import harness
        self.bench, self.domain, self.address = bench, domain, ADDRESS[domain]
        self.path = tempfile.mkdtemp(prefix=f"{domain}-", dir=bench.work)
        os.chmod(self.path, 0o755)
        key, cert = bench.ca.issue(domain, "ec")
        certs.write(f"{self.path}/certs/{domain}.crt", certs.cert_pem(cert))
        certs.write(f"{self.path}/certs/{domain}.key", certs.key_pem(key), 0o600)
        if bench.args.muc:  # the service federates as a host does: it has a certificate of its own
            key, cert = bench.ca.issue(f"conference.{domain}", "ec")
            certs.write(f"{self.path}/certs/conference.{domain}.crt", certs.cert_pem(cert))
            certs.write(f"{self.path}/certs/conference.{domain}.key", certs.key_pem(key), 0o600)
        config = f"""-- written by bench/compare.py
data_path = "{self.path}/data"
empty_path = "{self.path}/empty"
interfaces = {{ "{self.address}" }}
c2s_ports = {{ 5222 }}
s2s_ports = {{ 5269 }}
certificates = "{self.path}/certs"
ssl = {{ cafile = "{bench.ca_file}" }}
dns_forwarders = {{ "127.0.0.53" }}
dns_transparent_zones = {{ "test" }}
s2s_allow_private_addresses = true
-- Every load generator's connection comes from one address.
max_connections_per_address = 0
max_unauthenticated_per_address = 0
max_connections = 1000000
{bench.xmppd_storage_options(domain)}VirtualHost "{domain}"
{bench.xmppd_components(domain)}"""

        class QuietServer(harness.Server):
            def start(self, *extra):
                self.log_file = open(self.log_path, "ab")
                self.proc = subprocess.Popen([self.binary, "-d", "-f", self.config, *extra], stdin=subprocess.DEVNULL,
                                             stdout=self.log_file, stderr=subprocess.STDOUT)
                return self

        self.server = QuietServer(self.path, config)
        self.credentials = os.path.join(self.path, "data", "auth", "credentials.sqlite")

    def children(self):
        """The storage process is the fifth child with PostgreSQL."""
        return 5 if self.bench.args.storage == "postgres" else 4

    def started(self):
        self.server.wait_sandboxed_children(20, count=self.children())

    def pids(self):
        return [self.server.proc.pid, *sorted(self.server.children().values())]

    def alive(self):
        return self.server.proc.poll() is None and len(self.server.children()) == self.children()

    def problems(self, since):
        """Log lines after offset `since` that say something went wrong."""
        text = self.log_text()[since:]
        return [line for line in text.splitlines()
                if re.search(r"error|warning|died|killed|restart|refused|overload|dropp", line, re.I)]

    def provision(self, count):
        """user1..userN@domain, password passwordI: from the cache, or made with xmppctl and cached."""
        cached = self.bench.cached_xmppd_store(self.domain, count)
        if cached:
            auth_dir = os.path.dirname(self.credentials)
            os.makedirs(auth_dir, mode=0o700, exist_ok=True)
            os.chmod(os.path.dirname(auth_dir), 0o700)
            shutil.copyfile(cached, self.credentials)
            entry = pwd.getpwnam("_xmppd_auth")
            os.chown(self.credentials, entry.pw_uid, entry.pw_gid)
            os.chmod(self.credentials, 0o600)
            log(f"{self.domain}: {count} accounts from {cached}")
            return self.start()
        self.start()
        started = time.monotonic()
        xmppctl = binaries(self.bench.build)["xmppctl"]

        def add(n):
            r = subprocess.run([xmppctl, "-f", self.server.config, "adduser", f"user{n}@{self.domain}"],
                               input=f"password{n}\n", capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                raise RuntimeError(f"xmppctl adduser user{n}@{self.domain}: {r.stderr.strip()}")

        # The parent lets at most 4 questions wait for one child (daemon/admin_queries.cc).
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for done, _ in enumerate(pool.map(add, range(1, count + 1)), 1):
                if done % 1000 == 0:
                    log(f"{self.domain}: {done} of {count} accounts made")
        log(f"{self.domain}: {count} accounts made with xmppctl adduser in {time.monotonic() - started:.0f} s")
        self.bench.store_xmppd_store(self.domain, count, self.credentials)
        return self


def prosody_account(args):
    n, = args
    salt = str(uuid.uuid4())
    salted = hashlib.pbkdf2_hmac("sha1", f"password{n}".encode(), salt.encode(), ITERATIONS)
    stored_key = hashlib.sha1(hmac.new(salted, b"Client Key", hashlib.sha1).digest()).hexdigest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha1).hexdigest()
    # As util.serialization writes it for `prosodyctl register` (mod_auth_internal_hashed).
    return (f"user{n}", f'return {{\n\t["server_key"] = "{server_key}";\n\t["salt"] = "{salt}";\n'
                        f'\t["iteration_count"] = {ITERATIONS};\n\t["stored_key"] = "{stored_key}";\n}};\n')


def prosody_with_components(base):
    """tests/integration/prosody.py's Prosody, with Component sections after its VirtualHost:
    components is a list of (domain, module, {option: value})."""
    import prosody

    class WithComponents(base):
        def __init__(self, *args, components=(), **kwargs):
            self.components = list(components)  # before the base writes the configuration
            super().__init__(*args, **kwargs)

        def config_text(self):
            text = super().config_text()
            for domain, module, options in self.components:
                text += f"\nComponent {prosody.lua(domain)} {prosody.lua(module)}\n"
                text += "".join(f"    {key} = {prosody.lua(value)}\n" for key, value in options.items())
            return text

    return WithComponents


class Prosody(BenchServer):
    """One Prosody 0.12 (tests/integration/prosody.py) serving one domain; log level info, as
    Debian's default configuration has it, to a file."""
    kind = "prosody"

    def __init__(self, bench, domain):
        import certs
        import prosody
        self.bench, self.domain, self.address = bench, domain, ADDRESS[domain]
        path = prosody.fresh_workdir(bench.work, domain)
        key, cert = bench.ca.issue(domain, "ec")
        certs.write(f"{path}/{domain}.crt", certs.cert_pem(cert))
        certs.write(f"{path}/{domain}.key", certs.key_pem(key), 0o600)
        options = {"log": {"info": f"{path}/prosody.log"}, **bench.prosody_storage_options(domain)}
        components = bench.prosody_components(domain, path)
        self.server = prosody_with_components(prosody.Prosody)(
            path, domain, self.address, f"{path}/{domain}.crt", f"{path}/{domain}.key", bench.ca_file, options=options,
            components=components)
        self.accounts = os.path.join(self.server.data_path, domain.replace(".", "%2e"), "accounts")

    def pids(self):
        return [self.server.proc.pid]

    def alive(self):
        return self.server.running()

    def problems(self, since):
        text = self.log_text()[since:]
        return [line for line in text.splitlines() if "\terror\t" in line or "\twarn\t" in line]

    def provision(self, count):
        cached = self.bench.cached_prosody_accounts(self.domain, count)
        if cached:
            log(f"{self.domain}: {count} accounts from {cached}")
        else:
            started = time.monotonic()
            with multiprocessing.Pool(os.cpu_count()) as pool:
                files = pool.map(prosody_account, [(n,) for n in range(1, count + 1)], chunksize=64)
            cached = self.bench.store_prosody_accounts(self.domain, count, files)
            log(f"{self.domain}: {count} Prosody accounts computed in {time.monotonic() - started:.0f} s")
        shutil.copytree(cached, self.accounts)
        return self.start()


# --- the bench --------------------------------------------------------------------------------

class LoadgenFailed(RuntimeError):
    pass


class Bench:
    def __init__(self, args):
        import certs
        import harness
        self.args = args
        self.build = build_dir(args)
        self.loadgen = binaries(self.build)["loadgen"]
        self.work = tempfile.mkdtemp(prefix="xmppd-compare-")
        os.chmod(self.work, 0o755)
        self.cache = args.cache_dir
        os.makedirs(self.cache, exist_ok=True)
        self.scram_cache = os.path.join(self.cache, "loadgen-scram.cache")
        self.dns = harness.TestDns(self.work, ADDRESS).start()
        self.ca = certs.Authority("xmppd bench CA")
        self.ca_file = os.path.join(self.work, "ca.pem")
        certs.write(self.ca_file, self.ca.pem())
        self.servers = {}
        self.postgres = None
        if args.storage == "postgres":
            import postgres
            # fsync and synchronous_commit on (PostgreSQL's defaults): what a durable server pays.
            self.postgres = postgres.Postgres(self.work, durable=True).start()
            for domain in ADDRESS:
                self.postgres.psql(f"CREATE DATABASE {self.database_name(domain)} OWNER {self.postgres.username}",
                                   database="postgres")
        self.results = {"runs": []}
        self.run_number = 0
        self.anomalies = []

    # Cache of accounts: keyed by the credential store's source (a schema change makes new ones).
    def store_key(self):
        digest = hashlib.sha256()
        for name in ("credential_store.cc", "credential_store.h", "scram.cc"):
            try:
                with open(os.path.join(source_dir(self.build), "auth-helper", name), "rb") as f:
                    digest.update(f.read())
            except FileNotFoundError:
                pass
        return digest.hexdigest()[:12]

    def _cached(self, prefix, domain, count):
        if self.args.fresh_accounts:
            return None
        best = None
        for name in os.listdir(self.cache):
            m = re.fullmatch(rf"{re.escape(prefix)}-{re.escape(domain)}-(\d+)(\.sqlite)?", name)
            if m and int(m.group(1)) >= count and (best is None or int(m.group(1)) < best[0]):
                best = (int(m.group(1)), os.path.join(self.cache, name))
        return best[1] if best else None

    def cached_xmppd_store(self, domain, count):
        return self._cached(f"xmppd-{self.store_key()}", domain, count)

    def store_xmppd_store(self, domain, count, path):
        target = os.path.join(self.cache, f"xmppd-{self.store_key()}-{domain}-{count}.sqlite")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        copy = sqlite3.connect(target + ".tmp")
        source.backup(copy)  # a consistent copy that includes what is still in the WAL
        copy.close()
        source.close()
        os.replace(target + ".tmp", target)

    def cached_prosody_accounts(self, domain, count):
        return self._cached("prosody", domain, count)

    def store_prosody_accounts(self, domain, count, files):
        target = os.path.join(self.cache, f"prosody-{domain}-{count}")
        tmp = target + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        for user, text in files:
            with open(os.path.join(tmp, f"{user}.dat"), "w") as f:
                f.write(text)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        return target

    # --- storage and archive ---

    @staticmethod
    def database_name(domain):
        return "db_" + domain.replace(".", "_")

    def xmppd_storage_options(self, domain):
        text = 'modules_enabled = { "mam" }\n' if self.args.archive and not self.args.muc else ""
        if self.postgres:
            pg = self.postgres
            text += (f'storage = "sql"\nsql = {{ driver = "PostgreSQL"; database = "{self.database_name(domain)}"; '
                     f'host = "{pg.host}"; port = {pg.port}; username = "{pg.username}"; password = "{pg.password}" }}\n')
        return text

    def prosody_storage_options(self, domain):
        import prosody
        options = {}
        if self.args.archive and not self.args.muc:
            options["modules_enabled"] = [*prosody.Prosody.MODULES, "mam"]
        # The accounts stay in Prosody's files, where provision() writes them (xmppd's stay in
        # its auth helper whatever the storage); everything else goes to sql.
        if self.postgres:
            pg = self.postgres
            options["default_storage"] = "sql"
            options["storage"] = {"accounts": "internal"}
            options["sql"] = {"driver": "PostgreSQL", "database": self.database_name(domain), "host": pg.host,
                              "port": pg.port, "username": pg.username, "password": pg.password}
        elif self.args.storage == "sqlite":
            options["default_storage"] = "sql"
            options["storage"] = {"accounts": "internal"}
            options["sql"] = {"driver": "SQLite3", "database": "prosody.sqlite"}
        return options

    # Group chat: one MUC service beside each serving instance (--muc).
    def xmppd_components(self, domain):
        if not self.args.muc or domain != "a.test":
            return ""
        # xmppd limits each occupant's messages and presences as Prosody's community module
        # mod_muc_limits would (0.5/s, a burst of 6); Prosody 0.12 has no limit without that
        # module, so the bench turns xmppd's off (0: no limit).
        text = f'Component "conference.{domain}" "muc"\nmuc_event_rate = 0\n'
        if self.args.unlocked_rooms:
            text += "muc_room_locking = false\n"
        if self.args.archive:
            text += 'modules_enabled = { "muc_mam" }\n'
        return text

    def prosody_components(self, domain, path):
        if not self.args.muc or domain != "pa.test":
            return []
        import certs
        service = f"conference.{domain}"
        key, cert = self.ca.issue(service, "ec")
        certs.write(f"{path}/{service}.crt", certs.cert_pem(cert))
        certs.write(f"{path}/{service}.key", certs.key_pem(key), 0o600)
        options = {"ssl": {"certificate": f"{path}/{service}.crt", "key": f"{path}/{service}.key"}}
        if self.args.archive:
            options["modules_enabled"] = ["muc_mam"]
        if self.args.unlocked_rooms:
            options["muc_room_locking"] = False
        return [(service, "muc", options)]

    # --- set-up ---

    def start_servers(self):
        args = self.args
        if args.muc:
            count = max(args.rooms * args.occupants, args.muc_idle_occupants if "idle" in args.phases else 0)
            wanted = ([] if args.no_xmppd else [(Xmppd, "a.test", count)]) + \
                ([] if args.no_prosody else [(Prosody, "pa.test", count)])
            for cls, domain, n in wanted:
                self.servers[domain] = cls(self, domain)
                self.servers[domain].provision(n)
            return
        big = max([2 * args.pairs, *args.idle_counts]) if "idle" in args.phases else 2 * args.pairs
        wanted = [(Xmppd, "a.test", big), (Xmppd, "b.test", args.pairs)]
        if not args.no_prosody:
            wanted += [(Prosody, "pa.test", big), (Prosody, "pb.test", args.pairs)]
        for cls, domain, count in wanted:
            server = cls(self, domain)
            self.servers[domain] = server
            server.provision(count)

    def servers_of(self, kind):
        return [s for s in self.servers.values() if s.kind == kind]

    def stop(self):
        for server in self.servers.values():
            try:
                server.stop()
            except Exception as e:  # stopping the rest matters more
                log(f"stopping {server.domain}: {e}")
        self.dns.stop()
        if self.postgres:
            self.postgres.stop()
        if self.args.keep:
            log(f"work directory kept: {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # --- loadgen ---

    def loadgen_run(self, label, servers, loadgen_args, record=True, on_ready=None, on_measure=None, timeout=600,
                    cpu_mark=r"logged in,"):
        """Runs loadgen with the SCRAM cache, CA and --json; samples the servers' CPU when the
        logins are done (the first stderr line matching cpu_mark) and when the results are printed. on_ready(proc) is called when an idle
        run prints `ready N`, on_measure(pids) when a message run's measured period has begun
        (its first progress line); what they return is added to the result. Returns loadgen's
        JSON object plus what was measured here."""
        busy_before = self.wait_quiet()
        self.run_number += 1
        log_path = os.path.join(self.work, f"loadgen-{self.run_number:03d}.log")
        command = [self.loadgen, "--cafile", self.ca_file, "--scram-cache", self.scram_cache, "--json", *loadgen_args]
        pids = [pid for s in servers for pid in s.pids()]
        offsets = {s.domain: len(s.log_text()) for s in servers}
        marks = {}
        ready, measuring = threading.Event(), threading.Event()
        with open(log_path, "w") as log_file:
            log_file.write(" ".join(command) + "\n")
            log_file.flush()
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

            def read_stderr():
                for line in proc.stderr:
                    if re.search(cpu_mark, line) and "cpu_start" not in marks:
                        marks["cpu_start"] = cpu_sample(pids)
                        marks["t_start"] = time.monotonic()
                        marks["machine_start"] = machine_ticks()
                        marks["loadgen_start"] = cpu_ticks(proc.pid)
                    if line.startswith("ready "):
                        marks["ready"] = int(line.split()[1])
                        ready.set()
                    if "] measure:" in line:
                        measuring.set()
                    log_file.write(line)
                    log_file.flush()
                ready.set()
                measuring.set()

            reader = threading.Thread(target=read_stderr, daemon=True)
            reader.start()
            watchdog = threading.Timer(timeout, lambda: proc.poll() is None and proc.send_signal(signal.SIGINT))
            watchdog.start()
            extra = {}
            try:
                if on_ready is not None:
                    ready.wait(timeout)
                    if "ready" in marks:
                        extra = on_ready(proc) or {}
                    elif proc.poll() is None:
                        proc.send_signal(signal.SIGTERM)
                if on_measure is not None:
                    measuring.wait(timeout)
                    if proc.poll() is None:
                        extra = on_measure(pids) or {}
                out = proc.stdout.readline()
                cpu_end = cpu_sample(pids)
                t_end = time.monotonic()
                machine_end, loadgen_end = machine_ticks(), cpu_ticks(proc.pid)
                proc.wait()
            finally:
                watchdog.cancel()
            reader.join(10)
        try:
            result = json.loads(out)
        except json.JSONDecodeError:
            with open(log_path) as f:
                tail = "".join(f.readlines()[-15:])
            raise LoadgenFailed(f"{label}: loadgen exited with {proc.returncode} and no results; {log_path}:\n{tail}")
        result["label"] = label
        result["machine_busy_before_percent"] = busy_before
        result["exit_status"] = proc.returncode
        result["log"] = log_path
        if "cpu_start" in marks:
            cpu, gone = cpu_seconds_between(marks["cpu_start"], cpu_end)
            result["server_cpu_seconds"] = cpu
            wall = t_end - marks["t_start"]
            result["server_cpu_wall_seconds"] = wall
            if loadgen_end is not None and marks["loadgen_start"] is not None:
                # What else ran on the machine meanwhile (other users, compilers): a noise gauge.
                busy = (machine_end[0] - marks["machine_start"][0]) / CLK_TCK
                result["loadgen_cpu_seconds_total"] = (loadgen_end - marks["loadgen_start"]) / CLK_TCK
                other = busy - cpu - result["loadgen_cpu_seconds_total"]
                result["other_cpu_percent"] = max(0.0, 100 * other / wall) if wall > 0 else None
            if gone:
                result["server_pids_gone"] = gone
        result.update(extra)
        problems = {}
        for s in servers:
            if not s.alive():
                problems[s.domain] = ["the server or one of its processes is not running"]
            lines = s.problems(offsets[s.domain])
            if lines:
                problems.setdefault(s.domain, []).extend(lines[:5] + ([f"... {len(lines)} lines"] if len(lines) > 5
                                                                      else []))
        if problems or result.get("server_pids_gone"):
            result["server_problems"] = problems
            self.anomalies.append((label, problems, result.get("server_pids_gone")))
        if proc.returncode != 0:
            self.anomalies.append((label, {"loadgen": [f"exit status {proc.returncode}"]}, None))
        if record:
            self.results["runs"].append(result)
        return result

    def wait_quiet(self, limit=0.15, timeout=None):
        """Waits (at most timeout s) until the machine is nearly idle: a server still working off
        the previous run's backlog, or another user's compiler, would skew the next run.
        Returns the busy percentage of all CPUs over the last second."""
        timeout = self.args.quiet_wait if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            b0, t0 = machine_ticks()
            time.sleep(1)
            b1, t1 = machine_ticks()
            busy = (b1 - b0) / max(1, t1 - t0)
            if busy < limit:
                return round(100 * busy, 1)
            if time.monotonic() > deadline:
                log(f"the machine is still {100 * busy:.0f}% busy after {timeout} s; going on")
                return round(100 * busy, 1)

    # --- message runs ---

    def scenario(self, name):
        """name -> (servers, loadgen arguments)."""
        p = self.args.pairs
        if name == "xmppd s2s":
            return self.servers_of("xmppd"), ["--sender", "127.0.0.2:5222", "--sender-domain", "a.test",
                                              "--receiver", "127.0.0.3:5222", "--receiver-domain", "b.test"]
        if name == "Prosody s2s":
            return self.servers_of("prosody"), ["--sender", "127.0.0.4:5222", "--sender-domain", "pa.test",
                                                "--receiver", "127.0.0.5:5222", "--receiver-domain", "pb.test"]
        if name == "xmppd one domain":
            return self.servers_of("xmppd"), ["--sender", "127.0.0.2:5222", "--sender-domain", "a.test",
                                              "--receiver-offset", str(p)]
        raise ValueError(name)

    def messages(self, name, phase, rate, on_measure=None):
        a = self.args
        servers, where = self.scenario(name)
        result = self.loadgen_run(f"{name}, {phase}", servers,
                                  ["--mode", "messages", *where, "--accounts", str(a.pairs), "--rate", str(rate),
                                   "--window", str(a.window), "--body-bytes", str(a.body_bytes), "--warmup",
                                   str(a.warmup), "--duration", str(a.duration), "--drain", "10"], on_measure=on_measure)
        result["scenario"], result["phase"] = name, phase
        handled = result["received"] + result["bounced"]
        if handled and "server_cpu_seconds" in result:
            result["cpu_per_100k"] = result["server_cpu_seconds"] / handled * 1e5
        if result["lost"] > result["bounced"]:
            self.absorb_offline(name)
        lat = result["latency_ms"]
        log(f"{name:16} {phase:22} {result['msgs_per_sec']:9.0f} msg/s  p50 {lat['p50']:8.2f} p99 {lat['p99']:8.2f} "
            f"max {lat['max']:8.2f} ms  lost {result['lost']}  server CPU "
            f"{result.get('cpu_per_100k', float('nan')):.1f} s/100k  loadgen CPU {result['client_cpu_percent']:.0f}%")
        return result

    def absorb_offline(self, name):
        """Messages not delivered when a run ended are stored offline and would be delivered at
        the next run's logins (loadgen counts them as stale), adding to its cost: the receivers
        log in once more, unmeasured, to take them."""
        servers, where = self.scenario(name)
        receiver = where[where.index("--receiver") + 1] if "--receiver" in where else where[1]
        domain = where[where.index("--receiver-domain") + 1] if "--receiver-domain" in where else where[3]
        first = 1 + (int(where[where.index("--receiver-offset") + 1]) if "--receiver-offset" in where else 0)
        self.wait_quiet()
        self.loadgen_run(f"{name}: taking the offline messages", servers,
                         ["--mode", "idle", "--sender", receiver, "--sender-domain", domain, "--accounts",
                          str(self.args.pairs), "--first-account", str(first), "--hold", "5"], record=False)

    def alternate(self, names, phase, rate, rounds):
        runs = {name: [] for name in names}
        for r in range(rounds):
            for name in (names if r % 2 == 0 else list(reversed(names))):
                runs[name].append(self.messages(name, phase, rate))
        return runs

    # --- idle runs ---

    def idle_session(self, kind):
        """Restarts the serving instance, measures the servers' RSS with no clients, then adds
        idle clients up to each of --idle-counts in turn (one loadgen per step, all kept
        connected) and measures again --idle-settle seconds after each step's last login."""
        server = self.servers["a.test" if kind == "xmppd" else "pa.test"]
        server.restart()
        busy = self.wait_quiet()
        time.sleep(2)
        pids = [pid for s in self.servers_of(kind) for pid in s.pids()]
        offset = len(server.log_text())
        before = rss_by_pid(pids)
        base = sum(r for _, r in before.values())
        steps, results, connected = [], [], 0
        try:
            for n in sorted(self.args.idle_counts):
                self.run_number += 1
                log_path = os.path.join(self.work, f"loadgen-{self.run_number:03d}.log")
                command = [self.loadgen, "--cafile", self.ca_file, "--scram-cache", self.scram_cache, "--json",
                           "--mode", "idle", "--sender", f"{server.address}:5222", "--sender-domain", server.domain,
                           "--first-account", str(connected + 1), "--accounts", str(n - connected), "--hold", "1800",
                           "--connect-rate", str(self.args.connect_rate), "--max-pending", str(self.args.max_pending),
                           "--login-timeout", "60"]
                log_file = open(log_path, "w")
                log_file.write(" ".join(command) + "\n")
                log_file.flush()
                proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log_file, text=True)
                steps.append((proc, log_file, log_path, n))
                started = time.monotonic()
                ready = None
                while ready is None and proc.poll() is None and time.monotonic() - started < 900:
                    time.sleep(0.2)
                    with open(log_path) as f:
                        m = re.search(r"^ready (\d+)$", f.read(), re.M)
                    ready = int(m.group(1)) if m else None
                login_seconds = time.monotonic() - started
                if ready is None:
                    results.append({"kind": kind, "clients": n, "ready": 0, "log": log_path,
                                    "failed": f"loadgen exited with {proc.poll()} before all were logged in"})
                    self.anomalies.append((f"{kind} idle {n}", {"loadgen": [f"logins failed; see {log_path}"]}, None))
                    log(f"{kind:8} idle {n:6}: logins failed, see {log_path}")
                    break
                connected += ready
                time.sleep(self.args.idle_settle)
                after = rss_by_pid(pids)
                growth = {}
                for pid, (name, rss) in after.items():
                    key = f"{name} ({server.domain})" if pid in server.pids() else name
                    growth[key] = growth.get(key, 0) + rss - before[pid][1]
                total = sum(r for _, r in after.values())
                result = {"kind": kind, "clients": n, "ready": connected, "rss_before_kib": base, "rss_after_kib": total,
                          "kib_per_client": (total - base) / connected, "rss_growth_by_process_kib": growth,
                          "step_login_seconds": login_seconds, "machine_busy_before_percent": busy, "log": log_path}
                results.append(result)
                log(f"{kind:8} idle {n:6}: {connected} connected, RSS {base} -> {total} KiB, "
                    f"{result['kib_per_client']:.1f} KiB per client; growth (KiB): "
                    + ", ".join(f"{k} {v}" for k, v in growth.items() if v))
        finally:
            for proc, log_file, log_path, n in reversed(steps):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                try:
                    out, _ = proc.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    out, _ = proc.communicate()
                log_file.close()
                try:
                    loadgen = json.loads(out.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    loadgen = {}
                for r in results:
                    if r["log"] == log_path:
                        r["loadgen"] = loadgen
                        if loadgen.get("disconnects") or loadgen.get("login_failures"):
                            self.anomalies.append((f"{kind} idle {n}", {"loadgen": [
                                f"{loadgen.get('login_failures')} login failures, {loadgen.get('disconnects')} "
                                f"disconnects while held"]}, None))
        lines = server.problems(offset)
        if lines or not server.alive():
            self.anomalies.append((f"{kind} idle", {server.domain: lines[:5] or ["not running"]}, None))
        self.results["runs"].extend(results)
        return results


    # --- group chat runs (--muc) ---

    def muc_server(self, kind):
        return self.servers["a.test" if kind == "xmppd" else "pa.test"]

    def muc_messages(self, kind, phase, rate):
        """One loadgen --mode muc run on the kind's service; CPU from the end of the joins."""
        a = self.args
        server = self.muc_server(kind)
        result = self.loadgen_run(
            f"{kind} group chat, {phase}", [server],
            ["--mode", "muc", "--sender", f"{server.address}:5222", "--sender-domain", server.domain, "--muc-service",
             f"conference.{server.domain}", "--accounts", str(a.rooms * a.occupants), "--rooms", str(a.rooms),
             "--sender-every", str(a.sender_every), "--rate", str(rate), "--window", str(a.muc_window),
             "--body-bytes", str(a.body_bytes), "--warmup", str(a.warmup), "--duration", str(a.duration),
             "--drain", "10"], cpu_mark=r"^joined \d+")
        result["scenario"], result["phase"] = kind, phase
        handled = result["received"] + result["bounced_deliveries"]
        if handled and "server_cpu_seconds" in result:
            result["cpu_per_100k"] = result["server_cpu_seconds"] / handled * 1e5
        lat = result["latency_ms"]
        log(f"{kind:8} group chat {phase:18} {result['sent_per_sec']:7.0f} sent/s {result['msgs_per_sec']:8.0f} "
            f"deliveries/s  p50 {lat['p50']:8.2f} p99 {lat['p99']:8.2f} max {lat['max']:8.2f} ms  lost "
            f"{result['lost']}/{result['expected']}  server CPU {result.get('cpu_per_100k', float('nan')):.1f} "
            f"s/100k  loadgen CPU {result['client_cpu_percent']:.0f}%")
        return result

    def muc_alternate(self, kinds, phase, rate, rounds):
        runs = {kind: [] for kind in kinds}
        for r in range(rounds):
            for kind in (kinds if r % 2 == 0 else list(reversed(kinds))):
                runs[kind].append(self.muc_messages(kind, phase, rate))
        return runs

    def muc_memory(self, kind):
        """Restarts the serving instance; --muc-idle-occupants clients log in (RSS sampled
        --idle-settle s later), then join rooms of --occupants and stay idle (sampled again
        --idle-settle s after the last join). Per occupant: (RSS joined - RSS logged in) / N."""
        a = self.args
        server = self.muc_server(kind)
        server.restart()
        busy = self.wait_quiet()
        time.sleep(2)
        pids = server.pids()
        offset = len(server.log_text())
        base = sum(r for _, r in rss_by_pid(pids).values())
        n = a.muc_idle_occupants
        rooms = max(1, -(-n // a.occupants))
        samples = {}

        def sample_after(pattern, key, proc):
            with open(log_path) as f:
                m = re.search(pattern, f.read(), re.M)
            if not m:
                return False
            samples[key + "_count"] = int(m.group(1))
            time.sleep(a.idle_settle)
            samples[key] = sum(r for _, r in rss_by_pid(pids).values())
            return True

        self.run_number += 1
        log_path = os.path.join(self.work, f"loadgen-{self.run_number:03d}.log")
        command = [self.loadgen, "--cafile", self.ca_file, "--scram-cache", self.scram_cache, "--json", "--mode", "muc",
                   "--sender", f"{server.address}:5222", "--sender-domain", server.domain, "--muc-service",
                   f"conference.{server.domain}", "--accounts", str(n), "--rooms", str(rooms), "--sender-every", "0",
                   "--join-delay", str(a.idle_settle + 3), "--hold", "1800", "--connect-rate", str(a.connect_rate),
                   "--max-pending", str(a.max_pending), "--login-timeout", "60"]
        with open(log_path, "w") as log_file:
            log_file.write(" ".join(command) + "\n")
            log_file.flush()
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log_file, text=True)
            try:
                for pattern, key in ((r"^ready (\d+)$", "logged_in"), (r"^joined (\d+)$", "joined")):
                    started = time.monotonic()
                    while proc.poll() is None and time.monotonic() - started < 600:
                        if sample_after(pattern, key, proc):
                            break
                        time.sleep(0.2)
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                try:
                    out, _ = proc.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    out, _ = proc.communicate()
        try:
            loadgen = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            loadgen = {}
        result = {"kind": kind, "muc_memory": True, "clients": n, "rooms": rooms, "rss_before_kib": base,
                  "machine_busy_before_percent": busy, "log": log_path, "loadgen": loadgen, **samples}
        if "joined" in samples and samples.get("joined_count"):
            result["kib_per_occupant"] = (samples["joined"] - samples["logged_in"]) / samples["joined_count"]
            result["kib_per_client"] = (samples["logged_in"] - base) / max(1, samples["logged_in_count"])
            log(f"{kind:8} group chat memory: RSS {base} KiB idle, {samples['logged_in']} KiB with "
                f"{samples['logged_in_count']} logged in, {samples['joined']} KiB with {samples['joined_count']} "
                f"joined in {rooms} rooms: {result['kib_per_occupant']:.1f} KiB per occupant")
        else:
            self.anomalies.append((f"{kind} group chat memory", {"loadgen": [f"logins or joins failed; see {log_path}"]},
                                   None))
        lines = server.problems(offset)
        if lines or not server.alive():
            self.anomalies.append((f"{kind} group chat memory", {server.domain: lines[:5] or ["not running"]}, None))
        self.results["runs"].append(result)
        return result


# --- the report -------------------------------------------------------------------------------

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=0):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def ratio(x, p, digits=2):
    if x is None or p is None or p == 0:
        return "–"
    r = x / p
    return f"{r:.{digits}f}" if r >= 0.1 else f"{r:.2g}"


def spread(values, digits=0):
    values = [v for v in values if v is not None]
    return "/".join(f"{v:.{digits}f}" for v in values)


def summary(runs):
    """Medians over runs of one scenario and phase."""
    if not runs:
        return None
    return {
        "rate": median([r["msgs_per_sec"] for r in runs]),
        "p50": median([r["latency_ms"]["p50"] for r in runs]),
        "p99": median([r["latency_ms"]["p99"] for r in runs]),
        "max": median([r["latency_ms"]["max"] for r in runs]),
        "cpu": median([r.get("cpu_per_100k") for r in runs]),
        "lost": sum(r["lost"] for r in runs),
        "sent": sum(r["sent"] for r in runs),
        "bounced": sum(r["bounced"] for r in runs),
        "errors": sum(r["errors"]["count"] for r in runs),
        "disconnects": sum(r["disconnects"] for r in runs),
        "loadgen_cpu": median([r["client_cpu_percent"] for r in runs]),
        "stale": sum(r["stale"] for r in runs),
        "other": median([r.get("other_cpu_percent") for r in runs]),
        "runs": len(runs),
        "each_rate": spread([r["msgs_per_sec"] for r in runs]),
        "each_p99": spread([r["latency_ms"]["p99"] for r in runs], 2),
    }


def report(bench, sat, lat, lat_prosody_rate, idle, rate, prosody_rate, sustained):
    a = bench.args
    out = []
    x, p, one = "xmppd s2s", "Prosody s2s", "xmppd one domain"
    S = {k: summary(v) for k, v in sat.items()}
    L = {k: summary(v) for k, v in lat.items()}
    LP = {k: summary(v) for k, v in lat_prosody_rate.items()}

    def g(table, key, field):
        return table.get(key)[field] if table.get(key) else None

    def lost(table, key):
        t = table.get(key)
        if not t:
            return "–"
        text = f"{t['lost']:,} / {t['sent']:,}"
        details = [f"{t[k]:,} {k}" for k in ("bounced", "stale", "errors", "disconnects") if t[k]]
        return text + (f" ({', '.join(details)})" if details else "")

    out.append("| | xmppd | Prosody 0.12 | xmppd / Prosody | xmppd within one domain (no s2s) |")
    out.append("| --- | --- | --- | --- | --- |")
    if S:
        out.append(f"| s2s messages/s at saturation ({a.pairs} pairs × window {a.window}), median of "
                   f"{g(S, x, 'runs')} | {fmt(g(S, x, 'rate'))} | {fmt(g(S, p, 'rate'))} | "
                   f"{ratio(g(S, x, 'rate'), g(S, p, 'rate'), 1)} | {fmt(g(S, one, 'rate'))} |")
        out.append(f"| — each run | {g(S, x, 'each_rate') or '–'} | {g(S, p, 'each_rate') or '–'} | | "
                   f"{g(S, one, 'each_rate') or '–'} |")
        out.append(f"| server CPU s per 100k messages (at saturation) | {fmt(g(S, x, 'cpu'), 2)} | "
                   f"{fmt(g(S, p, 'cpu'), 2)} | {ratio(g(S, x, 'cpu'), g(S, p, 'cpu'))} | {fmt(g(S, one, 'cpu'), 2)} |")
        out.append(f"| latency at saturation p50 / p99 (ms) | {fmt(g(S, x, 'p50'), 1)} / {fmt(g(S, x, 'p99'), 1)} | "
                   f"{fmt(g(S, p, 'p50'), 1)} / {fmt(g(S, p, 'p99'), 1)} | | "
                   f"{fmt(g(S, one, 'p50'), 1)} / {fmt(g(S, one, 'p99'), 1)} |")
        out.append(f"| loadgen CPU at saturation (% of one core) | {fmt(g(S, x, 'loadgen_cpu'))} | "
                   f"{fmt(g(S, p, 'loadgen_cpu'))} | | {fmt(g(S, one, 'loadgen_cpu'))} |")
        out.append(f"| other load on the machine during the runs (% of one core) | {fmt(g(S, x, 'other'))} | "
                   f"{fmt(g(S, p, 'other'))} | | {fmt(g(S, one, 'other'))} |")
        out.append(f"| lost / sent (saturation, all runs) | {lost(S, x)} | {lost(S, p)} | | {lost(S, one)} |")
    for table, r, note in ((L, rate, ""), (LP, prosody_rate, " (Prosody's sustainable rate)")):
        if not table:
            continue
        out.append(f"| latency at {fmt(r)} msg/s{note}: p50 / p99 / max (ms) | "
                   f"{fmt(g(table, x, 'p50'), 2)} / {fmt(g(table, x, 'p99'), 2)} / {fmt(g(table, x, 'max'), 1)} | "
                   f"{fmt(g(table, p, 'p50'), 2)} / {fmt(g(table, p, 'p99'), 2)} / {fmt(g(table, p, 'max'), 1)} | "
                   f"{ratio(g(table, x, 'p99'), g(table, p, 'p99'))} (p99) | "
                   f"{fmt(g(table, one, 'p50'), 2)} / {fmt(g(table, one, 'p99'), 2)} / {fmt(g(table, one, 'max'), 1)} |")
        out.append(f"| — received msg/s; p99 of each run | {fmt(g(table, x, 'rate'))}; {g(table, x, 'each_p99') or '–'} | "
                   f"{fmt(g(table, p, 'rate'))}; {g(table, p, 'each_p99') or '–'} | | "
                   f"{fmt(g(table, one, 'rate'))}; {g(table, one, 'each_p99') or '–'} |")
        out.append(f"| — server CPU s per 100k messages | {fmt(g(table, x, 'cpu'), 2)} | {fmt(g(table, p, 'cpu'), 2)} | "
                   f"{ratio(g(table, x, 'cpu'), g(table, p, 'cpu'))} | {fmt(g(table, one, 'cpu'), 2)} |")
        out.append(f"| — other load on the machine (% of one core) | {fmt(g(table, x, 'other'))} | "
                   f"{fmt(g(table, p, 'other'))} | | {fmt(g(table, one, 'other'))} |")
        out.append(f"| — lost / sent | {lost(table, x)} | {lost(table, p)} | | {lost(table, one)} |")
    for n in sorted({r["clients"] for r in idle}):
        xs = [r.get("kib_per_client") for r in idle if r["kind"] == "xmppd" and r["clients"] == n]
        ps = [r.get("kib_per_client") for r in idle if r["kind"] == "prosody" and r["clients"] == n]
        out.append(f"| KiB RSS per idle TLS client, N = {n:,} (each run) | {fmt(median(xs), 1)} ({spread(xs, 1)}) | "
                   f"{fmt(median(ps), 1)} ({spread(ps, 1)}) | {ratio(median(xs), median(ps))} | |")
    lines = "\n".join(out)
    if sustained is False:
        lines += (f"\n\nProsody did not sustain {fmt(rate)} msg/s (half of xmppd's s2s saturation rate); "
                  f"both were also run at {fmt(prosody_rate)} msg/s, half of Prosody's saturation rate.")
    return lines


def muc_report(bench, sat, lat, memory, rate):
    """The group chat table: xmppd beside Prosody's mod_muc."""
    a = bench.args
    S = {k: summary(v) for k, v in sat.items()}
    L = {k: summary(v) for k, v in lat.items()}
    x, p = "xmppd", "prosody"

    def g(table, key, field):
        return table.get(key)[field] if table.get(key) else None

    def either(table, field):
        return g(table, x, field) if table.get(x) else g(table, p, field)

    def each(runs, key, field, digits=0):
        return spread([r[field] for r in runs.get(key, [])], digits) or "–"

    def lost(runs, key):
        rs = runs.get(key, [])
        if not rs:
            return "–"
        text = f"{sum(r['lost'] for r in rs):,} / {sum(r['expected'] for r in rs):,}"
        details = [f"{sum(r[k] for r in rs):,} {k}" for k in ("bounced", "duplicates", "stale", "given_up")
                   if sum(r[k] for r in rs)]
        errors = sum(r["errors"]["count"] + r["join_failures"] for r in rs)
        return text + (f" ({', '.join(details + ([f'{errors} errors'] if errors else []))})"
                       if details or errors else "")

    load = (f"{a.rooms} rooms × {a.occupants} occupants, 1 in {a.sender_every} sending, body {a.body_bytes} bytes")
    out = ["| | xmppd | Prosody 0.12 | xmppd / Prosody |", "| --- | --- | --- | --- |"]
    if S:
        sent = {k: median([r["sent_per_sec"] for r in v]) for k, v in sat.items()}
        out.append(f"| deliveries/s at saturation ({load}; window {a.muc_window} per sender), median of "
                   f"{either(S, 'runs')} | {fmt(g(S, x, 'rate'))} | {fmt(g(S, p, 'rate'))} | "
                   f"{ratio(g(S, x, 'rate'), g(S, p, 'rate'), 1)} |")
        out.append(f"| — each run | {each(sat, x, 'msgs_per_sec')} | {each(sat, p, 'msgs_per_sec')} | |")
        out.append(f"| — messages sent/s | {fmt(sent.get(x))} | {fmt(sent.get(p))} | |")
        out.append(f"| server CPU s per 100k deliveries (saturation) | {fmt(g(S, x, 'cpu'), 2)} | "
                   f"{fmt(g(S, p, 'cpu'), 2)} | {ratio(g(S, x, 'cpu'), g(S, p, 'cpu'))} |")
        out.append(f"| latency at saturation p50 / p99 (ms) | {fmt(g(S, x, 'p50'), 1)} / {fmt(g(S, x, 'p99'), 1)} | "
                   f"{fmt(g(S, p, 'p50'), 1)} / {fmt(g(S, p, 'p99'), 1)} | |")
        out.append(f"| lost deliveries / due (saturation, all runs) | {lost(sat, x)} | {lost(sat, p)} | |")
        out.append(f"| loadgen CPU; other load on the machine (% of one core) | {fmt(g(S, x, 'loadgen_cpu'))}; "
                   f"{fmt(g(S, x, 'other'))} | {fmt(g(S, p, 'loadgen_cpu'))}; {fmt(g(S, p, 'other'))} | |")
    if L:
        out.append(f"| latency at {fmt(rate)} messages/s sent ({fmt(either(L, 'rate'))} deliveries/s): p50 / p99 / max "
                   f"(ms) | {fmt(g(L, x, 'p50'), 2)} / {fmt(g(L, x, 'p99'), 2)} / {fmt(g(L, x, 'max'), 1)} | "
                   f"{fmt(g(L, p, 'p50'), 2)} / {fmt(g(L, p, 'p99'), 2)} / {fmt(g(L, p, 'max'), 1)} | "
                   f"{ratio(g(L, x, 'p99'), g(L, p, 'p99'))} (p99) |")
        out.append(f"| — p99 of each run | {g(L, x, 'each_p99') or '–'} | {g(L, p, 'each_p99') or '–'} | |")
        out.append(f"| — server CPU s per 100k deliveries | {fmt(g(L, x, 'cpu'), 2)} | {fmt(g(L, p, 'cpu'), 2)} | "
                   f"{ratio(g(L, x, 'cpu'), g(L, p, 'cpu'))} |")
        out.append(f"| — lost deliveries / due | {lost(lat, x)} | {lost(lat, p)} | |")
        out.append(f"| — other load on the machine (% of one core) | {fmt(g(L, x, 'other'))} | {fmt(g(L, p, 'other'))} | |")
    if memory:
        def m(kind, field):
            values = [r.get(field) for r in memory if r["kind"] == kind]
            return median(values), spread(values, 1)
        n = memory[0]["clients"]
        for field, what in (("kib_per_occupant", f"KiB RSS per idle occupant ({n:,} in rooms of {a.occupants}, "
                                                 "minus the same clients logged in)"),
                            ("kib_per_client", "— KiB RSS per idle logged-in client (same runs, for scale)")):
            (xv, xs), (pv, ps) = m(x, field), m(p, field)
            out.append(f"| {what} | {fmt(xv, 1)} ({xs or '–'}) | {fmt(pv, 1)} ({ps or '–'}) | {ratio(xv, pv)} |")
    return "\n".join(out)


def run_muc(bench):
    """The group chat phases; returns the table."""
    args = bench.args
    kinds = ([] if args.no_xmppd else ["xmppd"]) + ([] if args.no_prosody else ["prosody"])
    sat, lat, memory, rate = {}, {}, [], None
    try:
        if "throughput" in args.phases:
            sat = bench.muc_alternate(kinds, "saturation", 0, args.rounds)
        if "latency" in args.phases:
            sent = [median([r["sent_per_sec"] for r in sat.get(kind, [])]) for kind in kinds]
            sent = [v for v in sent if v]
            rate = args.rate or (round(min(sent) / 2, -1) if sent else None)
            if rate:
                lat = bench.muc_alternate(kinds, f"{rate:.0f}/s", rate, args.rounds)
        if "idle" in args.phases:
            for r in range(args.idle_rounds):
                for kind in (kinds if r % 2 == 0 else list(reversed(kinds))):
                    memory.append(bench.muc_memory(kind))
    finally:
        bench.muc_table = muc_report(bench, sat, lat, memory, rate)
    bench.results["latency_rate"] = rate
    return bench.muc_table


def source_dir(build):
    """The source tree of a meson build directory (its commit is the one measured)."""
    try:
        with open(os.path.join(build, "meson-info", "meson-info.json")) as f:
            return json.load(f)["directories"]["source"]
    except (OSError, ValueError, KeyError):
        return ROOT


def machine_description(build):
    def first(command):
        try:
            return subprocess.run(command, capture_output=True, text=True, shell=True).stdout.strip()
        except OSError:
            return "?"
    model = first("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    source = source_dir(build)
    commit = first(f"git -C {source} rev-parse --short HEAD") or "?"
    dirty = first(f"git -C {source} status --porcelain --untracked-files=no")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cores": os.cpu_count(),
        "cpu": model,
        "memory": first("free -g | awk '/^Mem/ {print $2}'") + " GiB",
        "kernel": first("uname -r"),
        "os": first(". /etc/os-release && echo $PRETTY_NAME"),
        "xmppd": commit + (" (with uncommitted changes)" if dirty else ""),
        "prosody": prosody_version(),
        "openssl": first("openssl version"),
    }


# --- profile ----------------------------------------------------------------------------------

# What each sample of the profile was doing: walking its call chain from the leaf up, the first
# frame that matches one of these (generic frames such as malloc, memcpy or the kernel's TCP
# code match none, so they count for the operation that called them).
ACTIVITIES = [
    ("random hash salt of each new expat parser (arc4random, getrandom(2))", r"arc4random|getrandom"),
    ("TLS write: encryption and the write(2) of each record", r"^SSL_write|^ssl3_write|^tls_write"),
    ("TLS read: decryption and the read(2)s of each record", r"^SSL_read|^ssl3_read|^tls_read"),
    ("IPC: sendmsg/recvmsg on the socketpairs", r"__sys_sendmsg|__sys_recvmsg|^unix_"),
    ("IPC: protobuf encoding and decoding", r"google::protobuf|\.pb\.|libprotobuf"),
    ("XML serializing (Element::serialize, escape)", r"Element::serialize|xml::escape"),
    ("JID parsing", r"xmpp::Jid::|nameprep|stringprep|libidn"),
    ("XML parsing", r"libexpat|StreamParser|^XML_|xml::Element::|parse_fragment|FragmentParser"),
    ("routing, sessions, streams (xmppd's own logic)", r"xmppd::"),
    ("event loop: waiting, waking up", r"epoll_wait|event_base_loop|libevent"),
]


def parse_perf_script(text):
    """perf script -F comm,pid,ip,sym,dso output -> [(comm, [(sym, dso) leaf first])]."""
    samples, comm, frames = [], None, []
    for line in text.splitlines():
        if not line.strip():
            if comm is not None:
                samples.append((comm, frames))
            comm, frames = None, []
        elif not line.startswith(("\t", " ")):
            comm, frames = line.split()[0], []
        else:
            m = re.match(r"\s*[0-9a-f]+\s+(.*?)(?:\+0x[0-9a-f]+)?\s+\((.*)\)\s*$", line)
            if m:
                frames.append((m.group(1), m.group(2)))
    if comm is not None:
        samples.append((comm, frames))
    return samples


def classify(frames):
    under_fragment = any("parse_fragment" in sym or "FragmentParser" in sym for sym, _ in frames)
    for sym, dso in frames:
        for name, pattern in ACTIVITIES:
            if re.search(pattern, sym) or (pattern.endswith("libprotobuf") and "libprotobuf" in dso) or \
                    (name == "XML parsing" and "libexpat" in dso):
                if name.startswith(("XML parsing", "random hash salt")):
                    name += (": stanzas re-parsed after crossing a process boundary (xml::FragmentParser)"
                             if under_fragment else ": the network streams (c2s, s2s)")
                return name
    leaf = frames[0][1] if frames else "?"
    if "kernel" in leaf:
        return "kernel, other"
    return f"other ({os.path.basename(leaf)})"


def profile(bench, directory):
    """One xmppd s2s saturation run; perf record on the ten xmppd processes for the measured
    period; reports by process and library, by symbol, and by category."""
    os.makedirs(directory, exist_ok=True)
    data = os.path.join(directory, "perf.data")
    a = bench.args
    state = {}

    def record(pids):
        # The measured period has begun (loadgen's first progress line of it); perf stops
        # before it ends.
        state["perf"] = subprocess.Popen(
            ["perf", "record", "-q", "-e", "cpu-clock", "-F", str(a.profile_frequency), "--call-graph", "dwarf,16384",
             "-o", data, "-p", ",".join(map(str, pids)), "--", "sleep", str(max(1.0, a.duration - 1.5))],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    result = bench.messages("xmppd s2s", "saturation, profiled", 0, on_measure=record)
    perf = state.get("perf")
    if perf is None:
        raise RuntimeError("perf was not started (no measured period?)")
    _, err = perf.communicate(timeout=120)
    if perf.returncode != 0:
        raise RuntimeError(f"perf record failed: {err}")
    reports = {
        "by-process-library.txt": ["--sort", "comm,dso"],
        "by-symbol.txt": ["--sort", "dso,sym"],
        "by-process-symbol.txt": ["--sort", "comm,dso,sym"],
    }
    texts = {}
    for name, sort in reports.items():
        r = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "--percent-limit", "0.01",
                            "-g", "none", *sort], capture_output=True, text=True)
        texts[name] = r.stdout
        with open(os.path.join(directory, name), "w") as f:
            f.write(r.stdout)
    r = subprocess.run(["perf", "report", "-i", data, "--children", "--stdio", "--percent-limit", "2", "-g",
                        "caller,0.5,callee,function,percent", "--sort", "comm,sym"], capture_output=True, text=True)
    with open(os.path.join(directory, "callers.txt"), "w") as f:
        f.write(r.stdout)
    script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,pid,ip,sym,dso"], capture_output=True,
                            text=True).stdout
    samples = parse_perf_script(script)
    counts, by_process = {}, {}
    for comm, frames in samples:
        name = classify(frames)
        counts[name] = counts.get(name, 0) + 1
        by_process.setdefault(comm, {})
        by_process[comm][name] = by_process[comm].get(name, 0) + 1
    total = max(1, len(samples))
    categories = sorted(((name, 100 * n / total) for name, n in counts.items()), key=lambda kv: -kv[1])
    with open(os.path.join(directory, "categories.txt"), "w") as f:
        f.write(f"{len(samples)} samples of the xmppd processes; each counted for the first frame from the leaf up "
                "that names an operation (bench/compare.py ACTIVITIES)\n\n")
        for name, percent in categories:
            f.write(f"{percent:6.1f}%  {name}\n")
        for comm, names in sorted(by_process.items()):
            n = sum(names.values())
            f.write(f"\n{comm}: {100 * n / total:.1f}% of the samples\n")
            for name, count in sorted(names.items(), key=lambda kv: -kv[1]):
                f.write(f"  {100 * count / total:6.1f}%  {name}\n")
    print(f"xmppd s2s saturation under perf: {result['msgs_per_sec']:.0f} msg/s (perf's own cost included), "
          f"lost {result['lost']}")
    print(f"{len(samples)} samples of the ten xmppd processes, by what they were doing:")
    for name, percent in categories:
        print(f"  {percent:6.1f}%  {name}")
    print("By process and library:")
    for line in texts["by-process-library.txt"].splitlines():
        if re.match(r"\s+[\d.]+%", line):
            print("  " + line.strip())
    print(f"Reports in {directory}: by-process-library.txt, by-symbol.txt, by-process-symbol.txt, callers.txt, "
          "categories.txt (perf.data for perf report -i)")


# --- main -------------------------------------------------------------------------------------

def main():
    args = parse_args()
    if args.build:
        os.environ["XMPPD_BUILD_DIR"] = build_dir(args)
    check_prerequisites(args)
    sys.path.insert(0, INTEGRATION)
    import harness
    if os.environ.get("XMPPD_TEST_NETNS") != "1":
        log("entering a private network and mount namespace")
    harness.enter_namespace()
    raise_open_files(args)
    if args.quickack:
        subprocess.run(["ip", "route", "replace", "local", "127.0.0.0/8", "dev", "lo", "table", "local", "proto",
                        "kernel", "scope", "host", "src", "127.0.0.1", "quickack", "1"], check=True)
    started = time.monotonic()
    machine = machine_description(build_dir(args))
    log(f"{machine['date']}, {machine['cores']} cores, {machine['memory']}, kernel {machine['kernel']}, "
        f"xmppd {machine['xmppd']}, prosody {machine['prosody']}")
    bench = Bench(args)
    sat, lat, lat_p, idle = {}, {}, {}, []
    rate = prosody_rate = sustained = None
    status = 0
    try:
        bench.start_servers()
        log(f"servers up and accounts ready after {time.monotonic() - started:.0f} s")
        if args.profile:
            profile(bench, args.profile)
            return
        if args.muc:
            run_muc(bench)
        else:
            with_prosody = [] if args.no_prosody else ["Prosody s2s"]
            names = ["xmppd s2s", *with_prosody, "xmppd one domain"]
            if "throughput" in args.phases:
                sat = bench.alternate(names, "saturation", 0, args.rounds)
            if "latency" in args.phases:
                x_sat = median([r["msgs_per_sec"] for r in sat.get("xmppd s2s", [])])
                rate = args.rate or round(x_sat / 2, -2)
                lat = bench.alternate(names, f"{rate:.0f}/s", rate, args.rounds)
                if with_prosody:
                    runs = lat["Prosody s2s"]
                    sustained = all(r["lost"] == 0 and r["backlog_skips"] == 0 and r["msgs_per_sec"] >= 0.97 * rate and
                                    r["latency_ms"]["p99"] < 1000 for r in runs)
                    p_sat = median([r["msgs_per_sec"] for r in sat.get("Prosody s2s", [])])
                    if not sustained and p_sat:
                        prosody_rate = round(p_sat / 2, -2)
                        log(f"Prosody did not sustain {rate:.0f}/s; both again at {prosody_rate:.0f}/s")
                        lat_p = bench.alternate(["xmppd s2s", "Prosody s2s"], f"{prosody_rate:.0f}/s", prosody_rate,
                                                args.rounds)
            if "idle" in args.phases:
                kinds = ["xmppd"] + ([] if args.no_prosody else ["prosody"])
                for r in range(args.idle_rounds):
                    for kind in (kinds if r % 2 == 0 else list(reversed(kinds))):
                        idle.extend(bench.idle_session(kind))
    except (LoadgenFailed, RuntimeError, AssertionError) as e:
        log(f"stopped: {e}")
        status = 1
    finally:
        bench.stop()
    elapsed = time.monotonic() - started
    if args.muc:
        table = getattr(bench, "muc_table", "(no results)")
        rate = bench.results.get("latency_rate")
    else:
        table = report(bench, sat, lat, lat_p, idle, rate, prosody_rate, sustained)
    print(f"## xmppd and Prosody{', group chat' if args.muc else ''}, {machine['date']}\n")
    print(f"Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory']}, {machine['os']}, kernel "
          f"{machine['kernel']}, {machine['openssl']}. xmppd {machine['xmppd']} (build {bench.build}); "
          f"Prosody {machine['prosody']}. Command: `{' '.join(['python3', *sys.argv])}`; {elapsed / 60:.1f} minutes.\n")
    print(table)
    if bench.anomalies:
        print("\nAnomalies:")
        for label, problems, gone in bench.anomalies:
            print(f"- {label}: " + "; ".join(f"{k}: {' | '.join(v)}" for k, v in (problems or {}).items())
                  + (f"; processes gone: {gone}" if gone else ""))
    if args.json:
        bench.results.update({"machine": machine, "args": vars(args), "latency_rate": rate,
                              "prosody_rate": prosody_rate, "prosody_sustained": sustained,
                              "anomalies": [list(a) for a in bench.anomalies]})
        with open(args.json, "w") as f:
            json.dump(bench.results, f, indent=1, default=str)
    sys.exit(status)


if __name__ == "__main__":
    main()
