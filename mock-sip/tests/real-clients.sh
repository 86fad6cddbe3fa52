#!/usr/bin/env bash
# real-clients.sh BUILD_DIR - mock-sip against real SIP clients, on loopback, ports picked at
# run time (IPv4, and IPv6 for SIPp registrations):
#   SIPp (tests/sipp/*.xml): REGISTER with digest, OPTIONS, and a call to the built-in peer with
#        RTP echoed through the relay (-rtp_echo), over UDP and over TCP; a call with a
#        re-INVITE; a call cancelled while a second SIPp (bob) rings; an answered call from
#        alice to bob with G.711 played by alice and echoed by bob;
#   baresip (temp config dir): registers over UDP, TCP and TLS; calls the peer over TLS with
#        audio from a file; is called by the peer (control socket `call alice 3`) over the
#        TLS connection it registered on.
# coturn's turnutils_stunclient gets its mapped address from the STUN port and the first media
# port. The journal must show every registration, both relay legs of every call with packets in and
# out, and the server must exit 0 on SIGTERM. (Debian's SIPp has no TLS: baresip covers it.)
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$build/mock-sip/mock-sip
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "real-clients: FAIL: $*" >&2; tail -n 20 "$tmp/server.log" >&2 || true; exit 1; }

free_port() { python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

"$root/scripts/mkcerts" "$tmp/certs" >/dev/null
base=$(( 20000 + (RANDOM % 1500) * 20 ))
ev=$tmp/events.jsonl
stun=$(free_port)
"$bin" --listen 127.0.0.1 --listen ::1 --sip-port 0 --tls-port 0 --stun-port "$stun" \
  --media-range "$base-$((base + 199))" --users "$root/mock-oam/examples/accounts.json" \
  --cert "$tmp/certs/localhost.pem" --key "$tmp/certs/localhost.key" \
  --control "$tmp/ctl" --events "$ev" 2>"$tmp/server.log" &
pid=$!
for _ in $(seq 100); do grep -q '"server.start"' "$ev" 2>/dev/null && break; sleep 0.1; done
grep -q '"server.start"' "$ev" || fail "server did not start"
addr() { python3 - "$ev" "$1" "$2" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if (e["event"] == "server.listen" and e["proto"] == sys.argv[2]
            and e["address"].startswith(sys.argv[3])):
        print(e["address"].rsplit(":", 1)[1]); break
PY
}
udp=$(addr udp 127.); tcp=$(addr tcp 127.); tls=$(addr tls 127.); udp6=$(addr udp "[::1]")
echo "mock-sip: udp/tcp $udp tls $tls media $base"

sipp_run() { # scenario transport local-ip server [extra...]
  local sc=$1 t=$2 ip=$3 srv=$4; shift 4
  timeout 60 sipp -sf "$here/sipp/$sc.xml" -inf "$here/sipp/alice.csv" -m 1 -t "$t" \
    -i "$ip" -p "$(free_port)" -mi "$ip" -mp "$(free_port)" "$@" \
    -nostdin -trace_err -error_file "$tmp/sipp-$sc-$t.err" "$srv" \
    >"$tmp/sipp-$sc-$t.out" 2>&1 || { cat "$tmp/sipp-$sc-$t.err" >&2 2>/dev/null; fail "sipp $sc over $t $srv"; }
  echo "sipp $sc over $t to $srv: ok"
}
for t in u1 t1; do
  sipp_run register "$t" 127.0.0.1 "127.0.0.1:$udp"
  sipp_run options "$t" 127.0.0.1 "127.0.0.1:$udp"
  sipp_run call-peer "$t" 127.0.0.1 "127.0.0.1:$udp" -rtp_echo
done
sipp_run call-reinvite u1 127.0.0.1 "127.0.0.1:$udp" -rtp_echo
# CANCEL: bob registers from a port, a ringing UAS on that port gets the INVITE, alice cancels.
bobport=$(free_port)
timeout 30 sipp -sf "$here/sipp/register.xml" -inf "$here/sipp/bob.csv" -m 1 -i 127.0.0.1 \
  -p "$bobport" -nostdin "127.0.0.1:$udp" >"$tmp/bob-reg.out" 2>&1 || fail "bob register"
timeout 60 sipp -sf "$here/sipp/uas-ringing.xml" -inf "$here/sipp/bob.csv" -m 1 -i 127.0.0.1 \
  -p "$bobport" -nostdin -trace_err -error_file "$tmp/bob.err" >"$tmp/bob.out" 2>&1 &
uas=$!
sipp_run call-cancel u1 127.0.0.1 "127.0.0.1:$udp"
wait "$uas" || fail "the ringing UAS did not see CANCEL, 487 and ACK"
echo "sipp CANCEL through the proxy: ok"
# An answered call between two registered users: bob answers and echoes, alice plays G.711.
bobport=$(free_port)
timeout 30 sipp -sf "$here/sipp/register.xml" -inf "$here/sipp/bob.csv" -m 1 -i 127.0.0.1 \
  -p "$bobport" -nostdin "127.0.0.1:$udp" >"$tmp/bob-reg2.out" 2>&1 || fail "bob register"
timeout 60 sipp -sf "$here/sipp/uas-answer.xml" -inf "$here/sipp/bob.csv" -m 1 -i 127.0.0.1 \
  -p "$bobport" -mi 127.0.0.1 -mp "$(free_port)" -rtp_echo -nostdin \
  -trace_err -error_file "$tmp/bob2.err" >"$tmp/bob2.out" 2>&1 &
uas=$!
sed "s|PCAP|$here/sipp/g711a.pcap|" "$here/sipp/call-bob.xml" >"$tmp/call-bob.xml"
timeout 60 sipp -sf "$tmp/call-bob.xml" -inf "$here/sipp/alice.csv" -m 1 -i 127.0.0.1 \
  -p "$(free_port)" -mi 127.0.0.1 -mp "$(free_port)" -nostdin -trace_err \
  -error_file "$tmp/call-bob.err" "127.0.0.1:$udp" >"$tmp/call-bob.out" 2>&1 ||
  { cat "$tmp/call-bob.err" >&2 2>/dev/null; fail "sipp alice calls bob"; }
wait "$uas" || fail "bob did not answer and take the BYE"
echo "sipp alice calls bob with media: ok"
# IPv6 (the relay stays on the first --listen address, v4).
sipp_run register u1 ::1 "[::1]:$udp6"
sipp_run register t1 ::1 "[::1]:$udp6"

# baresip: a config dir per run, audio from a file (8 kHz tone), SDP on loopback.
bs=$tmp/baresip; mkdir -p "$bs"
python3 - "$bs/tone.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                       for i in range(8000 * 20)))
PY
cat >"$bs/config" <<CFG
poll_method epoll
sip_listen 127.0.0.1:0
sip_cafile $tmp/certs/ca.pem
net_interface 127.0.0.1
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module_app account.so
module_app menu.so
audio_source aufile,$bs/tone.wav
audio_player aufile,$bs/out.wav
rtp_ports $((base + 400))-$((base + 499))
CFG
baresip_run() { # transport port seconds [commands...]
  local t=$1 port=$2 secs=$3; shift 3
  echo "<sip:alice@librestream.com;transport=$t>;auth_pass=alice-pw-sip;outbound=\"sip:127.0.0.1:$port;transport=$t\";regint=300;answermode=auto" >"$bs/accounts"
  timeout $((secs + 20)) baresip -f "$bs" -t "$secs" "$@" </dev/null >"$tmp/baresip-$t.log" 2>&1 || true
}
baresip_run udp "$udp" 2
baresip_run tcp "$tcp" 2
baresip_run tls "$tls" 6 -e "/dial sip:peer@librestream.com"
# The peer calls alice while baresip is registered over TLS (connection reuse).
echo "<sip:alice@librestream.com;transport=tls>;auth_pass=alice-pw-sip;outbound=\"sip:127.0.0.1:$tls;transport=tls\";regint=300;answermode=auto" >"$bs/accounts"
timeout 30 baresip -f "$bs" -t 8 </dev/null >"$tmp/baresip-called.log" 2>&1 &
bpid=$!
for _ in $(seq 100); do
  [ "$(grep -c '"transport":"tls","expires":300,"result":"ok"' "$ev")" -ge 2 ] && break; sleep 0.1
done
python3 - "$tmp/ctl" <<'PY' || fail "control call"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(b"call alice 3\n"); r = json.loads(s.makefile().readline())
print("control:", r); sys.exit(0 if r.get("ok") else 1)
PY
wait "$bpid" || true

# STUN with coturn's client, on the STUN port and on the first media port.
for sp in "$stun" "$base"; do
  timeout 20 turnutils_stunclient -p "$sp" 127.0.0.1 >"$tmp/stun-$sp.out" 2>&1 ||
    fail "turnutils_stunclient on $sp: $(tail -n 3 "$tmp/stun-$sp.out")"
  grep -q "UDP reflexive addr: 127.0.0.1:" "$tmp/stun-$sp.out" || fail "no mapped address from $sp"
  echo "stun on $sp: ok"
done
# Every relay port is free again once the calls are over.
python3 - "$tmp/ctl" <<'PY' || fail "relay ports still in use"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(b"status\n"); r = json.loads(s.makefile().readline())
print("status: bindings %d, relay ports in use %d" % (r["bindings"], r["relay_ports"]))
sys.exit(0 if r["ok"] and r["relay_ports"] == 0 else 1)
PY

kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=
[ "$rc" = 0 ] || fail "exit status $rc on SIGTERM"

python3 - "$ev" <<'PY' || fail "journal checks"
import collections, json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ok = collections.Counter(e["transport"] for e in ev
                         if e["event"] == "register" and e["result"] == "ok")
ch = sum(1 for e in ev if e["event"] == "register" and e["result"] == "challenge")
print("register ok by transport:", dict(ok), "challenges:", ch)
assert ok["udp"] >= 3 and ok["tcp"] >= 3 and ok["tls"] >= 2, ok
assert ch >= 8
assert sum(1 for e in ev if e["event"] == "options") >= 2
legs = collections.defaultdict(list)
for e in ev:
    if e["event"] == "media.stream":
        legs[e["call_id"]].append(e)
calls = [e["call_id"] for e in ev if e["event"] == "call" and e["state"] == "answered"]
print("answered calls:", len(calls))
assert len(calls) >= 6, calls
assert any(e["event"] == "call" and e.get("reason") == "cancelled" for e in ev)
for cid in calls:
    ls = legs[cid]
    assert len(ls) == 2, (cid, ls)
    for l in ls:
        print("  %s %-6s port %d in %d out %d" % (cid[:12], l["leg"], l["relay_port"],
                                                  l["packets_in"], l["packets_out"]))
        assert l["packets_in"] > 0 and l["packets_out"] > 0, l
        assert l["latched"]
assert sum(1 for e in ev if e["event"] == "sip.request") > 20
assert sum(1 for e in ev if e["event"] == "stun") >= 2
assert sum(1 for e in ev if e["event"] == "sip.response") > 20
PY
echo "real-clients: OK"
