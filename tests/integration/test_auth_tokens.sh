# Tokens from a managed identity endpoint (IMDS) and from the client credentials flow, through
# net/auth.c against tests/servers/tokenserver.py on loopback: retries, caching, refresh
# after a short expiry, refusals with their error code, and no token or secret in any output.
# The client is the unit test executable in its "drive" mode (tests/unit/test_auth.c).
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

DRIVE=$RP_BUILD_DIR/tests/test_auth
[ -x "$DRIVE" ] || fail "$DRIVE is not built (target test_auth)"
SECRET='Sx8~q+F/7k=secret&value'
ALL=$RP_TMP/all-outputs
: >"$ALL"
export RP_AUTH_RETRY_BASE_MS=10
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_AUTHORITY_HOST

# drive CODE ARGS...: run the client, expect exit CODE, keep its outputs for the final grep.
drive()
{
	local want=$1
	shift
	expect_exit "$want" "$DRIVE" drive "$@"
	cat "$RP_OUT" "$RP_ERR" >>"$ALL"
}

stat_is()
{
	json_check "$TOKEN_STATS" "$1" "token server stats: want $1, have $(cat "$TOKEN_STATS")"
}

last_log()
{
	tail -n 1 "$TOKEN_LOG" >"$RP_TMP/last.json"
	json_get "$RP_TMP/last.json" "$1"
}

