#!/usr/bin/env bash
# curl-check.sh BUILD_DIR [--demo]
#
# Drives a real mock-oam with a real client (curl --cacert) through every answer the
# service gives, and checks that each request left exactly one journal line. With --demo it
# prints each exchange for a person to read. Loopback only; the server is always stopped.
set -euo pipefail
build=$1 demo=${2:-}
src=$(cd "$(dirname "$0")/../.." && pwd)
command -v curl >/dev/null || { echo "curl-check: curl is not installed (scripts/setup installs it)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/oam-curl.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$src/scripts/mkcerts" "$work/certs" >/dev/null
certs=$work/certs
printf 'curl-check-secret\n' > "$work/secret"
cp "$src/mock-oam/examples/accounts.json" "$work/accounts.json"
events=$work/events.jsonl
"$build/mock-oam/mock-oam" --listen 127.0.0.1:0 --cert "$certs/localhost.pem" \
  --key "$certs/localhost.key" --accounts "$work/accounts.json" \
  --jwt-secret-file "$work/secret" --events "$events" --token-ttl 2 --log-level warn &
pid=$!
for _ in $(seq 100); do grep -q '"server.start"' "$events" 2>/dev/null && break; sleep 0.05; done
addr=$(grep -o '"address":"[^"]*"' "$events" | head -1 | cut -d'"' -f4)
[ -n "$addr" ] || { echo "curl-check: mock-oam did not start"; exit 1; }
port=${addr##*:}
base=https://localhost:$port
passed=0 failed=0

# call NAME EXPECTED_STATUS curl-args... ; sets $body
call() {
  local name=$1 want=$2; shift 2
  local before after got
  before=$(wc -l < "$events")
  got=$(curl -sS --cacert "$certs/ca.pem" -o "$work/body" -w '%{http_code}' "$@" || true)
  body=$(cat "$work/body" 2>/dev/null || true)
  sleep 0.05
  after=$(wc -l < "$events")
  if [ -n "$demo" ]; then
    printf '\n== %s\n   curl %s\n   -> HTTP %s %s\n   journal: %s\n' "$name" "$*" "$got" \
      "$(printf '%s' "$body" | head -c 200)" "$(tail -n +$((before + 1)) "$events" | head -c 300)"
  fi
  if [ "$got" = "$want" ] && [ $((after - before)) -ge 1 ]; then
    passed=$((passed + 1)); [ -n "$demo" ] || echo "ok   $name: $got"
  else
    failed=$((failed + 1)); echo "FAIL $name: got HTTP $got (want $want), journal lines +$((after - before)); body: $body"
  fi
}

login='{"username":"alice","password":"alice-pw","device_id":"curl-1"}'
call "good credentials" 200 -X POST "$base/api/v1/login" -H 'Content-Type: application/json' -d "$login"
token=$(printf '%s' "$body" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
call "configuration with the token" 200 "$base/api/v1/config" -H "Authorization: Bearer $token"
printf '%s' "$body" | grep -q '"sip_uri":"sip:alice@librestream.com"' ||
  { failed=$((failed + 1)); echo "FAIL configuration document: $body"; }
call "wrong password" 401 -X POST "$base/api/v1/login" -d '{"username":"alice","password":"nope","device_id":"curl-1"}'
call "malformed JSON" 400 -X POST "$base/api/v1/login" -d '{"username": "alice",'
head -c 20000 /dev/zero | tr '\0' 'a' > "$work/big"
call "body over the limit" 413 -X POST "$base/api/v1/login" --data-binary "@$work/big"
call "no token" 401 "$base/api/v1/config"
call "forged token" 401 "$base/api/v1/config" -H "Authorization: Bearer ${token%.*}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
tampered=$(printf '%s' "$token" | awk -F. '{print $1"."$2"x."$3}')
call "tampered token" 401 "$base/api/v1/config" -H "Authorization: Bearer $tampered"
sleep 2.1
call "expired token" 401 "$base/api/v1/config" -H "Authorization: Bearer $token"
for i in 2 3 4 5; do  # the wrong password above was failure 1
  call "failed login $i of 5" 401 -X POST "$base/api/v1/login" -d '{"username":"bob","password":"x","device_id":"d"}'
done
call "repeated failures" 429 -X POST "$base/api/v1/login" -d '{"username":"bob","password":"bob-pw","device_id":"d"}'
curl -sS --cacert "$certs/ca.pem" -D "$work/hdr" -o /dev/null -X POST "$base/api/v1/login" -d "$login"
if grep -qi '^Retry-After: [0-9]' "$work/hdr"; then passed=$((passed + 1)); [ -n "$demo" ] || echo "ok   429 carries Retry-After"
else failed=$((failed + 1)); echo "FAIL 429 without Retry-After"; fi
call "health" 200 "$base/healthz"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
