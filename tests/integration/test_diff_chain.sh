#!/bin/bash
# Differencing VHD chains: base (dynamic) <- diff1 <- diff2, written by tests/gen/make_vhd_chain.py
# with partial sector bitmaps (reads mix child and parent sectors inside a block, and clear
# bits cover garbage). cvmrestore must reproduce the expected virtual disk exactly, list the
# chain, and refuse missing, wrong, looping and too deep parent chains with exit 3.
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
GEN=$RP_SOURCE_DIR/tests/gen/make_vhd_chain.py
C=$RP_TMP/chain
MIB=$((1024 * 1024))

note "generating the chain"
"$PY" "$GEN" "$C"
"$PY" "$GEN" "$RP_TMP/other" --levels 0 --seed 2 # an unrelated dynamic VHD (another UUID)
VSIZE=$(file_size "$C/expected.raw")
[ "$VSIZE" = $((20 * MIB)) ] || fail "expected.raw has $VSIZE bytes"

note "libvhdi accepts each file and sees the same parent identifiers"
vhdi_field() { # FILE FIELD: the value vhdiinfo prints for FIELD
	vhdiinfo "$1" >"$RP_TMP/vhdiinfo.out" || fail "vhdiinfo rejects $1"
	sed -n "s/^[[:space:]]*$2[[:space:]]*: //p" "$RP_TMP/vhdiinfo.out"
}
base_id=$(vhdi_field "$C/base.vhd" Identifier)
diff1_id=$(vhdi_field "$C/diff1.vhd" Identifier)
[ -n "$base_id" ] || fail "vhdiinfo prints no identifier for base.vhd"
[ "$(vhdi_field "$C/diff1.vhd" 'Parent identifier')" = "$base_id" ] ||
	fail "diff1's parent identifier is not base's UUID $base_id"
[ "$(vhdi_field "$C/diff2.vhd" 'Parent identifier')" = "$diff1_id" ] ||
	fail "diff2's parent identifier is not diff1's UUID $diff1_id"
[ "$(vhdi_field "$C/diff2.vhd" 'Parent filename')" = diff1.vhd ] ||
	fail "vhdiinfo does not find diff2's parent name"
[ "$(vhdi_field "$C/diff2.vhd" 'Disk type')" = Differential ] || fail "diff2 is not differencing"
# (vhdiinfo takes no parent option and vhdimount needs FUSE, so libvhdi does not read the
# chain's data here; libvhdi 20210425 also misreads partial bitmap bytes.)

PARENTS=(--parent "$C/diff1.vhd" --parent "$C/base.vhd")

note "convert --to raw equals the expected content"
expect_exit 0 "$CVMRESTORE" convert "$C/diff2.vhd" "$RP_TMP/out.raw" "${PARENTS[@]}" --to raw
cmp "$RP_TMP/out.raw" "$C/expected.raw" || fail "convert --to raw differs from expected.raw"

note "convert --to vhd: N MiB + 512, content, fixed footer"
expect_exit 0 "$CVMRESTORE" convert "$C/diff2.vhd" "$RP_TMP/out.vhd" "${PARENTS[@]}" --to vhd
[ "$(file_size "$RP_TMP/out.vhd")" = $((VSIZE + 512)) ] ||
	fail "out.vhd has $(file_size "$RP_TMP/out.vhd") bytes, want $((VSIZE + 512))"
cmp -n "$VSIZE" "$RP_TMP/out.vhd" "$C/expected.raw" || fail "out.vhd content differs"
"$PY" - "$RP_TMP/out.vhd" "$VSIZE" <<'EOF' || fail "out.vhd footer is wrong"
import struct, sys
f = open(sys.argv[1], "rb")
f.seek(-512, 2)
ft = f.read(512)
size = int(sys.argv[2])
assert ft[:8] == b"conectix", "cookie"
assert struct.unpack_from(">I", ft, 60)[0] == 2, "disk type"
assert struct.unpack_from(">Q", ft, 48)[0] == size, "current size"
assert struct.unpack_from(">Q", ft, 16)[0] == 2**64 - 1, "data offset"
s = (~(sum(ft) - sum(ft[64:68]))) & 0xFFFFFFFF
assert struct.unpack_from(">I", ft, 64)[0] == s, "checksum"
EOF
[ "$(vhdi_field "$RP_TMP/out.vhd" 'Disk type')" = Fixed ] || fail "vhdiinfo: out.vhd is not fixed"

note "diff1 alone (one parent) reads through"
expect_exit 0 "$CVMRESTORE" convert "$C/diff1.vhd" "$RP_TMP/diff1.raw" --parent "$C/base.vhd" \
	--to raw
[ "$(file_size "$RP_TMP/diff1.raw")" = "$VSIZE" ] || fail "diff1.raw has the wrong size"
if cmp -s "$RP_TMP/diff1.raw" "$C/expected.raw"; then
	fail "diff1 reads the same as diff2: the chain generator overrides nothing"
fi

