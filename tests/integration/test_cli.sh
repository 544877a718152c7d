#!/bin/bash
# The command line contract (docs/exit-codes.md): --version and help; usage errors exit 2 with
# one stderr line "cvmrestore: ..."; --json prints exactly one JSON document; an existing output
# is kept unless --force; SIGINT during convert exits 130 and leaves neither OUT nor
# OUT.partial; a missing file is an I/O error (4); a malformed image is exit 3.
set -euo pipefail
: "${CVMRESTORE:?set CVMRESTORE to the cvmrestore binary}"
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"

rp_tmpdir
T=$RP_TMP
MIB=1048576
C=$CVMRESTORE

# --version and help --------------------------------------------------------------------------
expect_exit 0 "$C" --version
grep -Eq '[0-9]+\.[0-9]+' "$RP_OUT" || fail "--version prints no version: $(cat "$RP_OUT")"

expect_exit 0 "$C" --help
for cmd in inspect convert seal verify; do
	grep -q -- "$cmd" "$RP_OUT" || fail "--help does not list '$cmd'"
done

# help_has COMMAND OPTION...: `help COMMAND` and `COMMAND --help` both name every OPTION
help_has()
{
	local cmd=$1 opt
	shift
	expect_exit 0 "$C" help "$cmd"
	cp "$RP_OUT" "$T/help1"
	expect_exit 0 "$C" "$cmd" --help
	cp "$RP_OUT" "$T/help2"
	for opt in "$@"; do
		grep -q -e "$opt" "$T/help1" || fail "'help $cmd' does not mention $opt"
		grep -q -e "$opt" "$T/help2" || fail "'$cmd --help' does not mention $opt"
	done
}
help_has inspect --parent --ignore-checksums --json
help_has convert --to --parent --ignore-checksums --force --threads
help_has seal '-o\b' --chunk-size --digests --parent --ignore-checksums
help_has verify --seal --parent --ignore-checksums --threads --json

# a small input: 4 MiB with data in MiB 0 and 2, and a fixed VHD of it
it_make_raw "$T/in.raw" $((4 * MIB)) 0 2
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$T/in.raw" "$T/in.vhd"
IN=$T/in.raw

# usage errors: exit 2, one stderr line, no output file --------------------------------------
usage_error()
{
	it_expect_error 2 "$@"
	[ ! -e "$T/o.raw" ] && [ ! -e "$T/o.raw.partial" ] && [ ! -e "$T/s.json" ] ||
		fail "usage error left an output behind: $*"
}
rc=0
"$C" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "no command: exit $rc, want 2"
usage_error "$C" frobnicate "$IN"
usage_error "$C" help frobnicate
usage_error "$C" inspect --bogus "$IN"
usage_error "$C" convert "$IN" "$T/o.raw" --to raw --bogus
usage_error "$C" inspect
usage_error "$C" convert "$IN"
usage_error "$C" convert "$IN" "$T/o.raw" --to
usage_error "$C" convert "$IN" "$T/o.raw" --to qcow2
usage_error "$C" convert "$IN" "$T/o.raw" --to raw --threads 0
usage_error "$C" convert "$IN" "$T/o.raw" --to raw --threads many
usage_error "$C" seal "$IN"
usage_error "$C" seal "$IN" -o "$T/s.json" --chunk-size 12Q
usage_error "$C" seal "$IN" -o "$T/s.json" --chunk-size ''
usage_error "$C" seal "$IN" -o "$T/s.json" --digests sha256,crc99
usage_error "$C" verify
usage_error "$C" verify "$IN" --threads 0
usage_error "$C" verify "$IN" --seal

# --json: exactly one JSON document on stdout -------------------------------------------------
expect_exit 0 "$C" inspect "$T/in.vhd" --json
it_json_only "$RP_OUT"
expect_exit 0 "$C" seal "$T/in.vhd" -o "$T/s.json" --chunk-size 1M
it_json_only "$T/s.json"
expect_exit 0 "$C" verify "$T/in.vhd" --seal "$T/s.json" --json
it_json_only "$RP_OUT"
v=$(json_get "$RP_OUT" "(d['verdict'], d['disks'][0]['chunk_size'], d['disks'][0]['chunks_total'], d['disks'][0]['mismatches'])")
[ "$v" = "[\"pass\", $MIB, 4, []]" ] || fail "verify --json (pass) says $v"
expect_exit 0 "$C" verify "$T/in.vhd" --json
it_json_only "$RP_OUT"
cp "$T/in.raw" "$T/bad.raw"
it_flip_byte "$T/bad.raw" $((3 * MIB + 100))
expect_exit 1 "$C" verify "$T/bad.raw" --seal "$T/s.json" --json
it_json_only "$RP_OUT"
v=$(json_get "$RP_OUT" "(d['verdict'], [m['index'] for m in d['disks'][0]['mismatches']])")
[ "$v" = '["fail", [3]]' ] || fail "verify --json (fail) says $v"
rm -f "$T/s.json" "$T/bad.raw"

