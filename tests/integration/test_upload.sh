#!/bin/bash
# cvmrestore upload against Azurite (strict, HTTPS on loopback):
# - a 64 MiB fixed VHD with data in four MiBs goes to a pre-created page blob of the upload size
#   and, with --create, to a new one; both read back byte-identical (blobtool head + cvmrestore
#   restore), the page range list holds only the non-zero ranges, bytes sent = data bytes;
# - --verify-all and --seal read every data chunk back; --transport-hash md5 works too;
# - a guest state file (not a multiple of 512) goes to its own page blob, rounded up to 512;
# - refused with exit 3 and a message naming 'cvmrestore convert': a raw image (no footer), a
#   VHD of a size that is not N MiB + 512, a dynamic VHD; a target of the wrong size: exit 2
#   naming both sizes; a read-only SAS: exit 5; an expired SAS: exit 5 naming the expiry;
# - an existing blob with stale pages where the image has zeros: they are cleared;
# - through the fault proxy: 503 with Retry-After, a reset mid-request and a corrupted body
#   (Azurite answers 400 Crc64Mismatch) complete with retries > 0; with --retries 0 a 503 is a
#   clear failure (exit 4) that leaves the journal, and the same command then resumes;
# - an image changed in place with its mtime put back (touch -r): the resume re-hashes the
#   chunks its journal lists and sends the changed ones again;
# - a Put Page (or a clear) that the fault proxy acknowledges but does not forward: the post-check
#   compares pages listed and sent page by page and fails (exit 1) naming the offset;
# - kill -9 in the middle, then the same command resumes from the journal (chunks_resumed > 0)
#   and the result is byte-identical;
# - no SAS signature in any output or file the tool wrote.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
azurite_start
blobtool create-container upl >/dev/null

# 64 MiB with random data in MiBs 1, 10, 33 and 63 (and a few scattered pages in MiB 20)
it_make_raw "$T/disk.raw" $((64 * MIB)) 1 10 33 63
it_put_random "$T/disk.raw" $((20 * MIB + 4096)) 512
it_put_random "$T/disk.raw" $((20 * MIB + 512 * 1024)) 1024
R convert -q "$T/disk.raw" "$T/disk.vhd" || fail "convert"
R seal -q "$T/disk.vhd" -o "$T/seal.json" || fail "seal"
SIZE=$(file_size "$T/disk.vhd")
DATA=$((4 * MIB + 512 + 1024 + 512)) # four MiBs, two scattered runs, the footer

wsas() { blobtool sas "$1" --expiry +3600 --perms "${2:-rcw}" --full-url; }
# download PATH OUT: the whole blob through cvmrestore restore (raw: the VHD file as it is)
download() { R restore -q --cacert "$RP_CACERT" --format vhd "$(wsas "$1" r)" -o "$2" --force; }
# ranges PATH: the blob's page ranges as "START END" lines, merged where adjacent
ranges()
{
	blobtool get-page-ranges "$1" | /usr/bin/python3 -c '
import sys
out = []
for line in sys.stdin:
    s, e = map(int, line.split())
    if out and out[-1][1] + 1 == s:
        out[-1][1] = e
    else:
        out.append([s, e])
for s, e in out:
    print(s, e)'
}
# the non-zero 512-byte runs of FILE, merged, as "START END" lines
nonzero()
{
	/usr/bin/python3 - "$1" <<'EOF'
import sys
out = []
with open(sys.argv[1], "rb") as f:
    off = 0
    while True:
        b = f.read(512)
        if not b:
            break
        if b.count(0) != len(b):
            if out and out[-1][1] + 1 == off:
                out[-1][1] = off + 511
            else:
                out.append([off, off + 511])
        off += 512
for s, e in out:
    print(s, e)
EOF
}
UP=(upload --cacert "$RP_CACERT" --retry-base-ms 50)
ALLOUT=$T/all-outputs.txt
keep() { cat "$RP_OUT" "$RP_ERR" >>"$ALLOUT"; }

