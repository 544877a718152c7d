#!/bin/bash
# verify --seal URL and restore --seal URL (issue 13 point 3): the seal is read from an HTTPS URL
# (nginx on 127.0.0.1, a name pinned with --resolve, the test CA with --cacert) through the one
# loader (restore/seal_source.h):
# - a good seal: verify (of the disk's URL and of a local copy) and restore pass, byte for byte;
#   a seal of another disk fails the check (exit 1), so the URL's seal is the one used;
# - a missing seal: exit 4, "not found (404";
# - a seal larger than RP_SEAL_MAX_BYTES (formats/seal.h): exit 3, refused from its
#   Content-Length before the body is read;
# - http:// without --allow-http: exit 2 naming --allow-http;
# - an untrusted server (no --cacert): exit 4, a certificate error;
# - the SAS signature of the seal URL is in no output, message or report.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PASSED=0
SIG=SealUrlSig0123456789abcdefXYZ
HOST=sealacct.blob.core.windows.net # pinned to 127.0.0.1 by --resolve

mkdir -p "$T/www"
head -c $((16 * MIB)) /dev/urandom >"$T/disk.raw"
R convert -q "$T/disk.raw" "$T/www/disk.vhd" || fail "convert"
R seal -q "$T/www/disk.vhd" -o "$T/www/seal.json" || fail "seal"
head -c $((16 * MIB)) /dev/urandom >"$T/other.raw"
R seal -q "$T/other.raw" -o "$T/www/other.json" || fail "seal of another disk"
# a seal one byte over the cap (sparse: nginx sends its length first)
CAP=$("$PY" -c '
import re, sys
m = re.search(r"#define RP_SEAL_MAX_BYTES\s+([0-9uUlL*<> ()+]+)", open(sys.argv[1]).read())
print(eval(re.sub(r"(?<=[0-9])[uUlL]+", "", m.group(1))))' "$RP_SOURCE_DIR/formats/seal.h")
truncate -s $((CAP + 1)) "$T/www/huge.json"
nginx_start "$T/www"
PIN=(--cacert "$RP_CACERT" --resolve "$HOST:$NGINX_PORT:127.0.0.1")
base="https://$HOST:$NGINX_PORT"
sas="?sv=2021-08-06&sr=b&sp=r&sig=$SIG"
keep() { cat "$RP_OUT" "$RP_ERR" >>"$T/all-output.txt"; }

note "a good seal from a URL"
expect_exit 0 R verify -q "${PIN[@]}" "$base/disk.vhd" --seal "$base/seal.json$sas" --json
keep
json_check "$RP_OUT" "d['verdict'] == 'pass' and d['disks'][0]['chunks_checked'] == 4" "verify URL --seal URL: no pass"
expect_exit 0 R verify -q "${PIN[@]}" "$T/www/disk.vhd" --seal "$base/seal.json$sas"
keep
expect_exit 0 R restore -q "${PIN[@]}" "$base/disk.vhd" -o "$T/out.raw" --format raw \
	--seal "$base/seal.json$sas" --json
keep
cmp "$T/out.raw" "$T/disk.raw" || fail "restore --seal URL differs"
json_check "$RP_OUT" "'$SIG' not in str(d)" "the report holds the seal URL's signature"
[ "$(nginx_log_count 'GET /seal.json')" -ge 3 ] || fail "nginx did not serve the seal"
pass "verify and restore with --seal https://...: ok, byte for byte"

note "a seal of another disk from a URL fails the check"
expect_exit 1 R verify -q "${PIN[@]}" "$base/disk.vhd" --seal "$base/other.json$sas"
keep
pass "another disk's seal: exit 1"

note "a missing seal"
expect_exit 4 R verify -q "${PIN[@]}" "$base/disk.vhd" --seal "$base/missing.json$sas"
keep
expect_stderr_has "not found (404"
expect_stderr_has "$base/missing.json"
expect_exit 4 R restore -q "${PIN[@]}" "$base/disk.vhd" -o "$T/out2.raw" \
	--seal "$base/missing.json$sas"
keep
expect_stderr_has "not found (404"
[ ! -e "$T/out2.raw" ] || fail "restore wrote an output without its seal"
pass "a missing seal: exit 4, 404 named"

note "a seal larger than the cap"
: >"$NGINX_LOG"
expect_exit 3 R verify -q "${PIN[@]}" "$base/disk.vhd" --seal "$base/huge.json$sas"
keep
expect_stderr_has "more than a seal may be"
sent=$(sed -n 's/.*huge\.json[^"]*" [0-9]* \([0-9]*\) .*/\1/p' "$NGINX_LOG" | head -1)
[ -n "$sent" ] || fail "nginx did not log the huge seal's request"
[ "${sent:-0}" -lt $((64 * MIB)) ] || fail "nginx sent $sent bytes of the huge seal"
pass "a seal over $CAP bytes: exit 3 before its body is read"

note "http:// without --allow-http"
expect_exit 2 R verify -q "${PIN[@]}" "$T/www/disk.vhd" --seal "http://$HOST:$NGINX_PORT/seal.json$sas"
keep
expect_stderr_has "--allow-http"
pass "http:// seal URL: exit 2"

note "an untrusted server"
expect_exit 4 R verify -q --resolve "$HOST:$NGINX_PORT:127.0.0.1" "$T/www/disk.vhd" \
	--seal "$base/seal.json$sas"
keep
expect_stderr_has "certificate"
pass "no --cacert: exit 4"

if grep -qF "$SIG" "$T/all-output.txt"; then fail "the seal URL's SAS signature was printed"; fi
grep -qF "$base/missing.json" "$T/all-output.txt" || fail "the redacted URL was never named"
pass "the seal URL's signature is in no output"

echo "ok: test_seal_url ($PASSED checks)"
