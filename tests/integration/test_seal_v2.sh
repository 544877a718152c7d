#!/bin/bash
# Seal version 2 and the whole-disk identity (issue 13, docs/seal.md): seal writes a compact
# chunk table and the identity seal-sha256 by default, no linear digest unless asked for; the
# identity is the same from seal, verify with and without a seal, whatever the container; a
# version 1 seal (with or without linear digests) still verifies; every malformed version 2
# seal is refused with exit 3 and a message naming what is wrong; an edited identity fails.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir

T=$RP_TMP
MIB=1048576
PASSED=0

# 64 MiB, data in MiBs 0, 5, 6 and 40: at 1 MiB chunks 4 data chunks, the rest never written
it_make_raw "$T/disk.raw" $((64 * MIB)) 0 5 6 40
qemu-img convert -f raw -O vhdx -o subformat=dynamic "$T/disk.raw" "$T/disk.vhdx" ||
	fail "qemu-img convert to vhdx"
cp --sparse=always "$T/disk.raw" "$T/orig.raw"

note "seal: version 2, identity, no linear digest by default"
expect_exit 0 R seal "$T/disk.raw" -o "$T/v2.json" --chunk-size 1M --json
json_check "$T/v2.json" 'd["version"] == 2 and "chunks" not in d and len(d["identity"]["seal-sha256"]) == 64 and d["digests"] == {}' \
	"seal file: version 2 with an identity"
json_check "$RP_OUT" 'd["identity"]["seal-sha256"] and d["digests"] == {} and d["chunks"]["data"] == 4 and d["chunks"]["unallocated"] == 60' \
	"seal report: identity apart from the (empty) linear digests"
ID=$(json_get "$T/v2.json" 'd["identity"]["seal-sha256"]')
# the table: U/D runs, LEB128 counts, 32 bytes per data chunk (docs/seal.md)
"$PY" - "$T/v2.json" <<'EOF' || fail "chunk table layout"
import base64, hashlib, json, sys
d = json.load(open(sys.argv[1]))
t = base64.b64decode(d["chunk_table"])
raw = open(sys.argv[1].replace("v2.json", "disk.raw"), "rb").read()
want = b"D\x01" + hashlib.sha256(raw[0:1 << 20]).digest() + b"U\x04" + b"D\x02" + \
    hashlib.sha256(raw[5 << 20:6 << 20]).digest() + hashlib.sha256(raw[6 << 20:7 << 20]).digest() + \
    b"U\x21" + b"D\x01" + hashlib.sha256(raw[40 << 20:41 << 20]).digest() + b"U\x17"
assert t == want, (t[:8], len(t), len(want))
# the identity as docs/seal.md defines it, from the chunk digests
h = hashlib.sha256(b"cvmrestore/seal-sha256/1" + (1 << 20).to_bytes(8, "little") +
                   len(raw).to_bytes(8, "little"))
for i in range(64):
    c = raw[i << 20:(i + 1) << 20]
    h.update(b"D" + hashlib.sha256(c).digest() if c.count(0) != len(c) else b"Z")
assert d["identity"]["seal-sha256"] == h.hexdigest(), (d["identity"], h.hexdigest())
EOF
pass "seal: version 2 table and identity as documented (checked with Python's hashlib)"

note "the identity from verify, with and without a seal, local raw and VHDX"
expect_exit 0 R verify "$T/disk.vhdx" --seal "$T/v2.json" --json
json_check "$RP_OUT" "d['verdict'] == 'pass' and d['disks'][0]['identity']['seal-sha256'] == '$ID' and 'digests' not in d['disks'][0]" \
	"verify --seal: identity, no linear digest"
# without a seal the chunk size is the default 4 MiB: the identity of a seal at that size
expect_exit 0 R seal "$T/disk.vhdx" -o "$T/d4.json"
ID4=$(json_get "$T/d4.json" 'd["identity"]["seal-sha256"]')
[ "$ID4" != "$ID" ] || fail "the identity does not depend on the chunk size"
expect_exit 0 R verify "$T/disk.raw" --json
json_check "$RP_OUT" "d['disks'][0]['identity']['seal-sha256'] == '$ID4' and 'digests' not in d['disks'][0]" \
	"verify without a seal: the same identity, no linear digest"
