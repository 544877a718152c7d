#!/bin/bash
# Smoke test of the network test peers (tests/integration/servers.sh, tests/servers/*), with the
# curl command line and python only: the test CA and certificate; Azurite over HTTPS with a
# service SAS from blobtool.py (HEAD, ranged GET, page lists, per-range MD5/CRC64 in strict and
# --loose modes, expired/forged SAS, If-Match, snapshots, bearer tokens with --oauth basic);
# nginx (ranges, ETag, If-Match, access log); every fault of faultproxy.py once; the token
# server's IMDS and client-credentials flows. At the end nothing may still listen.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PORTS=()

# hdr FILE NAME: the value of header NAME in a curl -D dump (last one, CR stripped)
hdr()
{
	tr -d '\r' <"$1" | awk -v n="$(echo "$2" | tr '[:upper:]' '[:lower:]')" -F': ' \
		'tolower($1) == n { v = substr($0, length($1) + 3) } END { print v }'
}
# status FILE: the status code of the last answer in a curl -D dump
status()
{
	tr -d '\r' <"$1" | awk '/^HTTP\// { s = $2 } END { print s }'
}
# get OUT HDRS URL [CURL ARGS...]: curl with the test CA; no failure on HTTP errors
get()
{
	local out=$1 hd=$2 url=$3
	shift 3
	curl -sS --cacert "$RP_CACERT" -o "$out" -D "$hd" "$@" "$url"
}
# slice FILE OFF LEN: print LEN bytes of FILE at OFF to stdout
slice()
{
	dd if="$1" bs=64K skip="$2" count="$3" iflag=skip_bytes,count_bytes status=none
}
md5b64()
{
	openssl dgst -md5 -binary | base64
}
expect_status()
{
	local got
	got=$(status "$2")
	[ "$got" = "$1" ] || fail "$3: status $got, want $1 ($(head -c 300 "$2" | tr -d '\r' | head -1))"
}

# certificates --------------------------------------------------------------------------------
note "certificates"
srv_certs
openssl verify -CAfile "$RP_CACERT" "$SRV_CERT" >/dev/null || fail "server.pem does not verify"
san=$(openssl x509 -in "$SRV_CERT" -noout -ext subjectAltName)
for n in "IP Address:127.0.0.1" "DNS:localhost" "DNS:devstoreaccount1.blob.core.windows.net" \
	"DNS:*.privatelink.blob.core.windows.net"; do
	grep -qF "$n" <<<"$san" || fail "certificate lacks SAN $n"
done

# the image: 10 MiB, data in MiB 1 (5000 bytes), 3..8, and the last 512 bytes
it_make_raw "$T/disk.raw" $((10 * MIB))
it_put_random "$T/disk.raw" $MIB 5000
it_put_random "$T/disk.raw" $((3 * MIB)) $((6 * MIB))
it_put_random "$T/disk.raw" $((10 * MIB - 512)) 512

# Azurite, strict -----------------------------------------------------------------------------
note "azurite (strict)"
t0=$(date +%s.%N)
azurite_start
note "azurite ready in $(echo "$(date +%s.%N) - $t0" | bc) s at $AZURITE_URL"
PORTS+=("$AZURITE_PORT:$AZURITE_PID")
blobtool create-container disks
etag=$(blobtool upload-sparse disks/vm1/disk.vhd "$T/disk.raw")
[ -n "$etag" ] || fail "upload-sparse printed no ETag"
blobtool get-page-ranges disks/vm1/disk.vhd >"$T/ranges"
printf '%s\n' "1048576 1053695" "3145728 7340031" "7340032 9437183" "10485248 10485759" \
	>"$T/ranges.want"
cmp -s "$T/ranges" "$T/ranges.want" || fail "page ranges: $(tr '\n' ';' <"$T/ranges")"
blobtool set-metadata disks/vm1/disk.vhd role=os lun=0
U=$(azurite_sas disks/vm1/disk.vhd)
case $U in *sv=2021-08-06*sr=b*sp=r*sig=*) ;; *) fail "SAS URL looks wrong: $U" ;; esac

