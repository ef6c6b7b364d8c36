#!/usr/bin/env python3
"""Faults under load: two xmppd federating, bench/loadgen sending at a fixed rate within one
domain and across s2s both ways, and each child of the first server SIGKILLed in turn (tls
helper, auth helper, s2s worker, router). Each must be restarted and linked again, service
(a fresh login and messages within the domain and across s2s) must come back within a few
seconds, and the stored data (accounts, a roster entry, an offline message) must outlive the
kills.

Every message loadgen sent is accounted for by its id (loadgen --trace): delivered once,
bounced with an error while a process was down, or lost inside a killed process. Only the
router and the s2s worker carry stanzas, so only their kills may lose any, and only messages
sent just around the kill instant (KILL_WINDOW): a message lost outside it, a duplicate, a
bounce outside an outage, or a message both delivered and bounced fails the test. The figures are printed (FAULT FIGURES) and summarized in
BENCHMARKS.md."""
import asyncio
import collections
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import harness
import streams
from clients_test import Client
from federation_test import ADDRESS, A, B, FederationTest

LOADGEN = os.path.join(harness.BUILD_DIR, "bench", "loadgen")
UNLIMITED = "max_connections_per_address = 0\nmax_unauthenticated_per_address = 0\n"
PAIRS = 10
RATE = 60  # messages/s for each of the three loads
# name: (sender domain, receiver domain, first sender account, receiver offset)
LOADS = {"within a.test": (A, A, 1, PAIRS), "a.test -> b.test": (A, B, 2 * PAIRS + 1, 0),
         "b.test -> a.test": (B, A, 3 * PAIRS + 1, 0)}
ROLES = ["tls", "auth", "s2s", "router"]
# The links the parent makes again when a role is restarted ("linked X and Y").
LINKS = {"tls": ["router and tls", "s2s and tls"], "auth": ["router and auth"],
         "s2s": ["router and s2s", "s2s and tls"],
         "router": ["router and tls", "router and auth", "router and s2s"]}
# Messages sent from this long before a router or s2s kill to this long after it may have
# been inside the killed process (its memory, its sockets' buffers) or written to a peer
# before that peer noticed the death: they may be lost. Nothing else may.
KILL_WINDOW = (1.0, 0.5)
SERVICE_LIMIT = 5.0  # seconds from a kill to a fresh login and messages delivered


class Probe(Client):
    """A client whose login attempt also ends when the connection fails or closes."""

    def __init__(self, *args):
        super().__init__(*args)
        for event in ("connection_failed", "disconnected"):
            self.add_event_handler(event, lambda *_, e=event: self._settle(e))

    def stop(self):
        self.cancel_connection_attempt()
        if self.transport:
            self.transport.abort()


