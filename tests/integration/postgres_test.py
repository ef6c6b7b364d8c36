#!/usr/bin/env python3
"""storage = "sql" with PostgreSQL (issue 15): a real PostgreSQL 15 of the test's own (initdb and
pg_ctl in a temporary directory, as the package's postgres user, on 127.0.0.1 with scram-sha-256
for xmppd's role), and xmppd's storage process (xmppd-storage) between it and the router.

  - a roster item and an offline message survive a restart of xmppd, and are rows in PostgreSQL;
  - the password is in the memory of the parent and the storage process, and of no other;
  - the storage process runs sandboxed, as its own user, chrooted to DATA_PATH/storage;
  - PostgreSQL stopped: a roster set gets an error at once (no stall); started again: the same
    request works, without restarting xmppd.
The server is started once for the class; each test has an xmppd of its own."""
import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

import slixmpp

import certs
import harness
from clients_test import Client, ClientTest
from harness import basic_config, proc_status, read_memory, user_ids

HOST = "chat.test"
PG_BIN = "/usr/lib/postgresql/15/bin"
PG_PORT = 5432  # the test's own network namespace: nothing else listens there
PASSWORD = "xmppd's pg password 7f3c9a"  # sought in each process's memory
XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")
NS_ROSTER = "jabber:iq:roster"


class PostgresServer:
    """A PostgreSQL cluster in `directory`, run by the postgres user (initdb refuses root)."""

    def __init__(self, directory):
        self.directory = directory
        self.data = os.path.join(directory, "data")

    def run(self, *command, check=True):
        return subprocess.run(["runuser", "-u", "postgres", "--", *command], capture_output=True, text=True,
                              check=check, timeout=60)

    def init(self):
        os.makedirs(self.directory)
        shutil.chown(self.directory, "postgres", "postgres")
        self.run(f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust",
                 "--auth-host=scram-sha-256", "--no-sync")
        self.start()
        self.psql("postgres", f"CREATE ROLE xmppd LOGIN PASSWORD '{PASSWORD.replace(chr(39), chr(39) * 2)}'")
        self.psql("postgres", "CREATE DATABASE xmppd OWNER xmppd")

    def start(self):
        self.run(f"{PG_BIN}/pg_ctl", "-D", self.data, "-w", "-l", os.path.join(self.directory, "log"), "-o",
                 f"-k {self.directory} -c listen_addresses=127.0.0.1 -p {PG_PORT} -c fsync=off", "start")

    def stop(self):
        self.run(f"{PG_BIN}/pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop", check=False)

    def psql(self, database, sql):
        """One statement over the Unix socket, as the superuser; its rows, unaligned."""
        return self.run("psql", "-h", self.directory, "-p", str(PG_PORT), "-d", database, "-tAc", sql).stdout.strip()


def config(workdir):
    text = basic_config(workdir, f'certificates = "{workdir}/certs"\n'
                                 'storage = "sql"\n'
                                 f'sql = {{ driver = "PostgreSQL"; database = "xmppd"; host = "127.0.0.1"; '
                                 f'port = {PG_PORT}; username = "xmppd"; password = "{PASSWORD}" }}\n')
    return text.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"')


