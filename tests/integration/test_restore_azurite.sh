#!/bin/bash
# Network restore from Azurite (strict and --loose) with a service SAS: a 1 GiB page blob (our
# fixed VHD of a sparse raw, uploaded with only its non-zero pages) restores byte-identical and
# sparse, as VHD and as raw; a seal made from the local file verifies the remote restore; a
# changed seal fails the restore (exit 1, OUT absent, partial and journal kept) and verify of the
# URL (exit 1, mismatch listed); an expired SAS (exit 5, "expired" and the se= time, no data
# request: counted by a fault proxy in front), a missing blob (exit 4), an existing OUT (exit 2);
# preflight on good and expired SASes; a block blob restores with --format raw.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
GIB=$((1024 * MIB))
PASSED=0

# the local disk: 1 GiB with 1 MiB of random data in four scattered MiBs (chunks 0, 25, 129, 255)
it_make_raw "$T/disk.raw" "$GIB" 3 100 517 1023
R convert -q "$T/disk.raw" "$T/disk.vhd" || fail "convert"
# version 1: a JSON array of chunks, which the test edits
R seal -q "$T/disk.vhd" -o "$T/seal.json" --seal-version 1 || fail "seal"
ID=$(json_get "$T/seal.json" 'd["identity"]["seal-sha256"]')
WRITTEN_KIB=$((4 * 1024))

# restore_ok MODE: the main restore against the running Azurite
restore_ok()
{
	local mode=$1 sas rep=$T/rep-$1.json out=$T/out-$1.vhd du_k
	sas=$(azurite_sas "disks/$mode.vhd")
	expect_exit 0 R restore --cacert "$RP_CACERT" "$sas" -o "$out" --json
	cp "$RP_OUT" "$rep"
	it_json_only "$rep"
	scmp "$out" "$T/disk.vhd"
	pass "$mode: restore is byte-identical"
	du_k=$(du -k "$out" | cut -f1)
	[ "$du_k" -ge "$WRITTEN_KIB" ] && [ "$du_k" -le $((WRITTEN_KIB + 4096)) ] ||
		fail "$mode: output allocates $du_k KiB, written data is $WRITTEN_KIB KiB"
	pass "$mode: output is sparse ($du_k KiB allocated of 1 GiB)"
	json_check "$rep" 'd["transport_hash"] == "md5"' "$mode: transport hash"
	json_check "$rep" 'd["verdict"] == "pass" and d["resumed"] is False' "$mode: verdict"
	json_check "$rep" 'd["chunks"] == 256 and d["chunk_size"] == 4194304' "$mode: chunks"
	json_check "$rep" 'd["bytes_skipped"] == 252 * 4194304 and d["bytes_fetched"] == 4 * 4194304' \
		"$mode: skipped/fetched bytes"
	json_check "$rep" 'd["blob_type"] == "PageBlob" and d["vhd"] is True and d["output_format"] == "vhd"' \
		"$mode: blob type"
	json_check "$rep" 'd["virtual_size"] == 1073741824 and d["blob_size"] == 1073742336' "$mode: sizes"
	json_check "$rep" '"?" not in d["source"] and "sig=" not in d["source"]' "$mode: source redacted"
	json_check "$rep" "d['identity']['seal-sha256'] == '$ID' and d['digests'] == {}" "$mode: identity"
	pass "$mode: report (md5, bytes_skipped > 0, chunks, verdict ok, whole-disk identity)"
}

# strict Azurite --------------------------------------------------------------------------------
note "strict Azurite"
azurite_start
blobtool upload-sparse disks/strict.vhd "$T/disk.vhd" --create-container >/dev/null
restore_ok strict
SAS=$(azurite_sas disks/strict.vhd)

note "--format raw"
expect_exit 0 R restore -q --cacert "$RP_CACERT" "$SAS" -o "$T/out.raw" --format raw --json
[ "$(file_size "$T/out.raw")" = "$GIB" ] || fail "raw output is not the virtual size"
scmp "$T/out.raw" "$T/disk.raw"
json_check "$RP_OUT" 'd["output_format"] == "raw"' "raw: output_format"
pass "--format raw gives exactly the virtual disk"

note "a seal of the local file verifies the remote restore"
expect_exit 0 R restore --cacert "$RP_CACERT" "$SAS" -o "$T/sealed.vhd" --seal "$T/seal.json" --json
scmp "$T/sealed.vhd" "$T/disk.vhd"
json_check "$RP_OUT" 'd["chunks_compared"] == 256 and d["mismatch_count"] == 0' "seal: compared"
json_check "$RP_OUT" 'd["seal_source"].endswith("disk.vhd")' "seal: seal_source noted"
pass "restore --seal (local seal): ok, seal_source noted"
expect_exit 0 R restore --cacert "$RP_CACERT" "$SAS" -o "$T/sealed2.vhd" --seal "$T/seal.json"
grep -q "note: the seal was made from" "$RP_OUT" || fail "human report lacks the seal note"
pass "human report notes the seal source"

note "a seal with one chunk digest changed"
/usr/bin/python3 - "$T/seal.json" "$T/bad-seal.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
c = s["chunks"][25]
assert len(c) == 64, c
s["chunks"][25] = ("0" if c[0] != "0" else "1") + c[1:]
json.dump(s, open(sys.argv[2], "w"))
EOF
expect_exit 1 R restore -q --cacert "$RP_CACERT" "$SAS" -o "$T/bad.vhd" --seal "$T/bad-seal.json"
expect_stderr_has "chunk 25 at 0x6400000"
expect_stderr_has "seal"
[ ! -e "$T/bad.vhd" ] || fail "OUT exists after a seal mismatch"
[ -f "$T/bad.vhd.partial" ] && [ -f "$T/bad.vhd.journal" ] ||
	fail "OUT.partial and OUT.journal should stay after a failure"
