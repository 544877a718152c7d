#!/bin/bash
# bench_convert.sh: cvmrestore convert --to vhd against `qemu-img convert -O vpc -o
# subformat=fixed,force_size=on` on a 2 GiB dynamic VHDX and a 2 GiB dynamic VHD (random data
# with zero gaps: 56 MiB random in every 64 MiB). Best of 3 each; prints MiB/s of virtual size,
# the ratio (target: ours no slower) and the peak RSS of our convert (target < 64 MiB).
# Durability differs: cvmrestore fsyncs its output before the rename by default, qemu-img does
# not flush at all. So each is compared like for like: plain qemu-img against
# `cvmrestore convert --no-sync`, and `qemu-img + sync OUT` against cvmrestore's default.
# Before every timed run the page cache is flushed (sync) so that one run's writeback does not
# land on the next, and the input is read into the cache. Never fails on speed.
. "$(dirname "$0")/lib.sh"
bench_init convert

MIB_N=${BENCH_CONVERT_MIB:-2048}
BYTES=$((MIB_N * 1048576))
echo "== convert to fixed VHD: $MIB_N MiB virtual (7/8 random, 1/8 zero gaps), cached input," \
	"best of 3"
random_with_gaps "$BW/disk.raw" "$MIB_N" 64 8
qemu-img convert -f raw -O vhdx -o subformat=dynamic "$BW/disk.raw" "$BW/in.vhdx"
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$BW/disk.raw" "$BW/in.vhd"
rm -f "$BW/disk.raw"

qemu_convert()
{
	rm -f "$BW/out-qemu.vhd"
	qemu-img convert -f "$1" -O vpc -o subformat=fixed,force_size=on "$2" "$BW/out-qemu.vhd"
}
qemu_convert_sync()
{
	qemu_convert "$@"
	sync "$BW/out-qemu.vhd"
}
ours_convert()
{
	rm -f "$BW/out-ours.vhd"
	"$CVMRESTORE" convert "$1" "$BW/out-ours.vhd" --to vhd
}
ours_convert_nosync()
{
	rm -f "$BW/out-ours.vhd"
	"$CVMRESTORE" convert "$1" "$BW/out-ours.vhd" --to vhd --no-sync
}

# read the input into the page cache before each timed run (this machine reclaims cold cache)
warm() { rm -f "$BW/out-ours.vhd" "$BW/out-qemu.vhd"; sync; cat "$f" >/dev/null; }
BEST_PREP=warm
for pair in vhdx:in.vhdx vpc:in.vhd; do
	qfmt=${pair%%:*} f=$BW/${pair#*:}
	best_of 3 qemu_convert "$qfmt" "$f"
	t_q=$BEST
	best_of 3 qemu_convert_sync "$qfmt" "$f"
	t_qs=$BEST
	best_of 3 ours_convert "$f"
	t_o=$BEST
	best_of 3 ours_convert_nosync "$f"
	t_on=$BEST
	rm -f "$BW/out-ours.vhd"
	rss=$(peak_rss "$CVMRESTORE" convert "$f" "$BW/out-ours.vhd" --to vhd)
	cpu_o=$(cpu_of)
	rss_q=$(peak_rss qemu-img convert -f "$qfmt" -O vpc -o subformat=fixed,force_size=on "$f" \
		"$BW/out-qemu.vhd")
	cpu_q=$(cpu_of)
	cmp -s -n "$BYTES" "$BW/out-ours.vhd" "$BW/out-qemu.vhd" ||
		echo "  WARNING: our output's data differs from qemu-img's"
	rm -f "$BW/out-ours.vhd" "$BW/out-qemu.vhd"
	printf '%s (%s bytes):\n' "${pair#*:}" "$(stat -c %s "$f")"
	printf '  %-28s %7s s %6s MiB/s  cpu %5s s  peak RSS %3d MiB\n' "qemu-img convert" "$t_q" \
		"$(mibps "$BYTES" "$t_q")" "$cpu_q" $((rss_q / 1024))
	printf '  %-28s %7s s %6s MiB/s\n' "qemu-img convert + sync OUT" "$t_qs" \
		"$(mibps "$BYTES" "$t_qs")"
	printf '  %-28s %7s s %6s MiB/s  %sx plain qemu-img (target >= 1.0x)\n' \
		"cvmrestore convert --no-sync" "$t_on" "$(mibps "$BYTES" "$t_on")" "$(ratio "$t_q" "$t_on")"
	printf '  %-28s %7s s %6s MiB/s  cpu %5s s  peak RSS %3d MiB  %sx qemu-img+sync (target >= 1.0x)\n' \
		"cvmrestore convert (fsync)" "$t_o" "$(mibps "$BYTES" "$t_o")" "$cpu_o" $((rss / 1024)) \
		"$(ratio "$t_qs" "$t_o")"
done
