#!/bin/bash
# `cvmrestore luks` against volumes cryptsetup makes (tests/gen/make_luks_images.sh): LUKS1 and
# LUKS2 in partition 2 of a GPT disk, as raw, dynamic VHD and VHDX (qemu-img), fixed VHD (our
# convert) and a differencing VHD chain; each is found (partition, offset, UUID as sfdisk and
# cryptsetup say) and opened by its passphrase. Then: a binary key file (keyslot 1), passphrase-file newline handling
# checked against cryptsetup, wrong passphrases, volume keys (right, wrong, wrong size), an
# argon2id volume, a detached header (ADE), corrupted headers, a cipher the userspace crypto
# lacks, usage errors. The temporary header copies are gone afterwards ($TMPDIR stays empty),
# the header file is not written, and no passphrase or key appears in any output (plain, hex,
# base64).
set -euo pipefail
: "${CVMRESTORE:?set CVMRESTORE to the cvmrestore binary}"
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"

rp_tmpdir
T=$RP_TMP
G=$T/gen
LOG=$T/all-output.log
mkdir -p "$G" "$T/tmpdir"
bash "$RP_SOURCE_DIR/tests/gen/make_luks_images.sh" "$G"

# every run of cvmrestore uses an empty private TMPDIR, and its output is kept for the secret
# search at the end
export TMPDIR=$T/tmpdir

# L CODE ARGS...: run `cvmrestore luks ARGS`, expect CODE, log the output, check TMPDIR is empty
L()
{
	local code=$1
	shift
	expect_exit "$code" "$CVMRESTORE" luks "$@"
	{
		echo "== luks $*"
		cat "$RP_OUT" "$RP_ERR"
	} >>"$LOG"
	[ -z "$(ls -A "$TMPDIR")" ] || fail "luks $*: left files in TMPDIR: $(ls -A "$TMPDIR")"
}

# jcheck EXPR MSG: check the JSON on stdout of the last run
jcheck()
{
	it_json_only "$RP_OUT"
	json_check "$RP_OUT" "($1)" "$2"
}

part2_offset()
{
	json_get "$G/$1.sfdisk.json" "d['partitiontable']['partitions'][1]['start'] * 512"
}

# uuid_of DISK: cryptsetup's UUID of partition 2
uuid_of()
{
	local start size
	read -r start size < <(json_get "$G/$1.sfdisk.json" \
		"'%d %d' % (lambda p: (p['start'], p['size']))(d['partitiontable']['partitions'][1])")
	dd if="$G/$1.raw" of="$T/p2.img" bs=512 skip="$start" count="$size" conv=sparse status=none
	cryptsetup luksUUID "$T/p2.img"
}

note "LUKS1 and LUKS2 in GPT partition 2: raw, dynamic VHD, VHDX, fixed VHD"
for v in 1 2; do
	d=luks$v
	off=$(part2_offset $d)
	uuid=$(uuid_of $d)
	[ -n "$uuid" ] || fail "cryptsetup gives no UUID for $d"
	slots='[0]'
	[ $v = 2 ] && slots='[0, 1]'
	qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$G/$d.raw" "$T/$d-dyn.vhd"
	qemu-img convert -f raw -O vhdx -o subformat=dynamic "$G/$d.raw" "$T/$d.vhdx"
	expect_exit 0 "$CVMRESTORE" convert "$G/$d.raw" "$T/$d-fixed.vhd" --to vhd -q
	for img in "$G/$d.raw" "$T/$d-dyn.vhd" "$T/$d.vhdx" "$T/$d-fixed.vhd"; do
		L 0 "$img" --passphrase-file "$G/$d.pass" --json
		jcheck "d['image'] == '$img' and len(d['volumes']) == 1" "$img: one volume"
		jcheck "d['volumes'][0] == dict(d['volumes'][0], partition=2, offset=$off, version=$v,
			uuid='$uuid', cipher='aes-xts-plain64', key_bits=512, keyslots=$slots,
			opened_keyslot=0, result='opened', detached_header=False)" \
			"$img: the LUKS$v volume in partition 2 at $off, uuid $uuid, opened by slot 0"
		L 0 "$img" --passphrase-file "$G/$d.pass"
		grep -q "partition 2 at offset $off: LUKS$v uuid $uuid" "$RP_OUT" ||
			fail "$img: human report lacks the volume line"
		grep -q "cipher: aes-xts-plain64" "$RP_OUT" || fail "$img: human report lacks the cipher"
		grep -q "key size: 512 bits" "$RP_OUT" || fail "$img: human report lacks the key size"
		grep -q "result: opened by keyslot 0" "$RP_OUT" || fail "$img: no 'opened by keyslot 0'"
	done

	note "LUKS$v: a wrong passphrase names the volume, exit 1"
	printf 'not-the-passphrase' >"$T/wrong.pass"
	L 1 "$T/$d.vhdx" --passphrase-file "$T/wrong.pass"
	expect_one_error_line "cvmrestore: luks: partition 2 (LUKS$v uuid $uuid): no keyslot opens with the passphrase in $T/wrong.pass"
	L 1 "$G/$d.raw" --passphrase-file "$T/wrong.pass" --json
	jcheck "d['volumes'][0]['result'] == 'no-key-opened' and
		d['volumes'][0]['opened_keyslot'] is None" "$d: wrong passphrase is no-key-opened"

	note "LUKS$v: volume key from luksDump: right 0, wrong 1, wrong size 1"
	# uuid_of left partition 2 in $T/p2.img
	cryptsetup luksDump --dump-volume-key --volume-key-file "$T/$d.vk" --batch-mode \
		--key-file "$G/$d.pass" "$T/p2.img" >/dev/null
	L 0 "$T/$d-dyn.vhd" --volume-key-file "$T/$d.vk" --json
	jcheck "d['key'] == 'volume key' and d['volumes'][0]['result'] == 'opened' and
		d['volumes'][0]['opened_keyslot'] is None" "$d: the volume key matches"
	head -c 64 /dev/urandom >"$T/wrong.vk"
	L 1 "$T/$d-dyn.vhd" --volume-key-file "$T/wrong.vk"
	expect_one_error_line "cvmrestore: luks: partition 2 (LUKS$v uuid $uuid): the volume key in $T/wrong.vk does not match the volume's digest"
	head -c 32 "$T/$d.vk" >"$T/short.vk"
	L 1 "$G/$d.raw" --volume-key-file "$T/short.vk"
	expect_stderr_has "has 256 bits, the volume's has 512"
	rm -f "$T/p2.img"
