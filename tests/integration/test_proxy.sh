#!/bin/bash
# Proxies from the environment (curl's variables: https_proxy, HTTPS_PROXY, http_proxy,
# all_proxy, ALL_PROXY, no_proxy): token requests to IMDS never use one (a proxy cannot reach
# the link-local endpoint, and would see the token: the Azure SDKs' rule); storage requests do,
# and a failure names the proxy and its variable; --require-private connects directly and says
# that it leaves the proxy out. The proxy is "http://127.0.0.1:1": nothing listens there, so a
# request that went through it fails.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
DEAD=http://user:pw-marker@127.0.0.1:1
DRIVE=$RP_BUILD_DIR/tests/test_auth
[ -x "$DRIVE" ] || fail "$DRIVE is not built (target test_auth)"
export RP_AUTH_RETRY_BASE_MS=10
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_AUTHORITY_HOST
# lib.sh exempts 127.0.0.1 from proxies; these checks need the proxy variables to apply
unset NO_PROXY no_proxy

mkdir -p "$T/www"
it_make_raw "$T/disk.raw" $((4 * 1048576)) 0 2
R convert -q "$T/disk.raw" "$T/www/disk.vhd" || fail "convert"
nginx_start "$T/www"
tokenserver_start

note "IMDS: a token request never goes through the proxy"
expect_exit 0 env http_proxy=$DEAD HTTP_PROXY=$DEAD all_proxy=$DEAD "$DRIVE" drive \
	--imds "$TOKEN_URL" --audience https://storage.azure.com
pass "IMDS answered directly with http_proxy and all_proxy set"

note "storage requests honour https_proxy, and the error names it (without its user info)"
expect_exit 4 env https_proxy=$DEAD "$CVMRESTORE" restore -q --cacert "$RP_CACERT" \
	"$NGINX_URL/disk.vhd" -o "$T/o1.vhd"
expect_stderr_has "through the proxy http://127.0.0.1:1 from https_proxy"
grep -q pw-marker "$RP_ERR" && fail "the proxy's password was printed"
expect_exit 0 env https_proxy=$DEAD no_proxy=other.example,127.0.0.1 "$CVMRESTORE" restore -q \
	--cacert "$RP_CACERT" "$NGINX_URL/disk.vhd" -o "$T/o2.vhd"
expect_exit 4 env ALL_PROXY=$DEAD "$CVMRESTORE" preflight --cacert "$RP_CACERT" \
	"$NGINX_URL/disk.vhd"
pass "https_proxy used (exit 4 naming it), no_proxy exempts, ALL_PROXY used by preflight"

note "--require-private connects directly and says so"
expect_exit 0 env https_proxy=$DEAD "$CVMRESTORE" restore -q --cacert "$RP_CACERT" \
	--require-private --private-cidr 127.0.0.0/8 "$NGINX_URL/disk.vhd" -o "$T/o3.vhd"
expect_stderr_has "note: --require-private connects directly: the proxy http://127.0.0.1:1 from https_proxy is not used"
grep -q pw-marker "$RP_ERR" && fail "the proxy's password was printed"
cmp "$T/o3.vhd" "$T/www/disk.vhd" || fail "the direct restore differs"
expect_exit 0 "$CVMRESTORE" restore -q --cacert "$RP_CACERT" --require-private \
	--private-cidr 127.0.0.0/8 "$NGINX_URL/disk.vhd" -o "$T/o4.vhd"
[ -s "$RP_ERR" ] && fail "a note without any proxy set: $(cat "$RP_ERR")"
pass "--require-private: direct, with a note only when a proxy is set"
echo "test_proxy: $PASSED groups passed"
