#!/usr/bin/env bash
# make fuzz: run every libFuzzer target for SECONDS on a scratch copy of its corpus; new inputs
# that crash are kept in tests/fuzz/crashes/<target>/ so that ctest replays them from then on.
set -eu
build=$1
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for bin in "$build"/tests/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	corpus=${name#fuzz_}
	mkdir -p "$work/$corpus" "$here/crashes/$corpus"
	cp -r "$here/corpus/$corpus/." "$work/$corpus/"
	echo "== $name for ${seconds}s"
	if ! "$bin" -max_total_time="$seconds" -print_final_stats=0 \
		-artifact_prefix="$here/crashes/$corpus/" "$work/$corpus" >"$work/$name.log" 2>&1; then
		echo "$name found a problem; reproducer in tests/fuzz/crashes/$corpus/:"
		tail -30 "$work/$name.log"
		status=1
	fi
	rmdir "$here/crashes/$corpus" 2>/dev/null || true
done
exit $status
