#!/usr/bin/env bash
# Restore onto a block device (a loop device over a file filled with junk): written in place,
# zero and never-written ranges really zeroed, the journal in the current folder (never written
# through a planted link; its lock refuses one), --force
# required, a device too small refused.
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
C=$CVMRESTORE
T=$RP_TMP
MIB=1048576
passed=0

if ! command -v losetup >/dev/null || [ "$(id -u)" != 0 ] || ! losetup -f >/dev/null 2>&1; then
	echo "test_restore_blockdev: loop devices are not available here (needs root and losetup)" >&2
	exit 1
fi

# A 24 MiB disk: random MiBs and zero MiBs, as a fixed VHD served by nginx.
$PY - "$T/disk.raw" <<'PYEOF'
import random, sys
r = random.Random(5)
with open(sys.argv[1], "wb") as f:
    for i in range(24):
        f.write(r.randbytes(1 << 20) if i % 3 == 0 else bytes(1 << 20))
PYEOF
mkdir -p "$T/www"
"$C" convert "$T/disk.raw" "$T/www/disk.vhd" -q
"$C" seal "$T/www/disk.vhd" -o "$T/seal.json" -q
. "$RP_SOURCE_DIR/tests/integration/servers.sh"
nginx_start "$T/www"

# Junk everywhere on the device, so zeros that were skipped would show.
head -c $((32 * MIB)) /dev/zero | tr '\0' '\252' >"$T/dev.img"
dev=$(losetup -f --show "$T/dev.img")
trap 'losetup -d "$dev" 2>/dev/null; srv_stop_all; rp_cleanup' EXIT
head -c $((8 * MIB)) /dev/zero | tr '\0' '\252' >"$T/small.img"
small=$(losetup -f --show "$T/small.img")
trap 'losetup -d "$dev" "$small" 2>/dev/null; srv_stop_all; rp_cleanup' EXIT

cd "$T"
expect_exit 2 "$C" restore "$NGINX_URL/disk.vhd" -o "$dev" --cacert "$RP_CACERT" --format raw
expect_stderr_has "use --force"
passed=$((passed + 1))

expect_exit 2 "$C" restore "$NGINX_URL/disk.vhd" -o "$small" --cacert "$RP_CACERT" --format raw --force
expect_stderr_has "needs"
passed=$((passed + 1))

expect_exit 0 "$C" restore "$NGINX_URL/disk.vhd" -o "$dev" --cacert "$RP_CACERT" --format raw \
	--force --seal "$T/seal.json" --json
json_check "$RP_OUT" 'd["verdict"] == "pass"' "block device restore report"
cmp -n $((24 * MIB)) "$dev" "$T/disk.raw" || fail "the device does not hold the disk (junk left?)"
[ ! -e "$(basename "$dev").cvmrestore-journal" ] || fail "the journal was left after success"
passed=$((passed + 1))

# As a VHD: the footer follows the data on the device.
expect_exit 0 "$C" restore "$NGINX_URL/disk.vhd" -o "$dev" --cacert "$RP_CACERT" --force -q
cmp -n $((24 * MIB + 512)) "$dev" "$T/www/disk.vhd" || fail "VHD restore onto the device differs"
passed=$((passed + 1))

# The device's journal and lock live in the current folder: a link planted at the journal's
# old temporary name is never written through, one at the lock's name is refused (exit 4).
printf 'precious\n' >"$T/victim"
ln -s "$T/victim" "$(basename "$dev").cvmrestore-journal.tmp"
expect_exit 0 "$C" restore "$NGINX_URL/disk.vhd" -o "$dev" --cacert "$RP_CACERT" --force -q
[ "$(cat "$T/victim")" = precious ] || fail "the device journal was written through a link"
rm -f "$(basename "$dev").cvmrestore-journal.tmp"
ln -s "$T/victim" "$(basename "$dev").cvmrestore-lock"
expect_exit 4 "$C" restore "$NGINX_URL/disk.vhd" -o "$dev" --cacert "$RP_CACERT" --force -q
expect_stderr_has "cvmrestore-lock' is a symbolic link; refusing to write through it"
[ "$(cat "$T/victim")" = precious ] || fail "the device lock was written through a link"
rm -f "$(basename "$dev").cvmrestore-lock"
passed=$((passed + 1))

echo "test_restore_blockdev: $passed passed, 0 failed"
