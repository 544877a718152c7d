#!/bin/bash
# testdata/bad is generated: make-bad.py run into a temporary directory must write exactly the
# committed files, byte for byte, and nothing else (and twice in a row the same).
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
BAD=$RP_SOURCE_DIR/testdata/bad

"$PY" "$BAD/make-bad.py" "$RP_TMP/a"
n=0
for f in "$RP_TMP"/a/*; do
	name=$(basename "$f")
	[ -e "$BAD/$name" ] || fail "make-bad.py writes $name, which is not committed in testdata/bad"
	cmp "$f" "$BAD/$name" || fail "testdata/bad/$name differs from what make-bad.py writes"
	n=$((n + 1))
done
for f in "$BAD"/*; do
	name=$(basename "$f")
	case $name in make-bad.py | expect.tsv | README*) continue ;; esac
	[ -e "$RP_TMP/a/$name" ] || fail "testdata/bad/$name is not written by make-bad.py"
done
[ "$n" -ge 20 ] || fail "make-bad.py wrote only $n files"

# The chain generator is deterministic too.
GEN=$RP_SOURCE_DIR/tests/gen/make_vhd_chain.py
"$PY" "$GEN" "$RP_TMP/c1" --size 4M --block-size 512K
"$PY" "$GEN" "$RP_TMP/c2" --size 4M --block-size 512K
for f in base.vhd diff1.vhd diff2.vhd expected.raw; do
	cmp "$RP_TMP/c1/$f" "$RP_TMP/c2/$f" || fail "make_vhd_chain.py is not deterministic ($f)"
done
note "ok: $n files"
