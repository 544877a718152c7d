#!/bin/bash
# bench_upload.sh: cvmrestore upload to Azurite (strict, HTTPS on loopback) against curl.
#
# The image: a 2 GiB Azure fixed VHD with a quarter written (1 MiB of random data at the start
# of every 4 MiB, 512 MiB in all; made by `cvmrestore convert` of a sparse raw).
# 1. `cvmrestore upload --create` at defaults (8 connections, crc64 per Put Page, the sampled
#    post-check): wall time, peak RSS and CPU (/usr/bin/time), bytes sent (the report's
#    bytes_sent, the Put Page bodies) against the written bytes (bytes_data: non-zero 512-byte
#    pages). Target: bytes sent <= 1.05 x written.
# 2. The plain way, in the same run: one `curl -T` Put Blob of the whole 2 GiB file (a block
#    blob, one stream, zeros included, no per-request hash), the way a file is uploaded without
#    a tool that knows about pages. Wall time, peak RSS, bytes sent (the file size).
# Printed: both rows and the ratios (time, bytes). Numbers only; never fails on speed.
# Azurite's Put Page runs at 30 to 45 MiB/s here (docs/azure.md), so this is no measure of Azure's
# speed: it shows what skipping zeros saves and what the engine costs in memory and CPU.
# Size for a quick try: BENCH_UPLOAD_MIB (virtual size, 2048). Takes 1 to 3 minutes.
. "$(dirname "$0")/lib.sh"
bench_init upload

for t in curl node; do
	command -v "$t" >/dev/null || {
		echo "bench: $t is missing (make deps installs it)" >&2
		exit 2
	}
done

export RP_SOURCE_DIR=$BENCH_SRC RP_BUILD_DIR=$BW
. "$BENCH_SRC/tests/integration/lib.sh"
rp_tmpdir
. "$BENCH_SRC/tests/integration/servers.sh"
srv_certs
trap 'srv_stop_all; rp_cleanup; rm -rf "$BW"; rmdir "$BENCH_DIR" 2>/dev/null || true' EXIT

MIB_N=${BENCH_UPLOAD_MIB:-2048}
random_with_gaps "$BW/disk.raw" "$MIB_N" 4 3
"$CVMRESTORE" convert -q "$BW/disk.raw" "$BW/disk.vhd"
rm -f "$BW/disk.raw"
SIZE=$(stat -c %s "$BW/disk.vhd")
azurite_start
blobtool create-container bench >/dev/null
sas() { blobtool sas "bench/$1" --expiry +7200 --perms rcw --full-url; }
echo "image: $MIB_N MiB virtual, $((MIB_N / 4)) MiB written (1 MiB in every 4), fixed VHD" \
	"$SIZE bytes; Azurite $(sed -n 's/.*"version": "\(.*\)".*/\1/p' \
	"$BENCH_SRC/tests/azurite/node_modules/azurite/package.json" | head -n 1)," \
	"$(curl --version | head -n 1 | cut -d' ' -f1-2)"

# 1. cvmrestore upload
sync
t0=$(now_ns)
/usr/bin/time -f '%M %U %S' -o "$BW/up.time" "$CVMRESTORE" upload -q --json --create \
	--cacert "$RP_CACERT" "$BW/disk.vhd" "$(sas up.vhd)" >"$BW/up.json" 2>"$BW/up.err" || {
	echo "bench: upload failed: $(cat "$BW/up.err")" >&2
	exit 1
}
t1=$(now_ns)
UP_S=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')
UP_RSS=$(cut -d' ' -f1 "$BW/up.time")
UP_CPU=$(awk '{ printf "%.2f", $2 + $3 }' "$BW/up.time")
read -r SENT DATA REQ CHECKED < <(/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["bytes_sent"], d["bytes_data"], d["requests"], d["post_check"]["chunks_checked"])' \
	"$BW/up.json")
echo "cvmrestore upload: $UP_S s, peak RSS $((UP_RSS / 1024)) MiB, CPU $UP_CPU s," \
	"$REQ requests, sent $SENT bytes for $DATA written: $(ratio "$SENT" "$DATA") x" \
	"(target <= 1.05), $CHECKED chunks read back"

# 2. curl: one Put Blob of the whole file, one stream
sync
t0=$(now_ns)
/usr/bin/time -f '%M %U %S' -o "$BW/curl.time" curl -sS --fail --cacert "$RP_CACERT" \
	-H "x-ms-blob-type: BlockBlob" -H "x-ms-version: 2021-08-06" -T "$BW/disk.vhd" \
	-o /dev/null "$(sas curl.vhd)" 2>"$BW/curl.err" || {
	echo "bench: curl failed: $(cat "$BW/curl.err")" >&2
	exit 1
}
t1=$(now_ns)
C_S=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')
C_RSS=$(cut -d' ' -f1 "$BW/curl.time")
C_CPU=$(awk '{ printf "%.2f", $2 + $3 }' "$BW/curl.time")
echo "curl -T (Put Blob, whole file, 1 stream): $C_S s, peak RSS $((C_RSS / 1024)) MiB," \
	"CPU $C_CPU s, sent $SIZE bytes"
echo "upload ratios: time $(ratio "$UP_S" "$C_S") x curl's, bytes sent $(ratio "$SENT" "$SIZE")" \
	"x curl's, $(ratio "$SENT" "$DATA") x written"
