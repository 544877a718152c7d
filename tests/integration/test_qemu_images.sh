#!/bin/bash
# Images made by the peer (qemu-img): fixed and dynamic VHD, fixed and dynamic VHDX, from random
# data with zero gaps, in a whole-MiB size and a size with a non-MiB tail. For each image:
#   - `convert --to raw` equals `qemu-img convert -O raw` byte for byte;
#   - `convert --to vhd` is a fixed VHD of N MiB + 512 bytes (N = ceil(virtual / 1 MiB)) that
#     qemu-img accepts with the right size and content, zero padding, correct footer fields
#     (docs/azure.md table), and sparse output;
#   - `inspect --json` names the format and virtual size;
#   - `seal` then `verify --seal` passes; the seal's whole-disk sha256 equals OpenSSL's over the
#     raw bytes; a seal of one container verifies the others (a seal names content);
#   - a flipped byte is found and named by chunk index and offset.
# Also a fixed VHD with a CHS-rounded (not whole-MiB) size converts to a whole-MiB VHD.
set -euo pipefail
: "${CVMRESTORE:?set CVMRESTORE to the cvmrestore binary}"
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"

MIB=1048576
rp_tmpdir
T=$RP_TMP

# base A: 48 MiB, random in every 4th MiB, in MiB 47, and in two 4 KiB pieces inside zero MiBs.
it_make_raw "$T/a.raw" $((48 * MIB)) 0 4 8 12 16 20 24 28 32 36 40 44 47
it_put_random "$T/a.raw" $((13 * MIB + 12288)) 4096
it_put_random "$T/a.raw" $((30 * MIB + 512)) 4096
A_DATA=$((13 * MIB + 8192))
# base B: 21 MiB + 12 KiB (not a whole MiB), random at the start, in the middle and in the tail.
it_make_raw "$T/b.raw" $((21 * MIB + 12288)) 0 5 10 20
it_put_random "$T/b.raw" $((21 * MIB)) 12288

# make_image BASE KIND OUT: convert a raw base with qemu-img into one of the four containers.
make_image()
{
	case "$2" in
	vhd-fixed) qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$1" "$3" ;;
	vhd-dynamic) qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$1" "$3" ;;
	vhdx-dynamic) qemu-img convert -f raw -O vhdx -o subformat=dynamic "$1" "$3" ;;
	vhdx-fixed) qemu-img convert -f raw -O vhdx -o subformat=fixed "$1" "$3" ;;
	esac
}

# our format name for each kind, and qemu's
our_format() { case "$1" in vhdx-*) echo vhdx ;; *) echo "$1" ;; esac; }
qemu_format() { case "$1" in vhdx-*) echo vhdx ;; *) echo vpc ;; esac; }

KINDS="vhd-fixed vhd-dynamic vhdx-dynamic vhdx-fixed"

