#!/bin/bash
# Make the VHDX test vectors used by tests/unit/test_vhdx.c from images written by qemu-img,
# and the partition table / LUKS vectors used by tests/unit/test_parttable.c from images written
# by sfdisk and cryptsetup. Each vector is one structure cut out of a real image:
#
#   vhdx-qemu-data-*.bin      a 5 MiB dynamic VHDX (block size 1 MiB) converted from 2 MiB of
#                             random data plus 3 MiB of zeros; the file is 10 MiB:
#                             header1/header2 (4 KiB at 64/128 KiB), region1 (64 KiB at 192 KiB),
#                             metadata (first 68 KiB of the region at 3 MiB), bat (4 KiB at 2 MiB)
#   vhdx-qemu-fixed-*.bin     an 8 MiB fixed VHDX (default block size), 16 MiB file: metadata, bat
#   gpt-sfdisk-primary.bin    LBA 0..33 of a 64 MiB disk (131072 sectors) partitioned by sfdisk
#                             (EFI System 1 MiB, Linux filesystem "root", Linux LUKS "crypt")
#   gpt-sfdisk-backup.bin     the last 33 sectors of the same disk (entries, then backup header)
#   mbr-sfdisk.bin            LBA 0 of a 64 MiB disk with a dos label (Linux, Linux swap)
#   luks1-header.bin          the first 4 KiB of a LUKS1 volume (aes-xts-plain64, fixed UUID)
#   luks2-header.bin          the first 4 KiB of a LUKS2 volume (label "rp-test", fixed UUID)
#
# Usage: testdata/make-parser-vectors.sh [outdir]   (default: the directory of this script)
set -euo pipefail

out=${1:-$(cd "$(dirname "$0")" && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cut() { # cut FILE OFFSET LENGTH OUT
	dd if="$1" of="$4" bs=4096 skip=$(($2 / 4096)) count=$(($3 / 4096)) status=none
}

# VHDX: a dynamic image with data, and a fixed one.
head -c $((2 << 20)) /dev/urandom >"$tmp/data.raw"
truncate -s 5M "$tmp/data.raw"
qemu-img convert -q -O vhdx -o subformat=dynamic,block_size=1M "$tmp/data.raw" "$tmp/data.vhdx"
test "$(stat -c %s "$tmp/data.vhdx")" = 10485760
cut "$tmp/data.vhdx" $((64 << 10)) 4096 "$out/vhdx-qemu-data-header1.bin"
cut "$tmp/data.vhdx" $((128 << 10)) 4096 "$out/vhdx-qemu-data-header2.bin"
cut "$tmp/data.vhdx" $((192 << 10)) $((64 << 10)) "$out/vhdx-qemu-data-region1.bin"
cut "$tmp/data.vhdx" $((3 << 20)) $((68 << 10)) "$out/vhdx-qemu-data-metadata.bin"
cut "$tmp/data.vhdx" $((2 << 20)) 4096 "$out/vhdx-qemu-data-bat.bin"
head -c 4096 "$tmp/data.vhdx" >"$out/vhdx-qemu-data-fileid.bin"

qemu-img create -q -f vhdx -o subformat=fixed "$tmp/fixed.vhdx" 8M
test "$(stat -c %s "$tmp/fixed.vhdx")" = 16777216
cut "$tmp/fixed.vhdx" $((3 << 20)) $((68 << 10)) "$out/vhdx-qemu-fixed-metadata.bin"
cut "$tmp/fixed.vhdx" $((2 << 20)) 4096 "$out/vhdx-qemu-fixed-bat.bin"

# GPT and MBR written by sfdisk.
truncate -s 64M "$tmp/gpt.img"
sfdisk -q "$tmp/gpt.img" <<'END'
label: gpt
label-id: 6E1F2B4C-8D3A-4F0E-9B57-1C2D3E4F5A6B
start=2048, size=2048, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI", uuid=11111111-2222-4333-8444-555555555555
start=4096, size=65536, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root", uuid=21111111-2222-4333-8444-555555555555
start=69632, type=CA7D7CCB-63ED-4C53-861C-1742536059CC, name="crypt", uuid=31111111-2222-4333-8444-555555555555
END
dd if="$tmp/gpt.img" of="$out/gpt-sfdisk-primary.bin" bs=512 count=34 status=none
dd if="$tmp/gpt.img" of="$out/gpt-sfdisk-backup.bin" bs=512 skip=$((131072 - 33)) count=33 \
	status=none

truncate -s 64M "$tmp/mbr.img"
sfdisk -q "$tmp/mbr.img" <<'END'
label: dos
label-id: 0x12345678
start=2048, size=61440, type=83, bootable
start=63488, type=82
END
dd if="$tmp/mbr.img" of="$out/mbr-sfdisk.bin" bs=512 count=1 status=none

# LUKS1 and LUKS2 headers written by cryptsetup (weak PBKDF: the key is not the point).
truncate -s 32M "$tmp/l1.img" "$tmp/l2.img"
printf 'pw' | cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 \
	--uuid 0dd672bc-666e-4d3b-add1-283cd925f546 "$tmp/l1.img" -
printf 'pw' | cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 \
	--pbkdf-force-iterations 1000 --label rp-test \
	--uuid d6ea397d-a4e4-46e8-97c9-4e6b89759d7d "$tmp/l2.img" -
head -c 4096 "$tmp/l1.img" >"$out/luks1-header.bin"
head -c 4096 "$tmp/l2.img" >"$out/luks2-header.bin"
