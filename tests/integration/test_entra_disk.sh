#!/bin/bash
# Managed disks with Entra ID data access (dataAccessAuthMode AzureActiveDirectory; docs/azure.md)
# against tests/servers/diskserver.py, which answers a SAS-only request with 401 and a Bearer
# challenge for https://disk.azure.com/, on a managed-disk host name pinned to 127.0.0.1:
# - restore and verify URL succeed byte for byte with --identity (IMDS), client credentials
#   (scope https://disk.azure.com//.default) and --bearer-token-file; every token the server
#   saw was for https://disk.azure.com/ and every token fetched was for it (none for storage);
# - a disk token the disk stops taking (--token-uses) is fetched again, for blob requests and
#   for the fetch engine's ranged reads;
# - without a credential option: exit 5, one line naming Entra ID data access, the options
#   and the role;
# - a token the disk refuses: exit 5 "refused the token";
# - a challenge naming another resource (https://evil.example.invalid/): not followed, no token
#   fetched, none sent, exit 5; the disk audience asked by a host that is not a managed-disk
#   host: not followed, no disk token fetched, exit 5;
# - a disk that does not demand it: the SAS alone, no token fetched or sent even with
#   --identity;
# - upload (Put Page) to a disk demanding it: byte-identical with --identity, exit 5 without;
# - preflight: PASS/FAIL entra-id lines;
# - no token and no SAS signature in any output or file the tool wrote.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
PASSED=0
MIB=1048576
HOST=md-entra1.z1.blob.storage.azure.net
SIG=EntraDiskSasSig0123456789abcdefXYZ
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_AUTHORITY_HOST

tokenserver_start --tls --client-secret "client-secret-entra-0123"
DISK_PID=
DISK_LOG=
stop_disk() { srv_kill "$DISK_PID" TERM; DISK_PID=; }
trap 'stop_disk; srv_stop_all; rp_cleanup' EXIT

# start_disk FILE DEMAND [ARGS...]: tests/servers/diskserver.py serving FILE; sets DISK_PORT,
# DISK_LOG
start_disk()
{
	local d
	stop_disk
	d=$(mktemp -d "$SRV_DIR/disk.XXXXXX")
	"$SRV_PY" "$SRV_SRC/diskserver.py" --cert "$SRV_CERT" --key "$SRV_KEY" --file "$1" \
		--sig "$SIG" --demand "$2" --log "$d/requests.log" --port-file "$d/port" "${@:3}" \
		>"$d/port.log" 2>&1 </dev/null &
	DISK_PID=$!
	disown "$DISK_PID"
	DISK_PORT=$(srv_wait_portfile "$d/port" "$DISK_PID" diskserver)
	DISK_LOG=$d/requests.log
	reset_logs
}
# reset_logs: empty the disk server's and the token server's logs (tokens kept for the scan)
reset_logs()
{
	: >"$DISK_LOG"
	cat "$TOKEN_LOG" >>"$T/alltokens.log" 2>/dev/null || true
	: >"$TOKEN_LOG"
}
url() { echo "https://${1:-$HOST}:$DISK_PORT/x1z2/abcd?sv=2018-03-28&sr=b&si=disk-policy&sig=$SIG"; }
PIN() { echo --cacert "$RP_CACERT" --resolve "${1:-$HOST}:$DISK_PORT:127.0.0.1"; }
IDENT=(--identity --imds-endpoint "$TOKEN_URL")
# auds: the distinct "auth" values the disk server saw, sorted, one line
auds() { "$PY" -c 'import json,sys; print(" ".join(sorted({json.loads(l)["auth"] for l in open(sys.argv[1])})))' "$DISK_LOG"; }
# issued: the distinct resources tokens were issued for, one line
issued() { "$PY" -c 'import json,sys; print(" ".join(sorted({json.loads(l)["resource"] for l in open(sys.argv[1])})))' "$TOKEN_LOG"; }

it_make_raw "$T/disk.raw" $((3 * MIB)) 0 2
it_put_random "$T/disk.raw" $((MIB + 4096)) 1024
R seal -q "$T/disk.raw" -o "$T/seal.json" || fail "seal"
cp "$T/disk.raw" "$T/served.raw"

# ---------------------------------------------------------------------------------------------
note "restore and verify URL with --identity: the disk audience only"
start_disk "$T/served.raw" disk
expect_exit 0 R restore -q $(PIN) "${IDENT[@]}" "$(url)" -o "$T/out1.raw"
cmp "$T/disk.raw" "$T/out1.raw" || fail "restore with --identity differs"
[ "$(auds)" = "https://disk.azure.com/ none" ] || fail "the disk saw: $(auds)"
[ "$(issued)" = "https://disk.azure.com/" ] || fail "tokens issued for: $(issued)"
"$PY" -c 'import json,sys
ls = [json.loads(l) for l in open(sys.argv[1])]
assert ls[0]["auth"] == "none" and ls[0]["status"] == 401, ls[0]
assert all(l["auth"] != "none" for l in ls[1:]), "a request after the challenge had no token"
assert all(l["version"] >= "2017-11-09" for l in ls)' "$DISK_LOG" || fail "request sequence"
expect_exit 0 R verify -q $(PIN) "${IDENT[@]}" --seal "$T/seal.json" --json "$(url)"
json_check "$RP_OUT" 'd["verdict"] == "pass" and d["disks"][0]["bytes_verified"] == 3 * 1048576' "verify URL with --identity"
[ "$(auds)" = "https://disk.azure.com/ none" ] || fail "verify: the disk saw: $(auds)"
pass "restore and verify URL with --identity"

