#!/bin/bash
# No secret leaks: restores, verifies and preflights against Azurite (--oauth basic) with SAS URLs
# (good, expired, without read permission, forged: 403) and with bearer credentials (managed
# identity from the token server, client credentials, --bearer-token-file, a token for the wrong
# audience), some interrupted mid-way so that a journal stays. Every stdout, stderr, --json report,
# OUT.journal, OUT.partial and any other file the runs leave under the temp dir is searched for
# every SAS signature (raw and percent-decoded), every token the token server issued (whole and its
# signature part) and the client secret: none may appear.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
RUN=$T/run
MIB=1048576
PASSED=0
pass() { PASSED=$((PASSED + 1)); echo "-- ok ($SECONDS s): $*"; }
R() { "$CVMRESTORE" "$@"; }
mkdir -p "$RUN"
N=0
SECRETS=$T/secrets.txt
: >"$SECRETS"

# run CODE ARGS...: run cvmrestore in $RUN, expect CODE, keep its stdout and stderr there
run()
{
	local code=$1
	shift
	N=$((N + 1))
	(cd "$RUN" && expect_exit "$code" R "$@")
	cp "$RP_OUT" "$RUN/$N.stdout"
	cp "$RP_ERR" "$RUN/$N.stderr"
}

# add_sas URL: remember the URL's sig= value, raw and percent-decoded
add_sas()
{
	/usr/bin/python3 -c '
import sys, urllib.parse
q = urllib.parse.urlsplit(sys.argv[1]).query
raw = [p[4:] for p in q.split("&") if p.startswith("sig=")][0]
print(raw)
print(urllib.parse.unquote(raw))' "$1" >>"$SECRETS"
}

it_make_raw "$T/disk.raw" $((64 * MIB)) 2 30 61
R convert -q "$T/disk.raw" "$T/disk.vhd" || fail "convert"
# version 1: a JSON array of chunks, which the test edits
R seal -q "$T/disk.vhd" -o "$T/seal.json" --seal-version 1 || fail "seal"
CLIENT_SECRET=cs-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
echo "$CLIENT_SECRET" >>"$SECRETS"
azurite_start --oauth
tokenserver_start --tls --client-secret "$CLIENT_SECRET"
blobtool upload-sparse disks/s.vhd "$T/disk.vhd" --create-container >/dev/null
BLOB=$AZURITE_URL/disks/s.vhd

