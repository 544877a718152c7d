#!/bin/bash
# The SAS is not readable in the process's command line (issue 10, point 11). A restore given
# the SAS URL as an argument is held mid-transfer by the fault proxy (a stalled range) while
# /proc/PID/cmdline is read: the marker signature is gone from it (the query is overwritten in
# place once copied), the rest of the command line is intact. The URL can also be given without
# a command line at all: @FILE (its first line), @- (standard input) and env:NAME, for the source
# and for an option that takes a URL; each restore is byte-equal to the served disk. A literal
# path that starts with '@' is written ./@...; an unreadable @FILE and an unset env:NAME are
# usage errors (exit 2) naming the argument.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
C=$CVMRESTORE
MIB=1048576
PASSED=0
pass() { PASSED=$((PASSED + 1)); echo "-- ok ($SECONDS s): $*"; }
mkdir -p "$T/www" "$T/run"

SIG=Zq$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')sIg
Q="sv=2021-08-06&sp=r&sig=$SIG"
it_make_raw "$T/disk.raw" $((8 * MIB)) 0 3 7
"$C" convert -q "$T/disk.raw" "$T/www/disk.vhd" || fail "convert"
nginx_start "$T/www"
faultproxy_start "$NGINX_URL"
URL="$PROXY_URL/disk.vhd?$Q"

note "a restore held by a stalled range: its command line"
proxy_fault '{"mode": "stall", "nth": 1, "seconds": 60}'
"$C" restore "$URL" -o "$T/run/held.vhd" --cacert "$RP_CACERT" -q --chunk-size 1M \
	--connections 1 --retries 0 >"$T/held.out" 2>"$T/held.err" &
PID=$!
# wait until the proxy has answered a request (the HEAD): the restore is past its start then
# (the arguments are scrubbed before the command runs), and the first range GET then stalls
for _ in $(seq 1 600); do
	[ "$(proxy_stat 'd.get("requests", 0)')" -ge 1 ] && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
[ "$(proxy_stat 'd.get("requests", 0)')" -ge 1 ] || fail "the restore never reached the proxy"
kill -0 "$PID" 2>/dev/null || fail "the restore is not running while the range is stalled"
tr '\0' '\n' <"/proc/$PID/cmdline" >"$T/cmdline"
kill -9 "$PID" 2>/dev/null || true
wait "$PID" || true
! grep -qF "$SIG" "$T/cmdline" || fail "the SAS is readable in /proc/PID/cmdline: $(cat "$T/cmdline")"
grep -qxF "$PROXY_URL/disk.vhd?${Q//?/*}" "$T/cmdline" ||
	fail "the URL is not in the command line with its query overwritten: $(cat "$T/cmdline")"
grep -qxF -- "--cacert" "$T/cmdline" || fail "the other arguments are changed: $(cat "$T/cmdline")"
pass "mid-restore, /proc/PID/cmdline shows the URL with its query overwritten"
proxy_fault '{"mode": "none"}'

note "the URL from a file, standard input and the environment"
printf '%s\n' "$URL" >"$T/url.txt"
printf '%s\r\nsecond line\n' "$URL" >"$T/url-crlf.txt"
expect_exit 0 "$C" restore @"$T/url.txt" -o "$T/run/file.vhd" --cacert "$RP_CACERT" -q
cmp "$T/run/file.vhd" "$T/www/disk.vhd" || fail "@FILE: the restore differs"
expect_exit 0 "$C" restore @"$T/url-crlf.txt" -o "$T/run/crlf.vhd" --cacert "$RP_CACERT" -q
cmp "$T/run/crlf.vhd" "$T/www/disk.vhd" || fail "@FILE (CRLF): the restore differs"
expect_exit 0 "$C" restore @- -o "$T/run/stdin.vhd" --cacert "$RP_CACERT" -q <"$T/url.txt"
cmp "$T/run/stdin.vhd" "$T/www/disk.vhd" || fail "@-: the restore differs"
expect_exit 0 env RP_TEST_URL="$URL" "$C" restore env:RP_TEST_URL -o "$T/run/env.vhd" \
	--cacert "$RP_CACERT" -q
cmp "$T/run/env.vhd" "$T/www/disk.vhd" || fail "env:NAME: the restore differs"
pass "@FILE (also CRLF), @- and env:NAME give the source; the restores equal the disk"

# an option whose metavar names a URL: --imds-endpoint, from the environment (a token server
# is not needed: a wrong endpoint fails naming it, so the value was taken)
expect_exit 4 env RP_TEST_IMDS="http://127.0.0.1:9/imds?sig=$SIG" "$C" restore "$URL" \
	-o "$T/run/imds.vhd" --identity --imds-endpoint env:RP_TEST_IMDS --cacert "$RP_CACERT" -q \
	--retries 0
expect_stderr_has "127.0.0.1:9"
pass "an option that takes a URL reads env:NAME too"

note "literal '@' paths and errors"
cp "$T/www/disk.vhd" "$T/run/@disk.vhd"
(cd "$T/run" && expect_exit 0 "$C" inspect ./@disk.vhd)
expect_exit 2 "$C" restore @"$T/missing.txt" -o "$T/run/m.vhd"
expect_stderr_has "'@$T/missing.txt': cannot read it"
expect_stderr_has "./@"
expect_exit 2 env -u RP_UNSET "$C" restore env:RP_UNSET -o "$T/run/m.vhd"
expect_stderr_has "'env:RP_UNSET': the environment variable is not set or empty"
: >"$T/empty.txt"
expect_exit 2 "$C" restore @"$T/empty.txt" -o "$T/run/m.vhd"
expect_stderr_has "first line is empty"
printf "%s\n" "$URL" | expect_exit 2 "$C" restore @- -o "$T/run/m.vhd" --kek-url @-
expect_stderr_has "given twice"
pass "./@name is a literal path; a missing @FILE, an unset env:NAME and an empty file are exit 2"

grep -rlF "$SIG" "$T/run" "$T"/*.out "$T"/*.err "$RP_OUT" "$RP_ERR" && fail "a marker leaked"
pass "no marker in any output"
echo "test_argv_secrets: $PASSED passed, 0 failed"
