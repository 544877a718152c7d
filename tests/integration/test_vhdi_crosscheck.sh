#!/usr/bin/env bash
# Our own dynamic VHD reader (through the BAT and sector bitmaps) against libvhdi and qemu-img,
# byte for byte, on dynamic VHDs from two writers: qemu-img, and our spec-following generator
# (whose base disk has sector bitmaps with clear bits inside allocated blocks).
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
[ -x "${VHDI_CAT:-}" ] || fail "VHDI_CAT is not set (ctest sets it)"
cd "$RP_TMP"

# 30 MiB + 3 sectors: random MiBs, zero MiBs and a short random tail, so blocks are full,
# partly zero and absent.
$PY - <<'PYEOF'
import random
r = random.Random(7)
with open("src.raw", "wb") as f:
    for i in range(30):
        f.write(r.randbytes(1 << 20) if i % 3 != 1 else bytes(1 << 20))
    f.write(r.randbytes(3 * 512))
PYEOF
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on src.raw qemu-dyn.vhd
qemu-img convert -f vpc -O raw qemu-dyn.vhd qemu.raw
"$VHDI_CAT" qemu-dyn.vhd > vhdi.raw
"$CVMRESTORE" convert qemu-dyn.vhd ours.raw --to raw -q
cmp qemu.raw ours.raw || fail "qemu-img and cvmrestore read qemu's dynamic VHD differently"
cmp vhdi.raw ours.raw || fail "libvhdi and cvmrestore read qemu's dynamic VHD differently"
cmp src.raw ours.raw || fail "the dynamic VHD does not read back as its source"
note "qemu-img dynamic VHD: cvmrestore = libvhdi = qemu-img = source"

$PY "$RP_SOURCE_DIR/tests/gen/make_vhd_chain.py" chain >/dev/null
"$VHDI_CAT" chain/base.vhd > base-vhdi.raw
"$CVMRESTORE" convert chain/base.vhd base-ours.raw --to raw -q
qemu-img convert -O raw --image-opts driver=vpc,force_size_calc=current_size,file.filename=chain/base.vhd base-qemu.raw
cmp base-vhdi.raw base-ours.raw || fail "libvhdi and cvmrestore read the generated base VHD differently"
cmp base-qemu.raw base-ours.raw || fail "qemu-img and cvmrestore read the generated base VHD differently"
note "generated dynamic VHD: cvmrestore = libvhdi = qemu-img"
echo "test_vhdi_crosscheck: 2 passed, 0 failed"
