#!/bin/sh
# Write the seed corpus of fuzz_rate (net/rate.c, --limit-rate): good rates with each suffix and
# the bad forms the CLI test names. Usage: make_seeds_rate.sh [corpusdir]
set -eu
dir=${1:-$(cd "$(dirname "$0")" && pwd)/corpus}/rate
mkdir -p "$dir"
for r in 1024 1K 500k 2M 2MB 2M/s 1G 1T 0 5X fast 1.5M 100 2T 99999999999999999999 \
	18446744073709551615K -1M; do
	printf '%s' "$r" >"$dir/$(printf '%s' "$r" | tr '/.' '_p')"
done
