#!/bin/bash
# The nbdkit plugin (nbd/plugin.c, docs/nbd.md) on a Unix socket, no root: a local raw disk, a
# local differencing VHDX chain, a recovery point descriptor's disk, a fixed VHD on nginx over
# HTTPS and a sparse page blob on Azurite (its SAS given as source=+FILE); without a seal a page
# blob's map is its page ranges, exactly, and a block blob's is all data. nbdcopy and qemu-img
# convert of the export equal the source byte for byte; random reads through libnbd
# (python3-libnbd) equal it; nbdinfo --map shows the chunks the seal records as zeros as holes
# (a 64 TiB sparse VHDX's map: three data chunks, the rest runs of holes, as the seal counts);
# a chunk corrupted on the server (nginx: a byte changed, the ETag kept) or in the local file
# gives EIO for reads in that chunk only, with a log line naming the chunk and the check, and
# so does a chunk not yet cached once the blob's ETag changed (nginx: a new mtime); no
# seal is refused unless unverified=true (then logged); an inline SAS is refused; no SAS in any
# log (nbdkit -v) nor in cache-dir= names; with cache-dir= a second run reads the verified
# chunks from the folder (nginx sees none of their ranges; a file changed there is found by the
# seal check, logged, fetched again); the cache stays within cache= while a larger disk is read. In the sanitizer
# build nbdkit runs the plugin with libasan preloaded.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PASSED=0
PLUGIN=$RP_BUILD_DIR/nbdkit-cvmrestore-plugin.so
command -v nbdkit >/dev/null || fail "nbdkit is not installed (Makefile DEPS_PKGS)"
[ -f "$PLUGIN" ] || fail "$PLUGIN was not built (is nbdkit-plugin-dev installed?)"

# The sanitizer build's plugin needs the ASan runtime loaded first (nbdkit is not built with it).
PRELOAD=
ASAN=0
if grep -q '^RP_SANITIZE:BOOL=ON' "$RP_BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
	ASAN=1
	PRELOAD=$(${CC:-gcc} -print-file-name=libasan.so)
	[ -f "$PRELOAD" ] || fail "libasan.so not found by ${CC:-gcc} -print-file-name"
	# nbdkit's own allocations are not ours to judge; the plugin's errors abort
	export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
fi

SOCK=$T/nbd.sock
URI="nbd+unix:///?socket=$SOCK"
NBD_PID=
NBD_LOG=

# serve NAME KEY=VALUE...: nbdkit with the plugin on $SOCK, in the background, -v log in
# $T/NAME.log (NBD_LOG)
serve()
{
	local name=$1 i
	shift
	NBD_LOG=$T/$name.log
	rm -f "$SOCK"
	LD_PRELOAD=$PRELOAD nbdkit -f -v -r -U "$SOCK" -P "$T/nbd.pid" "$PLUGIN" "$@" \
		>"$NBD_LOG" 2>&1 </dev/null &
	NBD_PID=$!
	for i in $(seq 200); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$NBD_PID" 2>/dev/null || { cat "$NBD_LOG" >&2; fail "$name: nbdkit exited"; }
		sleep 0.05
	done
	fail "$name: nbdkit did not listen"
}

unserve()
{
	local i
	[ -n "$NBD_PID" ] || return 0
	kill "$NBD_PID" 2>/dev/null || true
	# With libasan preloaded, nbdkit can hang in a library destructor after the plugin is
	# unloaded (p11-kit's freelocale waits on glibc's locale lock): the log is complete by
	# then, so a stuck exit is ended.
	for i in $(seq 100); do
		kill -0 "$NBD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$NBD_PID" 2>/dev/null || true
	wait "$NBD_PID" 2>/dev/null || true
	NBD_PID=
	if [ $ASAN = 1 ] && grep -q 'ERROR: AddressSanitizer\|runtime error:' "$NBD_LOG"; then
		cat "$NBD_LOG" >&2
		fail "the sanitizers found an error in the plugin"
	fi
}
trap 'unserve; srv_stop_all 2>/dev/null; rp_cleanup' EXIT

