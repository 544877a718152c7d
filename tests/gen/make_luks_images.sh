#!/bin/bash
# make_luks_images.sh OUTDIR
#
# LUKS volumes made by cryptsetup (no loop device, root or device-mapper) for the `luks` tests.
# Every passphrase and key is random, made fresh on each run, so that a test can search its
# output for them. Writes into OUTDIR:
#   luks1.raw, luks2.raw   40 MiB raw disks with a GPT made by sfdisk:
#                            1: EFI system  1 MiB .. 5 MiB (random bytes, no LUKS)
#                            2: Linux LUKS  5 MiB .. end, a LUKS1 / LUKS2 volume
#                          formatted with pbkdf2, 1000 iterations (fast to open), keyslot 0
#                          opened by the passphrase in luks1.pass / luks2.pass (no newline).
#                          luks2.raw also has keyslot 1 opened by luks2.keyfile, 64 random
#                          bytes that contain a newline (a binary key file).
#   argon2.raw             a 20 MiB whole-disk LUKS2 volume (no partition table) with an
#                          argon2id keyslot (32 MiB, 4 iterations, 1 thread); argon2.pass.
#   data.img, hdr.img      a 20 MiB data device and its detached LUKS2 header (luksFormat
#                          --header), as ADE keeps the OS disk's header; detached.pass.
#   *.sfdisk.json          sfdisk --json of the GPT disks.
set -euo pipefail
umask 077

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
out=$1
MIB=1048576
FAST=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/rp-luksimg.XXXXXX")
trap 'rm -rf "$work"' EXIT

# newpass FILE: a random printable passphrase, no newline
newpass()
{
	head -c 24 /dev/urandom | base64 | tr -d '\n/+=' | head -c 28 >"$1"
}

# gpt_disk OUT TYPE: the disk with the volume formatted on its own file and copied into
# partition 2
gpt_disk()
{
	local disk=$1 type=$2 start size
	rm -f "$disk"
	truncate -s $((40 * MIB)) "$disk"
	sfdisk --no-reread --no-tell-kernel -q "$disk" <<-'EOF'
	label: gpt
	unit: sectors
	first-lba: 2048
	start=2048, size=8192, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System"
	start=10240, type=CA7D7CCB-63ED-4C53-861C-1742536059CC, name="crypt"
	EOF
	sfdisk --json "$disk" >"${disk%.raw}.sfdisk.json"
	head -c $((4 * MIB)) /dev/urandom |
		dd of="$disk" bs=64K seek=$((2048 * 512)) oflag=seek_bytes conv=notrunc status=none
	read -r start size < <(/usr/bin/python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["partitiontable"]["partitions"][1]
print(p["start"], p["size"])' "${disk%.raw}.sfdisk.json")
	rm -f "$work/vol.img"
	truncate -s $((size * 512)) "$work/vol.img"
	newpass "${disk%.raw}.pass"
	cryptsetup luksFormat --type "$type" "${FAST[@]}" -q --key-file "${disk%.raw}.pass" \
		"$work/vol.img"
	if [ "$type" = luks2 ]; then
		# a binary key file with a newline in it, in keyslot 1
		{ head -c 20 /dev/urandom; printf '\n'; head -c 43 /dev/urandom; } >"${disk%.raw}.keyfile"
		cryptsetup luksAddKey "${FAST[@]}" -q --key-file "${disk%.raw}.pass" \
			"$work/vol.img" "${disk%.raw}.keyfile"
	fi
	dd if="$work/vol.img" of="$disk" bs=64K seek=$((start * 512)) oflag=seek_bytes \
		conv=notrunc,sparse status=none
}

gpt_disk "$out/luks1.raw" luks1
gpt_disk "$out/luks2.raw" luks2

rm -f "$out/argon2.raw"
truncate -s $((20 * MIB)) "$out/argon2.raw"
newpass "$out/argon2.pass"
cryptsetup luksFormat --type luks2 --pbkdf argon2id --pbkdf-memory 32768 \
	--pbkdf-force-iterations 4 --pbkdf-parallel 1 -q --key-file "$out/argon2.pass" \
	"$out/argon2.raw"

rm -f "$out/data.img" "$out/hdr.img"
truncate -s $((20 * MIB)) "$out/data.img"
head -c $MIB /dev/urandom | dd of="$out/data.img" conv=notrunc status=none
newpass "$out/detached.pass"
cryptsetup luksFormat --type luks2 "${FAST[@]}" -q --key-file "$out/detached.pass" \
	--header "$out/hdr.img" "$out/data.img"
