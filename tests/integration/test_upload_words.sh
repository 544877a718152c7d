#!/bin/bash
# The progress line of upload, on a terminal (script(1) gives the command one), names the bytes
# it skipped for what they are: zero pages, not sent because they are zero ("of zero pages
# skipped"), never "never written" (the image may well have written zeros there). A download of
# the same blob (restore) still says "never written": there the skipped ranges are the ones the
# blob's page ranges do not list.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PASSED=0
azurite_start
blobtool create-container words >/dev/null

# 32 MiB with data in MiBs 0 and 20 only: 30 MiB of zero pages.
it_make_raw "$T/disk.raw" $((32 * MIB)) 0 20
R convert -q "$T/disk.raw" "$T/disk.vhd" || fail "convert"
wsas() { blobtool sas "$1" --expiry +3600 --perms "${2:-rcw}" --full-url; }

# tty FILE CMD...: run CMD with a terminal as stdin/stdout/stderr (script -e keeps its exit
# code), everything it printed in FILE; the SAS goes through the environment, not a command line
tty_run() {
	local out=$1
	shift
	printf '%q ' "$@" >"$T/cmd.sh"
	# a wide terminal: on a narrow one the bar drops the skipped bytes first (cli_progress.c)
	script -qec "stty cols 200 rows 50; bash $T/cmd.sh" "$out" </dev/null >/dev/null
}
export UPLOAD_URL
UPLOAD_URL=$(wsas words/disk.vhd)
tty_run "$T/up.txt" "$CVMRESTORE" upload --cacert "$RP_CACERT" --create "$T/disk.vhd" env:UPLOAD_URL ||
	fail "upload: $(tail -5 "$T/up.txt")"
grep -q 'of zero pages skipped' "$T/up.txt" || fail "no 'of zero pages skipped' in: $(tr '\r' '\n' <"$T/up.txt" | tail -5)"
grep -q 'never written' "$T/up.txt" && fail "upload calls zero pages never written: $(tr '\r' '\n' <"$T/up.txt" | grep 'never written' | tail -1)"
grep -q 'skipped 30.0 MiB of zeros' "$T/up.txt" || fail "the upload summary: $(tr '\r' '\n' <"$T/up.txt" | grep skipped)"
pass "upload's progress on a terminal: 'of zero pages skipped', never 'never written'"

export DOWNLOAD_URL
DOWNLOAD_URL=$(wsas words/disk.vhd r)
tty_run "$T/down.txt" "$CVMRESTORE" restore --cacert "$RP_CACERT" env:DOWNLOAD_URL -o "$T/back.vhd" ||
	fail "restore: $(tail -5 "$T/down.txt")"
grep -q 'never written' "$T/down.txt" || fail "restore's progress: $(tr '\r' '\n' <"$T/down.txt" | tail -5)"
cmp -s "$T/disk.vhd" "$T/back.vhd" || fail "the blob read back differs"
grep -q 'sig=' "$T/up.txt" "$T/down.txt" && fail "a SAS signature in the output"
pass "restore's progress of the same blob: 'never written' (page ranges not listed)"

echo "test_upload_words: $PASSED passed, 0 failed"
