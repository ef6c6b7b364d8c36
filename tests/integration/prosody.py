"""A real Prosody (Debian's prosody 0.12) as an interop peer in integration tests.

Prosody runs in the foreground as the "prosody" user (Debian's package creates it; its
mod_posix refuses root unless run_as_root is set), with its config, certificates, data, pid
file and debug log in a workdir of its own, listening on one 127.0.0.x address.

Name resolution: Prosody 0.12 resolves with libunbound when lua-unbound is installed, and
libunbound answers NXDOMAIN for every *.test name by itself. We preload a failing "lunbound"
module so that Prosody falls back to its own resolver (net/dns.lua). That resolver reads the
nameservers in /etc/resolv.conf but NOT /etc/hosts, so a peer domain must be served by a DNS
server: harness.TestDns (dnsmasq on a loopback address) plus bind-mounted /etc/resolv.conf and
/etc/hosts, inside the test's mount namespace.
"""
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

PROSODY = "/usr/bin/prosody"
PROSODYCTL = "/usr/bin/prosodyctl"
PROSODY_USER = "prosody"
# Lua run before Prosody (lua -e): makes require "lunbound" fail, so that net.adns uses the
# legacy resolver (see above); and turns off that resolver's random delay of up to 1 s before
# each query (net/dns.lua "jitter"), which otherwise adds 1.5 s on average to every new s2s
# connection (SRV xmpps, SRV xmpp, A, one after the other) and 3 s to dialback.
PRELUDE = """
package.preload.lunbound = function() error("disabled for tests") end
package.preload["net.dns"] = function(name)
    package.preload[name] = nil
    local dns = require(name)
    local resolver = getmetatable(dns._resolver)
    resolver.jitter, resolver.retry_jitter = false, false
    return dns
end
"""


def lua_interpreter(script=PROSODY):
    """The interpreter named by the script's shebang (lua5.4 on Debian 12)."""
    with open(script) as f:
        words = f.readline()[2:].split()
    if words and os.path.basename(words[0]) == "env":
        words = words[1:]
    return shutil.which(words[0]) or words[0]


