#!/bin/bash
# A 3 TiB sparse raw disk with a few MiB written at scattered offsets converts to a fixed VHD
# (no 2040 GiB cap, which qemu-img has) of 3 TiB + 512 bytes that stays sparse (< 64 MiB
# allocated), with a right footer and the written bytes at the same offsets. Must take seconds:
# a raw input's holes are found with SEEK_DATA/SEEK_HOLE, not read.
set -euo pipefail
: "${CVMRESTORE:?set CVMRESTORE to the cvmrestore binary}"
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"

rp_tmpdir
T=$RP_TMP
MIB=1048576
TIB=$((1024 * 1024 * MIB))
SIZE=$((3 * TIB))
LIMIT=${RP_SPARSE_TIMEOUT:-60}

truncate -s "$SIZE" "$T/big.raw"
[ "$(stat -c %s "$T/big.raw")" = "$SIZE" ] || fail "this file system cannot hold a 3 TiB file"
# offset:length pairs: the first MiB, 512-aligned pieces around 1 TiB and 2040 GiB (qemu's
# limit), an unaligned-to-MiB piece near 2.5 TiB, and the last MiB
PIECES="0:$MIB $((TIB + 4096)):65536 $((2040 * 1024 * MIB - 512)):1024 \
$((5 * TIB / 2 + 123 * MIB + 3584)):$((2 * MIB)) $((SIZE - MIB)):$MIB"
for p in $PIECES; do
	it_put_random "$T/big.raw" "${p%%:*}" "${p##*:}"
done

expect_exit 0 "$CVMRESTORE" inspect "$T/big.raw" --json
v=$(json_get "$RP_OUT" "(d['format'], d['virtual_size'])")
[ "$v" = "[\"raw\", $SIZE]" ] || fail "inspect says $v, want raw, $SIZE"

start=$(date +%s)
rc=0
timeout "$LIMIT" "$CVMRESTORE" convert "$T/big.raw" "$T/big.vhd" --to vhd >"$RP_OUT" 2>"$RP_ERR" ||
	rc=$?
[ "$rc" != 124 ] || fail "convert of a 3 TiB sparse raw took over $LIMIT s (holes read?)"
[ "$rc" = 0 ] || fail "convert exited $rc: $(cat "$RP_ERR")"
echo "convert of 3 TiB sparse raw: $(($(date +%s) - start)) s"

[ "$(stat -c %s "$T/big.vhd")" = $((SIZE + 512)) ] ||
	fail "big.vhd is $(stat -c %s "$T/big.vhd") bytes, want $((SIZE + 512))"
alloc=$(du -B1 "$T/big.vhd" | cut -f1)
[ "$alloc" -lt $((64 * MIB)) ] || fail "big.vhd has $alloc bytes allocated, want < 64 MiB"
# the footer, without reading 3 TiB of padding: check a copy of the last MiB + 512 bytes
dd if="$T/big.vhd" of="$T/tail.vhd" bs=64K skip=$((SIZE - MIB)) iflag=skip_bytes status=none
dd if="$T/big.raw" of="$T/tail.raw" bs=64K skip=$((SIZE - MIB)) iflag=skip_bytes status=none
/usr/bin/python3 - "$T/tail.vhd" "$SIZE" <<'PYEOF' || fail "big.vhd footer is wrong (above)"
import struct, sys
with open(sys.argv[1], "rb") as f:
    f.seek(-512, 2)
    ft = f.read(512)
n = int(sys.argv[2])
u32 = lambda o: struct.unpack(">I", ft[o:o + 4])[0]
got = (ft[0:8], ft[28:32], ft[36:40], struct.unpack(">QQ", ft[40:56]), u32(60), u32(64), u32(56))
want = (b"conectix", b"cvmr", b"Wi2k", (n, n), 2, (~(sum(ft) - sum(ft[64:68]))) & 0xFFFFFFFF,
        65535 << 16 | 16 << 8 | 255)
if got != want:
    print(f"footer {got!r}, want {want!r}", file=sys.stderr)
    sys.exit(1)
PYEOF
truncate -s $((MIB)) "$T/tail.vhd"
cmp "$T/tail.vhd" "$T/tail.raw" || fail "last MiB of big.vhd differs from the raw disk"
rm -f "$T/tail.vhd" "$T/tail.raw"

# every written piece is at the same offset, and a little around it (zeros) too
for p in $PIECES; do
	off=${p%%:*} len=${p##*:}
	lo=$((off >= 4096 ? off - 4096 : 0))
	n=$((len + 8192))
	n=$((lo + n > SIZE ? SIZE - lo : n))
	dd if="$T/big.raw" bs=64K skip="$lo" count="$n" iflag=skip_bytes,count_bytes status=none \
		>"$T/want"
	dd if="$T/big.vhd" bs=64K skip="$lo" count="$n" iflag=skip_bytes,count_bytes status=none \
		>"$T/got"
	cmp -s "$T/want" "$T/got" || fail "big.vhd differs from big.raw around offset $off"
done
# and a hole in between reads as zeros
dd if="$T/big.vhd" bs=64K skip=$((TIB / 2)) count=$MIB iflag=skip_bytes,count_bytes \
	status=none | cmp -s - <(head -c $MIB /dev/zero) || fail "a hole in big.vhd is not zero"

echo "ok: test_sparse_large"
