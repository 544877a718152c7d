#!/usr/bin/python3
"""sparse_cmp.py A B: exit 0 when files A and B have the same size and bytes, else print the
first differing offset and exit 1. Holes read as zeros; only the ranges where either file has
data (SEEK_DATA/SEEK_HOLE) are read, so two sparse multi-GiB files compare in milliseconds
where cmp(1) reads every hole."""

import os
import sys

CHUNK = 1 << 20


def data_ranges(fd, size):
    """The [start, end) ranges of fd that hold data (all of it without SEEK_DATA)."""
    out, pos = [], 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:  # ENXIO: no data past pos
            break
        end = os.lseek(fd, start, os.SEEK_HOLE)
        out.append((start, min(end, size)))
        pos = end
    return out


def merged(a, b):
    rs = sorted(a + b)
    out = []
    for s, e in rs:
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def main():
    fa, fb = (os.open(p, os.O_RDONLY) for p in sys.argv[1:3])
    sa, sb = os.fstat(fa).st_size, os.fstat(fb).st_size
    if sa != sb:
        print(f"sizes differ: {sys.argv[1]} has {sa} bytes, {sys.argv[2]} {sb}")
        return 1
    for s, e in merged(data_ranges(fa, sa), data_ranges(fb, sb)):
        pos = s
        while pos < e:
            n = min(CHUNK, e - pos)
            x, y = os.pread(fa, n, pos), os.pread(fb, n, pos)
            if x != y:
                i = next(i for i in range(n) if x[i] != y[i])
                print(f"{sys.argv[1]} {sys.argv[2]} differ at byte offset {pos + i}")
                return 1
            pos += n
    return 0


sys.exit(main())
