#!/bin/bash
# cvmrestore stage on the recovery points of testdata/stage/make-stage.sh:
# - a CVM (customer key) with guest state: the OS disk is UploadPreparedSecure with its security
#   type and secureVMDiskEncryptionSetId, data disks plain Upload with LUNs (one assigned);
#   vm.json is a ConfidentialVM with uefiSettings, DiskWithVMGuestState and the disk encryption
#   set, the NIC a parameter without a default; every staged VHD is an Azure fixed VHD (N MiB +
#   512, checked by it_check_fixed_vhd against the source bytes; a 21.1 MiB disk rounded up with
#   a warning); guest state and VM metadata copied byte-identical; restore.sh is 0755, parses,
#   refuses to run without --yes and stops at a placeholder before calling az (a fake az on PATH
#   records any call);
# - a plain VM: Upload, no security profile anywhere, Windows, V1, its data disk's LUN 3;
# - a CVM without guest state: staged, with a warning naming the missing guest state;
# - the same CVM from Azurite SAS URLs: identical disks, no SAS signature in DIR or output;
# - --disk, an unknown disk (exit 2), a single disk as SOURCE, --json;
# - failures leave no STAGED.txt (an older one is removed first): a missing source (exit 4), a
#   disk that no longer matches its seal (exit 1), a disk under 20 MiB (exit 3).
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir

T=$RP_TMP
MIB=1048576
F=$T/fx
bash "$RP_SOURCE_DIR/testdata/stage/make-stage.sh" "$CVMRESTORE" "$F" || fail "make-stage.sh"

# a fake az that only records that it was called
mkdir -p "$T/bin"
printf '#!/bin/sh\necho "$@" >>"%s/az-called"\n' "$T" >"$T/bin/az"
chmod +x "$T/bin/az"