GOOD=$(azurite_sas disks/s.vhd)
EXPIRED=$(azurite_sas disks/s.vhd --expiry -60)
NOREAD=$(azurite_sas disks/s.vhd --perms w)
FORGED=$(/usr/bin/python3 -c '
import sys
u = sys.argv[1]
i = u.index("sig=") + 4
print(u[:i] + ("B" if u[i] != "B" else "C") + u[i + 1:])' "$GOOD")
for u in "$GOOD" "$EXPIRED" "$NOREAD" "$FORGED"; do add_sas "$u"; done

note "SAS"
run 0 restore --cacert "$RP_CACERT" "$GOOD" -o good.vhd --json
cmp "$RUN/good.vhd" "$T/disk.vhd" || fail "SAS restore differs"
run 0 restore --cacert "$RP_CACERT" "$GOOD" -o good2.vhd --seal "$T/seal.json"
run 0 verify --cacert "$RP_CACERT" "$GOOD" --seal "$T/seal.json" --json
run 0 verify --cacert "$RP_CACERT" "$GOOD"
run 0 preflight --cacert "$RP_CACERT" "$GOOD" -o pf.vhd
run 0 preflight --cacert "$RP_CACERT" "$GOOD" --json
pass "good SAS: restore, verify, preflight"
run 5 restore --cacert "$RP_CACERT" "$EXPIRED" -o expired.vhd --json
expect_stderr_has "expired"
run 5 verify --cacert "$RP_CACERT" "$EXPIRED" --json
run 5 preflight --cacert "$RP_CACERT" "$EXPIRED"
run 5 preflight --cacert "$RP_CACERT" "$EXPIRED" --json
pass "expired SAS: exit 5 (restore, verify, preflight)"
run 5 restore --cacert "$RP_CACERT" "$NOREAD" -o noread.vhd --json
expect_stderr_has "403"
run 5 verify --cacert "$RP_CACERT" "$NOREAD"
run 5 preflight --cacert "$RP_CACERT" "$NOREAD" --json
pass "SAS without read permission: exit 5"
run 5 restore --cacert "$RP_CACERT" "$FORGED" -o forged.vhd
expect_stderr_has "403"
run 5 verify --cacert "$RP_CACERT" "$FORGED" --json
run 5 preflight --cacert "$RP_CACERT" "$FORGED"
pass "forged SAS: 403, exit 5"

note "a journal written with a SAS: a seal mismatch leaves OUT.partial and OUT.journal"
/usr/bin/python3 - "$T/seal.json" "$T/bad-seal.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
i = next(i for i, c in enumerate(s["chunks"]) if len(c) == 64 and i > 0)
s["chunks"][i] = "f" * 64
json.dump(s, open(sys.argv[2], "w"))
EOF
run 1 restore --cacert "$RP_CACERT" "$GOOD" -o sealfail.vhd --seal "$T/bad-seal.json" --json
[ -f "$RUN/sealfail.vhd.journal" ] || fail "no journal left to inspect"
pass "journal kept after a failure with a SAS URL"

note "bearer credentials"
run 0 restore --cacert "$RP_CACERT" --identity --imds-endpoint "$TOKEN_URL" "$BLOB" -o mi.vhd --json
cmp "$RUN/mi.vhd" "$T/disk.vhd" || fail "managed identity restore differs"
run 0 verify --cacert "$RP_CACERT" --identity --imds-endpoint "$TOKEN_URL" "$BLOB" --seal "$T/seal.json"
run 0 preflight --cacert "$RP_CACERT" --identity --imds-endpoint "$TOKEN_URL" "$BLOB" --json
pass "managed identity (token server): restore, verify, preflight"
export AZURE_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47 AZURE_CLIENT_ID=app-1234
export AZURE_CLIENT_SECRET=$CLIENT_SECRET
run 0 restore --cacert "$RP_CACERT" --client-credentials --authority-host "$TOKEN_URL" "$BLOB" \
	-o cc.vhd --json
cmp "$RUN/cc.vhd" "$T/disk.vhd" || fail "client credentials restore differs"
AZURE_CLIENT_SECRET=wrong-$CLIENT_SECRET
echo "$AZURE_CLIENT_SECRET" >>"$SECRETS"
run 5 restore --cacert "$RP_CACERT" --client-credentials --authority-host "$TOKEN_URL" "$BLOB" \
	-o ccbad.vhd --json
run 5 preflight --cacert "$RP_CACERT" --client-credentials --authority-host "$TOKEN_URL" "$BLOB"
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET
pass "client credentials: restore; a wrong secret is exit 5"

# tokens for files: one for storage, one for Key Vault (the wrong audience: 403)
imds_token()
{
	curl -sS --cacert "$RP_CACERT" -H "Metadata: true" \
		"$TOKEN_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$1" |
		/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
imds_token https://storage.azure.com >"$T/token.txt"
imds_token https://vault.azure.net >"$T/vault-token.txt"
run 0 restore --cacert "$RP_CACERT" --bearer-token-file "$T/token.txt" "$BLOB" -o file.vhd --json
cmp "$RUN/file.vhd" "$T/disk.vhd" || fail "--bearer-token-file restore differs"
run 0 verify --cacert "$RP_CACERT" --bearer-token-file "$T/token.txt" "$BLOB" --json
run 0 preflight --cacert "$RP_CACERT" --bearer-token-file "$T/token.txt" "$BLOB"
run 5 restore --cacert "$RP_CACERT" --bearer-token-file "$T/vault-token.txt" "$BLOB" -o aud.vhd --json
run 5 verify --cacert "$RP_CACERT" --bearer-token-file "$T/vault-token.txt" "$BLOB"
run 5 preflight --cacert "$RP_CACERT" --bearer-token-file "$T/vault-token.txt" "$BLOB" --json
pass "--bearer-token-file: restore, verify, preflight; the wrong audience is exit 5"
run 1 restore --cacert "$RP_CACERT" --bearer-token-file "$T/token.txt" "$BLOB" -o tokfail.vhd \
	--seal "$T/bad-seal.json" --json
[ -f "$RUN/tokfail.vhd.journal" ] || fail "no journal left to inspect (bearer)"

note "search every output for secrets"
# scan DIR: fail-free check that no file under DIR (but srv/ and the inputs) holds a secret
scan()
{
	/usr/bin/python3 - "$1" "$SECRETS" <<'EOF'
import os, sys
root, secrets = sys.argv[1], [s for s in open(sys.argv[2]).read().split("\n") if len(s) >= 8]
skip = {"secrets.txt", "token.txt", "vault-token.txt"}
bad = 0
for d, dirs, files in os.walk(root):
    if d == os.path.join(root, "srv"):
        dirs[:] = []
        continue
    for f in files:
        if f in skip:
            continue
        p = os.path.join(d, f)
        data = open(p, "rb").read()
        for s in secrets:
            if s.encode() in data:
                print("LEAK: %s holds %s..." % (p, s[:6]), file=sys.stderr)
                bad = 1
sys.exit(bad)
EOF
}
/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)["access_token"]
    print(t)
    print(t.split(".")[2])' "$TOKEN_LOG" >>"$SECRETS"
ntok=$(grep -c . "$TOKEN_LOG")
[ "$ntok" -ge 4 ] || fail "the token server issued $ntok tokens; the bearer runs are void"
nsec=$(grep -c . "$SECRETS")
files=$(find "$T" -path "$T/srv" -prune -o -type f ! -name secrets.txt ! -name token.txt \
	! -name vault-token.txt -print | wc -l)
scan "$T" || fail "a secret leaked (above)"
pass "$nsec secrets ($ntok tokens) found in none of $files files (outputs, reports, journals)"
ls "$RUN"/*.journal >/dev/null || fail "no journal was searched"
# the search itself finds a planted signature (percent-decoded) and a planted token
mkdir -p "$T/control/a" "$T/control/b"
sed -n 2p "$SECRETS" >"$T/control/a/x.log"
printf 'Authorization: Bearer %s\n' "$(cat "$T/token.txt")" >"$T/control/b/y.journal"
for d in a b; do
	! scan "$T/control/$d" 2>/dev/null || fail "the secret search misses a planted secret ($d)"
done
pass "the secret search finds planted secrets"

echo "test_restore_secrets: $PASSED passed, 0 failed"
