#!/bin/bash
# Network restore through tests/servers/faultproxy.py: in front of Azurite (strict) a reset
# mid-body, 503 with Retry-After, a 500, a stall past --low-speed-time, a short body, a flipped
# byte under Azure's CRC64 (the proxy's crc64 simulation) each complete byte-identical with
# retries > 0; an ETag change mid-restore fails with exit 4 "source changed during the restore",
# and so does one from a server that ignores If-Match and serves another content (each range
# consistent with its own MD5) under a new ETag, with and without a seal; a server that trickles
# 2 KiB/s (above curl's low-speed limit) has its range cut at the range deadline
# (--range-timeout 2 with 64 KiB chunks): once, it is retried and completes; always, the restore
# fails with exit 4 "too slow" naming the chunk after 2 retries; in
# front of nginx a flipped byte is caught by the seal, a reset and a short body are retried.
# After every failure there is no OUT, and no unverified byte was written: with --retries 0 a
# flipped chunk fails (exit 1) and OUT.partial does not hold the flipped byte.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PASSED=0

# 64 MiB with random data in MiBs 1, 10, 33 and 63: four 4 MiB chunks (or four 1 MiB ones)
it_make_raw "$T/disk.raw" $((64 * MIB)) 1 10 33 63
# the flip tests change byte 1000 of whichever chunk is fetched third: a random byte there is
# zero one time in 256, and a zero byte cannot show whether the flip reached OUT.partial
for i in 1 10 33 63; do
	printf '\x5a' | dd of="$T/disk.raw" bs=1 seek=$((i * MIB + 1000)) conv=notrunc status=none
done
R convert -q "$T/disk.raw" "$T/disk.vhd" || fail "convert"
R seal -q "$T/disk.vhd" -o "$T/seal.json" || fail "seal"
azurite_start
blobtool upload-sparse disks/d.vhd "$T/disk.vhd" --create-container >/dev/null
faultproxy_start "https://127.0.0.1:$AZURITE_PORT"
SAS=$(azurite_sas disks/d.vhd)
PSAS=${SAS/$AZURITE_URL/$PROXY_URL/devstoreaccount1}
# Range GETs through the proxy before the first chunk: the footer, the CRC64 probe (strict
# Azurite answers 500 itself), the MD5 probe. So chunk GETs are the 4th range GET on.
FIRST=4
N=0

# fault_ok NAME FAULT [ARGS...]: a restore with FAULT set completes identical, retries > 0
fault_ok()
{
	local name=$1 fault=$2 out mode before
	shift 2
	N=$((N + 1))
	out=$T/ok$N.vhd
	mode=$(/usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])["mode"])' "$fault")
	before=$(proxy_stat "d['injected'].get('$mode', 0)")
	proxy_fault "$fault"
	expect_exit 0 R restore -q --cacert "$RP_CACERT" --retry-base-ms 50 "$PSAS" -o "$out" --json "$@"
	cp "$RP_OUT" "$T/ok$N.json"
	scmp "$out" "$T/disk.vhd"
	json_check "$T/ok$N.json" 'd["retries"] > 0 and d["verdict"] == "pass"' "$name: retries > 0"
	# the proxy's stats count since it started
	[ "$(proxy_stat "d['injected'].get('$mode', 0)")" -gt "$before" ] ||
		fail "$name: the proxy injected nothing (test is void)"
	[ ! -e "$out.partial" ] && [ ! -e "$out.journal" ] || fail "$name: partial or journal left"
	pass "$name: completes byte-identical, retries $(json_get "$T/ok$N.json" 'd["retries"]')"
}

# fault_fails NAME CODE TEXT FAULT URL [ARGS...]: the restore fails with CODE naming TEXT; no OUT
fault_fails()
{
	local name=$1 code=$2 text=$3 fault=$4 url=$5
	shift 5
	N=$((N + 1))
	proxy_fault "$fault"
	expect_exit "$code" R restore -q --cacert "$RP_CACERT" --retry-base-ms 50 "$url" -o "$T/bad$N.vhd" "$@"
	expect_one_error_line "cvmrestore: "
	expect_stderr_has "$text"
	note "$(cat "$RP_ERR")"
	[ ! -e "$T/bad$N.vhd" ] || fail "$name: OUT exists after a failure"
	pass "$name: exit $code, '$text', no OUT"
}

