#!/usr/bin/env bash
# cli-check.sh ONSIGHT_CONFORM WORKDIR - the command line without a lab: usage errors exit 2,
# list shows every scenario with its checks and the coverage matrix, merge combines shard
# results and renders the reports, exit codes follow the results.
set -uo pipefail
bin=$1 work=$2
tests=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"; mkdir -p "$work"
fail=0
expect() { # CODE DESCRIPTION -- CMD...
  local want=$1 what=$2; shift 3
  "$@" >"$work/out" 2>&1; local got=$?
  if [ "$got" != "$want" ]; then
    echo "cli-check: $what: exit $got, expected $want"; sed 's/^/    /' "$work/out" | head -20; fail=1
  fi
}
has() { # PATTERN DESCRIPTION
  grep -q -- "$1" "$work/out" || { echo "cli-check: $2: \"$1\" not in the output"; fail=1; }
}

expect 0 "--help" -- "$bin" --help; has "Exit codes" "--help"
expect 0 "run --help" -- "$bin" run --help; has "--shard I/N" "run --help"
expect 2 "no command" -- "$bin"
expect 2 "unknown command" -- "$bin" frobnicate; has 'unknown command "frobnicate"' "unknown command"
expect 2 "--jobs 0" -- "$bin" run --jobs 0
expect 2 "--shard 3/2" -- "$bin" run --shard 3/2
expect 2 "--shard x" -- "$bin" run --shard x
expect 2 "both --endpoint and --reference" -- "$bin" run --endpoint a.json --reference
expect 2 "missing adapter" -- "$bin" run --endpoint "$work/nope.json"; has "nope.json" "missing adapter"
printf '{"name":"x","command":["ep","{usernam}"]}' > "$work/bad.json"
expect 2 "bad adapter" -- "$bin" run --endpoint "$work/bad.json"; has 'command\[1\]' "bad adapter"
expect 2 "unknown scenario" -- "$bin" run --scenario NO-SUCH; has 'no scenario "NO-SUCH"' "unknown scenario"
expect 2 "selftest with --endpoint" -- "$bin" selftest --endpoint x.json
expect 0 "version" -- "$bin" --version; has "onsight-conform " "version"

expect 0 "list" -- "$bin" list
has "^S1 " "list"; has "Requirement coverage" "list"; has "R-AUTH-1" "list"
expect 0 "list --json" -- "$bin" list --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["scenarios"] and d["coverage"]' \
  "$work/out" || { echo "cli-check: list --json is not the expected JSON"; fail=1; }

# merge: two shards of the fixture (S1 | S2-inside + S3-inside) give back all three.
python3 - "$tests/fixtures/run/results.json" "$work" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
for i, ids in enumerate([["S1"], ["S2-inside", "S3-inside"]]):
    d = os.path.join(sys.argv[2], "shard%d" % (i + 1)); os.makedirs(d, exist_ok=True)
    p = dict(r); p["scenarios"] = [s for s in r["scenarios"] if s["id"] in ids]
    json.dump(p, open(os.path.join(d, "results.json"), "w"))
PY
expect 3 "merge (a scenario is a harness error)" -- "$bin" merge --out "$work/merged" \
  "$work/shard1/results.json" "$work/shard2/results.json"
has "merged 2 parts, 3 scenarios" "merge"
for f in results.json junit.xml report.html; do
  [ -s "$work/merged/$f" ] || { echo "cli-check: merge wrote no $f"; fail=1; }
done
xmllint --noout --schema "$tests/junit.xsd" "$work/merged/junit.xml" 2>/dev/null ||
  { echo "cli-check: merged junit.xml is not valid"; fail=1; }
grep -q 'href="../shard1/S1/ep.pcapng"\|href="/.*shard1/S1/ep.pcapng"' "$work/merged/report.html" ||
  { echo "cli-check: merged report does not link the shard's files"; fail=1; }
expect 2 "merge of one shard twice" -- "$bin" merge --out "$work/m2" \
  "$work/shard1/results.json" "$work/shard1/results.json"; has "more than one part" "merge twice"
echo '{"format":"x"}' > "$work/notresults.json"
expect 2 "merge of a non-results file" -- "$bin" merge --out "$work/m3" "$work/notresults.json"

[ $fail = 0 ] && echo "cli-check: all command-line checks passed"
exit $fail
