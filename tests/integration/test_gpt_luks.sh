#!/bin/bash
# Partition tables and LUKS headers, against sfdisk and cryptsetup: `inspect` (human and --json)
# of a GPT disk with an EFI system, a Linux and a LUKS2 partition (tests/gen/make_gpt_luks_disk.sh)
# lists the partitions with the offsets, lengths, types and names `sfdisk --json` gives, and
# finds the LUKS2 header in partition 3 with the UUID `cryptsetup luksUUID` prints and its label;
# the same for a dynamic VHDX and a fixed VHD of that disk, and for an MBR disk with LUKS1; and
# the committed sample recovery point still inspects and verifies.
set -euo pipefail
: "${CVMRESTORE:?set CVMRESTORE to the cvmrestore binary}"
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"

rp_tmpdir
T=$RP_TMP
GEN="$RP_SOURCE_DIR/tests/gen/make_gpt_luks_disk.sh"

# check_inspect JSON SFDISK_JSON FORMAT VIRTUAL UUID LABEL VERSION: compare inspect --json with
# sfdisk's table and the LUKS facts; LABEL "-" means none expected (LUKS1 has no label).
check_inspect()
{
	/usr/bin/python3 - "$@" <<'PYEOF' || fail "inspect --json of $3 disagrees (above)"
import json, sys

ins = json.load(open(sys.argv[1]))
sf = json.load(open(sys.argv[2]))["partitiontable"]
fmt, virt, uuid, label, version = sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6], \
    int(sys.argv[7])
bad = []


def want(what, got, exp):
    if got != exp:
        bad.append(f"{what}: {got!r}, want {exp!r}")


# util-linux's names (fdisk, sfdisk --list-types) for the GPT types the generator uses
TYPE_NAMES = {
    "C12A7328-F81F-11D2-BA4B-00A0C93EC93B": "EFI System",
    "0FC63DAF-8483-4772-8E79-3D69D8477DE4": "Linux filesystem",
    "CA7D7CCB-63ED-4C53-861C-1742536059CC": "Linux LUKS",
}


def mbr_type(t):
    return t if isinstance(t, int) else int(str(t), 16)


want("format", ins.get("format"), fmt)
want("virtual_size", ins.get("virtual_size"), virt)
want("readable", ins.get("readable"), True)
pt = ins.get("partition_table") or {}
want("partition_table.kind", pt.get("kind"), {"gpt": "gpt", "dos": "mbr"}[sf["label"]])
parts = pt.get("partitions") or []
want("number of partitions", len(parts), len(sf["partitions"]))
# indexes may count from 0 or 1, but the same way for all partitions and the LUKS entry
numbers = [int(p["node"][len(sf["device"]):]) for p in sf["partitions"]]
base = None
for p, s, num in zip(parts, sf["partitions"], numbers):
    want(f"partition {num} offset", p.get("offset"), s["start"] * 512)
    want(f"partition {num} length", p.get("length"), s["size"] * 512)
    if sf["label"] == "gpt":
        want(f"partition {num} type_guid", str(p.get("type_guid")).upper(), s["type"].upper())
        want(f"partition {num} type", p.get("type"), TYPE_NAMES.get(s["type"].upper()))
        want(f"partition {num} guid", str(p.get("guid")).upper(), s["uuid"].upper())
        want(f"partition {num} name", p.get("name"), s["name"])
    else:
        try:
            want(f"partition {num} mbr_type", mbr_type(p.get("mbr_type")), int(s["type"], 16))
        except ValueError:
            bad.append(f"partition {num} mbr_type: {p.get('mbr_type')!r} is not a type byte")
        mbr_names = {0x83: "Linux", 0xE8: "Linux LUKS", 0xEF: "EFI System"}
        if int(s["type"], 16) in mbr_names:
            want(f"partition {num} type", p.get("type"), mbr_names[int(s["type"], 16)])
    if base is None and isinstance(p.get("index"), int):
        base = num - p["index"]
    want(f"partition {num} index", p.get("index"), None if base is None else num - base)
if base not in (0, 1):
    bad.append(f"partition indexes count from {base!r}, not 0 or 1")
luks = ins.get("luks") or []
want("number of LUKS headers", len(luks), 1)
if luks and base is not None:
    lk = luks[0]
    want("luks partition", lk.get("partition"), numbers[2] - base)
    want("luks offset", lk.get("offset"), sf["partitions"][2]["start"] * 512)
    want("luks version", lk.get("version"), version)
    want("luks uuid", str(lk.get("uuid")).lower(), uuid.lower())
    if label != "-":
        want("luks label", lk.get("label"), label)
    else:
        want("luks label", lk.get("label") in (None, ""), True)
for b in bad:
    print(f"{sys.argv[1]}: {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
}

