#!/usr/bin/env bash
# mkcerts-check.sh: scripts/mkcerts makes what the lab and the negative scenarios need, and a
# rerun keeps valid certificates as they are.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mkcerts-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }
# covers CERT NAME: the certificate's SANs cover NAME (openssl exits 0 either way).
covers() { openssl x509 -in "$1" -noout -checkhost "$2" | grep -q 'does match'; }
covers_ip() { openssl x509 -in "$1" -noout -checkip "$2" | grep -q 'does match'; }
refuse() { local what=$1; shift; if "$@" >/dev/null 2>&1; then bad "$what"; else ok "$what"; fi; }

"$src/scripts/mkcerts" "$work/c" >/dev/null
c=$work/c
for h in onsight sip tcm tcm1 tcm2 tcm3 teamlink1 teamlink7 teamlink10 media1 media6; do
  check "$h.librestream.com chains to the lab CA" openssl verify -CAfile "$c/ca.pem" "$c/$h.librestream.com.pem"
  check "$h.librestream.com has its SAN" covers "$c/$h.librestream.com.pem" "$h.librestream.com"
done
for h in vcs-expressway.corp.example vcs-control.corp.example proxy.corp.example; do
  check "$h has its SAN" covers "$c/$h.pem" "$h"
done
check "localhost covers 127.0.0.1" covers_ip "$c/localhost.pem" 127.0.0.1
check "wildcard covers teamlink3" covers "$c/wildcard.librestream.com.pem" teamlink3.librestream.com
refuse "untrusted does not chain to the lab CA" openssl verify -CAfile "$c/ca.pem" "$c/untrusted.pem"
check "untrusted chains to its own CA" openssl verify -CAfile "$c/untrusted-ca.pem" "$c/untrusted.pem"
refuse "expired is refused" openssl verify -CAfile "$c/ca.pem" "$c/expired.pem"
check "expired is otherwise valid" openssl verify -no_check_time -CAfile "$c/ca.pem" "$c/expired.pem"
refuse "wrong-name does not cover onsight" covers "$c/wrong-name.pem" onsight.librestream.com
check "keys are private" test "$(stat -c %a "$c/ca.key")" = 600
sum1=$(cat "$c"/*.pem | sha256sum)
"$src/scripts/mkcerts" "$c" >/dev/null
sum2=$(cat "$c"/*.pem | sha256sum)
check "a rerun keeps valid certificates" test "$sum1" = "$sum2"
"$src/scripts/mkcerts" "$c" --force >/dev/null
sum3=$(cat "$c"/*.pem | sha256sum)
check "--force makes them anew" test "$sum1" != "$sum3"
"$src/scripts/mkcerts" "$work/d" --domain example.test >/dev/null
check "--domain changes the cloud zone" covers "$work/d/sip.example.test.pem" sip.example.test
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
