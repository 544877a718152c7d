#!/bin/bash
# --limit-rate and --log-file on upload (Azurite): 8 MiB of random pages (of a 20 MiB disk) over 4
# parallel workers at 1M; no 10 s window of the logged Put Page requests more than 10% over the cap; the
# log holds one PUT line per page range, with Azurite's request id and no SAS; the blob reads
# back identical. A behaviour check of the cap, not a speed test (about 16 s by design: the
# pages at the cap, then the read-back of the post-check, also at the cap).
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PASSED=0
azurite_start
blobtool create-container ops >/dev/null

head -c $((8 * MIB)) /dev/urandom >"$T/disk.raw"
truncate -s $((20 * MIB)) "$T/disk.raw" # Azure takes 20 MiB and more; the zeros are not sent
R convert -q "$T/disk.raw" "$T/disk.vhd" || fail "convert"
SAS=$(blobtool sas ops/disk.vhd --expiry +3600 --perms rcw --full-url)

note "upload at --limit-rate 1M over 4 workers, logged"
expect_exit 0 R upload --cacert "$RP_CACERT" --create --connections 4 --limit-rate 1M \
	--log-file "$T/req.log" --progress none "$T/disk.vhd" "$SAS"
"$PY" "$RP_SOURCE_DIR/tests/tools/ratecheck.py" tool "$T/req.log" $MIB ||
	fail "a 10 s window of the upload over the cap by more than 10%"
pass "no 10 s window of the upload over 1 MiB/s + 10%"

puts=$(grep -c 'method=PUT .*status=201 ' "$T/req.log" || true)
[ "$puts" -ge 3 ] || fail "$puts successful PUT lines in the log"
! grep -q 'sig=\|se=\|sp=' "$T/req.log" "$RP_ERR" || fail "the SAS reached the log"
! grep -q ' request_id=-' <(grep 'method=PUT' "$T/req.log") || fail "a PUT without Azurite's request id"
[ "$(stat -c %a "$T/req.log")" = 600 ] || fail "the log is not mode 0600"
pass "$puts PUT lines with Azurite's request ids, no SAS, mode 0600"

expect_exit 0 R restore -q --cacert "$RP_CACERT" --format vhd "$SAS" -o "$T/back.vhd"
scmp "$T/back.vhd" "$T/disk.vhd"
pass "the blob reads back identical"

echo "PASS: $PASSED checks"