get /dev/null "$T/h" "$U" -I
expect_status 200 "$T/h" "HEAD with SAS"
[ "$(hdr "$T/h" content-length)" = $((10 * MIB)) ] || fail "HEAD content-length"
[ "$(hdr "$T/h" x-ms-blob-type)" = PageBlob ] || fail "HEAD x-ms-blob-type"
[ "$(hdr "$T/h" x-ms-meta-role)" = os ] || fail "HEAD x-ms-meta-role"
E0=$(hdr "$T/h" etag)
[ -n "$E0" ] || fail "HEAD has no ETag"
note "HEAD: 200, ETag $E0, x-ms-version $(hdr "$T/h" x-ms-version)"

get "$T/b" "$T/h" "$U" -H "x-ms-range: bytes=$MIB-$((MIB + 4095))" -H "Range: bytes=0-99"
expect_status 206 "$T/h" "ranged GET"
[ "$(hdr "$T/h" content-range)" = "bytes $MIB-$((MIB + 4095))/$((10 * MIB))" ] ||
	fail "x-ms-range does not beat Range: $(hdr "$T/h" content-range)"
cmp -s "$T/b" <(slice "$T/disk.raw" $MIB 4096) || fail "ranged GET data differs"

get "$T/b" "$T/h" "$U&comp=pagelist"
expect_status 200 "$T/h" "Get Page Ranges"
grep -q '<PageRange><Start>3145728</Start><End>7340031</End></PageRange>' "$T/b" ||
	fail "page list XML: $(head -c 300 "$T/b")"

get "$T/b" "$T/h" "$U" -H "x-ms-range: bytes=$((3 * MIB))-$((7 * MIB - 1))" \
	-H 'x-ms-range-get-content-md5: true'
[ "$(hdr "$T/h" content-md5)" = "$(md5b64 <"$T/b")" ] || fail "range MD5 (4 MiB) missing or wrong"
get "$T/b" "$T/h" "$U" -H "x-ms-range: bytes=0-$((4 * MIB))" -H 'x-ms-range-get-content-md5: true'
expect_status 206 "$T/h" "MD5 for 4 MiB + 1"
[ -z "$(hdr "$T/h" content-md5)" ] || fail "Azurite now returns Content-MD5 for > 4 MiB"
note "range MD5: given for <= 4 MiB; 4 MiB + 1 -> 206 without Content-MD5"

get "$T/b" "$T/h" "$U" -H 'x-ms-range: bytes=0-511' -H 'x-ms-range-get-content-crc64: true'
expect_status 500 "$T/h" "CRC64 in strict mode"
[ "$(hdr "$T/h" x-ms-error-code)" = FeatureNotSupported ] || fail "CRC64 strict error code"
note "range CRC64 (strict): 500 $(hdr "$T/h" x-ms-error-code)"

X=$(azurite_sas disks/vm1/disk.vhd --expiry -60)
get "$T/b" "$T/h" "$X" -H 'x-ms-range: bytes=0-511'
expect_status 403 "$T/h" "expired SAS"
note "expired SAS: 403 $(hdr "$T/h" x-ms-error-code): $(grep -o '<Message>[^<]*' "$T/b" | head -1 | cut -c10-)"
get /dev/null "$T/h" "$X" -I
expect_status 403 "$T/h" "expired SAS, HEAD"
note "expired SAS, HEAD: 403 x-ms-error-code $(hdr "$T/h" x-ms-error-code)"
get "$T/b" "$T/h" "${U%sig=*}sig=AAAA${U##*sig=}" -H 'x-ms-range: bytes=0-511'
expect_status 403 "$T/h" "forged SAS"
note "forged sig: 403 $(hdr "$T/h" x-ms-error-code)"
F=$(azurite_sas disks/vm1/disk.vhd --start +600)
get "$T/b" "$T/h" "$F" -H 'x-ms-range: bytes=0-511'
expect_status 403 "$T/h" "SAS not yet valid"
note "st= in the future: 403 $(hdr "$T/h" x-ms-error-code)"
I=$(azurite_sas disks/vm1/disk.vhd --ip 10.1.2.3 --protocol https)
get "$T/b" "$T/h" "$I" -H 'x-ms-range: bytes=0-511'
note "sip=10.1.2.3 from 127.0.0.1: $(status "$T/h") (Azure: 403 AuthorizationSourceIPMismatch)"
H=acct.privatelink.blob.core.windows.net
get /dev/null "$T/h" "${U/127.0.0.1/$H}" -I --resolve "$H:$AZURITE_PORT:127.0.0.1"
expect_status 200 "$T/h" "HEAD through --resolve $H"
W=$(azurite_sas disks/vm1/disk.vhd --perms w)
get "$T/b" "$T/h" "$W" -H 'x-ms-range: bytes=0-511'
expect_status 403 "$T/h" "write-only SAS used to read"
note "sp=w used to read: 403 $(hdr "$T/h" x-ms-error-code)"

