"""A real jabberd2 (Debian's jabberd2 2.7) as an interop peer in integration tests.

jabberd2 is four processes that meet at a router: the router, sm (the session manager: rosters,
presence, delivery), c2s (clients) and s2s (servers). Each runs in the foreground as the
"jabber" user (Debian's package creates it) with an XML configuration the test writes into a
workdir of its own, with its log file, pid file and storage there too; the router listens on
the peer's own loopback address, so nothing outside the test's namespace is involved.

Storage is SQLite (authreg_sqlite for c2s, storage_sqlite for sm), in a database the test
creates with the few tables the modules below use; accounts are rows in its authreg table
(plaintext passwords, which c2s offers as SASL PLAIN after STARTTLS), and sm creates a user's
other records at the first session (<auto-create/>).

What the tests rely on:
- s2s authenticates only by dialback (XEP-0220): it offers no SASL EXTERNAL, inbound or
  outbound, but does STARTTLS with its <pemfile> both ways, so a peer sees its certificate as
  a TLS client certificate on jabberd2's outbound streams.
- s2s/io/limits/stanzasize (65535 by default): a larger stanza from a peer makes jabberd2 stop
  the stream.
- The Debian build has no debug output (-D); its logs are notice level, one file per process.
"""
import os
import pwd
import re
import secrets
import signal
import sqlite3
import subprocess
import time
from xml.sax.saxutils import escape

from prosody import fresh_workdir, listening  # noqa: F401 (fresh_workdir re-exported for tests)

SBIN = "/usr/sbin"
MODULES_PATH = "/usr/lib/x86_64-linux-gnu/jabberd2"
JABBER_USER = "jabber"
ROUTER_PORT = 5347
PROCESSES = ("router", "sm", "s2s", "c2s")  # in start order

# The tables of the modules the sm configuration below loads (mod_active, mod_roster,
# mod_offline) and of
# authreg_sqlite; the column types matter to storage_sqlite (BOOLEAN, INTEGER, TEXT).
SCHEMA = """
CREATE TABLE "authreg" ("username" TEXT NOT NULL, "realm" TEXT NOT NULL, "password" TEXT);
CREATE TABLE "active" ("collection-owner" TEXT NOT NULL, "object-sequence" INTEGER PRIMARY KEY,
                       "time" INTEGER NOT NULL DEFAULT 0);
CREATE TABLE "roster-items" ("collection-owner" TEXT NOT NULL, "object-sequence" INTEGER PRIMARY KEY,
                             "jid" TEXT NOT NULL, "name" TEXT, "to" BOOLEAN NOT NULL, "from" BOOLEAN NOT NULL,
                             "ask" INTEGER NOT NULL);
CREATE TABLE "queue" ("collection-owner" TEXT NOT NULL, "object-sequence" INTEGER PRIMARY KEY, "xml" TEXT NOT NULL);
CREATE TABLE "roster-groups" ("collection-owner" TEXT NOT NULL, "object-sequence" INTEGER PRIMARY KEY,
                              "jid" TEXT NOT NULL, "group" TEXT NOT NULL);
"""

# sm's module chains: rosters, presence, delivery, disco and ping; nothing that needs more tables.
# mod_offline is needed even with the user online: a message to a bare JID passes mod_deliver
# (full JIDs only) and reaches the top session through mod_offline; without it jabberd2
# answers feature-not-implemented.
SM_CHAINS = {
    "sess-start": [], "sess-end": [],
    "in-sess": ["validate", "roster", "iq-ping", "disco", "presence", "deliver"],
    "out-sess": [],
    "in-router": ["session", "validate", "presence"],
    "out-router": [],
    "pkt-sm": ["iq-ping", "disco", "presence"],
    "pkt-user": ["roster", "presence", "disco", "deliver", "offline"],
    "pkt-router": ["session", "disco"],
    "user-load": ["active", "roster"],
    "user-unload": [],
    "user-create": ["active"],
    "user-delete": ["active", "offline", "roster"],
    "disco-extend": [],
}


def xml(tag, value=None, **attributes):
    """<tag attr="...">value</tag>: value is text, a list of elements (strings), or None."""
    attrs = "".join(f' {k.replace("_", "-")}="{escape(str(v), {chr(34): "&quot;"})}"' for k, v in attributes.items())
    if value is None:
        return f"<{tag}{attrs}/>"
    if isinstance(value, (list, tuple)):
        return f"<{tag}{attrs}>" + "".join(value) + f"</{tag}>"
    return f"<{tag}{attrs}>{escape(str(value))}</{tag}>"