# same_as FILE: nbdcopy and qemu-img convert of the export equal FILE byte for byte
same_as()
{
	rm -f "$T/copy.raw" "$T/qemu.raw"
	nbdcopy "$URI" "$T/copy.raw" || fail "nbdcopy failed: $(tail -3 "$NBD_LOG")"
	cmp "$T/copy.raw" "$1" || fail "nbdcopy of the export differs from $1"
	qemu-img convert -f raw -O raw "$URI" "$T/qemu.raw" || fail "qemu-img convert failed"
	cmp "$T/qemu.raw" "$1" || fail "qemu-img convert of the export differs from $1"
}

# random_reads FILE N: N random reads through libnbd equal FILE's bytes
random_reads()
{
	"$PY" - "$URI" "$1" "$2" <<'EOF' || fail "random reads through libnbd differ"
import os, random, sys
import nbd
uri, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
h = nbd.NBD()
h.connect_uri(uri)
size = h.get_size()
assert size == os.path.getsize(path), (size, os.path.getsize(path))
rng = random.Random(15)
with open(path, "rb") as f:
    for _ in range(n):
        off = rng.randrange(size)
        ln = min(rng.choice([1, 512, 4096, 65536, 1 << 20, 5 << 20]), size - off)
        f.seek(off)
        if h.pread(ln, off) != f.read(ln):
            sys.exit("bytes differ at %d+%d" % (off, ln))
EOF
}

# read_at OFF LEN: exit 0 if the read succeeds, 5 on EIO
read_at()
{
	"$PY" - "$URI" "$1" "$2" <<'EOF'
import errno, sys
import nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
try:
    h.pread(int(sys.argv[3]), int(sys.argv[2]))
except nbd.Error as e:
    if e.errno not in ("EIO", errno.EIO):
        sys.exit("read failed: %s" % e)
    sys.exit(5)
EOF
}

expect_read() # WANT OFF LEN WHAT
{
	local rc=0
	read_at "$2" "$3" || rc=$?
	[ "$rc" = "$1" ] || fail "$4: read of $3 bytes at $2 exited $rc, want $1"
}

# ---- a local raw disk ----
note "local raw disk with a seal"
it_make_raw "$T/disk.raw" $((40 * MIB)) 0 1 5 6 7 13 21 30 39
R seal -q "$T/disk.raw" -o "$T/seal.json" || fail "seal"
serve local source="$T/disk.raw" seal="$T/seal.json"
same_as "$T/disk.raw"
pass "local: nbdcopy and qemu-img convert equal the disk"
random_reads "$T/disk.raw" 200
pass "local: 200 random reads through libnbd equal the disk"
nbdinfo --map "$URI" >"$T/map.txt"
# 4 MiB chunks: 0-1 data (chunk 0), 5-7 (chunk 1), 13 (3), 21 (5), 30 (7), 39 (9); 2,4,6,8 zeros
"$PY" - "$T/map.txt" <<'EOF' || fail "nbdinfo --map does not show the seal's zero chunks as holes: $(cat "$T/map.txt")"
import sys
holes = set()
for line in open(sys.argv[1]):
    off, ln, t = line.split()[:3]
    if int(t) & 1:
        for c in range(int(off) >> 22, (int(off) + int(ln)) >> 22):
            holes.add(c)
assert holes == {2, 4, 6, 8}, sorted(holes)
EOF
pass "local: nbdinfo --map shows the seal's zero chunks (2, 4, 6, 8) as holes"
unserve
grep -q 'chunks: [0-9]* fetched and verified' "$NBD_LOG" || fail "no statistics in the log"

note "cache-dir= relative, nbdkit in the background (it changes to /)"
rm -f "$SOCK"
(cd "$T" && LD_PRELOAD=$PRELOAD nbdkit -r -U "$SOCK" -P "$T/bg.pid" "$PLUGIN" \
	source="$T/disk.raw" seal="$T/seal.json" cache-dir=reldir >"$T/bg.log" 2>&1 </dev/null) ||
	fail "nbdkit in the background: $(cat "$T/bg.log")"
for i in $(seq 200); do
	[ -S "$SOCK" ] && break
	sleep 0.05
done
nbdcopy "$URI" - | cmp - "$T/disk.raw" || fail "cache-dir= in the background: the disk differs"
bgpid=$(cat "$T/bg.pid")
kill "$bgpid"
for i in $(seq 100); do
	kill -0 "$bgpid" 2>/dev/null || break
	sleep 0.1
