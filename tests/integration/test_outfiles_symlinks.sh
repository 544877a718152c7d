#!/bin/bash
# Outputs never follow a planted name (docs/files.md). In a world-writable directory WITHOUT the
# sticky bit (so Debian's fs.protected_symlinks does not step in, as it would in /tmp), another
# user (nobody, through setpriv) plants symbolic links to a victim file at every name a command
# writes: OUT.partial and OUT.lock of convert, restore's OUT.partial (new and resumed) and
# OUT.journal.tmp, the upload journal's .tmp, the seal and its old temporary name, --report,
# the HTML report, --prometheus, --audit-log, the descriptor written by rp import and its old
# temporary name, stage's NAME.tmp files, unwrap's key file. Each time the victim keeps its
# bytes, and the command either refuses with exit 4 and "'X' is a symbolic link; refusing to
# write through it", or (where the planted name is one we no longer use: temporary names are
# now random) succeeds without touching it.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PASSED=0
# W: the shared directory: mode 0777, no sticky bit (what the defect needs)
W=$T/shared
mkdir -m 0777 "$W"
chmod 0777 "$T"
[ "$(stat -c %a "$W")" = 777 ] || fail "cannot make a non-sticky world-writable directory"
VICTIM=$T/victim
printf 'precious bytes\n' >"$VICTIM"
chmod 0644 "$VICTIM"
WANT=$(sha256sum <"$VICTIM")

# plant NAME: a symbolic link W/NAME -> victim, made by another user when we can
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	plant() { setpriv --reuid=nobody --regid=nogroup --clear-groups ln -s "$VICTIM" "$W/$1"; }
else
	plant() { ln -s "$VICTIM" "$W/$1"; }
fi
victim_ok() {
	[ "$(sha256sum <"$VICTIM")" = "$WANT" ] || fail "$1: the victim file was written through a link"
}
refused() { # refused WHAT NAME: exit 4 (checked by expect_exit), the message names the link
	expect_stderr_has "'$W/$2' is a symbolic link; refusing to write through it"
	victim_ok "$1"
	rm -f "$W/$2"
	pass "$1: a link at $2 is refused"
}

it_make_raw "$W/d.raw" $((8 * MIB)) 0 5
R seal -q "$W/d.raw" -o "$T/d.seal.json" || fail "seal"

note "convert"
plant o.raw.partial
expect_exit 4 R convert -q "$W/d.raw" "$W/o.raw"
[ ! -e "$W/o.raw" ] || fail "convert made OUT"
refused "convert OUT.partial" o.raw.partial
plant o.raw.lock
expect_exit 4 R convert -q "$W/d.raw" "$W/o.raw"
refused "convert OUT.lock" o.raw.lock
expect_exit 0 R convert -q --to raw "$W/d.raw" "$W/o.raw"
cmp "$W/d.raw" "$W/o.raw" || fail "convert after the refusals"
[ ! -e "$W/o.raw.lock" ] && [ ! -e "$W/o.raw.partial" ] || fail "convert left its lock or partial"
pass "convert works once the links are gone, leaving no lock"

note "seal, --report, report, --prometheus, --audit-log"
plant s.json
expect_exit 4 R seal -q "$W/d.raw" -o "$W/s.json"
refused "seal" s.json
plant s.json.partial # the temporary name seals used to have
expect_exit 0 R seal -q "$W/d.raw" -o "$W/s.json"
victim_ok "seal's old temporary name"
[ -L "$W/s.json.partial" ] && rm -f "$W/s.json.partial"
pass "seal: a link at its old temporary name is left alone"
expect_exit 0 R verify "$W/d.raw" --seal "$T/d.seal.json" --json -q
cp "$RP_OUT" "$W/v.json"
plant r.html
expect_exit 4 R report "$W/v.json" -o "$W/r.html" --force
refused "report" r.html
plant m.prom
expect_exit 4 R verify -q "$W/d.raw" --seal "$T/d.seal.json" --prometheus "$W/m.prom"
refused "--prometheus" m.prom
plant audit.jsonl
expect_exit 4 R verify -q "$W/d.raw" --seal "$T/d.seal.json" --audit-log "$W/audit.jsonl"
refused "--audit-log" audit.jsonl

note "rp import (the descriptor writer)"
AZ=$RP_SOURCE_DIR/testdata/azure
IMPORT=(rp import --access-json "$AZ/get-access-cvm-os.json" --id rp-1 --vm-name v --os-type Linux)
plant rp.json
expect_exit 4 R "${IMPORT[@]}" -o "$W/rp.json"
refused "rp import" rp.json
plant rp.json.tmp # the temporary name descriptors used to have
expect_exit 0 R "${IMPORT[@]}" -o "$W/rp.json"
victim_ok "rp import's old temporary name"
[ "$(stat -c %a "$W/rp.json")" = 600 ] || fail "descriptor mode $(stat -c %a "$W/rp.json")"
rm -f "$W/rp.json.tmp"
pass "rp import: a link at its old temporary name is left alone"

