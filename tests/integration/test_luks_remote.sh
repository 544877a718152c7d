#!/bin/bash
# verify URL --luks-passphrase-file (issue 4, section 2): after the streaming pass, the LUKS check
# reads the partition tables and headers of the blob again, each chunk checked like the pass's
# (transport hash, seal) and pinned to the ETag the pass verified. The sample recovery point's
# OS disk (LUKS2 in GPT partition 2), as a fixed VHD, served by Azurite (MD5 per range) and by
# nginx (no transport hash; the seal checks): the right passphrase opens keyslot 0, a wrong one
# fails with luks-no-key; a byte flipped on the wire in a chunk the check reads fails as a
# transport-hash or seal mismatch (never as a wrong key) and is mended by a retry; a blob that
# changes between the pass and the check fails as source-changed; the audit log names the
# chunks the check read; a blob that changes under a server that ignores If-Match fails as
# source-changed too; a check that cannot run (no LUKS volume) keeps the pass's results;
# the passphrase appears in no output.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
S=$RP_SOURCE_DIR/testdata/sample-rp
LOG=$T/log
mkdir -p "$LOG"
n=0
# V CODE ARGS...: cvmrestore verify ARGS, expecting CODE; outputs kept for the secret search
V()
{
	local code=$1
	shift
	expect_exit "$code" R verify -q --cacert "$RP_CACERT" --retry-base-ms 50 "$@"
	n=$((n + 1))
	cp "$RP_OUT" "$LOG/$n.out"
	cp "$RP_ERR" "$LOG/$n.err"
}
# vol0 EXPR: a check on the report's first LUKS volume
vol0() { json_check "$RP_OUT" "d['disks'][0]['luks'][0]$1" "luks volume: $1: $(cat "$RP_OUT")"; }
reason() { json_check "$RP_OUT" "[r['code'] for r in d['disks'][0]['reasons']] == ['$1']" \
	"reason $1: $(cat "$RP_OUT")"; }

R convert -q "$S/os-disk.vhd" "$T/disk.vhd" || fail "convert"
cp "$S/passphrase.txt" "$T/pass"
printf 'not-the-passphrase\n' >"$T/wrong"

note "Azurite (MD5 per range)"
azurite_start
blobtool upload-sparse disks/os.vhd "$T/disk.vhd" --create-container >/dev/null
SAS=$(azurite_sas disks/os.vhd)
V 0 "$SAS" --luks-passphrase-file "$T/pass" --json --audit-log "$T/audit.log"
vol0 "['partition'] == 2 and d['disks'][0]['luks'][0]['opened_keyslot'] == 0"
vol0 "['uuid'] == '5a3c1e0d-7b2f-4c4e-9d6a-0c5e8f1a2b3c' and d['verdict'] == 'pass'"
/usr/bin/python3 - "$T/audit.log" <<'PY' || fail "audit log: the LUKS check's reads"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
reads = [l for l in lines if l["action"] == "read" and l.get("purpose") == "LUKS key check"]
assert reads and all(r["source"] == "blob" and r["length"] > 0 for r in reads), reads
assert any(r["offset"] == 0 for r in reads), reads   # the partition table
checks = [l for l in lines if l["action"] == "key-check"]
assert len(checks) == 1 and checks[0]["result"] == "opened", checks
PY
pass "the passphrase opens keyslot 0 of partition 2 of the blob; the audit log names the reads"
V 1 "$SAS" --luks-passphrase-file "$T/wrong" --json
reason luks-no-key
vol0 "['result'] == 'no-key-opened'"
pass "a wrong passphrase: exit 1, luks-no-key"

# The pass's range GETs are counted first, so that a fault can be aimed at the check's first
# read (chunk 0: the image's first sector and the GPT).
faultproxy_start "https://127.0.0.1:$AZURITE_PORT"
PSAS=${SAS/$AZURITE_URL/$PROXY_URL/devstoreaccount1}
proxy_fault '{"mode": "none", "t": 1}'
V 0 "$PSAS" --json
P=$(proxy_stat 'd["range_gets"]')
[ "$P" -ge 2 ] || fail "the pass made $P range GETs"
proxy_fault "{\"mode\": \"flip\", \"nth\": $((P + 1)), \"offset\": 1000}"
V 1 "$PSAS" --luks-passphrase-file "$T/pass" --json --retries 0
expect_stderr_has "LUKS check: "
expect_stderr_has "md5 mismatch"
reason transport-hash
json_check "$RP_OUT" "d['disks'][0]['chunks_checked'] == 12" "the pass's results are kept"
[ "$(proxy_stat 'd["injected"].get("flip", 0)')" = 1 ] || fail "the proxy flipped nothing (test is void)"
pass "a byte flipped in a chunk the check reads: exit 1, transport-hash, not a key failure"
proxy_fault "{\"mode\": \"flip\", \"nth\": $((P + 1)), \"offset\": 1000, \"t\": 2}"
V 0 "$PSAS" --luks-passphrase-file "$T/pass" --json
vol0 "['opened_keyslot'] == 0"
[ "$(proxy_stat 'd["injected"].get("flip", 0)')" = 2 ] || fail "the proxy flipped nothing (test is void)"
pass "the same flip with retries: fetched again, keyslot 0 opens"
proxy_fault "{\"mode\": \"etag\", \"after\": $P}"
V 4 "$PSAS" --luks-passphrase-file "$T/pass" --json
expect_stderr_has "changed after it was verified (ETag"
reason source-changed
json_check "$RP_OUT" "d['disks'][0]['chunks_checked'] == 12" "source-changed: the pass's results are kept"
pass "the blob changes between the pass and the check: exit 4, source-changed, the pass kept"
# one range GET later: the check's HEAD still sees the old ETag, its second read gets 412
proxy_fault "{\"mode\": \"etag\", \"after\": $((P + 1))}"
V 4 "$PSAS" --luks-passphrase-file "$T/pass" --json
expect_stderr_has "changed after it was verified (412 to If-Match"
reason source-changed
pass "the blob changes during the check (412): exit 4, source-changed"
# the same change from a server that ignores If-Match: other bytes (their MD5 matches them)
# under a new ETag; only the answer's ETag tells
proxy_fault "{\"mode\": \"swap\", \"after\": $((P + 1))}"
V 4 "$PSAS" --luks-passphrase-file "$T/pass" --json
expect_stderr_has "changed after it was verified: the range at"
expect_stderr_has "the server ignored If-Match"
reason source-changed
[ "$(proxy_stat 'd["injected"].get("swap", 0)')" -gt 0 ] || fail "the proxy swapped nothing (test is void)"
pass "the blob changes during the check, If-Match ignored: exit 4, source-changed"
faultproxy_stop
azurite_stop