done
kill -KILL "$bgpid" 2>/dev/null || true
[ "$(find "$T/reldir" -type f | wc -l)" -ge 5 ] ||
	fail "cache-dir=reldir was not taken from nbdkit's start folder"
pass "cache-dir= relative to where nbdkit started, also in the background"

note "a 64 TiB sparse VHDX: nbdinfo --map lists the seal's holes as runs"
# 16 Mi chunks of 4 MiB, 3 of them data (at 0, 1 TiB and 40 TiB). The extents are answered from
# the seal's chunk states, a run of chunks per call: asking the seal chunk by chunk (4 MiB of
# zeros checked per chunk) would take hours here, hence the timeout.
qemu-img create -q -f vhdx -o subformat=dynamic "$T/huge.vhdx" 64T || fail "qemu-img create"
qemu-io -f vhdx -c 'write -P 0x5a 0 1M' -c 'write -P 0x33 1T 4M' -c 'write -P 0x11 40T 512' \
	"$T/huge.vhdx" >/dev/null || fail "qemu-io write"
R seal -q --json "$T/huge.vhdx" -o "$T/huge-seal.json" >"$T/huge-seal-run.json" || fail "seal"
serve huge source="$T/huge.vhdx" seal="$T/huge-seal.json"
timeout -s KILL 120 nbdinfo --map "$URI" >"$T/hmap.txt" ||
	fail "nbdinfo --map of 64 TiB did not finish"
unserve
"$PY" - "$T/hmap.txt" "$T/huge-seal-run.json" <<'EOF' ||
import json, sys
c = json.load(open(sys.argv[2]))["chunks"]
runs = []
for line in open(sys.argv[1]):
    off, ln, t = (int(x) for x in line.split()[:3])
    if runs and runs[-1][2] == t and runs[-1][0] + runs[-1][1] == off:
        runs[-1][1] += ln
    else:
        runs.append([off, ln, t])
C = 4 << 20
assert c["total"] == 1 << 24 and c["data"] == 3, c
assert [(o, l) for o, l, t in runs if t == 0] == [(0, C), (1 << 40, C), (40 << 40, C)], runs
assert sum(l for o, l, t in runs if t == 3) == (c["zero"] + c["unallocated"]) * C, runs
assert len(runs) == 6, runs
EOF
	fail "64 TiB: the map does not match the seal: $(cat "$T/hmap.txt")"
rm -f "$T/huge.vhdx"
pass "64 TiB sparse VHDX: nbdinfo --map gives 3 data chunks and 3 hole runs, as the seal counts"

note "a corrupted chunk gives EIO for that chunk only"
cp "$T/disk.raw" "$T/bad.raw"
it_flip_byte "$T/bad.raw" $((13 * MIB + 77))
serve corrupt source="$T/bad.raw" seal="$T/seal.json"
expect_read 5 $((13 * MIB)) 4096 "chunk 3 (corrupt)"
expect_read 5 $((12 * MIB - 512)) 1024 "a read across chunks 2 and 3"
expect_read 0 $((11 * MIB)) $MIB "chunk 2"
expect_read 0 $((16 * MIB)) $((4 * MIB)) "chunk 4"
expect_read 0 0 $((12 * MIB)) "chunks 0-2"
unserve
grep -q 'chunk 3 (0xc00000, 4194304 bytes) failed the seal-mismatch check 3 times' "$NBD_LOG" ||
	fail "the log does not name chunk 3 and the seal check: $(grep -i chunk "$NBD_LOG" | head -3)"
grep -q 'warning: chunk 3 failed the seal-mismatch check (fetching it again)' "$NBD_LOG" ||
	fail "the log does not show the retry"
pass "local: a corrupted chunk is EIO (after 2 more fetches, logged), the others read"

note "no seal: refused unless unverified=true"
rc=0
LD_PRELOAD=$PRELOAD timeout -s KILL 60 nbdkit -U - "$PLUGIN" source="$T/disk.raw" --run true \
	>"$T/noseal.log" 2>&1 || rc=$?
