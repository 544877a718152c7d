#!/bin/bash
# Operators' options against a real server (nginx on 127.0.0.1): --limit-rate holds the total
# over 8 parallel connections to the cap (no 10 s window more than 10% over it, from the tool's
# request log and from nginx's access log; below it is the machine's pace, reported only); --log-file writes one line per request (0600, no query, no
# SAS), whose request ids are the ones nginx logged; -v writes the same lines to stderr; without
# a terminal stderr holds plain lines only. A behaviour check of the cap, not a speed test (the
# run takes about 13 s by design).
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PASSED=0
CAP=$((2 * MIB))

mkdir -p "$T/www"
head -c $((24 * MIB)) /dev/urandom >"$T/disk.raw"
R convert -q "$T/disk.raw" "$T/www/disk.vhd" || fail "convert"
nginx_start "$T/www"
# A query like a SAS's: it must never reach a log line or stderr.
URL="$NGINX_URL/disk.vhd?sv=2021-08-06&sig=S3CRETSIGNATURE"

note "restore at --limit-rate 2M over 8 connections, logged"
: >"$NGINX_LOG"
expect_exit 0 R restore --cacert "$RP_CACERT" "$URL" -o "$T/out.vhd" --connections 8 \
	--chunk-size 256K --limit-rate 2M --log-file "$T/req.log" -v --progress none --json
scmp "$T/out.vhd" "$T/www/disk.vhd"
pass "restore under the cap is byte-identical"

"$PY" "$RP_SOURCE_DIR/tests/tools/ratecheck.py" tool "$T/req.log" $CAP ||
	fail "the tool's log: a 10 s window over the cap by more than 10%"
pass "no 10 s window of the tool's requests over 2 MiB/s + 10%"
sleep 0.3
# nginx logs a response done once it is in the socket buffers: allow what 8 connections can
# hold there, 256 KiB each (the tool's own log above, which sees the bytes arrive, has no slack)
"$PY" "$RP_SOURCE_DIR/tests/tools/ratecheck.py" nginx "$NGINX_LOG" $CAP 10 $((8 * 262144)) ||
	fail "nginx's access log: a 10 s window over the cap by more than 10% and the buffers"
pass "no 10 s window of nginx's responses over 2 MiB/s + 10% + what the socket buffers hold"

note "the request log"
[ "$(stat -c %a "$T/req.log")" = 600 ] || fail "the log is not mode 0600"
! grep -q 'S3CRET\|sig=\|sv=' "$T/req.log" "$RP_ERR" || fail "the query reached the log"
"$PY" - "$T/req.log" "$NGINX_LOG" <<'PY' || fail "the log does not match nginx's"
import re, sys
tool = [dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', l)) for l in open(sys.argv[1])]
ngx = [l for l in open(sys.argv[2]) if "/disk.vhd" in l]
keys = ["time", "method", "host", "path", "range", "status", "bytes", "ms", "request_id",
        "client_request_id", "error"]
for f in tool:
    missing = [k for k in keys if k not in f]
    assert not missing, "fields missing: %s in %s" % (missing, f)
    assert f["path"] == "/disk.vhd", f["path"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", f["time"]), f["time"]
assert len(tool) == len(ngx), "%d log lines, nginx logged %d requests" % (len(tool), len(ngx))
rid = {}
for l in ngx:
    m = re.search(r'"(\w+) \S+ [^"]*" (\d+) (\d+) range="(?:bytes=)?([^"]*)".* rid=(\w+)', l)
    rid[m.group(5)] = (m.group(1), m.group(2), m.group(3), m.group(4) or "-")
for f in tool:
    got = (f["method"], f["status"], f["bytes"], f["range"])
    assert f["request_id"] in rid, "request id %s not in nginx's log" % f["request_id"]
    assert rid[f["request_id"]] == got, "%s: nginx %s, log %s" % (f["request_id"], rid[f["request_id"]], got)
gets = [f for f in tool if f["method"] == "GET" and f["status"] == "206"]
assert len(gets) >= 96, "%d ranged GETs" % len(gets)
PY
pass "one line per request; method, status, bytes, range and request id match nginx's log"

grep -c '^time=' "$RP_ERR" >"$T/n" || true
[ "$(cat "$T/n")" = "$(wc -l <"$T/req.log")" ] || fail "-v: stderr has $(cat "$T/n") request lines, the log $(wc -l <"$T/req.log")"
! grep -q $'\r\|\x1b' "$RP_ERR" || fail "stderr without a terminal holds a CR or an escape"
pass "-v: the same lines on stderr, plain (no CR, no escape)"

note "a failed request is logged with its status and error"
expect_exit 4 R restore --cacert "$RP_CACERT" "$NGINX_URL/missing.vhd?sig=S3CRETSIGNATURE" \
	-o "$T/missing.vhd" --log-file "$T/req.log" --retries 0
tail -1 "$T/req.log" | grep -q 'method=HEAD .*path=/missing.vhd .*status=404 .*error="HTTP 404"' ||
	fail "the 404 is not logged: $(tail -1 "$T/req.log")"
! grep -q 'S3CRET' "$T/req.log" "$RP_ERR" || fail "the query reached the log"
pass "a 404 is logged with status and error"

note "bad values: exit 2, one clear line"
for args in "--limit-rate 0|--limit-rate: rate '0': a cap of 0" \
	"--limit-rate 5X|--limit-rate: rate '5X': unknown suffix 'X'" \
	"--limit-rate fast|--limit-rate: rate 'fast' is not a number" \
	"--limit-rate 100|--limit-rate: rate '100': 1K to 1T" \
	"--log-file $T/no/such/dir/x.log|--log-file: " \
	"--progress foo|--progress must be auto, bar, lines, json or none, not 'foo'" \
	"--progress-interval 0|--progress-interval must be a number of seconds from 1"; do
	opt=${args%%|*}
	msg=${args#*|}
	# shellcheck disable=SC2086
	it_expect_error 2 R restore --cacert "$RP_CACERT" "$URL" -o "$T/bad.vhd" $opt
	expect_stderr_has "$msg"
	[ ! -e "$T/bad.vhd" ] || fail "$opt: an output was written"
done
ln -s "$T/target.log" "$T/link.log"
it_expect_error 2 R restore --cacert "$RP_CACERT" "$URL" -o "$T/bad.vhd" --log-file "$T/link.log"
expect_stderr_has "symbolic link"
[ ! -e "$T/target.log" ] || fail "--log-file followed a link"
pass "--limit-rate 0/5X/fast/100, --log-file in a missing dir or a link, --progress foo: exit 2"

echo "PASS: $PASSED checks"
