#!/usr/bin/python3
"""Write the seed corpus for fuzz_upload_journal: upload journals (docs/staging.md, version 2)
for the identity fuzz_upload_journal.c expects, one of version 1, and one broken field each.

Usage: make_seeds_upload_journal.py [outdir]
       (default: tests/fuzz/corpus/upload_journal beside this script)
"""
import hashlib
import os
import struct
import sys

TARGET = b"https://127.0.0.1/c/disk.vhd"


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def done_data(done, data, count=17):
    return sum((done[i // 8] >> (i % 8)) & (data[i // 8] >> (i % 8)) & 1
               for i in range(min(count, 8 * len(done), 8 * len(data))))


def journal(size=67109376, chunk=4194304, count=17, mtime=1700000000000000000, target=TARGET,
            done=b"\x05\x00\x01", data=b"\x01\x00\x01", digests=None, magic=b"CVMRUPJ2",
            fix_crc=True):
    if digests is None:
        digests = b"".join(hashlib.sha256(b"chunk %d" % i).digest()
                           for i in range(done_data(done, data)))
    j = magic + struct.pack("<QQQQ", size, chunk, count, mtime)
    j += struct.pack("<H", len(target)) + target + done + data
    j += digests if magic == b"CVMRUPJ2" else b""
    return j + struct.pack("<I", crc32c(j) if fix_crc else 0)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "upload_journal")
    os.makedirs(out, exist_ok=True)
    seeds = {
        "valid": journal(),
        "all-done": journal(done=b"\xff\xff\x01"),
        "bad-crc": journal(fix_crc=False),
        "other-size": journal(size=1),
        "other-target": journal(target=b"https://127.0.0.1/c/other.vhd"),
        "short-bitmaps": journal(done=b"\x05", data=b""),
        "all-done-zero": journal(done=b"\xff\xff\x01", data=b"\x00\x00\x00"),
        "version1": journal(magic=b"CVMRUPJ1"),
        "data-not-done": journal(done=b"\x01\x00\x00", data=b"\x03\x00\x00",
                                 digests=b"\0" * 64),
        "digest-missing": journal(digests=b"\0" * 32),
    }
    for name, b in seeds.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(b)


if __name__ == "__main__":
    main()
