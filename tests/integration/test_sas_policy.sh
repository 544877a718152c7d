#!/bin/bash
# SAS URLs that name a stored access policy (si=), as managed-disk and restore-point grants do
# (`?sv=...&sr=b&si=<id>&sig=...`: no sp=, no se=; their permissions and expiry live in the
# policy), against Azurite's stored access policies (Set Container ACL): restore and preflight
# work; an ended policy is exit 5 naming the policy and telling to grant access again; the
# sp=/se= form of Microsoft's REST examples keeps working; sp= without read beside si= fails.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
it_make_raw "$T/disk.raw" $((6 * 1048576)) 0 3
R convert -q "$T/disk.raw" "$T/disk.vhd" || fail "convert"
azurite_start
blobtool upload-sparse grants/disk.vhd "$T/disk.vhd" --create-container >/dev/null
# read for an hour; ended an hour ago; expiry only (the SAS gives sp=)
blobtool set-acl grants "live,r,-300,+3600" "ended,r,-7200,-3600" "expiry-only,,-300,+3600"
LIVE=$(blobtool sas grants/disk.vhd --policy live --full-url)
ENDED=$(blobtool sas grants/disk.vhd --policy ended --full-url)
WRITE=$(blobtool sas grants/disk.vhd --policy expiry-only --perms w --full-url)
case "$LIVE" in *sp=* | *se=*) fail "the policy SAS carries sp= or se=: $LIVE" ;; esac
NET=(--cacert "$RP_CACERT")

note "a SAS with only si=: preflight and restore work"
expect_exit 0 R preflight "${NET[@]}" "$LIVE" --json
json_check "$RP_OUT" "[c for c in d['checks'] if c['check'] == 'sas'][0]['result'] == 'pass'" \
	"the sas check fails: $(cat "$RP_OUT")"
expect_exit 0 R preflight "${NET[@]}" "$LIVE"
grep -q "stored access policy 'live' (si=)" "$RP_OUT" || fail "preflight does not name the policy"
expect_exit 0 R restore -q "${NET[@]}" "$LIVE" -o "$T/o1.vhd"
cmp "$T/o1.vhd" "$T/disk.vhd" || fail "the restored disk differs"
pass "si= only: preflight PASS naming the policy, restore exit 0 and byte-identical"

note "an ended policy: exit 5, and the message says to grant access again"
expect_exit 5 R preflight "${NET[@]}" "$ENDED"
expect_stderr_has "stored access policy 'ended' (si=): the access grant may have ended"
expect_exit 5 R restore -q "${NET[@]}" "$ENDED" -o "$T/o2.vhd"
expect_one_error_line "cvmrestore: restore: "
expect_stderr_has "grant access again"
grep -q "sig=" "$RP_ERR" && fail "the signature was printed"
[ ! -e "$T/o2.vhd" ] || fail "a refused restore left OUT"
pass "ended policy: preflight and restore exit 5 naming it"

note "sp= without read beside si=, and the sp=/se= form"
expect_exit 5 R preflight "${NET[@]}" "$WRITE"
expect_stderr_has "the SAS grants 'w' (sp=), without read"
expect_exit 0 R preflight "${NET[@]}" "$(azurite_sas grants/disk.vhd)"
grep -q "read permission (sp=r), valid until" "$RP_OUT" || fail "the sp=/se= form: $(cat "$RP_OUT")"
pass "sp=w with si=: FAIL without read; the sp=/se= form still PASS"
echo "test_sas_policy: $PASSED groups passed"