done

note "a differencing VHD whose child holds the LUKS2 header region (--parent)"
"$RP_SOURCE_DIR/tests/gen/make_luks_diff_vhd.py" "$G/luks2.raw" "$(part2_offset luks2)" \
	$((16 * 1048576)) "$T/base.vhd" "$T/child.vhd"
L 3 "$T/base.vhd" --passphrase-file "$G/luks2.pass"
expect_one_error_line "cvmrestore: luks: no LUKS volume in '$T/base.vhd'"
L 0 "$T/child.vhd" --parent "$T/base.vhd" --passphrase-file "$G/luks2.pass" --json
jcheck "d['volumes'][0]['partition'] == 2 and d['volumes'][0]['result'] == 'opened' and
	d['volumes'][0]['uuid'] == '$(uuid_of luks2)'" "the chain's LUKS2 volume opens"
rm -f "$T/p2.img"

note "an MBR disk with LUKS1 in partition 3 (tests/gen/make_gpt_luks_disk.sh)"
bash "$RP_SOURCE_DIR/tests/gen/make_gpt_luks_disk.sh" "$T/mbr.raw" mbr
L 0 "$T/mbr.raw" --key-file "$T/mbr.raw.passphrase" --json
jcheck "[(v['partition'], v['offset'], v['version'], v['result']) for v in d['volumes']] ==
	[(3, 51200 * 512, 1, 'opened')]" "the MBR disk's LUKS1 volume in partition 3 opens"
L 1 "$T/mbr.raw" --key-file "$T/wrong.pass"
rm -f "$T/mbr.raw"

note "key files: binary key file in keyslot 1; passphrase-file newline rules match cryptsetup"
L 0 "$G/luks2.raw" --key-file "$G/luks2.keyfile" --json
jcheck "d['key'] == 'key file' and d['volumes'][0]['opened_keyslot'] == 1" \
	"the binary key file opens keyslot 1"
# the same bytes as a passphrase file: it has two lines, which cryptsetup would cut: refused
L 2 "$G/luks2.raw" --passphrase-file "$G/luks2.keyfile"
expect_one_error_line "cvmrestore: luks: $G/luks2.keyfile: passphrase file has more than one line"
expect_stderr_has "more than one line; use --key-file to use every byte"
# the same hint under verify names verify's option (--luks-key-file), not luks's
expect_exit 2 "$CVMRESTORE" verify "$G/luks2.raw" --luks-passphrase-file "$G/luks2.keyfile"
expect_one_error_line "cvmrestore: verify: LUKS check: $G/luks2.keyfile: passphrase file has more than one line"
expect_stderr_has "more than one line; use --luks-key-file to use every byte"
# a passphrase with a trailing newline: cryptsetup drops it reading stdin and keeps it with
# --key-file; so do --passphrase-file and --key-file
{ cat "$G/luks1.pass"; echo; } >"$T/nl.pass"
dd if="$G/luks1.raw" of="$T/p2.img" bs=512 skip=$(($(part2_offset luks1) / 512)) status=none
cryptsetup open --test-passphrase "$T/p2.img" <"$T/nl.pass" ||
	fail "cryptsetup does not open with the passphrase piped in"