# check_disk IMAGE FORMAT SFDISK_JSON UUID LABEL VERSION
check_disk()
{
	local img=$1 fmt=$2 sf=$3 uuid=$4 label=$5 version=$6
	expect_exit 0 "$CVMRESTORE" inspect "$img" --json
	it_json_only "$RP_OUT"
	cp "$RP_OUT" "$T/inspect.json"
	check_inspect "$T/inspect.json" "$sf" "$fmt" $((64 * 1048576)) "$uuid" "$label" "$version"

	# the human report names the table kind, the LUKS version, the UUID and the label
	expect_exit 0 "$CVMRESTORE" inspect "$img"
	local kind
	kind=$(json_get "$sf" "{'gpt': 'gpt', 'dos': 'mbr'}[d['partitiontable']['label']]")
	grep -qi -- "$kind" "$RP_OUT" || fail "$img: inspect does not say '$kind'"
	grep -qi -- "luks" "$RP_OUT" || fail "$img: inspect does not mention LUKS"
	grep -qi -- "$uuid" "$RP_OUT" || fail "$img: inspect does not show the LUKS UUID $uuid"
	if [ "$label" != - ]; then
		grep -q -- "$label" "$RP_OUT" || fail "$img: inspect does not show label $label"
	fi
	# one line per partition at least: each partition's name (GPT) appears
	if [ "$kind" = gpt ]; then
		for name in "EFI System" root crypt; do
			grep -q -- "$name" "$RP_OUT" || fail "$img: inspect does not list '$name'"
		done
	fi
}

# luks_facts DISK SFDISK_JSON: set UUID and LABEL from cryptsetup, run on partition 3's bytes
luks_facts()
{
	local start size
	read -r start size < <(json_get "$2" \
		"'%d %d' % (lambda p: (p['start'], p['size']))(d['partitiontable']['partitions'][2])")
	dd if="$1" of="$T/p3.img" bs=512 skip="$start" count="$size" conv=sparse status=none
	UUID=$(cryptsetup luksUUID "$T/p3.img")
	LABEL=$(cryptsetup luksDump "$T/p3.img" | sed -n 's/^Label:[[:space:]]*//p')
	# the volume opens with the generator's passphrase (cryptsetup checks it without activating)
	cryptsetup open --test-passphrase --key-file "$1.passphrase" "$T/p3.img" ||
		fail "cryptsetup cannot open partition 3 of $1 with its passphrase"
	rm -f "$T/p3.img"
	[ -n "$UUID" ] || fail "cryptsetup found no UUID in partition 3 of $1"
}

# GPT + LUKS2
bash "$GEN" "$T/gpt.raw" gpt
sfdisk --json "$T/gpt.raw" >"$T/gpt.sfdisk.json"
luks_facts "$T/gpt.raw" "$T/gpt.sfdisk.json"
[ "$LABEL" = rp-test ] || fail "cryptsetup says label '$LABEL', want rp-test"
check_disk "$T/gpt.raw" raw "$T/gpt.sfdisk.json" "$UUID" rp-test 2

qemu-img convert -f raw -O vhdx -o subformat=dynamic "$T/gpt.raw" "$T/gpt.vhdx"
check_disk "$T/gpt.vhdx" vhdx "$T/gpt.sfdisk.json" "$UUID" rp-test 2
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$T/gpt.raw" "$T/gpt.vhd"
check_disk "$T/gpt.vhd" vhd-fixed "$T/gpt.sfdisk.json" "$UUID" rp-test 2
# and our own VHD of the VHDX (whole MiB already, so the same table)
expect_exit 0 "$CVMRESTORE" convert "$T/gpt.vhdx" "$T/gpt-ours.vhd" --to vhd
check_disk "$T/gpt-ours.vhd" vhd-fixed "$T/gpt.sfdisk.json" "$UUID" rp-test 2
rm -f "$T"/gpt*

# MBR + LUKS1
bash "$GEN" "$T/mbr.raw" mbr
sfdisk --json "$T/mbr.raw" >"$T/mbr.sfdisk.json"
luks_facts "$T/mbr.raw" "$T/mbr.sfdisk.json"
check_disk "$T/mbr.raw" raw "$T/mbr.sfdisk.json" "$UUID" - 1
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$T/mbr.raw" "$T/mbr.vhd"
check_disk "$T/mbr.vhd" vhd-dynamic "$T/mbr.sfdisk.json" "$UUID" - 1

# the committed sample recovery point (testdata/sample-rp, README.md there): GPT with an EFI and
# a LUKS2 partition, and it still verifies against its seal (regenerate both if the format moves)
S="$RP_SOURCE_DIR/testdata/sample-rp"
expect_exit 0 "$CVMRESTORE" inspect "$S/os-disk.vhd" --json
v=$(json_get "$RP_OUT" "(d['format'], d['virtual_size'], d['partition_table']['kind'],
	[p['type'] for p in d['partition_table']['partitions']],
	[(l['version'], l['uuid'], l['label'], l['offset']) for l in d['luks']])")
w='["vhd-dynamic", 50331648, "gpt", ["EFI System", "Linux LUKS"], [[2,'
w="$w \"5a3c1e0d-7b2f-4c4e-9d6a-0c5e8f1a2b3c\", \"rp-sample\", $((94208 * 512))]]]"
[ "$v" = "$w" ] || fail "sample os-disk.vhd: inspect says $v, want $w"
expect_exit 0 "$CVMRESTORE" verify "$S/os-disk.vhd" --seal "$S/os-disk.seal.json"

echo "ok: test_gpt_luks"
