"""What every integration test needs: a private network and mount namespace, a scratch
directory, and an xmppd started from the build tree and watched through /proc.

Tests run as root (CI does) because the children switch users and chroot; traffic stays on
the namespace's own loopback interface.
"""
import asyncio
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BUILD_DIR = os.environ.get("XMPPD_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
XMPPD = os.path.join(BUILD_DIR, "daemon", "xmppd")
XMPPCTL = os.path.join(BUILD_DIR, "xmppctl", "xmppctl")
ROLE_BINARIES = {
    "router": os.path.join(BUILD_DIR, "router", "xmppd-router"),
    "s2s": os.path.join(BUILD_DIR, "s2s-worker", "xmppd-s2s"),
    "tls": os.path.join(BUILD_DIR, "tls-helper", "xmppd-tls"),
    "auth": os.path.join(BUILD_DIR, "auth-helper", "xmppd-auth"),
    "storage": os.path.join(BUILD_DIR, "storage", "xmppd-storage"),  # only with storage = "sql" PostgreSQL
    "http": os.path.join(BUILD_DIR, "http", "xmppd-http"),  # only with an HTTP service
}
ROLE_OF_COMM = {"xmppd-router": "router", "xmppd-s2s": "s2s", "xmppd-tls": "tls", "xmppd-auth": "auth",
                "xmppd-storage": "storage", "xmppd-http": "http"}
SKIP = 77  # meson's exit code for a skipped test
# What AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer write when they find
# something (a sanitizer build, docs/design.md): a child's stderr is its log pipe to the
# parent, so a child's report lands in the xmppd log even when the child is restarted.
SANITIZER_REPORT = re.compile(r"ERROR: (?:Address|Leak)Sanitizer|runtime error: |SUMMARY: \w+Sanitizer")


def enter_namespace():
    """Re-executes this script in a new network and mount namespace, once."""
    if os.environ.get("XMPPD_TEST_NETNS") == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return
    if os.geteuid() != 0:
        print("SKIP: integration tests run as root, in a private network namespace")
        sys.exit(SKIP)
    env = dict(os.environ, XMPPD_TEST_NETNS="1")
    # Making the new mount namespace private needs "/" to be a mount point; inside a plain
    # chroot (a fresh-system check) it is not, and the mounts stay private to the caller's
    # namespace anyway.
    propagation = "private"
    if subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                      stderr=subprocess.DEVNULL).returncode != 0:
        propagation = "unchanged"
    os.execvpe("unshare", ["unshare", "--net", "--mount", "--propagation", propagation, "--",
                           sys.executable, "-u"] + sys.argv, env)


def fresh_roster(client):
    """A roster get without the version slixmpp sends once it knows one (the server offers
    roster versioning, XEP-0237): the roster as the server has it now, not "unchanged"."""
    iq = client.Iq()
    iq["type"] = "get"
    iq.enable("roster")
    return iq.send()


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def proc_status(pid):
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields


def user_ids(name):
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


class Server:
    """One xmppd in the foreground (-d), its log in a file, its children found via /proc."""

    def __init__(self, workdir, config_text, name="xmppd"):
        self.workdir = workdir
        self.config = os.path.join(workdir, f"{name}.conf")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.write_config(config_text)
        self.proc = None
        self.start_as = []  # a command prefix, e.g. setpriv to run as another user
        self.binary = XMPPD

    def write_config(self, text):
        with open(self.config, "w") as f:
            f.write(text)

    def start(self, *extra):
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen([*self.start_as, self.binary, "-d", "-v", "-f", self.config, *extra],
                                     stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=subprocess.STDOUT)
        return self

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, timeout=10.0, after=0):
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log(), after), timeout, f"log line /{pattern}/")

    def sanitizer_reports(self):
        """The log lines where a sanitizer reported a finding."""
        return [line for line in self.log().splitlines() if SANITIZER_REPORT.search(line)]

    def children(self):
        """role -> pid of each running child of this parent."""
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            status = proc_status(entry)
            if status and status.get("PPid") == str(self.proc.pid) and status.get("Name") in ROLE_OF_COMM:
                found[ROLE_OF_COMM[status["Name"]]] = int(entry)
        return found

    def wait_sandboxed_children(self, timeout=10.0, count=4):
        """Waits until all `count` children (five with the PostgreSQL storage process) run under
        their seccomp filter; returns role -> pid."""
        def ready():
            kids = self.children()
            if len(kids) != count:
                return None
            for pid in kids.values():
                status = proc_status(pid)
                if not status or status.get("Seccomp") != "2":
                    return None
            return kids
        return wait_for(ready, timeout, f"{count} sandboxed children")

    def stop(self, timeout=10.0):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log_file.close()
        return self.proc.returncode if self.proc else None


def basic_config(workdir, extra=""):
    # Every server in the tests is on a loopback address, which the s2s worker refuses to
    # connect to unless told otherwise.
    return f"""-- written by the test
data_path = "{workdir}/data"
empty_path = "{workdir}/empty"
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ 5222 }}
s2s_ports = {{ 5269 }}
s2s_allow_private_addresses = true
{extra}
VirtualHost "localhost"
"""


