#!/bin/bash
# Client-side encrypted blobs (Azure Storage encryption v2; issue 4, section 3). The blobs are
# made by tests/gen/cse_encrypt.py (Python's cryptography, written from docs/azure.md, not from our
# decryptor) and served by Azurite with their encryptiondata metadata. restore must give back
# the plaintext VHD byte for byte (A256KW and RSA-OAEP KEKs, with a seal); a flipped ciphertext
# byte fails naming its region, a changed key prefix fails as tampering, and nothing is left
# under the output name. No key appears in any output.
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"
T=$RP_TMP
IN=$T/in
LOG=$T/log
mkdir -p "$IN" "$LOG" "$T/out"
SECRETS=$IN/secrets.hex
PASSED=0
pass() { PASSED=$((PASSED + 1)); note "ok: $*"; }
n=0
run() {
	expect_exit "$@"
	n=$((n + 1))
	cp "$RP_OUT" "$LOG/$n.out"
	cp "$RP_ERR" "$LOG/$n.err"
}
ENC=$RP_SOURCE_DIR/tests/gen/cse_encrypt.py

note "a 10 MiB fixed VHD with data in most MiBs, sealed; encrypted in 4 MiB regions"
it_make_raw "$IN/disk.raw" $((10 * 1048576)) 0 1 3 4 5 8 9
"$CVMRESTORE" convert "$IN/disk.raw" "$IN/plain.vhd" >/dev/null 2>&1 ||
	fail "convert of the plaintext disk failed"
[ "$(file_size "$IN/plain.vhd")" = $((10 * 1048576 + 512)) ] || fail "plain.vhd has the wrong size"
"$CVMRESTORE" seal "$IN/plain.vhd" -o "$IN/plain.seal.json" >/dev/null 2>&1 || fail "seal failed"
head -c 32 /dev/urandom >"$IN/aes.kek"
od -An -tx1 -v "$IN/aes.kek" | tr -d ' \n' >>"$SECRETS"; echo >>"$SECRETS"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$IN/rsa.kek" 2>/dev/null
openssl pkey -in "$IN/rsa.kek" -pubout -out "$IN/rsa.pub"
openssl rsa -in "$IN/rsa.kek" -noout -text 2>/dev/null |
	sed -n '/privateExponent/,/prime1/p' | sed '1d;$d' | tr -d ' :\n' >>"$SECRETS"
echo >>"$SECRETS"
enc() { # NAME ARGS...: encrypt plain.vhd into NAME.blob / NAME.meta
	local name=$1
	shift
	$PY "$ENC" "$IN/plain.vhd" "$IN/$name.blob" "$IN/$name.meta" --cek-out "$IN/$name.cek" "$@"
	cat "$IN/$name.cek" >>"$SECRETS"
}
enc aes --kek-aes "$IN/aes.kek"
enc rsa --kek-rsa-pub "$IN/rsa.pub"
enc tamper --kek-aes "$IN/aes.kek" --wrap-prefix 2.1
enc v1 --kek-aes "$IN/aes.kek" --protocol 1.0
cp "$IN/aes.blob" "$IN/flip.blob"
cp "$IN/aes.meta" "$IN/flip.meta"
# region 1 starts at 4 MiB + 28; flip a ciphertext byte well inside it
it_flip_byte "$IN/flip.blob" $((4194304 + 28 + 12 + 1000))
# The last region is cut to 20 bytes: shorter than nonce and tag.
head -c $((2 * (4194304 + 28) + 20)) "$IN/aes.blob" >"$IN/short.blob"
cp "$IN/aes.meta" "$IN/short.meta"
want=$((2 * (4194304 + 28) + 2097152 + 512 + 28))
[ "$(file_size "$IN/aes.blob")" = "$want" ] || fail "the encryptor wrote $(file_size "$IN/aes.blob") bytes, not $want"
pass "three regions of nonce || ciphertext || tag ($want bytes)"

azurite_start
blobtool create-container cse >/dev/null
for b in aes rsa tamper v1 flip short; do
	blobtool put-blob "cse/$b.vhd" "$IN/$b.blob" >/dev/null
	blobtool set-metadata "cse/$b.vhd" "encryptiondata=$(cat "$IN/$b.meta")" >/dev/null
done
blobtool put-blob cse/nometa.vhd "$IN/aes.blob" >/dev/null
NET=(--cacert "$RP_CACERT" --retries 1 --retry-base-ms 50 -q)

