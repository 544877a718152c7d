#!/bin/bash
# Page ranges of a huge, fragmented disk in bounded memory (issue 13 point 4; docs/azure.md
# "Page ranges"): tests/servers/pagerangeserver.py serves over HTTPS a page blob whose Get Page
# Ranges answer lists 2 million ranges (512 bytes each, with a hole after each, so none can be
# merged), 500000 per answer with NextMarker (opaque, percent-encoded by the client), generated
# while sent. restore must
# - list every range through the markers and fetch exactly the chunks they touch;
# - restore the disk byte for byte (checked over the data extents, holes read as zeros);
# - stay under a peak RSS bound: the answers are parsed as they arrive into the plan's
#   per-chunk bits, never held (holding one answer, ~35 MB of XML plus its range array, went
#   far beyond it);
# - refuse a malformed range in the middle of an answer (exit 3, naming it) and a second answer
#   whose ranges go back before the first one's (exit 3);
# - ask again for an answer whose connection drops midway, and count its ranges once.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
PASSED=0
GIB=1073741824
SIZE=$((8 * GIB))
NRANGES=2000000
BASE=$((GIB + 1536)) # not chunk-aligned; the ranges cross the 2 GiB and 3 GiB windows
STRIDE=1024
# Peak RSS of restore at defaults is about 116 MiB here whether the disk has 200 page ranges or
# 2 million (the chunk buffers); the old code, holding each 500000-range answer (~35 MB of XML)
# and its range array, peaked at 216 MiB. The bound is issue 13's for a 64 TiB disk.
RSS_LIMIT_KB=$((160 * 1024))

srv_certs
SRV_PID=
stop_srv() { srv_kill "$SRV_PID" TERM; SRV_PID=; }
trap 'stop_srv; srv_stop_all; rp_cleanup' EXIT

# The VHD footer of a fixed disk of SIZE bytes, as convert writes it
truncate -s "$SIZE" "$T/empty.raw"
"$CVMRESTORE" convert "$T/empty.raw" "$T/empty.vhd" --to vhd >/dev/null 2>&1 ||
	fail "convert of the empty disk failed"
tail -c 512 "$T/empty.vhd" >"$T/footer.bin"
rm -f "$T/empty.raw" "$T/empty.vhd"

# start_srv [ARGS...]: the page range server; sets PORT, LOG
start_srv()
{
	local d
	stop_srv
	d=$(mktemp -d "$SRV_DIR/pr.XXXXXX")
	"$SRV_PY" "$SRV_SRC/pagerangeserver.py" --cert "$SRV_CERT" --key "$SRV_KEY" \
		--footer "$T/footer.bin" --size "$SIZE" --ranges "$NRANGES" --base "$BASE" \
		--stride "$STRIDE" --log "$d/requests.log" --port-file "$d/port" "$@" \
		>"$d/port.log" 2>&1 </dev/null &
	SRV_PID=$!
	disown "$SRV_PID"
	PORT=$(srv_wait_portfile "$d/port" "$SRV_PID" pagerangeserver)
	LOG=$d/requests.log
}
URL_HOST=hugepages.blob.core.windows.net # pinned to 127.0.0.1 by --resolve
url() { echo "https://$URL_HOST:$PORT/c/disk.vhd?sv=2021-08-06&sr=b&sp=r&sig=PageRangeSig0123456789abcd"; }
pin() { echo --cacert "$RP_CACERT" --resolve "$URL_HOST:$PORT:127.0.0.1"; }

note "restore of a disk with 2 million page ranges, 500000 per answer"
start_srv
# shellcheck disable=SC2046
expect_exit 0 /usr/bin/time -v -o "$T/time.txt" "$CVMRESTORE" restore -q --json $(pin) \
	"$(url)" -o "$T/out.raw" --format raw
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$T/time.txt")
echo "peak RSS ${rss} KiB (bound $RSS_LIMIT_KB KiB)"
if ldd "$CVMRESTORE" 2>/dev/null | grep libasan >/dev/null; then
	echo "(an ASan build: its shadow memory makes RSS meaningless; not bounded)"
