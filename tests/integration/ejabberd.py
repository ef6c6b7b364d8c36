"""A real ejabberd (Debian's ejabberd 23.01) as an interop peer in integration tests.

ejabberd runs in the foreground (`ejabberdctl foreground`) as the "ejabberd" user with a
configuration directory, spool (Mnesia) directory, logs and HOME of its own in a workdir,
listening on one 127.0.0.x address. What makes it run beside anything else on the machine:

- Erlang distribution: ejabberdctl talks to the node over Erlang distribution, which normally
  needs epmd (a daemon that outlives the node). With ERL_DIST_PORT set, the node listens on
  that fixed port and finds other nodes there, with no epmd at all; the test's network
  namespace makes the port private to the test. The node is ejabberd@localhost on 127.0.0.1
  only (vm.args).
- The Erlang cookie is $HOME/.erlang.cookie, read by the node and by ejabberdctl: HOME is a
  directory in the workdir with a fresh cookie, mode 0400, owned by the ejabberd user.
  ejabberdctl run as root switches users with su, which resets HOME, so we run it as the
  ejabberd user ourselves (setpriv).
- Name resolution: ERL_INETRC (inetrc in the configuration directory) makes Erlang's resolver
  read /etc/hosts and /etc/resolv.conf, which the test bind-mounts (harness.TestDns).
- Certificates: a peer's certificate with an id-on-xmppAddr otherName crashes ejabberd's
  inbound s2s (ejabberd_s2s_in) when the peer authenticates by SASL EXTERNAL, so the
  certificates of the tests (certs.Authority.issue) carry DNS names only.
- No mod_s2s_dialback unless asked: ejabberd then authenticates s2s by SASL EXTERNAL only,
  both ways.
"""
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import time

from prosody import fresh_workdir, listening  # noqa: F401 (fresh_workdir re-exported for tests)

EJABBERDCTL = "/usr/sbin/ejabberdctl"
EJABBERD_USER = "ejabberd"
DIST_PORT = 4370  # the node's Erlang distribution port, on 127.0.0.1 in the test's namespace


