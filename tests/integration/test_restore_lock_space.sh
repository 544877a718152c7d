#!/bin/bash
# One run per output, and no run that cannot fit (docs/files.md):
# - two restores to the same OUT: the first is held by the fault proxy (a stalled range GET);
#   the second exits at once with 4, naming the first one's PID and OUT.lock, and leaves the
#   first one's partial and journal alone; the first then finishes byte-identical;
# - convert and upload take the same kind of lock: held by another process (a Python fcntl lock
#   holder), they exit 4 naming its PID;
# - free space: on an 8 MiB tmpfs, a restore of a page blob with 16 MiB of data is refused
#   before any byte is fetched (exit 4, naming needed and free bytes, no OUT.partial); one of a
#   64 MiB page blob with 1 MiB of data fits (holes do not count); --no-space-check tries anyway
#   and fails on the full file system instead;
# - a directory given as OUT is refused at the start (exit 2) by restore, convert and seal.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PASSED=0
SMALL=$T/small
cleanup_mount() {
	srv_stop_all
	if mountpoint -q "$SMALL"; then umount "$SMALL"; fi
	rp_cleanup
}

azurite_start
faultproxy_start "https://127.0.0.1:$AZURITE_PORT"
trap cleanup_mount EXIT
# up NAME RAW: RAW as a fixed VHD page blob disks/NAME, uploaded sparse; its SAS via the proxy
up()
{
	R convert -q "$2" "$T/$1" || fail "convert $2"
	blobtool upload-sparse "disks/$1" "$T/$1" --create-container >/dev/null
	local sas
	sas=$(azurite_sas "disks/$1")
	echo "${sas/$AZURITE_URL/$PROXY_URL/devstoreaccount1}"
}
RESTORE=(restore -q --cacert "$RP_CACERT" --connections 2)

note "two restores to the same OUT"
it_make_raw "$T/a.raw" $((32 * MIB)) 0 9 18 27
A=$(up a.vhd "$T/a.raw")
# range GETs: footer, CRC64 probe, MD5 probe, then chunks; hold the 5th for 12 s (then the
# proxy closes it and the restore fetches it again), so the first restore cannot end before
proxy_fault '{"mode": "stall", "nth": 5, "seconds": 12}'
"$CVMRESTORE" "${RESTORE[@]}" "$A" -o "$T/a.out" >"$T/first.out" 2>"$T/first.err" &
FIRST=$!
for _ in $(seq 600); do
	[ -f "$T/a.out.journal" ] && break
	kill -0 "$FIRST" 2>/dev/null || break
	sleep 0.1
done
[ -f "$T/a.out.journal" ] || fail "the first restore made no journal: $(cat "$T/first.err")"
kill -0 "$FIRST" 2>/dev/null || fail "the first restore ended early: $(cat "$T/first.err")"
[ -f "$T/a.out.partial" ] && [ -f "$T/a.out.journal" ] || fail "the first restore has no partial"
expect_exit 4 R "${RESTORE[@]}" "$A" -o "$T/a.out"
expect_stderr_has "'$T/a.out' is in use by another cvmrestore (pid $FIRST, lock '$T/a.out.lock')"
[ -f "$T/a.out.partial" ] && [ -f "$T/a.out.journal" ] || fail "the second restore touched the first one's files"
kill -0 "$FIRST" 2>/dev/null || fail "the first restore ended while the second ran"
rc=0
wait "$FIRST" || rc=$?
[ "$rc" = 0 ] || fail "the first restore failed ($rc): $(cat "$T/first.err")"
cmp "$T/a.out" "$T/a.vhd" || fail "the first restore's output differs"
[ ! -e "$T/a.out.lock" ] && [ ! -e "$T/a.out.partial" ] || fail "lock or partial left"
proxy_fault '{"mode": "none"}'
[ "$(proxy_stat 'd["injected"].get("stall", 0)')" -ge 1 ] || fail "the proxy never held the first restore"
pass "a second restore to the same OUT exits 4 naming the first one's PID; the first finishes"

