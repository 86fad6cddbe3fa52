#!/usr/bin/env bash
# report-render.sh REPORT_GEN OUTDIR - renders the fixture's report.html in headless Chromium
# (screenshot kept in OUTDIR as a test artefact) and checks the DOM it built: the verdict
# table, the coverage matrix and one ladder diagram (inline SVG) per scenario with a
# timeline; then validates junit.xml against the JUnit schema with xmllint.
set -euo pipefail
gen=$1 out=$2
tests=${CONFORM_TESTS:?}
rm -rf "$out"; mkdir -p "$out"
"$gen" "$tests/fixtures/run" "$out"

xmllint --noout --schema "$tests/junit.xsd" "$out/junit.xml"
# A broken document must fail the schema (the check can fail).
sed 's/<testsuite name="S1"/<testsuite/' "$out/junit.xml" > "$out/junit-broken.xml"
if xmllint --noout --schema "$tests/junit.xsd" "$out/junit-broken.xml" 2>/dev/null; then
  echo "report-render: the schema accepted a testsuite without a name" >&2; exit 1
fi

if ! command -v chromium >/dev/null; then
  echo "report-render: chromium missing (scripts/setup installs it)" >&2; exit 1
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
       --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile")
timeout 60 chromium "${flags[@]}" --dump-dom "file://$out/report.html" > "$out/dom.html" 2>"$out/chromium.log"
timeout 60 chromium "${flags[@]}" --window-size=1400,2400 --screenshot="$out/report.png" \
  "file://$out/report.html" >>"$out/chromium.log" 2>&1

fail=0
want() { # COUNT PATTERN WHAT
  local n; n=$(grep -o -- "$2" "$out/dom.html" | wc -l)
  if [ "$n" -ne "$1" ]; then echo "report-render: $3: $n found, $1 expected" >&2; fail=1; fi
}
want 1 '<table id="verdicts">' "verdict table"
want 1 '<table id="coverage">' "coverage matrix"
want 1 '<table id="selftest">' "selftest matrix"
want 1 '<table id="killmatrix">' "kill matrix"
want 2 '<svg class="ladder"' "ladder diagrams"
want 2 '>401 REGISTER</text>' "401 arrows (one per ladder)"
want 14 '<td class="verdict ' "verdict cells (3 scenarios, 4 checks, 3 selftest rows, 2 kill-matrix rows x 2)"
[ -s "$out/report.png" ] || { echo "report-render: no screenshot" >&2; fail=1; }
# The PNG signature: a real image, not an empty or error file.
[ "$(head -c 8 "$out/report.png" | xxd -p)" = "89504e470d0a1a0a" ] || {
  echo "report-render: screenshot is not a PNG" >&2; fail=1; }
[ $fail = 0 ] && echo "report-render: DOM has the verdict table, coverage, selftest and 2 ladders; junit.xml valid; screenshot $out/report.png"
exit $fail
