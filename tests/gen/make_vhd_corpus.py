#!/usr/bin/python3
"""Write a corpus of VHD and VHDX images with the bytes each must read as, for the
differential test (tests/integration/test_vhd_differential.sh, and `make fuzz`).

    make_vhd_corpus.py OUTDIR [--seed N] [--count N] [--small]

Writes OUTDIR/NAME.vhdx (or .vhd), OUTDIR/NAME.raw (the virtual disk the image presents, as
this generator means it) and, for differencing images, OUTDIR/NAME.base.vhdx (the parent). One
line per image in OUTDIR/manifest.tsv:

    NAME  FILE  PARENT|-  EXPECTED  CHECKS

CHECKS is a comma list of the readers that must agree with EXPECTED besides cvmrestore:
"qemu" (qemu-img convert, which reads fixed and dynamic images but no differencing VHDX nor a
VHDX with 4096-byte logical sectors ("Operation not supported") nor one with a user item that
reuses a system GUID ("Invalid argument": it takes it for a second system item), and sizes VHDs by CHS geometry unless opened with force_size_calc=current_size) and "vhdi"
(libvhdi through tests/tools/vhdi_cat) where libvhdi is not known to be wrong (docs/libvhdi.md:
it skips the sector-bitmap BAT entries of a LeaveBlocksAllocated VHDX, takes a user metadata
item with a system GUID for the system item, and reads sectors of a 4096-byte-sector
differencing VHDX from the wrong place).

Without --count the corpus is fixed: every kind (VHD fixed/dynamic; VHDX fixed, dynamic,
differencing), 512- and 4096-byte logical sectors, block sizes 1, 2, 32 and 256 MiB, every
payload block state, partially present blocks with sector bitmaps, the mutations below, and
two sparse images over 4 GiB. With --count N, N random images from --seed (for `make fuzz`).

VHDX layout (all writers place these freely; this is one valid choice): headers and region
tables in the first MiB ([MS-VHDX] 2.2), a 1 MiB empty log at 1 MiB, metadata at 2 MiB, the BAT
at 3 MiB, then the sector bitmap blocks (1 MiB each, one per chunk that needs one), then payload
blocks. The BAT interleaves one sector bitmap entry after every chunk-ratio payload entries,
chunk ratio = 2^23 * logical sector size / block size (2.5). Block states (2.5.1.1): a block
ZERO reads as zeros in every VHDX, a differencing one too; NOT_PRESENT, UNDEFINED or UNMAPPED
reads as zeros, or in a differencing disk as the parent; FULLY_PRESENT from the file;
PARTIALLY_PRESENT (differencing only) per sector, from the file where its bit (bit 0 of byte 0
first) in the chunk's sector bitmap is set. libvhdi reads a differencing disk's ZERO blocks from
the parent (docs/libvhdi.md), so chains with one are not compared with libvhdi.

Mutations: "userguid" adds a user metadata item that reuses the file parameters GUID with
another block size (legal: items are keyed by (ItemId, IsUser), 2.6.1.2); "disk2vhd" writes two
identical headers with the same sequence number, as Disk2VHD does (seen in qemu's sample image
tests/qemu-iotests/sample_images/test-disk2vhd.vhdx.bz2, described in qemu's block/vhdx.c);
"hyperv-fixed" is a fixed VHDX whose every block is FULLY_PRESENT with LeaveBlocksAllocated,
as Hyper-V writes it (qemu writes fixed blocks in the ZERO state instead).

Files are written sparse: only the random extents of each block are written.
"""

import argparse
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diskgen  # noqa: E402

MIB = 1 << 20
NOT_PRESENT, UNDEFINED, ZERO, UNMAPPED, FULL, PARTIAL = 0, 1, 2, 3, 6, 7


class Sparse:
    """A file written by extents, holes elsewhere."""

    def __init__(self, path, size):
        self.f = open(path, "wb")
        self.f.truncate(size)

    def put(self, off, data):
        self.f.seek(off)
        self.f.write(data)

    def close(self):
        self.f.close()


