#!/usr/bin/env python3
"""Logs in to an installed xmppd as one client would (tests/package_test.sh): STARTTLS on
127.0.0.1:5222 with the server's certificate checked against CA_FILE, SASL, resource binding,
and a message to itself that must come back. Exits 0 when all of that worked.

Usage: package_login.py JID PASSWORD CA_FILE"""
import asyncio
import sys

import slixmpp


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, ca_file):
        super().__init__(jid, password)
        self.ca_certs = ca_file
        self.outcome = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self._started)
        self.add_event_handler("message", self._message)
        # slixmpp tries its next mechanism after a failed one (SCRAM-SHA-1-PLUS first, which it
        # cannot bind): only the end of the list is the answer.
        for event in ("no_auth", "failed_all_auth"):
            self.add_event_handler(event, lambda _: self._settle("authentication failed"))
        self.add_event_handler("connection_failed", lambda e: self._settle(f"connection failed: {e}"))

    def _settle(self, value):
        if not self.outcome.done():
            self.outcome.set_result(value)

    async def _started(self, _):
        self.send_presence()
        self.send_message(mto=self.boundjid.full, mbody="package test", mtype="chat")

    def _message(self, msg):
        if msg["body"] == "package test":
            self._settle("ok")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    jid, password, ca_file = sys.argv[1:]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    client = Client(jid, password, ca_file)
    client.connect(("127.0.0.1", 5222))
    try:
        outcome = loop.run_until_complete(asyncio.wait_for(client.outcome, 20))
    except asyncio.TimeoutError:
        outcome = "no session within 20 s"
    client.disconnect()
    loop.run_until_complete(asyncio.sleep(0.2))
    for task in asyncio.all_tasks(loop):
        task.cancel()
    loop.run_until_complete(asyncio.sleep(0))
    print(f"login {jid}: {outcome}")
    sys.exit(0 if outcome == "ok" else 1)


if __name__ == "__main__":
    main()
