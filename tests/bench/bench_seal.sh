#!/bin/bash
# bench_seal.sh: the cost of seal and verify --seal grows with what is written, not with the
# disk's size (issue 13): a sparse raw of 4 TiB and a dynamic VHDX of 64 TiB (16 Mi chunks of
# 4 MiB), each with 1 GiB written, beside the same 1 GiB in a disk of 4 GiB / 64 GiB. One run
# each; prints wall time, peak RSS and the ratios huge/small and seal/verify --seal (targets:
# 4 TiB sealed in < 10 s, seal of the 64 TiB VHDX within 3x verify --seal of it, peak RSS
# < 160 MiB). Peers on the same files: sha256sum of the small raw (what the old whole-disk
# SHA-256 cost per byte) and qemu-img check of the VHDX (its BAT and metadata walk). Sparse files cost no
# space, but must live on a file system with SEEK_HOLE: BENCH_DIR defaults to build/ here.
BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build/bench-seal}
. "$(dirname "$0")/lib.sh"
bench_init seal

GIB=1073741824
# one: time and peak RSS of one run of CMD, into T and RSS (MiB)
one()
{
	local t0 t1
	t0=$(now_ns)
	RSS=$(($(peak_rss "$@") / 1024))
	t1=$(now_ns)
	T=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')
}

# a raw of SIZE with 1 GiB of random data in four 256 MiB pieces spread over it
make_raw()
{
	local f=$1 size=$2 i
	truncate -s "$size" "$f"
	for i in 0 1 2 3; do
		head -c $((GIB / 4)) /dev/urandom |
			dd of="$f" bs=1M seek=$((size / 4 * i)) oflag=seek_bytes conv=notrunc status=none
	done
}

# the same 1 GiB in a dynamic VHDX of SIZE (qemu-io writes through qemu's VHDX driver)
make_vhdx()
{
	local f=$1 size=$2 i
	qemu-img create -q -f vhdx -o subformat=dynamic "$f" "$size"
	for i in 0 1 2 3; do
		qemu-io -f vhdx -c "write -P $((i + 1)) $((size / 4 * i)) 256M" "$f" >/dev/null
	done
}

row()
{
	printf '  %-44s %8s s  peak RSS %4d MiB%s\n' "$1" "$T" "$RSS" "${2:-}"
}

echo "== seal: 1 GiB written, small disk beside huge disk, one run each"
for kind in raw vhdx; do
	if [ "$kind" = raw ]; then
		small=$((4 * GIB)) huge=$((4096 * GIB)) sname="4 GiB raw" hname="4 TiB raw"
		make_raw "$BW/small.raw" "$small"
		make_raw "$BW/huge.raw" "$huge"
	else
		small=$((64 * GIB)) huge=$((65536 * GIB)) sname="64 GiB vhdx" hname="64 TiB vhdx"
		make_vhdx "$BW/small.vhdx" "$small"
		make_vhdx "$BW/huge.vhdx" "$huge"
	fi
	# the 1 GiB just written is in the page cache: no warming (a cat of the huge file would read
	# its terabytes of holes)
	echo "$kind:"
	one "$CVMRESTORE" seal "$BW/small.$kind" -o "$BW/small.seal.json" -q
	t_ss=$T
	row "cvmrestore seal ($sname)"
	one "$CVMRESTORE" verify "$BW/small.$kind" --seal "$BW/small.seal.json" -q
	t_sv=$T
	row "cvmrestore verify --seal ($sname)"
	one "$CVMRESTORE" seal "$BW/huge.$kind" -o "$BW/huge.seal.json" -q
	t_hs=$T
	row "cvmrestore seal ($hname)" "  $(ratio "$t_hs" "$t_ss")x the small disk"
	one "$CVMRESTORE" verify "$BW/huge.$kind" --seal "$BW/huge.seal.json" -q
	t_hv=$T
	row "cvmrestore verify --seal ($hname)" "  $(ratio "$t_hv" "$t_sv")x the small disk"
	echo "  seal / verify --seal of the $hname: $(ratio "$t_hs" "$t_hv")x (target <= 3x);" \
		"seal file $(stat -c %s "$BW/huge.seal.json") bytes"
	if [ "$kind" = raw ]; then
		# the linear digest hashes every byte, holes too (minutes for the 64 GiB VHDX)
		one "$CVMRESTORE" seal "$BW/small.$kind" -o "$BW/lin.seal.json" -q --digests sha256
		row "cvmrestore seal --digests sha256 ($sname)" "  (linear: every byte)"
		one sha256sum "$BW/small.raw"
		row "peer: sha256sum ($sname)"
	else
		# qemu-img check walks the BAT and metadata (qemu-img map of a VHDX is refused by
		# qemu 7.2: "external, encrypted or compressed clusters")
		one qemu-img check -f vhdx "$BW/small.vhdx"
		row "peer: qemu-img check ($sname)"
		one qemu-img check -f vhdx "$BW/huge.vhdx"
		row "peer: qemu-img check ($hname)"
	fi
	rm -f "$BW/small.$kind" "$BW/huge.$kind" "$BW"/*.seal.json
done
