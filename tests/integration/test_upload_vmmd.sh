#!/bin/bash
# The way back for a three-blob confidential VM: upload writes the disk, the guest state (_vmgs)
# and the VM metadata (_vmmd), each to its own SAS as a disk grant-access answer hands them out
# (accessSAS, securityDataAccessSAS, securityMetadataAccessSAS, api-version 2025-01-02), here
# page blobs on Azurite. Each blob reads back byte for byte; the options go in pairs; the
# metadata without a guest state is refused (a CVM OS disk has both).
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
azurite_start
blobtool create-container cvm3 >/dev/null
it_make_raw "$T/os.raw" $((20 * MIB)) 0 7 19
R convert -q "$T/os.raw" "$T/os.vhd" || fail "convert"
head -c 70000 /dev/urandom >"$T/gs.vmgs"
truncate -s 1052672 "$T/gs.vmgs"
head -c 4096 /dev/urandom >"$T/md.vmmd"
wsas() { blobtool sas "$1" --expiry +3600 --perms "${2:-rcw}" --full-url; }
back() { R restore -q --cacert "$RP_CACERT" --format raw "$(wsas "$1" r)" -o "$2" --force; }
UP=(upload --cacert "$RP_CACERT" --create -q)

note "disk, guest state and VM metadata, each to its SAS"
expect_exit 0 R "${UP[@]}" --json "$T/os.vhd" "$(wsas cvm3/os)" \
	--guest-state "$T/gs.vmgs" --guest-state-url "$(wsas cvm3/os_vmgs)" \
	--vm-metadata "$T/md.vmmd" --vm-metadata-url "$(wsas cvm3/os_vmmd)"
json_check "$RP_OUT" "d['verdict'] == 'pass' and d['guest_state']['verdict'] == 'pass' and d['vm_metadata']['verdict'] == 'pass' and d['vm_metadata']['blob_size'] == 4096" \
	"the report names all three blobs"
grep -q "sig=" "$RP_OUT" && fail "the report holds a SAS"
back cvm3/os "$T/os.back"
cmp "$T/os.back" "$T/os.raw" || fail "the disk differs"
back cvm3/os_vmgs "$T/gs.back"
cmp "$T/gs.back" "$T/gs.vmgs" || fail "the guest state differs"
back cvm3/os_vmmd "$T/md.back"
cmp "$T/md.back" "$T/md.vmmd" || fail "the VM metadata differs"
pass "three blobs uploaded and identical"

note "the options go together"
expect_exit 2 R "${UP[@]}" "$T/os.vhd" "$(wsas cvm3/x)" --vm-metadata "$T/md.vmmd"
expect_stderr_has "--vm-metadata FILE and --vm-metadata-url SAS_URL go together"
expect_exit 2 R "${UP[@]}" "$T/os.vhd" "$(wsas cvm3/x)" --vm-metadata "$T/md.vmmd" \
	--vm-metadata-url "$(wsas cvm3/x_vmmd)"
expect_stderr_has "--vm-metadata goes with --guest-state"
expect_exit 2 R "${UP[@]}" "$T/os.vhd" "$(wsas cvm3/x)" --guest-state "$T/gs.vmgs" \
	--guest-state-url "$(wsas cvm3/x_vmgs)" --vm-metadata "$T/md.vmmd" --vm-metadata-url ftp://x
expect_stderr_has "--vm-metadata-url must be an https:// URL"
grep -q "sig=" "$RP_ERR" && fail "a SAS was printed"
pass "pairs, the metadata with a guest state, https only: exit 2"
echo "test_upload_vmmd: $PASSED groups passed"
