#!/usr/bin/env python3
"""xmppctl store copy: the router's store moved from its SQLite file into PostgreSQL and back
without losing anything. A running xmppd fills its SQLite store through slixmpp clients (a
roster item with a name and groups, private XML, an offline message); xmppd stops; the copy
into a PostgreSQL of the test's own (postgres.py) puts every row there, ids as they were and
the id sequences past them; the copy back into an empty SQLite file gives a store, owned by
the router's user, that a restarted xmppd serves the same data from. Refused: a target that
holds data without -F (exit 1, nothing changed), a copy while xmppd runs, an unreachable
database (exit 1, a clear error)."""
import asyncio
import json
import os
import sqlite3
import subprocess
import xml.etree.ElementTree as ET

import harness
import postgres
from clients_test import Client, ClientTest, XMPPCTL

HOST = "chat.test"
PRIVATE = "jabber:iq:private"
PASSWORDS = {"alice": "alice's secret", "bob": "bob's secret"}


class StoreCopy(ClientTest):
    """One PostgreSQL for the class; each test its own xmppd and an empty database."""

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.pg_dir = tempfile.mkdtemp(prefix="xmppd-pg-")
        os.chmod(cls.pg_dir, 0o755)
        cls.pg = postgres.Postgres(cls.pg_dir).start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()
        import shutil
        shutil.rmtree(cls.pg_dir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        # An empty database for each test: the tables the copy made are the test's.
        self.pg.psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION xmppd")
        self.issue_host_certificates(HOST)
        config = harness.basic_config(self.workdir, f'certificates = "{self.workdir}/certs"\n'
                                      'modules_enabled = { "roster", "offline", "private", "disco" }\n'
                                      + self.pg.sql_option())
        self.xmppd = self.server(config.replace('VirtualHost "localhost"', f'VirtualHost "{HOST}"'))
        self.store = os.path.join(self.workdir, "data", "router", "user.sqlite")

    def copy(self, *args, json_output=False):
        return subprocess.run([XMPPCTL, *(["-j"] if json_output else []), "-f", self.xmppd.config, "store", "copy",
                               *args], capture_output=True, text=True, timeout=60)

    def edit_config(self, old, new):
        with open(self.xmppd.config) as f:
            self.xmppd.write_config(f.read().replace(old, new))

    def start_xmppd(self):
        self.xmppd.start()
        self.xmppd.wait_sandboxed_children()
        self.xmppd.wait_log(r"router\[\d+\]: TLS certificates for 1 host")

    def login(self, user, resource="copy", requests=None):
        client = Client(f"{user}@{HOST}/{resource}", PASSWORDS[user], self.ca_file)
        if requests is not None:
            client.roster.auto_authorize = None  # neither accept nor refuse
            client.roster.auto_subscribe = False
            client.add_event_handler("presence_subscribe", requests.put_nowait)
        self.clients.append(client)
        client.connect(("127.0.0.1", 5222))
        self.assertEqual(self.run_(client.outcome), "session")
        return client

    def run_(self, awaitable):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, 20))

    def logout_all(self):
        for c in self.clients:
            c.disconnect()
        self.loop.run_until_complete(asyncio.sleep(0.3))
        self.clients.clear()

    def fill_store(self):
        """Through a running xmppd: alice's roster item and private XML, an offline message
        from bob to her."""
        self.start_xmppd()
        for user, password in PASSWORDS.items():
            r = subprocess.run([XMPPCTL, "-f", self.xmppd.config, "adduser", f"{user}@{HOST}"],
                               input=password + "\n", capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
        alice = self.login("alice")
        self.run_(alice.update_roster(f"bob@{HOST}", name="Bobby", groups=["Friends", "Work"]))
        iq = alice.make_iq_set()
        query = ET.SubElement(iq.xml, f"{{{PRIVATE}}}query")
        ET.SubElement(query, "{urn:example:prefs}prefs", {"colour": "blue"}).text = "tea\tand\n<cake> \\ é"
        self.run_(iq.send(timeout=20))
        # bob is offline: the request waits for him in the store.
        alice.send_presence(pto=f"bob@{HOST}", ptype="subscribe")
        self.run_(asyncio.sleep(0.3))
        self.logout_all()
        bob = self.login("bob", requests=asyncio.Queue())  # leaves alice's request unanswered
        bob.send_message(mto=f"alice@{HOST}", mbody="while you were away", mtype="chat")
        self.run_(asyncio.sleep(0.5))
        self.logout_all()
        # Refused while xmppd runs: it would write the store under xmppd's feet.
        r = self.copy("sqlite-to-sql")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("xmppd is running", r.stderr)
        self.assertEqual(self.xmppd.stop(), 0)

    def sqlite_rows(self, path, query):
        """Rows of `query`; a BLOB (the item store's values) as the text it holds: PostgreSQL
        keeps it as text, and the copy back writes text."""
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return [tuple(v.decode() if isinstance(v, bytes) else v for v in row) for row in db.execute(query)]
        finally:
            db.close()

    def test_round_trip_through_postgresql_keeps_every_row(self):
        self.fill_store()
        before = {t: self.sqlite_rows(self.store, f'SELECT * FROM "{t}" ORDER BY 1, 2')
                  for (t,) in self.sqlite_rows(self.store, "SELECT name FROM sqlite_master WHERE type = 'table' "
                                                           "AND name NOT LIKE 'sqlite%'")}
        self.assertTrue(before["offline"] and before["roster"] and before["item"], before)

        r = self.copy("sqlite-to-sql")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"subscription_request\s+1\n")
        self.assertRegex(r.stdout, r"offline\s+1\n")
        self.assertIn(f"copied {len(before)} tables", r.stdout)
        # Every row in PostgreSQL, ids and text as they were (tabs, newlines, backslashes).
        for table, rows in before.items():
            columns = ", ".join(f'"{c}"' for (c,) in self.sqlite_rows(self.store, f"SELECT name FROM pragma_table_info('{table}')"))
            there = self.pg.psql(f'SELECT {columns} FROM "{table}" ORDER BY 1, 2')
            self.assertEqual(there, [tuple(None if v is None else str(v) for v in row) for row in rows], table)
        # SQLite's implicit rowid, by which the requests are paged, in the column PostgreSQL has for it.
        self.assertEqual(self.pg.psql("SELECT rowid, sender FROM subscription_request"),
                         [(str(rowid), sender) for rowid, sender in
                          self.sqlite_rows(self.store, "SELECT rowid, sender FROM subscription_request")])
        self.assertEqual(self.pg.psql("SELECT contact, name, groups FROM roster WHERE bare = 'alice@chat.test'"),
                         [(f"bob@{HOST}", "Bobby", "Friends\nWork")])
        # The next id PostgreSQL gives is past the ids copied.
        for table, column in (("offline", "id"), ("item", "seq"), ("subscription_request", "rowid")):
            (top,), = self.pg.psql(f"SELECT max({column}) FROM {table}")
            (next_id,), = self.pg.psql(f"SELECT nextval(pg_get_serial_sequence('{table}', '{column}'))")
            self.assertGreater(int(next_id), int(top), table)

        # Again into a database that holds the store: refused, nothing changed.
        self.pg.psql("UPDATE roster SET name = 'changed in PostgreSQL' WHERE bare = 'alice@chat.test'")
        r = self.copy("sqlite-to-sql")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("is not empty", r.stderr)
        self.assertIn("-F replaces", r.stderr)
        self.assertEqual(self.pg.psql("SELECT name FROM roster WHERE bare = 'alice@chat.test'"),
                         [("changed in PostgreSQL",)])
        r = self.copy("-F", "sqlite-to-sql", json_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual({t["table"]: t["rows"] for t in json.loads(r.stdout)},
                         {table: len(rows) for table, rows in before.items()})
        self.assertEqual(self.pg.psql("SELECT name FROM roster WHERE bare = 'alice@chat.test'"), [("Bobby",)])

        # Back into a SQLite file that does not exist: made by the router's user, 0600.
        router_dir = os.path.dirname(self.store)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.store + suffix):
                os.rename(self.store + suffix, self.store + ".old" + suffix)
        r = self.copy("sql-to-sqlite")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        st, parent = os.stat(self.store), os.stat(router_dir)
        self.assertEqual((st.st_uid, st.st_gid), (parent.st_uid, parent.st_gid))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        for table, rows in before.items():
            self.assertEqual(self.sqlite_rows(self.store, f'SELECT * FROM "{table}" ORDER BY 1, 2'), rows, table)
        # A SQLite store that holds data: refused without -F, and unchanged.
        self.pg.psql("UPDATE roster SET name = 'not copied' WHERE bare = 'alice@chat.test'")
        r = self.copy("sql-to-sqlite")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("is not empty", r.stderr)
        self.assertEqual(self.sqlite_rows(self.store, "SELECT name FROM roster WHERE bare = 'alice@chat.test'"),
                         [("Bobby",)])

        # xmppd on the copied file: the roster, the private XML and the offline message.
        self.start_xmppd()
        alice = self.login("alice", "phone")
        message = self.run_(alice.messages.get())
        self.assertEqual((message["body"], str(message["from"])), ("while you were away", f"bob@{HOST}/copy"))
        roster = self.run_(harness.fresh_roster(alice))
        items = {item["jid"].bare: item for item in roster["roster"]}
        self.assertEqual(items[f"bob@{HOST}"]["name"], "Bobby")
        self.assertEqual(sorted(items[f"bob@{HOST}"]["groups"]), ["Friends", "Work"])
        iq = alice.make_iq_get()
        ET.SubElement(ET.SubElement(iq.xml, f"{{{PRIVATE}}}query"), "{urn:example:prefs}prefs")
        prefs = self.run_(iq.send(timeout=20)).xml.find(f"{{{PRIVATE}}}query/{{urn:example:prefs}}prefs")
        self.assertEqual((prefs.get("colour"), prefs.text), ("blue", "tea\tand\n<cake> \\ é"))
        # bob: alice's request, which waited for him.
        requests = asyncio.Queue()
        self.login("bob", "desk", requests)
        self.assertEqual(str(self.run_(requests.get())["from"]), f"alice@{HOST}")

    def test_an_unreachable_database_is_a_clear_error(self):
        self.start_xmppd()
        self.assertEqual(self.xmppd.stop(), 0)
        closed = postgres.free_port()
        self.edit_config(f"port = {self.pg.port};", f"port = {closed};")
        r = self.copy("sqlite-to-sql")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(f"xmppctl: PostgreSQL database xmppd at 127.0.0.1:{closed}: ", r.stderr)
        self.assertIn("Connection refused", r.stderr)
        self.assertNotIn(self.pg.password, r.stderr)
        # A wrong password: refused by the server, said so.
        self.edit_config(f"port = {closed};", f"port = {self.pg.port};")
        self.edit_config(self.pg.password, "not the password")
        r = self.copy("sqlite-to-sql")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("password authentication failed", r.stderr)
        # A driver store copy does not copy to: the file's line, exit status 2 (the words are the
        # configuration checker's once it knows the sql option).
        self.edit_config('driver = "PostgreSQL"', 'driver = "MySQL"')
        r = self.copy("sql-to-sqlite")
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertRegex(r.stderr, r'xmppd\.conf:\d+: .*MySQL')
        # Nothing was made in the database.
        self.assertEqual(self.pg.psql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"),
                         [("0",)])


if __name__ == "__main__":
    harness.main()
