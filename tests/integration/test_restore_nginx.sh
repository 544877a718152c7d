#!/bin/bash
# Network restore from a plain HTTPS server (nginx): a 200 MiB random fixed VHD restores
# byte-identical with no transport hash and no page ranges (every byte fetched); verify of the URL
# with the local seal; no --cacert is a certificate error (exit 4); http:// needs --allow-http
# (exit 2); the access log shows the expected requests: HEAD, the footer, the two hash probes and
# one ranged GET with If-Match per chunk.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PASSED=0

mkdir -p "$T/www"
head -c $((200 * MIB)) /dev/urandom >"$T/disk.raw"
R convert -q "$T/disk.raw" "$T/www/disk.vhd" || fail "convert"
R seal -q "$T/www/disk.vhd" -o "$T/seal.json" --digests sha256 || fail "seal"
ID=$(json_get "$T/seal.json" 'd["identity"]["seal-sha256"]')
SHA=$(json_get "$T/seal.json" 'd["digests"]["sha256"]')
nginx_start "$T/www"
URL=$NGINX_URL/disk.vhd
CHUNKS=50

note "restore"
: >"$NGINX_LOG"
expect_exit 0 R restore --cacert "$RP_CACERT" "$URL" -o "$T/out.vhd" --json --digests sha256
cp "$RP_OUT" "$T/rep.json"
scmp "$T/out.vhd" "$T/www/disk.vhd"
pass "restore from nginx is byte-identical"
json_check "$T/rep.json" 'd["transport_hash"] == "none" and d["blob_type"] == ""' "transport hash"
json_check "$T/rep.json" 'd["bytes_fetched"] == 200 * 1048576 and d["bytes_skipped"] == 0' \
	"every byte fetched"
json_check "$T/rep.json" "d['chunks'] == $CHUNKS and d['chunks_fetched'] == $CHUNKS" "chunks"
json_check "$T/rep.json" 'd["verdict"] == "pass" and d["retries"] == 0 and d["vhd"] is True' "verdict"
json_check "$T/rep.json" "d['digests']['sha256'] == '$SHA' and 'seal_claims' not in d" "whole sha256 (--digests), computed in order without a seal"
json_check "$T/rep.json" "d['identity']['seal-sha256'] == '$ID'" "the identity, as the seal's"
json_check "$T/rep.json" '"not verified" in d["warning"]' "no hash and no seal: the report warns"
pass "report: transport_hash none, no page ranges, every byte fetched, digest"

note "access log"
sleep 0.2
heads=$(nginx_log_count '"HEAD /disk\.vhd ')
gets=$(nginx_log_count '"GET /disk\.vhd ')
ranged=$(nginx_log_count '"GET /disk\.vhd [^"]*" 206 [0-9]+ range="bytes=[0-9]+-[0-9]+" if_match="[^"-][^"]*"')
total=$(grep -c . "$NGINX_LOG")
# HEAD, then the footer and the two hash probes (crc64, md5), then one GET per chunk
[ "$heads" = 1 ] || fail "access log: $heads HEADs, want 1"
[ "$gets" = $((CHUNKS + 3)) ] || fail "access log: $gets GETs, want $((CHUNKS + 3))"
[ "$ranged" = "$gets" ] || fail "access log: $ranged of $gets GETs are ranged 206 with If-Match"
[ "$total" = $((CHUNKS + 4)) ] || fail "access log: $total requests, want $((CHUNKS + 4))"
footer=$(nginx_log_count "range=\"bytes=$((200 * MIB))-$((200 * MIB + 511))\"")
[ "$footer" = 1 ] || fail "access log: the footer was read $footer times"
etag=$(nginx_log_count 'if_match="\\x22[0-9a-f]+-[0-9a-f]+\\x22"')
[ "$etag" = "$gets" ] || fail "access log: If-Match is not nginx's ETag on every GET ($etag of $gets)"
pass "access log: 1 HEAD + footer + 2 probes + $CHUNKS chunks, all ranged with If-Match"

note "verify URL with the local seal"
expect_exit 0 R verify --cacert "$RP_CACERT" "$URL" --seal "$T/seal.json" --json
json_check "$RP_OUT" "d['verdict'] == 'pass' and d['disks'][0]['chunks_checked'] == $CHUNKS and d['disks'][0]['mismatches'] == []" \
	"verify with seal"
json_check "$RP_OUT" 'd["command"] == "verify" and "output" not in d' "verify writes nothing"
pass "verify URL --seal: ok, $CHUNKS chunks compared"
expect_exit 0 R restore -q --cacert "$RP_CACERT" "$URL" -o "$T/out2.raw" --format raw --seal "$T/seal.json"
scmp "$T/out2.raw" "$T/disk.raw"
pass "restore --seal --format raw: the virtual disk"

note "TLS and http://"
: >"$NGINX_LOG"
expect_exit 4 R restore -q "$URL" -o "$T/nocert.vhd"
expect_one_error_line "cvmrestore: "
grep -qiE 'certificate|ssl|tls' "$RP_ERR" || fail "no --cacert: the message does not name the certificate"
[ ! -e "$T/nocert.vhd" ] && [ ! -e "$T/nocert.vhd.partial" ] || fail "no --cacert: output files"
pass "no --cacert: exit 4 with a certificate message"
# preflight knows a TLS failure from libcurl's error code, not from its text.
expect_exit 4 R preflight "$URL"
grep -q '^FAIL tls+properties .* -- the certificate does not match the name or is not trusted; check --cacert and the name you connect to$' "$RP_OUT" ||
	fail "preflight without --cacert: no certificate hint: $(cat "$RP_OUT")"
pass "preflight without --cacert: the TLS check fails with the certificate hint"
expect_exit 2 R restore -q "http://127.0.0.1:$NGINX_PORT/disk.vhd" -o "$T/http.vhd"
expect_stderr_has "--allow-http"
expect_exit 2 R verify -q "http://127.0.0.1:$NGINX_PORT/disk.vhd"
expect_stderr_has "--allow-http"
expect_exit 2 R preflight "http://127.0.0.1:$NGINX_PORT/disk.vhd"
expect_stderr_has "--allow-http"
[ "$(grep -c . "$NGINX_LOG")" = 0 ] || fail "refused requests reached nginx"
pass "http:// without --allow-http: exit 2 (restore, verify, preflight), nothing sent"

echo "test_restore_nginx: $PASSED passed, 0 failed"
