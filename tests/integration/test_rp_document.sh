#!/bin/bash
# A recovery point descriptor that does not parse is refused as a document (exit 3, with the line
# and column), never read as a raw disk whose bytes are its JSON text (issue 10 point 7): cut,
# damaged, behind a BOM and whitespace, a JSON document of another kind, and one over the size
# limit (1 GiB, docs/recovery-point.md), given to verify, restore and stage.
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
cd "$RP_TMP"
B=$CVMRESTORE
cp -r "$RP_SOURCE_DIR/testdata/sample-rp" rp
D=rp/recovery-point.json
expect_exit 0 "$B" verify "$D" -q

refused() { # FILE TEXT...: verify, restore and stage refuse FILE with exit 3 and each TEXT
	local f=$1 t
	shift
	for cmd in verify restore stage; do
		case $cmd in
		verify) it_expect_error 3 "$B" verify "$f" ;;
		restore) it_expect_error 3 "$B" restore "$f" --disk osdisk -o out.vhd ;;
		stage) it_expect_error 3 "$B" stage "$f" --out-dir st ;;
		esac
		expect_stderr_has "'$f'"
		expect_stderr_has "descriptor"
		for t in "$@"; do expect_stderr_has "$t"; done
		[ ! -e out.vhd ] && [ ! -e st ] || fail "$cmd of $f wrote output"
	done
}

note "a descriptor cut at half its length"
n=$(file_size "$D")
head -c $((n / 2)) "$D" >cut.json
refused cut.json "invalid JSON at line " ", column "
pass "cut descriptor"

note "a damaged descriptor: line and column of the damage"
"$PY" - "$D" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
text = json.dumps(d, indent=2).splitlines()
# Line 3 loses the quote that opens its key: jansson stops there.
text[2] = text[2].replace('"', "", 1)
open("damaged.json", "w").write("\n".join(text) + "\n")
EOF
refused damaged.json "invalid JSON at line 3, column "
pass "damaged descriptor names line 3"

note "BOM and whitespace before the document"
printf '\xef\xbb\xbf \n\t[1, 2' >bom.json
refused bom.json "invalid JSON at line 2, column "
pass "BOM and whitespace: still a document"

note "a JSON document that is not a descriptor"
refused rp/os-disk.seal.json "is not 'cvmrestore-recovery-point'"
pass "a seal given as a descriptor is refused"

note "over the size limit (1 GiB): refused, not read as a disk"
# JSON text for its first sector (what makes a file a document), then a sparse tail
{ printf '{'; printf '%511s' ''; } >big.json
truncate -s $((1024 * 1024 * 1024 + 1)) big.json
refused big.json "is not a regular file of at most 1073741824 bytes"
# Between the old 64 MiB sniff limit and 1 GiB: parsed as the document it is.
"$PY" - "$D" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["padding"] = "x" * (65 * 1024 * 1024)
json.dump(d, open("large.json", "w"))
EOF
mv large.json rp/large.json
expect_exit 0 "$B" verify rp/large.json --json
json_check "$RP_OUT" 'd["verdict"] == "pass" and d["disks"][0]["chunks_checked"] == 12' \
	"a 65 MiB descriptor is read as a descriptor"
pass "1 GiB is the one limit"
