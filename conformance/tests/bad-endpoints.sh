#!/usr/bin/env bash
# bad-endpoints.sh ONSIGHT_CONFORM WORKDIR - endpoints that get something wrong, run in the real
# lab (root, network namespaces); each must get the verdict a careful human would give.
# Skips (exit 77) with the reason when namespaces cannot be created here.
#   - bad-never-registers (a process that does nothing): no scenario passes, and no check
#     passes either (absence of traffic is no evidence of conformance);
#   - bad-baresip-udp (baresip over UDP for a TCP account): S1 fails on S1.4, the transport;
#   - bad-baresip-wrong-server (baresip registering to the cloud whatever the account says):
#     S3-outside fails on S3o.2, the server that accepted the registration;
#   - bad-ref-call-out-wrong-server (registered to the enterprise server, INVITE straight to
#     the cloud): S3-outside fails on S3o.6b and on nothing about the registration;
#   - bad-ref-direct-sip-while-tunnelled (tunnelled, but SYNs to SIP ports the firewall drops):
#     S2-inside fails on S2i.7 and still passes the tunnelled registration S2i.6.
set -uo pipefail
bin=$(realpath "$1") work=$2
ads=$(cd "$(dirname "$0")" && pwd)/lab-adapters
if ! why=$("$bin" check-lab 2>&1); then
  echo "SKIPPED: $why"; exit 77
fi
rm -rf "$work"; mkdir -p "$work"
fail=0
t0=$(date +%s)
bad() { echo "bad-endpoints: FAILED: $*"; fail=1; }
run() { # NAME ADAPTER JOBS SCENARIO... ; the run must exit 1 (a check failed)
  local name=$1 ad=$2 jobs=$3; shift 3
  local ids=(); for s in "$@"; do ids+=(--scenario "$s"); done
  "$bin" run --endpoint "$ads/$ad.json" --out "$work/$name" --jobs "$jobs" "${ids[@]}" \
    >"$work/$name.log" 2>&1
  local got=$?
  [ "$got" = 1 ] || { bad "$name: exit $got, expected 1"; tail -5 "$work/$name.log"; }
  echo "bad-endpoints: $name done, exit $got ($(( $(date +%s) - t0 )) s)"
}
# expect NAME "SCENARIO/CHECK=VERDICT"... ; SCENARIO=VERDICT for a scenario's verdict
expect() {
  local name=$1; shift
  python3 - "$work/$name/results.json" "$@" <<'PY' || bad "$name: see above"
import json, sys
r = json.load(open(sys.argv[1]))
got = {}
for s in r["scenarios"]:
    got[s["id"]] = s["verdict"]
    for c in s["checks"]:
        got[s["id"] + "/" + c["id"]] = c["verdict"]
bad = 0
for want in sys.argv[2:]:
    key, v = want.split("=")
    if got.get(key) != v:
        print(f"  {key}: {got.get(key)}, expected {v}")
        bad = 1
sys.exit(bad)
PY
}

# Independent runs side by side: each has its own lab.
run never bad-never-registers 4 &
run udp bad-baresip-udp 1 S1 &
wait
run wrong bad-baresip-wrong-server 1 S3-outside &
run callout bad-ref-call-out-wrong-server 1 S3-outside &
run direct bad-ref-direct-sip-while-tunnelled 1 S2-inside &
wait

python3 - "$work/never/results.json" <<'PY' || bad "never: a scenario or a check passed"
import json, sys
r = json.load(open(sys.argv[1]))
bad = 0
if len(r["scenarios"]) < 13:
    print(f"  only {len(r['scenarios'])} scenarios ran"); bad = 1
for s in r["scenarios"]:
    if s["verdict"] != "fail" or "precondition" not in s:
        print(f"  {s['id']}: {s['verdict']}, precondition {s.get('precondition')}"); bad = 1
    for c in s["checks"]:
        if c["verdict"] == "pass":
            print(f"  {s['id']}/{c['id']} passed for an endpoint that did nothing"); bad = 1
sys.exit(bad)
PY
expect udp S1=fail S1/S1.4=fail
expect wrong S3-outside=fail S3-outside/S3o.2=fail
expect callout S3-outside=fail S3-outside/S3o.6b=fail S3-outside/S3o.2=pass S3-outside/S3o.3=pass
expect direct S2-inside=fail S2-inside/S2i.7=fail S2-inside/S2i.6=pass S2-inside/S2i.5=pass

echo "bad-endpoints: $([ $fail = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - t0 )) s"
exit $fail
