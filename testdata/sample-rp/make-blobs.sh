#!/bin/bash
# make-blobs.sh CVMRESTORE [OUTDIR]
#
# Makes the sample recovery point's two other blobs, so that it is a three-blob confidential VM
# as Azure keeps one (disk, guest state, VM metadata), and lists them in recovery-point.json:
#   guest-state.vmgs   the guest state (_vmgs): a 1 MiB fixed VHD (the VMGS file is packaged as
#                      a VHD) whose first 64 KiB are pseudo-random, standing for the firmware
#                      and vTPM state (no real VMGS content: nothing here is a secret)
#   vm-metadata.vmmd   the VM metadata (_vmmd): 4 KiB of pseudo-random bytes
# The bytes come from AES-256-CTR over zeros with a fixed key (openssl), so they are the same on
# every run; the VHD footer's time stamp and UUID are not.
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 CVMRESTORE [OUTDIR]" >&2
	exit 2
fi
cvmrestore=$(realpath "$1")
out=$(realpath "${2:-$(dirname "$0")}")
work=$(mktemp -d "${TMPDIR:-/tmp}/rp-blobs.XXXXXX")
trap 'rm -rf "$work"' EXIT
stream() { # BYTES LABEL: deterministic pseudo-random bytes
	head -c "$1" /dev/zero | openssl enc -aes-256-ctr -nosalt \
		-K "$(printf '%s' "$2" | openssl dgst -sha256 -r | cut -c1-64)" \
		-iv 00000000000000000000000000000000
}
stream 65536 sample-guest-state >"$work/gs.raw"
truncate -s 1048576 "$work/gs.raw"
rm -f "$out/guest-state.vmgs"
"$cvmrestore" convert -q "$work/gs.raw" "$out/guest-state.vmgs"
stream 4096 sample-vm-metadata >"$out/vm-metadata.vmmd"
/usr/bin/python3 - "$out" <<'PYEOF'
import json, os, sys
out = sys.argv[1]
p = os.path.join(out, "recovery-point.json")
d = json.load(open(p))
d["guest_state"] = {"source": "guest-state.vmgs",
                    "size": os.path.getsize(os.path.join(out, "guest-state.vmgs"))}
d["vm_metadata"] = {"source": "vm-metadata.vmmd",
                    "size": os.path.getsize(os.path.join(out, "vm-metadata.vmmd"))}
with open(p + ".tmp", "w") as f:
    json.dump(d, f, indent=2)
    f.write("\n")
os.replace(p + ".tmp", p)
PYEOF
echo "made $out/guest-state.vmgs, vm-metadata.vmmd; recovery-point.json lists them"
