#!/bin/bash
# `make check` (ctest -LE slow) stays a real quick tier: every command of cvmrestore (from its
# --help) is run by at least one integration test that is not labelled slow, and every name in
# tests/CMakeLists.txt's slow_tests is a test that exists (a misspelt one would run in the
# quick tier unnoticed).
set -euo pipefail
: "${CVMRESTORE:?set CVMRESTORE to the cvmrestore binary}"
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"

rp_tmpdir
I=$RP_SOURCE_DIR/tests/integration

ctest --test-dir "$RP_BUILD_DIR" -N -LE slow >"$RP_TMP/quick" || fail "ctest -N failed"
ctest --test-dir "$RP_BUILD_DIR" -N -L slow >"$RP_TMP/slow" || fail "ctest -N failed"
quick=$(grep -oE 'integration/test_[a-z0-9_]+' "$RP_TMP/quick" | sed 's|integration/||')
[ -n "$quick" ] || fail "no quick integration tests"
grep -q 'unit/test_' "$RP_TMP/quick" || fail "the quick tier has no unit tests"
grep -q 'fuzz-replay/' "$RP_TMP/quick" || fail "the quick tier has no fuzz replays"

listed=$(sed -n '/^set(slow_tests/,/)/p' "$RP_SOURCE_DIR/tests/CMakeLists.txt" |
	grep -oE 'test_[a-z0-9_]+' | sort)
labelled=$(grep -oE 'integration/test_[a-z0-9_]+' "$RP_TMP/slow" | sed 's|integration/||' | sort)
[ -n "$listed" ] || fail "tests/CMakeLists.txt has no slow_tests"
[ "$listed" = "$labelled" ] || fail "slow_tests names tests that do not exist:" \
	$(comm -23 <(echo "$listed") <(echo "$labelled"))

commands=$("$CVMRESTORE" --help | sed -n '/^commands:$/,/^$/p' | grep -E '^  [a-z]' | awk '{print $1}')
[ "$(echo "$commands" | wc -l)" -ge 12 ] || fail "--help lists too few commands"
for cmd in $commands; do
	found=
	for t in $quick; do
		# "$C" CMD, "$CVMRESTORE" CMD or R CMD (tests/integration/lib.sh)
		if grep -Eq "(\\\$\\{?C\\}?\"?|\\\$\\{?CVMRESTORE\\}?\"?|(^|[ (;|&])R) +$cmd( |\$)" "$I/$t.sh"; then
			found=$t
			break
		fi
	done
	[ -n "$found" ] || fail "no quick integration test runs '$cmd' (make check would skip it)"
done
pass "make check runs $(echo $commands | wc -w) commands in $(echo $quick | wc -w) quick integration tests"