note "nginx (no transport hash), the seal checks"
mkdir -p "$T/www"
cp --sparse=always "$T/disk.vhd" "$T/www/os.vhd"
nginx_start "$T/www"
faultproxy_start "$NGINX_URL"
URL=$PROXY_URL/os.vhd
V 0 "$URL" --seal "$S/os-disk.seal.json" --transport-hash none --json
P=$(proxy_stat 'd["range_gets"]')
V 0 "$URL" --seal "$S/os-disk.seal.json" --transport-hash none --luks-passphrase-file "$T/pass" \
	--json
vol0 "['opened_keyslot'] == 0"
pass "nginx with the seal: keyslot 0 opens"
proxy_fault "{\"mode\": \"flip\", \"nth\": $((P + 1)), \"offset\": 1000}"
V 1 "$URL" --seal "$S/os-disk.seal.json" --transport-hash none --luks-passphrase-file "$T/pass" \
	--json --retries 0
expect_stderr_has "sha256 mismatch with the seal"
reason seal-mismatch
[ "$(proxy_stat 'd["injected"].get("flip", 0)')" = 1 ] || fail "the proxy flipped nothing (test is void)"
pass "a flipped byte without a transport hash: the seal catches it, exit 1, seal-mismatch"
faultproxy_stop
# a raw disk is raw whatever its name: the pass found no footer, nor does the check
R convert -q "$T/disk.vhd" "$T/www/raw-disk.vhd" --to raw || fail "convert to raw"
V 0 "$NGINX_URL/raw-disk.vhd" --transport-hash none --luks-passphrase-file "$T/pass" --json
json_check "$RP_OUT" "d['disks'][0]['format'] == 'raw'" "raw mirror: format: $(cat "$RP_OUT")"
vol0 "['opened_keyslot'] == 0"
pass "a raw disk named .vhd: read as raw by the pass and the check, keyslot 0 opens"
nginx_stop

note "refusals"
azurite_start
blobtool create-container cse >/dev/null
blobtool put-blob cse/enc.vhd "$T/disk.vhd" >/dev/null
blobtool set-metadata cse/enc.vhd 'encryptiondata={"EncryptionMode": "FullBlob"}' >/dev/null
V 2 "$(azurite_sas cse/enc.vhd)" --luks-passphrase-file "$T/pass" --json
expect_stderr_has "is client-side encrypted: its stored bytes are ciphertext; --luks-* reads the stored bytes"
json_check "$RP_OUT" "d['disks'][0]['chunks_checked'] == 0" "encrypted: refused before the pass"
azurite_stop
pass "a client-side encrypted blob with --luks-*: exit 2 before the pass"
echo 'x' >"$T/copy.bin"
echo '{}' >"$T/copy.bin.encryptiondata.json"
V 2 "$T/copy.bin" --luks-passphrase-file "$T/pass"
expect_stderr_has "--luks-* with an encrypted copy"
pass "an encrypted copy with --luks-*: exit 2, restore it first"

note "a check that cannot run keeps the pass (local image)"
it_make_raw "$T/plain.raw" $((8 * 1048576)) 0 5
V 3 "$T/plain.raw" --luks-passphrase-file "$T/pass" --json
expect_stderr_has "LUKS check: no LUKS volume"
json_check "$RP_OUT" "d['disks'][0]['chunks_checked'] == 2 and [r['code'] for r in d['disks'][0]['reasons']] == ['format-error']" \
	"no LUKS volume: $(cat "$RP_OUT")"
pass "no LUKS volume on a local image: exit 3, the pass's chunks still reported"

note "no passphrase in any output"
od -An -tx1 -v "$T/pass" | tr -d ' \n' >"$T/secrets.hex"
echo >>"$T/secrets.hex"
head -c -1 "$T/pass" | od -An -tx1 -v | tr -d ' \n' >>"$T/secrets.hex"
echo >>"$T/secrets.hex"
cp "$T/audit.log" "$LOG/"
it_scan_secrets "$LOG" "$T/secrets.hex"
pass "the passphrase is in none of $n outputs or the audit log"

echo "test_luks_remote: $PASSED passed, 0 failed"
