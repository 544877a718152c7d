#!/bin/bash
# A recovery point descriptor's local sources stay in the descriptor's folder (docs/files.md):
# a source that is absolute, has a '..' component, or leads out through a symbolic link is
# refused by restore, verify and stage (exit 2, naming the disk and the option, never quoting the
# source, which docs/recovery-point.md keeps out of messages), unless the
# operator gives --allow-outside-sources; a subfolder is fine. Files made from a local source
# keep its restrictive mode: a 0600 source gives a 0600 output (restore, stage's copies and
# converted disks), never 0644.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir

T=$RP_TMP
PASSED=0
umask 022
mkdir -p "$T/rp/sub" "$T/outside"
cp "$RP_SOURCE_DIR/testdata/sample-rp/os-disk.vhd" "$T/outside/secret.vhd"
chmod 0600 "$T/outside/secret.vhd"
cp "$RP_SOURCE_DIR/testdata/sample-rp/os-disk.vhd" "$T/rp/sub/os.vhd"
chmod 0600 "$T/rp/sub/os.vhd"
ln -s ../outside/secret.vhd "$T/rp/link.vhd"

# desc FILE SOURCE: the sample descriptor with its disk's source replaced
desc()
{
	$PY - "$RP_SOURCE_DIR/testdata/sample-rp/recovery-point.json" "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["disks"][0]["source"] = sys.argv[3]
json.dump(d, open(sys.argv[2], "w"))
EOF
}

note "sources outside the descriptor's folder are refused"
for src in "../outside/secret.vhd" "$T/outside/secret.vhd" "sub/../../outside/secret.vhd"; do
	desc "$T/rp/rp.json" "$src"
	expect_exit 2 R restore "$T/rp/rp.json" --disk osdisk -o "$T/out.vhd" -q
	expect_stderr_has "disk 'osdisk': its local source is outside the descriptor's folder"
	grep -qF "$src" "$RP_ERR" && fail "the message quotes the source"
	expect_stderr_has "--allow-outside-sources"
	[ ! -e "$T/out.vhd" ] || fail "a refused restore wrote OUT"
	expect_exit 2 R verify "$T/rp/rp.json" -q
	expect_stderr_has "outside the descriptor's folder"
done
desc "$T/rp/rp.json" link.vhd
expect_exit 2 R restore "$T/rp/rp.json" --disk osdisk -o "$T/out.vhd" -q
expect_stderr_has "disk 'osdisk': its local source leads outside the descriptor's folder through a symbolic link"
[ ! -e "$T/out.vhd" ] || fail "a refused restore wrote OUT"
pass "absolute, '..' and symbolic-link sources are refused by restore and verify"

note "--allow-outside-sources, a subfolder, and the output's mode"
expect_exit 0 R restore "$T/rp/rp.json" --disk osdisk -o "$T/out.vhd" -q --allow-outside-sources
R verify -q "$T/out.vhd" --seal "$RP_SOURCE_DIR/testdata/sample-rp/os-disk.seal.json" ||
	fail "the allowed restore does not match the seal"
[ "$(stat -c %a "$T/out.vhd")" = 600 ] || fail "out.vhd has mode $(stat -c %a "$T/out.vhd"), want 600"
expect_exit 0 R verify "$T/rp/rp.json" -q --allow-outside-sources
desc "$T/rp/rp.json" sub/os.vhd
expect_exit 0 R restore "$T/rp/rp.json" --disk osdisk -o "$T/sub.vhd" -q
[ "$(stat -c %a "$T/sub.vhd")" = 600 ] || fail "sub.vhd has mode $(stat -c %a "$T/sub.vhd")"
pass "--allow-outside-sources reads them; a subfolder needs nothing; a 0600 source stays 0600"

note "stage"
F=$T/fx
bash "$RP_SOURCE_DIR/testdata/stage/make-stage.sh" "$CVMRESTORE" "$F" >/dev/null || fail "make-stage.sh"
mv "$F/guest.vmgs" "$T/outside/guest.vmgs"
chmod 0600 "$T/outside/guest.vmgs"
$PY - "$F/cvm-rp.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["guest_state"]["source"] = "../outside/guest.vmgs"
json.dump(d, open(sys.argv[1], "w"))
EOF
expect_exit 2 R stage "$F/cvm-rp.json" --out-dir "$T/st" -q
expect_stderr_has "guest_state: its local source is outside the descriptor's folder"
[ ! -e "$T/st/guest_state.vmgs" ] || fail "a refused stage copied the guest state"
expect_exit 0 R stage "$F/cvm-rp.json" --out-dir "$T/st" -q --allow-outside-sources
cmp "$T/st/guest_state.vmgs" "$T/outside/guest.vmgs" || fail "staged guest state differs"
[ "$(stat -c %a "$T/st/guest_state.vmgs")" = 600 ] ||
	fail "staged guest state has mode $(stat -c %a "$T/st/guest_state.vmgs"), want 600"
pass "stage refuses an outside source, copies it with --allow-outside-sources, mode 0600 kept"

echo "PASS: test_descriptor_confine ($PASSED checks)"
