#!/bin/bash
# A disk whose first bytes happen to look like JSON ('{' or '[' after whitespace) is still a
# disk: a fixed VHD (its footer says so) and a raw disk whose first sector holds a control byte
# (as random sector data does, dozens of them) are read as disks by every command, never refused
# as a broken descriptor; a real JSON text is a document, and a broken one is exit 3.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir

T=$RP_TMP
MIB=1048576
# sector 0: '[' then printable bytes only (the worst case for a VHD: no control byte)
{ printf '[ '; head -c 8192 /dev/urandom | tr -dc 'A-Za-z0-9 ,:"{}[]' | head -c 510; } >"$T/head.bin"
truncate -s $((2 * MIB)) "$T/raw.img"
dd if="$T/head.bin" of="$T/raw.img" conv=notrunc status=none
head -c 1000 /dev/urandom | dd of="$T/raw.img" bs=1 seek=600 conv=notrunc status=none
printf '\1' | dd of="$T/raw.img" bs=1 seek=100 conv=notrunc status=none # a control byte
cp "$T/raw.img" "$T/nonul.img"
dd if="$T/head.bin" of="$T/nonul.img" conv=notrunc status=none           # none in sector 0
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$T/nonul.img" "$T/fixed.vhd"

note "a fixed VHD whose data starts like JSON: a disk for every command"
expect_exit 0 R seal -q "$T/fixed.vhd" -o "$T/fixed.seal.json"
expect_exit 0 R verify -q "$T/fixed.vhd" --seal "$T/fixed.seal.json"
expect_exit 0 R inspect "$T/fixed.vhd"
expect_exit 0 R convert -q "$T/fixed.vhd" "$T/fixed.raw" --to raw
cmp "$T/fixed.raw" "$T/nonul.img" || fail "the VHD's data differs"
pass "fixed VHD starting with '[': sealed, verified, inspected, converted"

note "a raw disk whose first sector starts like JSON but holds a control byte: a disk"
expect_exit 0 R seal -q "$T/raw.img" -o "$T/raw.seal.json"
expect_exit 0 R verify -q "$T/raw.img" --seal "$T/raw.seal.json"
pass "raw disk starting with '[' (a control byte in its first sector): sealed and verified"

note "JSON text is a document: a broken one is exit 3 with the line and column"
printf '{\n  "format": "cvmrestore-recovery-point",\n  "disks": [\n' >"$T/cut.json"
expect_exit 3 R verify "$T/cut.json"
expect_stderr_has "invalid JSON at line"
pass "a cut descriptor: exit 3"
echo "test_json_like_disk: $PASSED groups passed"