note "faults in front of Azurite"
fault_ok "reset mid-body" "{\"mode\": \"reset\", \"nth\": $FIRST}"
fault_ok "503 with Retry-After" \
	"{\"mode\": \"503\", \"nth\": $FIRST, \"count\": 2, \"retry_after\": 1, \"retry_after_ms\": 300}"
grep -q ' 503 503$' "$PROXY_LOG" || fail "503: not in the proxy log"
json_check "$T/ok$N.json" 'd["seconds"] >= 0.3' "503: x-ms-retry-after-ms was not honoured"
fault_ok "500 once" "{\"mode\": \"500\", \"nth\": $FIRST}"
fault_ok "stall past --low-speed-time 2" "{\"mode\": \"stall\", \"nth\": $FIRST, \"seconds\": 120}" \
	--low-speed-time 2
# the restore's own time, not the checks around it: the 120 s stall was cut long before its end
json_check "$T/ok$N.json" 'd["seconds"] < 60' "stall: the transfer was not cut after 2 s"
fault_ok "short body" "{\"mode\": \"short\", \"nth\": $FIRST}"
# 64 KiB at 2 KiB/s takes 32 s: only the 2 s range deadline (max(2 s, 64 KiB / 100 KiB/s)) cuts it
fault_ok "trickle at 2 KiB/s past --range-timeout 2" \
	"{\"mode\": \"trickle\", \"nth\": $FIRST, \"count\": 1, \"rate\": 2048}" \
	--range-timeout 2 --chunk-size 64K
# with the crc64 simulation the probe answers, so chunks start at the 3rd range GET
fault_ok "flipped byte caught by CRC64" \
	'{"mode": "flip", "crc64": true, "nth": 3, "offset": 1000}' --chunk-size 1M \
	--log-file "$T/flip.log"
json_check "$T/ok$N.json" 'd["transport_hash"] == "crc64"' "crc64 mode: transport hash"
# the retry decided after a good 206 (the bytes failed the CRC64) has its own log line
grep -q 'event=retry .*attempt=1 .*reason=transport-hash .*crc64 mismatch' "$T/flip.log" ||
	fail "no retry line with its reason in the request log: $(cat "$T/flip.log")"
! grep -q 'sig=' "$T/flip.log" || fail "the SAS reached the request log"
pass "request log: the retry after a CRC64 mismatch names its attempt and reason"
fault_ok "reset under CRC64" '{"mode": "reset", "crc64": true, "nth": 4}' --chunk-size 1M \
	--transport-hash crc64

note "failures"
fault_fails "ETag change mid-restore" 4 "source changed during the restore" \
	"{\"mode\": \"etag\", \"after\": $FIRST}" "$PSAS"
[ -f "$T/bad$N.vhd.partial" ] && [ -f "$T/bad$N.vhd.journal" ] || fail "ETag change: partial not kept"
expect_stderr_has "ConditionNotMet"
expect_stderr_has "remove them to start over"
! grep -q "again to resume" "$RP_ERR" || fail "ETag change: the message offers a resume that would be refused"
pass "ETag change: OUT.partial and OUT.journal kept"
# A server that ignores If-Match: the content and ETag change after the first chunk, every
# range's MD5 matches its new bytes; only the ETag of each answer tells the versions apart.
before=$(proxy_stat "d['injected'].get('swap', 0)")
fault_fails "content swapped, If-Match ignored, no seal" 4 "source changed during the restore" \
	"{\"mode\": \"swap\", \"after\": $FIRST}" "$PSAS"
expect_stderr_has "the server ignored If-Match"
expect_stderr_has "remove them to start over"
[ "$(proxy_stat "d['injected'].get('swap', 0)")" -gt "$before" ] ||
	fail "swap: the proxy swapped nothing (test is void)"
fault_fails "content swapped, If-Match ignored, with a seal" 4 "source changed during the restore" \
	"{\"mode\": \"swap\", \"after\": $FIRST, \"t\": 2}" "$PSAS" --seal "$T/seal.json"
expect_stderr_has "the server ignored If-Match"
! grep -q "mismatch with the seal" "$RP_ERR" || fail "swap with a seal: taken for damaged data"
# the change right after the HEAD: the footer read is pinned like every chunk
fault_fails "content swapped after the HEAD" 4 "source changed during the restore" \
	'{"mode": "swap", "after_requests": 1}' "$PSAS"