if cryptsetup open --test-passphrase --key-file "$T/nl.pass" "$T/p2.img" 2>/dev/null; then
	fail "cryptsetup --key-file opens with a trailing newline: the test premise is wrong"
fi
rm -f "$T/p2.img"
L 0 "$G/luks1.raw" --passphrase-file "$T/nl.pass"
L 1 "$G/luks1.raw" --key-file "$T/nl.pass"
expect_stderr_has "no keyslot opens with the key file in $T/nl.pass"

note "argon2id LUKS2 on the whole disk"
L 0 "$G/argon2.raw" --passphrase-file "$G/argon2.pass" --json
jcheck "d['volumes'][0]['partition'] is None and d['volumes'][0]['offset'] == 0 and
	d['volumes'][0]['result'] == 'opened'" "argon2id volume opens"
grep -q argon2id < <(cryptsetup luksDump "$G/argon2.raw") || fail "argon2.raw is not argon2id"
L 1 "$G/argon2.raw" --passphrase-file "$T/wrong.pass"
expect_one_error_line "cvmrestore: luks: the whole disk (LUKS2 uuid $(cryptsetup luksUUID "$G/argon2.raw")): no keyslot opens"

note "detached header (ADE's luks/osluksheader)"
hsum=$(it_sha256 "$G/hdr.img")
huuid=$(cryptsetup luksUUID "$G/hdr.img")
L 3 "$G/data.img" --passphrase-file "$G/detached.pass"
expect_one_error_line "cvmrestore: luks: no LUKS volume in '$G/data.img'"
L 0 "$G/data.img" --header "$G/hdr.img" --passphrase-file "$G/detached.pass" --json
jcheck "d['header'] == '$G/hdr.img' and d['volumes'][0]['detached_header'] is True and
	d['volumes'][0]['uuid'] == '$huuid' and d['volumes'][0]['result'] == 'opened'" \
	"the detached header opens"
L 1 "$G/data.img" --header "$G/hdr.img" --passphrase-file "$T/wrong.pass"
expect_one_error_line "cvmrestore: luks: header '$G/hdr.img' (LUKS2 uuid $huuid): no keyslot opens"
# with --partition the report places the volume at that partition
L 0 "$T/luks1.vhdx" --header "$G/hdr.img" --passphrase-file "$G/detached.pass" --partition 2 \
	--json
jcheck "d['volumes'][0]['partition'] == 2 and d['volumes'][0]['offset'] == $(part2_offset luks1)" \
	"--header with --partition 2"
[ "$(it_sha256 "$G/hdr.img")" = "$hsum" ] || fail "the header file was changed"
L 3 "$G/data.img" --header "$G/data.img" --passphrase-file "$G/detached.pass"
expect_one_error_line "cvmrestore: luks: header '$G/data.img': no LUKS header at the start of the file"

note "partitions: --partition N, a partition without LUKS, one that does not exist"
L 0 "$G/luks2.raw" --passphrase-file "$G/luks2.pass" --partition 2
L 3 "$G/luks2.raw" --passphrase-file "$G/luks2.pass" --partition 1
expect_one_error_line "cvmrestore: luks: no LUKS header in partition 1 of '$G/luks2.raw'"
L 3 "$G/luks2.raw" --passphrase-file "$G/luks2.pass" --partition 0
expect_stderr_has "no LUKS header at the start of"
L 2 "$G/luks2.raw" --passphrase-file "$G/luks2.pass" --partition 5
expect_one_error_line "cvmrestore: luks: '$G/luks2.raw' has no partition 5 (it has 2)"

