#!/bin/bash
# Every ARM template that `stage` writes fits Microsoft's API definitions of the resource types
# and api-versions it names (tests/armspec: Microsoft.Compute disks 2023-10-02 and 2025-01-02,
# virtualMachines 2024-03-01, from Azure/azure-rest-api-specs), checked by tests/tools/armcheck.py
# (known properties only, read-only ones not sent, required ones present, types and enum values
# exact). The checker itself must refuse templates broken in each of those ways. Also the SKU
# and generation rules Azure enforces that the definitions do not encode: an Ultra Disk or
# Premium SSD v2 is never an OS disk, and a Trusted Launch or confidential VM is generation 2.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir

T=$RP_TMP
F=$T/fx
SPEC=$RP_SOURCE_DIR/tests/armspec
check() { $PY "$RP_SOURCE_DIR/tests/tools/armcheck.py" "$SPEC" "$@"; }
bash "$RP_SOURCE_DIR/testdata/stage/make-stage.sh" "$CVMRESTORE" "$F" >/dev/null

note "the templates of every kind of point, with and without options"
R stage "$F/cvm-rp.json" --out-dir "$T/cvm" -q --resource-group rg --location westeurope \
	--zone 2 --sku PremiumV2_LRS >/dev/null || fail "stage cvm"
R stage "$F/cvm-nogs-rp.json" --out-dir "$T/nogs" -q \
	--disk-encryption-set /subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskEncryptionSets/d1 \
	>/dev/null || fail "stage cvm-nogs"
R stage "$F/plain-rp.json" --out-dir "$T/plain" -q --sku StandardSSD_LRS >/dev/null || fail "stage plain"
for d in cvm nogs plain; do
	check "$T/$d/disks.json" "$T/$d/vm.json" >"$T/$d.check" || fail "$d: $(cat "$T/$d.check")"
done
pass "disks.json and vm.json of a CVM (with and without guest state) and a plain VM fit the definitions"

note "the checker refuses what Azure would: unknown, read-only, missing, mistyped, off-enum"
$PY - "$T/cvm/disks.json" "$T/cvm/vm.json" "$T/bad" <<'PYEOF'
import copy, json, os, sys
disks, vm, out = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
os.makedirs(out)
def variant(name, doc, edit):
    d = copy.deepcopy(doc)
    edit(d["resources"][0])
    json.dump(d, open(os.path.join(out, name + ".json"), "w"))
variant("unknown", disks, lambda r: r["properties"].update(bogus=1))
variant("readonly", disks, lambda r: r["properties"].update(timeCreated="2026-01-01"))
variant("enum", disks, lambda r: r["properties"]["creationData"].update(createOption="upload"))
variant("type", disks, lambda r: r["properties"]["creationData"].update(uploadSizeBytes="1"))
variant("version", disks, lambda r: r.update(apiVersion="2019-07-01"))
variant("missing", vm, lambda r: r["properties"]["storageProfile"]["osDisk"].pop("createOption"))
variant("vmenum", vm, lambda r: r["properties"]["securityProfile"].update(securityType="Confidential"))
PYEOF
for b in unknown readonly enum type version missing vmenum; do
	if check "$T/bad/$b.json" >"$T/bad/$b.out"; then
		fail "armcheck accepted the '$b' variant"
	fi
done
grep -q "not a property of DiskProperties" "$T/bad/unknown.out" || fail "unknown: $(cat "$T/bad/unknown.out")"
grep -q "is read-only" "$T/bad/readonly.out" || fail "readonly: $(cat "$T/bad/readonly.out")"
grep -q "lacks the required property createOption" "$T/bad/missing.out" || fail "missing"
pass "armcheck refuses 7 kinds of broken template"

note "Azure's rules beyond the definitions: SKU of the OS disk, generation of a CVM"
OS='[r for r in d["resources"] if r["tags"]["cvmrestore-disk"] == "osdisk"][0]'
json_check "$T/cvm/disks.json" "$OS['sku']['name'] == 'Premium_LRS' and sorted(r['sku']['name'] for r in d['resources']) == ['PremiumV2_LRS', 'PremiumV2_LRS', 'Premium_LRS']" \
	"the OS disk is never PremiumV2_LRS"
R stage "$F/cvm-nogs-rp.json" --out-dir "$T/ultra" -q --sku UltraSSD_LRS >/dev/null || fail "stage ultra"
json_check "$T/ultra/disks.json" "$OS['sku']['name'] == 'Premium_LRS'" "the OS disk is never UltraSSD_LRS"
grep -q -- "--sku 'Premium_LRS'\|--sku Premium_LRS" "$T/ultra/restore.sh" || fail "restore.sh: OS disk SKU"
$PY - "$F/cvm-nogs-rp.json" "$F/cvm-nogen-rp.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["vm"]["hyperv_generation"] = None
json.dump(d, open(sys.argv[2], "w"))
PYEOF
R stage "$F/cvm-nogen-rp.json" --out-dir "$T/nogen" -q >/dev/null || fail "stage nogen"
json_check "$T/nogen/disks.json" "$OS['properties']['hyperVGeneration'] == 'V2'" \
	"a CVM point without a generation stages a V2 OS disk"
check "$T/ultra/disks.json" "$T/nogen/disks.json" "$T/nogen/vm.json" >"$T/rules.check" ||
	fail "$(cat "$T/rules.check")"
pass "OS disk on Premium_LRS under --sku PremiumV2_LRS/UltraSSD_LRS; CVM without generation is V2"
echo "test_stage_armspec: $PASSED groups passed"
