# Shared helpers for tests/bench/bench_*.sh (sourced). Benchmarks print numbers; they never
# pass or fail on speed. Work files go under ${BENCH_DIR:-/tmp/cvmrestore-bench} and are removed
# at exit.
#
#   bench_init NAME      make $BW (a work dir under $BENCH_DIR), removed at exit; check
#                        $CVMRESTORE (default: build/cvmrestore in the source tree)
#   best_of N CMD...     run CMD N times (stdout and stderr discarded; a failure ends the
#                        benchmark), set BEST to the fastest wall time in seconds; if
#                        BEST_PREP names a command, it runs (untimed) before each run
#   peak_rss CMD...      run CMD once under /usr/bin/time, print its peak RSS in KiB
#   cpu_of               print user + system seconds of the last peak_rss run
#   mibps BYTES SECONDS  print BYTES / SECONDS in MiB/s
#   ratio A B            print A / B with two decimals
#   random_with_gaps FILE MIB GAP_EVERY GAP_MIB
#                        FILE of MIB MiB: random data, with GAP_MIB zero MiBs in every
#                        GAP_EVERY MiBs (sparse holes)

set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CVMRESTORE=${CVMRESTORE:-$BENCH_SRC/build/cvmrestore}
BENCH_DIR=${BENCH_DIR:-/tmp/cvmrestore-bench}
BW=

bench_init()
{
	[ -x "$CVMRESTORE" ] || {
		echo "bench: CVMRESTORE=$CVMRESTORE is not executable (build first)" >&2
		exit 2
	}
	[ -x /usr/bin/time ] || {
		echo "bench: /usr/bin/time is missing (Debian package 'time')" >&2
		exit 2
	}
	mkdir -p "$BENCH_DIR"
	BW=$(mktemp -d "$BENCH_DIR/$1.XXXXXX")
	trap 'rm -rf "$BW"; rmdir "$BENCH_DIR" 2>/dev/null || true' EXIT
}

now_ns()
{
	date +%s%N
}

best_of()
{
	local n=$1 i t0 t1 best=
	shift
	for ((i = 0; i < n; i++)); do
		if [ -n "${BEST_PREP:-}" ]; then
			$BEST_PREP
		fi
		t0=$(now_ns)
		"$@" >/dev/null 2>"$BW/.bench.err" || {
			echo "bench: failed: $*" >&2
			cat "$BW/.bench.err" >&2
			exit 1
		}
		t1=$(now_ns)
		if [ -z "$best" ] || [ $((t1 - t0)) -lt "$best" ]; then
			best=$((t1 - t0))
		fi
	done
	BEST=$(awk -v ns="$best" 'BEGIN { printf "%.3f", ns / 1e9 }')
}

peak_rss()
{
	/usr/bin/time -f '%M %U %S' -o "$BW/.bench.rss" "$@" >/dev/null 2>"$BW/.bench.err" || {
		echo "bench: failed: $*" >&2
		cat "$BW/.bench.err" >&2
		exit 1
	}
	tail -n 1 "$BW/.bench.rss" | cut -d' ' -f1
}

# cpu_of: user + system seconds of the last peak_rss run
cpu_of()
{
	tail -n 1 "$BW/.bench.rss" | awk '{ printf "%.2f", $2 + $3 }'
}

mibps()
{
	awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / 1048576 / s }'
}

ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

random_with_gaps()
{
	local f=$1 mib=$2 every=$3 gap=$4 i
	rm -f "$f"
	truncate -s $((mib * 1048576)) "$f"
	for ((i = 0; i < mib; i += every)); do
		head -c $(((every - gap) * 1048576)) /dev/urandom |
			dd of="$f" bs=1M seek="$i" iflag=fullblock conv=notrunc status=none
	done
	truncate -s $((mib * 1048576)) "$f"
}

# machine and tool versions, for the record
bench_header()
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	echo "machine: $(nproc) cores, $cpu," \
		"$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
	echo "cvmrestore: $("$CVMRESTORE" --version 2>&1 | head -n 1)"
	echo "openssl: $(openssl version)"
	echo "qemu-img: $(qemu-img --version | head -n 1)"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	if awk '{ exit !($1 > 0.5) }' /proc/loadavg; then
		echo "WARNING: the machine is busy (load above 0.5): the numbers below are not comparable"
	fi
}
