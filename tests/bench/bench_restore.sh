#!/bin/bash
# bench_restore.sh: cvmrestore restore over HTTPS on loopback, against aria2c and curl.
#
# 1. nginx: a 2 GiB fully allocated fixed VHD (random data, made by `cvmrestore convert` of a
#    random raw), restored at default settings with --seal (made locally by `cvmrestore seal`),
#    against `aria2c -x16 -s16 -k4M` (verifies nothing) and `curl -o` (one stream). Our restore
#    fsyncs before the rename and aria2c does not, so aria2c is also timed followed by
#    `sync FILE` (like for like). Target: our wall time no more than aria2c's.
# 2. Azurite (strict): a 16 GiB virtual page blob with 1 GiB written in scattered 4 MiB-aligned
#    ranges against a 1 GiB dense page blob (both fixed VHDs, restored with --seal). Targets:
#    the sparse restore within 1.3x of the dense one; the sparse output's allocated size (du)
#    at most 1.05 GiB.
# 3. Peak RSS of our restore at defaults (/usr/bin/time, the largest of the runs): target under
#    160 MiB.
# 4. Issue 13 point 5: `restore --seal` from nginx against one `curl -o` followed by `sync` of
#    its file (curl checks nothing; like for like, as ours fsyncs), on a
#    BENCH_RESTORE_CURL_MIB (512) MiB fixed VHD, BENCH_RESTORE_RUNS (5) runs of each,
#    interleaved (curl+sync, ours, curl+sync, ...) so that load from elsewhere falls on both;
#    every run's ratio, their median and spread. Target: ours at or under 1.0x.
#
# Before every timed run the previous output is removed and `sync` runs, so that one run's
# writeback does not land on the next. Best of 3. Never fails on speed. The Azurite uploads go
# at 40 to 45 MiB/s (Put Page), about 50 s for the two blobs; they are done once. The whole
# script takes 5 to 7 minutes and some 5 GiB under $BENCH_DIR at peak.
# Sizes for a quick try: BENCH_RESTORE_MIB (nginx image, 2048), BENCH_RESTORE_AZ_MIB (data
# written in each Azurite blob, 1024), BENCH_RESTORE_AZ_VIRT_MIB (sparse blob, 16384),
# BENCH_RESTORE_CURL_MIB and BENCH_RESTORE_RUNS (section 4); BENCH_RESTORE_ONLY=curl-sync runs
# section 4 alone; BENCH_RESTORE_HUGE=1 adds section 5 (64 TiB, below), BENCH_RESTORE_ONLY=huge
# runs it alone.
. "$(dirname "$0")/lib.sh"
bench_init restore

for t in nginx aria2c curl node; do
	command -v "$t" >/dev/null || {
		echo "bench: $t is missing (make deps installs it)" >&2
		exit 2
	}
done

# the test peers of tests/integration (servers.sh), with their files under $BW
export RP_SOURCE_DIR=$BENCH_SRC RP_BUILD_DIR=$BW
. "$BENCH_SRC/tests/integration/lib.sh"
rp_tmpdir
. "$BENCH_SRC/tests/integration/servers.sh"
srv_certs # installs servers.sh's EXIT trap; keep removing $BW as bench_init's did
trap 'srv_stop_all; rp_cleanup; rm -rf "$BW"; rmdir "$BENCH_DIR" 2>/dev/null || true' EXIT

echo "peers: $(aria2c --version | head -n 1), $(curl --version | head -n 1 | cut -d' ' -f1-2)," \
	"$(nginx -v 2>&1 | sed 's/.*: //'), Azurite $(sed -n 's/.*"version": "\(.*\)".*/\1/p' \
	"$BENCH_SRC/tests/azurite/node_modules/azurite/package.json" | head -n 1) on node" \
	"$(node --version); kernel $(uname -r)"

MIB_N=${BENCH_RESTORE_MIB:-2048}
AZ_MIB=${BENCH_RESTORE_AZ_MIB:-1024}
AZ_VIRT_MIB=${BENCH_RESTORE_AZ_VIRT_MIB:-16384}
MIB=1048576
CA=$RP_CACERT
OUT=$BW/out
mkdir -p "$OUT"

