#!/usr/bin/python3
"""Write the seed corpus for fuzz_seal: valid seals (docs/seal.md) and one broken field each.

Usage: make_seeds_seal.py [outdir]   (default: tests/fuzz/corpus/seal beside this script)
"""
import base64
import json
import os
import sys

HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def base():
    return {
        "format": "cvmrestore-seal",
        "version": 1,
        "tool": "cvmrestore 0.1.0",
        "created": "2026-11-28T10:00:00Z",
        "source": {"name": "disk.vhd", "format": "vhd-fixed", "virtual_size": 10000},
        "chunk_size": 4096,
        "chunk_count": 3,
        "chunks": [HEX, "zero", "unallocated"],
        "digests": {"sha256": "a1" * 32, "md5": "0f" * 16, "sha1": "01" * 20},
    }


def leb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def table(runs):
    """runs: (tag, count) or ("D", [digest bytes, ...]) -> the version 2 chunk table, base64."""
    t = bytearray()
    for tag, what in runs:
        if tag == "D":
            t += b"D" + leb(len(what)) + b"".join(what)
        else:
            t += tag.encode() + leb(what)
    return base64.b64encode(bytes(t)).decode()


def base2():
    s = base()
    s["version"] = 2
    del s["chunks"]
    s["chunk_table"] = table([("D", [bytes.fromhex(HEX)]), ("Z", 1), ("U", 1)])
    s["identity"] = {"seal-sha256": "5e" * 32}
    return s


def variants2():
    yield "v2-valid", base2()
    s = base2()
    del s["identity"]
    s["digests"] = {}
    yield "v2-valid-no-identity", s
    s = base2()
    s["source"]["virtual_size"] = 1 << 40
    s["chunk_size"] = 4 << 20
    s["chunk_count"] = 1 << 18
    s["chunk_table"] = table([("U", 1000), ("D", [bytes([i]) * 32 for i in range(5)]),
                              ("Z", 3), ("U", (1 << 18) - 1008)])
    yield "v2-valid-1t-sparse", s
    s = base2()
    s["source"]["virtual_size"] = 0
    s["chunk_count"] = 0
    s["chunk_table"] = ""
    yield "v2-valid-empty-disk", s
    s = base2()
    del s["chunk_table"]
    yield "v2-bad-no-table", s
    s = base2()
    s["chunk_table"] = "not base64!"
    yield "v2-bad-base64", s
    s = base2()
    s["chunk_table"] = table([("D", [bytes(32)]), ("Z", 1), ("X", 1)])
    yield "v2-bad-tag", s
    s = base2()
    s["chunk_table"] = table([("D", [bytes(32)]), ("Z", 2), ("U", 1)])
    yield "v2-bad-past-count", s
    s = base2()
    s["chunk_table"] = table([("D", [bytes(32)]), ("Z", 1)])
    yield "v2-bad-short", s
    s = base2()
    s["chunk_table"] = base64.b64encode(b"D\x03" + bytes(40)).decode()
    yield "v2-bad-truncated-digests", s
    s = base2()
    s["chunk_table"] = base64.b64encode(b"Z\x80\x00U\x02").decode()
    yield "v2-bad-overlong-count", s
    s = base2()
    s["identity"]["seal-sha256"] = "5e" * 31
    yield "v2-bad-identity", s
    s = base2()
    s["source"]["virtual_size"] = 1 << 50
    s["chunk_size"] = 4096
    s["chunk_count"] = 1 << 38
    s["chunk_table"] = table([("U", 1 << 38)])
    yield "v2-bad-too-many-chunks", s


def variants():
    yield "valid", base()
    s = base()
    s["digests"] = {}
    yield "valid-no-digests", s
    s = base()
    s["chunks"][0] = HEX.upper()
    s["future"] = {"x": [1, 2]}
    yield "valid-upper-hex-unknown-key", s
    s = base()
    s["source"]["virtual_size"] = 1 << 30
    s["chunk_size"] = 4 << 20
    s["chunk_count"] = 256
    s["chunks"] = ["%064x" % i if i % 3 == 0 else ("zero" if i % 3 == 1 else "unallocated")
                   for i in range(256)]
    yield "valid-1g-256-chunks", s
    s = base()
    s["source"]["virtual_size"] = 0
    s["chunk_count"] = 0
    s["chunks"] = []
    yield "valid-empty-disk", s
    s = base()
    s["version"] = 3
    yield "bad-version-newer", s
    yield from variants2()
    s = base()
    s["chunk_count"] = 2
    yield "bad-chunk-count", s
    s = base()
    s["chunks"][2] = "xyz"
    yield "bad-chunk-entry", s
    s = base()
    s["chunk_size"] = 4000
    yield "bad-chunk-size", s
    s = base()
    s["source"]["virtual_size"] = (1 << 62)
    s["chunk_size"] = 1 << 30
    s["chunk_count"] = 1 << 32
    yield "bad-huge-claim-few-entries", s
    s = base()
    s["digests"]["md5"] = "0f" * 15
    yield "bad-md5-length", s
    s = base()
    del s["source"]["name"]
    yield "bad-source-no-name", s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "seal")
    os.makedirs(out, exist_ok=True)
    for name, doc in variants():
        with open(os.path.join(out, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    with open(os.path.join(out, "bad-not-json.json"), "w", encoding="utf-8") as f:
        f.write('{"format": "cvmrestore-seal", "version": \n')


if __name__ == "__main__":
    main()
