#!/bin/bash
# Forensic verify (docs/report.md): --evidence (MD5, SHA-1, SHA-256 of the logical disk) and
# --hash-window compared with qemu-img + coreutils/Python; case metadata in the report; the
# partition and LUKS layout of the sample recovery point; --audit-log lines (UTC times, tool
# version, run id, every action, append-only, mode 0600, no SAS); inputs (image, seal,
# descriptor) unchanged: size, mtime, ctime and SHA-256 before and after; remote evidence and
# hash windows from nginx with a SAS-looking query that never shows up.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir

T=$RP_TMP
MIB=1048576
PASSED=0
cp -a "$RP_SOURCE_DIR/testdata/sample-rp" "$T/rp"
chmod a-w "$T/rp"/*.vhd "$T/rp"/*.json
IMG=$T/rp/os-disk.vhd
qemu-img convert -f vpc -O raw "$IMG" "$T/os.raw" || fail "qemu-img convert"
VSIZE=$(file_size "$T/os.raw")

# fingerprint FILE...: size, mtime and ctime in ns, SHA-256 of each file
fingerprint() {
	/usr/bin/python3 - "$@" <<'EOF'
import hashlib, os, sys
for p in sys.argv[1:]:
    st = os.stat(p)
    print(p, st.st_size, st.st_mtime_ns, st.st_ctime_ns, hashlib.sha256(open(p, "rb").read()).hexdigest())
EOF
}
INPUTS=("$IMG" "$T/rp/os-disk.seal.json" "$T/rp/recovery-point.json")
fingerprint "${INPUTS[@]}" >"$T/before.txt"

note "verify --evidence --hash-window with case metadata and an audit log"
CASE=(--case-id "CASE-2026-0042" --evidence-id "EV-7 \"os disk\"" --examiner "J. Doe"
	--notes $'seized 2026-11-28\ncopy B')
expect_exit 0 R verify "$IMG" --seal "$T/rp/os-disk.seal.json" --evidence --hash-window 1M \
	"${CASE[@]}" --audit-log "$T/audit.jsonl" --json
cp "$RP_OUT" "$T/r.json"
it_json_only "$T/r.json"
json_check "$T/r.json" 'd["case"] == {"case_id": "CASE-2026-0042", "evidence_id": "EV-7 \"os disk\"", "examiner": "J. Doe", "notes": "seized 2026-11-28\ncopy B"}' \
	"case metadata"
md5=$(md5sum <"$T/os.raw" | cut -d' ' -f1)
sha1=$(sha1sum <"$T/os.raw" | cut -d' ' -f1)
sha256=$(sha256sum <"$T/os.raw" | cut -d' ' -f1)
json_check "$T/r.json" "d['disks'][0]['digests'] == {'sha256': '$sha256', 'md5': '$md5', 'sha1': '$sha1'}" \
	"evidence digests against md5sum/sha1sum/sha256sum of qemu-img's raw"
/usr/bin/python3 - "$T/r.json" "$T/os.raw" <<'EOF' || fail "hash windows"
import hashlib, json, sys
d = json.load(open(sys.argv[1]))["disks"][0]
raw = open(sys.argv[2], "rb").read()
w = d["hash_windows"]
assert w["size"] == 1 << 20
want = [hashlib.sha256(raw[i:i + w["size"]]).hexdigest() for i in range(0, len(raw), w["size"])]
assert w["sha256"] == want, (len(w["sha256"]), len(want))
EOF
json_check "$T/r.json" "d['disks'][0]['virtual_size'] == $VSIZE and d['disks'][0]['format'] == 'vhd-dynamic' and d['disks'][0]['image_size'] == $(file_size "$IMG")" \
	"sizes and format"
json_check "$T/r.json" '[(p["index"], p["scheme"], p["name"], p["start"], p["size"]) for p in d["disks"][0]["partitions"]] == [(1, "gpt", "EFI System", 1048576, 47185920), (2, "gpt", "cryptroot", 48234496, 2076672)]' \
	"partitions"
json_check "$T/r.json" '[(l["partition"], l["version"], l["uuid"]) for l in d["disks"][0]["luks"]] == [(2, 2, "5a3c1e0d-7b2f-4c4e-9d6a-0c5e8f1a2b3c")]' \
	"luks"
json_check "$T/r.json" 'd["disks"][0]["chunk_map"] == "v" + "." * 10 + "v" and d["disks"][0]["chunks_checked"] == 12' \
	"chunk map: chunks 0 and 11 hold data, the rest were never written"
pass "evidence digests, 1 MiB hash windows, case metadata, partitions and LUKS in the report"

note "the audit log"
/usr/bin/python3 - "$T/audit.jsonl" "$IMG" <<'EOF' || fail "audit log"
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "the log does not end with a newline"
ev = [json.loads(l) for l in lines[:-1]]
for e in ev:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"]), e["time"]
    assert e["tool"] == "cvmrestore" and re.fullmatch(r"\d+\.\d+\.\d+", e["version"]), e
    assert list(e)[:5] == ["time", "tool", "version", "run", "action"], list(e)
assert len({e["run"] for e in ev}) == 1
acts = [e["action"] for e in ev]
assert acts[0] == "start" and acts[-1] == "end", acts
assert ev[0]["case_id"] == "CASE-2026-0042" and ev[0]["source"] == sys.argv[2]
opened = [e for e in ev if e["action"] == "open"]
assert [o["role"] for o in opened] == ["seal", "image"], opened
img = opened[1]
assert "read-only" in img["how"] and img["file"]["path"] == sys.argv[2] and img["format"] == "vhd-dynamic"
reads = [(e["offset"], e["length"], e["chunks"]) for e in ev if e["action"] == "read"]
assert reads == [(0, 4 << 20, 1), (11 * (4 << 20), 4 << 20, 1)], reads
dig = {e["algorithm"]: e for e in ev if e["action"] == "digest" and e["scope"] == "logical disk"}
assert sorted(dig) == ["md5", "sha1", "sha256"], dig
rep = json.load(open(sys.argv[1].replace("audit.jsonl", "r.json")))["disks"][0]["digests"]
assert all(dig[a]["value"] == rep[a] for a in rep)
win = [e for e in ev if e["action"] == "digest" and e["scope"] == "hash windows"]
assert win and win[0]["windows"] == 48 and win[0]["window_size"] == 1 << 20, win
cmp = [e for e in ev if e["action"] == "compare"]
assert cmp and cmp[0]["chunks"] == 12 and cmp[0]["mismatches"] == 0, cmp
close = [e for e in ev if e["action"] == "close"]
assert close and close[0]["unchanged"] is True, close
wr = [e for e in ev if e["action"] == "write"]
assert [w["role"] for w in wr] == ["report"], wr
end = ev[-1]
assert end["verdict"] == "pass" and end["exit_code"] == 0 and end["chunks_checked"] == 12
EOF
[ "$(stat -c %a "$T/audit.jsonl")" = 600 ] || fail "audit log mode $(stat -c %a "$T/audit.jsonl")"
pass "audit log: one JSON line per action (start, open seal/image, reads, digests, compare, close, write, end)"

cp "$T/audit.jsonl" "$T/audit.first"
expect_exit 0 R verify "$T/rp/recovery-point.json" --evidence --audit-log "$T/audit.jsonl" \
	--prometheus "$T/m.prom" --json "${CASE[@]}"
cp "$RP_OUT" "$T/rp.json"
n1=$(wc -l <"$T/audit.first")
head -n "$n1" "$T/audit.jsonl" | cmp -s - "$T/audit.first" || fail "the audit log was not appended to"
[ "$(wc -l <"$T/audit.jsonl")" -gt "$n1" ] || fail "the second run added no lines"
/usr/bin/python3 - "$T/audit.jsonl" "$n1" <<'EOF' || fail "second run"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
n1 = int(sys.argv[2])
assert ev[0]["run"] != ev[n1]["run"]
second = ev[n1:]
assert [e["role"] for e in second if e["action"] == "open"] == ["recovery point descriptor", "image"]
assert [e["role"] for e in second if e["action"] == "write"] == ["prometheus", "report"]
EOF
json_check "$T/rp.json" 'd["source"]["kind"] == "descriptor" and d["source"]["recovery_point"] == "sample-rp-1" and d["disks"][0]["name"] == "osdisk"' \
	"descriptor source"
json_check "$T/rp.json" "d['disks'][0]['digests']['sha256'] == '$sha256' and d['case']['examiner'] == 'J. Doe'" \
	"descriptor: evidence and case"
grep -qF 'recovery_point="sample-rp-1",disk="osdisk"' "$T/m.prom" || fail "metrics labels: $(head -3 "$T/m.prom")"
pass "second run appends (new run id); a descriptor names the recovery point in report and metrics"

fingerprint "${INPUTS[@]}" >"$T/after.txt"
cmp -s "$T/before.txt" "$T/after.txt" || fail "inputs changed: $(diff "$T/before.txt" "$T/after.txt")"
pass "inputs unchanged: size, mtime, ctime and SHA-256 of image, seal and descriptor"

note "a differencing chain: every file of it is logged and left unchanged"
/usr/bin/python3 "$RP_SOURCE_DIR/tests/gen/make_vhd_chain.py" "$T/chain" >/dev/null
CH=("$T/chain/diff2.vhd" "$T/chain/diff1.vhd" "$T/chain/base.vhd")
fingerprint "${CH[@]}" >"$T/chain.before"
expect_exit 0 R verify "${CH[0]}" --parent "${CH[1]}" --parent "${CH[2]}" --evidence \
	--audit-log "$T/chain.jsonl" --json
json_check "$RP_OUT" "d['disks'][0]['digests']['sha256'] == '$(sha256sum <"$T/chain/expected.raw" | cut -d' ' -f1)' and d['disks'][0]['format'] == 'vhd-differencing'" \
	"chain: evidence digest of the logical disk"
/usr/bin/python3 - "$T/chain.jsonl" "${CH[@]}" <<'EOF' || fail "chain audit"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
opened = [(e["role"], e["file"]["path"]) for e in ev if e["action"] == "open"]
assert opened == [("image", sys.argv[2]), ("parent image", sys.argv[3]), ("parent image", sys.argv[4])], opened
closed = [(e["path"], e["unchanged"]) for e in ev if e["action"] == "close"]
assert closed == [(p, True) for p in sys.argv[2:5]], closed
EOF
fingerprint "${CH[@]}" | cmp -s - "$T/chain.before" || fail "the chain's files changed"
pass "differencing chain: image and both parents logged as opened read-only and unchanged"

note "errors"
expect_exit 4 R verify "$IMG" --audit-log "$T/no/such/dir/audit.jsonl"
expect_one_error_line "cvmrestore: verify: --audit-log '$T/no/such/dir/audit.jsonl'"
expect_exit 4 R verify "$IMG" --prometheus "$T/no/such/dir/m.prom" --json
expect_one_error_line "cvmrestore: verify: --prometheus '$T/no/such/dir/m.prom"
json_check "$RP_OUT" 'd["verdict"] == "error" and d["exit_code"] == 4 and d["disks"][0]["reasons"][0]["code"] == "io-error"' \
	"a metrics file that cannot be written: verdict error"
expect_exit 2 R verify "$IMG" --hash-window 1000
expect_stderr_has "--hash-window must be a multiple of 512, not '1000'"
pass "unwritable --audit-log and --prometheus: exit 4; bad --hash-window: exit 2"
expect_exit 3 R verify "$RP_SOURCE_DIR/testdata/bad/gpt-header-crc.img" --json
expect_stderr_has "header crc32 at +16"
expect_exit 0 R verify "$RP_SOURCE_DIR/testdata/bad/gpt-header-crc.img" --ignore-checksums --json
json_check "$RP_OUT" 'd["disks"][0]["problems"] == ["GPT header at 0x200: header crc32 at +16: stored 0x633b7743, computed 0x633b7742"]' \
	"a problem read past is listed in the report"
pass "a GPT checksum problem: exit 3, or with --ignore-checksums listed under problems"
expect_exit 4 R verify "$T/missing.vhd" --json --prometheus "$T/miss.prom" --audit-log "$T/miss.jsonl"
expect_one_error_line "cvmrestore: verify: '$T/missing.vhd'"
json_check "$RP_OUT" 'd["verdict"] == "error" and d["exit_code"] == 4 and d["disks"][0]["reasons"][0]["code"] == "io-error" and "chunk_map" not in d["disks"][0]' \
	"a missing image: an error report"
grep -q '^cvmrestore_verify_success{[^}]*} 0$' "$T/miss.prom" || fail "a missing image: success is not 0"
[ "$(tail -1 "$T/miss.jsonl" | /usr/bin/python3 -c 'import json,sys; e=json.load(sys.stdin); print(e["action"], e["exit_code"])')" = "end 4" ] ||
	fail "a missing image: the audit log does not end with exit 4"
pass "a missing image: exit 4 with an error report, success 0 in the metrics, audit log ends"

note "remote evidence with a SAS-looking query"
. "$RP_SOURCE_DIR/tests/integration/servers.sh"
mkdir -p "$T/www"
R convert -q "$IMG" "$T/www/os.vhd" --to vhd || fail "convert"
nginx_start "$T/www"
URL="$NGINX_URL/os.vhd?sv=2022-11-02&sr=b&sp=r&sig=TOPSECRETSIGNATURE%3D"
expect_exit 0 R verify --cacert "$RP_CACERT" "$URL" --evidence --hash-window 3M \
	--audit-log "$T/remote.jsonl" --json "${CASE[@]}"
cp "$RP_OUT" "$T/remote.json"
json_check "$T/remote.json" "d['disks'][0]['digests'] == {'sha256': '$sha256', 'md5': '$md5', 'sha1': '$sha1'}" \
	"remote evidence digests"
# 3 MiB windows do not line up with the 4 MiB chunks: windows end inside chunks
/usr/bin/python3 - "$T/remote.json" "$T/os.raw" <<'EOF' || fail "remote hash windows"
import hashlib, json, sys
d = json.load(open(sys.argv[1]))["disks"][0]
raw = open(sys.argv[2], "rb").read()
w = d["hash_windows"]
assert w["size"] == 3 << 20, w["size"]
want = [hashlib.sha256(raw[i:i + w["size"]]).hexdigest() for i in range(0, len(raw), w["size"])]
assert w["sha256"] == want, (len(w["sha256"]), len(want))
EOF
json_check "$T/remote.json" "d['source']['kind'] == 'url' and d['source']['display'] == '$NGINX_URL/os.vhd' and d['source']['etag']" \
	"remote source without its query"
! grep -l "TOPSECRET\|sig=" "$T/remote.json" "$T/remote.jsonl" "$RP_ERR" || fail "the SAS signature leaked"
/usr/bin/python3 - "$T/remote.jsonl" <<'EOF' || fail "remote audit"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
o = [e for e in ev if e["action"] == "open"][0]
assert o["role"] == "blob" and "?" not in o["url"] and "read-only" in o["how"], o
assert sum(e["chunks"] for e in ev if e["action"] == "read") == 12, [e for e in ev if e["action"] == "read"]
dg = [e for e in ev if e["action"] == "digest"]
assert sorted(e["algorithm"] for e in dg if e.get("scope") == "logical disk") == ["md5", "sha1", "sha256"], dg
assert [e["algorithm"] for e in dg if e.get("scope") == "logical disk (chunk records)"] == ["seal-sha256"], dg
assert [e["windows"] for e in dg if e.get("scope") == "hash windows"] == [16], dg
EOF
pass "remote --evidence --hash-window: the same digests and windows as Python's; no signature in report, audit log or stderr"

echo "test_forensic: $PASSED passed, 0 failed"
