# Shared helpers for tests/integration/test_*.sh. Source it first:
#
#     . "$RP_SOURCE_DIR/tests/integration/lib.sh"
#
# ctest sets CVMRESTORE (the binary), RP_SOURCE_DIR and RP_BUILD_DIR; to run a test by hand set
# them yourself (see rp_need_env). Sourcing turns on `set -euo pipefail`.
#
#   rp_tmpdir                  make $RP_TMP, a fresh dir under $RP_BUILD_DIR/tmp, removed on
#                              exit (kept if RP_KEEP_TMP=1). Call it directly, never in $(...):
#                              the EXIT trap must belong to the test's own shell.
#   fail MSG...                print "FAIL: MSG" (and the last command's stderr, if any) and
#                              exit 1.
#   note MSG...                print a progress line.
#   expect_exit CODE CMD...    run CMD with stdout in $RP_OUT and stderr in $RP_ERR (files
#                              under $RP_TMP); fail unless it exits with CODE.
#   expect_stderr_has TEXT     fail unless $RP_ERR contains TEXT (fixed string, any case).
#   expect_one_error_line PFX  fail unless $RP_ERR is exactly one line starting with PFX.
#   json_get FILE PY_EXPR      print PY_EXPR evaluated with d = the JSON document in FILE
#                              (strings bare, anything else as JSON), e.g. json_get f 'd["format"]'.
#   json_check FILE PY_EXPR MSG   fail with MSG unless PY_EXPR (over d) is true. json_get and
#                              json_check first validate a document that names its "schema"
#                              against docs/schemas (tests/tools/schema_check.py).
#   file_size FILE             print the size of FILE in bytes.

set -euo pipefail

PY=/usr/bin/python3

# Every peer is on 127.0.0.1: a proxy from the CI host's environment must not be asked for them.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

rp_need_env() {
	local v
	for v in CVMRESTORE RP_SOURCE_DIR RP_BUILD_DIR; do
		if [ -z "${!v:-}" ]; then
			echo "FAIL: $v is not set (ctest sets CVMRESTORE, RP_SOURCE_DIR, RP_BUILD_DIR)" >&2
			exit 1
		fi
	done
	[ -x "$CVMRESTORE" ] || { echo "FAIL: CVMRESTORE=$CVMRESTORE is not executable" >&2; exit 1; }
}
rp_need_env

RP_TMP=
RP_OUT=
RP_ERR=

rp_cleanup() {
	if [ -n "$RP_TMP" ] && [ "${RP_KEEP_TMP:-0}" != 1 ]; then
		rm -rf -- "$RP_TMP"
	elif [ -n "$RP_TMP" ]; then
		echo "kept $RP_TMP" >&2
	fi
}

rp_tmpdir() {
	mkdir -p "$RP_BUILD_DIR/tmp"
	RP_TMP=$(mktemp -d "$RP_BUILD_DIR/tmp/$(basename "$0" .sh).XXXXXX")
	RP_OUT=$RP_TMP/cmd.stdout
	RP_ERR=$RP_TMP/cmd.stderr
	# json_check validates a document once (tests/tools/schema_check.py)
	export RP_SCHEMA_CACHE=$RP_TMP/.schema-ok
	trap rp_cleanup EXIT
}

note() {
	echo "-- $*"
}

fail() {
	echo "FAIL: $*" >&2
	if [ -n "$RP_ERR" ] && [ -s "$RP_ERR" ]; then
		echo "  stderr of the last command:" >&2
		sed 's/^/    /' "$RP_ERR" | head -20 >&2
	fi
	exit 1
}

expect_exit() {
	local want=$1 got=0
	shift
	[ -n "$RP_TMP" ] || fail "expect_exit needs rp_tmpdir first"
	"$@" >"$RP_OUT" 2>"$RP_ERR" || got=$?
	[ "$got" = "$want" ] || fail "expected exit $want, got $got: $*"
}

expect_stderr_has() {
	grep -qiF -- "$1" "$RP_ERR" || fail "stderr lacks '$1'"
}