jparse() { /usr/bin/python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" || fail "$1 is not JSON"; }

note "a CVM with guest state"
D=$T/cvm
expect_exit 0 R stage "$F/cvm-rp.json" --out-dir "$D" --resource-group rg-restore --zone 2 \
	--sku PremiumV2_LRS
for f in osdisk.vhd data0.vhd data1.vhd guest_state.vmgs vm_metadata.vmmd disks.json vm.json \
	restore.sh STAGED.txt; do
	[ -s "$D/$f" ] || fail "cvm: $f is missing"
done
jparse "$D/disks.json"
jparse "$D/vm.json"
it_check_fixed_vhd "$D/osdisk.vhd" $((24 * MIB)) "$F/os.raw" || fail "cvm: osdisk.vhd"
it_check_fixed_vhd "$D/data0.vhd" $((21 * MIB + 102400)) "$F/data0.raw" || fail "cvm: data0.vhd"
cmp -n $((20 * MIB)) "$D/data1.vhd" "$F/data1.vhd" || fail "cvm: data1.vhd differs from its source"
[ "$(file_size "$D/data1.vhd")" = $((20 * MIB + 512)) ] || fail "cvm: data1.vhd size"
cmp "$D/guest_state.vmgs" "$F/guest.vmgs" || fail "cvm: guest state differs"
cmp "$D/vm_metadata.vmmd" "$F/vm.vmmd" || fail "cvm: vm metadata differs"
OSZ=$(file_size "$D/osdisk.vhd")
DJ=$D/disks.json
json_check "$DJ" '"$schema" in d and d["contentVersion"] == "1.0.0.0" and "parameters" in d' "disks.json: header"
json_check "$DJ" 'len(d["resources"]) == 3 and all(r["type"] == "Microsoft.Compute/disks" for r in d["resources"])' "disks.json: three disks"
json_check "$DJ" 'all(r["apiVersion"] >= "2023-" for r in d["resources"])' "disks.json: api version"
OS='[r for r in d["resources"] if r["tags"]["cvmrestore-disk"] == "osdisk"][0]'
json_check "$DJ" "$OS['properties']['creationData'] == {'createOption': 'UploadPreparedSecure', 'uploadSizeBytes': $OSZ}" \
	"disks.json: os disk UploadPreparedSecure with uploadSizeBytes $OSZ"
json_check "$DJ" "$OS['properties']['securityProfile'] == {'securityType': 'ConfidentialVM_DiskEncryptedWithCustomerKey', 'secureVMDiskEncryptionSetId': \"[parameters('diskEncryptionSetId')]\"}" \
	"disks.json: security profile"
json_check "$DJ" "$OS['properties']['osType'] == 'Linux' and $OS['properties']['hyperVGeneration'] == 'V2'" "disks.json: os type, generation"
json_check "$DJ" "$OS['sku'] == {'name': 'Premium_LRS'} and $OS['zones'] == ['2'] and all(r['sku'] == {'name': 'PremiumV2_LRS'} for r in d['resources'] if r is not $OS)" \
	"disks.json: sku (PremiumV2_LRS for data disks only: the OS disk stays Premium_LRS), zones"
grep -q "the OS disk is staged as Premium_LRS" "$D/STAGED.txt" || fail "STAGED.txt: no warning about the OS disk's SKU"
json_check "$DJ" "$OS['tags']['cvmrestore-recovery-point'] == 'rp-cvm01-1' and len($OS['tags']['cvmrestore-seal-sha256']) == 64 and $OS['tags']['cvmrestore-seal-sha256'] == $OS['tags']['cvmrestore-sha256']" \
	"disks.json: tags carry the recovery point and the seal digest"
json_check "$DJ" "'defaultValue' not in d['parameters']['diskEncryptionSetId']" "disks.json: DES placeholder has no default"
json_check "$DJ" 'all(r["properties"]["creationData"]["createOption"] == "Upload" and "securityProfile" not in r["properties"] for r in d["resources"] if r["tags"]["cvmrestore-disk"] != "osdisk")' \
	"disks.json: data disks are plain Upload"
json_check "$DJ" "[r['properties']['creationData']['uploadSizeBytes'] for r in d['resources']] == [$OSZ, $(file_size "$D/data0.vhd"), $(file_size "$D/data1.vhd")]" \
	"disks.json: upload sizes = file sizes"
VJ=$D/vm.json
VM='d["resources"][0]["properties"]'
json_check "$VJ" "d['resources'][0]['type'] == 'Microsoft.Compute/virtualMachines'" "vm.json: a VM"
json_check "$VJ" "$VM['securityProfile']['securityType'] == 'ConfidentialVM' and set($VM['securityProfile']['uefiSettings']) == {'secureBootEnabled', 'vTpmEnabled'}" \
	"vm.json: ConfidentialVM with uefiSettings"
json_check "$VJ" "$VM['storageProfile']['osDisk']['managedDisk']['securityProfile'] == {'securityEncryptionType': 'DiskWithVMGuestState', 'diskEncryptionSet': {'id': \"[parameters('diskEncryptionSetId')]\"}}" \
	"vm.json: securityEncryptionType and disk encryption set"
json_check "$VJ" "$VM['storageProfile']['osDisk']['createOption'] == 'Attach' and sorted(x['lun'] for x in $VM['storageProfile']['dataDisks']) == [0, 1]" \
	"vm.json: attached disks, LUNs 0 and 1"
json_check "$VJ" "'defaultValue' not in d['parameters']['networkInterfaceId'] and $VM['networkProfile']['networkInterfaces'][0]['id'] == \"[parameters('networkInterfaceId')]\"" \
	"vm.json: the NIC is a parameter to fill in"
json_check "$VJ" "d['parameters']['vmSize']['defaultValue'] == 'Standard_DC2as_v5' and d['resources'][0]['zones'] == ['2']" "vm.json: size, zone"
grep -q "OS disk upload: UploadPreparedSecure" "$D/STAGED.txt" || fail "STAGED.txt: upload type"
grep -q "rounded up with zeros to $((22 * MIB)) bytes" "$D/STAGED.txt" || fail "STAGED.txt: no rounding warning"
grep -q "LUN 1" "$D/STAGED.txt" || fail "STAGED.txt: assigned LUN"
grep -q "<DISK_ENCRYPTION_SET_ID>" "$D/STAGED.txt" || fail "STAGED.txt: DES to decide"
grep -q "<NETWORK_INTERFACE_ID>" "$D/STAGED.txt" || fail "STAGED.txt: NIC to decide"
[ "$(stat -c %a "$D/restore.sh")" = 755 ] || fail "restore.sh is not 0755"
bash -n "$D/restore.sh" || fail "restore.sh does not parse"
grep -q -- "--upload-type UploadWithSecurityData" "$D/restore.sh" || fail "restore.sh: secure upload"
grep -q -- "--secure-vm-guest-state-sas" "$D/restore.sh" || fail "restore.sh: guest state SAS"
grep -q -- "--guest-state guest_state.vmgs" "$D/restore.sh" || fail "restore.sh: guest state upload"
grep -q "az disk revoke-access" "$D/restore.sh" || fail "restore.sh: revoke"
grep -q "rg-restore" "$D/restore.sh" || fail "restore.sh: resource group"
expect_exit 2 env PATH="$T/bin:$PATH" bash "$D/restore.sh"
expect_stderr_has "run it with --yes"
expect_exit 2 env PATH="$T/bin:$PATH" bash "$D/restore.sh" --yes
expect_stderr_has "fill in NIC_ID"
[ ! -e "$T/az-called" ] || fail "restore.sh called az with placeholders left"
pass "CVM with guest state: UploadPreparedSecure, security fields, fixed VHDs, safe restore.sh"

note "a three-blob CVM: restore.sh asks for the VM metadata SAS and uploads the metadata"
cp -r "$D" "$T/cvm3"
sed -i "s|^NIC_ID='<NETWORK_INTERFACE_ID>'|NIC_ID='nic'|; s|^DES_ID='.*'|DES_ID='des'|" "$T/cvm3/restore.sh"
mkdir -p "$T/cbin"
cat >"$T/cbin/az" <<EOF
#!/bin/bash
case "\$1 \$2" in
"disk grant-access")
	if [ -e "$T/cbin/old-cli" ]; then
		echo '{"accessSas": "https://d.invalid/a?sig=1", "securityDataAccessSas": "https://g.invalid/b?sig=2"}'
	else
		echo '{"accessSas": "https://d.invalid/a?sig=1", "securityDataAccessSas": "https://g.invalid/b?sig=2", "securityMetadataAccessSas": "https://m.invalid/c?sig=3"}'
	fi ;;
