#!/usr/bin/env bash
# lab-check.sh ONSIGHT_CONFORM WORKDIR - onsight-conform in the real lab (network namespaces;
# needs root). Skips (exit 77, reported by CTest as skipped) with the reason when namespaces
# cannot be created here.
#   1. harness faults with small test scenarios (tests/lab-scenarios) and test adapters
#      (tests/lab-adapters): a well-behaved endpoint passes with --jobs 2, and fails a scenario
#      whose `wait registered` step it never satisfies (the step named); a crashing one
#      and a hanging one FAIL with the reason; a missing program exits 4; a mock service that
#      dies is an ERROR (exit 3); --shard 1/2 and 2/2 merge back into one run;
#   2. SIGINT tears the lab down; after SIGKILL `onsight-conform gc` removes it;
#   3. S1 against onsight-ref: every check passes (exit 0), captures and reports are written;
#      S1 against baresip: n/a for what it does not declare, a call answered with media;
#   4. selftest over S1: every fault S1's checks declare is caught, fault-free passes.
set -uo pipefail
bin=$(realpath "$1") work=$2
tests=$(cd "$(dirname "$0")" && pwd)
if ! why=$("$bin" check-lab 2>&1); then
  echo "SKIPPED: $why"; exit 77
fi
rm -rf "$work"; mkdir -p "$work"
fail=0
t0=$(date +%s)
note() { echo "lab-check: $* ($(( $(date +%s) - t0 )) s)"; }
bad() { echo "lab-check: FAILED: $*"; fail=1; }
verdict() { # RESULTS SCENARIO -> "verdict|reason"
  python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))
for s in r["scenarios"]:
    if s["id"]==sys.argv[2]: print(s["verdict"]+"|"+s.get("reason",""))' "$1" "$2"
}
run_t() { # EXPECTED_CODE NAME ADAPTER SCENARIO... (test scenarios)
  local want=$1 name=$2 ad=$3; shift 3
  local ids=(); for s in "$@"; do ids+=(--scenario "$s"); done
  ONSIGHT_SCENARIOS="$tests/lab-scenarios" "$bin" run --endpoint "$tests/lab-adapters/$ad.json" \
    --out "$work/$name" --jobs 2 "${ids[@]}" >"$work/$name.log" 2>&1
  local got=$?
  [ "$got" = "$want" ] || { bad "$name: exit $got, expected $want"; tail -5 "$work/$name.log"; }
}

# 1. harness faults
run_t 0 quiet quiet T-stop T-stop2
[ "$(verdict "$work/quiet/results.json" T-stop2)" = "pass|" ] || bad "quiet: T-stop2 not pass"
for f in ep fw-lan fw-wan proxy; do
  ls "$work/quiet/T-stop/$f".pcap* >/dev/null 2>&1 || bad "quiet: no $f capture"
done
# Every scenario folder holds the lab plan, the same as `mock-firewall plan --json`.
mf=$(dirname "$bin")/../mock-firewall/mock-firewall
"$mf" plan --json >"$work/plan.json" || bad "mock-firewall plan --json: exit $?"
python3 - "$work/plan.json" "$work/quiet/T-stop/hosts.json" <<'PY' || bad "quiet: hosts.json is not the lab plan"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
names = {h["name"]: h["addr"] for h in a["hosts"]}
sys.exit(0 if a == b and a["format"] == "onsight-lab/hosts/1"
         and names.get("endpoint-inside") == "198.51.100.10"
         and names.get("endpoint-outside") == "192.0.2.10" else 1)
PY
# No pass without its preconditions: the quiet endpoint never registers, so the scenario
# fails naming the wait, though its one check (nothing forbidden seen) passes.
run_t 1 nowait quiet T-wait
python3 - "$work/nowait/results.json" <<'PY' || bad "nowait: $(verdict "$work/nowait/results.json" T-wait)"
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
p = s.get("precondition") or {}
ok = (s["verdict"] == "fail" and p.get("step") == "1 wait registered"
      and "no registered within 2 s" in p.get("reason", "")
      and [c["verdict"] for c in s["checks"]] == ["pass"])
sys.exit(0 if ok else 1)
PY
run_t 1 crash crash T-stop
case $(verdict "$work/crash/results.json" T-stop) in
  "fail|the endpoint crashed"*) ;; *) bad "crash: $(verdict "$work/crash/results.json" T-stop)" ;; esac