class Jabberd2:
    """One jabberd2 serving one domain on address:5222 (c2s) and address:5269 (s2s)."""

    def __init__(self, workdir, domain, address, cert_file, key_file, ca_file=None, stanzasize=None,
                 s2s_extra=(), require_tls=False):
        """workdir: a fresh directory (made if missing, handed to the jabber user).
        cert_file/key_file: PEM certificate (chain) and key for the domain, used by c2s and s2s.
        ca_file: CA chain s2s sends (<cachain>); stanzasize: s2s/io/limits/stanzasize (None: the
        default, 65535). s2s_extra: more elements (strings) for s2s.xml. require_tls: s2s
        refuses peers without STARTTLS."""
        self.workdir = os.path.abspath(workdir)
        self.domain = domain
        self.address = address
        self.stanzasize = stanzasize
        self.s2s_extra = list(s2s_extra)
        self.require_tls = require_tls
        self.logs = os.path.join(self.workdir, "logs")
        self.db = os.path.join(self.workdir, "jabberd2.db")
        self.pemfile = os.path.join(self.workdir, f"{domain}.pem")
        self.ca_file = None
        self.config = os.path.join(self.workdir, "s2s.xml")  # what harness prints on failure
        self.router_secret = secrets.token_hex(12)
        self.dialback_secret = secrets.token_hex(12)
        self.procs = {}
        self._outputs = []
        os.makedirs(self.logs, exist_ok=True)
        with open(self.pemfile, "wb") as out:
            for path in (cert_file, key_file):
                with open(path, "rb") as f:
                    out.write(f.read())
        os.chmod(self.pemfile, 0o600)
        if ca_file:
            self.ca_file = os.path.join(self.workdir, "ca.pem")
            with open(ca_file, "rb") as f, open(self.ca_file, "wb") as out:
                out.write(f.read())
        with sqlite3.connect(self.db) as db:
            db.executescript(SCHEMA)
        self.write_config()

    # --- configuration ---

    def _path(self, name):
        return os.path.join(self.workdir, name)

    def _common(self, name):
        """Pid file, log file, and (for all but the router) the connection to the router."""
        parts = [xml("id", name), xml("pidfile", self._path(f"{name}.pid")),
                 xml("log", [xml("ident", f"jabberd/{name}"), xml("file", os.path.join(self.logs, f"{name}.log"))],
                     type="file")]
        if name != "router":
            parts.append(xml("router", [xml("ip", self.address), xml("port", ROUTER_PORT), xml("user", "jabberd"),
                                        xml("pass", self.router_secret),
                                        xml("retry", [xml("init", 10), xml("lost", 3), xml("sleep", 1)])]))
        return parts

    def router_config(self):
        return xml("router", [
            *self._common("router"),
            xml("local", [xml("ip", self.address), xml("port", ROUTER_PORT), xml("users", self._path("router-users.xml"))]),
            xml("check", [xml("interval", 60), xml("keepalive", 0)]),
            xml("io", [xml("max_fds", 256), xml("limits", [xml("bytes", 0), xml("connects", 0)]),
                       xml("access", [xml("order", "allow,deny")])]),
            xml("aci", [xml("acl", [xml("user", "jabberd")], type="all"), xml("filter", self._path("router-filter.xml"))]),
        ])

    def sm_config(self):
        chains = [xml("chain", [xml("module", m) for m in modules], id=chain) for chain, modules in SM_CHAINS.items()]
        return xml("sm", [
            *self._common("sm"),
            xml("local", [xml("id", self.domain)]),
            xml("storage", [xml("path", MODULES_PATH), xml("driver", "sqlite"),
                            xml("sqlite", [xml("dbname", self.db), xml("busy-timeout", 2000)])]),
            xml("modules", [xml("path", MODULES_PATH), *chains]),
            xml("discovery", [xml("identity", [xml("category", "server"), xml("type", "im"), xml("name", "jabberd2")])]),
            xml("user", [xml("auto-create")]),
        ])

    def c2s_config(self):
        return xml("c2s", [
            *self._common("c2s"),
            xml("local", [xml("id", self.domain, realm=self.domain, pemfile=self.pemfile, require_starttls="yes"),
                          xml("ip", self.address), xml("port", 5222)]),
            xml("io", [xml("max_fds", 256),
                       xml("limits", [xml("bytes", 0), xml("stanzas", 0), xml("connects", 0),
                                      xml("stanzasize", 262144)]),
                       xml("access", [xml("order", "allow,deny")]),
                       xml("check", [xml("interval", 0), xml("idle", 0), xml("keepalive", 0)])]),
            xml("authreg", [xml("path", MODULES_PATH), xml("module", "sqlite"),
                            xml("mechanisms", [xml("sasl", [])]),
                            xml("ssl-mechanisms", [xml("sasl", [xml("plain")])]),
                            xml("sqlite", [xml("dbname", self.db), xml("busy-timeout", 2000),
                                           xml("password_type", [xml("plaintext")])])]),
        ])

    def s2s_config(self):
        local = [xml("ip", self.address), xml("port", 5269), xml("origins", [xml("ip", self.address)]),
                 xml("secret", self.dialback_secret), xml("pemfile", self.pemfile)]
        if self.ca_file:
            local.append(xml("cachain", self.ca_file))
        limits = [xml("stanzasize", self.stanzasize)] if self.stanzasize is not None else []
        security = [xml("require_tls")] if self.require_tls else []
        return xml("s2s", [
            *self._common("s2s"),
            xml("local", local),
            xml("io", [xml("max_fds", 256), xml("limits", limits)]),
            xml("check", [xml("interval", 1), xml("queue", 30), xml("retry", 30), xml("idle", 86400),
                          xml("keepalive", 0), xml("dnscache", 300)]),
            # bad-host-timeout 0: a failed attempt does not keep jabberd2 from the next one
            xml("lookup", [xml("srv", "xmpp-server"), xml("min-ttl", 30), xml("max-ttl", 86400),
                           xml("etc-hosts-ttl", 86400), xml("bad-host-timeout", 0)]),
            xml("security", security),
            *self.s2s_extra,
        ])

    def write_config(self):
        files = {
            "router.xml": self.router_config(),
            "sm.xml": self.sm_config(),
            "c2s.xml": self.c2s_config(),
            "s2s.xml": self.s2s_config(),
            "router-users.xml": xml("users", [xml("user", [xml("name", "jabberd"), xml("secret", self.router_secret)])]),
            "router-filter.xml": xml("filter", []),
        }
        for name, text in files.items():
            with open(self._path(name), "w") as f:
                f.write("<?xml version='1.0'?>\n<!-- written by the test (tests/integration/jabberd2.py) -->\n"
                        + text + "\n")
        self._own()

    def _own(self):
        entry = pwd.getpwnam(JABBER_USER)
        for root, dirs, files in os.walk(self.workdir):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.chown(name, entry.pw_uid, entry.pw_gid)

    # --- processes ---

    def _spawn(self, name):
        out = open(os.path.join(self.logs, f"{name}.stdout"), "ab")
        self._outputs.append(out)
        command = ["setpriv", f"--reuid={JABBER_USER}", f"--regid={JABBER_USER}", "--init-groups", "--reset-env",
                   os.path.join(SBIN, f"jabberd2-{name}"), "-c", self._path(f"{name}.xml")]
        self.procs[name] = subprocess.Popen(command, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def _wait(self, what, ready, timeout):
        deadline = time.monotonic() + timeout
        while not ready():
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"jabberd2-{name} for {self.domain} exited with {proc.returncode} "
                                       f"while waiting for {what}\n{self.tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"jabberd2 for {self.domain}: no {what} within {timeout}s\n{self.tail()}")
            time.sleep(0.05)

    def start(self, timeout=20.0):
        """Starts the router, then sm, s2s and c2s; returns when the router listens, sm serves
        the domain, and the c2s and s2s ports listen. Raises with the logs otherwise."""
        if self.procs:
            raise RuntimeError("jabberd2 is running already")
        self._own()
        self._spawn("router")
        self._wait("router port", lambda: listening(self.address, ROUTER_PORT), timeout)
        for name in ("sm", "s2s", "c2s"):
            self._spawn(name)
        self._wait("c2s and s2s ports", lambda: listening(self.address, 5222) and listening(self.address, 5269),
                   timeout)
        self._wait(f"sm bound to {self.domain}", lambda: re.search(rf"\[{re.escape(self.domain)}\] online",
                                                                   self.log("router")), timeout)
        return self

    def stop(self, timeout=10.0):
        """SIGTERM to each process, then SIGKILL after timeout; c2s and s2s first."""
        for name in reversed(PROCESSES):
            proc = self.procs.get(name)
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name in reversed(PROCESSES):
            proc = self.procs.get(name)
            if not proc:
                continue
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        for out in self._outputs:
            out.close()
        self._outputs = []
        return {name: proc.returncode for name, proc in self.procs.items()}

    def running(self):
        return bool(self.procs) and all(proc.poll() is None for proc in self.procs.values())

    # --- accounts ---

    def register(self, user, password):
        """Creates user@domain: a row in the authreg table (sm creates the rest at login)."""
        with sqlite3.connect(self.db, timeout=5) as db:
            db.execute('INSERT INTO authreg (username, realm, password) VALUES (?, ?, ?)',
                       (user, self.domain, password))

    # --- logs ---

    def log(self, name=None):
        """The log file of one process, or all four one after the other, each under a heading."""
        if name is None:
            return "\n".join(f"--- jabberd2-{n} ---\n{self.log(n)}" for n in PROCESSES)
        text = ""
        for suffix in ("log", "stdout"):
            try:
                with open(os.path.join(self.logs, f"{name}.{suffix}"), errors="replace") as f:
                    text += f.read()
            except FileNotFoundError:
                pass
        return text

    def tail(self, lines=25):
        return "\n".join(f"--- jabberd2-{n}, last {lines} lines ---\n" + "\n".join(self.log(n).splitlines()[-lines:])
                         for n in PROCESSES)

    def wait_log(self, pattern, name="s2s", timeout=10.0, after=0):
        """Waits for a regex in one process's log from offset after; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log(name), after)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for /{pattern}/ in the log of "
                                     f"jabberd2-{name} {self.domain}\n{self.tail()}")
            time.sleep(0.05)