esac
EOF
printf '#!/bin/sh\nprintf "%%s " "$@" >>"%s/cvm-calls"; echo >>"%s/cvm-calls"\n' "$T" "$T" >"$T/cbin/fakecvm"
chmod +x "$T/cbin/az" "$T/cbin/fakecvm"
(cd "$T/cvm3" && PATH="$T/cbin:$PATH" CVMRESTORE="$T/cbin/fakecvm" ./restore.sh --yes) \
	>"$T/cvm3.out" 2>&1 || { cat "$T/cvm3.out"; fail "three-blob restore.sh failed"; }
grep -q "^upload osdisk.vhd https://d.invalid/a?sig=1 --guest-state guest_state.vmgs --guest-state-url https://g.invalid/b?sig=2 --vm-metadata vm_metadata.vmmd --vm-metadata-url https://m.invalid/c?sig=3 $" "$T/cvm-calls" ||
	fail "restore.sh does not upload the VM metadata: $(cat "$T/cvm-calls")"
grep -q "does not send it" "$D/STAGED.txt" &&
	fail "STAGED.txt still warns that upload does not send the VM metadata"
: >"$T/cbin/old-cli"
: >"$T/cvm-calls"
expect_exit 1 env PATH="$T/cbin:$PATH" CVMRESTORE="$T/cbin/fakecvm" bash -c "cd '$T/cvm3' && ./restore.sh --yes"
expect_stderr_has "az disk grant-access gave no securityMetadataAccessSas"
[ ! -s "$T/cvm-calls" ] || fail "restore.sh uploaded without the metadata SAS: $(cat "$T/cvm-calls")"
pass "three-blob CVM: the metadata goes up with the disk; an Azure CLI without the metadata SAS stops it"