# --- The set-up that test classes sharing one server per class repeat (setUpClass,
# tearDownClass, and a fresh asyncio loop per test).

def class_workdir(cls, hosts=(), prefix="xmppd-test-"):
    """A test class's scratch directory (cls.workdir), a test authority (cls.ca, its
    certificate in cls.ca_file) and a certificate for each of `hosts` in workdir/certs."""
    import certs  # here: only the tests that make certificates need cryptography
    cls.workdir = tempfile.mkdtemp(prefix=prefix)
    os.chmod(cls.workdir, 0o755)
    cls.ca = certs.Authority()
    cls.ca_file = os.path.join(cls.workdir, "ca.pem")
    certs.write(cls.ca_file, cls.ca.pem())
    write_certificates(cls.ca, f"{cls.workdir}/certs", hosts)


def write_certificates(ca, directory, hosts):
    """An EC certificate and key from the test authority `ca` for each of `hosts`, as
    DIRECTORY/HOST.crt and DIRECTORY/HOST.key (the layout of xmppd's `certificates`)."""
    import certs
    for host in hosts:
        key, cert = ca.issue(host, "ec")
        certs.write(f"{directory}/{host}.crt", certs.cert_pem(cert))
        certs.write(f"{directory}/{host}.key", certs.key_pem(key), 0o600)


def adduser(server, jid, password):
    """Creates an account on a running xmppd with xmppctl."""
    r = subprocess.run([XMPPCTL, "-f", server.config, "adduser", jid], input=password + "\n",
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"xmppctl adduser {jid}: {r.stderr}")


def stop_class_servers(servers, workdir, failed, dns=None, always_log=False, tail=300):
    """The end of a test class: stops its servers (xmppd's and peers such as Prosody), writes
    their logs when a test failed, a sanitizer reported or `always_log`, removes the scratch
    directory, then fails on any sanitizer report."""
    reports = []
    for server in servers:
        server.stop()
        if isinstance(server, Server):
            reports += server.sanitizer_reports()
    if failed or reports or always_log:
        for server in servers:
            log = server.log() if isinstance(server, Server) else server.tail(tail)
            sys.stderr.write(f"--- log of {server.config} ---\n{log}\n")
    if dns:
        dns.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    if reports:
        raise AssertionError("sanitizer reports in the xmppd log:\n" + "\n".join(reports))


def has_failed(test):
    """Whether `test` (a TestCase, asked in its tearDown) has failed or raised so far."""
    result = getattr(test._outcome, "result", None)
    errors = getattr(result, "errors", []) + getattr(result, "failures", [])
    return any(t is test for t, _ in errors)


