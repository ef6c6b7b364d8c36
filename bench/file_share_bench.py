#!/usr/bin/env python3
"""HTTP file sharing (XEP-0363) throughput: xmppd's xmppd-http and Prosody 0.12's
mod_http_file_share on the same machine, over plain HTTP on loopback.

Starts xmppd (from build/) on a.test and Prosody on b.test in a private network namespace, each
with an http_file_share component, gets the slots over XMPP (slixmpp, before the clock starts),
then PUTs COUNT files of SIZE bytes one after the other on one keep-alive connection, and GETs
them back the same way (bytes checked). Reports MB/s and the CPU seconds the serving process
used (xmppd-http; Prosody's one process) per phase.

    sudo python3 bench/file_share_bench.py 200 1048576 20 10485760
(pairs of COUNT SIZE; by default 200 x 1 MiB and 20 x 10 MiB)
"""
import asyncio
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import certs  # noqa: E402
import harness  # noqa: E402
from prosody import Prosody, fresh_workdir, lua  # noqa: E402

import slixmpp  # noqa: E402

A, B = "a.test", "b.test"
ADDRESS = {A: "127.0.0.2", B: "127.0.0.3"}
UPLOAD = {A: f"upload.{A}", B: f"upload.{B}"}
PORT = 5280
LIMIT = 16 * 1024 * 1024
NS = "urn:xmpp:http:upload:0"
PASSWORD = "bench password"


def xmppd_config(workdir):
    return f"""-- written by bench/file_share_bench.py
data_path = "{workdir}/data"
empty_path = "{workdir}/empty"
interfaces = {{ "{ADDRESS[A]}" }}
c2s_ports = {{ 5222 }}
s2s_ports = {{ 5269 }}
certificates = "{workdir}/certs"
http_ports = {{ {PORT} }}
https_ports = {{ }}
http_max_content_size = {LIMIT}
VirtualHost "{A}"
Component "{UPLOAD[A]}" "http_file_share"
  http_file_share_size_limit = {LIMIT}
  http_file_share_daily_quota = {1 << 40}
"""


class ProsodyWithUpload(Prosody):
    MODULES = Prosody.MODULES + ["http"]

    def config_text(self):
        options = {"http_file_share_size_limit": LIMIT, "http_file_share_daily_quota": 1 << 40}
        lines = [super().config_text(), f'Component {lua(UPLOAD[B])} "http_file_share"']
        lines += [f"    {k} = {lua(v)}" for k, v in options.items()]
        return "\n".join(lines) + "\n"


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def get_slots(domain, ca_file, count, size):
    client = slixmpp.ClientXMPP(f"bench@{domain}/b", PASSWORD, sasl_mech="SCRAM-SHA-1")
    client.ca_certs = ca_file
    started = asyncio.get_event_loop().create_future()
    client.add_event_handler("session_start", lambda _: started.set_result(True))
    client.connect((ADDRESS[domain], 5222))
    await asyncio.wait_for(started, 20)
    slots = []
    for i in range(count):
        iq = client.make_iq_get(ito=UPLOAD[domain])
        iq.append(ET.fromstring(f"<request xmlns='{NS}' filename='f{i}-{size}.bin' size='{size}' "
                                "content-type='application/octet-stream'/>"))
        reply = await iq.send(timeout=20)
        slot = reply.xml.find(f"{{{NS}}}slot")
        put = slot.find(f"{{{NS}}}put")
        headers = {h.get("name"): h.text for h in put.findall(f"{{{NS}}}header")}
        slots.append((put.get("url"), headers))
    client.disconnect()
    return slots


def run_phase(domain, slots, data, pid, method):
    conn = http.client.HTTPConnection(UPLOAD[domain], PORT, timeout=60)  # Host: the service's name
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    for url, headers in slots:
        path = url[url.index("/", len("http://")):]
        if method == "PUT":
            conn.request("PUT", path, body=data, headers={"Content-Type": "application/octet-stream", **headers})
            response = conn.getresponse()
            response.read()
            if response.status not in (200, 201):
                raise RuntimeError(f"PUT {url}: {response.status}")
        else:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200 or body != data:
                raise RuntimeError(f"GET {url}: {response.status}, {len(body)} bytes")
    elapsed, cpu = time.monotonic() - t0, cpu_seconds(pid) - cpu0
    conn.close()
    return len(slots) * len(data) / elapsed / 1e6, cpu


def main():
    harness.enter_namespace()
    args = [int(a) for a in sys.argv[1:]] or [200, 1 << 20, 20, 10 << 20]
    plan = list(zip(args[::2], args[1::2]))
    work = tempfile.mkdtemp(prefix="xmppd-bench-upload-")
    os.chmod(work, 0o755)
    ca = certs.Authority()
    ca_file = os.path.join(work, "ca.pem")
    certs.write(ca_file, ca.pem())
    names = {A: ADDRESS[A], B: ADDRESS[B], UPLOAD[A]: ADDRESS[A], UPLOAD[B]: ADDRESS[B]}
    dns = harness.TestDns(work, names).start()
    servers = []
    try:
        xdir = fresh_workdir(work, A)
        for host in (A, UPLOAD[A]):
            key, cert = ca.issue(host, "ec")
            certs.write(f"{xdir}/certs/{host}.crt", certs.cert_pem(cert))
            certs.write(f"{xdir}/certs/{host}.key", certs.key_pem(key), 0o600)
        xmppd = harness.Server(xdir, xmppd_config(xdir))
        servers.append(xmppd)
        xmppd.start()
        kids = xmppd.wait_sandboxed_children(timeout=20, count=5)
        xmppd.wait_log(r"http\[\d+\]: http on ")
        subprocess.run([os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl"), "-f", xmppd.config, "adduser",
                        f"bench@{A}"], input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        pdir = fresh_workdir(work, B)
        key, cert = ca.issue(B, "ec", names=[B, UPLOAD[B]])
        certs.write(f"{pdir}/{B}.crt", certs.cert_pem(cert))
        certs.write(f"{pdir}/{B}.key", certs.key_pem(key), 0o600)
        prosody = ProsodyWithUpload(pdir, B, ADDRESS[B], f"{pdir}/{B}.crt", f"{pdir}/{B}.key", ca_file,
                                    options={"http_ports": [PORT], "https_ports": [],
                                             "http_interfaces": [ADDRESS[B]], "http_max_content_size": LIMIT})
        servers.append(prosody)
        prosody.start()
        prosody.register("bench", PASSWORD)
        pids = {A: kids["http"], B: prosody.proc.pid}
        print(f"{'server':8} {'files':>11} {'PUT MB/s':>9} {'PUT CPU s':>9} {'GET MB/s':>9} {'GET CPU s':>9}")
        for count, size in plan:
            data = os.urandom(size)
            for domain, name in ((A, "xmppd"), (B, "prosody")):
                slots = asyncio.new_event_loop().run_until_complete(get_slots(domain, ca_file, count, size))
                put_rate, put_cpu = run_phase(domain, slots, data, pids[domain], "PUT")
                get_rate, get_cpu = run_phase(domain, slots, data, pids[domain], "GET")
                print(f"{name:8} {count:>4} x {size >> 10:>4}K {put_rate:9.1f} {put_cpu:9.2f} {get_rate:9.1f} {get_cpu:9.2f}",
                      flush=True)
    finally:
        for server in servers:
            server.stop()
        dns.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
