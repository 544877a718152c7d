#!/bin/bash
# Make the seed corpus of tests/fuzz/fuzz_luks_span.c: the header regions (first 16 KiB, and the
# 592-byte LUKS1 phdr) of LUKS1 and LUKS2 volumes cryptsetup formats, a LUKS2 secondary header,
# and a LUKS2 header with a 32 KiB JSON area. The passphrase is a fixed test value (weak PBKDF:
# the key is not the point); UUIDs are fixed so that the seeds are stable except for salts.
#
# Usage: tests/fuzz/make_seeds_luks.sh   (writes tests/fuzz/corpus/luks_span/)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/corpus/luks_span
work=$(mktemp -d "${TMPDIR:-/tmp}/rp-lukseeds.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
rm -f "$out"/*
FAST=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000 -q --key-file "$work/pw")
printf 'seed-passphrase' >"$work/pw"

truncate -s 20M "$work/l1.img" "$work/l2.img" "$work/l2big.img"
cryptsetup luksFormat --type luks1 "${FAST[@]}" --uuid 11111111-2222-4333-8444-555555555555 \
	"$work/l1.img"
cryptsetup luksFormat --type luks2 "${FAST[@]}" --uuid 11111111-2222-4333-8444-666666666666 \
	--label seed "$work/l2.img"
cryptsetup luksFormat --type luks2 "${FAST[@]}" --uuid 11111111-2222-4333-8444-777777777777 \
	--luks2-metadata-size 32k "$work/l2big.img"

head -c 592 "$work/l1.img" >"$out/luks1-phdr"
head -c 4096 "$work/l1.img" >"$out/luks1-4k"
head -c 16384 "$work/l2.img" >"$out/luks2-primary"
dd if="$work/l2.img" of="$out/luks2-secondary" bs=16384 skip=1 count=1 status=none
head -c 4096 "$work/l2.img" >"$out/luks2-binary-only"
head -c 32768 "$work/l2big.img" >"$out/luks2-json32k"