get "$T/b" "$T/h" "$U" -H 'x-ms-range: bytes=0-511' -H 'If-Match: "0x8D0000000000000"'
expect_status 412 "$T/h" "If-Match mismatch"
[ "$(hdr "$T/h" x-ms-error-code)" = ConditionNotMet ] || fail "If-Match error code"
get "$T/b" "$T/h" "$U" -H "x-ms-range: bytes=$((11 * MIB))-$((11 * MIB + 511))"
expect_status 416 "$T/h" "range past the end"
note "past the end: 416 $(hdr "$T/h" x-ms-error-code), Content-Range $(hdr "$T/h" content-range)"
# Azurite quirk (Azure answers 416): a range starting exactly at the end is a 206 with no body
get "$T/b" "$T/h" "$U" -H "x-ms-range: bytes=$((10 * MIB))-$((10 * MIB + 511))"
note "range starting at the end: $(status "$T/h"), Content-Length $(hdr "$T/h" content-length), Content-Range $(hdr "$T/h" content-range)"

snap=$(blobtool snapshot disks/vm1/disk.vhd)
head -c 512 /dev/urandom >"$T/page"
blobtool put-pages disks/vm1/disk.vhd --from-file "$T/page" --offset 0
S=$(azurite_sas disks/vm1/disk.vhd --snapshot "$snap")
case $S in *"snapshot="*"sr=bs"*) ;; *) fail "snapshot SAS URL: $S" ;; esac
get "$T/b" "$T/h" "$S" -H 'x-ms-range: bytes=0-511'
expect_status 206 "$T/h" "snapshot read with an sr=bs SAS"
cmp -s "$T/b" <(slice "$T/disk.raw" 0 512) || fail "the snapshot changed with its base blob"
get "$T/b" "$T/h" "$U" -H 'x-ms-range: bytes=0-511'
cmp -s "$T/b" "$T/page" || fail "put-pages did not change the base blob"
[ "$(hdr "$T/h" etag)" != "$E0" ] || fail "Put Page did not change the ETag"
blobtool put-pages disks/vm1/disk.vhd --from-file <(slice "$T/disk.raw" 0 512) --offset 0
get /dev/null "$T/h" "$U" -I
E0=$(hdr "$T/h" etag)

# fault proxy in front of Azurite -------------------------------------------------------------
note "faultproxy"
faultproxy_start "https://127.0.0.1:$AZURITE_PORT"
PORTS+=("$PROXY_PORT:$PROXY_PID")
P=${U/127.0.0.1:$AZURITE_PORT/127.0.0.1:$PROXY_PORT}
R1="x-ms-range: bytes=$((3 * MIB))-$((4 * MIB - 1))"
slice "$T/disk.raw" $((3 * MIB)) $MIB >"$T/want"

get "$T/b" "$T/h" "$P" -H "$R1" -H 'x-ms-range-get-content-md5: true'
expect_status 206 "$T/h" "proxy pass-through"
cmp -s "$T/b" "$T/want" || fail "proxy pass-through data"
[ "$(hdr "$T/h" content-md5)" = "$(md5b64 <"$T/want")" ] || fail "proxy dropped Content-MD5"
[ -n "$(hdr "$T/h" x-ms-request-id)" ] || fail "proxy dropped x-ms-request-id"
get "$T/b" "$T/h" "$P&comp=pagelist"
grep -q '<PageList>' "$T/b" || fail "page list through the proxy"

proxy_fault '{"mode": "reset", "nth": 2}'
get "$T/b" "$T/h" "$P" -H "$R1"
expect_status 206 "$T/h" "reset: 1st range"
rc=0
get "$T/b" "$T/h" "$P" -H "$R1" || rc=$?
[ "$rc" = 56 ] || [ "$rc" = 18 ] || [ "$rc" = 35 ] || fail "reset: curl exit $rc, want 56 or 18"
note "reset on the 2nd range: curl exit $rc after $(file_size "$T/b") of $MIB bytes"

proxy_fault '{"mode": "503", "count": 2, "retry_after": 1, "retry_after_ms": 1000}'
for i in 1 2; do
	get "$T/b" "$T/h" "$P" -H "$R1"
	expect_status 503 "$T/h" "503 #$i"