class Postgres(ClientTest):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(f"{PG_BIN}/initdb"):
            raise AssertionError("postgresql-15 is needed (./dev installs it)")
        cls.pg_dir = tempfile.mkdtemp(prefix="xmppd-pg-")
        os.chmod(cls.pg_dir, 0o755)
        cls.pg = PostgresServer(os.path.join(cls.pg_dir, "pg"))
        cls.pg.init()

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()
        shutil.rmtree(cls.pg_dir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        os.makedirs(f"{self.workdir}/certs", exist_ok=True)
        self.issue_host_certificates(HOST)
        self.xmppd = self.server(config(self.workdir)).start()
        self.kids = self.xmppd.wait_sandboxed_children(count=5, timeout=20)
        self.xmppd.wait_log(r"storage\[\d+\]: database: connected")
        self.xmppd.wait_log(r"linked router and storage")

    def xmppctl(self, *args, password=""):
        return subprocess.run([XMPPCTL, "-f", self.xmppd.config, *args], input=password + "\n", capture_output=True,
                              text=True, timeout=30)

    def adduser(self, user):
        r = self.xmppctl("adduser", f"{user}@{HOST}", password=f"{user}'s secret")
        self.assertEqual(r.returncode, 0, r.stderr)

    def login(self, user):
        client = Client(f"{user}@{HOST}/phone", f"{user}'s secret", self.ca_file)
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        outcome = self.loop.run_until_complete(asyncio.wait_for(client.outcome, 20))
        self.assertEqual(outcome, "session")
        return client

    def iq(self, client, kind, payload, timeout=10):
        """The answer (a result or an error) of one IQ from `client`."""
        iq = client.Iq()
        iq["type"] = kind
        iq.append(ET.fromstring(payload))
        try:
            return self.loop.run_until_complete(iq.send(timeout=timeout))
        except slixmpp.exceptions.IqError as e:
            return e.iq

    def roster_set(self, client, jid):
        return self.iq(client, "set", f"<query xmlns='{NS_ROSTER}'><item jid='{jid}'/></query>")

    def roster(self, client):
        result = self.iq(client, "get", f"<query xmlns='{NS_ROSTER}'/>")
        return [i.get("jid") for i in result.xml.findall(f"{{{NS_ROSTER}}}query/{{{NS_ROSTER}}}item")]

    def test_data_survives_a_restart_and_is_in_postgresql(self):
        self.adduser("alice")
        self.adduser("bob")
        alice = self.login("alice")
        self.assertEqual(self.roster_set(alice, f"bob@{HOST}")["type"], "result")
        alice.disconnect()
        self.loop.run_until_complete(asyncio.sleep(0.5))
        bob = self.login("bob")
        bob.send_message(mto=f"alice@{HOST}", mbody="kept for you in PostgreSQL", mtype="chat")
        self.iq(bob, "get", "<ping xmlns='urn:xmpp:ping'/>")  # the message is routed (and stored) first
        wait = harness.wait_for
        wait(lambda: self.pg.psql("xmppd", f"SELECT count(*) FROM offline WHERE bare = 'alice@{HOST}'") == "1",
             10, "the offline message in PostgreSQL")
        self.assertEqual(self.pg.psql("xmppd", f"SELECT contact FROM roster WHERE bare = 'alice@{HOST}'"),
                         f"bob@{HOST}")
        # Nothing in the router's directory: its SQLite file is not made.
        self.assertFalse(os.path.exists(f"{self.workdir}/data/router/user.sqlite"))

        for client in self.clients:
            client.disconnect()
        self.loop.run_until_complete(asyncio.sleep(0.3))
        self.clients = []
        self.xmppd.stop()
        self.xmppd.start()
        self.xmppd.wait_sandboxed_children(count=5, timeout=20)
        harness.wait_for(lambda: self.xmppd.log().count("linked router and storage") >= 2, 20, "the new link")

        alice = self.login("alice")
        message = self.loop.run_until_complete(asyncio.wait_for(alice.messages.get(), 10))
        self.assertEqual(message["body"], "kept for you in PostgreSQL")
        self.assertEqual(self.roster(alice), [f"bob@{HOST}"])
        self.assertEqual(self.pg.psql("xmppd", f"SELECT count(*) FROM offline WHERE bare = 'alice@{HOST}'"), "0")

    def test_the_storage_process_is_sandboxed_and_alone_with_the_password(self):
        pid = self.kids["storage"]
        status = proc_status(pid)
        self.assertEqual(status["Seccomp"], "2")
        self.assertEqual(status["NoNewPrivs"], "1")
        self.assertEqual(status["CapEff"], "0000000000000000")
        uid, gid = user_ids("_xmppd_storage")
        self.assertEqual(status["Uid"].split(), [str(uid)] * 4)
        self.assertEqual(status["Gid"].split(), [str(gid)] * 4)
        self.assertEqual(os.readlink(f"/proc/{pid}/root"), f"{self.workdir}/data/storage")
        self.assertEqual(os.listdir(f"{self.workdir}/data/storage"), [])
        secret = PASSWORD.encode()
        self.assertIn(secret, read_memory(pid), "control failed: the password is not in the storage process")
        self.assertIn(secret, read_memory(self.xmppd.proc.pid), "control failed: not in the parent")
        for role in ("router", "s2s", "tls", "auth"):
            with self.subTest(role=role):
                self.assertNotIn(secret, read_memory(self.kids[role]))

    def test_postgresql_stopped_gives_errors_and_service_comes_back_by_itself(self):
        self.adduser("carol")
        carol = self.login("carol")
        self.assertEqual(self.roster_set(carol, f"dave@{HOST}")["type"], "result")
        self.pg.stop()
        try:
            started = time.monotonic()
            answer = self.roster_set(carol, f"erin@{HOST}")
            self.assertEqual(answer["type"], "error")
            self.assertIn(answer["error"]["condition"], ("internal-server-error", "resource-constraint"))
            self.assertLess(time.monotonic() - started, 5, "the error comes without a long stall")
            # The next one too, at once: the storage process knows the server is gone.
            started = time.monotonic()
            self.assertEqual(self.roster_set(carol, f"erin@{HOST}")["type"], "error")
            self.assertLess(time.monotonic() - started, 2)
        finally:
            self.pg.start()
        harness.wait_for(lambda: self.roster_set(carol, f"erin@{HOST}")["type"] == "result", 15,
                         "a roster set that works again")
        self.assertEqual(sorted(self.roster(carol)), [f"dave@{HOST}", f"erin@{HOST}"])
        self.assertEqual(self.pg.psql("xmppd", f"SELECT count(*) FROM roster WHERE bare = 'carol@{HOST}'"), "2")
        # The storage process was never restarted: it reconnected by itself.
        self.assertEqual(self.xmppd.children()["storage"], self.kids["storage"])

    def test_a_killed_storage_process_is_restarted_and_the_router_links_to_it_again(self):
        self.adduser("frank")
        frank = self.login("frank")
        os.kill(self.kids["storage"], signal.SIGKILL)
        new = harness.wait_for(lambda: (pid := self.xmppd.children().get("storage")) not in (None, self.kids["storage"])
                               and proc_status(pid).get("Seccomp") == "2" and pid, 15, "a new storage process")
        harness.wait_for(lambda: self.roster_set(frank, f"grace@{HOST}")["type"] == "result", 15,
                         "a roster set through the new storage process")
        self.assertEqual(self.roster(frank), [f"grace@{HOST}"])
        # The router was not restarted: it took the new link.
        self.assertEqual(self.xmppd.children()["router"], self.kids["router"])
        self.assertNotEqual(new, self.kids["storage"])


if __name__ == "__main__":
    harness.main()