class Faults(FederationTest):
    def wait(self, awaitable, timeout=20):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def accounts(self, server, names):
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda name_password: self.adduser(server, *name_password), names))

    def start_load(self, name, sender, receiver, first, offset):
        trace = os.path.join(self.workdir, f"trace-{first}")
        stderr = open(os.path.join(self.workdir, f"loadgen-{first}.log"), "w+")
        self.addCleanup(stderr.close)
        proc = subprocess.Popen(
            [LOADGEN, "--mode", "messages", "--sender", f"{ADDRESS[sender]}:5222", "--sender-domain", sender,
             "--receiver", f"{ADDRESS[receiver]}:5222", "--receiver-domain", receiver, "--cafile", self.ca_file,
             "--accounts", str(PAIRS), "--first-account", str(first), "--receiver-offset", str(offset),
             "--rate", str(RATE), "--warmup", "0", "--duration", "600", "--drain", "4", "--reconnect", "0.2",
             "--login-timeout", "5", "--trace", trace, "--json"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, text=True)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        return {"name": name, "proc": proc, "trace": trace, "stderr": stderr}

    def loadgen_log(self, load):
        load["stderr"].seek(0)
        return load["stderr"].read()

    async def login_until(self, jid, password, deadline):
        """Logs in, trying again until `deadline` (time.monotonic()) while the server is not back."""
        domain = jid.split("@")[1].split("/")[0]
        while True:
            client = Probe(jid, password, self.ca_file)
            client.connect((ADDRESS[domain], 5222))
            try:
                outcome = await asyncio.wait_for(asyncio.shield(client.outcome), max(0.1, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                outcome = "timeout"
            if outcome == "session":
                self.clients.append(client)
                return client
            client.stop()
            if time.monotonic() >= deadline:
                raise AssertionError(f"{jid} could not log in: {outcome}")
            await asyncio.sleep(0.05)

    async def exchange(self, sender, receiver, deadline):
        """A message from sender to receiver, sent again after a bounce (or a second without an
        answer: lost in a dying process) until one arrives."""
        while True:
            body = f"probe {time.monotonic_ns()}"
            message = sender.make_message(mto=receiver.boundjid.full, mbody=body, mtype="chat")
            message.send()
            again_at = min(deadline, time.monotonic() + 1.0)
            bounced = False
            while not bounced and time.monotonic() < again_at:
                while not receiver.messages.empty():
                    if receiver.messages.get_nowait()["body"] == body:
                        return
                while not sender.messages.empty():
                    answer = sender.messages.get_nowait()
                    bounced |= answer["type"] == "error" and answer["id"] == message["id"]
                await asyncio.sleep(0.02)
            if time.monotonic() >= deadline:
                raise AssertionError(f"no message from {sender.boundjid} reached {receiver.boundjid}")
            await asyncio.sleep(0.05)

    async def service(self, role, remote, deadline):
        """Fresh logins at a.test, messages within it and across s2s both ways."""
        first = await self.login_until(f"probe1@{A}/{role}", "probe pw", deadline)
        second = await self.login_until(f"probe2@{A}/{role}", "probe pw", deadline)
        await self.exchange(first, second, deadline)
        await self.exchange(first, remote, deadline)
        await self.exchange(remote, first, deadline)
        for c in (first, second):
            c.disconnect()

    def kill(self, server, role, remote):
        before = server.children()
        mark = len(server.log())
        killed_at = time.monotonic_ns()
        os.kill(before[role], signal.SIGKILL)
        server.wait_log(rf"{role} \(pid {before[role]}\) killed by signal 9", after=mark)
        restart = server.wait_log(rf"{role} \(pid \d+\) is ready", after=mark)
        restarted_at = time.monotonic_ns()
        for link in LINKS[role]:
            server.wait_log(rf"linked {link}\n", after=restart.start())
        linked_at = time.monotonic_ns()
        self.wait(self.service(role, remote, killed_at / 1e9 + SERVICE_LIMIT), SERVICE_LIMIT + 5)
        served_at = time.monotonic_ns()
        after = server.children()
        for other in ROLES:
            self.assertEqual(after[other] != before[other], other == role, f"{other} after killing {role}")
        return {"role": role, "killed_ns": killed_at, "ready_s": (restarted_at - killed_at) / 1e9,
                "linked_s": (linked_at - killed_at) / 1e9, "service_s": (served_at - killed_at) / 1e9}

    def test_each_child_killed_under_load(self):
        a, b = self.start_xmppd(A, extra=UNLIMITED), self.start_xmppd(B, extra=UNLIMITED)
        self.accounts(a, [(f"user{n}@{A}", f"password{n}") for n in range(1, 4 * PAIRS + 1)] +
                      [(f"{u}@{A}", f"{u} pw") for u in ("alice", "carol", "dave")] +
                      [(f"probe{n}@{A}", "probe pw") for n in (1, 2)])
        self.accounts(b, [(f"user{n}@{B}", f"password{n}") for n in range(2 * PAIRS + 1, 4 * PAIRS + 1)] +
                      [(f"probe@{B}", "probe pw")])

        # Stored before the kills: a roster entry, and a message kept offline for dave.
        alice = self.login(f"alice@{A}/before", "alice pw")
        self.wait(alice.update_roster(f"carol@{A}", name="Carol", groups=["Kept"]))
        alice.send_message(mto=f"dave@{A}", mbody="kept while the router died", mtype="chat")
        alice.disconnect()
        remote = self.login(f"probe@{B}/steady", "probe pw")

        loads = [self.start_load(name, *spec) for name, spec in LOADS.items()]
        for load in loads:
            harness.wait_for(lambda: "primed in" in self.loadgen_log(load) or load["proc"].poll() is not None,
                             60, f"loadgen {load['name']} sending")
            self.assertIsNone(load["proc"].poll(), self.loadgen_log(load))
        time.sleep(2)

        kills = []
        for role in ROLES:
            kills.append(self.kill(a, role, remote))
            time.sleep(3)  # under load again before the next kill

        # The stored data outlived the kills: accounts log in, the roster and offline message are there.
        dave = self.login(f"dave@{A}/after", "dave pw")
        offline = self.receive(dave, 10)
        self.assertEqual((offline["body"], str(offline["from"].bare)), ("kept while the router died", f"alice@{A}"))
        alice = self.login(f"alice@{A}/after", "alice pw")
        roster = self.wait(harness.fresh_roster(alice), 10)["roster"]["items"]
        self.assertIn(f"carol@{A}", {str(j) for j in roster})
        self.assertEqual(roster[f"carol@{A}"]["name"], "Carol")

        results = []
        for load in loads:
            load["proc"].send_signal(signal.SIGINT)
        for load in loads:
            out, _ = load["proc"].communicate(timeout=30)
            self.assertEqual(load["proc"].returncode, 0, self.loadgen_log(load)[-3000:])
            results.append(json.loads(out))
        figures = self.account(loads, results, kills)
        sys.stderr.write("FAULT FIGURES " + json.dumps(figures) + "\n")
        for kill in kills:
            self.assertLess(kill["service_s"], SERVICE_LIMIT, kill)

    def test_a_restarted_router_accepts_once_its_certificates_are_in(self):
        # Offered before them, a stream would get no STARTTLS; a remote server would fall
        # back, fail and back off (b.test did, for 5 s, after the s2s worker's restart).
        a = self.start_xmppd(A, s2s=False)
        kids = a.children()
        os.kill(kids["tls"], signal.SIGSTOP)  # it will not answer the new router's link
        self.addCleanup(lambda: harness.proc_status(kids["tls"]) and os.kill(kids["tls"], signal.SIGCONT))
        mark = len(a.log())
        os.kill(kids["router"], signal.SIGKILL)
        a.wait_log(r"router \(pid \d+\) is ready", after=mark)
        a.wait_log(r"linked router and tls", after=mark)
        sock = socket.create_connection((ADDRESS[A], 5222), timeout=10)
        self.addCleanup(sock.close)
        sock.sendall(streams.header(A))
        sock.settimeout(1.5)
        with self.assertRaises(TimeoutError):
            sock.recv(4096)  # waiting in the backlog
        os.kill(kids["tls"], signal.SIGCONT)
        sock.settimeout(10)
        features = streams.read_until(sock, b"</stream:features>")
        self.assertIn(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>", features)
        self.assertRegex(a.log()[mark:], r"router\[\d+\]: c2s on 127.0.0.2 port 5222 \(accepting once the TLS "
                         r"certificates are in\)")

    def account(self, loads, results, kills):
        """Sorts every message of every load; fails on any that is not delivered once, bounced,
        or lost within a kill window of the router or s2s worker."""
        windows = [(k["killed_ns"] - int(KILL_WINDOW[0] * 1e9), k["killed_ns"] + int(KILL_WINDOW[1] * 1e9))
                   for k in kills if k["role"] in ("router", "s2s")]
        # A bounce says that a process on the way was missing: from just before a kill until
        # service was back, and at no other time.
        outages = [(k["killed_ns"] - int(KILL_WINDOW[0] * 1e9), k["killed_ns"] + int(k["service_s"] * 1e9))
                   for k in kills]
        per_role = {k["role"]: collections.Counter() for k in kills}
        totals = collections.Counter()
        conditions = collections.Counter()
        wrong = []
        for load, result in zip(loads, results):
            sent, received, bounced = {}, collections.Counter(), {}
            reconnects = collections.Counter()
            with open(load["trace"]) as f:
                for line in f:
                    kind, *rest = line.split()
                    if kind in ("s", "r", "b"):
                        key = (int(rest[0]), int(rest[1]))
                        if kind == "s":
                            sent[key] = int(rest[2])
                        elif kind == "r":
                            received[key] += 1
                        else:
                            bounced[key] = (int(rest[2]), rest[3] if len(rest) > 3 else "?")
                    elif kind in ("d", "o"):
                        reconnects[kind] += 1
            self.assertEqual(len(sent), result["sent"], load["name"])
            self.assertGreater(len(sent), RATE * 10, f"{load['name']} sent too little to prove anything")
            for key, at in sent.items():
                # The kill this message was nearest to, for the figures.
                near = min(kills, key=lambda k: abs(k["killed_ns"] - at))
                if received[key] == 1 and key not in bounced:
                    group = "delivered"
                elif received[key] == 0 and key in bounced and any(lo <= at <= hi for lo, hi in outages):
                    group = "bounced"
                    conditions[bounced[key][1]] += 1
                elif received[key] == 0 and any(lo <= at <= hi for lo, hi in windows):
                    group = "lost in the killed process"
                else:
                    group = "wrong"
                    wrong.append((load["name"], key, received[key], bounced.get(key), (at - near["killed_ns"]) / 1e9,
                                  near["role"]))
                totals[group] += 1
                if at >= near["killed_ns"] - KILL_WINDOW[0] * 1e9 and at <= near["killed_ns"] + KILL_WINDOW[1] * 1e9:
                    per_role[near["role"]]["sent in the window"] += 1
                if group == "bounced":
                    per_role[near["role"]]["bounced " + bounced[key][1]] += 1
                if group != "delivered":
                    per_role[near["role"]][group] += 1
                    per_role[near["role"]]["farthest " + group] = max(
                        per_role[near["role"]]["farthest " + group], round(abs(at - near["killed_ns"]) / 1e9, 3))
            totals["disconnects"] += reconnects["d"]
            totals["logins again"] += reconnects["o"]
        figures = {"loads": {load["name"]: {k: r[k] for k in ("sent", "received", "bounced", "duplicates", "reconnects")}
                             for load, r in zip(loads, results)},
                   "totals": dict(totals),
                   "bounce conditions": dict(conditions),
                   "kills": [{**{k: v for k, v in kill.items() if k != "killed_ns"}, **per_role[kill["role"]]}
                             for kill in kills]}
        self.assertEqual(wrong, [], "messages neither delivered once, nor bounced during an outage, nor lost in "
                         f"a killed process: {figures}")
        # Every client that lost its connection in the router kill logged in again.
        self.assertEqual(totals["disconnects"], totals["logins again"], figures)
        return figures


if __name__ == "__main__":
    harness.main()
