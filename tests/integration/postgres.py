"""A PostgreSQL server of a test's own, for the tests of the sql storage backend and of xmppctl
store copy: initdb and pg_ctl (Debian's postgresql-15) in a directory under the test's, run as
the package's `postgres` user (PostgreSQL refuses root), listening on 127.0.0.1 on a free port
with scram-sha-256 password authentication for one role and its database, and on a Unix
socket in its directory for the test's own queries (psql as the superuser, trusted locally).

    pg = Postgres(workdir).start()
    pg.sql_option()      # the xmppd.conf line: sql = { driver = "PostgreSQL"; ... }
    pg.psql("SELECT count(*) FROM roster")   # -> [("2",)]
    pg.stop()

Nothing listens outside 127.0.0.1; fsync is off (a test's data need not survive a crash) unless
`durable` (the benchmarks)."""
import os
import pwd
import shutil
import socket
import subprocess

BIN = "/usr/lib/postgresql/15/bin"


def available():
    return os.path.exists(os.path.join(BIN, "initdb"))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self, workdir, database="xmppd", username="xmppd", password="pg secret of xmppd",
                 port=None, name="postgres", durable=False):
        self.dir = os.path.join(workdir, name)
        self.database, self.username, self.password = database, username, password
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.os_user = "postgres" if _user_exists("postgres") else "nobody"
        self.log_path = os.path.join(self.dir, "server.log")
        self.started = False
        self.durable = durable  # fsync as a real server does (the benchmarks); tests need not

    def _as_server_user(self, *command, **kwargs):
        return subprocess.run(["runuser", "-u", self.os_user, "--", *command], capture_output=True, text=True,
                              timeout=kwargs.pop("timeout", 60), **kwargs)

    def start(self):
        """initdb on the first start; the server up and the role and database made."""
        if not available():
            # CI installs it (./dev): a test that needs it fails rather than skips.
            raise RuntimeError(f"{BIN}/initdb not found: install postgresql-15")
        fresh = not os.path.exists(os.path.join(self.dir, "data", "PG_VERSION"))
        if fresh:
            os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
            entry = pwd.getpwnam(self.os_user)
            for path in (self.dir, os.path.join(self.dir, "data")):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            os.chmod(self.dir, 0o755)
            r = self._as_server_user(f"{BIN}/initdb", "-D", os.path.join(self.dir, "data"), "-U", "postgres",
                                     "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
                                     "--encoding=UTF8", "--locale=C")
            if r.returncode != 0:
                raise RuntimeError(f"initdb failed: {r.stdout}{r.stderr}")
        options = f"-c listen_addresses={self.host} -p {self.port} -k {self.dir}"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        r = self._as_server_user(f"{BIN}/pg_ctl", "-D", os.path.join(self.dir, "data"), "-l", self.log_path,
                                 "-w", "-t", "30", "-o", options, "start")
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {r.stdout}{r.stderr}\n{self.log()}")
        self.started = True
        if fresh:
            self.psql(f"CREATE ROLE {self.username} LOGIN PASSWORD '{self.password}'", database="postgres")
            self.psql(f"CREATE DATABASE {self.database} OWNER {self.username}", database="postgres")
        return self

    def stop(self):
        if self.started:
            self._as_server_user(f"{BIN}/pg_ctl", "-D", os.path.join(self.dir, "data"), "-m", "fast", "-w", "stop")
            self.started = False

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def psql(self, query, database=None, check=True):
        """Rows of `query` (a list of tuples of strings; NULL as None) as the superuser."""
        r = self._as_server_user("/usr/bin/psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-R", "\x1e", "-P",
                                 "null=\x1dNULL", "-h", self.dir, "-p", str(self.port), "-U", "postgres",
                                 "-d", database or self.database, "-v", "ON_ERROR_STOP=1", "-c", query)
        if check and r.returncode != 0:
            raise RuntimeError(f"psql {query!r}: {r.stderr}")
        text = r.stdout.rstrip("\n")
        if not text:
            return []
        return [tuple(None if v == "\x1dNULL" else v for v in row.split("\x1f"))
                for row in text.rstrip("\x1e").split("\x1e")]

    @property
    def dsn(self):
        return (f"host={self.host} port={self.port} dbname={self.database} user={self.username} "
                f"password={self.password}")

    def sql_option(self):
        """The line of xmppd.conf (Prosody's syntax) that names this database."""
        return (f'sql = {{ driver = "PostgreSQL"; database = "{self.database}"; host = "{self.host}"; '
                f'port = {self.port}; username = "{self.username}"; password = "{self.password}" }}\n')


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


if __name__ == "__main__":  # a manual check: start, query, stop
    import tempfile
    work = tempfile.mkdtemp()
    os.chmod(work, 0o755)
    pg = Postgres(work).start()
    print(pg.psql("SELECT 1, NULL, 'two'"))
    pg.stop()
    shutil.rmtree(work)
