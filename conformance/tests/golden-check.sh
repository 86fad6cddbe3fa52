#!/usr/bin/env bash
# golden-check.sh [--record] ANALYZE_DRIVER CASE_DIR
# Judges a golden capture case (captures/<case>/case.json: scenario, captures, journals, caps)
# and compares every check's verdict with CASE_DIR/verdicts.json; --record writes that file.
set -euo pipefail
record=0
[ "${1:-}" = --record ] && { record=1; shift; }
drv=$1 dir=$2
out=$(mktemp -d "${TMPDIR:-/tmp}/onsight-golden.XXXXXX")
trap 'rm -rf "$out"' EXIT
mapfile -t args < <(python3 - "$dir" <<'PY'
import json, os, sys
d = sys.argv[1]
c = json.load(open(os.path.join(d, "case.json")))
scn = c["scenario"]
if scn.endswith(".json"):
    scn = os.path.join(d, scn)
print("--scenario"); print(scn)
for name, f in c.get("captures", {}).items():
    print("%s=%s" % (name, os.path.join(d, f)))
for svc, f in c.get("journals", {}).items():
    print("--events"); print("%s=%s" % (svc, os.path.join(d, f)))
print("--caps"); print(",".join(c.get("caps", [])) or "none")
PY
)
rc=0
"$drv" "${args[@]}" --json "$out/v.json" --timeline "$out/timeline.json" >"$out/log" 2>&1 || rc=$?
if [ $rc -gt 1 ]; then cat "$out/log"; echo "golden-check: analyze failed (exit $rc)"; exit 1; fi
python3 - "$dir" "$out/v.json" "$record" "$out/log" <<'PY'
import json, os, sys
d, got, record, log = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
v = json.load(open(got))
now = {c["id"]: c["verdict"] for c in v["checks"]}
path = os.path.join(d, "verdicts.json")
if record:
    json.dump({"scenario": v["scenario"], "verdicts": now}, open(path, "w"), indent=2)
    open(path, "a").write("\n")
    print(open(log).read(), end="")
    sys.exit(0)
want = json.load(open(path))["verdicts"]
bad = [(k, want.get(k), now.get(k)) for k in sorted(set(want) | set(now)) if want.get(k) != now.get(k)]
for k, w, n in bad:
    print("%s: expected %s, got %s" % (k, w, n))
if bad:
    print(open(log).read(), end="")
    sys.exit(1)
print("%s: %d verdicts as recorded" % (os.path.basename(d), len(now)))
PY
