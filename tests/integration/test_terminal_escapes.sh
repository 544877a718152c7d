#!/bin/bash
# Text from documents and images never acts on the terminal (issue 10, point 13): a VHD whose
# footer creator fields hold ESC sequences, a seal whose source.name holds an OSC title sequence
# (ESC ] 0;pwned BEL), a clear-screen (ESC [2J), the 8-bit CSI (U+009B) and a right-to-left
# override (U+202E), a recovery point descriptor whose disk name holds C1 and bidi controls, and a
# --disk name typed with ESC are run through inspect, restore (nginx, --seal), rp show and
# verify, in human and JSON form. No stdout or stderr may hold an ESC byte, a C1 control or a bidi
# override; the human outputs show them as \xNN, the JSON ones as \uXXXX, so the text is there.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
C=$CVMRESTORE
MIB=1048576
PASSED=0
pass() { PASSED=$((PASSED + 1)); echo "-- ok ($SECONDS s): $*"; }
mkdir -p "$T/www" "$T/out"
N=0

# run CODE ARGS...: expect CODE; keep stdout and stderr under $T/out for the final search
run()
{
	N=$((N + 1))
	expect_exit "$1" "${@:2}"
	cp "$RP_OUT" "$T/out/$N.stdout"
	cp "$RP_ERR" "$T/out/$N.stderr"
}

# raw_controls FILE...: fail if a file holds ESC, BEL, a C1 control (UTF-8 C2 80..C2 9F) or a
# bidi override/isolate (E2 80 AA..AE, E2 81 A6..A9)
raw_controls()
{
	"$PY" - "$@" <<'EOF'
import re, sys
bad = re.compile(rb"[\x1b\x07]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")
rc = 0
for p in sys.argv[1:]:
    m = bad.search(open(p, "rb").read())
    if m:
        print("%s: raw %r" % (p, m.group()), file=sys.stderr)
        rc = 1
sys.exit(rc)
EOF
}

# a VHDX whose creator (UTF-16LE in the file identifier, MS-VHDX 2.1; no checksum covers it) is
# hostile
qemu-img create -q -f vhdx "$T/disk.vhdx" 4M || fail "qemu-img create"
"$PY" - "$T/disk.vhdx" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(8)
    f.write("qemu\x1b]0;pwned\x07\x1b[2J\u009b31m\u202e?x".encode("utf-16-le") + b"\0\0")
EOF
run 0 "$C" inspect "$T/disk.vhdx"
grep -qF 'creator: qemu\x1b]0;pwned\x07\x1b[2J\xc2\x9b31m\xe2\x80\xae?x' "$RP_OUT" ||
	fail "the creator is not shown escaped: $(grep -a creator "$RP_OUT" | cat -v)"
run 0 "$C" inspect "$T/disk.vhdx" --json
grep -qiF '"qemu\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202e?x"' "$RP_OUT" ||
	fail "the JSON creator is not escaped: $(grep -a creator "$RP_OUT" | cat -v)"
pass "inspect: a VHDX creator's controls are shown as \\xNN (human) and \\uXXXX (JSON)"

it_make_raw "$T/disk.raw" $((4 * MIB)) 0 3
"$C" convert -q "$T/disk.raw" "$T/www/disk.vhd" || fail "convert"

# a seal whose source.name is hostile; restore from nginx names the seal's source
"$C" seal -q "$T/www/disk.vhd" -o "$T/seal.json" --chunk-size 1M || fail "seal"
"$PY" - "$T/seal.json" "$T/evil.seal.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["source"]["name"] = "disk\x1b]0;pwned\x07\x1b[2J\u009b31m\u202etxt"
json.dump(s, open(sys.argv[2], "w"))
EOF
nginx_start "$T/www"
URL=$NGINX_URL/disk.vhd
run 0 "$C" restore --cacert "$RP_CACERT" "$URL" --seal "$T/evil.seal.json" -o "$T/r1.vhd"
grep -qF 'disk\x1b]0;pwned\x07\x1b[2J\xc2\x9b31m\xe2\x80\xaetxt' "$RP_OUT" ||
	fail "restore does not show the seal's source escaped: $(cat -v "$RP_OUT")"
run 0 "$C" restore --cacert "$RP_CACERT" "$URL" --seal "$T/evil.seal.json" -o "$T/r2.vhd" --json
json_check "$RP_OUT" 'd["seal_source"].startswith("disk\x1b]0;pwned\x07")' "seal_source is not the name"
grep -qF '\u009b31m\u202etxt' "$RP_OUT" || fail "C1 and bidi are not \\u escapes in the JSON"
pass "restore --seal: the seal's source.name is shown escaped (human and JSON)"

# a descriptor whose disk name holds C1 and bidi controls (the parser refuses C0 already)
"$PY" - "$RP_SOURCE_DIR/testdata/sample-rp/recovery-point.json" "$T/rp.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["disks"][0]["name"] = "os\u009b31m\u202edisk"
json.dump(d, open(sys.argv[2], "w"))
EOF
cp "$RP_SOURCE_DIR/testdata/sample-rp/os-disk.vhd" "$T/"
run 0 "$C" rp show "$T/rp.json"
grep -qF 'name: os\xc2\x9b31m\xe2\x80\xaedisk' "$RP_OUT" || fail "rp show: $(cat -v "$RP_OUT")"
run 0 "$C" rp show "$T/rp.json" --json
grep -qF '"os\u009b31m\u202edisk"' "$RP_OUT" || fail "rp show --json: $(cat -v "$RP_OUT")"
run 0 "$C" verify "$T/rp.json" --disk "$(printf 'os\302\23331m\342\200\256disk')"
grep -qF 'os\xc2\x9b31m\xe2\x80\xaedisk' "$RP_OUT" || fail "verify: $(cat -v "$RP_OUT")"
run 2 "$C" verify "$T/rp.json" --disk "$(printf 'x\033[2J\033]0;pwned\007')"
expect_stderr_has "no disk named 'x\\x1b[2J\\x1b]0;pwned\\x07'"
pass "descriptor names and a typed --disk name are shown escaped"

raw_controls "$T"/out/* || fail "a raw control character reached the terminal (above)"
printf 'a\033[2Jb\n' >"$T/control"
! raw_controls "$T/control" 2>/dev/null || fail "the search misses a planted ESC"
pass "no raw control in any of $((2 * N)) outputs; the search finds a planted one"

echo "test_terminal_escapes: $PASSED passed, 0 failed"