pass "changed seal: exit 1 naming chunk 25 at 0x6400000; OUT absent, partial+journal kept"

expect_exit 1 R verify --cacert "$RP_CACERT" "$SAS" --seal "$T/bad-seal.json" --json
it_json_only "$RP_OUT"
json_check "$RP_OUT" 'len(d["disks"][0]["mismatches"]) == 1 and d["disks"][0]["mismatches"][0]["index"] == 25' "verify: mismatch list"
json_check "$RP_OUT" 'd["disks"][0]["mismatches"][0]["offset"] == 25 * 4194304 and d["verdict"] == "fail"' \
	"verify: mismatch offset"
json_check "$RP_OUT" 'd["disks"][0]["chunks_checked"] == 256' "verify: every chunk compared"
pass "verify URL --seal (changed): exit 1, chunk 25 listed in --json"
expect_exit 0 R verify -q --cacert "$RP_CACERT" "$SAS" --seal "$T/seal.json"
pass "verify URL --seal (good): exit 0"

note "expired SAS, through a counting proxy"
faultproxy_start "https://127.0.0.1:$AZURITE_PORT"
EXP=$(azurite_sas disks/strict.vhd --expiry -60)
SE=$(sed -n 's/.*[?&]se=\([^&]*\).*/\1/p' <<<"$EXP" | sed 's/%3A/:/gI')
PEXP=${EXP/$AZURITE_URL/$PROXY_URL/devstoreaccount1}
proxy_fault '{"mode": "none", "t": 1}'
expect_exit 5 R restore -q --cacert "$RP_CACERT" "$PEXP" -o "$T/exp.vhd"
expect_one_error_line "cvmrestore: "
expect_stderr_has "expired"
expect_stderr_has "$SE"
[ "$(proxy_stat 'd["range_gets"] + d["pagelists"]')" = 0 ] || fail "expired SAS: data was requested"
[ "$(proxy_stat 'd["heads"]')" -ge 1 ] || fail "expired SAS: the proxy saw no HEAD (test is void)"
[ ! -e "$T/exp.vhd" ] && [ ! -e "$T/exp.vhd.partial" ] || fail "expired SAS left output files"
pass "expired SAS: exit 5 naming expired and se=$SE; no data request"
faultproxy_stop

note "missing blob, existing OUT"
expect_exit 4 R restore -q --cacert "$RP_CACERT" "$(azurite_sas disks/missing.vhd)" -o "$T/missing.vhd"
expect_stderr_has "not found"
[ ! -e "$T/missing.vhd" ] || fail "missing blob: OUT exists"
pass "missing blob: exit 4 not found"
expect_exit 2 R restore -q --cacert "$RP_CACERT" "$SAS" -o "$T/out-strict.vhd"
expect_stderr_has "exists"
scmp "$T/out-strict.vhd" "$T/disk.vhd"
expect_exit 2 R restore -q --cacert "$RP_CACERT" "$EXP" -o "$T/out-strict.vhd"
expect_stderr_has "exists"
pass "OUT exists without --force: exit 2 before any request (even with an expired SAS), OUT untouched"
expect_exit 0 R restore -q --force --cacert "$RP_CACERT" "$SAS" -o "$T/out-strict.vhd"
scmp "$T/out-strict.vhd" "$T/disk.vhd"
pass "--force replaces OUT"

note "preflight"
expect_exit 0 R preflight --cacert "$RP_CACERT" "$SAS" -o "$T/pf.vhd" --json
json_check "$RP_OUT" 'd["verdict"] == "pass" and d["exit_code"] == 0 and all(c["result"] in ("pass", "skip") for c in d["checks"])' \
	"preflight good SAS"
json_check "$RP_OUT" '[c["result"] for c in d["checks"] if c["check"] == "sas"] == ["pass"]' \
	"preflight: sas check"
pass "preflight: PASS on the good SAS"
expect_exit 5 R preflight --cacert "$RP_CACERT" "$EXP"
grep -qE '^FAIL +sas ' "$RP_OUT" || fail "preflight expired: no FAIL sas line: $(cat "$RP_OUT")"
grep -qi "expired\|$SE" "$RP_OUT" || fail "preflight expired: the sas line does not say expired"
pass "preflight: exit 5 with the sas check FAIL on the expired SAS"

note "block blob"
head -c $((5 * MIB + 1000)) /dev/urandom >"$T/block.bin"
blobtool put-blob disks/block.bin "$T/block.bin" >/dev/null
expect_exit 0 R restore -q --cacert "$RP_CACERT" "$(azurite_sas disks/block.bin)" -o "$T/block.out" \
	--format raw --json
scmp "$T/block.out" "$T/block.bin"
json_check "$RP_OUT" 'd["blob_type"] == "BlockBlob" and d["bytes_fetched"] == 5 * 1048576 + 1000' \
	"block blob report"
pass "block blob restores with --format raw"
expect_exit 3 R restore -q --cacert "$RP_CACERT" "$(azurite_sas disks/block.bin)" -o "$T/block.vhd" \
	--format vhd
expect_stderr_has "no VHD footer"
pass "block blob without a footer: --format vhd is exit 3"
azurite_stop

# --loose Azurite -------------------------------------------------------------------------------
note "--loose Azurite"
azurite_start --loose
blobtool upload-sparse disks/loose.vhd "$T/disk.vhd" --create-container >/dev/null
restore_ok loose
azurite_stop

echo "test_restore_azurite: $PASSED passed, 0 failed"
