#!/bin/bash
# Differential test of the VHD/VHDX readers: tests/gen/make_vhd_corpus.py writes VHD and VHDX
# images (fixed, dynamic, differencing; 512- and 4096-byte logical sectors; block sizes 1-256
# MiB; every block state; partially present blocks; a user metadata item with a system GUID;
# Disk2VHD's identical headers; sparse images over 4 GiB) with the bytes each must read as.
# cvmrestore's reading (convert --to raw) must equal those bytes, and so must qemu-img's (fixed
# and dynamic images; VHDs opened with force_size_calc=current_size, since qemu otherwise sizes
# them by CHS geometry) and libvhdi's (tests/tools/vhdi_cat) where the manifest does not name
# it as known to be wrong (docs/libvhdi.md). qemu-img refuses differencing VHDX, so chains are
# checked against the generator's bytes and libvhdi (given the parent).
#
#   VHD_CORPUS_SEED, VHD_CORPUS_COUNT: a random corpus instead of the fixed one (make fuzz).
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
[ -x "${VHDI_CAT:-}" ] || fail "VHDI_CAT is not set (ctest sets it)"
C=$RP_TMP/corpus
SCMP=("$PY" "$RP_SOURCE_DIR/tests/tools/sparse_cmp.py")
gen_args=()
if [ -n "${VHD_CORPUS_COUNT:-}" ]; then
	gen_args=(--seed "${VHD_CORPUS_SEED:-1}" --count "$VHD_CORPUS_COUNT")
fi
"$PY" "$RP_SOURCE_DIR/tests/gen/make_vhd_corpus.py" "$C" "${gen_args[@]}"

# Disk2VHD's headers are identical; two headers with the same sequence number that differ are
# still refused (exit 3). Made from the first disk2vhd image before the loop removes it.
d2v=$(awk -F'\t' '$1 ~ /disk2vhd/ {print $2; exit}' "$C/manifest.tsv")
if [ -n "$d2v" ]; then
	cp "$d2v" "$RP_TMP/d2v-differ.vhdx"
	"$PY" - "$RP_TMP/d2v-differ.vhdx" "$RP_SOURCE_DIR/tests/gen" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
import diskgen
with open(sys.argv[1], "r+b") as f:
    f.seek(diskgen.VHDX_HEADER1)
    h1 = f.read(4096)
    f.seek(diskgen.VHDX_HEADER2)
    h = bytearray(f.read(4096))
    assert h == h1, "the disk2vhd image's headers are not identical"
    h[40] ^= 1  # the data write guid
    diskgen.vhdx_refresh_crc(h)
    f.seek(diskgen.VHDX_HEADER2)
    f.write(h)
EOF
	expect_exit 3 "$CVMRESTORE" convert "$RP_TMP/d2v-differ.vhdx" "$RP_TMP/x.raw" --to raw -q
	expect_stderr_has "headers: both have sequence number 1 but differ"
	rm -f "$RP_TMP/d2v-differ.vhdx"
fi
n=0
while IFS=$'\t' read -r name img parent expected checks; do
	out=$RP_TMP/$name.out.raw
	args=("$img" "$out" --to raw -q)
	[ "$parent" = - ] || args+=(--parent "$parent")
	expect_exit 0 "$CVMRESTORE" convert "${args[@]}" ||
		fail "$name: cvmrestore refuses the image"
	"${SCMP[@]}" "$expected" "$out" || fail "$name: cvmrestore reads other bytes than generated"
	case ,$checks, in
	*,qemu,*)
		q=$RP_TMP/$name.qemu.raw
		case $img in
		*.vhd) qemu-img convert -O raw --image-opts \
			"driver=vpc,force_size_calc=current_size,file.filename=$img" "$q" ;;
		*) qemu-img convert -f vhdx -O raw "$img" "$q" ;;
		esac
		"${SCMP[@]}" "$expected" "$q" || fail "$name: qemu-img reads other bytes than generated"
		rm -f "$q"
		;;
	esac
	case ,$checks, in
	*,vhdi,*)
		vargs=("$img")
		[ "$parent" = - ] || vargs+=("$parent")
		"$VHDI_CAT" "${vargs[@]}" >"$RP_TMP/$name.vhdi.raw" ||
			fail "$name: libvhdi refuses the image"
		"${SCMP[@]}" "$expected" "$RP_TMP/$name.vhdi.raw" ||
			fail "$name: libvhdi reads other bytes than generated"
		rm -f "$RP_TMP/$name.vhdi.raw"
		;;
	esac
	rm -f "$out" "$img" "$expected"
	[ "$parent" = - ] || rm -f "$parent"
	n=$((n + 1))
done <"$C/manifest.tsv"
[ "$n" -gt 0 ] || fail "the corpus is empty"
note "$n images: cvmrestore = generator = qemu-img = libvhdi (where each applies)"
echo "test_vhd_differential: $n passed, 0 failed"
