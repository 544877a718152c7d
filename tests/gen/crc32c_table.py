#!/usr/bin/python3
"""Print the CRC-32C lookup table used by common/util.c (reflected polynomial 0x82F63B78)."""


def entry(c):
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c


table = [entry(i) for i in range(256)]
for i in range(0, 256, 6):
    print("\t" + " ".join("0x%08xu," % t for t in table[i:i + 6]))