done
[ "$(hdr "$T/h" retry-after)" = 1 ] && [ "$(hdr "$T/h" x-ms-retry-after-ms)" = 1000 ] &&
	[ "$(hdr "$T/h" x-ms-error-code)" = ServerBusy ] || fail "503 headers"
get "$T/b" "$T/h" "$P" -H "$R1"
expect_status 206 "$T/h" "after two 503s"

proxy_fault '{"mode": "500"}'
get "$T/b" "$T/h" "$P" -H "$R1"
expect_status 500 "$T/h" "500 once"
get "$T/b" "$T/h" "$P" -H "$R1"
expect_status 206 "$T/h" "after the 500"

proxy_fault '{"mode": "stall", "seconds": 20}'
rc=0
get "$T/b" "$T/h" "$P" -H "$R1" --max-time 8 || rc=$?
[ "$rc" = 28 ] || fail "stall: curl exit $rc, want 28"
[ "$(file_size "$T/b")" = $((MIB / 2)) ] || fail "stall: $(file_size "$T/b") bytes before the stall"

proxy_fault '{"mode": "short"}'
rc=0
get "$T/b" "$T/h" "$P" -H "$R1" || rc=$?
[ "$rc" = 18 ] || fail "short body: curl exit $rc, want 18"

proxy_fault '{"mode": "flip", "offset": 1000}'
get "$T/b" "$T/h" "$P" -H "$R1" -H 'x-ms-range-get-content-md5: true'
expect_status 206 "$T/h" "flip"
[ "$(file_size "$T/b")" = $MIB ] || fail "flip changed the length"
cmp -l "$T/b" "$T/want" >"$T/cmp" || true
[ "$(wc -l <"$T/cmp")" = 1 ] && grep -q '^ *1001 ' "$T/cmp" || fail "flip: $(wc -l <"$T/cmp") bytes differ"
[ "$(hdr "$T/h" content-md5)" != "$(md5b64 <"$T/b")" ] || fail "flip: Content-MD5 still matches"
get "$T/b" "$T/h" "$P" -H "$R1"
cmp -s "$T/b" "$T/want" || fail "flip happened twice"

proxy_fault '{"mode": "etag", "after": 1}'
get "$T/b" "$T/h" "$P" -I
[ "$(hdr "$T/h" etag)" = "$E0" ] || fail "etag: HEAD before the change"
get "$T/b" "$T/h" "$P" -H "$R1" -H "If-Match: $E0"
expect_status 206 "$T/h" "etag: range 1"
get "$T/b" "$T/h" "$P" -H "$R1" -H "If-Match: $E0"
expect_status 412 "$T/h" "etag: range 2 with the old ETag"
[ "$(hdr "$T/h" x-ms-error-code)" = ConditionNotMet ] || fail "etag: error code"
get "$T/b" "$T/h" "$P" -I
E1=$(hdr "$T/h" etag)
[ -n "$E1" ] && [ "$E1" != "$E0" ] || fail "etag: HEAD after the change shows $E1"
get "$T/b" "$T/h" "$P" -H "$R1" -H "If-Match: $E1"
expect_status 206 "$T/h" "etag: range with the new ETag"
[ "$(hdr "$T/h" etag)" = "$E1" ] || fail "etag: range answer carries $(hdr "$T/h" etag)"

proxy_fault '{"mode": "none"}'
inj=$(proxy_stat 'd["injected"]')
"$SRV_PY" -c '
import json, sys
d = json.loads(sys.argv[1])
want = {"reset": 1, "503": 2, "500": 1, "stall": 1, "short": 1, "flip": 1, "etag": 1}
sys.exit(0 if d == want else 1)' "$inj" || fail "proxy stats injected: $inj"
grep -q 'sig=REDACTED' "$PROXY_LOG" || fail "proxy log does not redact sig"
! grep -q "${U##*sig=}" "$PROXY_LOG" || fail "proxy log holds the signature"
note "proxy stats: $(proxy_stat '[d["requests"], d["range_gets"], d["heads"], d["pagelists"]]') (requests, range GETs, HEADs, page lists); injected $inj"
faultproxy_stop

