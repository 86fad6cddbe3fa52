#!/usr/bin/env bash
# cli-check.sh BUILD_DIR - the mock-firewall command line end to end, as a support engineer
# uses it: up (with its keeper process), status, exec, migrate, capture, apply, gc, down.
# Needs root and network namespaces; exits 77 (SKIPPED) where they are missing. Whatever
# happens, the trap removes the lab this script made.
set -euo pipefail
build=$1
mf=$build/mock-firewall/mock-firewall
prefix=ftcli$$
tmp=$(mktemp -d)

if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
  echo "SKIPPED: the lab needs root and network namespaces"; exit 77
fi
cleanup() {
  "$mf" down --prefix "$prefix" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$mf" up s2-inside --prefix "$prefix" | tee "$tmp/up.txt"
grep -q "lab $prefix is up" "$tmp/up.txt" || fail "up did not say so"

# The lab outlives the command (the keeper process owns it), and gc keeps it.
"$mf" gc | grep -q "$prefix" && fail "gc removed a lab whose keeper lives"
"$mf" status --prefix "$prefix" > "$tmp/status.txt"
for want in "dnsmasq -k -C" "tinyproxy -d -c" "198.51.100.10/24" "203.0.113.20/24" \
            "policy: drop" "counter packets"; do
  grep -q -- "$want" "$tmp/status.txt" || fail "status lacks '$want'"
done
"$mf" status --prefix "$prefix" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["where"] == "inside", d["where"]
assert any("tinyproxy" in p["cmd"] for p in d["namespaces"]["lan"]["processes"])
assert any("nftables" in x for x in d["ruleset"]["nftables"][:1]) or d["ruleset"]["nftables"]
print("status --json ok")'

# exec sees the namespace's own resolv.conf and DNS.
"$mf" exec ep --prefix "$prefix" -- cat /etc/resolv.conf | grep -q "nameserver 198.51.100.53" \
  || fail "ep resolv.conf inside"
[ "$("$mf" exec ep --prefix "$prefix" -- getent hosts sip.librestream.com | awk '{print $1}')" \
  = 203.0.113.20 ] || fail "DNS from ep"

# capture on the endpoint's cable while DNS traffic flows.
"$mf" capture ep eth0 "$tmp/ep.pcap" --prefix "$prefix" --seconds 3 2>"$tmp/cap.txt" &
cap=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do grep -q capturing "$tmp/cap.txt" 2>/dev/null && break; sleep 0.1; done
"$mf" exec ep --prefix "$prefix" -- getent hosts onsight.librestream.com >/dev/null
kill -INT $cap; wait $cap || true
[ -s "$tmp/ep.pcap" ] || fail "no capture written"
tshark -r "$tmp/ep.pcap" -Y dns 2>/dev/null | grep -q onsight.librestream.com \
  || fail "capture lacks the DNS query"

"$mf" migrate outside --prefix "$prefix" | grep -q "outside" || fail "migrate outside"
"$mf" exec ep --prefix "$prefix" -- ip -4 -br addr show eth0 | grep -q 192.0.2.10 \
  || fail "ep address outside"
"$mf" exec ep --prefix "$prefix" -- cat /etc/resolv.conf | grep -q 203.0.113.53 \
  || fail "ep resolv.conf outside"
"$mf" migrate inside --prefix "$prefix" >/dev/null

# apply swaps the ruleset; a broken profile is refused, naming the problem.
"$mf" apply open --prefix "$prefix" | grep -q "open.json applied" || fail "apply open"
"$mf" status --prefix "$prefix" | grep -q "policy: accept" || fail "ruleset not swapped"
echo '{"policy": "drop", "allow": [{"to": "nowhere.example"}]}' > "$tmp/bad.json"
if "$mf" apply "$tmp/bad.json" --prefix "$prefix" 2>"$tmp/err.txt"; then fail "bad profile applied"; fi
grep -q 'allow\[0\]: to: unknown host "nowhere.example"' "$tmp/err.txt" || fail "error text"
"$mf" status --prefix "$prefix" | grep -q "policy: accept" || fail "old rules not kept"

# The keeper dies (as after a crash): gc collects the lab.
keeper=$(python3 -c "import json;print(json.load(open('/run/onsight-lab/$prefix.json'))['owner']['pid'])")
kill -KILL "$keeper"
for _ in $(seq 1 50); do kill -0 "$keeper" 2>/dev/null || break; sleep 0.02; done
"$mf" gc | grep -q "removed lab $prefix" || fail "gc did not collect the lab"
[ ! -e "/run/onsight-lab/$prefix.json" ] || fail "state file left"
ip netns list | grep -q "^$prefix-" && fail "namespaces left"
[ ! -e "/etc/netns/$prefix-ep" ] || fail "/etc/netns left"
"$mf" down --prefix "$prefix" 2>/dev/null && fail "down of a removed lab succeeded"
# down stops the keeper too.
"$mf" up open --prefix "$prefix" >/dev/null
keeper=$(python3 -c "import json;print(json.load(open('/run/onsight-lab/$prefix.json'))['owner']['pid'])")
name="fwlab-$prefix"
grep -q "^${name:0:15}\$" "/proc/$keeper/comm" || fail "keeper not named $name"
"$mf" down --prefix "$prefix" | grep -q "lab $prefix removed" || fail "down"
for _ in $(seq 1 50); do kill -0 "$keeper" 2>/dev/null || break; sleep 0.02; done
kill -0 "$keeper" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$keeper/stat")" != Z ] && fail "keeper left"
echo "cli-check: all passed"