note "--disk-encryption-set fills the placeholder"
expect_exit 0 R stage "$F/cvm-nogs-rp.json" --out-dir "$T/des" -q \
	--disk-encryption-set /subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskEncryptionSets/des1
json_check "$T/des/disks.json" 'd["parameters"]["diskEncryptionSetId"]["defaultValue"].endswith("/des1")' "des: default"
grep -q "diskEncryptionSets/des1" "$T/des/restore.sh" || fail "des: not in restore.sh"
pass "disk encryption set given"

note "the disk encryption set a recovery point names (a backup config's) fills it too"
/usr/bin/python3 - "$F/cvm-nogs-rp.json" "$F/cvm-des-rp.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["vm"]["disk_encryption_set"] = ("/subscriptions/s/resourceGroups/g/providers/"
                                  "Microsoft.Compute/diskEncryptionSets/des-from-point")
json.dump(d, open(sys.argv[2], "w"))
EOF
expect_exit 0 R stage "$F/cvm-des-rp.json" --out-dir "$T/des2" -q
json_check "$T/des2/disks.json" 'd["parameters"]["diskEncryptionSetId"]["defaultValue"].endswith("/des-from-point")' \
	"des from the point"
grep -q "<DISK_ENCRYPTION_SET_ID>" "$T/des2/STAGED.txt" && fail "STAGED.txt still asks for the DES"
pass "disk encryption set from the recovery point"

note "a CVM without guest state"
expect_exit 0 R stage "$F/cvm-nogs-rp.json" --out-dir "$T/nogs"
grep -q "warning: .*no guest state (_vmgs" "$RP_OUT" || fail "nogs: no warning on stdout"
grep -q "ConfidentialVM_DiskEncryptedWithCustomerKey but it has no guest state" "$T/nogs/STAGED.txt" ||
	fail "nogs: no warning in STAGED.txt"
json_check "$T/nogs/disks.json" 'd["resources"][0]["properties"]["creationData"]["createOption"] == "Upload"' "nogs: Upload"
[ ! -e "$T/nogs/guest_state.vmgs" ] || fail "nogs: a guest state appeared"
pass "CVM without guest state: Upload and a warning naming the missing guest state"

note "a plain VM"
expect_exit 0 R stage "$F/plain-rp.json" --out-dir "$T/plain" -q
jparse "$T/plain/disks.json"
jparse "$T/plain/vm.json"
json_check "$T/plain/disks.json" 'all(r["properties"]["creationData"]["createOption"] == "Upload" and "securityProfile" not in r["properties"] for r in d["resources"])' "plain: Upload, no security"
json_check "$T/plain/disks.json" 'd["resources"][0]["properties"]["osType"] == "Windows" and d["resources"][0]["properties"]["hyperVGeneration"] == "V1"' "plain: Windows V1"
json_check "$T/plain/vm.json" '"securityProfile" not in d["resources"][0]["properties"] and "securityProfile" not in d["resources"][0]["properties"]["storageProfile"]["osDisk"]["managedDisk"]' "plain: no VM security profile"
json_check "$T/plain/vm.json" 'd["resources"][0]["properties"]["storageProfile"]["dataDisks"][0]["lun"] == 3' "plain: LUN 3"
grep -q "<RESOURCE_GROUP>" "$T/plain/restore.sh" || fail "plain: resource group placeholder"
! grep -q "UploadWithSecurityData\|guest-state" "$T/plain/restore.sh" || fail "plain: secure upload in restore.sh"
pass "plain VM: Upload, no security profile"

