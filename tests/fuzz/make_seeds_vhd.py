#!/usr/bin/python3
"""Write the seed corpora of fuzz_vhd_footer and fuzz_vhd_dyn_header.

Usage: make_seeds_vhd.py [FUZZ_DIR]   (default: the directory of this script)

vhd_footer/:     fixed-footer.bin, dynamic-footer.bin, differencing-footer.bin
vhd_dyn_header/: dynamic.bin, differencing-w2ru.bin, in the layout fuzz_vhd_dyn_header.c reads:
                 footer (512, file size at +85), dynamic header (1024), then BAT and locator data.
Structures follow Microsoft's "Virtual Hard Disk Image Format Specification" v1.0.
"""
import os
import struct
import sys

MIB = 1024 * 1024
BLOCK = 2 * MIB
UUID = bytes.fromhex("6ba7b8109dad11d180b400c04fd430c8")
PARENT_UUID = bytes.fromhex("94a7b8109dad11d180b400c04fd430c8")


def checksum(buf, at):
    total = sum(buf[:at]) + sum(buf[at + 4:])
    return (~total) & 0xFFFFFFFF


def chs(size):
    """Appendix "CHS Calculation"."""
    total = min(size // 512, 65535 * 16 * 255)
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


def footer(size, disk_type, data_offset, file_size=0):
    f = bytearray(512)
    f[0:8] = b"conectix"
    cyl, heads, spt = chs(size)
    struct.pack_into(">IIQI4sI4sQQHBBI", f, 8, 2, 0x00010000, data_offset, 0x2A000000,
                     b"cvmr", 0x00010000, b"Wi2k", size, size, cyl, heads, spt, disk_type)
    f[68:84] = UUID
    # Reserved bytes: the fuzz target reads the file size here.
    struct.pack_into(">Q", f, 85, file_size)
    struct.pack_into(">I", f, 64, checksum(f, 64))
    return bytes(f)


def dyn_header(table_offset, entries, parent=None, locator=None):
    h = bytearray(1024)
    h[0:8] = b"cxsparse"
    struct.pack_into(">QQIII", h, 8, 0xFFFFFFFFFFFFFFFF, table_offset, 0x00010000, entries,
                     BLOCK)
    if parent:
        h[40:56] = PARENT_UUID
        struct.pack_into(">I", h, 56, 0x29000000)
        name = parent.encode("utf-16-be")
        h[64:64 + len(name)] = name
    if locator:
        code, space, length, offset = locator
        struct.pack_into(">4sIIIQ", h, 576, code, space, length, 0, offset)
    struct.pack_into(">I", h, 36, checksum(h, 36))
    return bytes(h)


def dyn_image(disk_type, parent=None):
    """Footer + header + BAT (+ locator data), with one allocated block after them."""
    size = 8 * MIB
    entries = size // BLOCK
    table = 1536
    loc_data = b""
    locator = None
    block = table + 512
    if parent:
        loc_data = (".\\" + parent).encode("utf-16-le")
        locator = (b"W2ru", 512, len(loc_data), block)
        block += 512
    file_size = block + 512 + BLOCK + 512
    bat = struct.pack(">I", block // 512) + b"\xff\xff\xff\xff" * (entries - 1)
    bat += b"\0" * (512 - len(bat))
    out = footer(size, disk_type, 512, file_size)
    out += dyn_header(table, entries, parent, locator)
    out += bat + loc_data
    return out


def write(path, data):
    with open(path, "wb") as fh:
        fh.write(data)


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    fdir = os.path.join(base, "corpus", "vhd_footer")
    hdir = os.path.join(base, "corpus", "vhd_dyn_header")
    os.makedirs(fdir, exist_ok=True)
    os.makedirs(hdir, exist_ok=True)
    write(os.path.join(fdir, "fixed-footer.bin"), footer(64 * MIB, 2, 0xFFFFFFFFFFFFFFFF))
    write(os.path.join(fdir, "dynamic-footer.bin"), footer(8 * MIB, 3, 512))
    write(os.path.join(fdir, "differencing-footer.bin"), footer(8 * MIB, 4, 512))
    write(os.path.join(hdir, "dynamic.bin"), dyn_image(3))
    write(os.path.join(hdir, "differencing-w2ru.bin"), dyn_image(4, "parent.vhd"))


if __name__ == "__main__":
    main()
