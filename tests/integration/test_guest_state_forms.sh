#!/bin/bash
# The guest state blob (_vmgs) in both forms it may take: opaque bytes, and a VHD (OpenVMM's
# documentation says the VMGS file is packaged as a VHD, and Microsoft's examples name the blob
# vmgs.vhd). Whatever its form, restore --all, stage and upload carry it byte for byte: a
# footer is neither cut nor added, nor is the size rounded (beyond the 512-byte page a page blob
# needs, which a VHD already is). The VM metadata blob (_vmmd) likewise.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
F=$T/fx
bash "$RP_SOURCE_DIR/testdata/stage/make-stage.sh" "$CVMRESTORE" "$F" >/dev/null
# form 1: a fixed VHD of 1 MiB (a footer after the data); form 2: opaque, 1 MiB + 4 KiB
head -c $((512 * 1024)) /dev/urandom >"$T/gs.raw"
truncate -s $MIB "$T/gs.raw"
R convert -q "$T/gs.raw" "$T/gs-vhd.vmgs" || fail "convert"
[ "$(file_size "$T/gs-vhd.vmgs")" = $((MIB + 512)) ] || fail "the VHD form is not 1 MiB + 512"
cp "$F/guest.vmgs" "$T/gs-opaque.vmgs"
head -c 4096 /dev/urandom >"$T/md.vmmd"
azurite_start
blobtool create-container gsf >/dev/null
blobtool upload-sparse gsf/os.vhd "$F/os.vhd" >/dev/null
blobtool upload-sparse gsf/md "$T/md.vmmd" >/dev/null
wsas() { blobtool sas "$1" --expiry +3600 --perms "${2:-rcw}" --full-url; }

for form in vhd opaque; do
	note "guest state as $form"
	blobtool upload-sparse "gsf/gs-$form" "$T/gs-$form.vmgs" >/dev/null
	$PY - "$F/cvm-nogs-rp.json" "$T/rp-$form.json" "$(azurite_sas gsf/os.vhd)" \
		"$(azurite_sas "gsf/gs-$form")" "$(azurite_sas gsf/md)" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["disks"][0]["source"] = sys.argv[3]
d["guest_state"] = {"source": sys.argv[4], "size": None}
d["vm_metadata"] = {"source": sys.argv[5], "size": None}
json.dump(d, open(sys.argv[2], "w"))
PYEOF
	R restore "$T/rp-$form.json" --all --out-dir "$T/all-$form" -q --cacert "$RP_CACERT" ||
		fail "$form: restore --all"
	cmp "$T/all-$form/guest_state.blob" "$T/gs-$form.vmgs" || fail "$form: restore --all changed the guest state"
	cmp "$T/all-$form/vm_metadata.blob" "$T/md.vmmd" || fail "$form: restore --all changed the VM metadata"
	R stage "$T/rp-$form.json" --out-dir "$T/st-$form" -q --cacert "$RP_CACERT" >/dev/null ||
		fail "$form: stage"
	cmp "$T/st-$form/guest_state.vmgs" "$T/gs-$form.vmgs" || fail "$form: stage changed the guest state"
	cmp "$T/st-$form/vm_metadata.vmmd" "$T/md.vmmd" || fail "$form: stage changed the VM metadata"
	R upload --cacert "$RP_CACERT" --create -q "$T/st-$form/osdisk.vhd" "$(wsas "gsf/up-$form")" \
		--guest-state "$T/st-$form/guest_state.vmgs" --guest-state-url "$(wsas "gsf/up-$form-gs")" \
		--vm-metadata "$T/st-$form/vm_metadata.vmmd" --vm-metadata-url "$(wsas "gsf/up-$form-md")" ||
		fail "$form: upload"
	R restore -q --cacert "$RP_CACERT" "$(wsas "gsf/up-$form-gs" r)" -o "$T/back-$form.vmgs" ||
		fail "$form: read back"
	cmp "$T/back-$form.vmgs" "$T/gs-$form.vmgs" || fail "$form: the uploaded guest state differs"
	pass "guest state as $form: restore --all, stage and upload keep every byte"
done
note "an offline copy: a local guest state file is copied byte for byte too"
cp "$T/gs-vhd.vmgs" "$F/gs-local.vmgs"
cp "$T/md.vmmd" "$F/md-local.vmmd"
$PY - "$F/cvm-nogs-rp.json" "$F/local-rp.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["guest_state"] = {"source": "gs-local.vmgs", "size": None}
d["vm_metadata"] = {"source": "md-local.vmmd", "size": None}
json.dump(d, open(sys.argv[2], "w"))
PYEOF
R restore "$F/local-rp.json" --all --out-dir "$T/all-local" -q || fail "local: restore --all"
cmp "$T/all-local/guest_state.blob" "$T/gs-vhd.vmgs" || fail "local: the guest state's footer was rewritten"
cmp "$T/all-local/vm_metadata.blob" "$T/md.vmmd" || fail "local: the VM metadata differs"
pass "offline copy: restore --all keeps a local guest state's own VHD footer"
echo "test_guest_state_forms: $PASSED groups passed"
