#!/usr/bin/python3
"""Byte-exact writers for the disk structures cvmrestore reads, for test fixtures.

Everything here is written from the specifications, not by a tool, so that the output depends
only on the arguments (no clock, no randomness beyond a caller's seeded random.Random):

- VHD: "Virtual Hard Disk Image Format Specification" v1.0 (footer, dynamic header, BAT,
  sector bitmaps, parent locators). Big-endian.
- VHDX: [MS-VHDX] (file type identifier, two headers and two region tables with CRC-32C,
  metadata region with the required items, BAT; differencing disks with a parent locator and
  sector bitmap blocks). Little-endian; GUIDs in Microsoft order.
- GPT: UEFI 2.x chapter 5 (protective MBR, primary and backup headers with CRC-32).

Functions return bytes/bytearray; callers decide what to corrupt and where to write.
Imported by tests/gen/make_vhd_chain.py, tests/gen/make_vhdx_chain.py and
testdata/bad/make-bad.py. Stdlib only.
"""

import struct
import uuid as uuidmod
import zlib

SECTOR = 512
MIB = 1024 * 1024
VHD_EPOCH_UNIX = 946684800
VHD_BAT_UNUSED = 0xFFFFFFFF


def round_up(x, m):
    return (x + m - 1) // m * m


# ---------------------------------------------------------------------------------------------
# VHD


def vhd_checksum(buf, skip):
    """One's complement of the byte sum of buf with the 4 bytes at skip counted as zero."""
    s = sum(buf) - sum(buf[skip:skip + 4])
    return (~s) & 0xFFFFFFFF


