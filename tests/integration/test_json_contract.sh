#!/bin/bash
# The JSON contract (docs/schemas/README.md): every schema in docs/schemas is a valid draft
# 2020-12 schema and listed in the README, every schema name the program writes has one; the
# documents of the local commands (--version, seal, convert, inspect, luks, verify, restore of a
# copy and of a recovery point, rp show) name their schema and validate against it; the verdict
# words are pass/fail/error everywhere. The checker refuses a broken document (a wrong type, a
# missing member, an old word, another version, a document without its schema), and so does
# json_check, which every test uses. --sample takes 5 and 5%, and refuses 5%%, 101%, -1%.
set -euo pipefail
: "${CVMRESTORE:?set CVMRESTORE to the cvmrestore binary}"
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"

rp_tmpdir
T=$RP_TMP
C=$CVMRESTORE
SC="$RP_SOURCE_DIR/tests/tools/schema_check.py"
SD="$RP_SOURCE_DIR/docs/schemas"

# strict FILE SCHEMA: FILE names SCHEMA and is valid against it (no --if-named: it must name one).
strict()
{
	"$PY" "$SC" "$1" 2>"$T/sc.err" || fail "$1 is not valid: $(cat "$T/sc.err")"
	[ "$(json_get "$1" 'd["schema"]')" = "$2" ] || fail "$1 names $(json_get "$1" 'd["schema"]'), not $2"
}

# refused FILE TEXT: the checker refuses FILE (exit 1) and says TEXT.
refused()
{
	local rc=0
	"$PY" "$SC" "$1" 2>"$T/sc.err" || rc=$?
	[ "$rc" = 1 ] || fail "the checker accepted $1 (exit $rc): $(cat "$1")"
	grep -qF -- "$2" "$T/sc.err" || fail "the checker's message lacks '$2': $(cat "$T/sc.err")"
}

