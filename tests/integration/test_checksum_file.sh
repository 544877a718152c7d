#!/bin/bash
# --checksum-file (docs/report.md "Checksum files"): restore (from a URL on a local nginx, from a
# local copy, every blob of a recovery point), convert and verify write a file that the real
# `sha256sum -c` and `md5sum -c` accept for the file as written (a VHD's footer included), with
# names holding spaces and a backslash; after one byte of the file changes both checks fail.
# The file is replaced atomically (no temporary left beside it; a link at its name is refused).
# A URL or a bad list is a usage error. The report names the seal (path redacted, SHA-256 of its bytes), the host, the OS and
# the libraries (the same as --version --json).
set -euo pipefail
: "${CVMRESTORE:?set CVMRESTORE to the cvmrestore binary}"
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"

rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"
T=$RP_TMP
C=$CVMRESTORE
D="$T/dir with spaces"
mkdir -p "$D" "$T/www"

# sums_ok DIR FILE NAME...: in DIR, sha256sum -c and md5sum -c FILE exit 0 and say "NAME: OK" for
# each NAME (md5sum only when FILE has MD5 lines).
sums_ok()
{
	local dir=$1 file=$2 tool n
	shift 2
	for tool in sha256sum md5sum; do
		[ "$tool" = md5sum ] && ! grep -q '^\\\?MD5 (' "$dir/$file" && continue
		(cd "$dir" && "$tool" -c "$file") >"$T/c.out" 2>"$T/c.err" ||
			fail "$tool -c $file failed: $(cat "$T/c.out" "$T/c.err")"
		for n in "$@"; do
			grep -qxF "$n: OK" "$T/c.out" || fail "$tool -c $file: no '$n: OK' in $(cat "$T/c.out")"
		done
	done
}

# sums_fail DIR FILE NAME: both checks exit 1 and say "NAME: FAILED".
sums_fail()
{
	local tool rc
	for tool in sha256sum md5sum; do
		rc=0
		(cd "$1" && "$tool" -c "$2") >"$T/c.out" 2>"$T/c.err" || rc=$?
		[ "$rc" = 1 ] || fail "$tool -c $2 after a change: exit $rc, expected 1"
		grep -qxF "$3: FAILED" "$T/c.out" || fail "$tool -c $2: no '$3: FAILED' in $(cat "$T/c.out")"
	done
}

no_temporaries()
{
	[ -z "$(find "$1" -name '*.tmp*')" ] || fail "temporary files left in $1: $(ls -a "$1")"
}

it_make_raw "$T/src.raw" 12582912 0 5 11
"$C" seal -q "$T/src.raw" -o "$T/seal.json" || fail "seal"

# convert: the VHD as written (its footer too), two algorithms, one file.
expect_exit 0 "$C" convert -q "$T/src.raw" "$D/my disk.vhd" --checksum-file "$D/my disk.sums" \
	--checksum-algs sha256,md5
[ "$(file_size "$D/my disk.vhd")" = $((12582912 + 512)) ] || fail "the VHD has no footer"
[ "$(wc -l <"$D/my disk.sums")" = 2 ] || fail "expected two lines: $(cat "$D/my disk.sums")"
grep -qxF "SHA256 (my disk.vhd) = $(sha256sum "$D/my disk.vhd" | cut -c1-64)" "$D/my disk.sums" ||
	fail "the SHA-256 line is not sha256sum's: $(cat "$D/my disk.sums")"
sums_ok "$D" "my disk.sums" "my disk.vhd"
no_temporaries "$D"
pass "convert: sha256sum -c and md5sum -c accept the file, footer included"

# The same name again replaces the file (atomically); a checksum file elsewhere names the path.
expect_exit 0 "$C" convert -q -f "$T/src.raw" "$D/my disk.vhd" --checksum-file "$D/my disk.sums"
[ "$(wc -l <"$D/my disk.sums")" = 1 ] || fail "sha256 only by default"
expect_exit 0 "$C" convert -q "$T/src.raw" "$T/a\\b.raw" --to raw --checksum-file "$T/elsewhere.sha256"
mkdir -p "$T/sub"
(cd "$T" && "$C" convert -q src.raw "sub/x y.raw" --to raw --checksum-file "x y.sha256") ||
	fail "convert into sub/"
grep -qF "(sub/x y.raw)" "$T/x y.sha256" || fail "a file in another folder is named by its path: $(cat "$T/x y.sha256")"
sums_ok "$T" "x y.sha256" "sub/x y.raw"
sums_ok "$T" elsewhere.sha256 'a\b.raw'
no_temporaries "$T/sub"
pass "replaced in place; a name with a backslash and a path to another folder check"

# A changed byte: both checks fail.
expect_exit 0 "$C" convert -q -f "$T/src.raw" "$D/my disk.vhd" --checksum-file "$D/my disk.sums" \
	--checksum-algs md5,sha256
cp "$D/my disk.vhd" "$T/keep.vhd"
printf 'Z' | dd of="$D/my disk.vhd" bs=1 seek=5242890 conv=notrunc status=none
sums_fail "$D" "my disk.sums" "my disk.vhd"
cp "$T/keep.vhd" "$D/my disk.vhd"
sums_ok "$D" "my disk.sums" "my disk.vhd"
pass "one byte changed: sha256sum -c and md5sum -c exit 1 (FAILED)"

