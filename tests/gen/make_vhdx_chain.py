#!/usr/bin/python3
"""Write a dynamic VHDX, a differencing VHDX on it, and the virtual disk the child presents.

    make_vhdx_chain.py OUTDIR [--seed N] [--size BYTES]

Writes OUTDIR/base.vhdx (dynamic), OUTDIR/child.vhdx (differencing, parent base.vhdx) and
OUTDIR/expected.raw. Both use 1 MiB blocks and 512-byte logical sectors; the default virtual
size, 12 MiB + 320 KiB, leaves the last block partly outside the disk.

The child's parent locator ([MS-VHDX] 2.6.2.6.3, type B04AEFB7-D19E-4A81-B789-25B8E9445913) has
parent_linkage = the base's DataWriteGuid as "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}"
(lowercase with braces, as the specification and libvhdi's parser want it), relative_path
".\\base.vhdx" and absolute_win32_path "\\\\?\\C:\\cvmrestore-test\\base.vhdx". The child keeps the
base's page 83 (virtual disk id), as forking copies IsVirtualDisk items.

Blocks (base, child) by index: F fully present, U not present, P partially present with a
sector bitmap (runs, lone sectors at every bit position of a byte, block edges, random runs;
sectors whose bit is clear hold random garbage a correct reader must not return), E partially
present with an empty bitmap, A partially present with every bit set. In the base, U reads as
zeros (a dynamic disk's never-written block).

Deterministic: the same arguments give byte-identical files. Another --seed gives other GUIDs
and data (a base that is not the child's parent).
"""

import argparse
import os
import random
import sys
import uuid as uuidmod

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diskgen  # noqa: E402

SECTOR = diskgen.SECTOR
MIB = diskgen.MIB
BLOCK = MIB
F, U, P, E, A = "F", "U", "P", "E", "A"
# (base, child) for block index modulo len(KINDS); the last block of the default size is
# index 12, a P over an F.
KINDS = [(F, F), (F, P), (F, U), (U, P), (F, E), (F, A), (U, F), (F, P), (U, U), (F, P),
         (F, U), (U, P), (F, P)]


def guid(rng):
    """A random (version 4) GUID as VHDX stores it (Microsoft byte order)."""
    return uuidmod.UUID(bytes=rng.randbytes(16), version=4).bytes_le


def partial_sectors(rng, b, nsec):
    """Sectors of block b a partially present child block holds."""
    runs = set(range(0, min(nsec, 8)))        # a whole first byte of the bitmap
    for s in (9, 18, 27, 36, 45, 54, 63):    # one lone sector at each bit position 1..7
        if s < nsec:
            runs.add(s)
    runs.add(nsec - 1)                        # the block's (or disk's) last sector
    first = 100 + 37 * b                      # a run that straddles bitmap bytes
    runs.update(range(first, min(nsec, first + 21)))
    for _ in range(2 + rng.randrange(4)):
        start = rng.randrange(nsec)
        runs.update(range(start, min(nsec, start + 1 + rng.randrange(40))))
    return sorted(runs)


def make_chain(outdir, size, seed):
    if size <= 0 or size % SECTOR:
        sys.exit("make_vhdx_chain: --size must be a positive multiple of 512")
    rng = random.Random(seed)
    os.makedirs(outdir, exist_ok=True)
    nblocks = -(-size // BLOCK)
    spb = BLOCK // SECTOR
    expected = bytearray(size)

    base_uids = [guid(rng), guid(rng), guid(rng)]
    base_blocks = {}
    for b in range(nblocks):
        if KINDS[b % len(KINDS)][0] == F:
            data = rng.randbytes(BLOCK)
            base_blocks[b] = data
            end = min(BLOCK, size - b * BLOCK)
            expected[b * BLOCK:b * BLOCK + end] = data[:end]
    base, _ = diskgen.vhdx_dynamic(size, BLOCK, base_uids, base_blocks)

    child_uids = [guid(rng), guid(rng), base_uids[2]]
    locator = diskgen.vhdx_parent_locator([
        ("parent_linkage", diskgen.vhdx_guid_text(base_uids[1])),
        ("relative_path", ".\\base.vhdx"),
        ("absolute_win32_path", "\\\\?\\C:\\cvmrestore-test\\base.vhdx"),
    ])
    child_blocks = {}
    for b in range(nblocks):
        kind = KINDS[b % len(KINDS)][1]
        nsec = min(spb, (size - b * BLOCK) // SECTOR)
        if kind == U:
            continue
        data = bytearray(rng.randbytes(BLOCK))  # garbage wherever a bit is clear
        if kind == F:
            sectors = None
            present = range(nsec)
        else:
            if kind == P:
                sectors = partial_sectors(rng, b, nsec)
            elif kind == E:
                sectors = []
            else:
                sectors = list(range(nsec))
            present = sectors
        for s in present:
            off = b * BLOCK + s * SECTOR
            expected[off:off + SECTOR] = data[s * SECTOR:(s + 1) * SECTOR]
        child_blocks[b] = (bytes(data), sectors)
    child, _ = diskgen.vhdx_differencing(size, BLOCK, child_uids, locator, child_blocks)

    for name, content in (("base.vhdx", base), ("child.vhdx", child),
                          ("expected.raw", expected)):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(content)


def parse_size(text):
    mult = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
    t = text.strip().lower().rstrip("ib")
    if t and t[-1] in mult:
        return int(t[:-1]) * mult[t[-1]]
    return int(t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--size", type=parse_size, default=12 * MIB + 320 * 1024)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    make_chain(a.outdir, a.size, a.seed)


if __name__ == "__main__":
    main()
