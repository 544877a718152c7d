#!/bin/bash
# Containers we do not read, made by the programs that write them (qemu-img for qcow2, qcow,
# QED, VMDK, VDI, Parallels; gzip, xz, zstd, bzip2), and minimal headers for the formats no tool
# here writes (Bochs, cloop, DMG): every command that opens an image refuses each one with exit 3,
# naming the format and the command that makes a raw disk of it, instead of reading the
# container's bytes as a raw disk (issue 10 point 6). The command it names works: its output is
# accepted and equals qemu-img's reading of the original. Empty and sub-sector files are refused
# too (point 8), and a raw disk is "raw (no known signature)" in inspect.
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
cd "$RP_TMP"
B=$CVMRESTORE

# The disk every container holds: random data in the first MiB, the rest zero.
head -c 1048576 /dev/urandom >data.raw
truncate -s 4M data.raw

refused() { # FILE WHAT CONVERT: convert refuses FILE, names WHAT and CONVERT, leaves nothing
	local f=$1 what=$2 conv=$3
	rm -rf out && mkdir out
	it_expect_error 3 "$B" convert "$f" out/x.vhd
	expect_stderr_has "cvmrestore: convert: '$f': $what, not a raw disk, VHD or VHDX"
	expect_stderr_has "$conv"
	[ -z "$(ls -A out)" ] || fail "convert of $f left $(ls -A out)"
}

note "qemu-img's containers"
for fmt in qcow2 qcow qed vdi parallels; do
	qemu-img convert -q -f raw -O "$fmt" data.raw "c.$fmt"
