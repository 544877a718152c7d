#!/usr/bin/env bash
# make demo: the main job on the bundled sample recovery point (testdata/sample-rp).
#  1. inspect the OS disk (an offline copy, dynamic VHD);
#  2. serve it as Azure hands disks out (a fixed VHD) from a local HTTPS server (nginx on
#     127.0.0.1 with a throwaway CA), and restore it with cvmrestore, every chunk checked
#     against the seal as it streams;
#  3. unwrap the LUKS passphrase the recovery point keeps wrapped by its KEK (RSA-OAEP-256), and
#     check it against the restored disk's LUKS2 partition without activating anything;
#  4. restore the whole recovery point, a three-blob confidential VM (the OS disk, its guest
#     state and its VM metadata), from its descriptor: the guest state and VM metadata byte for
#     byte as the point holds them;
#     then read its partition table through the nbdkit plugin (docs/nbd.md), nothing restored;
#  5. print the reports, stop the server, leave nothing running.
set -euo pipefail
bin=$(realpath "${1:-build/cvmrestore}")
here=$(cd "$(dirname "$0")/.." && pwd)
rp=$here/testdata/sample-rp

export RP_SOURCE_DIR=$here RP_BUILD_DIR=$here/build CVMRESTORE=$bin
. "$here/tests/integration/lib.sh"
rp_tmpdir
. "$here/tests/integration/servers.sh"

echo "== cvmrestore inspect testdata/sample-rp/os-disk.vhd"
"$bin" inspect "$rp/os-disk.vhd"
echo
mkdir -p "$RP_TMP/www"
"$bin" convert "$rp/os-disk.vhd" "$RP_TMP/www/os-disk.vhd" -q
nginx_start "$RP_TMP/www" >/dev/null
echo "== cvmrestore restore $NGINX_URL/os-disk.vhd -o os-disk.vhd --seal os-disk.seal.json"
"$bin" restore "$NGINX_URL/os-disk.vhd" -o "$RP_TMP/restored-os-disk.vhd" --cacert "$RP_CACERT" \
	--seal "$rp/os-disk.seal.json" --digests sha256,md5,sha1 -q --json > "$RP_TMP/report.json"
"$PY" - "$RP_TMP/report.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"restored {r['virtual_size']} bytes from {r['source']} (ETag {r['etag']})")
print(f"  fetched {r['bytes_fetched']} bytes in {r['chunks_fetched']} chunks over "
      f"{r['seconds']:.2f} s, {r['chunks_compared']} chunks checked against the seal")
claims = r.get("seal_claims", {})
print("  whole-disk digests, computed from the bytes written"
      + (" (each equal to the seal's claim)" if claims and all(
          claims.get(k) == v for k, v in r["digests"].items()) else ""))
for k, v in r["digests"].items():
    print(f"  {k}: {v}")
print(f"verdict: {r['verdict']}")
PYEOF
echo
echo "== cvmrestore verify restored-os-disk.vhd --seal os-disk.seal.json"
"$bin" verify "$RP_TMP/restored-os-disk.vhd" --seal "$rp/os-disk.seal.json" -q && echo "verdict: ok"
echo
plugin=$(dirname "$bin")/nbdkit-cvmrestore-plugin.so
if command -v nbdkit >/dev/null && [ -f "$plugin" ]; then
	echo "== nbdkit cvmrestore source=$NGINX_URL/os-disk.vhd seal=os-disk.seal.json --run 'read the partition table'"
	echo "   (docs/nbd.md: nothing restored; each chunk read is checked against the seal first)"
	nbdkit -U - "$plugin" source="$NGINX_URL/os-disk.vhd" seal="$rp/os-disk.seal.json" \
		cacert="$RP_CACERT" --run "$PY - \"\$uri\"" <<'PYEOF'
import struct, sys, uuid
import nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
lba1 = h.pread(512, 512)
if lba1[:8] != b"EFI PART":
    print("  no GPT header at LBA 1; MBR signature:", h.pread(2, 510).hex())
    sys.exit(0)
start, count, size = struct.unpack_from("<QII", lba1, 72)
table = h.pread(count * size, start * 512)
print(f"  GPT of a {h.get_size()} byte disk, read through the plugin:")
for i in range(count):
    e = table[i * size:(i + 1) * size]
    if e[:16] == bytes(16):
        continue
    first, last = struct.unpack_from("<QQ", e, 32)
    name = e[56:128].decode("utf-16-le").rstrip("\0")
    print(f"  {i + 1}: LBA {first}-{last}  type {uuid.UUID(bytes_le=bytes(e[:16]))}  {name}")
PYEOF
	echo
fi
echo "== cvmrestore unwrap --alg RSA-OAEP-256 --kek-file kek.pem --wrapped-file luks-passphrase.wrapped -o luks.pass"
"$bin" unwrap --alg RSA-OAEP-256 --kek-file "$rp/kek.pem" --wrapped-file "$rp/luks-passphrase.wrapped" \
	-o "$RP_TMP/luks.pass"
echo
echo "== cvmrestore luks restored-os-disk.vhd --passphrase-file luks.pass"
"$bin" luks "$RP_TMP/restored-os-disk.vhd" --passphrase-file "$RP_TMP/luks.pass"
echo
echo "== cvmrestore restore recovery-point.json --all --out-dir restored/   (a three-blob CVM)"
"$bin" restore "$rp/recovery-point.json" --all --out-dir "$RP_TMP/restored" -q --json \
	>"$RP_TMP/all.json"
"$PY" - "$RP_TMP/all.json" <<'PYEOF'
import json, os, sys
r = json.load(open(sys.argv[1]))
for d in r["disks"]:
    print(f"  {d['name']:<12} {os.path.basename(d['output']):<18} {os.path.getsize(d['output']):>9} bytes"
          f"  {d['verdict']}")
print(f"verdict: {r['verdict']}")
PYEOF
cmp "$RP_TMP/restored/guest_state.blob" "$rp/guest-state.vmgs"
cmp "$RP_TMP/restored/vm_metadata.blob" "$rp/vm-metadata.vmmd"
echo "the guest state (a VHD, footer included) and the VM metadata are the point's, byte for byte"
nginx_stop
