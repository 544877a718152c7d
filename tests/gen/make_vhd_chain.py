#!/usr/bin/python3
"""Write a dynamic VHD and a chain of differencing VHDs on it, plus the expected content.

    make_vhd_chain.py OUTDIR [--size BYTES] [--block-size BYTES] [--levels N] [--seed S]

Writes OUTDIR/base.vhd (dynamic), OUTDIR/diff1.vhd .. diffN.vhd (diff1's parent is base,
diff<k>'s parent is diff<k-1>) and OUTDIR/expected.raw, the virtual disk that diffN presents.
Defaults: 20 MiB virtual, 2 MiB blocks, 2 levels, seed 1.

Each child records its parent's UUID, the parent's footer timestamp, the parent's file name
(UTF-16BE) and W2ku (absolute, "C:\\cvmrestore-test\\NAME") and W2ru (relative, ".\\NAME")
locators. Blocks cycle through five kinds so that every chain has: unallocated blocks, fully
written blocks, blocks with a few runs of sectors (a read mixes child and parent sectors inside
one block), and, in children, allocated blocks whose bitmap is empty (all sectors come from the
parent). Sectors of a child's block whose bitmap bit is clear hold random garbage that a correct
reader must ignore. In the base, clear sectors hold zeros (dynamic disks: never written).

Deterministic: the same arguments give byte-identical files (seeded PRNG, fixed timestamps).
"""

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diskgen  # noqa: E402

SECTOR = diskgen.SECTOR
BASE_TIMESTAMP = 0x2C000000  # 2023-05-01, seconds since 2000-01-01


# Block kinds per level (columns: base, diff1, diff2) for block index modulo 5:
# U unallocated, F every sector written, P a few runs of sectors, E allocated with an empty
# bitmap (children only). Column 0 stacks partial blocks on a full one, so a read of one block
# mixes sectors of three files.
U, F, P, E = "U", "F", "P", "E"
KINDS = [(F, P, P), (P, E, F), (U, F, P), (F, U, E), (U, U, U)]


def plan_sectors(rng, level, b, nsec):
    """Which sectors of block b (nsec sectors of it lie inside the disk) level writes.
    None: block unallocated."""
    if level < 3:
        kind = KINDS[b % 5][level]
    else:
        kind = KINDS[(b + level) % 5][1 + level % 2]
    if kind == U:
        return None
    if kind == F:
        return list(range(nsec))
    if kind == E:
        return []
    runs = set()
    # Overlapping fixed runs (0-7 in odd levels, 4-11 in even ones), a block edge, and a few
    # random short runs.
    first = 0 if level % 2 else 4
    runs.update(range(first, min(nsec, first + 8)))
    runs.add(nsec - 1 if level % 2 == 0 else 0)
    for _ in range(1 + rng.randrange(4)):
        start = rng.randrange(nsec)
        runs.update(range(start, min(nsec, start + 1 + rng.randrange(9))))
    return sorted(runs)


def make_chain(outdir, size, block_size, levels, seed):
    if size % SECTOR or size <= 0:
        sys.exit("make_vhd_chain: --size must be a positive multiple of 512")
    if block_size < SECTOR or block_size & (block_size - 1):
        sys.exit("make_vhd_chain: --block-size must be a power of two >= 512")
    rng = random.Random(seed)
    os.makedirs(outdir, exist_ok=True)
    spb = block_size // SECTOR
    nblocks = -(-size // block_size)
    expected = bytearray(size)
    parent = None
    for level in range(levels + 1):
        name = "base.vhd" if level == 0 else "diff%d.vhd" % level
        uid = diskgen.uuid4(rng)
        timestamp = BASE_TIMESTAMP + 3600 * level
        blocks = {}
        for b in range(nblocks):
            nsec = min(spb, (size - b * block_size) // SECTOR)
            sectors = plan_sectors(rng, level, b, nsec)
            if sectors is None:
                continue
            if level == 0:
                data = bytearray(block_size)
            else:
                data = bytearray(rng.randbytes(block_size))  # garbage where bits are clear
            for s in sectors:
                sd = rng.randbytes(SECTOR)
                data[s * SECTOR:(s + 1) * SECTOR] = sd
                off = b * block_size + s * SECTOR
                expected[off:off + SECTOR] = sd
            blocks[b] = (diskgen.bitmap_from_sectors(sectors, spb), bytes(data))
        img, _ = diskgen.vhd_dynamic(size, block_size, blocks, uid, timestamp, parent)
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(img)
        parent = diskgen.VhdParent(uid, timestamp, name, "C:\\cvmrestore-test\\" + name,
                                   ".\\" + name)
    with open(os.path.join(outdir, "expected.raw"), "wb") as f:
        f.write(expected)


def parse_size(text):
    mult = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
    t = text.strip().lower().rstrip("ib")
    if t and t[-1] in mult:
        return int(t[:-1]) * mult[t[-1]]
    return int(t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--size", type=parse_size, default=20 * 1024 * 1024)
    ap.add_argument("--block-size", type=parse_size, default=2 * 1024 * 1024)
    ap.add_argument("--levels", type=int, default=2, help="differencing levels on the base")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    make_chain(a.outdir, a.size, a.block_size, a.levels, a.seed)


if __name__ == "__main__":
    main()
