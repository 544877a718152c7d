#!/bin/bash
# make_gpt_luks_disk.sh OUT [gpt|mbr]
#
# Writes OUT, a 64 MiB raw disk image, and OUT.passphrase, the LUKS passphrase (a test value).
#   gpt (default): a GPT made by sfdisk with
#     1: EFI system partition   1 MiB .. 9 MiB,  name "EFI System", first 1 MiB random
#     2: Linux filesystem       9 MiB .. 25 MiB, name "root",       first 1 MiB random
#     3: Linux LUKS            25 MiB .. end,    name "crypt",      a LUKS2 volume
#        (label "rp-test", pbkdf2 with 1000 iterations so that opening it is fast)
#   mbr: the same three partitions in an MBR (types ef, 83, e8) with a LUKS1 volume in 3.
# The LUKS volume is formatted by cryptsetup on a separate file of the partition's size and
# copied in at the partition's offset (no loop device, root or device-mapper needed).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 OUT [gpt|mbr]" >&2
	exit 2
fi
out=$1
kind=${2:-gpt}
MIB=1048576

work=$(mktemp -d "${TMPDIR:-/tmp}/rp-gptluks.XXXXXX")
trap 'rm -rf "$work"' EXIT

rm -f "$out"
truncate -s $((64 * MIB)) "$out"
case "$kind" in
gpt)
	sfdisk --no-reread --no-tell-kernel -q "$out" <<-'EOF'
	label: gpt
	unit: sectors
	first-lba: 2048
	start=2048, size=16384, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System"
	start=18432, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
	start=51200, type=CA7D7CCB-63ED-4C53-861C-1742536059CC, name="crypt"
	EOF
	luks_type=luks2
	;;
mbr)
	sfdisk --no-reread --no-tell-kernel -q "$out" <<-'EOF'
	label: dos
	unit: sectors
	start=2048, size=16384, type=ef
	start=18432, size=32768, type=83
	start=51200, type=e8
	EOF
	luks_type=luks1
	;;
*)
	echo "$0: unknown kind '$kind' (gpt or mbr)" >&2
	exit 2
	;;
esac

# the partitions as sfdisk placed them: "start size" in 512-byte sectors, one line each
mapfile -t parts < <(sfdisk --json "$out" | /usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    print(p["start"], p["size"])')
[ "${#parts[@]}" = 3 ] || {
	echo "$0: sfdisk made ${#parts[@]} partitions, want 3" >&2
	exit 1
}

# random contents at the start of partitions 1 and 2
for i in 0 1; do
	read -r start _ <<<"${parts[$i]}"
	head -c $MIB /dev/urandom |
		dd of="$out" bs=64K seek=$((start * 512)) oflag=seek_bytes conv=notrunc status=none
done

# the LUKS volume, formatted on its own file and copied in
read -r start size <<<"${parts[2]}"
printf 'rp-test-passphrase' >"$out.passphrase"
truncate -s $((size * 512)) "$work/luks.img"
if [ "$luks_type" = luks2 ]; then
	cryptsetup luksFormat --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 -q \
		--label rp-test --key-file "$out.passphrase" "$work/luks.img"
else
	cryptsetup luksFormat --type luks1 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 -q \
		--key-file "$out.passphrase" "$work/luks.img"
fi
dd if="$work/luks.img" of="$out" bs=64K seek=$((start * 512)) oflag=seek_bytes \
	conv=notrunc,sparse status=none