note "a disk token that runs out mid-restore is fetched again (blob requests and ranged reads)"
start_disk "$T/served.raw" disk --token-uses 3
expect_exit 0 R restore -q $(PIN) "${IDENT[@]}" --chunk-size 256K --connections 1 "$(url)" \
	-o "$T/out1b.raw"
cmp "$T/disk.raw" "$T/out1b.raw" || fail "restore with tokens running out differs"
"$PY" -c 'import json,sys
ls = [json.loads(l) for l in open(sys.argv[1])]
used = [l for l in ls if l["auth"].startswith("used-up:")]
assert len(used) >= 3, len(used)
def n(r):
    a, b = r.split("=")[1].split("-")
    return int(b) - int(a) + 1
assert any(l["comp"] == "" and l["method"] == "GET" and n(l["range"]) == 262144 for l in used), \
    "no ranged read of the fetch engine ran out"
assert any(l["method"] == "HEAD" or l["comp"] == "pagelist" or n(l["range"]) != 262144
           for l in used), "no blob request ran out"
assert {l["auth"] for l in ls} <= {"none", "https://disk.azure.com/", "used-up:https://disk.azure.com/"}' \
	"$DISK_LOG" || fail "token refresh sequence"
[ "$(wc -l <"$TOKEN_LOG")" -ge 4 ] || fail "tokens were not fetched again"
[ "$(issued)" = "https://disk.azure.com/" ] || fail "refresh: tokens issued for: $(issued)"
pass "a used-up disk token is fetched again"

note "client credentials: scope https://disk.azure.com//.default"
start_disk "$T/served.raw" disk
AZURE_TENANT_ID=tenant-e AZURE_CLIENT_ID=app-e AZURE_CLIENT_SECRET=client-secret-entra-0123 \
	expect_exit 0 R restore -q $(PIN) --client-credentials --authority-host "$TOKEN_URL" \
	"$(url)" -o "$T/out2.raw"
cmp "$T/disk.raw" "$T/out2.raw" || fail "restore with client credentials differs"
# the token server issues aud = scope without "/.default": the slash must have been sent
[ "$(issued)" = "https://disk.azure.com/" ] || fail "client credentials issued for: $(issued)"
[ "$(auds)" = "https://disk.azure.com/ none" ] || fail "client credentials: the disk saw: $(auds)"
pass "client credentials"

note "--bearer-token-file with a disk token"
"$PY" - "$T/disk.tok" "https://disk.azure.com/" <<'EOF'
import base64, json, sys, time, secrets
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
p = {"aud": sys.argv[2], "exp": int(time.time()) + 3600, "jti": secrets.token_hex(16)}
open(sys.argv[1], "w").write(".".join([b(b'{"alg":"RS256"}'), b(json.dumps(p).encode()),
                                       b(secrets.token_bytes(32))]) + "\n")
EOF
expect_exit 0 R restore -q $(PIN) --bearer-token-file "$T/disk.tok" "$(url)" -o "$T/out3.raw"
cmp "$T/disk.raw" "$T/out3.raw" || fail "restore with a token file differs"
pass "--bearer-token-file"

note "no credential: exit 5 saying what to do"
expect_exit 5 R restore -q $(PIN) "$(url)" -o "$T/out4.raw"
expect_one_error_line "cvmrestore: "
expect_stderr_has "requires Microsoft Entra ID data access"
expect_stderr_has "dataAccessAuthMode AzureActiveDirectory"
expect_stderr_has "Managed Disks on the disk); give --bearer-token-file, --identity or --client-credentials"
expect_stderr_has "Data Operator for Managed Disks"
expect_exit 5 R verify -q $(PIN) --seal "$T/seal.json" "$(url)"
expect_stderr_has "requires Microsoft Entra ID data access"
pass "no credential: exit 5"

note "a token the disk refuses (another audience in the file): exit 5"
"$PY" - "$T/storage.tok" "https://storage.azure.com" <<'EOF'
import base64, json, sys, time, secrets
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
p = {"aud": sys.argv[2], "exp": int(time.time()) + 3600, "jti": secrets.token_hex(16)}
open(sys.argv[1], "w").write(".".join([b(b'{"alg":"RS256"}'), b(json.dumps(p).encode()),
                                       b(secrets.token_bytes(32))]) + "\n")
EOF
expect_exit 5 R restore -q $(PIN) --bearer-token-file "$T/storage.tok" "$(url)" -o "$T/out5.raw"
expect_stderr_has "refused the token for https://disk.azure.com/"
expect_stderr_has "Data Operator for Managed Disks"
pass "a refused token: exit 5"