def extents(rng, length, lss):
    """A few random (offset, bytes) pieces inside a block of `length` bytes, sector aligned."""
    out = []
    nsec = length // lss
    for _ in range(1 + rng.randrange(3)):
        s = rng.randrange(nsec)
        n = min(nsec - s, 1 + rng.randrange(64 * 1024 // lss))
        out.append((s * lss, rng.randbytes(n * lss)))
    # The block's first and last sector, so that a shifted block is seen at once.
    out.append((0, rng.randbytes(lss)))
    out.append((length - lss, rng.randbytes(lss)))
    return out


def metadata(bs, vsize, lss, page83, has_parent, fixed, locator, userguid):
    m = bytearray(diskgen.vhdx_metadata(bs, vsize, page83, lss, 4096, parent_locator=locator))
    flags = (2 if has_parent else 0) | (1 if fixed and not has_parent else 0)
    # File parameters is the first item's value, at 64 KiB.
    struct.pack_into("<I", m, 64 * 1024 + 4, flags)
    if userguid:
        n = struct.unpack_from("<H", m, 10)[0]
        e = 32 + 32 * n
        other = bs * 2 if bs < 256 * MIB else bs // 2
        m[e:e + 16] = diskgen.VHDX_FILE_PARAMS
        struct.pack_into("<III", m, e + 16, 512 * 1024, 8, 1)  # IsUser, not required
        struct.pack_into("<II", m, 512 * 1024, other, 0)
        struct.pack_into("<H", m, 10, n + 1)
    return m


def write_vhdx(path, vsize, bs, lss, blocks, uids, fixed=False, locator=None,
               userguid=False, disk2vhd=False):
    """blocks: {b: (state, [(off, bytes)], sectors or None)}; returns nothing."""
    nblocks = -(-vsize // bs)
    cr = (1 << 23) * lss // bs
    has_parent = locator is not None
    nchunks = -(-nblocks // cr)
    nentries = nchunks * (cr + 1) if has_parent else nblocks + (nblocks - 1) // cr
    bat_len = diskgen.round_up(nentries * 8, MIB)
    log_off, meta_off, bat_off = MIB, 2 * MIB, 3 * MIB
    pos = bat_off + bat_len
    bitmap_at = {}
    for b in sorted(blocks):
        if blocks[b][0] == PARTIAL and b // cr not in bitmap_at:
            bitmap_at[b // cr] = pos
            pos += MIB
    block_at = {}
    for b in sorted(blocks):
        if blocks[b][0] in (FULL, PARTIAL):
            block_at[b] = pos
            pos += bs
    f = Sparse(path, pos)
    head = bytearray(64 * 1024)
    head[0:8] = b"vhdxfile"
    cre = diskgen.utf16le("cvmrestore make_vhd_corpus")
    head[8:8 + len(cre)] = cre
    f.put(0, head)
    fw, dw, p83 = uids
    h1 = diskgen.vhdx_header(1 if disk2vhd else 5, fw, dw, bytes(16), log_off, MIB)
    h2 = diskgen.vhdx_header(1 if disk2vhd else 6, fw, dw, bytes(16), log_off, MIB)
    f.put(diskgen.VHDX_HEADER1, h1)
    f.put(diskgen.VHDX_HEADER2, h2)
    rt = diskgen.vhdx_region_table([(diskgen.VHDX_BAT_GUID, bat_off, bat_len, True),
                                    (diskgen.VHDX_METADATA_GUID, meta_off, MIB, True)])
    f.put(diskgen.VHDX_REGION1, rt)
    f.put(diskgen.VHDX_REGION2, rt)
    f.put(meta_off, metadata(bs, vsize, lss, p83, has_parent, fixed, locator, userguid))
    bat = bytearray(nentries * 8)
    for c, off in bitmap_at.items():
        struct.pack_into("<Q", bat, 8 * (c * (cr + 1) + cr), off | 6)
    spb = bs // lss
    for b, (state, ext, sectors) in blocks.items():
        idx = b + b // cr
        off = block_at.get(b, 0)
        struct.pack_into("<Q", bat, 8 * idx, off | state)
        for o, d in ext if off else ():
            f.put(off + o, d)
        if state == PARTIAL:
            bm = diskgen.vhdx_bitmap_from_sectors(sectors, spb // 8)
            f.put(bitmap_at[b // cr] + (b % cr) * (spb // 8), bm)
    f.put(bat_off, bat)
    f.close()


def vhdx_guid_text(g):
    return diskgen.vhdx_guid_text(g)


def make_vhdx(rng, out, name, kind, vsize, bs, lss, mutation=None, over4g=False):
    """Write NAME.vhdx (and NAME.base.vhdx for kind diff) and NAME.raw; return manifest row."""
    nblocks = -(-vsize // bs)
    img = os.path.join(out, name + ".vhdx")
    raw = Sparse(os.path.join(out, name + ".raw"), vsize)

    def blk_len(b):
        return min(bs, vsize - b * bs)

    def gen_blocks(states):
        blocks = {}
        for b in range(nblocks):
            st = states(b)
            ext = extents(rng, blk_len(b), lss) if st in (FULL, PARTIAL) else []
            blocks[b] = (st, ext, None)
        return blocks

    if kind == "fixed":
        if over4g:
            # Data only in a few blocks, among them the first past each chunk boundary.
            cr = (1 << 23) * lss // bs
            some = {0, nblocks - 1} | {c * cr for c in range(1, nblocks // cr + 1)
                                       if c * cr < nblocks} | {cr - 1}
            blocks = {b: (FULL, extents(rng, blk_len(b), lss) if b in some else [], None)
                      for b in range(nblocks)}
        else:
            blocks = gen_blocks(lambda b: FULL)
        uids = [rng.randbytes(16) for _ in range(3)]
        write_vhdx(img, vsize, bs, lss, blocks, uids, fixed=True,
                   userguid=mutation == "userguid", disk2vhd=mutation == "disk2vhd")
        for b, (st, ext, _) in blocks.items():
            for o, d in ext:
                raw.put(b * bs + o, d[:max(0, blk_len(b) - o)])
        raw.close()
        checks = ["qemu"] if lss == 512 and mutation != "userguid" else []
        cr = (1 << 23) * lss // bs
        if mutation != "userguid" and nblocks <= cr and vsize <= 512 * MIB:
            checks.append("vhdi")
        return (name, img, "-", raw.f.name, checks)

    if kind == "dynamic":
        if over4g:
            cr = (1 << 23) * lss // bs
            present = {0, nblocks - 1, cr - 1, cr, min(cr + 1, nblocks - 1)}
            blocks = gen_blocks(lambda b: FULL if b in present else rng.choice(
                [NOT_PRESENT, ZERO]))
        else:
            blocks = gen_blocks(lambda b: rng.choice(
                [FULL, FULL, NOT_PRESENT, ZERO, UNDEFINED, UNMAPPED]))
        uids = [rng.randbytes(16) for _ in range(3)]
        write_vhdx(img, vsize, bs, lss, blocks, uids,
                   userguid=mutation == "userguid", disk2vhd=mutation == "disk2vhd")
        for b, (st, ext, _) in blocks.items():
            for o, d in ext:
                raw.put(b * bs + o, d[:max(0, blk_len(b) - o)])
        raw.close()
        checks = ["qemu"] if lss == 512 and mutation != "userguid" else []
        if mutation != "userguid" and vsize <= 512 * MIB:
            checks.append("vhdi")
        return (name, img, "-", raw.f.name, checks)

    # Differencing: a dynamic base and a child with every state.
    base_path = os.path.join(out, name + ".base.vhdx")
    base_blocks = gen_blocks(lambda b: rng.choice([FULL, FULL, NOT_PRESENT, ZERO]))
    buids = [rng.randbytes(16) for _ in range(3)]
    write_vhdx(base_path, vsize, bs, lss, base_blocks, buids)
    # The base's virtual disk, in memory per block as needed (small images only).
    assert vsize <= 64 * MIB * 16
    base_img = bytearray(vsize)
    for b, (st, ext, _) in base_blocks.items():
        for o, d in ext:
            d = d[:max(0, blk_len(b) - o)]
            base_img[b * bs + o:b * bs + o + len(d)] = d
    states = [FULL, PARTIAL, PARTIAL, NOT_PRESENT, ZERO, UNDEFINED, UNMAPPED]
    child = {}
    for b in range(nblocks):
        st = rng.choice(states)
        n = blk_len(b)
        if st in (FULL, PARTIAL):
            # Random bytes over the whole block (garbage where a bitmap bit is clear).
            ext = [(0, rng.randbytes(n))]
        else:
            ext = []
        sectors = None
        if st == PARTIAL:
            nsec = n // lss
            sectors = sorted({rng.randrange(nsec) for _ in range(1 + rng.randrange(40))} |
                             {0, nsec - 1} if rng.random() < 0.5 else
                             {rng.randrange(nsec) for _ in range(1 + rng.randrange(40))})
        child[b] = (st, ext, sectors)
    loc = diskgen.vhdx_parent_locator([("parent_linkage", vhdx_guid_text(buids[1])),
                                       ("relative_path", ".\\" + name + ".base.vhdx")])
    uids = [rng.randbytes(16), rng.randbytes(16), buids[2]]
    write_vhdx(img, vsize, bs, lss, child, uids, locator=loc)
    exp = bytearray(base_img)
    for b, (st, ext, sectors) in child.items():
        at = b * bs
        if st == FULL:
            exp[at:at + blk_len(b)] = ext[0][1]
        elif st == PARTIAL:
            for s in sectors:
                exp[at + s * lss:at + (s + 1) * lss] = ext[0][1][s * lss:(s + 1) * lss]
        elif st == ZERO:
            exp[at:at + blk_len(b)] = bytes(blk_len(b))
    raw.put(0, exp)
    raw.close()
    # libvhdi misreads 4096-byte-sector differencing disks and ZERO blocks of any differencing
    # disk (docs/libvhdi.md).
    zero = any(st == ZERO for st, _, _ in child.values())
    return (name, img, base_path, raw.f.name, ["vhdi"] if lss == 512 and not zero else [])


def make_vhd(rng, out, name, kind, vsize, bs):
    img = os.path.join(out, name + ".vhd")
    rawp = os.path.join(out, name + ".raw")
    uid = rng.randbytes(16)
    if kind == "fixed":
        raw = Sparse(rawp, vsize)
        f = Sparse(img, vsize + 512)
        nb = -(-vsize // bs)
        for b in {0, nb // 2, nb - 1}:
            n = min(bs, vsize - b * bs)
            for o, d in extents(rng, n, 512):
                raw.put(b * bs + o, d)
                f.put(b * bs + o, d)
        f.put(vsize, diskgen.vhd_footer(vsize, diskgen.VHD_FIXED, uid, 0x2C000000))
        f.close()
        raw.close()
        return (name, img, "-", rawp, ["qemu", "vhdi"] if vsize <= 512 * MIB else ["qemu"])
    nb = -(-vsize // bs)
    spb = bs // 512
    blocks = {}
    exp = bytearray(vsize)
    for b in range(nb):
        if rng.random() < 0.3:
            continue
        data = bytearray(rng.randbytes(bs))
        n = min(bs, vsize - b * bs)
        if rng.random() < 0.5:
            sectors = range(spb)
        else:
            sectors = sorted({rng.randrange(spb) for _ in range(1 + rng.randrange(60))})
        for s in range(spb):
            if s not in set(sectors):
                data[s * 512:(s + 1) * 512] = bytes(512)  # a clear bit reads as zeros
        exp[b * bs:b * bs + n] = data[:n]
        blocks[b] = (diskgen.bitmap_from_sectors(sectors, spb), bytes(data))
    buf, _ = diskgen.vhd_dynamic(vsize, bs, blocks, uid, 0x2C000000)
    with open(img, "wb") as f:
        f.write(buf)
    with open(rawp, "wb") as f:
        f.write(exp)
    return (name, img, "-", rawp, ["qemu", "vhdi"])


FIXED = [
    # (kind, virtual size, block MiB, logical sector, mutation)
    ("vhdx", "fixed", 24 * MIB + 3 * 4096, 1, 512, None),
    ("vhdx", "fixed", 40 * MIB, 2, 4096, None),
    ("vhdx", "fixed", 64 * MIB, 32, 512, "disk2vhd"),
    ("vhdx", "fixed", 300 * MIB, 256, 4096, None),
    ("vhdx", "dynamic", 30 * MIB + 512, 1, 512, None),
    ("vhdx", "dynamic", 48 * MIB, 2, 4096, None),
    ("vhdx", "dynamic", 96 * MIB, 32, 512, None),
    ("vhdx", "dynamic", 513 * MIB, 256, 512, None),
    ("vhdx", "dynamic", 20 * MIB, 1, 512, "userguid"),
    ("vhdx", "dynamic", 20 * MIB, 2, 512, "disk2vhd"),
    ("vhdx", "dynamic", 20 * MIB, 4, 4096, "disk2vhd"),
    ("vhdx", "fixed", 20 * MIB, 1, 512, "userguid"),
    ("vhdx", "diff", 12 * MIB + 5 * 512, 1, 512, None),
    ("vhdx", "diff", 16 * MIB, 1, 4096, None),
    ("vhdx", "diff", 40 * MIB, 4, 512, None),
    ("vhdx", "diff", 64 * MIB, 32, 4096, None),
    ("vhd", "fixed", 20 * MIB, 2, 512, None),
    ("vhd", "fixed", 7 * MIB + 3 * 512, 2, 512, None),
    ("vhd", "dynamic", 10 * MIB + 512, 2, 512, None),
    ("vhd", "dynamic", 9 * MIB, 1, 512, None),
    # Sparse, over 4 GiB: past the first chunk of a 512-byte-sector VHDX.
    ("vhdx", "fixed", 4 * 1024 * MIB + 64 * MIB, 32, 512, "hyperv-fixed-4g"),
    ("vhdx", "dynamic", 4 * 1024 * MIB + 8 * MIB, 1, 512, "over4g"),
    ("vhd", "fixed", 4 * 1024 * MIB + 2 * MIB, 2, 512, None),
]


def random_case(rng):
    fmt = rng.choice(["vhdx", "vhdx", "vhdx", "vhd"])
    if fmt == "vhd":
        kind = rng.choice(["fixed", "dynamic"])
        bs = rng.choice([1, 2]) * MIB
        return ("vhd", kind, rng.randrange(1, 24) * MIB + rng.randrange(0, 8) * 512,
                bs // MIB, 512, None)
    kind = rng.choice(["fixed", "dynamic", "diff"])
    lss = rng.choice([512, 4096])
    bmib = rng.choice([1, 1, 2, 4, 8, 32, 256] if kind != "diff" else [1, 2, 4])
    nblocks = rng.randrange(1, 6 if bmib >= 32 else 20)
    vsize = max(lss, (nblocks - 1) * bmib * MIB + rng.randrange(1, bmib * MIB // lss + 1) * lss)
    mut = rng.choice([None, None, None, "disk2vhd", "userguid"]) if kind != "diff" else None
    return ("vhdx", kind, vsize, bmib, lss, mut)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--small", action="store_true", help="leave out the > 4 GiB images")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    rng = random.Random(a.seed)
    cases = [random_case(rng) for _ in range(a.count)] if a.count else FIXED
    rows = []
    for i, (fmt, kind, vsize, bmib, lss, mut) in enumerate(cases):
        if a.small and vsize > (4 << 30):
            continue
        name = "%03d-%s-%s-s%d-b%dm%s" % (i, fmt, kind, lss, bmib,
                                          "-" + mut if mut else "")
        crng = random.Random("%d/%d" % (a.seed, i))
        if fmt == "vhd":
            rows.append(make_vhd(crng, a.outdir, name, kind, vsize, bmib * MIB))
        else:
            m = mut if mut in ("userguid", "disk2vhd") else None
            rows.append(make_vhdx(crng, a.outdir, name, kind, vsize, bmib * MIB, lss, m,
                                  over4g=vsize > (4 << 30)))
    with open(os.path.join(a.outdir, "manifest.tsv"), "w") as f:
        for name, img, parent, raw, checks in rows:
            f.write("\t".join([name, img, parent, raw, ",".join(checks) or "-"]) + "\n")


if __name__ == "__main__":
    main()