expect_one_error_line() {
	local -a lines
	mapfile -t lines <"$RP_ERR"
	[ "${#lines[@]}" = 1 ] || fail "stderr has ${#lines[@]} lines, want exactly one"
	case ${lines[0]} in
	"$1"*) ;;
	*) fail "stderr does not start with '$1'" ;;
	esac
}

# json_get and json_check also validate a document that names its schema (every --json output
# and report of cvmrestore) against docs/schemas (tests/tools/schema_check.py --if-named): a
# document that does not match fails the test (exit 3 from the Python part).
RP_SCHEMA_PRELUDE='
import json, os, sys
sys.path.insert(0, os.path.join(os.environ["RP_SOURCE_DIR"], "tests", "tools"))
import schema_check
if schema_check.check_file(schema_check.default_dir(), sys.argv[1], True):
    sys.exit(3)
'

json_get() {
	local rc=0
	"$PY" -c "$RP_SCHEMA_PRELUDE"'
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2" || rc=$?
	[ "$rc" != 3 ] || fail "$1 does not match its JSON schema (docs/schemas/README.md)"
	return "$rc"
}

json_check() {
	local rc=0
	"$PY" -c "$RP_SCHEMA_PRELUDE"'
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" || rc=$?
	[ "$rc" != 3 ] || fail "$1 does not match its JSON schema (docs/schemas/README.md)"
	[ "$rc" = 0 ] || fail "$3 (checked: $2 on $1)"
}

file_size() {
	stat -c %s -- "$1"
}

# ---------------------------------------------------------------------------------------------
# Helpers for the peer tests (test_qemu_images, test_gpt_luks, test_cli, test_sparse_large).
# All names start with it_; they use rp_tmpdir, fail, expect_exit from above.

# it_expect_error CODE COMMAND...: expect_exit CODE, and stderr is exactly one line starting
# with "cvmrestore: ".
it_expect_error()
{
	expect_exit "$@"
	expect_one_error_line "cvmrestore: "
}

# it_json_stdin EXPR: json_get for a document on stdin.
it_json_stdin()
{
	/usr/bin/python3 -c '
import json, os, sys
sys.path.insert(0, os.path.join(os.environ["RP_SOURCE_DIR"], "tests", "tools"))
import schema_check
d = json.load(sys.stdin)
if schema_check.check_doc(schema_check.default_dir(), "stdin", d, True):
    sys.exit(3)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1" ||
		fail "json: cannot evaluate $1 (or the document does not match its JSON schema)"
}

# it_json_only FILE: fail unless FILE holds exactly one JSON object and nothing else.
it_json_only()
{
	/usr/bin/python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())
sys.exit(0 if isinstance(d, dict) else 1)' "$1" 2>/dev/null ||
		fail "stdout is not exactly one JSON object: $(head -c 300 "$1")"
	"$PY" "$RP_SOURCE_DIR/tests/tools/schema_check.py" --if-named "$1" ||
		fail "$1 does not match its JSON schema (docs/schemas/README.md)"
}

# it_make_raw FILE SIZE MIB_INDEX...: a sparse raw file of SIZE bytes with random data in the
# listed MiBs (each clipped to SIZE). Bytes 510 and 511 stay zero: random ones end in the MBR
# signature 55 AA one time in 65536, and the disk then has a (broken) partition table.
it_make_raw()
{
	local f=$1 size=$2 i
	shift 2
	rm -f "$f"
	truncate -s "$size" "$f"
	for i in "$@"; do
		head -c 1048576 /dev/urandom |
			dd of="$f" bs=64K seek=$((i * 1048576)) oflag=seek_bytes conv=notrunc status=none
		[ "$i" != 0 ] ||
			printf '\0\0' | dd of="$f" bs=1 seek=510 conv=notrunc status=none
	done
	truncate -s "$size" "$f"
}