run 0 "$CVMRESTORE" restore "$(azurite_sas cse/aes.vhd)" -o "$T/out/aes.vhd" "${NET[@]}" \
	--kek-file "$IN/aes.kek" --seal "$IN/plain.seal.json" --json
cmp "$T/out/aes.vhd" "$IN/plain.vhd" || fail "A256KW: the restored disk differs from the plaintext"
$PY - "$RP_OUT" <<'PY' || fail "the report lacks the encryption facts: $(cat "$RP_OUT")"
import json, sys
d = json.load(open(sys.argv[1]))
r = d[0] if isinstance(d, list) else d.get("disks", [d])[0] if "disks" in d else d
e = r["client_side_encryption"]
assert e["protocol"] == "2.0" and e["region_length"] == 4194304, e
k = e["content_key"]
assert k["algorithm"] == "A256KW" and k["length"] == 32 and k["kek"].endswith("aes.kek"), k
assert r["transport_hash"] == "aes-gcm-tag", r["transport_hash"]
assert r["chunks_compared"] == 3, r["chunks_compared"]
PY
pass "A256KW: restore gives the plaintext VHD byte for byte, every region checked against the seal"
run 0 "$CVMRESTORE" restore "$(azurite_sas cse/rsa.vhd)" -o "$T/out/rsa.vhd" "${NET[@]}" \
	--kek-file "$IN/rsa.kek" --format raw
cmp -n $((10 * 1048576)) "$T/out/rsa.vhd" "$IN/disk.raw" ||
	fail "RSA-OAEP: the restored raw disk differs from the plaintext"
[ "$(file_size "$T/out/rsa.vhd")" = $((10 * 1048576)) ] || fail "--format raw kept the footer"
pass "RSA-OAEP: restore --format raw gives the disk without its footer"
run 0 "$CVMRESTORE" restore "$(azurite_sas cse/aes.vhd)" -o "$T/out/aes2.vhd" "${NET[@]}" \
	--kek-file "$IN/aes.kek" --seal "$IN/plain.seal.json" --report "$T/out/aes2.report.json"
json_check "$T/out/aes2.report.json" 'd["schema"] == "cvmrestore-report/1" and d["command"] == "restore" and d["verdict"] == "pass" and d["disks"][0]["chunk_map"] == "vvv" and "?" not in d["source"]["display"]' \
	"restore --report: $(cat "$T/out/aes2.report.json")"
run 0 "$CVMRESTORE" report "$T/out/aes2.report.json" -o "$T/out/aes2.html"
grep -q 'PASS' "$T/out/aes2.html" || fail "the restore report does not render as PASS"
run 1 "$CVMRESTORE" restore "$(azurite_sas cse/flip.vhd)" -o "$T/out/flip2.vhd" "${NET[@]}" \
	--kek-file "$IN/aes.kek" --report "$T/out/flip2.report.json"
json_check "$T/out/flip2.report.json" 'd["verdict"] != "pass" and d["exit_code"] == 1' \
	"restore --report of a failed restore: $(cat "$T/out/flip2.report.json")"
pass "restore --report writes the cvmrestore-report/1 document (passing and failing), and report renders it"

# fails CODE NAME MESSAGE ARGS...: restore of cse/NAME.vhd fails and leaves no output
fails() {
	local code=$1 name=$2 msg=$3
	shift 3
	local out=$T/out/fail$n.vhd
	run "$code" "$CVMRESTORE" restore "$(azurite_sas "cse/$name.vhd")" -o "$out" "${NET[@]}" "$@"
	expect_one_error_line "cvmrestore: restore: "
	expect_stderr_has "$msg"
	[ ! -e "$out" ] || fail "$name: a failed restore left $out"
}
fails 1 flip "encrypted region 1 (stored bytes 4194332-8388663): the AES-GCM tag does not match" \
	--kek-file "$IN/aes.kek"
fails 1 tamper "does not start with the protocol \"2.0\": the wrapped key or its metadata was tampered with" \
	--kek-file "$IN/aes.kek"
