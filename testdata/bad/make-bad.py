#!/usr/bin/python3
"""Regenerate the malformed inputs in this directory, byte for byte.

    make-bad.py [OUTDIR] [--good]     (OUTDIR defaults to this script's directory)

Each file has exactly one defect, named by the file name; expect.tsv says how cvmrestore must
react to it. The files are written from the specifications by tests/gen/diskgen.py (no tool,
no clock, seeded randomness), so tests/integration/test_fixtures_reproducible.sh can check that
the committed files are what this script writes. --good also writes the unbroken originals
(good-*.vhd, good.vhdx) for checking the writers against other readers; they are not committed.
"""

import json
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "gen"))
import diskgen  # noqa: E402

KIB = 1024
SEED = 20240601
TS = 0x2C000000  # fixed VHD timestamp (2023-05-01 in VHD epoch seconds)


def dynamic_small(rng, parent=None):
    """A 1 MiB dynamic (or differencing) VHD with 64 KiB blocks, two of them allocated."""
    size, bs = 1024 * KIB, 64 * KIB
    spb = bs // 512
    blocks = {}
    for b in (1, 6):
        sectors = list(range(spb)) if parent is None else list(range(4, 20))
        blocks[b] = (diskgen.bitmap_from_sectors(sectors, spb), rng.randbytes(bs))
    return diskgen.vhd_dynamic(size, bs, blocks, diskgen.uuid4(rng), TS, parent)


def set_header(img, lay, fmt, off, value):
    """Change one dynamic header field and re-seal the header checksum, so that the field is
    the only defect."""
    h = lay["header"]
    hdr = bytearray(img[h:h + 1024])
    struct.pack_into(fmt, hdr, off, value)
    diskgen.vhd_refresh_header_checksum(hdr)
    img[h:h + 1024] = hdr


def parent_of(name, uid):
    return diskgen.VhdParent(uid, TS, name, "C:\\cvmrestore-test\\" + name, ".\\" + name)