note "upload to a pre-created page blob of the upload size"
blobtool create-page-blob upl/pre.vhd "$SIZE" >/dev/null
expect_exit 0 R "${UP[@]}" -q --json "$T/disk.vhd" "$(wsas upl/pre.vhd)"
keep
cp "$RP_OUT" "$T/pre.json"
json_check "$T/pre.json" 'd["verdict"] == "pass" and not d["created"]' "pre: verdict"
json_check "$T/pre.json" "d['bytes_sent'] == $DATA" "pre: bytes sent = data bytes ($DATA)"
json_check "$T/pre.json" "d['bytes_data'] == $DATA" "pre: data bytes"
json_check "$T/pre.json" 'd["post_check"]["mismatches"] == 0 and d["post_check"]["chunks_checked"] >= 3' \
	"pre: post-check"
json_check "$T/pre.json" 'd["post_check"]["against"] == "image"' "pre: compared with the image"
json_check "$T/pre.json" 'd["post_check"]["chunks_with_data"] == 6 and d["post_check"]["chunks_checked"] == 6' \
	"pre: the read-back covered 6 of 6 chunks with data"
json_check "$T/pre.json" 'd["post_check"]["bytes_unlisted"] == 0 and d["post_check"]["bytes_unsent"] == 0' \
	"pre: pages listed = pages sent"
download upl/pre.vhd "$T/pre.back"
cmp "$T/pre.back" "$T/disk.vhd" || fail "pre: the blob differs from the image"
[ "$(ranges upl/pre.vhd)" = "$(nonzero "$T/disk.vhd")" ] ||
	fail "pre: page ranges are not exactly the non-zero ranges: $(ranges upl/pre.vhd | head)"
[ ! -e "$T/disk.vhd.upload-journal" ] || fail "pre: journal left after success"
pass "pre-created blob: identical, $DATA bytes sent, ranges = non-zero ranges"

note "--create, --verify-all, --seal, a guest state"
head -c 100000 /dev/urandom >"$T/gs.vmgs"
truncate -s 300000 "$T/gs.vmgs"
expect_exit 0 R "${UP[@]}" -q --json --create --verify-all --seal "$T/seal.json" \
	--guest-state "$T/gs.vmgs" --guest-state-url "$(wsas upl/new_vmgs)" \
	"$T/disk.vhd" "$(wsas upl/new.vhd)"
keep
cp "$RP_OUT" "$T/new.json"
json_check "$T/new.json" 'd["verdict"] == "pass" and d["created"]' "create: verdict"
json_check "$T/new.json" 'd["post_check"]["against"] == "seal" and d["post_check"]["chunks_checked"] == 6' \
	"create: every data chunk (6, the footer one too) read back against the seal"
json_check "$T/new.json" 'd["guest_state"]["verdict"] == "pass" and d["guest_state"]["blob_size"] == 300032' \
	"create: guest state page blob rounded up to 512"
download upl/new.vhd "$T/new.back"
cmp "$T/new.back" "$T/disk.vhd" || fail "create: the blob differs from the image"
[[ $(blobtool head upl/new_vmgs) == *PageBlob* ]] || fail "guest state: not a page blob"
R restore -q --cacert "$RP_CACERT" --format raw "$(wsas upl/new_vmgs r)" -o "$T/gs.back" --force ||
	fail "guest state: download"
cmp -n 300000 "$T/gs.back" "$T/gs.vmgs" || fail "guest state differs"
[ "$(file_size "$T/gs.back")" = 300032 ] || fail "guest state blob is not 300032 bytes"
[ "$(ranges upl/new.vhd)" = "$(nonzero "$T/disk.vhd")" ] || fail "create: page ranges"
pass "--create with guest state: identical, every chunk checked against the seal"

note "--transport-hash md5 and human output"
expect_exit 0 R "${UP[@]}" --create --transport-hash md5 "$T/disk.vhd" "$(wsas upl/md5.vhd)"
keep
grep -q "verdict: pass" "$RP_OUT" || fail "md5: no verdict line"
grep -q "(md5)" "$RP_OUT" || fail "md5: the report does not say md5"
grep -q "page ranges compared page by page with the pages sent; 6 of 6 chunks with data read back" \
	"$RP_OUT" || fail "md5: the summary does not say what the post-check covered"
pass "Content-MD5 per request"