for base in a b; do
	raw="$T/$base.raw"
	virt=$(stat -c %s "$raw")
	n_mib=$(((virt + MIB - 1) / MIB))
	sha_raw=$(it_sha256 "$raw")
	make_image "$raw" vhd-fixed "$T/qemu.vhd"
	QEMU_ALLOC=$(du -B1 "$T/qemu.vhd" | cut -f1)
	rm -f "$T/qemu.vhd"

	for kind in $KINDS; do
		img="$T/$base.$kind"
		what="$base/$kind"
		make_image "$raw" "$kind" "$img"

		# the peer's raw bytes of this image; check the peer against the base too
		qemu-img convert -f "$(qemu_format "$kind")" -O raw "$img" "$T/ref.raw"
		cmp -s "$T/ref.raw" "$raw" || fail "$what: qemu-img's raw differs from the base"

		# convert --to raw equals the peer byte for byte
		expect_exit 0 "$CVMRESTORE" convert "$img" "$T/out.raw" --to raw
		cmp "$T/out.raw" "$T/ref.raw" || fail "$what: convert --to raw differs from qemu-img"
		[ ! -e "$T/out.raw.partial" ] || fail "$what: out.raw.partial left behind"
		rm -f "$T/out.raw"

		# convert --to vhd: whole-MiB fixed VHD, footer right, padding zero, content equal
		expect_exit 0 "$CVMRESTORE" convert "$img" "$T/out.vhd" --to vhd
		it_check_fixed_vhd "$T/out.vhd" "$virt" "$T/ref.raw" || fail "$what: bad fixed VHD"
		# the peer accepts it, sees N MiB and the same bytes. Plain `-f vpc` takes the size
		# from the CHS geometry for creator apps it does not know ("cvmr"), which is smaller
		# than N MiB; Azure and Hyper-V use the footer's current size, so ask qemu for that.
		qemu-img info -f vpc "$T/out.vhd" >/dev/null || fail "$what: qemu-img refuses out.vhd"
		opts="driver=vpc,force_size_calc=current_size,file.filename=$T/out.vhd"
		qsize=$(qemu-img info --output json --image-opts "$opts" |
			it_json_stdin "d['virtual-size']")
		[ "$qsize" = $((n_mib * MIB)) ] ||
			fail "$what: qemu-img info says $qsize bytes, want $((n_mib * MIB))"
		qemu-img convert --image-opts "$opts" -O raw "$T/back.raw"
		cmp -n "$virt" "$T/back.raw" "$T/ref.raw" ||
			fail "$what: qemu-img reads other bytes from our VHD"
		rm -f "$T/back.raw"
		# sparse like the peer's: qemu-img's fixed VHD of the same image as the yardstick
		if [ "$base" = a ]; then
			alloc=$(du -B1 "$T/out.vhd" | cut -f1)
			[ "$alloc" -le $((QEMU_ALLOC + 2 * MIB)) ] ||
				fail "$what: out.vhd has $alloc bytes allocated, qemu-img's fixed VHD" \
					"$QEMU_ALLOC ($A_DATA bytes of data)"
		fi
		rm -f "$T/out.vhd"

		# inspect --json: format and virtual size
		expect_exit 0 "$CVMRESTORE" inspect "$img" --json
		it_json_only "$RP_OUT"
		fmt=$(json_get "$RP_OUT" "d['format']")
		[ "$fmt" = "$(our_format "$kind")" ] || fail "$what: inspect format '$fmt'"
		vs=$(json_get "$RP_OUT" "d['virtual_size']")
		[ "$vs" = "$virt" ] || fail "$what: inspect virtual_size $vs, want $virt"
		probs=$(json_get "$RP_OUT" "len(d['problems'])")
		[ "$probs" = 0 ] || fail "$what: inspect reports problems: $(cat "$RP_OUT")"

		# seal then verify; the seal's sha256 (--digests) is OpenSSL's over the raw bytes
		expect_exit 0 "$CVMRESTORE" seal "$img" -o "$T/$base.$kind.seal.json" --chunk-size 1M \
			--digests sha256
		expect_exit 0 "$CVMRESTORE" verify "$img" --seal "$T/$base.$kind.seal.json"
		s=$(json_get "$T/$base.$kind.seal.json" "d['digests']['sha256']")
		[ "$s" = "$sha_raw" ] || fail "$what: seal sha256 $s, openssl says $sha_raw"
		rm -f "$T/ref.raw"
	done

	# a seal names content: the fixed VHD's seal verifies every container and the raw file
	for kind in $KINDS; do
		expect_exit 0 "$CVMRESTORE" verify "$T/$base.$kind" --seal "$T/$base.vhd-fixed.seal.json"
	done
	expect_exit 0 "$CVMRESTORE" verify "$raw" --seal "$T/$base.vhdx-dynamic.seal.json"
	# md5 and sha1 on request, equal to OpenSSL's
	expect_exit 0 "$CVMRESTORE" seal "$T/$base.vhdx-dynamic" -o "$T/all.seal.json" \
		--digests sha256,md5,sha1
	for alg in sha256 md5 sha1; do
		s=$(json_get "$T/all.seal.json" "d['digests']['$alg']")
		w=$(openssl dgst "-$alg" -r "$raw" | cut -d' ' -f1)
		[ "$s" = "$w" ] || fail "$base: seal $alg $s, openssl says $w"
	done
	rm -f "$T/all.seal.json"
	# a VHD of the tail variant is a larger disk (padded to a whole MiB): the seal says no
	if [ "$base" = b ]; then
		expect_exit 0 "$CVMRESTORE" convert "$raw" "$T/padded.vhd" --to vhd
		expect_exit 1 "$CVMRESTORE" verify "$T/padded.vhd" --seal "$T/b.vhd-fixed.seal.json"
		rm -f "$T/padded.vhd"
	fi
	# verify without a seal computes the same whole-disk digest (--digests) and the same
	# identity (seal-sha256, always) as the seal of another container of the disk
	expect_exit 0 "$CVMRESTORE" verify "$T/$base.vhd-dynamic" --json --digests sha256
	it_json_only "$RP_OUT"
	s=$(json_get "$RP_OUT" "d['disks'][0]['digests']['sha256']")
	[ "$s" = "$sha_raw" ] || fail "$base: verify --json sha256 $s, openssl says $sha_raw"
	s=$(json_get "$RP_OUT" "d['disks'][0]['identity']['seal-sha256']")
	expect_exit 0 "$CVMRESTORE" seal "$T/$base.vhd-fixed" -o "$T/id.seal.json"
	w=$(json_get "$T/id.seal.json" "d['identity']['seal-sha256']")
	[ "$s" = "$w" ] || fail "$base: verify identity $s, the fixed VHD's seal says $w"
	rm -f "$T/id.seal.json"