# remove every earlier output (ours: the file, OUT.partial, OUT.journal; aria2c's control
# file) and write back the page cache's dirty pages
fresh()
{
	rm -rf "$OUT"
	mkdir -p "$OUT"
	sync
}
BEST_PREP=fresh

ARIA=(aria2c -x16 -s16 -k4M --ca-certificate "$CA" -q --allow-overwrite=true
	--auto-file-renaming=false -d "$OUT" -o aria.img)
aria()
{
	"${ARIA[@]}" "$1"
}
aria_sync()
{
	aria "$1"
	sync "$OUT/aria.img"
}
curl_o()
{
	curl -sS --fail --cacert "$CA" -o "$OUT/curl.img" "$1"
}
curl_sync()
{
	curl_o "$1"
	sync "$OUT/curl.img"
}

# 4. curl -o + sync (issue 13 point 5) -------------------------------------------------------
curl_sync_section()
{
	local n=${BENCH_RESTORE_CURL_MIB:-512} runs=${BENCH_RESTORE_RUNS:-5} i t0 t1 tc to
	local ratios="" tcs="" tos="" rss=0 r
	echo "== restore --seal against curl -o + sync FILE: nginx over HTTPS on loopback," \
		"$n MiB fixed VHD of random data, $runs runs of each, interleaved; load before:" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
	mkdir -p "$BW/www4"
	head -c $((n * MIB)) /dev/urandom >"$BW/d4.raw"
	"$CVMRESTORE" convert -q "$BW/d4.raw" "$BW/www4/disk.vhd" --to vhd
	rm -f "$BW/d4.raw"
	"$CVMRESTORE" seal -q "$BW/www4/disk.vhd" -o "$BW/d4.seal.json"
	local bytes
	bytes=$(stat -c %s "$BW/www4/disk.vhd")
	nginx_start "$BW/www4"
	cat "$BW/www4/disk.vhd" >/dev/null
	for ((i = 0; i < runs; i++)); do
		fresh
		t0=$(now_ns)
		/usr/bin/time -f '%U %S' -o "$BW/c4.time" curl -sS --fail --cacert "$CA" \
			-o "$OUT/curl.img" "$NGINX_URL/disk.vhd"
		sync "$OUT/curl.img"
		t1=$(now_ns)
		tc=$((t1 - t0))
		fresh
		t0=$(now_ns)
		/usr/bin/time -f '%M %U %S' -o "$BW/d4.time" "$CVMRESTORE" restore -q \
			--cacert "$CA" --seal "$BW/d4.seal.json" "$NGINX_URL/disk.vhd" \
			-o "$OUT/ours.img" 2>"$BW/d4.err" || {
			echo "bench: failed: restore" >&2
			cat "$BW/d4.err" >&2
			exit 1
		}
		t1=$(now_ns)
		to=$((t1 - t0))
		r=$(tail -n 1 "$BW/d4.time" | cut -d' ' -f1)
		[ "$r" -gt "$rss" ] && rss=$r
		tcs="$tcs $tc" tos="$tos $to" ratios="$ratios $(ratio "$to" "$tc")"
		printf '  run %d: curl -o + sync %6.3f s (cpu %s s), restore --seal %6.3f s (cpu %s s): %sx\n' \
			$((i + 1)) "$(awk -v v="$tc" 'BEGIN { print v / 1e9 }')" \
			"$(tail -n 1 "$BW/c4.time" | awk '{ printf "%.2f", $1 + $2 }')" \
			"$(awk -v v="$to" 'BEGIN { print v / 1e9 }')" \
			"$(tail -n 1 "$BW/d4.time" | awk '{ printf "%.2f", $2 + $3 }')" \
			"$(ratio "$to" "$tc")"
	done
	cmp -s "$OUT/ours.img" "$BW/www4/disk.vhd" || echo "  WARNING: our output differs"
	fresh
	nginx_stop
	rm -rf "$BW/www4"
	"$SRV_PY" -c '
import statistics, sys
b = int(sys.argv[1]); tc = [int(x) / 1e9 for x in sys.argv[2].split()]
to = [int(x) / 1e9 for x in sys.argv[3].split()]; r = [float(x) for x in sys.argv[4].split()]
m = lambda v: statistics.median(v)
print("  %d bytes; curl -o + sync: median %.3f s (%.3f-%.3f), %.0f MiB/s" %
      (b, m(tc), min(tc), max(tc), b / m(tc) / 1048576))
print("  restore --seal: median %.3f s (%.3f-%.3f), %.0f MiB/s, peak RSS %d MiB" %
      (m(to), min(to), max(to), b / m(to) / 1048576, int(sys.argv[5]) // 1024))
print("  ratio ours / curl+sync: median %.2fx, spread %.2f-%.2fx (target <= 1.0x)" %
      (m(r), min(r), max(r)))
' "$bytes" "$tcs" "$tos" "$ratios" "$rss"
	echo "  load after: $(cut -d' ' -f1-3 /proc/loadavg)"
}
if [ "${BENCH_RESTORE_ONLY:-}" = curl-sync ]; then
	curl_sync_section
	exit 0
fi

# 5. A 64 TiB disk with scattered data (issue 13 point 2; off unless BENCH_RESTORE_HUGE=1 or
#    BENCH_RESTORE_ONLY=huge, about 12 minutes): tests/servers/pagerangeserver.py serves over
#    HTTPS a fixed-VHD page blob of BENCH_RESTORE_HUGE_TIB (64) TiB with
#    BENCH_RESTORE_HUGE_RANGES (4096) written 512-byte pages spread evenly over it (each in its
#    own chunk), in chunks of BENCH_RESTORE_HUGE_CHUNK (4M). The same disk is written as a sparse
#    raw (pagerangeserver.py --write); `seal` of it and `verify --seal` of it are the local
#    commands, and its seal is the one `restore --seal` and `verify URL --seal` use. Each runs
#    once under /usr/bin/time: wall time and peak RSS (target under 160 MiB at 4 MiB chunks).
#    BENCH_RESTORE_HUGE_PLAIN=1 adds a restore without a seal. The files live under
#    BENCH_RESTORE_HUGE_DIR (default /dev/shm: ext4 caps a file at 16 TiB; tmpfs holds the
#    written pages only: 4 KiB per range for the raw, 64 KiB per range for a restore's output),
#    removed at the end.
#    The chunk count at 64 TiB and 1 TiB written as scattered 4 MiB chunks (16 Mi chunks, 256 Ki
#    data chunks) without moving 1 TiB: BENCH_RESTORE_HUGE_TIB=1 BENCH_RESTORE_HUGE_CHUNK=64K
#    BENCH_RESTORE_HUGE_RANGES=262144 (about 8 minutes; docs/benchmarks.md says how the default
#    case is estimated from it).
huge_time()
{
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$HB/$name.time" "$@" >"$HB/$name.out" 2>"$HB/$name.err" || {
		echo "bench: failed: $name (exit $?): $(tail -n 3 "$HB/$name.err")" >&2
		return 1
	}
	read -r HT HRSS <"$HB/$name.time"
}
huge_section()
{
	local tib=${BENCH_RESTORE_HUGE_TIB:-64} n=${BENCH_RESTORE_HUGE_RANGES:-4096} size stride
	local cs=${BENCH_RESTORE_HUGE_CHUNK:-4M}
	local base=$((3 * MIB)) pid port host=hugepages.blob.core.windows.net url pin rc=0
	HB=$(mktemp -d "${BENCH_RESTORE_HUGE_DIR:-/dev/shm}/cvmr-bench-huge.XXXXXX")
	size=$((tib << 40))
	stride=$(((size - base - 512) / n / 512 * 512))
	echo "5. seal, verify --seal, restore --seal and verify URL --seal of a $tib TiB disk in" \
		"chunks of $cs, $n scattered data chunks (pagerangeserver.py; load before:" \
		"$(cut -d' ' -f1-3 /proc/loadavg))"
	truncate -s "$size" "$HB/empty.raw"
	"$CVMRESTORE" convert -q "$HB/empty.raw" "$HB/empty.vhd" --to vhd >/dev/null 2>&1 || {
		echo "bench: convert of the empty disk failed" >&2
		return 1
	}
	tail -c 512 "$HB/empty.vhd" >"$HB/footer.bin"
	rm -f "$HB/empty.raw" "$HB/empty.vhd"
	local lay=(--size "$size" --ranges "$n" --base "$base" --stride "$stride")
	"$SRV_PY" "$SRV_SRC/pagerangeserver.py" --write "$HB/disk.raw" "${lay[@]}" || return 1
	{
		huge_time seal "$CVMRESTORE" seal -q --chunk-size "$cs" "$HB/disk.raw" \
			-o "$HB/seal.json" &&
			echo "  seal (local raw):      $HT s, peak RSS $((HRSS / 1024)) MiB" &&
			huge_time vlocal "$CVMRESTORE" verify -q "$HB/disk.raw" --seal "$HB/seal.json" &&
			echo "  verify --seal (local): $HT s, peak RSS $((HRSS / 1024)) MiB"
	} || rc=1
	rm -f "$HB/disk.raw"
	[ $rc = 0 ] || return 1
	"$SRV_PY" "$SRV_SRC/pagerangeserver.py" --cert "$SRV_CERT" --key "$SRV_KEY" \
		--footer "$HB/footer.bin" "${lay[@]}" --port-file "$HB/port" >"$HB/srv.log" 2>&1 \
		</dev/null &
	pid=$!
	port=$(srv_wait_portfile "$HB/port" "$pid" pagerangeserver)
	url="https://$host:$port/c/disk.vhd?sv=2021-08-06&sr=b&sp=r&sig=BenchHugeSig0123456789"
	pin=(--cacert "$CA" --resolve "$host:$port:127.0.0.1")
	if [ "${BENCH_RESTORE_HUGE_PLAIN:-}" = 1 ]; then
		{
			huge_time plain "$CVMRESTORE" restore -q "${pin[@]}" --chunk-size "$cs" \
				"$url" -o "$HB/plain.raw" --format raw &&
				echo "  restore (no seal):     $HT s, peak RSS $((HRSS / 1024)) MiB"
		} || rc=1
		rm -f "$HB/plain.raw"
	fi
	{
		huge_time restore "$CVMRESTORE" restore -q "${pin[@]}" "$url" \
			--seal "$HB/seal.json" -o "$HB/out.raw" --format raw &&
			echo "  restore --seal:        $HT s, peak RSS $((HRSS / 1024)) MiB" \
				"(target < 160)" &&
			"$SRV_PY" "$SRV_SRC/pagerangeserver.py" --check "$HB/out.raw" "${lay[@]}" &&
			rm -f "$HB/out.raw" &&
			huge_time verify "$CVMRESTORE" verify -q "${pin[@]}" "$url" \
				--seal "$HB/seal.json" &&
			echo "  verify URL --seal:     $HT s, peak RSS $((HRSS / 1024)) MiB" \
				"(target < 160)"
	} || rc=1
	echo "  load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	srv_kill "$pid" TERM
	rm -rf "$HB"
	return $rc
}
if [ "${BENCH_RESTORE_ONLY:-}" = huge ]; then
	huge_section
	exit $?
fi

# ours_best N NAME URL SEAL: our restore at defaults with --seal, N times (fresh before each),
# under /usr/bin/time with --json. Sets BEST (fastest wall time, s), RSS_KIB (the largest peak
# RSS of the runs), CPU_S (user + system s of the fastest run) and REPORT (from the fastest
# run's JSON report: bytes fetched and skipped, chunks, retries, transport hash, the engine's
# own seconds). The wall time includes the process start and the final fsync.
ours_best()
{
	local n=$1 name=$2 url=$3 seal=$4 i t0 t1 best="" rss
	RSS_KIB=0
	for ((i = 0; i < n; i++)); do
		fresh
		t0=$(now_ns)
		/usr/bin/time -f '%M %U %S' -o "$BW/$name.time" "$CVMRESTORE" restore -q --json \
			--cacert "$CA" --seal "$seal" "$url" -o "$OUT/ours.img" >"$BW/$name.json" \
			2>"$BW/$name.err" || {
			echo "bench: failed: restore $name" >&2
			cat "$BW/$name.err" >&2
			exit 1
		}
		t1=$(now_ns)
		rss=$(tail -n 1 "$BW/$name.time" | cut -d' ' -f1)
		[ "$rss" -gt "$RSS_KIB" ] && RSS_KIB=$rss
		if [ -z "$best" ] || [ $((t1 - t0)) -lt "$best" ]; then
			best=$((t1 - t0))
			CPU_S=$(tail -n 1 "$BW/$name.time" | awk '{ printf "%.2f", $2 + $3 }')
			cp "$BW/$name.json" "$BW/$name.best.json"
		fi
	done
	BEST=$(awk -v ns="$best" 'BEGIN { printf "%.3f", ns / 1e9 }')
	REPORT=$("$SRV_PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
mib = lambda k: "%.0f" % (d.get(k, 0) / 1048576)
print("fetched %s MiB, skipped %s MiB, %s chunks, %s retries, transport hash %s, "
      "engine %.2f s" % (mib("bytes_fetched"), mib("bytes_skipped"), d.get("chunks_fetched"),
                         d.get("retries"), d.get("transport_hash"), d.get("seconds", 0)))
' "$BW/$name.best.json")
}

row() # LABEL SECONDS BYTES [MORE...]
{
	local label=$1 t=$2 b=$3
	shift 3
	printf '  %-38s %7s s %6s MiB/s%s\n' "$label" "$t" "$(mibps "$b" "$t")" "$*"
}

# 1. nginx ------------------------------------------------------------------------------------
echo "== restore over HTTPS from nginx on loopback: $MIB_N MiB fixed VHD of random data," \
	"best of 3 (no output and sync before each run)"
mkdir -p "$BW/www"
head -c $((MIB_N * MIB)) /dev/urandom >"$BW/disk.raw"
"$CVMRESTORE" convert -q "$BW/disk.raw" "$BW/www/disk.vhd" --to vhd
rm -f "$BW/disk.raw"
"$CVMRESTORE" seal -q "$BW/www/disk.vhd" -o "$BW/disk.seal.json"
VHD_BYTES=$(stat -c %s "$BW/www/disk.vhd")
nginx_start "$BW/www"
URL=$NGINX_URL/disk.vhd
cat "$BW/www/disk.vhd" >/dev/null # the server reads from the page cache

best_of 3 curl_o "$URL"
t_c=$BEST
best_of 3 aria "$URL"
t_a=$BEST
best_of 3 aria_sync "$URL"
t_as=$BEST
ours_best 3 nginx "$URL" "$BW/disk.seal.json"
t_o=$BEST rss_o=$RSS_KIB cpu_o=$CPU_S rep_o=$REPORT
cmp -s "$OUT/ours.img" "$BW/www/disk.vhd" || echo "  WARNING: our output differs from the image"
fresh
rss_a=$(peak_rss "${ARIA[@]}" "$URL")
cpu_a=$(cpu_of)
fresh
nginx_stop
rm -rf "$BW/www"

printf 'disk.vhd (%s bytes):\n' "$VHD_BYTES"
row "curl -o (one stream)" "$t_c" "$VHD_BYTES"
row "aria2c -x16 -s16 -k4M" "$t_a" "$VHD_BYTES" "  cpu $cpu_a s  peak RSS $((rss_a / 1024)) MiB"
row "aria2c + sync FILE" "$t_as" "$VHD_BYTES"
row "cvmrestore restore --seal (fsync)" "$t_o" "$VHD_BYTES" \
	"  cpu $cpu_o s  peak RSS $((rss_o / 1024)) MiB (target < 160)"
printf '  %-38s %sx plain aria2c (target >= 1.0x), %sx aria2c + sync, %sx curl\n' "" \
	"$(ratio "$t_a" "$t_o")" "$(ratio "$t_as" "$t_o")" "$(ratio "$t_c" "$t_o")"
printf '  %-38s %s\n' "  engine report" "$rep_o"

curl_sync_section

# 2. Azurite ----------------------------------------------------------------------------------
echo "== restore from Azurite (strict, HTTPS): $AZ_VIRT_MIB MiB page blob with $AZ_MIB MiB" \
	"written in scattered 4 MiB ranges, against a $AZ_MIB MiB dense one; best of 3"
# sparse: AZ_MIB/4 distinct 4 MiB slots picked at random (fixed seed) of AZ_VIRT_MIB/4
"$SRV_PY" -c '
import os, random, sys
path, virt, data = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
slot = 4 << 20
rnd = random.Random(20261128)
with open(path, "wb") as f:
    f.truncate(virt << 20)
    for s in sorted(rnd.sample(range(virt // 4), data // 4)):
        f.seek(s * slot)
        f.write(os.urandom(slot))
' "$BW/sparse.raw" "$AZ_VIRT_MIB" "$AZ_MIB"
head -c $((AZ_MIB * MIB)) /dev/urandom >"$BW/dense.raw"
for b in sparse dense; do
	"$CVMRESTORE" convert -q "$BW/$b.raw" "$BW/$b.vhd" --to vhd
	rm -f "$BW/$b.raw"
	"$CVMRESTORE" seal -q "$BW/$b.vhd" -o "$BW/$b.seal.json"
done
azurite_start
t0=$(now_ns)
for b in sparse dense; do
	blobtool upload-sparse "bench/$b.vhd" "$BW/$b.vhd" --create-container >/dev/null
done
t1=$(now_ns)
echo "  (uploaded $((2 * AZ_MIB)) MiB of pages in $(((t1 - t0) / 1000000000)) s)"
URL_S=$(azurite_sas bench/sparse.vhd)
URL_D=$(azurite_sas bench/dense.vhd)
ours_best 3 dense "$URL_D" "$BW/dense.seal.json"
t_d=$BEST rss_d=$RSS_KIB cpu_d=$CPU_S rep_d=$REPORT
cmp -s "$OUT/ours.img" "$BW/dense.vhd" || echo "  WARNING: the dense output differs"
ours_best 3 sparse "$URL_S" "$BW/sparse.seal.json"
t_s=$BEST rss_s=$RSS_KIB cpu_s=$CPU_S rep_s=$REPORT
cmp -s "$OUT/ours.img" "$BW/sparse.vhd" || echo "  WARNING: the sparse output differs"
du_s=$(du -k "$OUT/ours.img" | cut -f1)
fresh
azurite_stop

row "dense $AZ_MIB MiB blob" "$t_d" $((AZ_MIB * MIB)) \
	"  cpu $cpu_d s  peak RSS $((rss_d / 1024)) MiB (target < 160)"
printf '  %-38s %s\n' "  engine report" "$rep_d"
row "sparse $AZ_VIRT_MIB MiB blob ($AZ_MIB MiB data)" "$t_s" $((AZ_MIB * MIB)) \
	"  cpu $cpu_s s  peak RSS $((rss_s / 1024)) MiB (target < 160)"
printf '  %-38s %s\n' "  engine report" "$rep_s"
printf '  %-38s %sx the dense time (target <= 1.3x); output allocated %s MiB (target <= %s)\n' \
	"" "$(ratio "$t_s" "$t_d")" $((du_s / 1024)) \
	"$(awk -v m="$AZ_MIB" 'BEGIN { printf "%.0f", m * 1.05 }')"

if [ "${BENCH_RESTORE_HUGE:-0}" = 1 ]; then
	echo
	huge_section
fi