run_t 1 hang hang T-stop
case $(verdict "$work/hang/results.json" T-stop) in
  "fail|the endpoint hung"*) ;; *) bad "hang: $(verdict "$work/hang/results.json" T-stop)" ;; esac
run_t 4 missing missing T-stop
# mock-oam (and every mock-sip, which reads the same file) refuse an accounts file without
# configurations and exit: the harness's error, naming whichever death was reaped first.
echo '{"accounts":[{"username":"alice","password":"alice-pw"}]}' > "$work/bad-accounts.json"
export ONSIGHT_ACCOUNTS="$work/bad-accounts.json"
run_t 3 deadmock quiet T-stop
unset ONSIGHT_ACCOUNTS
case $(verdict "$work/deadmock/results.json" T-stop) in
  "error|mock-oam died"* | "error|mock-sip"*" died"*) ;; *) bad "deadmock: $(verdict "$work/deadmock/results.json" T-stop)" ;; esac
# --shard splits the selection disjointly; merge puts it back together.
for i in 1 2; do
  ONSIGHT_SCENARIOS="$tests/lab-scenarios" "$bin" run --endpoint "$tests/lab-adapters/quiet.json" \
    --scenario T-stop,T-stop2 --shard $i/2 --out "$work/shard$i" >"$work/shard$i.log" 2>&1 ||
    bad "shard $i/2: exit $?"
done
"$bin" merge --out "$work/merged" "$work/shard1/results.json" "$work/shard2/results.json" \
  >"$work/merge.log" 2>&1 || bad "merge of the shards: exit $?"
grep -q "merged 2 parts, 2 scenarios" "$work/merge.log" || bad "merge: $(cat "$work/merge.log")"
note "harness faults, shards done"

# 2. SIGINT and SIGKILL
lab_of() { printf 'oc%x0' "$1"; }
wait_lab() { # PREFIX: until its ep namespace exists (bounded: 20 s)
  for _ in $(seq 200); do [ -e "/run/netns/$1-ep" ] && return 0; sleep 0.1; done; return 1
}
ONSIGHT_SCENARIOS="$tests/lab-scenarios" "$bin" run --endpoint "$tests/lab-adapters/quiet.json" \
  --out "$work/sigint" --scenario T-long >"$work/sigint.log" 2>&1 &
pid=$!; p=$(lab_of $pid)
if wait_lab "$p"; then
  sleep 1; kill -INT $pid; wait $pid; code=$?
  [ "$code" = 3 ] || bad "SIGINT: exit $code, expected 3"
  ls /run/netns | grep -q "^$p-" && bad "SIGINT: namespaces of $p left behind"
  grep -q '"interrupted": true' "$work/sigint/results.json" || bad "SIGINT: results not marked interrupted"
else
  bad "SIGINT: lab $p never came up"; kill $pid; wait $pid
fi
setsid env ONSIGHT_SCENARIOS="$tests/lab-scenarios" "$bin" run \
  --endpoint "$tests/lab-adapters/quiet.json" --out "$work/sigkill" --scenario T-long \
  >"$work/sigkill.log" 2>&1 &
pid=$!; p=$(lab_of $pid)
if wait_lab "$p"; then
  sleep 1; kill -KILL -- -$pid; wait $pid 2>/dev/null
  ls /run/netns | grep -q "^$p-" || bad "SIGKILL: the lab vanished by itself (test proves nothing)"
  # The killed job process is reaped by init some time after the kill; until then gc
  # rightly sees its owner as alive. Retry (bounded: 10 s).
  for _ in $(seq 50); do
    "$bin" gc >"$work/gc.log" 2>&1 || bad "gc failed: $(cat "$work/gc.log")"
    ls /run/netns | grep -q "^$p-" || break
    sleep 0.2
  done
  ls /run/netns | grep -q "^$p-" && bad "SIGKILL: gc left namespaces of $p"
  ls /run/onsight-lab 2>/dev/null | grep -q "^$p\." && bad "SIGKILL: gc left /run/onsight-lab/$p.*"
  # Its scratch folder (mock-sip control sockets) goes once it is a minute old: age it.
  if [ -d "/tmp/onsight-conform.$p" ]; then
    touch -d '2 minutes ago' "/tmp/onsight-conform.$p"
    "$bin" gc >"$work/gc.log" 2>&1
    [ -d "/tmp/onsight-conform.$p" ] && bad "SIGKILL: gc left /tmp/onsight-conform.$p"
  fi
else
  bad "SIGKILL: lab $p never came up"; kill -KILL -- -$pid; "$bin" gc >/dev/null