note "IMDS: one 500, then a token; expires_in 4 s (strings, as IMDS sends them)"
tokenserver_start --fail-first 1 --fail-status 500 --expires-in 4
drive 0 --imds "$TOKEN_URL" --audience https://storage.azure.com
grep -qx 'call 1: ok token #1' "$RP_OUT" || fail "no token: $(cat "$RP_OUT")"
stat_is 'd["imds"] == 2 and d["failed_injected"] == 1 and d["issued"] == 1'
[ "$(last_log 'd["resource"]')" = https://storage.azure.com ] || fail "wrong resource"

note "IMDS: cached within the lifetime, refreshed at half of a short one"
drive 0 --imds "$TOKEN_URL/" --calls 3 --sleep-ms 300
[ "$(tail -n 1 "$RP_OUT")" = 'call 3: ok token #1' ] || fail "not cached: $(cat "$RP_OUT")"
stat_is 'd["issued"] == 2'
drive 0 --imds "$TOKEN_URL" --calls 3 --sleep-ms 2300
[ "$(tail -n 1 "$RP_OUT")" = 'call 3: ok token #3' ] || fail "not refreshed: $(cat "$RP_OUT")"
stat_is 'd["issued"] == 5'

note "IMDS: a user-assigned identity's client_id reaches the endpoint"
drive 0 --imds "$TOKEN_URL" --client-id 0c0ffee0-1111-4222-8333-444455556666 \
	--audience https://vault.azure.net
[ "$(last_log 'd["client_id"]')" = 0c0ffee0-1111-4222-8333-444455556666 ] || fail "client_id lost"
[ "$(last_log 'd["resource"]')" = https://vault.azure.net ] || fail "wrong resource"

note "IMDS: invalidate after a 401 fetches a new token"
drive 0 --imds "$TOKEN_URL" --calls 2 --invalidate
[ "$(tail -n 1 "$RP_OUT")" = 'call 2: ok token #2' ] || fail "not re-fetched: $(cat "$RP_OUT")"
tokenserver_stop

note "IMDS: 403 is final (one request, RP_EAUTH), 503 until retries run out (RP_EIO)"
tokenserver_start --fail-first 100 --fail-status 403
drive 5 --imds "$TOKEN_URL"
expect_stderr_has "managed identity token from $TOKEN_URL/metadata/identity/oauth2/token: HTTP 403 temporarily_unavailable: injected failure 403"
stat_is 'd["imds"] == 1'
tokenserver_stop
tokenserver_start --fail-first 100 --fail-status 500
drive 4 --imds "$TOKEN_URL"
expect_stderr_has "(gave up after 10 attempts): HTTP 500"
stat_is 'd["imds"] == 10'
tokenserver_stop

note "IMDS: 410 (IMDS being updated) and 429 with Retry-After: 1 are retried"
tokenserver_start --fail-first 1 --fail-status 410
drive 0 --imds "$TOKEN_URL"
tokenserver_stop
tokenserver_start --fail-first 1 --fail-status 429
start=$(date +%s%N)
drive 0 --imds "$TOKEN_URL"
[ $(( ($(date +%s%N) - start) / 1000000 )) -ge 1000 ] || fail "Retry-After: 1 not honoured"
tokenserver_stop

note "IMDS: nothing listening is RP_EIO naming the endpoint"
port=1 # a privileged port nothing here serves; a "free" one may be taken by a test alongside
drive 4 --imds "http://127.0.0.1:$port"
expect_stderr_has "managed identity token (gave up after 3 attempts): http://127.0.0.1:$port/metadata/identity/oauth2/token"

note "client credentials over HTTPS: success, then a wrong secret"
tokenserver_start --tls --client-secret "$SECRET" --client-id app-1 --tenant tenant-1 \
	--expires-in 3600 --fail-first 1 --fail-status 503
export AZURE_TENANT_ID=tenant-1 AZURE_CLIENT_ID=app-1 AZURE_CLIENT_SECRET=$SECRET
drive 0 --client --authority "$TOKEN_URL" --cacert "$RP_CACERT" --audience https://vault.azure.net \
	--calls 2
[ "$(tail -n 1 "$RP_OUT")" = 'call 2: ok token #1' ] || fail "not cached: $(cat "$RP_OUT")"
stat_is 'd["client_credentials"] == 2 and d["issued"] == 1'
[ "$(last_log 'd["kind"]')" = client_credentials ] || fail "wrong kind"
[ "$(last_log 'd["resource"]')" = https://vault.azure.net ] || fail "wrong scope"
AZURE_AUTHORITY_HOST=$TOKEN_URL drive 0 --client --cacert "$RP_CACERT"
[ "$(last_log 'd["resource"]')" = https://storage.azure.com ] || fail "wrong scope"

AZURE_CLIENT_SECRET="${SECRET}x" drive 5 --client --authority "$TOKEN_URL" --cacert "$RP_CACERT"
expect_stderr_has "client credentials token from $TOKEN_URL/tenant-1/oauth2/v2.0/token: HTTP 401 invalid_client: AADSTS7000215"
AZURE_TENANT_ID=other drive 5 --client --authority "$TOKEN_URL" --cacert "$RP_CACERT"
expect_stderr_has "HTTP 400 invalid_tenant"

note "client credentials: a missing variable is a usage error naming it"
AZURE_CLIENT_SECRET= drive 2 --client --authority "$TOKEN_URL" --cacert "$RP_CACERT"
expect_stderr_has "environment variable AZURE_CLIENT_SECRET"

note "client credentials: http:// to the authority is refused unless allowed"
drive 2 --client --authority "http://127.0.0.1:$TOKEN_PORT"
expect_stderr_has "authority host 'http://127.0.0.1:$TOKEN_PORT' is not an https:// URL"
tokenserver_stop

note "no token and no secret in any output"
n=0
for log in "$SRV_DIR"/token.*/tokens.log; do
	while read -r tok; do
		n=$((n + 1))
		! grep -qF -- "$tok" "$ALL" || fail "a token appears in the output"
		sig=${tok##*.}
		! grep -qF -- "$sig" "$ALL" || fail "a token's signature appears in the output"
	done < <(/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    print(json.loads(line)["access_token"])' "$log")
done
[ "$n" -ge 8 ] || fail "only $n tokens were issued"
! grep -qF -- "$SECRET" "$ALL" || fail "the client secret appears in the output"
! grep -qF -- "Sx8~q" "$ALL" || fail "part of the client secret appears in the output"
note "ok ($n tokens checked)"
