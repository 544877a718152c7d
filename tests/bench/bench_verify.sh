#!/bin/bash
# bench_verify.sh: cvmrestore verify --seal against `openssl dgst -sha256` on a 2 GiB fully
# allocated random image (raw and fixed VHD), read once first so that both run from the page
# cache. Best of 3 each; prints MiB/s and the ratio (target: ours >= 1.7x OpenSSL), and the
# peak RSS of our verify (target < 64 MiB). Never fails on speed.
. "$(dirname "$0")/lib.sh"
bench_init verify

MIB_N=${BENCH_VERIFY_MIB:-2048}
BYTES=$((MIB_N * 1048576))
echo "== verify: $MIB_N MiB of random data, cached, best of 3"
head -c "$BYTES" /dev/urandom >"$BW/disk.raw"
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$BW/disk.raw" "$BW/disk.vhd"
"$CVMRESTORE" seal "$BW/disk.raw" -o "$BW/seal.json" >/dev/null

# read the image into the page cache before each timed run (this machine reclaims cold cache)
warm() { cat "$f" >/dev/null; }
BEST_PREP=warm
for img in disk.raw disk.vhd; do
	f=$BW/$img
	best_of 3 openssl dgst -sha256 "$f"
	t_ssl=$BEST
	best_of 3 "$CVMRESTORE" verify "$f" --seal "$BW/seal.json"
	t_seal=$BEST
	best_of 3 "$CVMRESTORE" verify "$f"
	t_plain=$BEST
	warm
	rss_ssl=$(peak_rss openssl dgst -sha256 "$f")
	cpu_ssl=$(cpu_of)
	warm
	rss=$(peak_rss "$CVMRESTORE" verify "$f" --seal "$BW/seal.json")
	cpu_seal=$(cpu_of)
	warm
	rss_plain=$(peak_rss "$CVMRESTORE" verify "$f")
	cpu_plain=$(cpu_of)
	printf '%s:\n' "$img"
	printf '  %-28s %7s s %6s MiB/s  cpu %5s s  peak RSS %3d MiB\n' "openssl dgst -sha256" \
		"$t_ssl" "$(mibps "$BYTES" "$t_ssl")" "$cpu_ssl" $((rss_ssl / 1024))
	printf '  %-28s %7s s %6s MiB/s  cpu %5s s  peak RSS %3d MiB  %sx openssl (target >= 1.7x)\n' \
		"cvmrestore verify --seal" "$t_seal" "$(mibps "$BYTES" "$t_seal")" "$cpu_seal" \
		$((rss / 1024)) "$(ratio "$t_ssl" "$t_seal")"
	printf '  %-28s %7s s %6s MiB/s  cpu %5s s  peak RSS %3d MiB  %sx openssl\n' \
		"cvmrestore verify (no seal)" "$t_plain" "$(mibps "$BYTES" "$t_plain")" "$cpu_plain" \
		$((rss_plain / 1024)) "$(ratio "$t_ssl" "$t_plain")"
done