def lua(value):
    """A Python value as a Lua literal: bool, int, float, str, list/tuple/set, dict."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\{ord(c):03d}" for c in value) + '"'
    if isinstance(value, (list, tuple, set, frozenset)):
        return "{ " + "; ".join(lua(v) for v in value) + " }"
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            key = k if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) else f"[{lua(k)}]"
            items.append(f"{key} = {lua(v)}")
        return "{ " + "; ".join(items) + " }"
    raise TypeError(f"no Lua literal for {value!r}")


def _name(key):
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise ValueError(f"not a Prosody option name: {key!r}")
    return key


def listening(address, port):
    """Whether a TCP socket listens on address:port (IPv4), from /proc/net/tcp."""
    want = "%08X:%04X" % (int.from_bytes(bytes(map(int, address.split("."))), "little"), port)
    with open("/proc/net/tcp") as f:
        next(f)
        return any(fields[1] == want and fields[3] == "0A" for fields in (line.split() for line in f))


class Prosody:
    """One Prosody serving one VirtualHost on address:5222 (c2s) and address:5269 (s2s)."""

    MODULES = ["roster", "saslauth", "tls", "dialback", "disco", "ping"]

    def __init__(self, workdir, domain, address, cert_file, key_file, ca_file, options=None, hosts_options=None,
                 user=PROSODY_USER):
        """workdir: a fresh directory for config, certificates, data, pid file and logs (made if
        missing, handed to the prosody user). cert_file/key_file: the domain's PEM certificate
        (chain) and key, copied into workdir so the prosody user can read them whatever their
        owner and mode. ca_file: PEM CA(s) Prosody trusts for s2s peers (ssl.cafile).
        options: extra global options, hosts_options: extra options in the VirtualHost block,
        both dicts of Python values rendered as Lua (they override the defaults below).
        user: the account Prosody runs as; None runs it as root (run_as_root = true)."""
        self.workdir = os.path.abspath(workdir)
        self.domain = domain
        self.address = address
        self.options = dict(options or {})
        self.hosts_options = dict(hosts_options or {})
        self.user = user
        self.config = os.path.join(self.workdir, "prosody.cfg.lua")
        self.log_path = os.path.join(self.workdir, "prosody.log")
        self.stdout_path = os.path.join(self.workdir, "prosody.stdout")
        self.data_path = os.path.join(self.workdir, "data")
        self.pidfile = os.path.join(self.workdir, "prosody.pid")
        self.cert_file = os.path.join(self.workdir, "certs", f"{domain}.crt")
        self.key_file = os.path.join(self.workdir, "certs", f"{domain}.key")
        self.ca_file = os.path.join(self.workdir, "certs", "ca.pem")
        self.proc = None
        self._stdout = None
        os.makedirs(os.path.join(self.workdir, "certs"), exist_ok=True)
        os.makedirs(self.data_path, exist_ok=True)
        shutil.copyfile(cert_file, self.cert_file)
        shutil.copyfile(key_file, self.key_file)
        shutil.copyfile(ca_file, self.ca_file)
        os.chmod(self.key_file, 0o600)
        self.write_config()

    # --- configuration ---

    def global_options(self):
        options = {
            "daemonize": False,
            "pidfile": self.pidfile,
            "data_path": self.data_path,
            "interfaces": [self.address],
            "c2s_ports": [5222],
            "s2s_ports": [5269],
            "modules_enabled": self.MODULES,
            "storage": "internal",
            "authentication": "internal_hashed",
            "log": {"debug": self.log_path},
            "ssl": {"cafile": self.ca_file},
            "use_ipv6": False,  # the test DNS serves A records only
            "s2s_timeout": 30,
        }
        if self.user is None:
            options["run_as_root"] = True
        options.update(self.options)
        return options

    def config_text(self):
        host = {"ssl": {"certificate": self.cert_file, "key": self.key_file}}
        host.update(self.hosts_options)
        lines = ["-- written by the test (tests/integration/prosody.py)"]
        lines += [f"{_name(key)} = {lua(value)}" for key, value in self.global_options().items() if value is not None]
        lines.append(f"\nVirtualHost {lua(self.domain)}")
        lines += [f"    {_name(key)} = {lua(value)}" for key, value in host.items() if value is not None]
        return "\n".join(lines) + "\n"

    def write_config(self):
        with open(self.config, "w") as f:
            f.write(self.config_text())
        self._own()

    def _own(self):
        """Hands the workdir to the prosody user (key readable by it alone)."""
        if self.user is None:
            return
        entry = pwd.getpwnam(self.user)
        for root, dirs, files in os.walk(self.workdir):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.chown(name, entry.pw_uid, entry.pw_gid)

    def _as_user(self):
        if self.user is None:
            return []
        return ["setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--init-groups", "--reset-env"]

    # --- process ---

    def command(self):
        return [*self._as_user(), lua_interpreter(), "-e", PRELUDE, PROSODY, "--config", self.config, "-F"]

    def start(self, timeout=20.0):
        """Starts Prosody and waits until its c2s and s2s ports listen. Raises with the tail of
        its log if it exits or does not listen in time."""
        if self.proc and self.proc.poll() is None:
            raise RuntimeError("Prosody is running already")
        self._own()
        self._stdout = open(self.stdout_path, "ab")
        self.proc = subprocess.Popen(self.command(), cwd=self.workdir, stdin=subprocess.DEVNULL,
                                     stdout=self._stdout, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not (listening(self.address, 5222) and listening(self.address, 5269)):
            if self.proc.poll() is not None:
                raise RuntimeError(f"Prosody for {self.domain} exited with {self.proc.returncode}\n{self.tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Prosody for {self.domain} did not listen on {self.address} "
                                   f"within {timeout}s\n{self.tail()}")
            time.sleep(0.05)
        return self

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL (to its whole process group) after timeout. Returns the exit status."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        if self._stdout:
            self._stdout.close()
            self._stdout = None
        return self.proc.returncode

    def running(self):
        return bool(self.proc) and self.proc.poll() is None

    # --- accounts ---

    def register(self, user, password):
        """Creates user@domain with prosodyctl (internal storage: files under data_path, so it
        works whether or not Prosody runs)."""
        r = subprocess.run([lua_interpreter(PROSODYCTL), "-e", PRELUDE, PROSODYCTL, "--config", self.config,
                            "register", user, self.domain, password],
                           capture_output=True, text=True, timeout=30, cwd=self.workdir)
        if r.returncode != 0:
            raise RuntimeError(f"prosodyctl register {user}@{self.domain} failed ({r.returncode}): "
                               f"{r.stdout}{r.stderr}")

    # --- logs ---

    def log(self):
        """Its debug log file (what Prosody logged since the first start)."""
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def tail(self, lines=40):
        """For failure messages: what it printed, its warnings and errors, its last log lines."""
        try:
            with open(self.stdout_path, errors="replace") as f:
                printed = f.read().strip()
        except FileNotFoundError:
            printed = ""
        log = self.log().splitlines()
        problems = [line for line in log if "\terror\t" in line or "\twarn\t" in line][:20]
        return "\n".join(filter(None, [printed, "warnings and errors:", *problems, f"last {lines} lines:",
                                        *log[-lines:]]))

    def wait_log(self, pattern, timeout=10.0, after=0):
        """Waits for a regex in the log from offset after (e.g. len(p.log()) taken earlier);
        returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log(), after)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for /{pattern}/ in the log of Prosody "
                                     f"{self.domain}\n{self.tail()}")
            time.sleep(0.05)


def fresh_workdir(parent, name):
    """A new directory under parent that the prosody user can enter."""
    path = tempfile.mkdtemp(prefix=f"{name}-", dir=parent)
    os.chmod(path, 0o755)
    return path