def vhd_chs(size):
    """CHS geometry of the VHD specification's appendix "CHS Calculation"."""
    total = size // SECTOR
    if total > 65535 * 16 * 255:
        total = 65535 * 16 * 255
    if total >= 65535 * 16 * 63:
        spt, heads = 255, 16
        cth = total // spt
    else:
        spt = 17
        cth = total // spt
        heads = max((cth + 1023) // 1024, 4)
        if cth >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
            cth = total // spt
        if cth >= heads * 1024:
            spt, heads = 63, 16
            cth = total // spt
    return cth // heads, heads, spt


VHD_FIXED, VHD_DYNAMIC, VHD_DIFF = 2, 3, 4


def vhd_footer(size, disk_type, uid, timestamp, data_offset=None):
    """512-byte footer. data_offset defaults to all ones (fixed) or 512 (dynamic/diff)."""
    if data_offset is None:
        data_offset = 0xFFFFFFFFFFFFFFFF if disk_type == VHD_FIXED else SECTOR
    c, h, s = vhd_chs(size)
    f = bytearray(SECTOR)
    f[0:8] = b"conectix"
    struct.pack_into(">IIQI", f, 8, 2, 0x00010000, data_offset, timestamp)
    f[28:32] = b"cvmt"                      # creator application: cvmrestore tests
    struct.pack_into(">I", f, 32, 0x00010000)
    f[36:40] = b"Wi2k"
    struct.pack_into(">QQHBBI", f, 40, size, size, c, h, s, disk_type)
    f[68:84] = uid
    struct.pack_into(">I", f, 64, vhd_checksum(f, 64))
    return f


def vhd_refresh_footer_checksum(f):
    struct.pack_into(">I", f, 64, vhd_checksum(f, 64))


def vhd_refresh_header_checksum(h):
    struct.pack_into(">I", h, 36, vhd_checksum(h, 36))


def vhd_fixed(data, uid, timestamp):
    """A fixed VHD: the data (a multiple of 512 bytes) followed by its footer."""
    assert len(data) % SECTOR == 0
    return bytes(data) + bytes(vhd_footer(len(data), VHD_FIXED, uid, timestamp))


def vhd_bitmap_size(block_size):
    return round_up((block_size // SECTOR + 7) // 8, SECTOR)


def bitmap_from_sectors(sectors, spb):
    """Sector bitmap (MSB of byte 0 is sector 0), as the VHD specification lays it out."""
    bm = bytearray((spb + 7) // 8)
    for s in sectors:
        bm[s // 8] |= 0x80 >> (s % 8)
    return bm


def utf16le(s):
    return s.encode("utf-16-le")


class VhdParent:
    """What a differencing child records about its parent."""

    def __init__(self, uid, timestamp, name, abs_path, rel_path):
        self.uid = uid
        self.timestamp = timestamp
        self.name = name
        self.abs_path = abs_path
        self.rel_path = rel_path


def vhd_dynamic(size, block_size, blocks, uid, timestamp, parent=None, max_entries=None):
    """A dynamic (parent is None) or differencing VHD.

    blocks: {block index: (sector bitmap bytes, block data of block_size bytes)}; blocks not in
    the dict are unallocated (BAT entry all ones). The layout is: footer copy at 0, dynamic
    header at 512, BAT at 1536, parent locator data (W2ku then W2ru, 512 bytes each), the blocks
    in index order (bitmap then data), the footer. Returns (bytearray, layout dict) where layout
    gives the offsets tests corrupt: header, bat, locators, block offsets, footer.
    """
    n = -(-size // block_size)
    if max_entries is None:
        max_entries = n
    disk_type = VHD_DIFF if parent else VHD_DYNAMIC
    footer = vhd_footer(size, disk_type, uid, timestamp)
    bat_off = 3 * SECTOR
    bat_len = round_up(max_entries * 4, SECTOR)
    pos = bat_off + bat_len
    locs = []
    if parent:
        # Parent locators: W2ku (absolute) and W2ru (relative) paths as UTF-16LE. The data
        # space is in bytes, as Hyper-V writes it (the specification says sectors; 512 bytes
        # fit either reading since the blocks that follow make the file far larger).
        for code, path in ((b"W2ku", parent.abs_path), (b"W2ru", parent.rel_path)):
            data = utf16le(path)
            assert len(data) <= SECTOR
            locs.append((code, pos, data))
            pos += SECTOR
    bm_size = vhd_bitmap_size(block_size)
    block_pos = {}
    for b in sorted(blocks):
        block_pos[b] = pos
        pos += bm_size + block_size
    out = bytearray(pos + SECTOR)
    out[0:SECTOR] = footer
    h = bytearray(1024)
    h[0:8] = b"cxsparse"
    struct.pack_into(">QQIII", h, 8, 0xFFFFFFFFFFFFFFFF, bat_off, 0x00010000, max_entries,
                     block_size)
    if parent:
        h[40:56] = parent.uid
        struct.pack_into(">I", h, 56, parent.timestamp)
        name = parent.name.encode("utf-16-be")
        assert len(name) <= 512
        h[64:64 + len(name)] = name
        for i, (code, off, data) in enumerate(locs):
            e = 576 + 24 * i
            h[e:e + 4] = code
            struct.pack_into(">IIIQ", h, e + 4, SECTOR, len(data), 0, off)
            out[off:off + len(data)] = data
    vhd_refresh_header_checksum(h)
    out[SECTOR:SECTOR + 1024] = h
    bat = bytearray(b"\xff" * bat_len)
    for b, off in block_pos.items():
        struct.pack_into(">I", bat, 4 * b, off // SECTOR)
        bm, data = blocks[b]
        assert len(data) == block_size and len(bm) <= bm_size
        out[off:off + len(bm)] = bm
        out[off + bm_size:off + bm_size + block_size] = data
    out[bat_off:bat_off + bat_len] = bat
    out[pos:pos + SECTOR] = footer
    layout = {"header": SECTOR, "bat": bat_off, "bat_len": bat_len, "blocks": block_pos,
              "bitmap_size": bm_size, "locators": [(c, o) for c, o, _ in locs], "footer": pos}
    return out, layout


# ---------------------------------------------------------------------------------------------
# CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as MS-VHDX uses it.

def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC32C = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    t = _CRC32C
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value


# ---------------------------------------------------------------------------------------------
# VHDX

def ms_guid(text):
    """A GUID in Microsoft's mixed-endian byte order, as MS-VHDX stores it."""
    return uuidmod.UUID(text).bytes_le


VHDX_BAT_GUID = ms_guid("2DC27766-F623-4200-9D64-115E9BFD4A08")
VHDX_METADATA_GUID = ms_guid("8B7CA206-4790-4B9A-B8FE-575F050F886E")
VHDX_FILE_PARAMS = ms_guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
VHDX_VIRTUAL_SIZE = ms_guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
VHDX_PAGE83 = ms_guid("BECA12AB-B2E6-4523-93EF-C309E000C746")
VHDX_LOGICAL_SECTOR = ms_guid("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
VHDX_PHYSICAL_SECTOR = ms_guid("CDA348C7-445D-4471-9CC9-E9885251C556")
VHDX_PARENT_LOCATOR = ms_guid("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
VHDX_LOCATOR_TYPE_VHDX = ms_guid("B04AEFB7-D19E-4A81-B789-25B8E9445913")  # 2.6.2.6.3

VHDX_HEADER1, VHDX_HEADER2 = 64 * 1024, 128 * 1024
VHDX_REGION1, VHDX_REGION2 = 192 * 1024, 256 * 1024


def vhdx_header(seq, file_write, data_write, log_guid, log_offset, log_length):
    h = bytearray(4096)
    h[0:4] = b"head"
    struct.pack_into("<Q", h, 8, seq)
    h[16:32] = file_write
    h[32:48] = data_write
    h[48:64] = log_guid
    struct.pack_into("<HHIQ", h, 64, 0, 1, log_length, log_offset)
    vhdx_refresh_crc(h)
    return h


def vhdx_refresh_crc(buf):
    """Recompute the CRC-32C at +4 over the whole structure (header or region table)."""
    struct.pack_into("<I", buf, 4, 0)
    struct.pack_into("<I", buf, 4, crc32c(buf))


def vhdx_region_table(entries):
    r = bytearray(64 * 1024)
    r[0:4] = b"regi"
    struct.pack_into("<I", r, 8, len(entries))
    for i, (guid, off, length, required) in enumerate(entries):
        e = 16 + 32 * i
        r[e:e + 16] = guid
        struct.pack_into("<QII", r, e + 16, off, length, 1 if required else 0)
    vhdx_refresh_crc(r)
    return r


def vhdx_log_entry(log_guid, seq, file_size, zero_offset):
    """One 4 KiB log entry ([MS-VHDX] 2.3.1): header ("loge", CRC-32C over the entry) with one
    zero descriptor of 4 KiB at zero_offset."""
    e = bytearray(4096)
    e[0:4] = b"loge"
    struct.pack_into("<IIQII", e, 8, len(e), 0, seq, 1, 0)
    e[32:48] = log_guid
    struct.pack_into("<QQ", e, 48, file_size, file_size)
    e[64:68] = b"zero"
    struct.pack_into("<QQQ", e, 72, 4096, zero_offset, seq)
    vhdx_refresh_crc(e)
    return e


def vhdx_metadata(block_size, virtual_size, page83, logical=512, physical=4096,
                  parent_locator=None):
    """The metadata region (1 MiB): table header, five required items, their values at 64 KiB.

    parent_locator: the bytes of a parent locator item (vhdx_parent_locator); when given, the
    file parameters say HasParent (bit 1) and the locator is a sixth required item.
    """
    m = bytearray(MIB)
    m[0:8] = b"metadata"
    # (item id, value, IsVirtualDisk); every item here is required (flags bit 2).
    items = [
        (VHDX_FILE_PARAMS, struct.pack("<II", block_size, 0 if parent_locator is None else 2),
         False),
        (VHDX_VIRTUAL_SIZE, struct.pack("<Q", virtual_size), True),
        (VHDX_PAGE83, page83, True),
        (VHDX_LOGICAL_SECTOR, struct.pack("<I", logical), True),
        (VHDX_PHYSICAL_SECTOR, struct.pack("<I", physical), True),
    ]
    if parent_locator is not None:
        items.append((VHDX_PARENT_LOCATOR, bytes(parent_locator), False))
    struct.pack_into("<H", m, 10, len(items))
    voff = 64 * 1024
    for i, (guid, value, vdisk) in enumerate(items):
        e = 32 + 32 * i
        flags = 4 | (2 if vdisk else 0)
        m[e:e + 16] = guid
        struct.pack_into("<III", m, e + 16, voff, len(value), flags)
        m[voff:voff + len(value)] = value
        voff += round_up(len(value), 8)
    return m


def vhdx_dynamic(virtual_size, block_size, uids, blocks=None, log_guid2=bytes(16)):
    """A dynamic VHDX with layout: headers/region tables in the first MiB, log at 1 MiB (1 MiB,
    empty), metadata at 2 MiB, BAT at 3 MiB, payload blocks from 4 MiB in index order.

    uids: four 16-byte values (file write, data write, page 83, creator salt unused).
    blocks: {payload block index: block_size bytes}; absent blocks are NOT_PRESENT.
    log_guid2 goes into header 2 (the current one: sequence 2 against header 1's 1).
    Returns (bytearray, layout dict).
    """
    blocks = blocks or {}
    logical = 512
    nblocks = -(-virtual_size // block_size)
    chunk_ratio = (1 << 23) * logical // block_size
    # Payload entries interleaved with one sector bitmap entry after every chunk_ratio entries.
    nentries = nblocks + (nblocks - 1) // chunk_ratio
    bat_len = round_up(nentries * 8, MIB)
    log_off, meta_off, bat_off = MIB, 2 * MIB, 3 * MIB
    data_off = bat_off + bat_len
    size = data_off + len(blocks) * block_size
    out = bytearray(size)
    out[0:8] = b"vhdxfile"
    creator = utf16le("cvmrestore test generator")
    out[8:8 + len(creator)] = creator
    fw, dw, p83 = uids[0], uids[1], uids[2]
    out[VHDX_HEADER1:VHDX_HEADER1 + 4096] = vhdx_header(1, fw, dw, bytes(16), log_off, MIB)
    out[VHDX_HEADER2:VHDX_HEADER2 + 4096] = vhdx_header(2, fw, dw, log_guid2, log_off, MIB)
    rt = vhdx_region_table([(VHDX_BAT_GUID, bat_off, bat_len, True),
                            (VHDX_METADATA_GUID, meta_off, MIB, True)])
    out[VHDX_REGION1:VHDX_REGION1 + len(rt)] = rt
    out[VHDX_REGION2:VHDX_REGION2 + len(rt)] = rt
    out[meta_off:meta_off + MIB] = vhdx_metadata(block_size, virtual_size, p83, logical)
    pos = data_off
    for b in sorted(blocks):
        idx = b + b // chunk_ratio
        struct.pack_into("<Q", out, bat_off + 8 * idx, pos | 6)  # PAYLOAD_BLOCK_FULLY_PRESENT
        out[pos:pos + block_size] = blocks[b]
        pos += block_size
    if log_guid2 != bytes(16):
        # A log that needs replay: one valid entry of that GUID (a zero descriptor over the
        # last 4 KiB of the BAT region, so replaying it would change nothing).
        entry = vhdx_log_entry(log_guid2, 0x10, size, bat_off + bat_len - 4096)
        out[log_off:log_off + len(entry)] = entry
    layout = {"header1": VHDX_HEADER1, "header2": VHDX_HEADER2, "region1": VHDX_REGION1,
              "region2": VHDX_REGION2, "metadata": meta_off, "bat": bat_off, "log": log_off}
    return out, layout


def vhdx_guid_text(guid):
    """A GUID stored in Microsoft byte order as the parent locator writes it ([MS-VHDX]
    2.6.2.6.3): lowercase with enclosing braces, e.g. {83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}."""
    return "{%s}" % uuidmod.UUID(bytes_le=bytes(guid))


def vhdx_parent_locator(entries, locator_type=VHDX_LOCATOR_TYPE_VHDX):
    """A parent locator item ([MS-VHDX] 2.6.2.6): 20-byte header (LocatorType, reserved,
    KeyValueCount), 12-byte entries (key offset, value offset, key length, value length; offsets
    from the start of the item), then the UTF-16LE keys and values without NULs.

    entries: list of (key, value) strings, written in that order.
    """
    head = 20 + 12 * len(entries)
    table = bytearray(head)
    table[0:16] = locator_type
    struct.pack_into("<HH", table, 16, 0, len(entries))
    data = bytearray()
    for i, (key, value) in enumerate(entries):
        k, v = utf16le(key), utf16le(value)
        ko = head + len(data)
        data += k
        vo = head + len(data)
        data += v
        struct.pack_into("<IIHH", table, 20 + 12 * i, ko, vo, len(k), len(v))
    return bytes(table + data)


def vhdx_bitmap_from_sectors(sectors, nbytes):
    """Sector bitmap bytes for one payload block: bit i (bit i % 8 of byte i // 8, least
    significant first: [MS-VHDX] 2.4 "bit 0 of byte 0 is the entry for the first virtual
    sector") set when sector i of the block is present in this file."""
    bm = bytearray(nbytes)
    for s in sectors:
        bm[s // 8] |= 1 << (s % 8)
    return bm


def vhdx_differencing(virtual_size, block_size, uids, locator, blocks):
    """A differencing VHDX, laid out as vhdx_dynamic lays a dynamic one: headers and region
    tables in the first MiB, an empty 1 MiB log at 1 MiB, metadata at 2 MiB, the BAT at 3 MiB,
    then one 1 MiB sector bitmap block per chunk that has a partially present block, then the
    payload blocks in index order.

    uids: three 16-byte values (file write, data write, page 83; a child forked from a parent
    keeps the parent's page 83, since that item is IsVirtualDisk).
    locator: the parent locator item bytes (vhdx_parent_locator).
    blocks: {payload block index: (block_size bytes, sectors)}; sectors None makes the block
    PAYLOAD_BLOCK_FULLY_PRESENT (its bitmap bits are left clear: 2.5.1.1 says a reader must not
    inspect them), a list of sector indexes makes it PAYLOAD_BLOCK_PARTIALLY_PRESENT with those
    bits set. Absent blocks are PAYLOAD_BLOCK_NOT_PRESENT (read from the parent).
    Returns (bytearray, layout dict with the bitmap block offsets by chunk and block offsets).
    """
    logical = 512
    nblocks = -(-virtual_size // block_size)
    chunk_ratio = (1 << 23) * logical // block_size
    spb = block_size // logical
    # 2.5: a differencing disk's BAT reaches the sector bitmap entry of its last chunk.
    nchunks = -(-nblocks // chunk_ratio)
    nentries = nchunks * (chunk_ratio + 1)
    bat_len = round_up(nentries * 8, MIB)
    log_off, meta_off, bat_off = MIB, 2 * MIB, 3 * MIB
    pos = bat_off + bat_len
    bitmap_pos = {}
    for b in sorted(blocks):
        c = b // chunk_ratio
        if blocks[b][1] is not None and c not in bitmap_pos:
            bitmap_pos[c] = None
    for c in sorted(bitmap_pos):
        bitmap_pos[c] = pos
        pos += MIB
    block_pos = {}
    for b in sorted(blocks):
        block_pos[b] = pos
        pos += block_size
    out = bytearray(pos)
    out[0:8] = b"vhdxfile"
    creator = utf16le("cvmrestore test generator")
    out[8:8 + len(creator)] = creator
    fw, dw, p83 = uids[0], uids[1], uids[2]
    out[VHDX_HEADER1:VHDX_HEADER1 + 4096] = vhdx_header(1, fw, dw, bytes(16), log_off, MIB)
    out[VHDX_HEADER2:VHDX_HEADER2 + 4096] = vhdx_header(2, fw, dw, bytes(16), log_off, MIB)
    rt = vhdx_region_table([(VHDX_BAT_GUID, bat_off, bat_len, True),
                            (VHDX_METADATA_GUID, meta_off, MIB, True)])
    out[VHDX_REGION1:VHDX_REGION1 + len(rt)] = rt
    out[VHDX_REGION2:VHDX_REGION2 + len(rt)] = rt
    out[meta_off:meta_off + MIB] = vhdx_metadata(block_size, virtual_size, p83, logical,
                                                 parent_locator=locator)
    for c, off in bitmap_pos.items():
        idx = c * (chunk_ratio + 1) + chunk_ratio
        struct.pack_into("<Q", out, bat_off + 8 * idx, off | 6)  # SB_BLOCK_PRESENT
    for b, off in block_pos.items():
        data, sectors = blocks[b]
        assert len(data) == block_size
        idx = b + b // chunk_ratio
        state = 6 if sectors is None else 7  # FULLY_PRESENT / PARTIALLY_PRESENT
        struct.pack_into("<Q", out, bat_off + 8 * idx, off | state)
        out[off:off + block_size] = data
        if sectors is not None:
            bm = vhdx_bitmap_from_sectors(sectors, spb // 8)
            at = bitmap_pos[b // chunk_ratio] + (b % chunk_ratio) * (spb // 8)
            out[at:at + len(bm)] = bm
    layout = {"metadata": meta_off, "bat": bat_off, "bitmaps": bitmap_pos,
              "blocks": block_pos, "chunk_ratio": chunk_ratio}
    return out, layout


# ---------------------------------------------------------------------------------------------
# GPT

GPT_LINUX_FS = ms_guid("0FC63DAF-8483-4772-8E79-3D69D8477DE4")


def gpt_disk(sectors, disk_guid, parts):
    """A raw disk of sectors*512 bytes with a protective MBR, primary GPT (LBA 1, entries at
    LBA 2) and backup GPT (entries before the last LBA, header at the last LBA).

    parts: list of (type guid, unique guid, first lba, last lba, name).
    Returns (bytearray, layout dict with the primary and backup header offsets).
    """
    n_entries, esize = 128, 128
    entry_sectors = n_entries * esize // SECTOR
    first_usable = 2 + entry_sectors
    last_usable = sectors - 2 - entry_sectors
    disk = bytearray(sectors * SECTOR)
    # Protective MBR: one partition of type 0xEE from LBA 1 over the whole disk.
    struct.pack_into("<BBBBBBBBII", disk, 446, 0, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF, 1,
                     min(sectors - 1, 0xFFFFFFFF))
    disk[510:512] = b"\x55\xaa"
    entries = bytearray(n_entries * esize)
    for i, (tguid, uguid, first, last, name) in enumerate(parts):
        e = i * esize
        entries[e:e + 16] = tguid
        entries[e + 16:e + 32] = uguid
        struct.pack_into("<QQQ", entries, e + 32, first, last, 0)
        nm = utf16le(name)
        entries[e + 56:e + 56 + len(nm)] = nm
    ecrc = zlib.crc32(entries)

    def header(current, backup, entries_lba):
        h = bytearray(SECTOR)
        h[0:8] = b"EFI PART"
        struct.pack_into("<IIII", h, 8, 0x00010000, 92, 0, 0)
        struct.pack_into("<QQQQ", h, 24, current, backup, first_usable, last_usable)
        h[56:72] = disk_guid
        struct.pack_into("<QIII", h, 72, entries_lba, n_entries, esize, ecrc)
        struct.pack_into("<I", h, 16, zlib.crc32(h[:92]))
        return h

    last = sectors - 1
    disk[SECTOR:2 * SECTOR] = header(1, last, 2)
    disk[2 * SECTOR:2 * SECTOR + len(entries)] = entries
    bentries = last - entry_sectors
    disk[bentries * SECTOR:bentries * SECTOR + len(entries)] = entries
    disk[last * SECTOR:(last + 1) * SECTOR] = header(last, 1, bentries)
    return disk, {"primary": SECTOR, "backup": last * SECTOR,
                  "first_usable": first_usable, "last_usable": last_usable}


def uuid4(rng):
    """A random (version 4) UUID as 16 bytes in the order VHD stores it, from a seeded rng."""
    return uuidmod.UUID(bytes=rng.randbytes(16), version=4).bytes
