#!/bin/bash
# A seal's whole-disk digests are its claim, never the disk's (issue 10, point 4): a seal whose
# chunk digests are right but whose whole-disk SHA-256 is forged. restore and verify of a URL
# (nginx) and verify of the local image pass on the chunks and show the forged value only as
# "seal_claims" / "seal says", never under "digests" (which hold only what was computed); with
# --digests sha256 (or --evidence) the digest is computed, differs from the claim, and that is a
# verification failure (exit 1: the seal is inconsistent with the bytes).
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PASSED=0

mkdir -p "$T/www"
it_make_raw "$T/disk.raw" $((16 * MIB)) 1 9
R convert -q "$T/disk.raw" "$T/www/disk.vhd" || fail "convert"
R seal -q "$T/www/disk.vhd" -o "$T/seal.json" --chunk-size 1M --digests sha256 || fail "seal"
REAL=$(sha256sum <"$T/disk.raw" | cut -d' ' -f1)
[ "$(json_get "$T/seal.json" 'd["digests"]["sha256"]')" = "$REAL" ] || fail "the seal's sha256 is not sha256sum's"
FORGED=$(printf 'not this disk' | sha256sum | cut -d' ' -f1)
/usr/bin/python3 - "$T/seal.json" "$T/forged.json" "$FORGED" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["digests"]["sha256"] = sys.argv[3]
json.dump(d, open(sys.argv[2], "w"))
PY
nginx_start "$T/www"
URL=$NGINX_URL/disk.vhd
# no_forged_digest FILE WHERE: the forged value appears only as the seal's claim
claims_only()
{
	json_check "$RP_OUT" "$1.get('digests', {}).get('sha256') != '$FORGED'" "$2: the forged digest is under digests"
	json_check "$RP_OUT" "$1['seal_claims']['sha256'] == '$FORGED'" "$2: seal_claims"
}

note "restore URL --seal"
expect_exit 0 R restore --cacert "$RP_CACERT" "$URL" --seal "$T/forged.json" -o "$T/o1.vhd" --json
claims_only d "restore --json"
json_check "$RP_OUT" "d['digests'] == {} and 'digests_from' not in d and d['chunks_compared'] == 16" \
	"restore --json: nothing computed, nothing under digests"
pass "restore --seal: the forged digest only under seal_claims"
expect_exit 0 R restore --cacert "$RP_CACERT" "$URL" --seal "$T/forged.json" -o "$T/o2.vhd"
grep -q "seal says sha256 $FORGED (not computed" "$RP_OUT" || fail "restore: no 'seal says' line: $(cat "$RP_OUT")"
[ "$(grep -c "$FORGED" "$RP_OUT")" = 1 ] || fail "restore: the forged digest shown elsewhere: $(cat "$RP_OUT")"
pass "restore --seal: human output says 'seal says sha256 ...' and nothing else"
expect_exit 1 R restore --cacert "$RP_CACERT" "$URL" --seal "$T/forged.json" -o "$T/o3.vhd" \
	--digests sha256
expect_stderr_has "whole-disk sha256 mismatch (the seal says $FORGED, computed $REAL)"
expect_stderr_has "the seal is inconsistent with the bytes"
[ ! -e "$T/o3.vhd" ] || fail "restore --digests: OUT exists after the failure"
pass "restore --seal --digests sha256: computed, differs from the claim: exit 1"
expect_exit 0 R restore --cacert "$RP_CACERT" "$URL" --seal "$T/seal.json" -o "$T/o4.vhd" \
	--digests sha256 --json
json_check "$RP_OUT" "d['digests'] == {'sha256': '$REAL'} and d['seal_claims']['sha256'] == '$REAL'" \
	"restore --digests with the true seal"
pass "restore --seal --digests sha256 with the true seal: computed and claimed agree"

note "restore URL --seal with an edited identity (seal-sha256)"
/usr/bin/python3 - "$T/seal.json" "$T/forged-id.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["identity"]["seal-sha256"] = "cd" * 32
json.dump(d, open(sys.argv[2], "w"))
PY
expect_exit 1 R restore --cacert "$RP_CACERT" "$URL" --seal "$T/forged-id.json" -o "$T/o5.vhd"
expect_stderr_has "whole-disk seal-sha256 mismatch (the seal says $(printf 'cd%.0s' $(seq 32)), computed"
[ ! -e "$T/o5.vhd" ] || fail "restore: OUT exists after an identity mismatch"
expect_exit 1 R verify --cacert "$RP_CACERT" "$URL" --seal "$T/forged-id.json"
expect_stderr_has "whole-disk seal-sha256 mismatch"
pass "restore and verify of a URL: an identity that disagrees with the chunks fails (exit 1)"

note "verify URL --seal"
expect_exit 0 R verify --cacert "$RP_CACERT" "$URL" --seal "$T/forged.json" --json
claims_only "d['disks'][0]" "verify URL --json"
json_check "$RP_OUT" "'digests' not in d['disks'][0] and d['verdict'] == 'pass'" "verify URL: no digests"
expect_exit 0 R verify --cacert "$RP_CACERT" "$URL" --seal "$T/forged.json"
grep -q "seal says sha256 $FORGED (not computed" "$RP_OUT" || fail "verify URL: no 'seal says' line: $(cat "$RP_OUT")"
[ "$(grep -c "$FORGED" "$RP_OUT")" = 1 ] || fail "verify URL: the forged digest shown elsewhere"
pass "verify URL --seal: the forged digest only as the seal's claim"
expect_exit 1 R verify --cacert "$RP_CACERT" "$URL" --seal "$T/forged.json" --evidence --json \
	--audit-log "$T/audit.jsonl"
json_check "$RP_OUT" "d['disks'][0]['digests']['sha256'] == '$REAL' and d['verdict'] == 'fail'" \
	"verify URL --evidence: the computed digest"
claims_only "d['disks'][0]" "verify URL --evidence"
! grep -q "$FORGED" "$T/audit.jsonl" || fail "verify URL --evidence: the forged digest is in the audit log"
pass "verify URL --seal --evidence: computed, differs from the claim: exit 1; the audit log has no claim"

note "verify of the local image --seal"
expect_exit 0 R verify "$T/www/disk.vhd" --seal "$T/forged.json" --json
claims_only "d['disks'][0]" "verify local --json"
expect_exit 1 R verify "$T/www/disk.vhd" --seal "$T/forged.json" --digests sha256 --json
json_check "$RP_OUT" "d['disks'][0]['digests']['sha256'] == '$REAL'" "verify local --digests"
pass "verify of the local image: the same rules"

echo "test_seal_claims: $PASSED passed, 0 failed"
