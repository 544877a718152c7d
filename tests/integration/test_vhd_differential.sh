#!/bin/bash
# Differential test of the VHD/VHDX readers: tests/gen/make_vhd_corpus.py writes VHD and VHDX
# images (fixed, dynamic, differencing; 512- and 4096-byte logical sectors; block sizes 1-256
# MiB; every block state; partially present blocks; a user metadata item with a system GUID;
# Disk2VHD's identical headers; sparse images over 4 GiB) with the bytes each must read as.
# cvmrestore's reading (convert --to raw) must equal those bytes, and so must qemu-img's (fixed
# and dynamic images; VHDs opened with force_size_calc=current_size, since qemu otherwise sizes
# them by CHS geometry) and libvhdi's (tests/tools/vhdi_cat) where the manifest does not name
# it as known to be wrong (docs/libvhdi.md). qemu-img refuses differencing VHDX, so chains are
# checked against the generator's bytes alone.
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
		"$VHDI_CAT" "$img" >"$RP_TMP/$name.vhdi.raw" || fail "$name: libvhdi refuses the image"
		"${SCMP[@]}" "$expected" "$RP_TMP/$name.vhdi.raw" ||
			fail "$name: libvhdi reads other bytes than generated"
		rm -f "$RP_TMP/$name.vhdi.raw"
		;;
	esac
	rm -f "$out" "$img" "$expected"
	n=$((n + 1))
done <"$C/manifest.tsv"
[ "$n" -gt 0 ] || fail "the corpus is empty"
note "$n images: cvmrestore = generator = qemu-img = libvhdi (where each applies)"
echo "test_vhd_differential: $n passed, 0 failed"