pass "a flipped ciphertext byte fails naming region 1; a changed key prefix fails as tampering"
head -c 32 /dev/urandom >"$IN/other.kek"
fails 5 aes "failed the integrity check" --kek-file "$IN/other.kek"
fails 2 aes "the blob is client-side encrypted; its content key is wrapped with A256KW by key local:aes-kek; give --kek-file or --kek-url"
fails 2 rsa "RSA-OAEP does not fit" --kek-file "$IN/aes.kek"
fails 3 v1 "protocol 1.0 (AES-CBC) is refused"
fails 3 short "last region holds 20 bytes"
pass "a wrong KEK: exit 5; no or an unfitting KEK: exit 2; version 1 and truncated blobs: exit 3"
run 0 "$CVMRESTORE" restore "$(azurite_sas cse/nometa.vhd)" -o "$T/out/nometa.bin" "${NET[@]}"
cmp -s "$T/out/nometa.bin" "$IN/aes.blob" || fail "a blob without encryptiondata is not copied as is"
pass "without encryptiondata metadata a blob is restored as stored"

note "verify: the same checks, nothing written"
run 0 "$CVMRESTORE" verify "$(azurite_sas cse/aes.vhd)" "${NET[@]}" --kek-file "$IN/aes.kek" \
	--seal "$IN/plain.seal.json" --json
json_check "$RP_OUT" 'd["verdict"] == "pass" and d["disks"][0]["chunks_checked"] == 3 and d["disks"][0]["chunk_map"] == "vvv"' \
	"verify of the encrypted blob: $(cat "$RP_OUT")"
run 1 "$CVMRESTORE" verify "$(azurite_sas cse/flip.vhd)" "${NET[@]}" --kek-file "$IN/aes.kek" --json
expect_stderr_has "encrypted region 1 (stored bytes 4194332-8388663): the AES-GCM tag does not match"
json_check "$RP_OUT" 'd["verdict"] != "pass" and any(r["code"] == "decrypt-tag" for r in d["disks"][0]["reasons"])' \
	"verify of the flipped blob: $(cat "$RP_OUT")"
run 2 "$CVMRESTORE" verify "$(azurite_sas cse/aes.vhd)" "${NET[@]}"
expect_stderr_has "give --kek-file or --kek-url"
pass "verify decrypts and checks every region; a flipped byte is reason decrypt-tag, exit 1"

note "an offline copy with its metadata in a sidecar"
mkdir -p "$T/copy"
cp "$IN/aes.blob" "$T/copy/os.vhd"
cp "$IN/aes.meta" "$T/copy/os.vhd.encryptiondata.json"
cp "$IN/flip.blob" "$T/copy/flip.vhd"
cp "$IN/aes.meta" "$T/copy/flip.vhd.encryptiondata.json"
before=$(sha256sum "$T/copy/os.vhd" | cut -c1-64)
run 0 "$CVMRESTORE" restore "$T/copy/os.vhd" -o "$T/out/copy.vhd" -q --kek-file "$IN/aes.kek" \
	--seal "$IN/plain.seal.json" --json
cmp "$T/out/copy.vhd" "$IN/plain.vhd" || fail "offline copy: the restored disk differs"
json_check "$RP_OUT" 'd["client_side_encryption"]["content_key"]["algorithm"] == "A256KW" and d["chunks_compared"] == 3 and d["digests"] == {} and d["seal_claims"]["seal-sha256"] == json.load(open("'"$IN/plain.seal.json"'"))["identity"]["seal-sha256"] == d["identity"]["seal-sha256"]' \
	"offline copy: report: $(cat "$RP_OUT")"
[ "$(sha256sum "$T/copy/os.vhd" | cut -c1-64)" = "$before" ] || fail "the copy was modified"
run 1 "$CVMRESTORE" restore "$T/copy/flip.vhd" -o "$T/out/copy-flip.vhd" -q --kek-file "$IN/aes.kek"
expect_stderr_has "encrypted region 1 (stored bytes 4194332-8388663)"
[ ! -e "$T/out/copy-flip.vhd" ] || fail "a failed offline restore left its output"
run 0 "$CVMRESTORE" verify "$T/copy/os.vhd" -q --kek-file "$IN/aes.kek" --seal "$IN/plain.seal.json" --json
json_check "$RP_OUT" 'd["verdict"] == "pass" and d["source"]["kind"] == "file" and d["disks"][0]["chunk_map"] == "vvv"' \
	"verify of the offline copy: $(cat "$RP_OUT")"
run 1 "$CVMRESTORE" verify "$T/copy/flip.vhd" -q --kek-file "$IN/aes.kek"
expect_stderr_has "encrypted region 1"
pass "offline copy + sidecar: restored byte for byte with the seal, verified; a flipped byte fails naming region 1"

note "no key in any output"
cp "$T"/out/*.journal "$LOG/" 2>/dev/null || true
it_scan_secrets "$LOG" "$SECRETS"
echo "test_client_encryption: $PASSED passed, 0 failed"