# hold LOCKFILE: a process holding an fcntl write lock on LOCKFILE (its PID in it), pid in $HOLDER
hold()
{
	/usr/bin/python3 -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.write(fd, b"%d\n" % os.getpid())
open(sys.argv[1] + ".held", "w").close()
time.sleep(60)' "$1" &
	HOLDER=$!
	for _ in $(seq 100); do [ -e "$1.held" ] && return 0; sleep 0.1; done
	fail "the lock holder did not start"
}

note "convert and upload take the lock too"
hold "$T/c.raw.lock"
expect_exit 4 R convert -q --to raw "$T/a.raw" "$T/c.raw"
expect_stderr_has "'$T/c.raw' is in use by another cvmrestore (pid $HOLDER"
[ ! -e "$T/c.raw.partial" ] && [ ! -e "$T/c.raw" ] || fail "a refused convert wrote"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true
rm -f "$T/c.raw.lock" "$T/c.raw.lock.held"
R convert -q --to raw "$T/a.raw" "$T/c.raw" || fail "convert after the lock went"
pass "convert: a held OUT.lock is exit 4 with the holder's PID"
hold "$T/a.vhd.upload-journal.lock"
blobtool create-container upl >/dev/null
blobtool create-page-blob upl/a.vhd "$(file_size "$T/a.vhd")" >/dev/null
expect_exit 4 R upload -q --cacert "$RP_CACERT" "$T/a.vhd" \
	"$(blobtool sas upl/a.vhd --expiry +3600 --perms rcw --full-url)"
expect_stderr_has "'$T/a.vhd' is in use by another cvmrestore (pid $HOLDER"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true
pass "upload: a held journal lock is exit 4 with the holder's PID"

note "free space on an 8 MiB tmpfs"
mkdir "$SMALL"
mount -t tmpfs -o size=8M tmpfs "$SMALL" || fail "cannot mount a tmpfs (the test needs root)"
it_make_raw "$T/big.raw" $((32 * MIB)) 0 3 6 9 12 15 18 21 24 27 30 31 1 4 7 10
B=$(up big.vhd "$T/big.raw")
GETS0=$(proxy_stat 'd.get("range_gets", 0)')
expect_exit 4 R "${RESTORE[@]}" "$B" -o "$SMALL/big.vhd"
expect_stderr_has "not enough free space for '$SMALL/big.vhd': $((16 * MIB + 512)) bytes needed"
expect_stderr_has "--no-space-check"
[ ! -e "$SMALL/big.vhd.partial" ] && [ ! -e "$SMALL/big.vhd.journal" ] ||
	fail "a refused restore left a partial or journal"
[ "$(proxy_stat 'd.get("range_gets", 0)')" -le $((GETS0 + 3)) ] ||
	fail "a refused restore fetched chunks"
pass "a restore that cannot fit is refused before fetching, naming needed and free bytes"
it_make_raw "$T/sparse.raw" $((64 * MIB)) 40
S=$(up sparse.vhd "$T/sparse.raw")
expect_exit 0 R "${RESTORE[@]}" "$S" -o "$SMALL/sparse.vhd"
cmp "$SMALL/sparse.vhd" "$T/sparse.vhd" || fail "the sparse restore differs"
rm -f "$SMALL/sparse.vhd"
pass "holes do not count: 64 MiB with 1 MiB of data restores into 8 MiB"
expect_exit 4 R "${RESTORE[@]}" --no-space-check "$B" -o "$SMALL/big.vhd"
grep -qi 'not enough free space' "$RP_ERR" && fail "--no-space-check still checked"
expect_stderr_has "no space left on device"
rm -f "$SMALL"/big.vhd.*
pass "--no-space-check tries anyway"

note "a directory as OUT"
mkdir "$T/dir"
expect_exit 2 R "${RESTORE[@]}" --force "$A" -o "$T/dir"
expect_stderr_has "'$T/dir' is a directory"
expect_exit 2 R convert -q --force "$T/a.raw" "$T/dir"
expect_stderr_has "'$T/dir' is a directory"
expect_exit 2 R seal -q "$T/a.raw" -o "$T/dir"
expect_stderr_has "'$T/dir' is a directory"
pass "restore, convert and seal refuse a directory as OUT at the start"

echo "PASS: test_restore_lock_space ($PASSED checks)"