# it_put_random FILE OFFSET LENGTH: write LENGTH random bytes at OFFSET.
it_put_random()
{
	head -c "$3" /dev/urandom |
		dd of="$1" bs=64K seek="$2" oflag=seek_bytes conv=notrunc status=none
}

# it_flip_byte FILE OFFSET: invert the byte at OFFSET in place.
it_flip_byte()
{
	/usr/bin/python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]))
    b = f.read(1)
    f.seek(int(sys.argv[2]))
    f.write(bytes([b[0] ^ 0xFF]))' "$1" "$2"
}

# it_sha256 FILE: the hex SHA-256 of FILE, by OpenSSL.
it_sha256()
{
	openssl dgst -sha256 -r "$1" | cut -d' ' -f1
}

# it_check_fixed_vhd FILE VIRTUAL [RAW]: check FILE is a fixed VHD for Azure holding a disk of
# VIRTUAL bytes: size N MiB + 512 (N = ceil(VIRTUAL / 1 MiB)); footer per the VHD spec (cookie,
# features 2, version 1.0, data offset all ones, creator "cvmr", host "Wi2k", original = current
# = N MiB, CHS geometry by the spec's algorithm, type 2, checksum, saved state 0, reserved
# zeros, a recent timestamp, a non-zero unique id); bytes VIRTUAL..N MiB zero; and, with RAW,
# the first VIRTUAL bytes equal RAW (whose size must be VIRTUAL). Returns 1 with reasons on stderr.
it_check_fixed_vhd()
{
	/usr/bin/python3 - "$@" <<'PYEOF'
import os, struct, sys, time

path, virt = sys.argv[1], int(sys.argv[2])
raw = sys.argv[3] if len(sys.argv) > 3 else None
MIB = 1 << 20
n = (virt + MIB - 1) // MIB * MIB
bad = []
size = os.path.getsize(path)
if size != n + 512:
    print(f"{path}: size {size}, want {n + 512}", file=sys.stderr)
    sys.exit(1)


def chs(total_bytes):
    ts = total_bytes // 512
    ts = min(ts, 65535 * 16 * 255)
    if ts >= 65535 * 16 * 63:
        spt, heads = 255, 16
        cth = ts // spt
    else:
        spt = 17
        cth = ts // spt
        heads = max((cth + 1023) // 1024, 4)
        if cth >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
            cth = ts // spt
        if cth >= heads * 1024:
            spt, heads = 63, 16
            cth = ts // spt
    return (cth // heads) << 16 | heads << 8 | spt


with open(path, "rb") as f:
    f.seek(n)
    ft = f.read(512)
    want = {
        "cookie": (ft[0:8], b"conectix"),
        "features": (struct.unpack(">I", ft[8:12])[0], 2),
        "version": (struct.unpack(">I", ft[12:16])[0], 0x00010000),
        "data offset": (struct.unpack(">Q", ft[16:24])[0], 0xFFFFFFFFFFFFFFFF),
        "creator app": (ft[28:32], b"cvmr"),
        "creator host": (ft[36:40], b"Wi2k"),
        "original size": (struct.unpack(">Q", ft[40:48])[0], n),
        "current size": (struct.unpack(">Q", ft[48:56])[0], n),
        "geometry": (struct.unpack(">I", ft[56:60])[0], chs(n)),
        "disk type": (struct.unpack(">I", ft[60:64])[0], 2),
        "checksum": (struct.unpack(">I", ft[64:68])[0],
                     (~(sum(ft) - sum(ft[64:68]))) & 0xFFFFFFFF),
        "saved state": (ft[84], 0),
        "reserved": (ft[85:], bytes(427)),
    }
    for k, (got, exp) in want.items():
        if got != exp:
            bad.append(f"footer {k}: {got!r}, want {exp!r}")
    ts = struct.unpack(">I", ft[24:28])[0] + 946684800
    if abs(ts - time.time()) > 86400:
        bad.append(f"footer timestamp {ts} is not today")
    if ft[68:84] == bytes(16):
        bad.append("footer unique id is zero")
    # padding between the disk's end and the footer
    f.seek(virt)
    left = n - virt
    while left:
        b = f.read(min(left, MIB))
        if b.count(0) != len(b):
            bad.append(f"padding after {virt} is not zero")
            break
        left -= len(b)
    if raw is not None:
        if os.path.getsize(raw) != virt:
            bad.append(f"{raw}: size {os.path.getsize(raw)}, want {virt}")
        else:
            f.seek(0)
            with open(raw, "rb") as r:
                pos = 0
                while pos < virt:
                    a = f.read(min(virt - pos, 4 * MIB))
                    if a != r.read(len(a)):
                        bad.append(f"content differs from {raw} in [{pos}, {pos + len(a)})")
                        break
                    pos += len(a)
for b in bad:
    print(f"{path}: {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
}

# ---- helpers of the network restore tests (test_restore_*.sh) ------------------------------
#   pass MSG        count a passed check and print it with the elapsed time ($PASSED)
#   R ARGS...       run $CVMRESTORE
#   scmp A B        cmp for sparse files: same size and bytes, reading only extents with data
PASSED=0
pass() { PASSED=$((PASSED + 1)); echo "-- ok ($SECONDS s): $*"; }
R() { "$CVMRESTORE" "$@"; }
# scmp A B: cmp for sparse files: the same size and the same bytes, reading only the extents
# that hold data in either (a hole reads as zeros in both)
scmp()
{
	/usr/bin/python3 - "$1" "$2" <<'PYEOF' || fail "$1 and $2 differ"
import os, sys
def extents(fd, size):
    out, off = [], 0
    while off < size:
        try:
            d = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            break
        off = os.lseek(fd, d, os.SEEK_HOLE)
        out.append((d, off))
    return out
a, b = (os.open(p, os.O_RDONLY) for p in sys.argv[1:3])
size = os.fstat(a).st_size
if size != os.fstat(b).st_size:
    sys.exit("sizes differ: %d and %d" % (size, os.fstat(b).st_size))
for s, e in sorted(extents(a, size) + extents(b, size)):
    while s < e:
        n = min(e - s, 4 << 20)
        if os.pread(a, n, s) != os.pread(b, n, s):
            sys.exit("bytes differ in [%d, %d)" % (s, s + n))
        s += n
PYEOF
}

# it_scan_secrets DIR HEXFILE [SKIP_NAME...]: fail unless no file under DIR holds any secret
# listed in HEXFILE (one secret per line, as hex of its bytes) as raw bytes, lowercase or
# uppercase hex, base64 or base64url (padded or not). Files named SKIP_NAME (and HEXFILE) are
# the inputs that must hold them and are skipped. Secrets under 8 bytes are not searched.
it_scan_secrets()
{
	local dir=$1 hexfile=$2
	shift 2
	/usr/bin/python3 - "$dir" "$hexfile" "$@" <<'PY' || fail "a secret leaked (above)"
import base64, binascii, os, sys
root, hexfile, skip = sys.argv[1], sys.argv[2], set(sys.argv[3:])
forms = []
for line in open(hexfile):
    line = line.strip()
    if not line:
        continue
    raw = binascii.unhexlify(line)
    if len(raw) < 8:
        continue
    for f in (raw, line.lower().encode(), line.upper().encode(), base64.b64encode(raw),
              base64.urlsafe_b64encode(raw)):
        forms.append(f.rstrip(b"="))
bad = 0
n = 0
for d, _, files in os.walk(root):
    for name in files:
        p = os.path.join(d, name)
        if name in skip or os.path.abspath(p) == os.path.abspath(hexfile) or os.path.islink(p):
            continue
        n += 1
        data = open(p, "rb").read()
        for f in forms:
            if f in data:
                print("secret (%d-byte form) found in %s" % (len(f), p), file=sys.stderr)
                bad += 1
                break
if bad:
    sys.exit(1)
print("-- %d secret forms found in none of %d files" % (len(forms), n))
PY
}
