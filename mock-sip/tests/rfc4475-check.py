#!/usr/bin/env python3
"""rfc4475-check.py BINARY DIR - the RFC 4475 torture messages against mock-sip.

Each message in DIR/messages goes to the server once over UDP and once on a fresh TCP
connection; what comes back (a status, nothing, or a closed connection) must be what
DIR/EXPECT.tsv allows, and after every message an OPTIONS must still get 200 on both
transports. The server must exit 0 on SIGTERM (under ASan a leak or error makes it fail).
Expectation words: a status (400), "processed" (a response other than 400), "any" (any
response), "drop" (no response), "close" (TCP closed, with or without a response),
"wait" (TCP: no response, connection still open); alternatives joined with "|".
"""
import json, os, select, signal, socket, subprocess, sys, tempfile, time

binary, d = sys.argv[1], sys.argv[2]
root = os.path.abspath(os.path.join(d, "..", "..", ".."))
tmp = tempfile.mkdtemp()
ev = os.path.join(tmp, "events.jsonl")
base = 20000 + (os.getpid() % 1500) * 20
srv = subprocess.Popen([binary, "--listen", "127.0.0.1", "--sip-port", "0", "--tls-port", "0",
                        "--stun-port", "0", "--peer-user", "", "--media-range",
                        "%d-%d" % (base, base + 99), "--users",
                        os.path.join(root, "mock-oam/examples/accounts.json"),
                        "--events", ev], stderr=open(os.path.join(tmp, "server.log"), "w"))
port = None
for _ in range(100):
    if os.path.exists(ev):
        for l in open(ev):
            e = json.loads(l)
            if e["event"] == "server.listen" and e["proto"] == "udp":
                port = int(e["address"].rsplit(":", 1)[1])
    if port:
        break
    time.sleep(0.1)
assert port, "server did not start"
addr = ("127.0.0.1", port)
WAIT = 0.7


def status_of(data):
    if data.startswith(b"SIP/2.0 "):
        return int(data[8:11])
    return None


def udp(msg):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.sendto(msg, addr)
    r, _, _ = select.select([s], [], [], WAIT)
    out = status_of(s.recv(65536)) if r else "drop"
    s.close()
    return out


def tcp(msg):
    s = socket.create_connection(addr, timeout=2)
    s.sendall(msg)
    deadline, data, closed = time.time() + WAIT, b"", False
    while time.time() < deadline:
        r, _, _ = select.select([s], [], [], deadline - time.time())
        if not r:
            break
        chunk = s.recv(65536)
        if not chunk:
            closed = True
            break
        data += chunk
        if b"\r\n\r\n" in data:
            break
    s.close()
    st = status_of(data) if data else None
    if closed:
        return "close" if st is None else "%d+close" % st
    return st if st is not None else "wait"


def allowed(got, spec):
    for alt in spec.split("|"):
        if alt == "any" and isinstance(got, int):
            return True
        if alt == "processed" and isinstance(got, int) and got != 400:
            return True
        if alt == "close" and isinstance(got, str) and got.endswith("close"):
            return True
        if alt == str(got):
            return True
    return False


OPTIONS = (b"OPTIONS sip:%s:%d SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:9;branch=z9hG4bK%d\r\n"
           b"Max-Forwards: 70\r\nFrom: <sip:check@x>;tag=1\r\nTo: <sip:x@x>\r\n"
           b"Call-ID: alive%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
failures, n = [], 0
for line in open(os.path.join(d, "EXPECT.tsv")):
    if line.startswith("#") or not line.strip():
        continue
    f, exp_udp, exp_tcp = line.split()[:3]
    msg = open(os.path.join(d, "messages", f), "rb").read()
    for name, fn, spec, proto in (("udp", udp, exp_udp, b"UDP"), ("tcp", tcp, exp_tcp, b"TCP")):
        got = fn(msg)
        n += 1
        ok = allowed(got, spec)
        alive = fn(OPTIONS % (b"127.0.0.1", port, proto, n, n))
        print("%-14s %-3s got %-12s want %-22s %s%s" % (f, name, got, spec,
              "ok" if ok else "FAIL", "" if alive == 200 else " (server not answering!)"))
        if not ok or alive != 200:
            failures.append((f, name, got, spec, alive))
srv.send_signal(signal.SIGTERM)
rc = srv.wait(timeout=20)
print("%d checks, %d failures, server exit %d" % (n, len(failures), rc))
if rc != 0:
    print(open(os.path.join(tmp, "server.log")).read()[-3000:])
sys.exit(1 if failures or rc != 0 else 0)
