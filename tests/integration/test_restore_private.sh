#!/bin/bash
# --require-private: without --private-cidr a restore, a verify and a preflight to 127.0.0.1 are
# refused (exit 5 naming the host and the address) and no request reaches the server (nginx
# access log, fault proxy stats); with --private-cidr 127.0.0.0/8 the restore works; a privatelink
# name pinned with --resolve reaches nginx over verified TLS (the test certificate has the SAN
# *.privatelink.blob.core.windows.net), and preflight's dns check names it.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PASSED=0

mkdir -p "$T/www"
head -c $((8 * MIB)) /dev/urandom >"$T/disk.raw"
R convert -q "$T/disk.raw" "$T/www/disk.vhd" || fail "convert"
nginx_start "$T/www"
URL=$NGINX_URL/disk.vhd
PL=disk.privatelink.blob.core.windows.net
PLURL=https://$PL:$NGINX_PORT/disk.vhd
PIN=$PL:$NGINX_PORT:127.0.0.1

note "--require-private without --private-cidr"
: >"$NGINX_LOG"
expect_exit 5 R restore -q --cacert "$RP_CACERT" --require-private "$URL" -o "$T/o1.vhd"
expect_one_error_line "cvmrestore: "
expect_stderr_has "127.0.0.1:$NGINX_PORT"
expect_stderr_has "at 127.0.0.1"
expect_stderr_has "not a private address; --require-private is on; add --private-cidr to allow it"
[ ! -e "$T/o1.vhd" ] && [ ! -e "$T/o1.vhd.partial" ] || fail "refused restore left files"
pass "restore: exit 5 naming host and address"
expect_exit 5 R restore -q --cacert "$RP_CACERT" --require-private --resolve "$PIN" "$PLURL" \
	-o "$T/o2.vhd"
expect_stderr_has "$PL"
expect_stderr_has "127.0.0.1"
pass "restore of a privatelink name pinned to 127.0.0.1: exit 5 naming $PL and 127.0.0.1"
expect_exit 5 R verify -q --cacert "$RP_CACERT" --require-private "$URL"
expect_stderr_has "not a private address"
pass "verify: exit 5"
expect_exit 5 R preflight --cacert "$RP_CACERT" --require-private "$URL" --json
json_check "$RP_OUT" '[c["result"] for c in d["checks"] if c["check"] == "dns"] == ["fail"]' \
	"preflight: dns check should fail"
json_check "$RP_OUT" 'd["verdict"] == "error" and d["exit_code"] == 5' "preflight: verdict error, exit code 5"
pass "preflight: exit 5, dns check FAIL"
sleep 0.2
[ "$(grep -c . "$NGINX_LOG")" = 0 ] || fail "nginx received requests: $(cat "$NGINX_LOG")"
pass "nginx received no request at all"

note "through the fault proxy: no request either"
faultproxy_start "$NGINX_URL"
expect_exit 5 R restore -q --cacert "$RP_CACERT" --require-private "$PROXY_URL/disk.vhd" -o "$T/o3.vhd"
expect_stderr_has "not a private address"
sleep 0.2
[ "$(proxy_stat 'd["requests"]')" = 0 ] || fail "the proxy received requests"
pass "fault proxy stats: 0 requests"
faultproxy_stop

note "--private-cidr 127.0.0.0/8"
expect_exit 0 R restore -q --cacert "$RP_CACERT" --require-private --private-cidr 127.0.0.0/8 "$URL" \
	-o "$T/ok.vhd" --json
scmp "$T/ok.vhd" "$T/www/disk.vhd"
pass "restore with --private-cidr 127.0.0.0/8 works"
expect_exit 2 R restore -q --require-private --private-cidr 127.0.0.0/33 "$URL" -o "$T/bad.vhd"
pass "a bad --private-cidr is a usage error"

note "privatelink name with --resolve"
: >"$NGINX_LOG"
expect_exit 0 R restore -q --cacert "$RP_CACERT" --resolve "$PIN" --require-private \
	--private-cidr 127.0.0.0/8 "$PLURL" -o "$T/pl.vhd" --json
scmp "$T/pl.vhd" "$T/www/disk.vhd"
json_check "$RP_OUT" "d['source'] == '$PLURL'" "privatelink: source in the report"
[ "$(nginx_log_count '"GET /disk\.vhd ')" -ge 1 ] || fail "privatelink restore did not reach nginx"
pass "--resolve $PIN reaches nginx with verified TLS"
expect_exit 0 R verify -q --cacert "$RP_CACERT" --resolve "$PIN" "$PLURL"
pass "verify of the privatelink URL"
expect_exit 0 R preflight --cacert "$RP_CACERT" --resolve "$PIN" --require-private \
	--private-cidr 127.0.0.0/8 "$PLURL" --json
json_check "$RP_OUT" "[c for c in d['checks'] if c['check'] == 'dns'][0]['detail'].startswith('$PL resolves to 127.0.0.1')" \
	"preflight dns detail"
json_check "$RP_OUT" "'privatelink' in [c for c in d['checks'] if c['check'] == 'dns'][0]['detail']" \
	"preflight dns: privatelink"
json_check "$RP_OUT" 'd["verdict"] == "pass" and d["exit_code"] == 0' "preflight privatelink pass"
pass "preflight dns check names $PL"
expect_exit 4 R restore -q --cacert "$RP_CACERT" --resolve "other.example.invalid:$NGINX_PORT:127.0.0.1" \
	"https://other.example.invalid:$NGINX_PORT/disk.vhd" -o "$T/wrongname.vhd" --retries 0
grep -qiE 'certificate|ssl|subject|match' "$RP_ERR" || fail "a name not in the certificate: no TLS message"
pass "a pinned name the certificate lacks: exit 4 (TLS name check on)"

echo "test_restore_private: $PASSED passed, 0 failed"