[ $rc != 0 ] || fail "nbdkit started without a seal"
grep -q 'no seal for .*disk.raw: every chunk is checked against a seal' "$T/noseal.log" ||
	fail "no seal: message $(cat "$T/noseal.log")"
serve unverified source="$T/disk.raw" unverified=true
same_as "$T/disk.raw"
unserve
grep -q 'warning: serving .*disk.raw UNVERIFIED' "$NBD_LOG" || fail "unverified is not logged"
pass "no seal: refused; unverified=true serves and says so in the log"

# ---- a local differencing VHDX chain ----
note "local VHDX chain"
"$PY" "$RP_SOURCE_DIR/tests/gen/make_vhdx_chain.py" "$T/chain" >/dev/null
R seal -q "$T/chain/child.vhdx" --parent "$T/chain/base.vhdx" --chunk-size 1M \
	-o "$T/chain-seal.json" || fail "seal of the chain"
serve vhdx source="$T/chain/child.vhdx" parent="$T/chain/base.vhdx" seal="$T/chain-seal.json"
same_as "$T/chain/expected.raw"
random_reads "$T/chain/expected.raw" 100
unserve
pass "VHDX chain: nbdcopy, qemu-img convert and random reads equal expected.raw"
serve vhdx-map source="$T/chain/child.vhdx" parent="$T/chain/base.vhdx" unverified=true
nbdinfo --map "$URI" >"$T/vmap.txt"
same_as "$T/chain/expected.raw"
unserve
grep -q 'hole,zero' "$T/vmap.txt" || fail "unverified VHDX: no hole from the block tables: $(cat "$T/vmap.txt")"
pass "VHDX chain unverified: extents from the block tables"

# ---- a recovery point descriptor's disk (its seal is the descriptor's) ----
note "descriptor: the sample recovery point's os disk"
R convert -q --to raw "$RP_SOURCE_DIR/testdata/sample-rp/os-disk.vhd" "$T/sample.raw" ||
	fail "convert of the sample"
serve descriptor source="$RP_SOURCE_DIR/testdata/sample-rp/recovery-point.json" disk=osdisk
same_as "$T/sample.raw"
unserve
! grep -q 'UNVERIFIED' "$NBD_LOG" || fail "descriptor: its disk's seal was not used"
rc=0
LD_PRELOAD=$PRELOAD timeout -s KILL 60 nbdkit -U - "$PLUGIN" disk=nosuch \
	source="$RP_SOURCE_DIR/testdata/sample-rp/recovery-point.json" --run true \
	>"$T/nodisk.log" 2>&1 || rc=$?
[ $rc != 0 ] && grep -q "the descriptor has no disk named 'nosuch'" "$T/nodisk.log" ||
	fail "an unknown disk: exit $rc, $(cat "$T/nodisk.log")"
pass "descriptor: the disk served with the descriptor's seal equals it; an unknown disk is refused"

# ---- nginx over HTTPS ----
note "nginx: a fixed VHD over HTTPS"
mkdir -p "$T/www"
it_make_raw "$T/web.raw" $((24 * MIB)) 0 2 3 9 10 11 17 22
R convert -q "$T/web.raw" "$T/www/disk.vhd" || fail "convert"
R seal -q "$T/www/disk.vhd" -o "$T/web-seal.json" || fail "seal"
nginx_start "$T/www"
serve nginx source="$NGINX_URL/disk.vhd" seal="$T/web-seal.json" cacert="$RP_CACERT" \
	connections=4
same_as "$T/web.raw"
random_reads "$T/web.raw" 100
unserve
pass "nginx: nbdcopy, qemu-img convert and random reads equal the disk"

note "nginx: cache-dir= keeps the verified chunks for the next run, checked again"
# web.raw's data chunks: 0, 2, 4 and 5 (1 and 3 are zeros: never written to the folder)
CD=$T/chunkdir
# whole_chunks FROM: 4 MiB ranges nginx served after access-log line FROM, but chunk 0's
whole_chunks()
{
	tail -n +$(($1 + 1)) "$NGINX_LOG" |
		sed -n 's/.*range="bytes=\([0-9]*\)-\([0-9]*\)".*/\1 \2/p' |
		awk '$2 - $1 + 1 == 4194304 && $1 != 0' | wc -l
}
seen=$(wc -l <"$NGINX_LOG")
serve nginx-cd1 source="$NGINX_URL/disk.vhd" seal="$T/web-seal.json" cacert="$RP_CACERT" \
	cache-dir="$CD"
