#!/usr/bin/python3
"""Write the seed corpus for fuzz_restore_journal: restore journals (docs/journal.md, version
2), one version 1 journal, and one broken field each.

Usage: make_seeds_restore_journal.py [outdir]
       (default: tests/fuzz/corpus/restore_journal beside this script)
"""
import hashlib
import os
import struct
import sys

SOURCE = b"https://127.0.0.1/c/disk.vhd"
ETAG = b'"0x8DC0000000000000"'


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def journal(size=67108864 + 512, chunk=4194304, count=17, fmt=1, etag=ETAG, source=SOURCE,
            done=b"\x07\x00\x01", data=b"\x05\x00\x01", digests=None, magic=b"CVMRJNL2",
            fix_crc=True):
    if digests is None:
        n = sum(bin(b).count("1") for b in data)
        digests = b"".join(hashlib.sha256(b"chunk %d" % i).digest() for i in range(n))
    j = magic + struct.pack("<QQQI", size, chunk, count, fmt)
    j += struct.pack("<H", len(etag)) + etag + struct.pack("<H", len(source)) + source
    j += done + (data + digests if magic == b"CVMRJNL2" else b"")
    return j + struct.pack("<I", crc32c(j) if fix_crc else 0)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "restore_journal")
    os.makedirs(out, exist_ok=True)
    seeds = {
        "valid": journal(),
        "empty": journal(done=b"\0\0\0", data=b"\0\0\0"),
        "all-done": journal(done=b"\xff\xff\x01", data=b"\xff\xff\x01"),
        "all-zero": journal(done=b"\xff\xff\x01", data=b"\0\0\0"),
        "version1": journal(magic=b"CVMRJNL1"),
        "bad-crc": journal(fix_crc=False),
        "bad-magic": journal(magic=b"CVMRJNL9"),
        "data-not-done": journal(done=b"\x01\x00\x00", data=b"\x03\x00\x00"),
        "bits-past-end": journal(done=b"\x07\x00\x03", data=b"\x05\x00\x01"),
        "digest-missing": journal(digests=hashlib.sha256(b"x").digest()),
        "count-wrong": journal(count=16),
        "chunk-size-0": journal(chunk=0),
        "format-2": journal(fmt=2),
        "etag-too-long": journal()[:36] + b"\xff\xff" + journal()[38:],
        "short": b"CVMRJNL2",
    }
    for name, b in seeds.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(b)


if __name__ == "__main__":
    main()
