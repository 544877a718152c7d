#!/usr/bin/env bash
# Recovery point descriptors: rp import of Azure's documents, rp show without secrets, restore
# and verify with --disk / --all from offline copies and from Azurite, embedded seals enforced.
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
C=$CVMRESTORE
T=$RP_TMP
AZ=$RP_SOURCE_DIR/testdata/azure
passed=0

# rp import of a CVM OS disk's beginGetAccess answer: the disk, the guest state, the metadata.
expect_exit 0 "$C" rp import --access-json "$AZ/get-access-cvm-os.json" -o "$T/cvm.json" \
	--id rp-1 --vm-name cvm1 --os-type Linux
[ "$(stat -c %a "$T/cvm.json")" = 600 ] || fail "descriptor is not mode 0600"
json_check "$T/cvm.json" 'd["disks"][0]["role"] == "os" and d["guest_state"]["source"].startswith("https://") and d["vm"]["hyperv_generation"] == "V2"' \
	"import of a CVM beginGetAccess answer"
expect_exit 0 "$C" rp show "$T/cvm.json" --json
grep -q FAKEsignature "$RP_OUT" && fail "rp show printed a SAS signature"
grep -q 'sig=' "$RP_OUT" && fail "rp show printed a query"
passed=$((passed + 1))

# The Azure Backup config blob (UTF-16 with trailing NULs).
expect_exit 0 "$C" rp import --backup-config "$AZ"/config-linuxvm01-*.json -o "$T/backup.json" --id rp-2
json_check "$T/backup.json" 'len(d["disks"]) >= 2 and d["disks"][0]["role"] == "os"' \
	"import of a backup config blob"
expect_exit 3 "$C" rp import --access-json "$RP_SOURCE_DIR/testdata/sample-rp/os-disk.seal.json" \
	-o "$T/bad.json" --id x --vm-name v --os-type Linux
[ ! -e "$T/bad.json" ] || fail "a failed import wrote its output"
expect_exit 2 "$C" rp import -o "$T/x.json"
passed=$((passed + 1))

# A CVM that Azure Backup restored as managed disks: the config names the disks, each disk's
# grant-access answer gives its SAS (the OS disk's also the guest state and VM metadata), matched
# by name or managed disk id; the disk encryption set is carried into the descriptor.
CVM_CFG=$(echo "$AZ"/config-cvmvm02-*.json)
OSK=cvmvm02-osdisk-20261128-100000
DDK=cvmvm02-data0-20261128-100000
expect_exit 0 "$C" rp import --backup-config "$CVM_CFG" -o "$T/cvm2.json" --id rp-3 \
	--access-json "$OSK=$AZ/get-access-cvm-os.json" \
	--access-json "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-restored/providers/Microsoft.Compute/disks/$DDK=$AZ/get-access-cvmvm02-data0.json"
json_check "$T/cvm2.json" "[x['name'] for x in d['disks']] == ['$OSK', '$DDK'] and d['disks'][1]['lun'] == 0 and 'md-ssd-8k2m4n6p0q1r' in d['disks'][1]['source']" \
	"managed-disk config: the disks and their sources"
json_check "$T/cvm2.json" "d['guest_state']['source'].startswith('https://md-impexp') and d['vm_metadata']['source'].startswith('https://md-impexp') and d['vm']['security_type'] == 'ConfidentialVM_DiskEncryptedWithCustomerKey' and d['vm']['hyperv_generation'] == 'V2' and d['vm']['disk_encryption_set'].endswith('/diskEncryptionSets/des-cvm-cmk')" \
	"managed-disk config: guest state, metadata, security type and disk encryption set"
expect_exit 2 "$C" rp import --backup-config "$CVM_CFG" -o "$T/cvm3.json" --id rp-4 \
	--access-json "$OSK=$AZ/get-access-cvm-os.json"
expect_one_error_line "cvmrestore: rp: import: the disk '$DDK' was restored as a managed disk"
# the library states the fact; the command line words the hint, naming the disk
expect_stderr_has "its access answer is missing: grant access to it (az disk grant-access); give the answer with --access-json $DDK=FILE"
[ ! -e "$T/cvm3.json" ] || fail "a refused import wrote its output"
expect_exit 2 "$C" rp import --backup-config "$CVM_CFG" -o "$T/cvm3.json" --id rp-4 \
	--access-json "$OSK=$AZ/get-access-cvm-os.json" --access-json "$DDK=$AZ/get-access-data.json" \
	--access-json "other=$AZ/get-access-data.json"