same_as "$T/web.raw"
unserve
grep -q 'cache directory: 0 chunks read back and verified, 0 failed the check (removed), 4 written' \
	"$NBD_LOG" || fail "cache-dir, first run: $(grep 'cache directory' "$NBD_LOG")"
[ "$(whole_chunks "$seen")" -ge 3 ] || fail "cache-dir: the first run fetched no chunk from nginx"
[ "$(find "$CD" -type f | wc -l)" = 4 ] || fail "cache-dir: $(find "$CD" -type f)"
[ "$(stat -c %a "$CD"/*)" = 700 ] || fail "cache-dir: the seal's folder is not 0700"
[ "$(stat -c %a "$CD"/*/* | sort -u)" = 600 ] || fail "cache-dir: a chunk file is not 0600"
# the second run fetches no chunk: nginx sees no whole chunk's range but chunk 0's, which the
# start-up reads through the verified reader to learn the image's format (not the chunk cache)
seen=$(wc -l <"$NGINX_LOG")
serve nginx-cd2 source="$NGINX_URL/disk.vhd" seal="$T/web-seal.json" cacert="$RP_CACERT" \
	cache-dir="$CD"
same_as "$T/web.raw"
unserve
grep -q 'cache directory: 4 chunks read back and verified, 0 failed the check (removed), 0 written' \
	"$NBD_LOG" || fail "cache-dir, second run: $(grep 'cache directory' "$NBD_LOG")"
grep -q 'chunks: 0 fetched and verified' "$NBD_LOG" || fail "cache-dir: the second run fetched"
n=$(whole_chunks "$seen")
[ "$n" = 0 ] || fail "cache-dir: nginx served $n whole chunks in the second run"
pass "cache-dir: the second run reads the data chunks from the folder (checked), not from nginx"
# a chunk file changed in the folder: found by the seal check, removed, fetched again
f=$(find "$CD" -type f -name 0000000000000002)
[ -n "$f" ] || fail "cache-dir: no file for chunk 2"
it_flip_byte "$f" 1000
serve nginx-cd3 source="$NGINX_URL/disk.vhd" seal="$T/web-seal.json" cacert="$RP_CACERT" \
	cache-dir="$CD"
same_as "$T/web.raw"
unserve
grep -q 'warning: chunk 2 in the cache directory failed the seal-mismatch check: removed, fetching it again' \
	"$NBD_LOG" || fail "cache-dir: the changed file is not logged: $(grep -i 'cache dir' "$NBD_LOG")"
grep -q 'cache directory: 3 chunks read back and verified, 1 failed the check (removed), 1 written' \
	"$NBD_LOG" || fail "cache-dir, third run: $(grep 'cache directory' "$NBD_LOG")"
dd if="$T/web.raw" bs=4M skip=2 count=1 status=none | cmp - "$f" ||
	fail "cache-dir: chunk 2's file was not written again right"
pass "cache-dir: a chunk file changed in the folder fails its check, is fetched again, reads right"
rc=0
LD_PRELOAD=$PRELOAD timeout -s KILL 60 nbdkit -U - "$PLUGIN" source="$T/web.raw" unverified=true \
	cache-dir="$CD" --run true >"$T/cd-noseal.log" 2>&1 || rc=$?
[ $rc != 0 ] && grep -q 'a cache directory needs a seal' "$T/cd-noseal.log" ||
	fail "cache-dir without a seal: exit $rc, $(cat "$T/cd-noseal.log")"
pass "cache-dir without a seal is refused"