done
qemu-img convert -q -f raw -O vmdk data.raw c-sparse.vmdk
qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized data.raw c-stream.vmdk
qemu-img convert -q -f raw -O vmdk -o subformat=monolithicFlat data.raw c-desc.vmdk
refused c.qcow2 "qcow2 image" "qemu-img convert -f qcow2 -O raw SOURCE disk.raw"
refused c.qcow "qcow (version 1) image" "qemu-img convert -f qcow -O raw SOURCE disk.raw"
refused c.qed "QED image" "qemu-img convert -f qed -O raw SOURCE disk.raw"
refused c.vdi "VirtualBox VDI image" "qemu-img convert -f vdi -O raw SOURCE disk.raw"
refused c.parallels "Parallels image" "qemu-img convert -f parallels -O raw SOURCE disk.raw"
refused c-sparse.vmdk "VMDK sparse extent" "qemu-img convert -f vmdk -O raw SOURCE disk.raw"
refused c-stream.vmdk "VMDK sparse extent" "qemu-img convert -f vmdk -O raw SOURCE disk.raw"
refused c-desc.vmdk "VMDK descriptor file" "qemu-img convert -f vmdk -O raw SOURCE disk.raw"
# qemu-img reads each as our data: the containers are real, and the command we name works.
for f in c.qcow2 c.qed c.vdi c.parallels c-sparse.vmdk c-desc.vmdk; do
	fmt=${f##*.}
	qemu-img convert -q -f "$fmt" -O raw "$f" back.raw
	cmp -s back.raw data.raw || fail "qemu-img does not read $f back"
	expect_exit 0 "$B" convert back.raw back.vhd
	rm -f back.raw back.vhd
done
pass "qcow2, qcow, QED, VDI, Parallels, VMDK (sparse, stream, descriptor) refused"

note "compressed files, made by their compressors"
gzip -c data.raw >d.raw.gz
xz -c data.raw >d.raw.xz
zstd -q -c data.raw >d.raw.zst
bzip2 -c data.raw >d.raw.bz2
refused d.raw.gz "gzip-compressed file" "zcat SOURCE > disk.raw"
refused d.raw.xz "xz-compressed file" "xz -dc SOURCE > disk.raw"
refused d.raw.zst "zstd-compressed file" "zstd -dc SOURCE -o disk.raw"
refused d.raw.bz2 "bzip2-compressed file" "bzip2 -dc SOURCE > disk.raw"
zcat d.raw.gz >un.raw
cmp -s un.raw data.raw || fail "zcat does not give the disk back"
expect_exit 0 "$B" verify un.raw
# A compressed VHD is refused too, whatever it is called.
"$B" convert data.raw d.vhd >/dev/null
gzip -c d.vhd >d.vhd.gz
cp d.vhd.gz named.vhd
refused d.vhd.gz "gzip-compressed file" "zcat SOURCE"
refused named.vhd "gzip-compressed file" "zcat SOURCE"
pass "gzip, xz, zstd, bzip2 refused (also a gzip named .vhd)"

note "minimal headers: Bochs, cloop, DMG"
"$PY" - <<'EOF'
import struct
def pad(b, n=1048576):
    return b + bytes(n - len(b))
# Bochs growing image: magic, type, subtype (NUL-padded fields), version 2, header size 512.
bochs = (b"Bochs Virtual HD Image".ljust(32, b"\0") + b"Redolog".ljust(16, b"\0") +
         b"Growing".ljust(16, b"\0") + struct.pack("<II", 0x00020000, 512))
open("h.bochs", "wb").write(pad(bochs))
# cloop 2.0: a shell script header that mounts the image through the cloop module.
cloop = (b"#!/bin/sh\n#V2.0 Format\n"
         b"modprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n")
open("h.cloop", "wb").write(pad(cloop))
# DMG (UDIF): the 512-byte "koly" trailer at the end, big-endian version 4, header size 512.
koly = (b"koly" + struct.pack(">II", 4, 512)).ljust(512, b"\0")
open("h.dmg", "wb").write(bytes(1048576 - 512) + koly)
EOF
refused h.bochs "Bochs image" "qemu-img convert -f bochs -O raw SOURCE disk.raw"
refused h.cloop "cloop compressed image" "qemu-img convert -f cloop -O raw SOURCE disk.raw"
refused h.dmg "Apple disk image (DMG)" "qemu-img convert -f dmg -O raw SOURCE disk.raw"
pass "Bochs, cloop, DMG refused"

note "every command that opens an image refuses a container"
mkdir -p cmds
it_expect_error 3 "$B" inspect c.qcow2
expect_stderr_has "qcow2 image, not a raw disk"
it_expect_error 3 "$B" inspect --json c.qcow2
it_expect_error 3 "$B" verify c.qcow2
expect_stderr_has "qcow2 image, not a raw disk"
it_expect_error 3 "$B" seal c.qcow2 -o cmds/s.json
expect_stderr_has "qcow2 image, not a raw disk"
[ ! -e cmds/s.json ] || fail "seal wrote a seal of a qcow2 container"
echo pw >pw.txt
it_expect_error 3 "$B" luks c.qcow2 --passphrase-file pw.txt
expect_stderr_has "qcow2 image, not a raw disk"
expect_exit 3 "$B" stage c.qcow2 --out-dir cmds/stage
expect_stderr_has "qcow2 image, not a raw disk"
pass "inspect, verify, seal, luks, stage refuse a qcow2 container"

note "a fixed VHD decides by its footer, whatever its first bytes hold"
printf 'QFI\xfb\0\0\0\3' | dd of=data.raw conv=notrunc status=none
"$B" convert data.raw guest-qcow.vhd >/dev/null 2>&1 && fail "convert read a raw qcow2 header"
qemu-img convert -q -f raw -O vpc -o subformat=fixed,force_size data.raw g.vhd
expect_exit 0 "$B" inspect --json g.vhd
json_check "$RP_OUT" 'd["format"] == "vhd-fixed"' "a fixed VHD holding a qcow2 magic is a VHD"
pass "the VHD footer wins over the guest's first bytes"

note "empty and sub-sector files (point 8)"
: >empty.img
head -c 511 /dev/zero >short.img
for f in empty.img short.img; do
	n=$(file_size "$f")
	for cmd in inspect verify; do
		it_expect_error 3 "$B" "$cmd" "$f"
		expect_stderr_has "'$f': $n bytes: too short to be a disk (at least one 512-byte sector)"
	done
	it_expect_error 3 "$B" seal "$f" -o cmds/e.json
	expect_stderr_has "too short to be a disk"
	it_expect_error 3 "$B" convert "$f" cmds/e.vhd
	expect_stderr_has "too short to be a disk"
	[ ! -e cmds/e.vhd ] && [ ! -e cmds/e.json ] || fail "an output of an empty disk was written"
done
pass "empty and 511-byte files refused by inspect, verify, seal, convert"

note "raw is a conclusion: inspect says no signature matched"
head -c 1048576 /dev/urandom >plain.raw
printf '\0\0\0\0' | dd of=plain.raw conv=notrunc status=none
expect_exit 0 "$B" inspect --json plain.raw
json_check "$RP_OUT" 'd["format"] == "raw" and d["detected_by"] == "raw (no known signature)"' \
	"inspect does not say why the file is raw"
expect_exit 0 "$B" inspect plain.raw
grep -q "raw (no known signature)" "$RP_OUT" || fail "human inspect does not say no signature"
pass "inspect: raw (no known signature)"