expect_exit 0 R verify "$T/disk.vhdx" --digests sha256 --json
json_check "$RP_OUT" "d['disks'][0]['digests']['sha256'] == '$(sha256sum <"$T/disk.raw" | cut -d' ' -f1)'" \
	"--digests sha256: the linear digest, as sha256sum's"
pass "verify: the identity by default, the linear digest when asked for"

note "version 1: written on request, read as before"
expect_exit 0 R seal "$T/disk.raw" -o "$T/v1.json" --chunk-size 1M --seal-version 1 --digests sha256
json_check "$T/v1.json" "d['version'] == 1 and len(d['chunks']) == 64 and d['identity']['seal-sha256'] == '$ID'" \
	"seal --seal-version 1"
"$PY" - "$T/v1.json" "$T/v1-old.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
del d["identity"]  # as an older version wrote it: linear digests only
json.dump(d, open(sys.argv[2], "w"))
EOF
expect_exit 0 R verify "$T/disk.vhdx" --seal "$T/v1-old.json"
expect_exit 0 R verify "$T/disk.vhdx" --seal "$T/v1-old.json" --digests sha256
it_put_random "$T/disk.raw" $((5 * MIB + 7)) 1
expect_exit 1 R verify "$T/disk.raw" --seal "$T/v1-old.json"
expect_stderr_has "1 chunks differ"
expect_exit 1 R verify "$T/disk.raw" --seal "$T/v2.json"
expect_stderr_has "1 chunks differ"
pass "a version 1 seal without identity verifies as before; a changed byte fails both versions"
cp --sparse=always "$T/orig.raw" "$T/disk.raw"

note "an edited identity: the seal is inconsistent with its chunks"
"$PY" - "$T/v2.json" "$T/forged.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["identity"]["seal-sha256"] = "ab" * 32
json.dump(d, open(sys.argv[2], "w"))
EOF
expect_exit 1 R verify "$T/disk.raw" --seal "$T/forged.json"
expect_stderr_has "whole-disk seal-sha256 mismatch (expected $(printf 'ab%.0s' $(seq 32))"
pass "an edited identity fails verification (exit 1)"

note "malformed version 2 seals: exit 3 with a message naming the fault"
# bad NAME MESSAGE PYTHON: edit d (the seal) and the table t (bytes) in Python; expect exit 3
bad()
{
	"$PY" - "$T/v2.json" "$T/bad-$1.json" "$3" <<'EOF'
import base64, json, sys
d = json.load(open(sys.argv[1]))
t = base64.b64decode(d["chunk_table"])
exec(sys.argv[3])
if t is not None:
    d["chunk_table"] = base64.b64encode(t).decode()
json.dump(d, open(sys.argv[2], "w"))
EOF
	expect_exit 3 R verify "$T/disk.raw" --seal "$T/bad-$1.json"
	expect_stderr_has "$2"
}
bad missing "seal: chunk_table is missing" 'del d["chunk_table"]; t = None'
bad notstring "seal: chunk_table is not a string" 'd["chunk_table"] = 5; t = None'
bad base64 "seal: chunk_table: base64:" 'd["chunk_table"] = "D@@@"; t = None'
bad tag "unknown record tag 0x58 at byte 0" 't = b"X" + t[1:]'
bad count0 "the run at byte 0 has no valid count" 't = b"D\x00" + t[2:]'
bad overlong "the run at byte 34 has no valid count" 't = t[:35] + b"\x84\x00" + t[36:]'
bad past "the run at byte 138 of 24 chunks goes past chunk_count 64" 't = t[:139] + b"\x18"'
bad short "the runs cover 41 chunks, chunk_count is 64" 't = t[:-2]'
bad truncated "the data run at byte 36 of 2 digests ends past the table" 't = t[:100]'
bad identity "seal: identity.seal-sha256: 'xyz' is not 64 hex digits" 'd["identity"]["seal-sha256"] = "xyz"; t = None'
bad toomany "chunk_count 4294967296 is more than 268435456" \
	'd["source"]["virtual_size"] = 1 << 52; d["chunk_size"] = 1 << 20; d["chunk_count"] = 1 << 32; t = b"U\x80\x80\x80\x80\x10"'
bad newer "seal version 3 is newer than this tool understands" 'd["version"] = 3; t = None'
pass "12 malformed version 2 seals: exit 3, each with its message"

echo "test_seal_v2: $PASSED passed, 0 failed"
