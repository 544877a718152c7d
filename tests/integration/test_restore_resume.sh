#!/bin/bash
# Resume of an interrupted network restore: a 512 MiB page blob (32 data chunks) restored through
# the fault proxy, which stalls one ranged read; once OUT.journal lists some data chunks the
# restore is killed with SIGKILL; the same command resumes (resumed true, bytes_resumed > 0,
# fewer bytes fetched than the data) and ends byte-identical. A second restore is stopped with
# SIGINT (exit 130, OUT.partial and OUT.journal kept); after the blob changes (new ETag) the
# same command refuses to resume (exit 4 naming both ETags); removing the partial starts over.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
CHUNK=$((4 * MIB))
PASSED=0

# journal_data_chunks JOURNAL: how many data chunks (every 4th) the journal lists as verified
journal_data_chunks()
{
	/usr/bin/python3 - "$1" <<'EOF' 2>/dev/null || echo 0
import struct, sys
j = open(sys.argv[1], "rb").read()
assert j[:8] == b"CVMRJNL2"
count = struct.unpack_from("<Q", j, 24)[0]
el = struct.unpack_from("<H", j, 36)[0]
sl = struct.unpack_from("<H", j, 38 + el)[0]
bits = j[40 + el + sl:40 + el + sl + (count + 7) // 8]
print(sum((bits[i // 8] >> (i % 8)) & 1 for i in range(0, count, 4)))
EOF
}

# etag_of PATH: the blob's ETag
etag_of()
{
	blobtool head "$1" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print({k.lower(): v for k, v in d["headers"].items()}["etag"])'
}

# start_restore OUT [OPTION...]: the restore in the background (SIGINT at its default), pid in
# $PID
start_restore()
{
	local out=$1
	shift
	/usr/bin/python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$CVMRESTORE" restore --cacert "$RP_CACERT" --connections 2 \
		--json "$@" "$PSAS" -o "$out" >"$T/bg.stdout" 2>"$T/bg.stderr" &
	PID=$!
}

# wait_journal OUT MIN: wait (up to 30 s) until OUT.journal lists MIN data chunks and the proxy
# has stalled a transfer
wait_journal()
{
	local _ n=0
	# the proxy's stats count since it started
	for _ in $(seq 300); do
		kill -0 "$PID" 2>/dev/null || fail "the restore ended before it was interrupted: $(cat "$T/bg.stderr")"
		if [ -f "$1.journal" ]; then
			n=$(journal_data_chunks "$1.journal")
			[ "$n" -ge "$2" ] && [ "$(proxy_stat 'd["injected"].get("stall", 0)')" -gt "$STALLS" ] &&
				return 0
		fi
		sleep 0.1
	done
	fail "OUT.journal listed $n data chunks after 30 s, want $2"
}

# 512 MiB: 1 MiB of random data at the start of every 4th 4 MiB chunk (32 data chunks)
mibs=()
for i in $(seq 0 16 511); do mibs+=("$i"); done
it_make_raw "$T/disk.raw" $((512 * MIB)) "${mibs[@]}"
R convert -q "$T/disk.raw" "$T/disk.vhd" || fail "convert"
DATA=$((32 * CHUNK))
azurite_start
blobtool upload-sparse disks/big.vhd "$T/disk.vhd" --create-container >/dev/null
faultproxy_start "https://127.0.0.1:$AZURITE_PORT"
SAS=$(azurite_sas disks/big.vhd)
PSAS=${SAS/$AZURITE_URL/$PROXY_URL/devstoreaccount1}
# range GETs: footer, CRC64 probe, MD5 probe, then chunks; stall the 12th (the 9th data chunk)
STALL='{"mode": "stall", "nth": 12, "seconds": 120}'

note "SIGKILL during a restore, then resume"
OUT=$T/out.vhd
proxy_fault "$STALL"
STALLS=$(proxy_stat 'd["injected"].get("stall", 0)') # before the restore can reach the 12th GET
start_restore "$OUT"
wait_journal "$OUT" 4
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
[ ! -e "$OUT" ] || fail "OUT exists after SIGKILL"
[ -f "$OUT.partial" ] && [ -f "$OUT.journal" ] || fail "SIGKILL: partial or journal missing"
listed=$(journal_data_chunks "$OUT.journal")
pass "killed with $listed data chunks in the journal; OUT absent"
# Chunk 1 (4-8 MiB) was never written in the blob, and the journal lists it (it comes before the
# listed data chunks): bytes left there must not survive the resume (it punches the hole again,
# docs/journal.md), or the restored disk would hold them.
printf 'left over by someone else' | dd of="$OUT.partial" bs=1 seek=$((CHUNK + 4096)) conv=notrunc status=none

proxy_fault '{"mode": "none"}'
GETS=$(proxy_stat 'd["range_gets"]')
expect_exit 0 R restore --cacert "$RP_CACERT" --connections 2 --json "$PSAS" -o "$OUT"
cp "$RP_OUT" "$T/resume.json"
scmp "$OUT" "$T/disk.vhd"
pass "resumed restore is byte-identical"
json_check "$T/resume.json" 'd["resumed"] is True and d["verdict"] == "pass"' "resume: resumed"
json_check "$T/resume.json" "d['bytes_resumed'] >= $listed * $CHUNK and d['bytes_resumed'] > 0" \
	"resume: bytes_resumed"
json_check "$T/resume.json" "d['bytes_fetched'] + d['bytes_resumed'] == $DATA and d['bytes_fetched'] < $DATA" \
	"resume: bytes_fetched"
[ "$(proxy_stat 'd["range_gets"]')" -le $((GETS + 3 + 32 - listed)) ] || fail "resume fetched verified chunks again"
[ ! -e "$OUT.partial" ] && [ ! -e "$OUT.journal" ] || fail "resume left its partial or journal"
pass "report: resumed, bytes_resumed $(json_get "$T/resume.json" 'd["bytes_resumed"]'), bytes_fetched $(json_get "$T/resume.json" 'd["bytes_fetched"]') < $DATA"

note "SIGKILL during a restore --seal, then resume --seal"
# With a seal the journal's digests of chunks written as the seal says are read from the seal
# (restore/sink.c): each chunk it lists must read back as the journal says, none fetched again.
R seal -q "$T/disk.vhd" -o "$T/seal.json" || fail "seal"
OUT=$T/out3.vhd
proxy_fault "$STALL"
STALLS=$(proxy_stat 'd["injected"].get("stall", 0)')
start_restore "$OUT" --seal "$T/seal.json"
wait_journal "$OUT" 4
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
listed=$(journal_data_chunks "$OUT.journal")
proxy_fault '{"mode": "none"}'
expect_exit 0 R restore --cacert "$RP_CACERT" --connections 2 --json --seal "$T/seal.json" \
	"$PSAS" -o "$OUT"
cp "$RP_OUT" "$T/resume3.json"
scmp "$OUT" "$T/disk.vhd"
json_check "$T/resume3.json" "d['resumed'] is True and d['chunks_resumed_listed'] >= $listed" \
	"resume --seal: resumed"
json_check "$T/resume3.json" "d['chunks_rechecked'] >= $listed and d['chunks_refetched'] == 0" \
	"resume --seal: every listed data chunk re-checked, none fetched again"
pass "restore --seal killed with $listed data chunks listed, resumed byte-identical"

note "SIGINT, then the blob changes"
OUT=$T/out2.vhd
proxy_fault "$STALL"
STALLS=$(proxy_stat 'd["injected"].get("stall", 0)') # before the restore can reach the 12th GET
start_restore "$OUT"
wait_journal "$OUT" 4
kill -INT "$PID"
rc=0
wait "$PID" || rc=$?
[ "$rc" = 130 ] || fail "restore after SIGINT exited $rc, want 130 ($(cat "$T/bg.stderr"))"
[ ! -e "$OUT" ] || fail "OUT exists after SIGINT"
[ -f "$OUT.partial" ] && [ -f "$OUT.journal" ] || fail "SIGINT: partial or journal missing"
grep -qi "interrupted" "$T/bg.stderr" || fail "SIGINT: the message does not say interrupted"
pass "SIGINT: exit 130, OUT absent, partial and journal kept"

proxy_fault '{"mode": "none", "t": 2}'
GETS=$(proxy_stat 'd["range_gets"]')
OLD=$(etag_of disks/big.vhd)
head -c 4096 /dev/urandom >"$T/patch.bin"
blobtool put-pages disks/big.vhd --from-file "$T/patch.bin" --offset $((100 * MIB)) >/dev/null
NEW=$(etag_of disks/big.vhd)
[ "$OLD" != "$NEW" ] || fail "put-pages did not change the ETag"
expect_exit 4 R restore -q --cacert "$RP_CACERT" --connections 2 "$PSAS" -o "$OUT"
expect_one_error_line "cvmrestore: "
expect_stderr_has "cannot resume"
expect_stderr_has "$OLD"
expect_stderr_has "$NEW"
[ ! -e "$OUT" ] && [ -f "$OUT.partial" ] || fail "a refused resume changed the files"
[ "$(proxy_stat 'd["range_gets"]')" -le $((GETS + 3)) ] || fail "a refused resume fetched chunks"
pass "changed blob: resume refused, exit 4 naming ETag $OLD and $NEW"

rm -f "$OUT.partial" "$OUT.journal"
dd if="$T/patch.bin" of="$T/disk.raw" bs=4096 seek=$((100 * MIB / 4096)) conv=notrunc status=none
expect_exit 0 R restore -q --cacert "$RP_CACERT" --format raw "$PSAS" -o "$OUT"
scmp "$OUT" "$T/disk.raw"
pass "after removing the partial, a fresh restore has the new content"

echo "test_restore_resume: $PASSED passed, 0 failed"