note "stale pages of an older blob are cleared"
blobtool create-page-blob upl/old.vhd "$SIZE" >/dev/null
head -c $((2 * MIB)) /dev/urandom >"$T/junk"
blobtool put-pages upl/old.vhd --from-file "$T/junk" --offset $((40 * MIB)) >/dev/null
expect_exit 0 R "${UP[@]}" -q --json "$T/disk.vhd" "$(wsas upl/old.vhd)"
keep
json_check "$RP_OUT" 'd["bytes_cleared"] > 0' "old: nothing cleared"
download upl/old.vhd "$T/old.back"
cmp "$T/old.back" "$T/disk.vhd" || fail "old: the blob differs from the image"
pass "stale pages cleared ($(json_get "$RP_OUT" 'd["bytes_cleared"]') bytes)"

note "refusals"
expect_exit 3 R "${UP[@]}" "$T/disk.raw" "$(wsas upl/x.vhd)" --create
expect_one_error_line "cvmrestore: upload: "
expect_stderr_has "cvmrestore convert IN OUT.vhd"
expect_stderr_has "67108864 bytes is not N MiB + 512"
keep
# the right size, but the last 512 bytes are zeros: no footer
cp "$T/disk.vhd" "$T/nofooter.vhd"
dd if=/dev/zero of="$T/nofooter.vhd" bs=512 seek=$((64 * 2048)) count=1 conv=notrunc status=none
expect_exit 3 R "${UP[@]}" "$T/nofooter.vhd" "$(wsas upl/x.vhd)" --create
expect_one_error_line "cvmrestore: upload: "
expect_stderr_has "no VHD footer"
expect_stderr_has "cvmrestore convert IN OUT.vhd"
keep
# a footer with a bad checksum
cp "$T/disk.vhd" "$T/badsum.vhd"
it_flip_byte "$T/badsum.vhd" $((64 * MIB + 64))
expect_exit 3 R "${UP[@]}" "$T/badsum.vhd" "$(wsas upl/x.vhd)" --create
expect_stderr_has "checksum"
keep
truncate -s $((64 * MIB + 512 + 4096)) "$T/odd.vhd"
expect_exit 3 R "${UP[@]}" "$T/odd.vhd" "$(wsas upl/x.vhd)" --create
expect_stderr_has "is not N MiB + 512"
expect_stderr_has "cvmrestore convert"
keep
qemu-img convert -f raw -O vpc -o subformat=dynamic "$T/disk.raw" "$T/dyn.vhd"
expect_exit 3 R "${UP[@]}" "$T/dyn.vhd" "$(wsas upl/x.vhd)" --create
expect_stderr_has "cvmrestore convert"
keep
blobtool create-page-blob upl/small.vhd $((32 * MIB + 512)) >/dev/null
expect_exit 2 R "${UP[@]}" "$T/disk.vhd" "$(wsas upl/small.vhd)"
expect_one_error_line "cvmrestore: upload: "
expect_stderr_has "holds $((32 * MIB + 512)) bytes"
expect_stderr_has "needs $SIZE"
keep
expect_exit 5 R "${UP[@]}" "$T/disk.vhd" "$(wsas upl/pre.vhd r)"
expect_stderr_has "write permission"
keep
expect_exit 5 R "${UP[@]}" "$T/disk.vhd" "$(blobtool sas upl/pre.vhd --expiry -60 --perms rcw --full-url)"
expect_stderr_has "the SAS expired at"
keep
expect_exit 2 R "${UP[@]}" "$T/disk.vhd"
expect_exit 2 R "${UP[@]}" "$T/disk.vhd" "$(wsas upl/pre.vhd)" --guest-state "$T/gs.vmgs"
expect_stderr_has "go together"
pass "raw, no footer, bad checksum, odd size, dynamic VHD (exit 3), wrong target size (2), read-only and expired SAS (5)"

