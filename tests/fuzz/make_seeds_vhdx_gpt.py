#!/usr/bin/python3
"""Make the seed corpora of tests/fuzz/fuzz_vhdx.c and tests/fuzz/fuzz_gpt.c.

VHDX seeds come from images qemu-img writes (dynamic, fixed, converted with data) plus one
differencing disk derived from the dynamic image here (qemu-img cannot write one): its metadata
gains a parent locator and the has-parent flag. GPT seeds come from disks sfdisk partitions
(GPT, a dos label) and from the first 4 KiB of LUKS1 and LUKS2
volumes cryptsetup formats. Each seed is cut into the piece layout the fuzz target documents.

Usage: tests/fuzz/make_seeds_vhdx_gpt.py   (writes tests/fuzz/corpus/{vhdx,gpt}/)
"""
import os
import struct
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 1 << 20


def run(*args, stdin=None):
    subprocess.run(args, check=True, input=stdin, stdout=subprocess.DEVNULL)


def read_at(path, off, n):
    with open(path, 'rb') as f:
        f.seek(off)
        return f.read(n)


def ms_guid(text):
    return uuid.UUID(text).bytes_le


PARENT_LOCATOR = ms_guid('A8D35F2D-B30B-454D-ABF7-D3D84834AB0C')
VHDX_LOCATOR_TYPE = ms_guid('B04AEFB7-D19E-4A81-B789-25B8E9445913')
FILE_PARAMS = ms_guid('CAA16737-FA36-4D43-B3B6-33F0AA44E76B')
METADATA_REGION = ms_guid('8B7CA206-4790-4B9A-B8FE-575F050F886E')
BAT_REGION = ms_guid('2DC27766-F623-4200-9D64-115E9BFD4A08')


def regions(path):
    """Offsets and lengths of the BAT and metadata regions from region table 1."""
    rt = read_at(path, 192 * 1024, 64 * 1024)
    count = struct.unpack_from('<I', rt, 8)[0]
    out = {}
    for i in range(count):
        e = rt[16 + 32 * i:48 + 32 * i]
        off, length = struct.unpack_from('<QI', e, 16)
        out[bytes(e[:16])] = (off, length)
    return out


def items_end(table):
    """End of the last metadata item, relative to the start of the region."""
    count = struct.unpack_from('<H', table, 10)[0]
    end = 65536
    for i in range(count):
        off, length = struct.unpack_from('<II', table, 32 + 32 * i + 16)
        end = max(end, off + length)
    return end


def vhdx_seed(path, table=None, items=None):
    """Cut a qemu-img VHDX into the fuzz_vhdx piece layout."""
    size = os.path.getsize(path)
    reg = regions(path)
    meta_off, _ = reg[METADATA_REGION]
    bat_off, _ = reg[BAT_REGION]
    if table is None:
        table = read_at(path, meta_off, 4096)
    if items is None:
        items = read_at(path, meta_off + 65536, items_end(table) - 65536)
    control = bytes(8) + struct.pack('<Q', size)
    return (control + read_at(path, 0, 520) + read_at(path, 64 * 1024, 4096) +
            read_at(path, 128 * 1024, 4096) + read_at(path, 192 * 1024, 4096) + table +
            struct.pack('<I', len(items)) + items + read_at(path, bat_off, 8192))


def utf16(s):
    return s.encode('utf-16-le')


def with_parent(path):
    """The dynamic image's metadata with a parent locator item and the has-parent flag."""
    reg = regions(path)
    meta_off, _ = reg[METADATA_REGION]
    table = bytearray(read_at(path, meta_off, 4096))
    items = bytearray(read_at(path, meta_off + 65536, items_end(table) - 65536))
    count = struct.unpack_from('<H', table, 10)[0]
    for i in range(count):
        e = 32 + 32 * i
        if table[e:e + 16] == FILE_PARAMS:
            fp = struct.unpack_from('<I', table, e + 16)[0] - 65536
            struct.pack_into('<I', items, fp + 4, 2)
    pairs = [('parent_linkage', '{' + str(uuid.UUID(int=1)) + '}'),
             ('relative_path', '..\\parent.vhdx'), ('absolute_win32_path', 'C:\\parent.vhdx')]
    loc = bytearray(VHDX_LOCATOR_TYPE + struct.pack('<HH', 0, len(pairs)))
    strings = bytearray()
    base = 20 + 12 * len(pairs)
    for k, v in pairs:
        ko = base + len(strings)
        strings += utf16(k)
        vo = base + len(strings)
        strings += utf16(v)
        loc += struct.pack('<IIHH', ko, vo, len(utf16(k)), len(utf16(v)))
    loc += strings
    while len(items) % 8:
        items.append(0)
    loc_off = 65536 + len(items)
    items += loc
    e = 32 + 32 * count
    table[e:e + 32] = PARENT_LOCATOR + struct.pack('<IIII', loc_off, len(loc), 4, 0)
    struct.pack_into('<H', table, 10, count + 1)
    return vhdx_seed(path, bytes(table), bytes(items))