done

# A flipped byte in a data chunk and in a zero chunk of a fixed VHD copy: verify fails and names
# the chunk. The seal was made with 1 MiB chunks; a fixed VHD's data starts at file offset 0.
seal="$T/a.vhd-fixed.seal.json"
for off in $((8 * MIB + 777)) $((2 * MIB + 5)) $((47 * MIB + MIB - 1)); do
	cp --sparse=always "$T/a.vhd-fixed" "$T/flip.vhd"
	it_flip_byte "$T/flip.vhd" "$off"
	expect_exit 1 "$CVMRESTORE" verify "$T/flip.vhd" --seal "$seal"
	expect_exit 1 "$CVMRESTORE" verify "$T/flip.vhd" --seal "$seal" --json
	it_json_only "$RP_OUT"
	idx=$((off / MIB))
	got=$(json_get "$RP_OUT" "(lambda m: (d['verdict'], len(d['disks'][0]['mismatches']), m['index'],
		m['offset'], m['length'], m['expected'] != m['actual']))(d['disks'][0]['mismatches'][0])")
	want="[\"fail\", 1, $idx, $((idx * MIB)), $MIB, true]"
	[ "$got" = "$want" ] || fail "flip at $off: verify --json says $got, want $want"
	rm -f "$T/flip.vhd"
done
# and the same image still verifies clean (the copies were independent)
expect_exit 0 "$CVMRESTORE" verify "$T/a.vhd-fixed" --seal "$seal"
rm -f "$T"/a.* "$T"/b.*

# qemu-img without force_size rounds a VHD's size to CHS geometry: not a whole MiB. Converting
# gives a whole-MiB VHD whose first bytes are the disk and the rest zeros.
it_make_raw "$T/c.raw" $((64 * MIB)) 0 31 63
qemu-img convert -f raw -O vpc -o subformat=fixed "$T/c.raw" "$T/chs.vhd"
chs=$(qemu-img info -f vpc --output json "$T/chs.vhd" | it_json_stdin "d['virtual-size']")
[ $((chs % MIB)) != 0 ] || fail "qemu-img made a whole-MiB CHS VHD ($chs); test is void"
qemu-img convert -f vpc -O raw "$T/chs.vhd" "$T/chs.raw"
expect_exit 0 "$CVMRESTORE" inspect "$T/chs.vhd" --json
vs=$(json_get "$RP_OUT" "(d['format'], d['virtual_size'])")
[ "$vs" = "[\"vhd-fixed\", $chs]" ] || fail "chs: inspect says $vs, want vhd-fixed, $chs"
expect_exit 0 "$CVMRESTORE" convert "$T/chs.vhd" "$T/chs-out.vhd" --to vhd
it_check_fixed_vhd "$T/chs-out.vhd" "$chs" "$T/chs.raw" || fail "chs: bad fixed VHD"

echo "ok: test_qemu_images"