# tokens: IMDS and client credentials ---------------------------------------------------------
note "token server"
tokenserver_start --client-id app1 --client-secret s3cret --expires-in 600
PORTS+=("$TOKEN_PORT:$TOKEN_PID")
IMDS="$TOKEN_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com"
get "$T/b" "$T/h" "$IMDS"
expect_status 400 "$T/h" "IMDS without Metadata: true"
get "$T/tok.json" "$T/h" "$IMDS" -H 'Metadata: true'
expect_status 200 "$T/h" "IMDS"
json_check "$T/tok.json" 'd["token_type"] == "Bearer" and d["resource"] == "https://storage.azure.com" and isinstance(d["expires_in"], str) and int(d["expires_on"]) > 0 and len(d["access_token"]) > 100' "IMDS answer"
tok=$(json_get "$T/tok.json" 'd["access_token"]')
grep -qF "$tok" "$TOKEN_LOG" || fail "the token log lacks the IMDS token"
CC="$TOKEN_URL/tenant1/oauth2/v2.0/token"
get "$T/b" "$T/h" "$CC" --data-urlencode grant_type=client_credentials -d client_id=app1 \
	--data-urlencode client_secret=wrong --data-urlencode 'scope=https://vault.azure.net/.default'
expect_status 401 "$T/h" "client credentials with a wrong secret"
json_check "$T/b" 'd["error"] == "invalid_client"' "401 body"
get "$T/cc.json" "$T/h" "$CC" --data-urlencode grant_type=client_credentials -d client_id=app1 \
	--data-urlencode client_secret=s3cret --data-urlencode 'scope=https://storage.azure.com/.default'
expect_status 200 "$T/h" "client credentials"
json_check "$T/cc.json" 'd["token_type"] == "Bearer" and d["expires_in"] == 600' "client credentials answer"
cctok=$(json_get "$T/cc.json" 'd["access_token"]')
grep -qF "$cctok" "$TOKEN_LOG" || fail "the token log lacks the client-credentials token"
json_check "$TOKEN_STATS" 'd["imds"] == 2 and d["client_credentials"] == 2 and d["issued"] == 2 and d["rejected"] == 2' "token stats"
tokenserver_stop
tokenserver_start --tls --fail-first 1 --fail-status 429
PORTS+=("$TOKEN_PORT:$TOKEN_PID")
case $TOKEN_URL in https://*) ;; *) fail "--tls token server URL $TOKEN_URL" ;; esac
IMDS_TLS="$TOKEN_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net"
get "$T/b" "$T/h" "$IMDS_TLS" -H 'Metadata: true'
expect_status 429 "$T/h" "injected 429"
[ "$(hdr "$T/h" retry-after)" = 1 ] || fail "429 without Retry-After"
get "$T/b" "$T/h" "$IMDS_TLS" -H 'Metadata: true'
expect_status 200 "$T/h" "IMDS over TLS after the 429"
tokenserver_stop
azurite_stop
srv_port_closed "$AZURITE_PORT" "${PORTS[0]#*:}" || fail "Azurite's port is still open after SIGKILL"

# Azurite --loose --oauth basic ---------------------------------------------------------------
note "azurite (--loose --oauth basic)"
azurite_start --loose --oauth
PORTS+=("$AZURITE_PORT:$AZURITE_PID")
blobtool upload-sparse disks/d2 "$T/disk.raw" --create-container >/dev/null
U=$(azurite_sas disks/d2)
get "$T/b" "$T/h" "$U" -H 'x-ms-range: bytes=0-511' -H 'x-ms-range-get-content-crc64: true'
expect_status 206 "$T/h" "CRC64 in loose mode"
[ -z "$(hdr "$T/h" x-ms-content-crc64)" ] || fail "loose Azurite now answers x-ms-content-crc64"
note "range CRC64 (--loose): 206 without x-ms-content-crc64"
get "$T/b" "$T/h" "$U" -H 'x-ms-range: bytes=0-511' -H 'x-ms-range-get-content-crc64: true' \
	-H 'x-ms-range-get-content-md5: true'
note "CRC64 + MD5 together (--loose): $(status "$T/h") $(hdr "$T/h" x-ms-error-code)"

tokenserver_start --expires-in 600
PORTS+=("$TOKEN_PORT:$TOKEN_PID")
get "$T/tok.json" "$T/h" "$TOKEN_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com" -H 'Metadata: true'
tok=$(json_get "$T/tok.json" 'd["access_token"]')
B="$AZURITE_URL/disks/d2"
get "$T/b" "$T/h" "$B" -H "Authorization: Bearer $tok" -H 'x-ms-version: 2021-08-06' \
	-H "x-ms-range: bytes=$MIB-$((MIB + 511))"