note "a challenge for another resource is not followed"
start_disk "$T/served.raw" evil
expect_exit 5 R restore -q $(PIN) "${IDENT[@]}" "$(url)" -o "$T/out6.raw"
expect_stderr_has "https://evil.example.invalid/"
expect_stderr_has "refused"
[ ! -s "$TOKEN_LOG" ] || fail "a token was fetched for: $(issued)"
[ "$(auds)" = "none" ] || fail "evil: the disk saw: $(auds)"
pass "another resource: not followed"

note "the disk audience asked by a host that is not a managed-disk host is not followed"
start_disk "$T/served.raw" disk
OTHER=acct1.blob.core.windows.net
expect_exit 5 R restore -q $(PIN $OTHER) "${IDENT[@]}" "$(url $OTHER)" -o "$T/out7.raw"
expect_stderr_has "not a managed-disk host"
case " $(issued) " in *disk.azure.com*) fail "a disk token was fetched for $OTHER" ;; esac
case " $(auds) " in *disk.azure.com*) fail "a disk token went to $OTHER" ;; esac
pass "another host: not followed"

note "a disk without Entra ID data access: the SAS alone, no token fetched or sent"
start_disk "$T/served.raw" none
expect_exit 0 R restore -q $(PIN) "${IDENT[@]}" "$(url)" -o "$T/out8.raw"
cmp "$T/disk.raw" "$T/out8.raw" || fail "restore of a SAS-only disk differs"
[ "$(auds)" = "none" ] || fail "SAS-only: the disk saw: $(auds)"
[ ! -s "$TOKEN_LOG" ] || fail "SAS-only: a token was fetched for: $(issued)"
pass "SAS only: nothing sent"

note "preflight reports the challenge"
start_disk "$T/served.raw" disk
expect_exit 0 R preflight $(PIN) "${IDENT[@]}" "$(url)"
grep -q "^PASS entra-id .*requires a token for https://disk.azure.com/.*(the managed identity) got one" "$RP_OUT" ||
	fail "preflight with --identity: $(cat "$RP_OUT")"
expect_exit 5 R preflight $(PIN) "$(url)"
grep -q "^FAIL entra-id .*requires a token for https://disk.azure.com/.*no credential is configured -- the identity needs the role Data Operator for Managed Disks on the disk; give --bearer-token-file, --identity or --client-credentials\$" "$RP_OUT" ||
	fail "preflight without a credential: $(cat "$RP_OUT")"
expect_exit 0 R preflight $(PIN) --json "${IDENT[@]}" "$(url)"
json_check "$RP_OUT" '[c for c in d["checks"] if c["check"] == "entra-id"][0]["result"] == "pass"' \
	"preflight --json entra-id"
start_disk "$T/served.raw" none
expect_exit 0 R preflight $(PIN) "$(url)"
grep -q "^PASS entra-id .*no Entra ID challenge" "$RP_OUT" || fail "preflight SAS-only: $(cat "$RP_OUT")"
pass "preflight"

note "upload (Put Page) to a disk demanding it"
it_make_raw "$T/up.raw" $((20 * MIB)) 0 7 19 # Azure takes 20 MiB and more
R convert -q "$T/up.raw" "$T/disk.vhd" || fail "convert"
truncate -s "$(file_size "$T/disk.vhd")" "$T/target.vhd"
start_disk "$T/target.vhd" disk
expect_exit 5 R upload -q $(PIN) "$T/disk.vhd" "$(url)"
expect_stderr_has "requires Microsoft Entra ID data access"
rm -f "$T/disk.vhd.upload-journal"
expect_exit 0 R upload -q $(PIN) "${IDENT[@]}" "$T/disk.vhd" "$(url)"
cmp "$T/disk.vhd" "$T/target.vhd" || fail "the uploaded disk differs"
[ "$(auds)" = "https://disk.azure.com/ none" ] || fail "upload: the disk saw: $(auds)"
[ "$(issued)" = "https://disk.azure.com/" ] || fail "upload: tokens issued for: $(issued)"
"$PY" -c 'import json,sys
n = sum(1 for l in open(sys.argv[1]) if json.loads(l)["comp"] == "page" and json.loads(l)["status"] == 201)
assert n > 0, n' "$DISK_LOG" || fail "no Put Page succeeded"
pass "upload"

note "no token and no SAS signature in any output or file the tool wrote"
reset_logs
{
	"$PY" -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)["access_token"].encode().hex())' "$T/alltokens.log"
	tr -d '\n' <"$T/disk.tok" | od -An -tx1 | tr -d ' \n'
	echo
	printf '%s' "$SIG" | od -An -tx1 | tr -d ' \n'
	echo
	printf '%s' "client-secret-entra-0123" | od -An -tx1 | tr -d ' \n'
	echo
} >"$T/secrets.hex"
[ "$(wc -l <"$T/secrets.hex")" -gt 8 ] || fail "too few secrets to look for"
it_scan_secrets "$T" "$T/secrets.hex" disk.tok storage.tok tokens.log alltokens.log
pass "no secrets written"

echo "ok: $PASSED checks"