def make_vhd(rng, out, good):
    # Fixed VHDs: 64 KiB of data and a footer.
    data = rng.randbytes(64 * KIB)
    fixed = bytearray(diskgen.vhd_fixed(data, diskgen.uuid4(rng), TS))
    if good:
        out["good-fixed.vhd"] = bytes(fixed)
    out["vhd-truncated.vhd"] = bytes(fixed[:-200])  # the footer is cut: no cookie at EOF-512
    f = bytearray(fixed)
    f[-512 + 7:-512 + 8] = b"X"  # "conectiX"
    footer = f[-512:]
    diskgen.vhd_refresh_footer_checksum(footer)
    f[-512:] = footer
    out["vhd-bad-cookie.vhd"] = bytes(f)
    f = bytearray(fixed)
    struct.pack_into(">I", f, len(f) - 512 + 64, struct.unpack_from(">I", f, len(f) - 448)[0] ^ 1)
    out["vhd-footer-checksum.vhd"] = bytes(f)

    # Dynamic VHDs (1 MiB, 64 KiB blocks).
    dyn, lay = dynamic_small(rng)
    if good:
        out["good-dynamic.vhd"] = bytes(dyn)
    d = bytearray(dyn)
    struct.pack_into(">I", d, lay["header"] + 36, struct.unpack_from(">I", d, 548)[0] ^ 0x10)
    out["vhd-dynamic-header-checksum.vhd"] = bytes(d)
    d = bytearray(dyn)
    set_header(d, lay, ">Q", 16, len(d) + 512 * 64)  # table offset past the end of the file
    out["vhd-dynamic-bat-past-eof.vhd"] = bytes(d)
    d = bytearray(dyn)
    # BAT entry 6 points (in sectors) beyond the footer; the BAT has no checksum of its own.
    struct.pack_into(">I", d, lay["bat"] + 4 * 6, (len(d) + 64 * KIB) // 512)
    out["vhd-dynamic-bat-entry-past-eof.vhd"] = bytes(d)
    d = bytearray(dyn)
    set_header(d, lay, ">I", 28, 0x10000000)  # max table entries: 1 GiB of BAT
    out["vhd-dynamic-huge-max-table-entries.vhd"] = bytes(d)
    d = bytearray(dyn)
    set_header(d, lay, ">I", 32, 3 * 32 * KIB)  # block size 96 KiB
    out["vhd-dynamic-block-size-not-power-of-two.vhd"] = bytes(d)

    # Differencing: the child names a parent UUID that differs from its parent's in one byte.
    par, play = dynamic_small(rng)
    puid = bytes(par[68:84])
    wrong = bytes([puid[0] ^ 0xFF]) + puid[1:]
    name = "vhd-diff-parent-uuid-mismatch-parent.vhd"
    child, _ = dynamic_small(rng, parent_of(name, wrong))
    out[name] = bytes(par)
    out["vhd-diff-parent-uuid-mismatch.vhd"] = bytes(child)
    if good:
        good_child, _ = dynamic_small(random.Random(1), parent_of(name, puid))
        out["good-diff.vhd"] = bytes(good_child)

    # Differencing disk whose parent UUID is its own: given itself as parent, it is a loop.
    loop, llay = dynamic_small(rng, parent_of("vhd-diff-parent-loop.vhd", bytes(16)))
    own = bytes(loop[68:84])
    loop[llay["header"] + 40:llay["header"] + 56] = own
    hdr = loop[llay["header"]:llay["header"] + 1024]
    diskgen.vhd_refresh_header_checksum(hdr)
    loop[llay["header"]:llay["header"] + 1024] = hdr
    out["vhd-diff-parent-loop.vhd"] = bytes(loop)

    # Differencing disk whose W2ru locator data lies past the end of the file.
    child, clay = dynamic_small(rng, parent_of(name, puid))
    set_header(child, clay, ">Q", 576 + 24 + 16, len(child) + 64 * KIB)
    out["vhd-diff-locator-past-eof.vhd"] = bytes(child)


def make_vhdx(rng, out, good):
    uids = [diskgen.uuid4(rng) for _ in range(3)]
    vx, lay = diskgen.vhdx_dynamic(8 * 1024 * KIB, 1024 * KIB, uids)
    if good:
        out["good.vhdx"] = bytes(vx)
    v = bytearray(vx)
    for h in (lay["header1"], lay["header2"]):
        v[h + 4] ^= 0x01  # both stored CRC-32C values are off: no valid header
    out["vhdx-header-crc.vhdx"] = bytes(v)
    # The current header (header 2, sequence 2) has a log GUID: the log must be replayed.
    v, lay = diskgen.vhdx_dynamic(8 * 1024 * KIB, 1024 * KIB, uids,
                                  log_guid2=diskgen.uuid4(rng))
    out["vhdx-log-not-empty.vhdx"] = bytes(v)


def make_gpt(rng, out, good):
    parts = [(diskgen.GPT_LINUX_FS, diskgen.uuid4(rng), 40, 215, "root")]
    disk, lay = diskgen.gpt_disk(256, diskgen.uuid4(rng), parts)
    if good:
        out["good-gpt.img"] = bytes(disk)
    p = lay["primary"]
    disk[p + 16] ^= 0x01  # primary header CRC-32 off by one bit; the backup stays valid
    out["gpt-header-crc.img"] = bytes(disk)


def make_seals(rng, out):
    """A 256 KiB raw image (16 chunks of 16 KiB, some all zeros) and seals for it: a good one
    and three malformed ones."""
    import hashlib
    chunk, n = 16 * KIB, 16
    img = bytearray()
    chunks = []
    for i in range(n):
        c = bytes(chunk) if i % 4 == 3 else rng.randbytes(chunk)
        img += c
        chunks.append("zero" if not any(c) else hashlib.sha256(c).hexdigest())
    out["seal-image.raw"] = bytes(img)
    seal = {
        "format": "cvmrestore-seal",
        "version": 1,
        "tool": "make-bad.py",
        "created": "2024-06-01T00:00:00Z",
        "source": {"name": "seal-image.raw", "format": "raw", "virtual_size": len(img)},
        "chunk_size": chunk,
        "chunk_count": n,
        "chunks": chunks,
        "digests": {"sha256": hashlib.sha256(img).hexdigest(),
                    "md5": hashlib.md5(img).hexdigest()},
    }

    def dump(s):
        return (json.dumps(s, indent=2) + "\n").encode()

    good = dump(seal)
    out["seal-good.json"] = good
    out["seal-truncated.json"] = good[:len(good) // 2]
    s = json.loads(good)
    s["chunk_size"] = str(chunk)  # a string where a number belongs
    out["seal-wrong-types.json"] = dump(s)
    s = json.loads(good)
    s["chunk_count"] = n - 1  # the chunks array still has n entries
    out["seal-chunk-count-mismatch.json"] = dump(s)


def main():
    args = [a for a in sys.argv[1:] if a != "--good"]
    good = "--good" in sys.argv[1:]
    outdir = args[0] if args else HERE
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(SEED)
    out = {}
    make_vhd(rng, out, good)
    make_vhdx(rng, out, good)
    make_gpt(rng, out, good)
    make_seals(rng, out)
    for name in sorted(out):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(out[name])


if __name__ == "__main__":
    main()