else
	[ "$rss" -lt "$RSS_LIMIT_KB" ] || fail "restore peaked at $rss KiB, above $RSS_LIMIT_KB KiB"
fi
"$SRV_PY" "$SRV_SRC/pagerangeserver.py" --check "$T/out.raw" --size "$SIZE" \
	--ranges "$NRANGES" --base "$BASE" --stride "$STRIDE" || fail "the restored disk differs"
"$PY" - "$LOG" "$NRANGES" <<'EOF' || fail "the listing was not followed as expected (above)"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
pl = [l for l in lines if l["comp"] == "pagelist"]
# restore lists every window twice: once to size the output (free space), once for the plan
listed = sum(l["ranges"] for l in pl)
markers = [l["marker"] for l in pl if l["marker"]]
bad = [l for l in lines if l["status"] >= 400]
if bad or not markers or any(not m.startswith("pr/") for m in markers):
    sys.exit("errors %r, markers %r" % (bad[:3], markers[:3]))
# each range is listed in every window it touches: 2 passes, + ranges that straddle windows
if not (2 * int(sys.argv[2]) <= listed <= 2 * int(sys.argv[2]) + 8):
    sys.exit("%d ranges listed" % listed)
EOF
# exactly the chunks the ranges touch are fetched (the others are holes)
CS=4194304
want=$(((BASE + (NRANGES - 1) * STRIDE + 511) / CS - BASE / CS + 1))
json_check "$RP_OUT" "d['chunks_fetched'] == $want and d['bytes_fetched'] == $want * $CS" \
	"restore did not fetch exactly the $want chunks the page ranges touch"
pass "2 million page ranges: byte for byte, peak RSS $rss KiB"
rm -f "$T/out.raw"

note "a malformed range in the middle of an answer"
start_srv --bad-at 1234567
# shellcheck disable=SC2046
expect_exit 3 "$CVMRESTORE" restore -q $(pin) "$(url)" -o "$T/bad.raw" --format raw
expect_stderr_has "].Start"
expect_stderr_has "is not a multiple of 512"
if grep -q "sig=" "$RP_ERR"; then fail "the SAS signature is in the message"; fi
pass "a malformed range mid-answer: exit 3, named"

note "an answer whose ranges go back before the previous answer's"
start_srv --overlap-answers
# shellcheck disable=SC2046
expect_exit 3 "$CVMRESTORE" restore -q $(pin) "$(url)" -o "$T/bad2.raw" --format raw
expect_stderr_has "not after the ranges of the previous answer"
pass "answers out of order: exit 3"

note "an answer cut in the middle is asked again and counted once"
start_srv --ranges 30000 --per-answer 10000 --cut-after 5000
# shellcheck disable=SC2046
expect_exit 0 "$CVMRESTORE" restore -q --json $(pin) "$(url)" -o "$T/cut.raw" --format raw
"$SRV_PY" "$SRV_SRC/pagerangeserver.py" --check "$T/cut.raw" --size "$SIZE" \
	--ranges 30000 --base "$BASE" --stride "$STRIDE" || fail "the restored disk differs"
want=$(((BASE + 29999 * STRIDE + 511) / CS - BASE / CS + 1))
json_check "$RP_OUT" "d['chunks_fetched'] == $want" "not the $want chunks of 30000 ranges"
"$PY" - "$LOG" <<'EOF' || fail "the cut answer was not asked again (above)"
import json, sys
pl = [json.loads(l) for l in open(sys.argv[1]) if '"pagelist"' in l]
cut = [i for i, l in enumerate(pl) if l["ranges"] == -1]
if len(cut) != 1 or pl[cut[0] + 1]["marker"] != pl[cut[0]]["marker"] \
        or pl[cut[0] + 1]["range"] != pl[cut[0]]["range"]:
    sys.exit("requests: %r" % pl[:8])
EOF
rm -f "$T/cut.raw"
pass "an answer cut midway: asked again, byte for byte"

echo "ok: test_pagelist_huge ($PASSED checks)"