expect_stderr_has "the access answer for 'other' matches no managed disk of the config"
expect_exit 2 "$C" rp import --access-json "$AZ/get-access-data.json" \
	--access-json "$AZ/get-access-data.json" -o "$T/cvm3.json" --id x --vm-name v --os-type Linux
expect_stderr_has "one --access-json describes one disk"
grep -q FAKEsignature "$RP_ERR" && fail "a SAS signature was printed"
passed=$((passed + 1))

# An offline copy: the sample recovery point, restored and verified through its descriptor.
cp -r "$RP_SOURCE_DIR/testdata/sample-rp" "$T/rp"
expect_exit 0 "$C" verify "$T/rp/recovery-point.json" --json
json_check "$RP_OUT" 'd["verdict"] == "pass" and d["disks"][0]["chunks_checked"] == 12' "verify of a descriptor"
expect_exit 0 "$C" restore "$T/rp/recovery-point.json" --disk osdisk -o "$T/os.vhd" -q
"$C" verify "$T/os.vhd" --seal "$T/rp/os-disk.seal.json" -q || fail "restored disk does not verify"
expect_exit 0 "$C" restore "$T/rp/recovery-point.json" --all --out-dir "$T/all" -q --json
json_check "$RP_OUT" 'd["verdict"] == "pass" and d["disks"][0]["name"] == "osdisk"' "--all report"
cmp -n 50331648 "$T/all/osdisk.vhd" "$T/os.vhd" || fail "--all and --disk differ"
expect_exit 2 "$C" restore "$T/rp/recovery-point.json" --disk nosuch -o "$T/n.vhd"
expect_stderr_has "no disk named 'nosuch'"
expect_exit 2 "$C" restore "$T/rp/recovery-point.json" -o "$T/n.vhd"
passed=$((passed + 1))

# A descriptor whose embedded seal disagrees with the data: exit 1 and no output.
$PY - "$T/rp/recovery-point.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
chunks = d["disks"][0]["seal"]["chunks"]
i = next(i for i, c in enumerate(chunks) if len(c) == 64)
chunks[i] = "0" * 64
json.dump(d, open(sys.argv[1], "w"))
PYEOF
expect_exit 1 "$C" restore "$T/rp/recovery-point.json" --disk osdisk -o "$T/bad.vhd"
[ ! -e "$T/bad.vhd" ] && [ ! -e "$T/bad.vhd.partial" ] || fail "a mismatched restore left output"
expect_exit 1 "$C" verify "$T/rp/recovery-point.json" --json
json_check "$RP_OUT" 'len(d["disks"][0]["mismatches"]) == 1' "verify names the tampered chunk"
passed=$((passed + 1))

# A descriptor whose disk is a blob in Azurite, with its SAS.
. "$RP_SOURCE_DIR/tests/integration/servers.sh"
azurite_start
"$C" convert "$RP_SOURCE_DIR/testdata/sample-rp/os-disk.vhd" "$T/fixed.vhd" -q
blobtool create-container disks >/dev/null
blobtool upload-sparse disks/os.vhd "$T/fixed.vhd" >/dev/null
url=$(azurite_sas disks/os.vhd)
$PY - "$RP_SOURCE_DIR/testdata/sample-rp/recovery-point.json" "$url" "$T/remote.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["disks"][0]["source"] = sys.argv[2]
json.dump(d, open(sys.argv[3], "w"))
PYEOF
expect_exit 0 "$C" restore "$T/remote.json" --disk osdisk -o "$T/remote.vhd" --cacert "$RP_CACERT" --json
json_check "$RP_OUT" 'd["verdict"] == "pass" and d["chunks_compared"] == 12 and d["digests"] == {} and "sha256" in d["seal_claims"] and "sig=" not in json.dumps(d)' \
	"restore of a descriptor's blob"
cmp "$T/remote.vhd" "$T/fixed.vhd" || fail "restore from Azurite differs"
passed=$((passed + 1))

echo "test_rp_descriptor: $passed passed, 0 failed"
