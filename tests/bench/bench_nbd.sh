#!/bin/bash
# bench_nbd.sh: reading a disk through the nbdkit plugin (docs/nbd.md) against a full restore of
# it, over HTTPS from nginx on loopback, both with the seal (every chunk checked).
#
# The disk: BENCH_NBD_MIB MiB (default 16384, the issue's 16 GiB) of random data with a GPT,
# served as a fixed VHD. Timed, one run each:
#   restore   cvmrestore restore URL --seal SEAL -o OUT (defaults: 16 connections, 4 MiB chunks)
#   peek      through the plugin: the partition table (LBA 0-33), then a random 1% of the disk in
#             1 MiB reads (seeded), from nbdkit's start to the last byte read
#   nbdcopy   through the plugin: nbdcopy of the whole disk to a file
# and printed: each time, peek/restore and nbdcopy/restore. Never fails on speed. Needs nbdkit,
# libnbd-bin, python3-libnbd and the plugin in the build directory. About twice the disk under
# $BENCH_DIR at peak.
. "$(dirname "$0")/lib.sh"
bench_init nbd

PLUGIN=$(dirname "$CVMRESTORE")/nbdkit-cvmrestore-plugin.so
for t in nginx nbdkit nbdcopy sfdisk; do
	command -v "$t" >/dev/null || {
		echo "bench: $t is missing (make deps installs it)" >&2
		exit 2
	}
done
[ -f "$PLUGIN" ] || {
	echo "bench: $PLUGIN is missing (build with nbdkit-plugin-dev installed)" >&2
	exit 2
}

export RP_SOURCE_DIR=$BENCH_SRC RP_BUILD_DIR=$BW
. "$BENCH_SRC/tests/integration/lib.sh"
rp_tmpdir
. "$BENCH_SRC/tests/integration/servers.sh"
srv_certs
trap 'srv_stop_all; rp_cleanup; rm -rf "$BW"; rmdir "$BENCH_DIR" 2>/dev/null || true' EXIT

MIB_N=${BENCH_NBD_MIB:-16384}
MIB=1048576
echo "peers: $(nbdkit --version), $(nbdcopy --version | head -n 1), $(nginx -v 2>&1 | sed 's/.*: //')"
echo "disk: $MIB_N MiB random with a GPT, a fixed VHD on nginx (HTTPS, loopback)"

mkdir -p "$BW/www"
head -c $((MIB_N * MIB)) /dev/urandom >"$BW/disk.raw"
printf 'label: gpt\n,%s,L\n,,L\n' $((MIB_N * 2048 / 2)) | sfdisk -q "$BW/disk.raw" >/dev/null
"$CVMRESTORE" convert -q "$BW/disk.raw" "$BW/www/disk.vhd"
rm -f "$BW/disk.raw"
"$CVMRESTORE" seal -q "$BW/www/disk.vhd" -o "$BW/seal.json"
nginx_start "$BW/www" >/dev/null
URL=$NGINX_URL/disk.vhd

cat >"$BW/peek.py" <<'EOF'
import random, sys
import nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
assert h.pread(8, 512) == b"EFI PART"
h.pread(32 * 512, 2 * 512)
size = h.get_size()
rng = random.Random(15)
for _ in range(max(1, size // 100 // (1 << 20))):
    h.pread(1 << 20, rng.randrange(size // (1 << 20)) << 20)
EOF

# plugin CMD: nbdkit with the plugin, CMD run with $uri set
plugin()
{
	nbdkit -U - "$PLUGIN" source="$URL" seal="$BW/seal.json" cacert="$RP_CACERT" --run "$1"
}

rm -f "$BW/out.vhd"
sync
best_of 1 "$CVMRESTORE" restore -q "$URL" --seal "$BW/seal.json" --cacert "$RP_CACERT" \
	-o "$BW/out.vhd"
t_restore=$BEST
rm -f "$BW/out.vhd"
sync
best_of 1 plugin "$PY $BW/peek.py \"\$uri\""
t_peek=$BEST
best_of 1 plugin "nbdcopy \"\$uri\" $BW/copy.raw"
t_copy=$BEST
rm -f "$BW/copy.raw"

echo "restore (whole disk, sealed)              ${t_restore} s  $(mibps $((MIB_N * MIB)) "$t_restore") MiB/s"
echo "plugin: partition table + random 1% (1 MiB reads)  ${t_peek} s  ratio to restore $(ratio "$t_peek" "$t_restore")"
echo "plugin: nbdcopy of the whole disk         ${t_copy} s  $(mibps $((MIB_N * MIB)) "$t_copy") MiB/s  ratio to restore $(ratio "$t_copy" "$t_restore")"