fi
# A state file write cut short by a kill (between lab_save's write and its rename) leaves
# PREFIX.json.PID.tmp: gc removes it once PID is gone, and only then.
sh -c 'exit 0' & dead=$!; wait $dead
mkdir -p /run/onsight-lab
echo '{"owner"' >"/run/onsight-lab/ocgctest.json.$dead.tmp"
echo '{"owner"' >"/run/onsight-lab/ocgctest.json.$$.tmp"
"$bin" gc >"$work/gc.log" 2>&1 || bad "gc failed: $(cat "$work/gc.log")"
[ -e "/run/onsight-lab/ocgctest.json.$dead.tmp" ] && bad "gc left an orphaned state .tmp (writer $dead is gone)"
[ -e "/run/onsight-lab/ocgctest.json.$$.tmp" ] || bad "gc removed the .tmp of a live writer ($$)"
grep -q "ocgctest.json.$dead.tmp" "$work/gc.log" || bad "gc did not report the .tmp it removed"
rm -f "/run/onsight-lab/ocgctest.json.$$.tmp"
note "interruption done"

# 3. S1 against the reference endpoint
"$bin" run --reference --scenario S1 --out "$work/s1" >"$work/s1.log" 2>&1; code=$?
if [ "$code" != 0 ]; then
  bad "S1 against onsight-ref: exit $code"; tail -5 "$work/s1.log"
  python3 -c 'import json,sys
for s in json.load(open(sys.argv[1]))["scenarios"]:
    print(" ", s["id"], s["verdict"], s.get("reason",""))
    for c in s["checks"]:
        if c["verdict"] != "pass": print("   ", c["id"], c["verdict"], (c.get("observed") or c.get("reason") or "")[:160])' \
    "$work/s1/results.json" 2>/dev/null
fi
[ -s "$work/s1/S1/ep.pcapng" ] || bad "S1: no ep.pcapng"
[ -s "$work/s1/S1/timeline.json" ] || bad "S1: no timeline"
xmllint --noout --schema "$tests/junit.xsd" "$work/s1/junit.xml" 2>/dev/null || bad "S1: junit.xml invalid"
grep -q '<svg class="ladder"' "$work/s1/report.html" || bad "S1: no ladder in report.html"
note "S1 done"

# 3b. S1 against baresip (Debian): no OAM login and no call-out declared, so those checks are
# n/a with the reason; it registers and answers the peer's call with media both ways.
if command -v baresip >/dev/null; then
  "$bin" run --endpoint "$tests/../adapters/baresip.json" --scenario S1 --out "$work/baresip" \
    >"$work/baresip.log" 2>&1
  python3 - "$work/baresip/results.json" <<'PY' || bad "baresip: $(tail -1 "$work/baresip.log")"
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
v = {c["id"]: c for c in s["checks"]}
problems = []
for cid in ("S1.1", "S1.2", "S1.3"):
    if v[cid]["verdict"] != "na" or "capability oam-login not declared" not in v[cid].get("reason", ""):
        problems.append("%s %s %s" % (cid, v[cid]["verdict"], v[cid].get("reason", "")))
if v["S1.8b"]["verdict"] != "na":
    problems.append("S1.8b not n/a")
for cid in ("S1.8a", "S1.9b"):
    if v[cid]["verdict"] != "pass":
        problems.append("%s %s (answering a call with media)" % (cid, v[cid]["verdict"]))
if problems:
    print("lab-check: baresip:", "; ".join(problems)); sys.exit(1)
PY
else
  bad "baresip is not installed (scripts/setup installs it)"
fi
note "baresip done"

# 4. selftest over S1
"$bin" selftest --scenario S1 --jobs 2 --out "$work/selftest" >"$work/selftest.log" 2>&1; code=$?
[ "$code" = 0 ] || { bad "selftest --scenario S1: exit $code"; tail -3 "$work/selftest.log"; }
python3 -c 'import json,sys
st=json.load(open(sys.argv[1]))["selftest"]
for f in st["faults"]:
    print("  %-22s caught=%s expect=%s tripped=%s" % (f["fault"], f["caught"], f["expect"], f["tripped"]))
print("  fault-free: %d of %d checks failed" % (st["clean"]["failures"], st["clean"]["checks"]))' \
  "$work/selftest/results.json" 2>/dev/null || bad "selftest: no matrix"
note "selftest done"

[ $fail = 0 ] && note "all lab checks passed"
exit $fail