# 1. The schemas themselves, the README's inventory, and the names the program writes.
"$PY" "$SC" --check-schemas || fail "a schema in docs/schemas is not valid"
for f in "$SD"/*.schema.json; do
	grep -qF "$(basename "$f")" "$SD/README.md" || fail "docs/schemas/README.md does not list $(basename "$f")"
done
names=$(grep -ohE '"cvmrestore-[a-z-]+/[0-9]+"' "$RP_SOURCE_DIR/cli/cli_report_json.h" \
	"$RP_SOURCE_DIR/verify/report.h" | tr -d '"' | sort -u)
[ "$(echo "$names" | wc -l)" -ge 12 ] || fail "expected at least 12 schema names, found: $names"
for n in $names; do
	base=${n#cvmrestore-}
	base=${base%/*}
	[ -f "$SD/$base.schema.json" ] || fail "$n has no docs/schemas/$base.schema.json"
	json_check "$SD/$base.schema.json" "json.dumps(d).count('\"const\": \"$n\"') >= 1 and len(set(__import__('re').findall('cvmrestore-$base/[0-9]+', json.dumps(d)))) == 1" \
		"$base.schema.json describes another version than $n"
	grep -qF "$n" "$SD/README.md" || fail "docs/schemas/README.md does not name $n"
done
pass "schemas: valid, listed, one per name the program writes ($(echo $names | wc -w))"

# 2. The local commands' documents.
it_make_raw "$T/disk.raw" 8388608 0 3 6
"$C" --version --json >"$T/version.json"
strict "$T/version.json" cvmrestore-version/1
expect_exit 0 "$C" seal "$T/disk.raw" -o "$T/seal.json" --json
strict "$RP_OUT" cvmrestore-seal-run/1
expect_exit 0 "$C" convert "$T/disk.raw" "$T/disk.vhd" --json
strict "$RP_OUT" cvmrestore-convert/1
cp "$RP_OUT" "$T/convert.json"
expect_exit 0 "$C" inspect "$T/disk.vhd" --json
strict "$RP_OUT" cvmrestore-inspect/1
expect_exit 0 "$C" verify "$T/disk.vhd" --seal "$T/seal.json" --json
strict "$RP_OUT" cvmrestore-report/1
json_check "$RP_OUT" 'd["verdict"] == "pass" and d["exit_code"] == 0 and d["disks"][0]["verdict"] == "pass"' "verify: pass"
cp "$RP_OUT" "$T/report.json"
expect_exit 0 "$C" restore "$T/disk.vhd" -o "$T/copy.raw" --format raw --seal "$T/seal.json" --json
strict "$RP_OUT" cvmrestore-restore/2
json_check "$RP_OUT" 'd["verdict"] == "pass" and d["exit_code"] == 0' "restore of a copy: pass"
cp "$RP_OUT" "$T/restore.json"
# A byte changed: verify and restore say "fail" (exit 1), with the same word.
cp "$T/disk.vhd" "$T/bad.vhd"
printf 'X' | dd of="$T/bad.vhd" bs=1 seek=3145828 conv=notrunc status=none
expect_exit 1 "$C" verify "$T/bad.vhd" --seal "$T/seal.json" --json
strict "$RP_OUT" cvmrestore-report/1
json_check "$RP_OUT" 'd["verdict"] == "fail" and d["exit_code"] == 1' "verify of a changed copy: fail"
expect_exit 1 "$C" restore "$T/bad.vhd" -o "$T/bad.raw" --seal "$T/seal.json" --json
strict "$RP_OUT" cvmrestore-restore/2
json_check "$RP_OUT" 'd["verdict"] == "fail" and d["exit_code"] == 1 and "error" in d' "restore of a changed copy: fail"
# A recovery point: every blob (the wrapper names the schema too), its LUKS check, rp show.
cp -r "$RP_SOURCE_DIR/testdata/sample-rp" "$T/rp"
expect_exit 0 "$C" restore "$T/rp/recovery-point.json" --all --out-dir "$T/all" -q --json
strict "$RP_OUT" cvmrestore-restore/2
json_check "$RP_OUT" 'd["verdict"] == "pass" and len(d["disks"]) == 3 and all(x["schema"] == "cvmrestore-restore/2" and x["verdict"] == "pass" for x in d["disks"])' \
	"restore --all: a wrapper of three documents"
expect_exit 0 "$C" rp show "$T/rp/recovery-point.json" --json
strict "$RP_OUT" cvmrestore-rp/1
expect_exit 0 "$C" luks "$T/all/osdisk.vhd" --passphrase-file "$T/rp/passphrase.txt" --json
strict "$RP_OUT" cvmrestore-luks/1
json_check "$RP_OUT" 'd["volumes"][0]["result"] == "opened"' "luks: opened"
pass "documents of version, seal, convert, inspect, verify, restore, rp show, luks are valid"

# 3. Broken documents are refused, by the checker and by json_check.
mutate()
{ # mutate IN OUT PY_STATEMENTS: OUT is IN with the statements applied to d
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))' "$1" "$2" "$3"
}
mutate "$T/convert.json" "$T/b1.json" 'd["virtual_size"] = str(d["virtual_size"])'
refused "$T/b1.json" "at /virtual_size"
mutate "$T/report.json" "$T/b2.json" 'del d["verdict"]'
refused "$T/b2.json" "'verdict' is a required property"
mutate "$T/restore.json" "$T/b3.json" 'd["verdict"] = "ok"'
refused "$T/b3.json" "at /verdict"
mutate "$T/report.json" "$T/b4.json" 'd["disks"][0]["chunks_checked"] = -1'
refused "$T/b4.json" "at /disks/0/chunks_checked"
mutate "$T/report.json" "$T/b5.json" 'd["schema"] = "cvmrestore-report/2"'
refused "$T/b5.json" "at /schema"
mutate "$T/convert.json" "$T/b6.json" 'del d["schema"]'
refused "$T/b6.json" 'no "schema" member'
mutate "$T/restore.json" "$T/b7.json" 'd["schema"] = "cvmrestore-nosuch/1"'
refused "$T/b7.json" "unknown schema"
mutate "$T/version.json" "$T/b8.json" 'd["libraries"]["zlib"]["build_time"] = "no"'
refused "$T/b8.json" "at /libraries/zlib/build_time"
# A document without a schema member is skipped by --if-named unless it looks like a command's.
"$PY" "$SC" --if-named "$T/seal.json" || fail "--if-named refused a seal file"
rc=0
"$PY" "$SC" --if-named "$T/b6.json" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "--if-named accepted a convert document without its schema"
# json_check (tests/integration/lib.sh) fails on each of them, whatever the expression says.
for b in b1 b2 b3 b6; do
	rc=0
	(json_check "$T/$b.json" True "x") >"$T/jc.out" 2>&1 || rc=$?
	[ "$rc" != 0 ] || fail "json_check accepted $b.json"
	grep -qF "does not match its JSON schema" "$T/jc.out" || fail "json_check on $b.json: $(cat "$T/jc.out")"
done
json_check "$T/report.json" True "the valid report"
pass "broken documents refused: wrong type, missing member, old word, other version, no schema"

# 4. --sample: 5 and 5% are the same sample; 5%%, 101%, -1% and % are usage errors.
expect_exit 0 "$C" verify "$T/disk.vhd" --seal "$T/seal.json" --sample 5 --seed 7 --json
json_get "$RP_OUT" 'd["disks"][0]["chunk_map"]' >"$T/map5"
expect_exit 0 "$C" verify "$T/disk.vhd" --seal "$T/seal.json" --sample 5% --seed 7 --json
json_check "$RP_OUT" 'd["disks"][0]["coverage"]["mode"] == "sample" and d["disks"][0]["coverage"]["percent"] == 5' "--sample 5%"
[ "$(json_get "$RP_OUT" 'd["disks"][0]["chunk_map"]')" = "$(cat "$T/map5")" ] || fail "--sample 5% and 5 differ"
expect_exit 0 "$C" verify "$T/disk.vhd" --seal "$T/seal.json" --sample 0.5% --seed 7 -q
for bad in 5%% 101% -1% % 0%; do
	expect_exit 2 "$C" verify "$T/disk.vhd" --seal "$T/seal.json" --sample "$bad"
	expect_one_error_line "cvmrestore: verify: --sample: a percentage must be more than 0"
	expect_stderr_has "not '$bad'"
done
pass "--sample 5% = --sample 5; 5%%, 101%, -1%, %, 0% exit 2"