note "corrupted headers"
off2=$(part2_offset luks2)
# LUKS2 primary JSON area damaged: libcryptsetup uses the secondary copy; the report says so
cp "$G/luks2.raw" "$T/c.raw"
it_put_random "$T/c.raw" $((off2 + 4096 + 100)) 64
L 0 "$T/c.raw" --passphrase-file "$G/luks2.pass" --json
jcheck "'secondary copy was used' in d['volumes'][0]['message']" "primary damage is noted"
# both JSON areas damaged: exit 3 with libcryptsetup's reason
it_put_random "$T/c.raw" $((off2 + 16384 + 4096 + 100)) 64
L 3 "$T/c.raw" --passphrase-file "$G/luks2.pass" --json
jcheck "d['volumes'][0]['result'] == 'error'" "both headers damaged is an error"
expect_one_error_line "cvmrestore: luks: partition 2 (LUKS2 uuid $(uuid_of luks2)): libcryptsetup rejects the header"
# keyslot area damaged: the passphrase no longer opens (exit 1); the volume key still matches
cp "$G/luks2.raw" "$T/c.raw"
it_put_random "$T/c.raw" $((off2 + 32768)) 65536
L 1 "$T/c.raw" --passphrase-file "$G/luks2.pass"
expect_stderr_has "no keyslot opens with the passphrase"
L 0 "$T/c.raw" --volume-key-file "$T/luks2.vk"
# LUKS1 phdr: an unsupported hash, and a keyslot whose material overlaps another
off1=$(part2_offset luks1)
cp "$G/luks1.raw" "$T/c.raw"
printf 'nohash\0' | dd of="$T/c.raw" bs=1 seek=$((off1 + 72)) conv=notrunc status=none
L 3 "$T/c.raw" --passphrase-file "$G/luks1.pass"
expect_stderr_has "libcryptsetup rejects the header: Requested LUKS hash nohash is not supported"
cp "$G/luks1.raw" "$T/c.raw"
printf '\0\0\0\x08' | dd of="$T/c.raw" bs=1 seek=$((off1 + 208 + 48 + 40)) conv=notrunc status=none
L 3 "$T/c.raw" --passphrase-file "$G/luks1.pass"
expect_stderr_has "libcryptsetup rejects the header: LUKS keyslot"
# a LUKS1 cipher the userspace backend lacks (serpent: not in OpenSSL, no AF_ALG here): say so
cp "$G/luks1.raw" "$T/c.raw"
printf 'serpent\0' | dd of="$T/c.raw" bs=1 seek=$((off1 + 8)) conv=notrunc status=none
L 3 "$T/c.raw" --passphrase-file "$G/luks1.pass"
expect_stderr_has "kernel crypto API"
expect_stderr_has "device-mapper"
expect_stderr_has "serpent-xts-plain64"

note "no LUKS volume, usage errors, unwritable TMPDIR"
it_make_raw "$T/plain.raw" $((8 * 1048576)) 0 3
L 3 "$T/plain.raw" --passphrase-file "$G/luks1.pass"
expect_one_error_line "cvmrestore: luks: no LUKS volume in '$T/plain.raw'"
L 3 "$T/plain.raw" --passphrase-file "$G/luks1.pass" --json
jcheck "d['volumes'] == [] and d['image'] == '$T/plain.raw'" "--json without volumes"
L 2 "$G/luks1.raw"
expect_stderr_has "give exactly one of --passphrase-file, --key-file, --volume-key-file"
L 2 "$G/luks1.raw" --passphrase-file "$G/luks1.pass" --key-file "$G/luks1.pass"
L 2 "$G/luks1.raw" --passphrase-file "$T/missing.pass"
expect_one_error_line "cvmrestore: luks: $T/missing.pass: cannot open"
: >"$T/empty.pass"
L 2 "$G/luks1.raw" --passphrase-file "$T/empty.pass"
expect_stderr_has "the passphrase is empty"
L 2 "$G/luks1.raw" --passphrase-file "$G/luks1.pass" --partition x
L 2 --passphrase-file "$G/luks1.pass"
head -c 600 /dev/urandom >"$T/big.vk"
L 2 "$G/luks1.raw" --volume-key-file "$T/big.vk"
expect_stderr_has "larger than 512 bytes"
expect_exit 4 env TMPDIR="$T/no-such-dir" "$CVMRESTORE" luks "$G/luks1.raw" \
	--passphrase-file "$G/luks1.pass"
expect_stderr_has "cannot create a temporary file in '$T/no-such-dir'"
cat "$RP_OUT" "$RP_ERR" >>"$LOG"
[ -z "$(ls -A "$TMPDIR")" ] || fail "TMPDIR is not empty at the end: $(ls -A "$TMPDIR")"

note "no passphrase or key appears in any output (plain, hex, base64)"
[ -s "$LOG" ] || fail "the output log is empty"
for f in "$G"/*.pass "$T/mbr.raw.passphrase" "$G/luks2.keyfile" "$T"/luks[12].vk \
	"$T/wrong.pass" "$T/wrong.vk"; do
	/usr/bin/python3 - "$f" "$LOG" <<'PYEOF' || fail "a secret from $f appears in the output"
import base64, sys
secret = open(sys.argv[1], "rb").read().rstrip(b"\n")
log = open(sys.argv[2], "rb").read()
forms = [secret, secret.hex().encode(), secret.hex().upper().encode(), base64.b64encode(secret),
         base64.urlsafe_b64encode(secret).rstrip(b"=")]
# for binary keys also look for any 16-byte piece (a partial leak)
if len(secret) >= 32:
    forms += [secret[i:i + 16] for i in range(0, len(secret) - 16, 8)]
    forms += [secret[i:i + 16].hex().encode() for i in range(0, len(secret) - 16, 8)]
bad = [f for f in forms if f and f in log]
if bad:
    print(f"{sys.argv[1]}: {len(bad)} forms found in the output", file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
done

echo "ok: test_luks"