# an existing OUT is refused without --force and replaced with it ------------------------------
echo precious >"$T/o.raw"
it_expect_error 2 "$C" convert "$T/in.vhd" "$T/o.raw" --to raw
[ "$(cat "$T/o.raw")" = precious ] || fail "convert changed an existing OUT without --force"
[ ! -e "$T/o.raw.partial" ] || fail "refused convert left o.raw.partial"
expect_exit 0 "$C" convert "$T/in.vhd" "$T/o.raw" --to raw --force
cmp -s "$T/o.raw" "$T/in.raw" || fail "convert --force did not replace OUT with the disk"
rm -f "$T/o.raw"

# missing files are I/O errors (4) -------------------------------------------------------------
it_expect_error 4 "$C" inspect "$T/missing.vhd"
it_expect_error 4 "$C" convert "$T/missing.vhd" "$T/o.raw" --to raw
[ ! -e "$T/o.raw" ] && [ ! -e "$T/o.raw.partial" ] || fail "failed convert left an output"
it_expect_error 4 "$C" verify "$T/in.raw" --seal "$T/missing.json"
it_expect_error 4 "$C" convert "$T/in.raw" "$T/no/such/dir/o.raw" --to raw

# a malformed image is exit 3: a dynamic VHD whose dynamic header cookie is broken
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$T/in.raw" "$T/dyn.vhd"
printf 'xxxxxxxx' | dd of="$T/dyn.vhd" bs=1 seek=512 conv=notrunc status=none
it_expect_error 3 "$C" convert "$T/dyn.vhd" "$T/o.raw" --to raw
[ ! -e "$T/o.raw" ] && [ ! -e "$T/o.raw.partial" ] || fail "failed convert left an output"

# SIGINT during convert: exit 130, no OUT, no OUT.partial --------------------------------------
# 1.5 GiB of random data takes seconds to convert. Background jobs of a non-interactive shell
# start with SIGINT ignored, so start the tool through a wrapper that restores the default.
head -c $((1536 * MIB)) /dev/urandom >"$T/big.raw"
/usr/bin/python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$C" convert "$T/big.raw" "$T/big.vhd" --to vhd \
	>"$RP_OUT" 2>"$RP_ERR" &
pid=$!
for _ in $(seq 200); do
	[ -e "$T/big.vhd.partial" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
[ -e "$T/big.vhd.partial" ] || fail "convert of 1.5 GiB made no big.vhd.partial in 10 s"
kill -0 "$pid" 2>/dev/null || fail "convert of 1.5 GiB ended before SIGINT; test is void"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 130 ] || fail "convert after SIGINT exited $rc, want 130 ($(cat "$RP_ERR"))"
[ ! -e "$T/big.vhd" ] || fail "SIGINT left big.vhd"
[ ! -e "$T/big.vhd.partial" ] || fail "SIGINT left big.vhd.partial"

# --no-sync writes the same bytes (only the flush differs) --------------------------------------
# one output at a time beside big.raw (3 GiB on disk at most, not 4.5)
"$C" convert "$T/big.raw" "$T/sync.vhd" --to vhd -q
cmp -n $((1536 * MIB)) "$T/sync.vhd" "$T/big.raw" || fail "convert of big.raw changed the data"
rm -f "$T/sync.vhd"
"$C" convert "$T/big.raw" "$T/nosync.vhd" --to vhd -q --no-sync
cmp -n $((1536 * MIB)) "$T/nosync.vhd" "$T/big.raw" || fail "--no-sync changed the data"
[ "$(file_size "$T/nosync.vhd")" = $((1536 * MIB + 512)) ] || fail "--no-sync: size"
rm -f "$T/big.raw" "$T/nosync.vhd"

echo "ok: test_cli"