note "nginx: a byte changed on the server (ETag kept) is EIO in its chunk only"
# bit rot under the server: the bytes change, the file's time and size (nginx's ETag) do not
mt=$(stat -c %Y "$T/www/disk.vhd")
it_flip_byte "$T/www/disk.vhd" $((9 * MIB + 5))
touch -d "@$mt" "$T/www/disk.vhd"
serve nginx-bad source="$NGINX_URL/disk.vhd" seal="$T/web-seal.json" cacert="$RP_CACERT"
expect_read 5 $((9 * MIB)) 512 "chunk 2 (changed on the server)"
expect_read 0 $((4 * MIB)) $((4 * MIB)) "chunk 1"
expect_read 0 $((12 * MIB)) $((4 * MIB)) "chunk 3"
# the blob changes while served (a new mtime: a new ETag): a chunk not yet cached is EIO
touch -d "@$((mt + 60))" "$T/www/disk.vhd"
expect_read 5 $((16 * MIB)) 512 "chunk 4 after the ETag changed"
expect_read 0 $((12 * MIB)) 512 "chunk 3 (verified before, cached)"
unserve
grep -q 'chunk 4 (0x1000000, 4194304 bytes) failed the source-changed check' "$NBD_LOG" ||
	fail "the log does not name chunk 4 and the ETag pin: $(grep -i 'chunk 4' "$NBD_LOG" | head -3)"
grep -q 'chunk 2 (0x800000, 4194304 bytes) failed the seal-mismatch check' "$NBD_LOG" ||
	fail "the log does not name chunk 2 and the seal: $(grep -i chunk "$NBD_LOG" | head -3)"
pass "nginx: the changed chunk is EIO, named in the log; chunks 1 and 3 read; a new ETag is EIO"