note "stage (NAME.tmp of its files)"
F=$T/fx
bash "$RP_SOURCE_DIR/testdata/stage/make-stage.sh" "$CVMRESTORE" "$F" >/dev/null || fail "make-stage.sh"
mkdir -m 0777 "$W/st"
for n in restore.sh.tmp disks.json.tmp vm.json.tmp STAGED.txt.tmp guest_state.vmgs.partial; do
	plant "st/$n"
done
expect_exit 0 R stage "$F/cvm-rp.json" --out-dir "$W/st" -q
victim_ok "stage"
[ -s "$W/st/STAGED.txt" ] && [ ! -L "$W/st/restore.sh" ] || fail "stage did not write its files"
pass "stage: links at its old temporary names are left alone"

note "unwrap (a new key file)"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/kek.pem" 2>/dev/null
head -c 32 /dev/urandom >"$T/key32"
openssl pkeyutl -encrypt -inkey "$T/kek.pem" -pkeyopt rsa_padding_mode:oaep -in "$T/key32" \
	-out "$T/w.oaep"
plant key.bin
expect_exit 4 R unwrap --alg RSA-OAEP --kek-file "$T/kek.pem" --wrapped-file "$T/w.oaep" \
	-o "$W/key.bin"
refused "unwrap" key.bin

note "restore from Azurite"
azurite_start
R convert -q "$W/d.raw" "$T/d.vhd" || fail "convert to vhd"
blobtool upload-sparse disks/d.vhd "$T/d.vhd" --create-container >/dev/null
SAS=$(azurite_sas disks/d.vhd)
RESTORE=(restore -q --cacert "$RP_CACERT" "$SAS")
plant out.vhd.partial
expect_exit 4 R "${RESTORE[@]}" -o "$W/out.vhd"
[ ! -e "$W/out.vhd" ] || fail "restore made OUT"
refused "restore OUT.partial" out.vhd.partial
plant out.vhd.journal.tmp # the name the journal used to be written through
expect_exit 0 R "${RESTORE[@]}" -o "$W/out.vhd"
victim_ok "restore OUT.journal.tmp"
cmp "$W/out.vhd" "$T/d.vhd" || fail "restore output differs"
[ ! -e "$W/out.vhd.lock" ] || fail "restore left its lock"
rm -f "$W/out.vhd.journal.tmp"
pass "restore: a link at OUT.journal.tmp is left alone, the output is right"
# a resume reopens OUT.partial: a restore stopped by a seal of another disk keeps its partial
# and journal; with the partial swapped for a link, the same command is refused
it_make_raw "$T/e.raw" $((8 * MIB)) 1 6
R seal -q "$T/e.raw" -o "$T/e.seal.json" || fail "seal e.raw"
expect_exit 1 R "${RESTORE[@]}" --seal "$T/e.seal.json" -o "$W/r2.vhd"
[ -f "$W/r2.vhd.partial" ] && [ -f "$W/r2.vhd.journal" ] || fail "no partial and journal to resume"
rm -f "$W/r2.vhd.partial"
plant r2.vhd.partial
expect_exit 4 R "${RESTORE[@]}" --seal "$T/e.seal.json" -o "$W/r2.vhd"
refused "restore resuming OUT.partial" r2.vhd.partial
rm -f "$W/r2.vhd.journal"

note "upload (its journal's temporary name)"
blobtool create-container upl >/dev/null
it_make_raw "$T/u.raw" $((24 * MIB)) 0 17
R convert -q "$T/u.raw" "$W/u.vhd" || fail "convert u.raw"
blobtool create-page-blob upl/u.vhd "$(file_size "$W/u.vhd")" >/dev/null
plant u.vhd.upload-journal.tmp
expect_exit 0 R upload -q --cacert "$RP_CACERT" "$W/u.vhd" \
	"$(blobtool sas upl/u.vhd --expiry +3600 --perms rcw --full-url)"
victim_ok "upload journal"
pass "upload: a link at the journal's old temporary name is left alone"
plant u.vhd.upload-journal.lock
expect_exit 4 R upload -q --cacert "$RP_CACERT" "$W/u.vhd" \
	"$(blobtool sas upl/u.vhd --expiry +3600 --perms rcw --full-url)"
refused "upload lock" u.vhd.upload-journal.lock

echo "PASS: test_outfiles_symlinks ($PASSED checks)"
