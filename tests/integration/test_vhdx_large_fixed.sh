#!/bin/bash
# A fixed VHDX over 4 GiB, as qemu-img (and Hyper-V) make it: LeaveBlocksAllocated set, and a
# BAT whose sector-bitmap entries are interleaved after every chunk-ratio payload entries
# ([MS-VHDX] 2.5: chunk ratio = 2^23 * logical sector size / block size). libvhdi skips those
# entries for such a disk, so every block after the first chunk (4 GiB with 512-byte sectors
# and 32 MiB blocks) was read from the wrong place and convert exited 0 with shifted data.
# cvmrestore's own reader must give exactly what qemu-img gives. The images and outputs are
# sparse and are compared with tests/tools/sparse_cmp.py (cmp(1) would read 5 GiB of holes).
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
SCMP=("$PY" "$RP_SOURCE_DIR/tests/tools/sparse_cmp.py")
rp_tmpdir
cd "$RP_TMP"
MIB=1048576

note "fixed 5 GiB VHDX with patterns before and after 4 GiB"
qemu-img create -q -f vhdx -o subformat=fixed x.vhdx 5G
qemu-io -c 'write -P 0x11 1M 1M' -c 'write -P 0x5a 4500M 1M' -c 'write -P 0xa5 4095M 2M' \
	-c 'write -P 0x3c 5119M 1M' x.vhdx >/dev/null
qemu-img convert -O raw x.vhdx qemu.raw
expect_exit 0 "$CVMRESTORE" convert x.vhdx ours.raw --to raw -q
"${SCMP[@]}" qemu.raw ours.raw || fail "cvmrestore reads the fixed 5 GiB VHDX differently from qemu-img"
# The pattern after 4 GiB is where qemu-io wrote it (not just equal to qemu's reading).
"$PY" - ours.raw <<'EOF' || fail "the pattern at 4500 MiB is not in the output"
import sys
f = open(sys.argv[1], "rb")
f.seek(4500 << 20)
assert f.read(1 << 20) == b"\x5a" * (1 << 20)
f.seek(4499 << 20)
assert f.read(1 << 20) == bytes(1 << 20)
EOF
rm -f qemu.raw ours.raw

note "dynamic 4.5 GiB VHDX, 1 MiB blocks (chunk ratio 4096: several sector-bitmap entries)"
qemu-img create -q -f vhdx -o subformat=dynamic,block_size=1M d.vhdx $((4608 * MIB))
qemu-io -c 'write -P 0x22 4095M 2M' -c 'write -P 0x77 4600M 3M' d.vhdx >/dev/null
qemu-img convert -O raw d.vhdx qemu.raw
expect_exit 0 "$CVMRESTORE" convert d.vhdx ours.raw --to raw -q
"${SCMP[@]}" qemu.raw ours.raw || fail "cvmrestore reads the dynamic 1 MiB-block VHDX differently"
echo "test_vhdx_large_fixed: passed"