note "--disk, a single disk, --json"
expect_exit 0 R stage "$F/cvm-rp.json" --out-dir "$T/one" --disk data0 --json
it_json_only "$RP_OUT"
json_check "$RP_OUT" 'd["verdict"] == "pass" and [i["name"] for i in d["items"]] == ["data0"] and not d["secure_upload"]' "--disk data0"
[ ! -e "$T/one/osdisk.vhd" ] && [ ! -e "$T/one/guest_state.vmgs" ] || fail "--disk: other files staged"
expect_exit 2 R stage "$F/cvm-rp.json" --out-dir "$T/none" --disk nosuch
expect_one_error_line "cvmrestore: stage: "
expect_stderr_has "no disk named 'nosuch'"
expect_exit 2 R stage "$F/cvm-rp.json"
expect_stderr_has "--out-dir"
expect_exit 0 R stage "$F/os.raw" --out-dir "$T/single" --json
json_check "$RP_OUT" 'any("single disk" in w for w in d["warnings"])' "single disk: no warning"
it_check_fixed_vhd "$T/single/osdisk.vhd" $((24 * MIB)) "$F/os.raw" || fail "single: osdisk.vhd"
pass "--disk, unknown disk (exit 2), single disk, --json"

note "failures leave no STAGED.txt"
cp -r "$F" "$T/bad"
rm "$T/bad/data1.vhd"
cp "$D/STAGED.txt" "$T/cvm-STAGED.txt"
expect_exit 4 R stage "$T/bad/cvm-rp.json" --out-dir "$D"
expect_one_error_line "cvmrestore: stage: disk 'data1'"
[ ! -e "$D/STAGED.txt" ] || fail "missing source: the old STAGED.txt is still there"
cp -r "$F" "$T/bad2"
it_flip_byte "$T/bad2/os.vhd" $((5 * MIB + 10))
expect_exit 1 R stage "$T/bad2/cvm-rp.json" --out-dir "$T/bad2out"
expect_stderr_has "disk 'osdisk'"
[ ! -e "$T/bad2out/STAGED.txt" ] && [ ! -e "$T/bad2out/osdisk.vhd" ] || fail "seal mismatch: files left"
truncate -s $((8 * MIB)) "$T/small.raw"
expect_exit 3 R stage "$T/small.raw" --out-dir "$T/smallout"
expect_stderr_has "20 MiB"
[ ! -e "$T/smallout/STAGED.txt" ] || fail "small: STAGED.txt"
pass "missing source (4), seal mismatch (1), too small (3): no STAGED.txt"

note "sources on Azurite (SAS URLs)"
. "$RP_SOURCE_DIR/tests/integration/servers.sh"
azurite_start
blobtool upload-sparse stg/os.vhd "$F/os.vhd" --create-container >/dev/null
blobtool upload-sparse stg/gs_vmgs "$F/guest.vmgs" >/dev/null
OSAS=$(azurite_sas stg/os.vhd)
GSAS=$(azurite_sas stg/gs_vmgs)
/usr/bin/python3 - "$F/cvm-nogs-rp.json" "$T/url-rp.json" "$OSAS" "$GSAS" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["id"] = "rp-cvm01-url"
d["disks"][0]["source"] = sys.argv[3]
d["guest_state"] = {"source": sys.argv[4], "size": None}
json.dump(d, open(sys.argv[2], "w"))
EOF
expect_exit 0 R stage "$T/url-rp.json" --out-dir "$T/url" --cacert "$RP_CACERT"
cp "$RP_OUT" "$T/url.stdout"
cp "$RP_ERR" "$T/url.stderr"
it_check_fixed_vhd "$T/url/osdisk.vhd" $((24 * MIB)) "$F/os.raw" || fail "url: osdisk.vhd"
cmp "$T/url/guest_state.vmgs" "$F/guest.vmgs" || fail "url: guest state differs"
json_check "$T/url/disks.json" 'd["resources"][0]["properties"]["creationData"]["createOption"] == "UploadPreparedSecure"' "url: secure upload"
grep -q "from: https://127.0.0.1:$AZURITE_PORT/devstoreaccount1/stg/os.vhd$" "$T/url/STAGED.txt" ||
	fail "url: STAGED.txt does not name the source without its query"