# verify: the image file as verified; the report's seal, host, OS and libraries.
expect_exit 0 "$C" verify "$D/my disk.vhd" --seal "$T/seal.json" --json \
	--checksum-file "$D/verified.sums" --checksum-algs sha256,md5,sha1
cp "$RP_OUT" "$T/report.json"
sums_ok "$D" verified.sums "my disk.vhd"
grep -qxF "SHA1 (my disk.vhd) = $(sha1sum "$D/my disk.vhd" | cut -c1-40)" "$D/verified.sums" ||
	fail "no SHA1 line"
SEALSHA=$(sha256sum "$T/seal.json" | cut -c1-64)
json_check "$T/report.json" "d['seal'] == {'path': '$T/seal.json', 'sha256': '$SEALSHA', 'from': 'file'}" "report: the seal"
json_check "$T/report.json" "d['host']['name'] == '$(hostname)' and d['host']['os']['sysname'] == '$(uname -s)' and d['host']['os']['release'] == '$(uname -r)' and d['host']['os']['machine'] == '$(uname -m)'" \
	"report: host and OS"
"$C" --version --json >"$T/version.json"
"$PY" -c 'import json, sys
r = json.load(open(sys.argv[1])); v = json.load(open(sys.argv[2]))
sys.exit(0 if r["libraries"] == v["libraries"] and "jansson" in r["libraries"] else 1)' \
	"$T/report.json" "$T/version.json" || fail "the report's libraries are not those of --version --json"
pass "verify: checksum of the image; the report names and hashes the seal, host, OS, libraries"

# restore from a local copy and from a URL (nginx); the --report names the seal too.
expect_exit 0 "$C" restore -q "$D/my disk.vhd" -o "$D/restored copy.vhd" --seal "$T/seal.json" \
	--checksum-file "$D/restored.sums"
sums_ok "$D" restored.sums "restored copy.vhd"
cp "$D/my disk.vhd" "$T/www/disk.vhd"
nginx_start "$T/www"
expect_exit 0 "$C" restore --cacert "$RP_CACERT" "$NGINX_URL/disk.vhd?sig=SECRETsig" -q \
	-o "$D/from url.vhd" --seal "$T/seal.json" --checksum-file "$D/url.sums" --checksum-algs md5,sha256 \
	--report "$T/url-report.json"
sums_ok "$D" url.sums "from url.vhd"
cmp "$D/from url.vhd" "$D/my disk.vhd" || fail "the URL restore differs"
json_check "$T/url-report.json" "d['seal']['sha256'] == '$SEALSHA' and d['command'] == 'restore' and d['host']['name'] == '$(hostname)'" \
	"restore --report: seal and host"
grep -q SECRETsig "$T/url-report.json" "$D/url.sums" && fail "the SAS reached an output"
printf 'Z' | dd of="$D/from url.vhd" bs=1 seek=100 conv=notrunc status=none
sums_fail "$D" url.sums "from url.vhd"
pass "restore from a copy and from nginx: checked by sha256sum -c and md5sum -c; a change fails"

# Every blob of a recovery point into one checksum file beside them.
cp -r "$RP_SOURCE_DIR/testdata/sample-rp" "$T/rp"
expect_exit 0 "$C" restore "$T/rp/recovery-point.json" --all --out-dir "$T/all" -q \
	--checksum-file "$T/all/SHA256SUMS"
[ "$(wc -l <"$T/all/SHA256SUMS")" = 3 ] || fail "expected 3 lines: $(cat "$T/all/SHA256SUMS")"
sums_ok "$T/all" SHA256SUMS osdisk.vhd guest_state.blob vm_metadata.blob
# With a descriptor's seal the report names the descriptor.
expect_exit 0 "$C" verify "$T/rp/recovery-point.json" --json
json_check "$RP_OUT" "d['seal']['from'] == 'descriptor' and d['seal']['path'] == '$T/rp/recovery-point.json' and d['seal']['sha256'] == '$(sha256sum "$T/rp/recovery-point.json" | cut -c1-64)'" \
	"verify of a descriptor: its seal"
pass "restore --all: one line per file written; a descriptor's seal is named and hashed"

# Usage errors.
expect_exit 2 "$C" verify "https://127.0.0.1:1/x.vhd" --checksum-file "$T/u.sums"
expect_one_error_line "cvmrestore: verify: --checksum-file is for a local image"
expect_exit 2 "$C" convert -q "$T/src.raw" "$T/n.vhd" --checksum-file "$T/n.sums" --checksum-algs sha256,crc32
expect_stderr_has "--checksum-algs: unknown checksum 'crc32'"
[ ! -e "$T/n.vhd" ] || fail "convert ran despite the usage error"
expect_exit 2 "$C" restore -q "$T/src.raw" -o "$T/n.raw" --checksum-file "$T/n.sums" --checksum-algs ,
expect_stderr_has "--checksum-algs takes a list of sha256, md5, sha1"
pass "a URL to verify, an unknown or empty list: exit 2"

# A link planted at FILE is refused (exit 4), and its target is not created.
ln -s "$T/planted" "$T/link.sums"
expect_exit 4 "$C" convert -q "$T/src.raw" "$T/l.raw" --to raw --checksum-file "$T/link.sums"
expect_stderr_has "--checksum-file '$T/link.sums'"
expect_stderr_has "symbolic link"
[ ! -e "$T/planted" ] || fail "the checksum file was written through a link"
pass "a link at the checksum file: exit 4, nothing written through it"