note "inspect --json lists the parent chain"
expect_exit 0 "$CVMRESTORE" inspect "$C/diff2.vhd" "${PARENTS[@]}" --json
cp "$RP_OUT" "$RP_TMP/inspect.json"
json_check "$RP_TMP/inspect.json" 'd["format"] == "vhd-differencing"' "format is not vhd-differencing"
json_check "$RP_TMP/inspect.json" 'd["readable"] is True' "diff2 is not readable"
json_check "$RP_TMP/inspect.json" "d['virtual_size'] == $VSIZE" "virtual_size is wrong"
json_check "$RP_TMP/inspect.json" 'isinstance(d["parents"], list) and len(d["parents"]) == 2' \
	"parents does not list two images"
json_check "$RP_TMP/inspect.json" \
	'"diff1.vhd" in json.dumps(d["parents"][0]) and "base.vhd" in json.dumps(d["parents"][1])' \
	"parents are not diff1 then base"
json_check "$RP_TMP/inspect.json" "'$diff1_id' in json.dumps(d).lower()" \
	"inspect does not show diff1's UUID (the parent UUID) anywhere"

no_output() { # DIR: convert left nothing behind
	[ -z "$(ls -A "$1")" ] || fail "convert left files behind: $(ls -A "$1")"
}

note "missing parent: exit 3 naming the parent"
mkdir "$RP_TMP/alone" "$RP_TMP/o"
cp "$C/diff2.vhd" "$RP_TMP/alone/" # no sibling files a locator could lead to
expect_exit 3 "$CVMRESTORE" inspect "$RP_TMP/alone/diff2.vhd"
expect_one_error_line "cvmrestore: inspect: "
expect_stderr_has parent
expect_exit 3 "$CVMRESTORE" convert "$RP_TMP/alone/diff2.vhd" "$RP_TMP/o/x.raw" --to raw
expect_one_error_line "cvmrestore: convert: "
expect_stderr_has parent
no_output "$RP_TMP/o"
# Only the nearest parent given: diff1 then lacks its own.
expect_exit 3 "$CVMRESTORE" convert "$C/diff2.vhd" "$RP_TMP/o/x.raw" --parent "$C/diff1.vhd"
expect_stderr_has parent
no_output "$RP_TMP/o"

note "wrong parent: exit 3 naming the uuid"
expect_exit 3 "$CVMRESTORE" convert "$C/diff1.vhd" "$RP_TMP/o/x.raw" \
	--parent "$RP_TMP/other/base.vhd" --to raw
expect_one_error_line "cvmrestore: convert: "
expect_stderr_has uuid
no_output "$RP_TMP/o"
expect_exit 3 "$CVMRESTORE" inspect "$C/diff2.vhd" --parent "$C/base.vhd" --parent "$C/diff1.vhd"
expect_stderr_has uuid

note "parent loops: exit 3 naming the loop"
expect_exit 3 "$CVMRESTORE" inspect "$C/diff1.vhd" --parent "$C/diff1.vhd" --parent "$C/base.vhd"
expect_one_error_line "cvmrestore: inspect: "
expect_stderr_has loop
expect_exit 3 "$CVMRESTORE" convert "$C/diff2.vhd" "$RP_TMP/o/x.raw" --parent "$C/diff2.vhd" \
	--parent "$C/diff1.vhd" --parent "$C/base.vhd"
expect_stderr_has loop
no_output "$RP_TMP/o"
# The same file under another name (a hard link) is still a loop.
ln "$C/diff1.vhd" "$RP_TMP/diff1-link.vhd"
expect_exit 3 "$CVMRESTORE" inspect "$C/diff1.vhd" --parent "$RP_TMP/diff1-link.vhd" \
	--parent "$C/base.vhd"
expect_stderr_has loop

note "deep chains: 32 parents read through, 33 are refused"
# RP_IMAGE_MAX_CHAIN is 32: an image may have up to 32 ancestors. diff33 with its 33 parents
# (34 images) is one too deep.
D=$RP_TMP/deep
"$PY" "$GEN" "$D" --levels 33 --size 1M --block-size 64K --seed 3
"$PY" "$GEN" "$RP_TMP/mid" --levels 32 --size 1M --block-size 64K --seed 4
chain_args() { # DIR TOP: --parent for diff(TOP-1) .. diff1, base
	local i
	for ((i = $2 - 1; i >= 1; i--)); do printf -- '--parent\0%s/diff%d.vhd\0' "$1" "$i"; done
	printf -- '--parent\0%s/base.vhd\0' "$1"
}
mapfile -d '' MID < <(chain_args "$RP_TMP/mid" 32)
expect_exit 0 "$CVMRESTORE" convert "$RP_TMP/mid/diff32.vhd" "$RP_TMP/mid.raw" "${MID[@]}" --to raw
cmp "$RP_TMP/mid.raw" "$RP_TMP/mid/expected.raw" || fail "32-level chain reads wrong content"
mapfile -d '' DEEP < <(chain_args "$D" 33)
expect_exit 3 "$CVMRESTORE" inspect "$D/diff33.vhd" "${DEEP[@]}"
expect_one_error_line "cvmrestore: inspect: "
expect_stderr_has "deeper than 32"
expect_exit 3 "$CVMRESTORE" convert "$D/diff33.vhd" "$RP_TMP/o/x.raw" "${DEEP[@]}" --to raw
expect_stderr_has "deeper than 32"
no_output "$RP_TMP/o"

note "ok"