def new_loop():
    """A fresh asyncio loop for one test, made the current one."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


def close_loop(loop, clients=(), settle=0.2):
    """The end of a test's loop: disconnects `clients`, lets them go for `settle` seconds,
    cancels what is left and closes the loop."""
    for client in clients:
        client.disconnect()
    if settle:
        loop.run_until_complete(asyncio.sleep(settle))
    for task in asyncio.all_tasks(loop):
        task.cancel()
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()


class ClientLoopTest(unittest.TestCase):
    """A test class of slixmpp clients on one server set-up per class: each test gets a fresh
    asyncio loop, its clients (self.clients) are disconnected at its end, and a failure sets
    cls.failed, so that the class's tearDownClass writes the servers' logs."""

    def setUp(self):
        self.loop = new_loop()
        self.clients = []

    def tearDown(self):
        close_loop(self.loop, self.clients)
        if has_failed(self):
            type(self).failed = True


class IntegrationTest(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="xmppd-test-")
        os.chmod(self.workdir, 0o755)
        self.servers = []
        self.retired = []  # stopped before the end of the test: their logs are still judged

    def retire_servers(self):
        """Stops every server started so far, for a test that starts afresh."""
        for server in self.servers:
            server.stop()
        self.retired += self.servers
        self.servers = []

    def tearDown(self):
        self.retire_servers()
        reports = [line for server in self.retired if isinstance(server, Server) for line in server.sanitizer_reports()]
        if reports or self._outcome_failed():
            for server in self.retired:
                sys.stderr.write(f"--- log of {server.config} ---\n{server.log()}\n")
        shutil.rmtree(self.workdir, ignore_errors=True)
        if reports:
            self.fail("sanitizer reports in the xmppd log:\n" + "\n".join(reports))

    def _outcome_failed(self):
        result = getattr(self._outcome, "result", None)
        errors = getattr(result, "errors", []) + getattr(result, "failures", [])
        return any(test is self for test, _ in errors)

    def server(self, config_text, name="xmppd"):
        server = Server(self.workdir, config_text, name)
        self.servers.append(server)
        return server


class TestDns:
    """Name service for test domains inside the test's mount and network namespace: a dnsmasq
    on a loopback address answering for the names given (authoritative for .test), and
    /etc/resolv.conf and /etc/hosts bind-mounted to point at it. Only call this inside the
    namespace (harness.enter_namespace), or it changes the host's files."""

    def __init__(self, workdir, names, server="127.0.0.53", srv=(), wildcards=None):
        """names: {name: address or (addresses...)}. srv: dnsmasq --srv-host values, e.g.
        "_xmpp-server._tcp.a.test,a.test,5269,0,5". wildcards: {domain: address}, an A record
        for the domain and every name below it."""
        if os.environ.get("XMPPD_TEST_NETNS") != "1":
            raise RuntimeError("TestDns only runs inside the test namespace")
        self.workdir = workdir
        self.names = dict(names)
        self.server = server
        self.srv = list(srv)
        self.wildcards = dict(wildcards or {})
        self.proc = None
        self.mounted = []

    def start(self):
        hosts = os.path.join(self.workdir, "hosts")
        resolv = os.path.join(self.workdir, "resolv.conf")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n::1 localhost\n")
            f.writelines(f"{address} {name}\n" for name, addresses in self.names.items()
                         for address in ([addresses] if isinstance(addresses, str) else addresses))
        with open(resolv, "w") as f:
            f.write(f"nameserver {self.server}\n")
        os.chmod(hosts, 0o644)
        os.chmod(resolv, 0o644)
        for source, target in ((hosts, "/etc/hosts"), (resolv, "/etc/resolv.conf")):
            # A minimal system (a fresh chroot) may lack them; a bind mount needs a target. The
            # empty file stays: removing it would detach the bind mounts that tests running at
            # the same time, in their own mount namespaces, made on it (the kernel detaches
            # mounts on an unlinked mount point in every namespace).
            if not os.path.exists(target):
                open(target, "a").close()
            subprocess.run(["mount", "--bind", source, target], check=True)
            self.mounted.append(target)
        command = ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--port=53",
                   f"--listen-address={self.server}", "--bind-interfaces", "--local=/test/",
                   f"--pid-file={os.path.join(self.workdir, 'dnsmasq.pid')}"]
        command += [f"--host-record={name},{address if isinstance(address, str) else ','.join(address)}"
                    for name, address in self.names.items()]
        command += [f"--srv-host={value}" for value in self.srv]
        command += [f"--address=/{domain}/{address}" for domain, address in self.wildcards.items()]
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("dnsmasq did not start")
            time.sleep(0.05)
        return self

    def _answers(self):
        with open("/proc/net/udp") as f:
            want = "%08X:0035" % int.from_bytes(bytes(map(int, self.server.split("."))), "little")
            return any(line.split()[1] == want for line in list(f)[1:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for target in reversed(self.mounted):
            subprocess.run(["umount", target], check=False)
        self.mounted = []


def ensure_ipv6_loopback():
    """::1 on the namespace's lo, whatever the host's IPv6 default for new namespaces."""
    with open("/proc/sys/net/ipv6/conf/lo/disable_ipv6", "r+") as f:
        if f.read().strip() != "0":
            f.seek(0)
            f.write("0")
    wait_for(lambda: "::1/128" in subprocess.run(["ip", "-6", "addr", "show", "dev", "lo"],
                                                         capture_output=True, text=True).stdout,
                     5, "::1 on lo")


def drop_syns(test, match):
    """Drops outgoing packets matching `match` in this namespace until the test ends."""
    test.assertTrue(shutil.which("nft"), "nft (nftables) is needed")
    subprocess.run(["nft", "add", "table", "inet", "xmppd_test"], check=True)
    test.addCleanup(subprocess.run, ["nft", "delete", "table", "inet", "xmppd_test"], check=True)
    subprocess.run(["nft", "add chain inet xmppd_test out { type filter hook output priority 0 ; }"], check=True)
    subprocess.run(["nft", f"add rule inet xmppd_test out {match} drop"], check=True)


def listen(test, address, port):
    """A listening socket closed when the test ends: the kernel completes handshakes, the
    test accepts (or not) later."""
    import socket
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    test.addCleanup(sock.close)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    sock.listen(16)
    sock.settimeout(2)
    return sock


def main():
    enter_namespace()
    unittest.main(verbosity=2)


def read_memory(pid):
    """Every readable mapping of a process (as root, even of a non-dumpable one).

    Read a MiB at a time, a MiB of zeros kept as 4 KiB of zeros (any secret still matches
    across it): a sanitizer build reserves hundreds of MiB of untouched shadow memory, and
    terabytes in one mapping, which is skipped (no mapping of these processes is that big
    otherwise)."""
    step, zeros = 1 << 20, bytes(1 << 20)
    chunks = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            if "r" not in fields[1] or (len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]")):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if end - start > 1 << 40:
                continue
            try:
                mem.seek(start)
                for offset in range(start, end, step):
                    chunk = mem.read(min(step, end - offset))
                    chunks.append(bytes(4096) if chunk == zeros else chunk)
            except OSError:
                continue
    return b"".join(chunks)