for f in "$T"/url/* "$T/url.stdout" "$T/url.stderr"; do
	case $f in *.vhd | *.vmgs) continue ;; esac
	! grep -q "sig=" "$f" || fail "url: a SAS signature in $f"
done
pass "SAS URL sources: identical disk and guest state, no SAS in DIR or output"
note "hostile names: ARM expressions and shell code in names stay data"
# Names from a descriptor (or Azure's restore-disks config, imported into one) try to become ARM
# code (a quote that closes the literal of concat(), a whole "[...]" expression) and shell code
# in restore.sh. The templates must carry them as escaped literals in parameters, and every
# string ARM would evaluate must be one of the templates' own expressions.
HN0="x'), listKeys('k', '2019-06-01'), ('"
HN1='$(touch pwned)`touch pwned2`'"'\"q"
/usr/bin/python3 - "$F/plain-rp.json" "$F/hostile-rp.json" "$HN0" "$HN1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["id"] = "[subscription().id]"
d["vm"]["name"] = "[resourceGroup().id]"
d["vm"]["size"] = "[parameters('vmName')]"
d["vm"]["location"] = "[deployment().name]"
d["disks"][0]["name"] = sys.argv[3]
d["disks"][1]["name"] = sys.argv[4]
json.dump(d, open(sys.argv[2], "w"))
EOF
H=$T/hostile
expect_exit 0 R stage "$F/hostile-rp.json" --out-dir "$H" -q --zone '[variables(1)]' \
	--sku "[concat('a')]"
/usr/bin/python3 - "$H/disks.json" "$H/vm.json" "$HN0" "$HN1" <<'EOF' || fail "hostile names: templates"
import json, re, sys
FIXED = {
    "[resourceGroup().location]", "[parameters('location')]", "[parameters('vmName')]",
    "[parameters('vmSize')]", "[parameters('networkInterfaceId')]",
    "[parameters('diskEncryptionSetId')]", "[parameters('secureBootEnabled')]",
    "[parameters('vTpmEnabled')]",
}
DISK = re.compile(r"^\[concat\(parameters\('namePrefix'\), parameters\('diskName\d+'\)\)\]$")
DISK_ID = re.compile(r"^\[resourceId\('Microsoft\.Compute/disks', concat\(parameters\('namePrefix'\), "
                     r"parameters\('diskName\d+'\)\)\)\]$")
def literal(s):
    # What ARM makes of a string: "[...]" is an expression (None here), "[[...]" is "[...]".
    if s.startswith("[[") and s.endswith("]"):
        return s[1:]
    if s.startswith("[") and s.endswith("]"):
        return None
    return s
def walk(v, where, bad):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(x, where + "." + k, bad)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk(x, f"{where}[{i}]", bad)
    elif isinstance(v, str) and literal(v) is None:
        if v not in FIXED and not DISK.match(v) and not DISK_ID.match(v):
            bad.append(f"{where}: {v!r} is evaluated by ARM and is not one of our expressions")
bad = []
t = {}
for path in sys.argv[1:3]:
    t[path] = json.load(open(path))
    walk(t[path], path, bad)
names = sys.argv[3:5]
for path, tpl in t.items():
    p = tpl["parameters"]
    got = [literal(p[f"diskName{i}"]["defaultValue"]) for i in range(2)]
    if got != names:
        bad.append(f"{path}: disk name parameters read {got!r}, not {names!r}")
    if literal(p["namePrefix"]["defaultValue"]) != "[resourceGroup().id]-":
        bad.append(f"{path}: namePrefix default {p['namePrefix']['defaultValue']!r}")
    if literal(p["location"]["defaultValue"]) != "[deployment().name]":
        bad.append(f"{path}: location default {p['location']['defaultValue']!r}")
vp = t[sys.argv[2]]["parameters"]
if literal(vp["vmName"]["defaultValue"]) != "[resourceGroup().id]":
    bad.append("vm.json: vmName default is evaluated")
if literal(vp["vmSize"]["defaultValue"]) != "[parameters('vmName')]":
    bad.append("vm.json: vmSize default is evaluated")
for r in t[sys.argv[1]]["resources"]:
    if literal(r["tags"]["cvmrestore-recovery-point"]) != "[subscription().id]":
        bad.append("disks.json: recovery point tag is evaluated")
    if literal(r["tags"]["cvmrestore-disk"]) not in names:
        bad.append(f"disks.json: disk tag {r['tags']['cvmrestore-disk']!r}")
    if literal(r["sku"]["name"]) != "[concat('a')]" or literal(r["zones"][0]) != "[variables(1)]":
        bad.append("disks.json: sku or zone is evaluated")
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
pass "hostile names: every evaluated string is ours, names are escaped literals"

note "hostile names: restore.sh passes them to az as they are, runs none of them"
bash -n "$H/restore.sh" || fail "hostile restore.sh does not parse"
mkdir -p "$T/hbin"
cat >"$T/hbin/az" <<EOF
#!/bin/bash
printf '%s\0' "\$@" >>"$T/haz-args"; printf '\n\0' >>"$T/haz-args"
case "\$1 \$2" in "disk grant-access") echo '{"accessSas": "https://h.invalid/d?sv=1"}' ;; esac
EOF
printf '#!/bin/sh\nexit 0\n' >"$T/hbin/fakecvm"
chmod +x "$T/hbin/az" "$T/hbin/fakecvm"
sed -i "s|^NIC_ID='<NETWORK_INTERFACE_ID>'|NIC_ID='nic'|; s|^RG='<RESOURCE_GROUP>'|RG='rg'|; s|^VM_SIZE='.*'|VM_SIZE='s'|" \
	"$H/restore.sh"
(cd "$H" && PATH="$T/hbin:$PATH" CVMRESTORE="$T/hbin/fakecvm" ./restore.sh --yes) >"$T/hrun.out" 2>&1 ||
	{ cat "$T/hrun.out"; fail "hostile restore.sh failed"; }
[ ! -e "$H/pwned" ] && [ ! -e "$H/pwned2" ] || fail "restore.sh ran code from a disk name"
/usr/bin/python3 - "$T/haz-args" "[resourceGroup().id]-$HN0" "[resourceGroup().id]-$HN1" <<'EOF' ||
import sys
calls = open(sys.argv[1], "rb").read().decode().split("\n\0")
names = []
for c in calls:
    a = c.split("\0")
    if a[:2] == ["disk", "create"]:
        names.append(a[a.index("-n") + 1])
sys.exit(0 if names == sys.argv[2:4] else print(names, file=sys.stderr) or 1)
EOF
	fail "restore.sh did not pass the disk names to az exactly"
pass "hostile names: restore.sh quotes them (no code run, az gets them exactly)"

note "a disk name with a newline is refused by the descriptor"
/usr/bin/python3 - "$F/plain-rp.json" "$F/nl-rp.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["disks"][0]["name"] = "a\ntouch pwned3"
json.dump(d, open(sys.argv[2], "w"))
EOF
expect_exit 3 R stage "$F/nl-rp.json" --out-dir "$T/nl"
expect_stderr_has "contains a control character"
pass "newline in a name: exit 3"
echo "all $PASSED checks passed"
