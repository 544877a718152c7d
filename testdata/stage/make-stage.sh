#!/bin/bash
# make-stage.sh CVMRESTORE OUTDIR
#
# Makes the recovery points that tests/integration/test_stage.sh stages (nothing here is
# committed but this script: the disks are random, so every run makes new ones):
#   os.raw            24 MiB raw OS disk: random data in MiBs 0, 5 and 23
#   os.vhd            the same as an Azure fixed VHD (cvmrestore convert), sealed in os.seal.json
#   data0.raw         21 MiB + 100 KiB raw data disk (not a whole MiB: staged rounded up)
#   data1.vhd         20 MiB fixed VHD data disk without a LUN in the descriptors
#   guest.vmgs        a 1 MiB + 4 KiB guest state file (random head, zero tail)
#   vm.vmmd           a 4 KiB VM metadata file
#   cvm-rp.json       Confidential VM (ConfidentialVM_DiskEncryptedWithCustomerKey, V2,
#                     Standard_DC2as_v5, westeurope): os.vhd with its seal, data0 (LUN 0),
#                     data1 (no LUN), guest_state guest.vmgs, vm_metadata vm.vmmd
#   cvm-nogs-rp.json  the same CVM without guest state and VM metadata, OS disk only
#   plain-rp.json     a standard VM (no security type, V1, Windows): os.raw and data0 (LUN 3)
# Sources are relative paths (resolved against the descriptor's folder).
set -euo pipefail
if [ $# -ne 2 ]; then
	echo "usage: $0 CVMRESTORE OUTDIR" >&2
	exit 2
fi
cvmrestore=$1
out=$2
MIB=1048576
mkdir -p "$out"
cd "$out"

rand_at() { # FILE OFFSET LENGTH
	head -c "$3" /dev/urandom | dd of="$1" bs=64K seek="$2" oflag=seek_bytes conv=notrunc status=none
}

rm -f os.raw data0.raw data1.raw
truncate -s $((24 * MIB)) os.raw
rand_at os.raw 0 $MIB
rand_at os.raw $((5 * MIB)) $MIB
rand_at os.raw $((23 * MIB)) $MIB
"$cvmrestore" convert -q --force os.raw os.vhd
"$cvmrestore" seal -q os.vhd -o os.seal.json --digests sha256

truncate -s $((21 * MIB + 100 * 1024)) data0.raw
rand_at data0.raw $((2 * MIB)) 300000
rand_at data0.raw $((21 * MIB)) $((100 * 1024))

truncate -s $((20 * MIB)) data1.raw
rand_at data1.raw $((7 * MIB)) 4096
"$cvmrestore" convert -q --force data1.raw data1.vhd
rm -f data1.raw

rm -f guest.vmgs
truncate -s $((MIB + 4096)) guest.vmgs
rand_at guest.vmgs 0 65536
head -c 4096 /dev/urandom >vm.vmmd

/usr/bin/python3 - <<'EOF'
import json

seal = json.load(open("os.seal.json"))


def rp(rid, vm, disks, gs=None, md=None):
    return {"format": "cvmrestore-recovery-point", "version": 1, "id": rid,
            "created": "2026-11-28T12:00:00Z", "vm": vm, "disks": disks,
            "guest_state": {"source": gs, "size": None} if gs else None,
            "vm_metadata": {"source": md, "size": None} if md else None}


cvm = {"name": "cvm01", "os_type": "Linux", "hyperv_generation": "V2",
       "security_type": "ConfidentialVM_DiskEncryptedWithCustomerKey",
       "size": "Standard_DC2as_v5", "location": "westeurope"}
osd = {"name": "osdisk", "role": "os", "lun": None, "source": "os.vhd", "size": None,
       "seal": seal}
d0 = {"name": "data0", "role": "data", "lun": 0, "source": "data0.raw", "size": None}
d1 = {"name": "data1", "role": "data", "lun": None, "source": "data1.vhd", "size": None}
docs = {
    "cvm-rp.json": rp("rp-cvm01-1", cvm, [osd, d0, d1], "guest.vmgs", "vm.vmmd"),
    "cvm-nogs-rp.json": rp("rp-cvm01-nogs", cvm, [osd]),
    "plain-rp.json": rp("rp-plain-1", {"name": "web01", "os_type": "Windows",
                                       "hyperv_generation": "V1", "security_type": None,
                                       "size": "Standard_D2s_v5", "location": None},
                        [{"name": "osdisk", "role": "os", "lun": None, "source": "os.raw",
                          "size": None},
                         dict(d0, lun=3)]),
}
for name, doc in docs.items():
    with open(name, "w") as f:
        json.dump(doc, f, indent=1)
EOF
