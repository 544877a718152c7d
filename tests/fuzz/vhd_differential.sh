#!/usr/bin/env bash
# make fuzz, VHD/VHDX step: random corpora from tests/gen/make_vhd_corpus.py (50 images a round,
# a new seed each round) through tests/integration/test_vhd_differential.sh, for SECONDS in
# all (a round that has started is finished). A failing round prints its seed: rerun it with
#   VHD_CORPUS_SEED=N VHD_CORPUS_COUNT=50 ctest --test-dir BUILD -R test_vhd_differential
set -eu
build=$(cd "$1" && pwd)
seconds=${2:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
seed=${VHD_CORPUS_SEED:-$(date +%s)}
end=$((SECONDS + seconds))
rounds=0
while [ "$SECONDS" -lt "$end" ]; do
	echo "== vhd differential, seed $seed (50 images)"
	if ! RP_SOURCE_DIR=$src RP_BUILD_DIR=$build CVMRESTORE=$build/cvmrestore \
		VHDI_CAT=$build/tests/vhdi_cat VHD_CORPUS_SEED=$seed VHD_CORPUS_COUNT=50 \
		bash "$src/tests/integration/test_vhd_differential.sh"; then
		echo "vhd differential found a difference with seed $seed"
		exit 1
	fi
	seed=$((seed + 1))
	rounds=$((rounds + 1))
done
echo "vhd differential: $rounds rounds of 50 images agree"
