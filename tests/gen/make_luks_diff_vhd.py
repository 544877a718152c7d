#!/usr/bin/python3
"""Split a raw disk holding a LUKS volume into a dynamic VHD and a differencing child.

    make_luks_diff_vhd.py RAW START LENGTH BASE.vhd CHILD.vhd

BASE.vhd holds RAW with the bytes [START, START+LENGTH) zeroed (so no LUKS header is found in
it alone); CHILD.vhd, a differencing VHD on BASE.vhd (2 MiB blocks, full sector bitmaps), holds
the blocks that cover that range with RAW's bytes. Read through the chain, the virtual disk is
RAW again. Used by tests/integration/test_luks.sh for `luks CHILD --parent BASE`.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diskgen  # noqa: E402

BLOCK = 2 * 1024 * 1024


def main():
    raw_path, start, length, base_path, child_path = sys.argv[1:6]
    start, length = int(start), int(length)
    data = bytearray(open(raw_path, "rb").read())
    size = len(data)
    assert size % BLOCK == 0, "the raw disk must be a whole number of 2 MiB blocks"
    covered = range(start // BLOCK, -(-(start + length) // BLOCK))
    full_bm = b"\xff" * (BLOCK // diskgen.SECTOR // 8)
    child_blocks = {b: (full_bm, bytes(data[b * BLOCK:(b + 1) * BLOCK])) for b in covered}
    data[start:start + length] = bytes(length)
    base_blocks = {}
    for b in range(size // BLOCK):
        chunk = bytes(data[b * BLOCK:(b + 1) * BLOCK])
        if any(chunk):
            base_blocks[b] = (full_bm, chunk)
    base_uid, child_uid = bytes(range(16)), bytes(range(16, 32))
    ts = 0x2C000000
    base, _ = diskgen.vhd_dynamic(size, BLOCK, base_blocks, base_uid, ts)
    name = os.path.basename(base_path)
    parent = diskgen.VhdParent(base_uid, ts, name, "C:\\cvmrestore-test\\" + name, ".\\" + name)
    child, _ = diskgen.vhd_dynamic(size, BLOCK, child_blocks, child_uid, ts + 1, parent)
    open(base_path, "wb").write(base)
    open(child_path, "wb").write(child)


if __name__ == "__main__":
    main()