expect_stderr_has "answered the range at 0x$(printf '%x' $((64 * MIB))) with ETag"
fault_fails "500 with --retries 0" 4 "HTTP 500" "{\"mode\": \"500\", \"nth\": $FIRST}" "$PSAS" --retries 0
expect_stderr_has "after 0 retries"
fault_fails "stall with --retries 0" 4 "chunk" \
	"{\"mode\": \"stall\", \"nth\": $FIRST, \"seconds\": 30}" "$PSAS" --retries 0 --low-speed-time 2

fault_fails "every range trickles at 2 KiB/s" 4 "too slow" \
	"{\"mode\": \"trickle\", \"nth\": $FIRST, \"rate\": 2048}" "$PSAS" --range-timeout 2 \
	--chunk-size 64K
expect_stderr_has "within 2 s (the range deadline) (after 2 retries)"
grep -Eq "chunk [0-9]+ at 0x[0-9a-f]+: too slow" "$RP_ERR" || fail "trickle: the chunk is not named"
expect_stderr_has "again to resume"
usage_text=$(R restore --help 2>&1 || true)
grep -q -- "--range-timeout" <<<"$usage_text" || fail "restore --help does not name --range-timeout"
expect_exit 2 R restore --range-timeout 0 "$PSAS" -o "$T/rt0.vhd"
expect_stderr_has "--range-timeout must be a number from 1 to 86400"
pass "--range-timeout in the help; 0 is a usage error"

note "no unverified byte written"
proxy_fault '{"mode": "none", "t": 1}'
rm -f "$PROXY_LOG"
fault_fails "flipped byte with --retries 0" 1 "crc64 mismatch" \
	'{"mode": "flip", "crc64": true, "nth": 3, "offset": 1000}' "$PSAS" --retries 0 --chunk-size 1M
flipped=$(awk '$5 == "flip" { split($3, r, "[=-]"); print r[2] + 1000 }' "$PROXY_LOG")
[ -n "$flipped" ] || fail "no flip in the proxy log"
/usr/bin/python3 - "$T/disk.raw" "$T/bad$N.vhd.partial" "$flipped" <<'EOF' || fail "OUT.partial holds the flipped byte"
import sys
off = int(sys.argv[3])
good = open(sys.argv[1], "rb").read()[off]
with open(sys.argv[2], "rb") as f:
    f.seek(off)
    got = f.read(1)[0]
assert good != 0, "test is void: the flipped byte was zero"
sys.exit(0 if got in (0, good) else 1)
EOF
pass "flipped byte at $flipped never reached OUT.partial"
faultproxy_stop
azurite_stop

note "faults in front of nginx"
mkdir -p "$T/www"
cp --sparse=always "$T/disk.vhd" "$T/www/disk.vhd"
nginx_start "$T/www"
faultproxy_start "$NGINX_URL"
PSAS=$PROXY_URL/disk.vhd
# --transport-hash none: no probes; the footer is range GET 1, chunks from 2 (every chunk)
fault_ok "nginx: flipped byte caught by the seal" '{"mode": "flip", "nth": 4, "offset": 5000}' \
	--transport-hash none --seal "$T/seal.json"
json_check "$T/ok$N.json" 'd["transport_hash"] == "none" and d["chunks_compared"] == 16' "nginx: seal compared"
fault_ok "nginx: reset mid-body" '{"mode": "reset", "nth": 3}' --transport-hash none
fault_ok "nginx: short body" '{"mode": "short", "nth": 2}' --transport-hash none
fault_fails "nginx: flipped byte, seal, --retries 0" 1 "sha256 mismatch with the seal" \
	'{"mode": "flip", "nth": 4, "offset": 5000}' "$PSAS" --transport-hash none --seal "$T/seal.json" \
	--retries 0

note "an interrupt during a stalled first range (the transport-hash probe) is heard at once"
proxy_fault '{"mode": "stall", "nth": 1, "seconds": 120}'
"$CVMRESTORE" restore -q --cacert "$RP_CACERT" "$PSAS" -o "$T/int.vhd" --range-timeout 100 \
	>"$T/int.out" 2>"$T/int.err" &
pid=$!
sleep 2
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
# before, the stalled single request went on until the 60 s low-speed limit and ended in exit 4
[ "$rc" = 130 ] || fail "an interrupt during the probe: exit $rc, not 130: $(cat "$T/int.err")"
[ ! -e "$T/int.vhd" ] || fail "an interrupted restore left OUT"
pass "SIGINT during a stalled probe: exit 130"

echo "test_restore_faults: $PASSED passed, 0 failed"
