#!/bin/bash
# make-sample.sh CVMRESTORE [OUTDIR]
#
# Makes the demo's sample recovery point in OUTDIR (default: this script's directory):
#   os-disk.vhd        a DYNAMIC VHD of a 48 MiB GPT disk:
#                        1: EFI system partition, 1 MiB .. 46 MiB, "files" of random data at
#                           its start (no file system tools are needed to make it)
#                        2: Linux LUKS partition, 46 MiB .. ~48 MiB, a LUKS2 volume (label
#                           rp-sample, pbkdf2 with 1000 iterations, 16 KiB metadata and 512 KiB
#                           keyslot areas so the header stays small) with random "ciphertext"
#                      Only the first and the last 2 MiB VHD blocks hold data, so the file stays
#                      near 4 MiB.
#   os-disk.seal.json  its seal (sha256, md5 and sha1 of the virtual disk, chunk digests), made
#                      by CVMRESTORE and checked by `cvmrestore verify --seal` at once
#   passphrase.txt     the LUKS passphrase (a test value, not a secret)
# The LUKS volume is formatted on a separate file and copied in (no device-mapper needed).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 CVMRESTORE [OUTDIR]" >&2
	exit 2
fi
cvmrestore=$(realpath "$1")
out=$(realpath "${2:-$(dirname "$0")}")
MIB=1048576
LUKS_UUID=5a3c1e0d-7b2f-4c4e-9d6a-0c5e8f1a2b3c

work=$(mktemp -d "${TMPDIR:-/tmp}/rp-sample.XXXXXX")
trap 'rm -rf "$work"' EXIT
disk=$work/disk.raw

truncate -s $((48 * MIB)) "$disk"
# the LUKS partition's size keeps its data area (after the 1 MiB header) a multiple of 4096
sfdisk --no-reread --no-tell-kernel -q "$disk" <<'EOF'
label: gpt
unit: sectors
first-lba: 2048
start=2048, size=92160, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System"
start=94208, size=4056, type=CA7D7CCB-63ED-4C53-861C-1742536059CC, name="cryptroot"
EOF

# EFI partition: three "files" of random data, 4 KiB aligned, in its first MiB
off=$MIB
for len in 131072 53248 307200; do
	head -c "$len" /dev/urandom |
		dd of="$disk" bs=64K seek="$off" oflag=seek_bytes conv=notrunc status=none
	off=$((off + len))
done

# LUKS2 partition
printf 'rp-sample-passphrase' >"$work/passphrase.txt"
luks_off=$((94208 * 512))
luks_len=$((4056 * 512))
truncate -s "$luks_len" "$work/luks.img"
cryptsetup luksFormat --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 -q \
	--luks2-metadata-size 16k --luks2-keyslots-size 512k --sector-size 4096 \
	--label rp-sample --uuid "$LUKS_UUID" --key-file "$work/passphrase.txt" "$work/luks.img" \
	>"$work/luksformat.err" 2>&1 || {
	cat "$work/luksformat.err" >&2
	exit 1
}
data_off=$(cryptsetup luksDump "$work/luks.img" |
	awk '/^Data segments:/ { s = 1 } s && $1 == "offset:" { print $2; exit }')
# random "ciphertext" in the first 512 KiB of the data area
head -c 524288 /dev/urandom |
	dd of="$work/luks.img" bs=64K seek="$data_off" oflag=seek_bytes conv=notrunc status=none
dd if="$work/luks.img" of="$disk" bs=64K seek="$luks_off" oflag=seek_bytes conv=notrunc,sparse \
	status=none

# the volume in place opens with the passphrase (checked by cryptsetup without activating)
dd if="$disk" of="$work/p2.img" bs=64K skip="$luks_off" count="$luks_len" \
	iflag=skip_bytes,count_bytes status=none
cryptsetup open --test-passphrase --key-file "$work/passphrase.txt" "$work/p2.img"

# the dynamic VHD (qemu-img allocates only blocks that hold non-zero data)
rm -f "$out/os-disk.vhd" "$out/os-disk.seal.json"
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$disk" "$out/os-disk.vhd"
cp "$work/passphrase.txt" "$out/passphrase.txt"
size=$(stat -c %s "$out/os-disk.vhd")
if [ "$size" -gt $((4 * MIB + 64 * 1024)) ]; then
	echo "$0: os-disk.vhd is $size bytes, more than 4 MiB + 64 KiB" >&2
	exit 1
fi

# seal it (relative names, so that no path of this machine lands in the seal) and check it
cd "$out"
"$cvmrestore" seal os-disk.vhd -o os-disk.seal.json --digests sha256,md5,sha1 >/dev/null
"$cvmrestore" verify os-disk.vhd --seal os-disk.seal.json >/dev/null
# the seal's sha256 must be OpenSSL's over the virtual disk's bytes
want=$(openssl dgst -sha256 -r "$disk" | cut -d' ' -f1)
got=$(/usr/bin/python3 -c '
import json
print(json.load(open("os-disk.seal.json"))["digests"]["sha256"])')
if [ "$got" != "$want" ]; then
	echo "$0: the seal says sha256 $got, openssl says $want" >&2
	exit 1
fi
"$(dirname "$(realpath "$0")")/make-keys.sh" "$out"
echo "made $out/os-disk.vhd ($size bytes), os-disk.seal.json, passphrase.txt, kek.pem," \
	"luks-passphrase.wrapped"