# ---- Azurite: a sparse page blob with a SAS ----
note "Azurite: a page blob, the SAS from a file"
it_make_raw "$T/az.raw" $((64 * MIB)) 0 4 33 63
R convert -q "$T/az.raw" "$T/az.vhd" || fail "convert"
R seal -q "$T/az.vhd" -o "$T/az-seal.json" || fail "seal"
azurite_start
blobtool upload-sparse disks/az.vhd "$T/az.vhd" --create-container >/dev/null
SAS=$(azurite_sas disks/az.vhd)
printf '%s\n' "$SAS" >"$T/sas.url"
SIG=${SAS##*sig=}
SIG=${SIG%%&*}
[ ${#SIG} -gt 20 ] || fail "no sig= in the SAS"
rc=0
LD_PRELOAD=$PRELOAD timeout -s KILL 60 nbdkit -U - "$PLUGIN" source="$SAS" seal="$T/az-seal.json" \
	cacert="$RP_CACERT" --run true >"$T/inline.log" 2>&1 || rc=$?
[ $rc != 0 ] || fail "an inline SAS was accepted"
grep -q 'holds a SAS, and nbdkit -v logs every value: put the URL in a file' "$T/inline.log" ||
	fail "inline SAS: message $(cat "$T/inline.log")"
serve azurite source=+"$T/sas.url" seal="$T/az-seal.json" cacert="$RP_CACERT" \
	cache-dir="$T/azdir"
same_as "$T/az.raw"
random_reads "$T/az.raw" 100
nbdinfo --map "$URI" >"$T/amap.txt"
unserve
[ "$(awk '$3 == 3' "$T/amap.txt" | wc -l)" -ge 2 ] || fail "Azurite: no holes in the map: $(cat "$T/amap.txt")"
pass "Azurite: nbdcopy, qemu-img convert, random reads equal the disk; holes from the seal"

note "Azurite: a page blob without a seal: holes from its page ranges, exact"
# Written ranges that do not follow the chunks (512-byte pages, one inside a chunk, one across
# two): nbdinfo --map lists exactly the page ranges as data, the rest as holes.
truncate -s $((48 * MIB)) "$T/pr.raw"
blobtool create-page-blob disks/pr.raw $((48 * MIB)) >/dev/null
for spec in "1536 1024" "$((5 * MIB + 512)) 3584" "$((7 * MIB)) $((3 * MIB))" \
	"$((48 * MIB - 512)) 512"; do
	set -- $spec
	it_put_random "$T/pr.raw" "$1" "$2"
	dd if="$T/pr.raw" of="$T/piece" bs=512 skip=$(($1 / 512)) count=$(($2 / 512)) status=none
	blobtool put-pages disks/pr.raw --from-file "$T/piece" --offset "$1" >/dev/null
done
blobtool get-page-ranges disks/pr.raw >"$T/pr-ranges.txt"
SAS2=$(azurite_sas disks/pr.raw)
printf '%s\n' "$SAS2" >"$T/sas2.url"
SIG2=${SAS2##*sig=}
SIG2=${SIG2%%&*}
serve az-pages source=+"$T/sas2.url" unverified=true cacert="$RP_CACERT"
nbdinfo --map "$URI" >"$T/pmap.txt"
same_as "$T/pr.raw"
unserve
"$PY" - "$T/pmap.txt" "$T/pr-ranges.txt" $((48 * MIB)) <<'EOF' ||
import sys
M = 1 << 20
want = [(1536, 1024), (5 * M + 512, 3584), (7 * M, 3 * M), (48 * M - 512, 512)]
listed = []
for line in open(sys.argv[2]):
    s, e = (int(x) for x in line.split())
    if listed and listed[-1][0] + listed[-1][1] == s:
        listed[-1] = (listed[-1][0], listed[-1][1] + e - s + 1)
    else:
        listed.append((s, e - s + 1))
assert listed == want, ("Azurite lists", listed)
runs = []
for line in open(sys.argv[1]):
    off, ln, t = (int(x) for x in line.split()[:3])
    if runs and runs[-1][2] == t and runs[-1][0] + runs[-1][1] == off:
        runs[-1][1] += ln
    else:
        runs.append([off, ln, t])
assert sum(l for o, l, t in runs) == int(sys.argv[3]), runs
assert [(o, l) for o, l, t in runs if t == 0] == want, runs
assert all(t in (0, 3) for o, l, t in runs), runs
EOF
	fail "Azurite unverified: the map is not the page ranges: $(cat "$T/pmap.txt")"
pass "Azurite unverified: nbdinfo --map gives the page ranges exactly; nbdcopy equals the blob"

blobtool put-blob disks/block.raw "$T/pr.raw" >/dev/null
azurite_sas disks/block.raw >"$T/sas3.url"
serve az-block source=+"$T/sas3.url" unverified=true cacert="$RP_CACERT"
nbdinfo --map "$URI" >"$T/bmap.txt"
unserve
[ "$(awk '$3 != 0' "$T/bmap.txt" | wc -l)" = 0 ] ||
	fail "a block blob has no page ranges: all data, got $(cat "$T/bmap.txt")"
pass "Azurite unverified: a block blob is all data (no page ranges asked)"
for f in "$T"/*.log; do
	! grep -qF "$SIG" "$f" || fail "the SAS signature is in $f"
	! grep -qF "$SIG2" "$f" || fail "the second SAS signature is in $f"
done
! find "$T/azdir" | grep -qF "$SIG" || fail "the SAS signature is in a cache-dir= name"
[ -z "$(find "$T/azdir" -mindepth 2 | grep -vE '/[0-9a-f]{64}/[0-9a-f]{16}$')" ] ||
	fail "cache-dir= names other than identity/chunk: $(find "$T/azdir")"
[ "$(find "$T/azdir" -type f | wc -l)" -ge 3 ] || fail "Azurite: cache-dir= holds no chunk"
pass "no SAS signature in any nbdkit log (nbdkit -v, source=+FILE) nor in cache-dir= names"

# ---- memory stays bounded ----
note "a larger disk read through a small cache"
head -c $((256 * MIB)) /dev/urandom >"$T/big.raw"
R seal -q "$T/big.raw" -o "$T/big-seal.json" || fail "seal"
serve big source="$T/big.raw" seal="$T/big-seal.json" cache=16M
nbdcopy "$URI" - | cmp - "$T/big.raw" || fail "the large disk differs"
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$NBD_PID/status")
unserve
grep -q 'cache 4 chunks, 16777216 bytes' "$NBD_LOG" ||
	fail "the cache grew past cache=16M: $(grep 'chunks:' "$NBD_LOG")"
if [ $ASAN = 0 ]; then
	# the disk is 256 MiB; the plugin holds 16 MiB of chunks plus nbdkit's and libraries'
	[ "$hwm" -lt $((96 * 1024)) ] || fail "nbdkit's peak memory is $hwm KiB reading 256 MiB"
fi
pass "256 MiB read with cache=16M: the cache holds 4 chunks (peak RSS ${hwm} KiB)"

echo "test_nbd: $PASSED checks passed"