expect_status 206 "$T/h" "bearer token from the token server"
cmp -s "$T/b" <(slice "$T/disk.raw" $MIB 512) || fail "bearer read data"
get "$T/v.json" "$T/h" "$TOKEN_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net" -H 'Metadata: true'
vtok=$(json_get "$T/v.json" 'd["access_token"]')
get "$T/b" "$T/h" "$B" -H "Authorization: Bearer $vtok" -H 'x-ms-version: 2021-08-06' -I
expect_status 403 "$T/h" "token for the wrong audience"
note "wrong audience: 403 $(hdr "$T/h" x-ms-error-code) (HEAD: no body)"
tokenserver_stop
tokenserver_start --expires-in -120
PORTS+=("$TOKEN_PORT:$TOKEN_PID")
get "$T/tok.json" "$T/h" "$TOKEN_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com" -H 'Metadata: true'
tok=$(json_get "$T/tok.json" 'd["access_token"]')
get "$T/b" "$T/h" "$B" -H "Authorization: Bearer $tok" -H 'x-ms-version: 2021-08-06' \
	-H 'x-ms-range: bytes=0-511'
expect_status 403 "$T/h" "expired token"
note "expired token: 403 $(hdr "$T/h" x-ms-error-code): $(grep -o '<AuthenticationErrorDetail>[^<]*' "$T/b" | cut -d'>' -f2)"
tokenserver_stop
azurite_stop

# nginx ---------------------------------------------------------------------------------------
note "nginx"
mkdir -p "$T/www"
cp "$T/disk.raw" "$T/www/disk.raw"
nginx_start "$T/www"
PORTS+=("$NGINX_PORT:$NGINX_PID")
get /dev/null "$T/h" "$NGINX_URL/disk.raw" -I
expect_status 200 "$T/h" "nginx HEAD"
NE=$(hdr "$T/h" etag)
[ -n "$NE" ] && [ "$(hdr "$T/h" accept-ranges)" = bytes ] || fail "nginx HEAD: ETag $NE"
get "$T/b" "$T/h" "$NGINX_URL/disk.raw" -r $((3 * MIB))-$((4 * MIB - 1)) -H "If-Match: $NE"
expect_status 206 "$T/h" "nginx range"
cmp -s "$T/b" <(slice "$T/disk.raw" $((3 * MIB)) $MIB) || fail "nginx range data"
get "$T/b" "$T/h" "$NGINX_URL/disk.raw" -r 0-511 -H 'If-Match: "nope"'
expect_status 412 "$T/h" "nginx If-Match mismatch"
# two ranges on one keep-alive connection
curl -sS --cacert "$RP_CACERT" -r 0-99 -o /dev/null "$NGINX_URL/disk.raw" \
	--next --cacert "$RP_CACERT" -r 100-199 -o /dev/null "$NGINX_URL/disk.raw"
faultproxy_start "$NGINX_URL"
PORTS+=("$PROXY_PORT:$PROXY_PID")
proxy_fault '{"mode": "flip", "offset": 0}'
get "$T/b" "$T/h" "$PROXY_URL/disk.raw" -r $((3 * MIB))-$((3 * MIB + 4095))
cmp -s "$T/b" <(slice "$T/disk.raw" $((3 * MIB)) 4096) && fail "flip through nginx did nothing"
[ "$(hdr "$T/h" etag)" = "$NE" ] || fail "proxy changed nginx's ETag"
faultproxy_stop
sleep 0.2
[ "$(nginx_log_count '"GET /disk.raw HTTP/1.1" 206 .* range="bytes=')" = 4 ] ||
	fail "nginx access log: $(cat "$NGINX_LOG")"
grep -q 'range="bytes=100-199".*conn=[0-9]*/2' "$NGINX_LOG" ||
	fail "nginx did not keep the connection alive: $(cat "$NGINX_LOG")"
nginx_stop

# nothing left ---------------------------------------------------------------------------------
srv_stop_all
for p in "${PORTS[@]}"; do
	srv_port_closed "${p%:*}" "${p#*:}" ||
		fail "port ${p%:*} still open by pid ${p#*:}: $(ss -Hltnp "sport = :${p%:*}")"
done
note "all servers stopped; ports ${PORTS[*]} closed"
echo "test_servers: 1 passed, 0 failed"