note "faults through the proxy"
faultproxy_start "https://127.0.0.1:$AZURITE_PORT"
psas() { local s; s=$(wsas "$1"); printf '%s' "${s/$AZURITE_URL/$PROXY_URL/devstoreaccount1}"; }
N=0
fault_ok()
{
	local name=$1 fault=$2 mode before
	N=$((N + 1))
	mode=$(/usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])["mode"])' "$fault")
	before=$(proxy_stat "d['injected'].get('$mode', 0)")
	proxy_fault "$fault"
	expect_exit 0 R "${UP[@]}" -q --json --create --connections 2 "$T/disk.vhd" "$(psas upl/f$N.vhd)"
	keep
	cp "$RP_OUT" "$T/f$N.json"
	json_check "$T/f$N.json" 'd["retries"] > 0 and d["verdict"] == "pass"' "$name: retries > 0"
	[ "$(proxy_stat "d['injected'].get('$mode', 0)")" -gt "$before" ] ||
		fail "$name: the proxy injected nothing (test is void)"
	proxy_fault '{"mode": "none"}'
	download upl/f$N.vhd "$T/f$N.back"
	cmp "$T/f$N.back" "$T/disk.vhd" || fail "$name: the blob differs"
	pass "$name: complete and identical, retries $(json_get "$T/f$N.json" 'd["retries"]')"
}
fault_ok "503 with Retry-After" '{"mode": "put503", "nth": 2, "count": 2, "retry_after": 1, "retry_after_ms": 200}'
grep -q ' 503 put503$' "$PROXY_LOG" || fail "503: not in the proxy log"
fault_ok "reset during a Put Page" '{"mode": "putreset", "nth": 3}'
fault_ok "corrupted body (Crc64Mismatch)" '{"mode": "putflip", "nth": 2, "offset": 100}'
grep -q ' 400 putflip$' "$PROXY_LOG" || fail "putflip: Azurite did not answer 400"

note "a clear failure, then a resume"
proxy_fault '{"mode": "put503", "nth": 3, "count": 1000}'
URL=$(psas upl/r.vhd)
expect_exit 4 R "${UP[@]}" --create --retries 0 --connections 1 "$T/disk.vhd" "$URL"
keep
expect_one_error_line "cvmrestore: upload: "
expect_stderr_has "503"
[ -e "$T/disk.vhd.upload-journal" ] || fail "no journal after a failure"
proxy_fault '{"mode": "none"}'
expect_exit 0 R "${UP[@]}" -q --json --create --connections 1 "$T/disk.vhd" "$URL"
keep
json_check "$RP_OUT" 'd["resumed"] and d["chunks_resumed"] >= 1 and not d["created"]' \
	"resume after failure: nothing resumed"
download upl/r.vhd "$T/r.back"
cmp "$T/r.back" "$T/disk.vhd" || fail "resume: the blob differs"
pass "503 without retries: exit 4, journal kept; the same command resumes"

note "the image changed in place, its mtime restored (touch -r), then a resume"
# The journal of the failed run lists chunks 0..4 (data in 0 and 2, 1, 3 and 4 zero). Change
# chunk 0 (data) and chunk 3 (zero until now) in place and put the mtime back: the journal's
# identity (size, mtime, target) still matches, and only the content says the image changed.
cp -p "$T/disk.vhd" "$T/chg.vhd"
proxy_fault '{"mode": "put503", "nth": 3, "count": 1000, "t": 19}'
URL=$(psas upl/chg.vhd)
expect_exit 4 R "${UP[@]}" --create --retries 0 --connections 1 "$T/chg.vhd" "$URL"
keep
[ -e "$T/chg.vhd.upload-journal" ] || fail "touch -r: no journal after the failure"
proxy_fault '{"mode": "none"}'
touch -r "$T/chg.vhd" "$T/chg.ref"
it_put_random "$T/chg.vhd" $((MIB + 8192)) 4096
it_put_random "$T/chg.vhd" $((13 * MIB)) 4096
touch -r "$T/chg.ref" "$T/chg.vhd"
expect_exit 0 R "${UP[@]}" -q --json --create --connections 1 "$T/chg.vhd" "$URL"
keep
cp "$RP_OUT" "$T/chg.json"
json_check "$T/chg.json" 'd["resumed"] and d["chunks_rechecked"] == 5 and d["chunks_resent"] == 2' \
	"touch -r: 5 chunks re-checked, 2 sent again"