def gpt_seed(path, sector, flags=0):
    sectors = os.path.getsize(path) // sector
    control = bytes([flags, {512: 0, 4096: 3}[sector]]) + bytes(6) + struct.pack('<Q', sectors)
    return (control + read_at(path, 0, 512) + read_at(path, sector, 512) +
            read_at(path, 2 * sector, 128 * 128))


def write(dirname, name, data):
    d = os.path.join(HERE, 'corpus', dirname)
    os.makedirs(d, exist_ok=True)
    assert len(data) < 300 * 1024, name
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        t = lambda n: os.path.join(tmp, n)
        run('qemu-img', 'create', '-q', '-f', 'vhdx', '-o', 'subformat=dynamic', t('d.vhdx'), '64M')
        run('qemu-img', 'create', '-q', '-f', 'vhdx', '-o', 'subformat=fixed', t('f.vhdx'), '8M')
        with open(t('data.raw'), 'wb') as f:
            f.write(os.urandom(2 * MIB))
            f.truncate(5 * MIB)
        run('qemu-img', 'convert', '-q', '-O', 'vhdx', '-o', 'subformat=dynamic,block_size=1M',
            t('data.raw'), t('data.vhdx'))
        write('vhdx', 'qemu-dynamic-64m', vhdx_seed(t('d.vhdx')))
        write('vhdx', 'qemu-fixed-8m', vhdx_seed(t('f.vhdx')))
        write('vhdx', 'qemu-data-5m', vhdx_seed(t('data.vhdx')))
        write('vhdx', 'differencing-parent-locator', with_parent(t('d.vhdx')))
        ignore = bytearray(vhdx_seed(t('data.vhdx')))
        ignore[0] = 1
        write('vhdx', 'qemu-data-ignore-checksums', bytes(ignore))

        layout = ('label: gpt\n'
                  'start=2048, size=2048, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI"\n'
                  'start=4096, size=8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"\n'
                  'type=CA7D7CCB-63ED-4C53-861C-1742536059CC, name="crypt"\n')
        with open(t('gpt.img'), 'wb') as f:
            f.truncate(64 * MIB)
        run('sfdisk', '-q', t('gpt.img'), stdin=layout.encode())
        write('gpt', 'sfdisk-gpt-512', gpt_seed(t('gpt.img'), 512))
        write('gpt', 'sfdisk-gpt-512-ignore-checksums', gpt_seed(t('gpt.img'), 512, 1))
        with open(t('mbr.img'), 'wb') as f:
            f.truncate(64 * MIB)
        run('sfdisk', '-q', t('mbr.img'),
            stdin=b'label: dos\nstart=2048, size=61440, type=83, bootable\ntype=82\n')
        write('gpt', 'sfdisk-dos', gpt_seed(t('mbr.img'), 512))
        for v in ('luks1', 'luks2'):
            img = t(v + '.img')
            with open(img, 'wb') as f:
                f.truncate(32 * MIB)
            args = ['cryptsetup', 'luksFormat', '-q', '--type', v,
                    '--pbkdf-force-iterations', '1000', img, '-']
            if v == 'luks2':
                args[5:5] = ['--pbkdf', 'pbkdf2', '--label', 'seed']
            run(*args, stdin=b'pw')
            control = bytes([0, 0]) + bytes(6) + struct.pack('<Q', 65536)
            write('gpt', 'cryptsetup-' + v, control + read_at(img, 0, 4096))
    return 0


if __name__ == '__main__':
    sys.exit(main())