def yaml(value, indent=0):
    """A Python value as YAML (block style for dicts and lists, JSON-style scalars)."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = []
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{yaml_scalar(k)}:\n{yaml(v, indent + 2)}")
            else:
                lines.append(f"{pad}{yaml_scalar(k)}: {yaml(v, indent + 2)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return "[]"
        lines = []
        for v in value:
            if isinstance(v, dict) and v:
                body = yaml(v, indent + 2)
                lines.append(f"{pad}- {body.lstrip()}")
            else:
                lines.append(f"{pad}- {yaml(v, indent + 2)}")
        return "\n".join(lines)
    return yaml_scalar(value)


def yaml_scalar(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"no YAML scalar for {value!r}")


class Ejabberd:
    """One ejabberd serving one host on address:5222 (c2s) and address:5269 (s2s)."""

    MODULES = {"mod_roster": {}, "mod_disco": {}, "mod_ping": {}, "mod_offline": {}}

    def __init__(self, workdir, domain, address, cert_file, key_file, ca_file, options=None, dialback=False):
        """workdir: a fresh directory (made if missing, handed to the ejabberd user).
        cert_file/key_file: PEM certificate (chain) and key for the domain, DNS names only;
        ca_file: the CA(s) it trusts for s2s peers. options: top-level options overriding the
        defaults below. dialback: load mod_s2s_dialback (else SASL EXTERNAL is the only s2s
        authentication, both ways)."""
        self.workdir = os.path.abspath(workdir)
        self.domain = domain
        self.address = address
        self.options = dict(options or {})
        self.dialback = dialback
        self.config_dir = os.path.join(self.workdir, "etc")
        self.config = os.path.join(self.config_dir, "ejabberd.yml")
        self.spool = os.path.join(self.workdir, "spool")
        self.logs = os.path.join(self.workdir, "logs")
        self.home = os.path.join(self.workdir, "home")
        self.log_path = os.path.join(self.logs, "ejabberd.log")
        self.stdout_path = os.path.join(self.workdir, "ejabberd.stdout")
        self.certfile = os.path.join(self.config_dir, f"{domain}.pem")
        self.ca_file = os.path.join(self.config_dir, "ca.pem")
        self.proc = None
        self._stdout = None
        for d in (self.config_dir, self.spool, self.logs, self.home):
            os.makedirs(d, exist_ok=True)
        with open(self.certfile, "wb") as out:
            for path in (cert_file, key_file):
                with open(path, "rb") as f:
                    out.write(f.read())
        os.chmod(self.certfile, 0o600)
        shutil.copyfile(ca_file, self.ca_file)
        cookie = os.path.join(self.home, ".erlang.cookie")
        with open(cookie, "w") as f:
            f.write(secrets.token_hex(16).upper())
        os.chmod(cookie, 0o400)
        self.write_config()

    # --- configuration ---

    def settings(self):
        listen = [
            {"port": 5222, "ip": self.address, "module": "ejabberd_c2s", "starttls_required": True,
             "max_stanza_size": 262144},
            {"port": 5269, "ip": self.address, "module": "ejabberd_s2s_in", "max_stanza_size": 524288},
        ]
        modules = dict(self.MODULES)
        if self.dialback:
            modules["mod_s2s_dialback"] = {}
        settings = {
            "hosts": [self.domain],
            "loglevel": "info",
            "log_rotate_count": 0,
            "certfiles": [self.certfile],
            "ca_file": self.ca_file,
            "listen": listen,
            "s2s_use_starttls": "required",
            "s2s_timeout": 30,
            "outgoing_s2s_families": ["ipv4"],  # the test DNS serves A records only
            "auth_method": "internal",
            "auth_password_format": "scram",
            "acl": {"local": {"user_regexp": ""}},
            "access_rules": {"local": {"allow": "local"}, "c2s": {"allow": "all"}},
            "shaper_rules": {"c2s_shaper": "none", "s2s_shaper": "none"},
            "api_permissions": {"console commands": {"from": ["ejabberd_ctl"], "who": "all", "what": "*"}},
            "modules": modules,
        }
        settings.update(self.options)
        return settings

    def write_config(self):
        with open(self.config, "w") as f:
            f.write("# written by the test (tests/integration/ejabberd.py)\n" + yaml(self.settings()) + "\n")
        with open(os.path.join(self.config_dir, "ejabberdctl.cfg"), "w") as f:
            f.write(f'ERLANG_NODE=ejabberd@localhost\nERL_DIST_PORT={DIST_PORT}\n'
                    f'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"\n'
                    f'EJABBERD_PID_PATH={self.workdir}/ejabberd.pid\n')
        with open(os.path.join(self.config_dir, "vm.args"), "w") as f:
            f.write("-kernel inet_dist_use_interface {127,0,0,1}\n")
        with open(os.path.join(self.config_dir, "inetrc"), "w") as f:
            f.write('{lookup,["file","native"]}.\n{file, hosts, "/etc/hosts"}.\n{file, resolv, "/etc/resolv.conf"}.\n')
        self._own()

    def _own(self):
        entry = pwd.getpwnam(EJABBERD_USER)
        for root, dirs, files in os.walk(self.workdir):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.chown(name, entry.pw_uid, entry.pw_gid)

    def _ctl(self, *args):
        """ejabberdctl as the ejabberd user, with this workdir's configuration and HOME."""
        return ["setpriv", f"--reuid={EJABBERD_USER}", f"--regid={EJABBERD_USER}", "--init-groups",
                "--reset-env", "env", f"HOME={self.home}", f"LOGS_DIR={self.logs}",
                f"EJABBERD_LOG_PATH={self.log_path}", f"ERL_CRASH_DUMP={self.logs}/erl_crash.dump",
                EJABBERDCTL, "--config-dir", self.config_dir, "--config", self.config,
                "--ctl-config", os.path.join(self.config_dir, "ejabberdctl.cfg"),
                "--spool", self.spool, "--logs", self.logs, *args]

    # --- process ---

    def start(self, timeout=30.0):
        """Starts ejabberd and waits until its c2s and s2s ports listen. Raises with the tail
        of its log if it exits or does not listen in time."""
        if self.proc and self.proc.poll() is None:
            raise RuntimeError("ejabberd is running already")
        self._own()
        self._stdout = open(self.stdout_path, "ab")
        self.proc = subprocess.Popen(self._ctl("foreground"), cwd=self.workdir, stdin=subprocess.DEVNULL,
                                     stdout=self._stdout, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not (listening(self.address, 5222) and listening(self.address, 5269)):
            if self.proc.poll() is not None:
                raise RuntimeError(f"ejabberd for {self.domain} exited with {self.proc.returncode}\n{self.tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"ejabberd for {self.domain} did not listen on {self.address} "
                                   f"within {timeout}s\n{self.tail()}")
            time.sleep(0.05)
        return self

    def stop(self, timeout=10.0):
        """SIGTERM to the VM, then SIGKILL to its process group. Returns the exit status."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            # ejabberdctl is a shell script waiting for the VM: both get the signal, and the VM
            # stops cleanly on SIGTERM.
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # Whatever the VM left in its group (erl_child_setup, port programs).
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
        """Creates user@domain in the running node (ejabberdctl register, over distribution)."""
        r = subprocess.run(self._ctl("register", user, self.domain, password), capture_output=True, text=True,
                           timeout=30, cwd=self.workdir)
        if r.returncode != 0:
            raise RuntimeError(f"ejabberdctl register {user}@{self.domain} failed ({r.returncode}): "
                               f"{r.stdout}{r.stderr}\n{self.tail()}")

    # --- logs ---

    def log(self):
        """Its log file (ejabberd.log: every level from debug up)."""
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def tail(self, lines=40):
        """For failure messages: what it printed, its errors and warnings, its last log lines."""
        try:
            with open(self.stdout_path, errors="replace") as f:
                printed = f.read().strip()[-4000:]
        except FileNotFoundError:
            printed = ""
        log = self.log().splitlines()
        problems = [line for line in log if "[error]" in line or "[warning]" in line][:20]
        return "\n".join(filter(None, [printed, "warnings and errors:", *problems, f"last {lines} lines:",
                                        *log[-lines:]]))

    def wait_log(self, pattern, timeout=10.0, after=0):
        """Waits for a regex in the log from offset after; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log(), after)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for /{pattern}/ in the log of ejabberd "
                                     f"{self.domain}\n{self.tail()}")
            time.sleep(0.05)