json_check "$T/chg.json" 'd["chunks_resumed"] == 3' "touch -r: 3 chunks resumed"
download upl/chg.vhd "$T/chg.back"
cmp "$T/chg.back" "$T/chg.vhd" || fail "touch -r: the blob differs from the changed image"
[ "$(ranges upl/chg.vhd)" = "$(nonzero "$T/chg.vhd")" ] || fail "touch -r: page ranges"
pass "image changed under the same mtime: 2 changed chunks found by their SHA-256 and sent again"

note "a version 1 upload journal is not trusted"
# A journal of the older format (no digests) for this image and target, listing every chunk as
# done: the upload starts over (everything sent) and says so.
URL=$(wsas upl/v1.vhd)
/usr/bin/python3 - "$T/disk.vhd" "${URL%%\?*}" <<'EOF'
import os, struct, sys
img, target = sys.argv[1], sys.argv[2].encode()
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF
st = os.stat(img)
count = (st.st_size + (4 << 20) - 1) // (4 << 20)
bits = bytes([0xFF] * (count // 8) + ([(1 << (count % 8)) - 1] if count % 8 else []))
j = b"CVMRUPJ1" + struct.pack("<QQQQ", st.st_size, 4 << 20, count, st.st_mtime_ns)
j += struct.pack("<H", len(target)) + target + bits + bits
open(img + ".upload-journal", "wb").write(j + struct.pack("<I", crc32c(j)))
EOF
expect_exit 0 R "${UP[@]}" --json --create "$T/disk.vhd" "$URL"
keep
json_check "$RP_OUT" 'not d["resumed"] and d["chunks_resumed"] == 0 and "older version" in d["journal_note"]' \
	"v1 journal: not trusted, with a note"
json_check "$RP_OUT" "d['bytes_sent'] == $DATA" "v1 journal: everything sent"
download upl/v1.vhd "$T/v1.back"
cmp "$T/v1.back" "$T/disk.vhd" || fail "v1 journal: the blob differs"
pass "version 1 upload journal: set aside with a note, everything sent"

note "kill -9 mid-upload, then resume"
# 200 MiB, 40 MiB written in 40 ranges. From the 10th Put Page on the proxy answers 503
# (Retry-After 1 s, up to --retries 100) until told otherwise, so the upload is surely still
# running, with pages in its journal, when it is killed, however fast the machine.
it_make_raw "$T/big.raw" $((200 * MIB)) $(seq 0 5 199)
R convert -q "$T/big.raw" "$T/big.vhd" || fail "convert big"
URL=$(psas upl/big.vhd)
held=$(proxy_stat 'd["injected"].get("put503", 0)')
proxy_fault '{"mode": "put503", "nth": 10, "count": 1000000, "retry_after": 1}'
# the binary itself in the background (not the R function, whose subshell kill -9 would hit,
# leaving the upload running beside the resume)
"$CVMRESTORE" "${UP[@]}" -q --create --connections 1 --retries 100 "$T/big.vhd" "$URL" \
	>"$T/kill.out" 2>&1 &
pid=$!
# kill once the proxy holds the upload and its journal lists done pages
for _ in $(seq 300); do
	[ "$(proxy_stat 'd["injected"].get("put503", 0)')" -gt "$held" ] &&
		[ -e "$T/big.vhd.upload-journal" ] &&
		/usr/bin/python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
sys.exit(0 if any(b[42 + len(sys.argv[2]):-4]) else 1)' "$T/big.vhd.upload-journal" \
			"${URL%%\?*}" 2>/dev/null && break
	sleep 0.1
done
kill -9 "$pid" 2>/dev/null || fail "the upload ended before it could be killed"
wait "$pid" 2>/dev/null || true
[ -e "$T/big.vhd.upload-journal" ] || fail "no journal after kill -9"
[ "$(proxy_stat 'd["injected"].get("put503", 0)')" -gt "$held" ] ||
	fail "the upload was killed before the proxy held it (test is void)"
proxy_fault '{"mode": "none"}'
expect_exit 0 R "${UP[@]}" -q --json --create --connections 2 "$T/big.vhd" "$URL"
keep
json_check "$RP_OUT" 'd["resumed"] and d["chunks_resumed"] >= 1' "kill -9: nothing resumed"
download upl/big.vhd "$T/big.back"
cmp "$T/big.back" "$T/big.vhd" || fail "kill -9: the blob differs"
[ "$(ranges upl/big.vhd)" = "$(nonzero "$T/big.vhd")" ] || fail "kill -9: page ranges"
pass "kill -9 and resume: $(json_get "$RP_OUT" 'd["chunks_resumed"]') chunks resumed, identical"

note "a Put Page acknowledged but not stored"
# 1 GiB: 4 KiB of data at +4 KiB in each of its 256 chunks, and in chunk 100 a second 4 KiB at
# +1 MiB (past the merge gap: a Put Page of its own). With one connection the Put Pages go in
# chunk order, so chunk 100's second one is the 102nd: the proxy answers it 201 Created and
# stores nothing. Chunk 100 still has pages listed, and the read-back samples 18 of the 257
# chunks with data: only the page-by-page comparison is sure to see the hole.
/usr/bin/python3 - "$T/drop.raw" <<'EOF'
import os, sys
with open(sys.argv[1], "wb") as f:
    f.truncate(1 << 30)
    for c in range(256):
        f.seek(c * (4 << 20) + 4096)
        f.write(os.urandom(4096))
    f.seek(100 * (4 << 20) + (1 << 20))
    f.write(os.urandom(4096))
EOF
R convert -q "$T/drop.raw" "$T/drop.vhd" || fail "convert drop"
proxy_fault '{"mode": "drop-put-page", "nth": 102}'
expect_exit 1 R "${UP[@]}" --json --create --connections 1 "$T/drop.vhd" "$(psas upl/drop.vhd)"
keep
cp "$RP_OUT" "$T/drop.json"
proxy_fault '{"mode": "none"}'
[ "$(proxy_stat 'd["injected"].get("drop-put-page", 0)')" = 1 ] || fail "drop: the proxy dropped nothing"
expect_one_error_line "cvmrestore: "
expect_stderr_has "0x19100000: 4096 bytes were sent and acknowledged but the target does not list them"
json_check "$T/drop.json" 'd["verdict"] == "fail" and d["post_check"]["bytes_unlisted"] == 4096' \
	"drop: 4096 bytes unlisted"
json_check "$T/drop.json" 'd["post_check"]["chunks_with_data"] == 257 and d["post_check"]["chunks_checked"] <= 18' \
	"drop: the report says the read-back covered at most 18 of 257 chunks"
pass "a dropped Put Page inside a chunk with other pages: exit 1 naming 0x19100000"

note "a clear acknowledged but not done: pages listed that were not sent"
# An older blob with 2 MiB of junk at 40 MiB (chunk 10, zeros in the image). With one
# connection the Put Pages go in chunk order: chunk 0, chunk 2, chunk 5 (two), chunk 8, then
# the clear of chunk 10, the 6th, which the proxy acknowledges and drops.
blobtool create-page-blob upl/noclear.vhd "$SIZE" >/dev/null
blobtool put-pages upl/noclear.vhd --from-file "$T/junk" --offset $((40 * MIB)) >/dev/null
proxy_fault '{"mode": "drop-put-page", "nth": 6}'
expect_exit 1 R "${UP[@]}" -q --connections 1 "$T/disk.vhd" "$(psas upl/noclear.vhd)"
keep
proxy_fault '{"mode": "none"}'
expect_one_error_line "cvmrestore: "
expect_stderr_has "0x2800000: the target lists 2097152 bytes that were not sent (pages the target held were not cleared)"
pass "a dropped clear: exit 1 naming the pages listed but not sent"
faultproxy_stop

note "secrets"
wsas upl/pre.vhd | grep -q 'sig=' || fail "no sig in the SAS (test is void)"
for f in "$ALLOUT" "$T"/*.json "$T"/kill.out; do
	! grep -qF "sig=" "$f" || fail "a SAS signature in $f"
done
[ ! -e "$T/big.vhd.upload-journal" ] || ! grep -qaF "sig=" "$T/big.vhd.upload-journal" ||
	fail "a SAS in the journal"
pass "no sig= in any output"
echo "all $PASSED checks passed"
