#!/bin/bash
# What a resume relies on (docs/journal.md, "What the journal protects against"): a 64 MiB page
# blob (16 data chunks) restored through the fault proxy, which stalls one ranged read; once
# OUT.journal lists some chunks the restore is killed, and its OUT.partial and journal are kept
# as the starting point of each case:
#   (c) a byte flipped in a chunk the journal lists: found by the re-hash, fetched again,
#       OUT byte-identical, the report says 1 re-fetched;
#   (a) the journal edited to list every chunk, its checksum not fixed: exit 3, "checksum";
#   (b) the same edit with the checksum recomputed, as an attacker with write access would,
#       each chunk claimed with the SHA-256 of the source's bytes: the chunks OUT.partial does
#       not hold fail the re-hash and are fetched; OUT byte-identical;
#   a journal of the older format (version 1) listing every chunk: not trusted, every chunk
#       fetched again, a note says so;
#   a journal for another source URL: refused (exit 4) naming both.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
CHUNK=$((4 * MIB))
PASSED=0

# jtool CMD JOURNAL [ARGS]: read or rewrite a restore journal (either version), as an editor
# of the file would. Commands:
#   done               how many chunks it lists as done
#   first-data         the index of the first chunk listed as done (with data, in version 2)
#   claim-all RAW FIX  list every chunk as done; version 2: each with the SHA-256 of RAW's
#                      bytes (the source); FIX 1 recomputes the CRC-32C, 0 leaves it
#   to-v1              rewrite as a version 1 journal listing every chunk (valid checksum)
#   source NEW         rewrite the source field (valid checksum)
jtool()
{
	/usr/bin/python3 - "$@" <<'EOF'
import hashlib, struct, sys

def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF

def parse(j):
    v = {b"CVMRJNL1": 1, b"CVMRJNL2": 2}[j[:8]]
    size, chunk, count, fmt = struct.unpack_from("<QQQI", j, 8)
    el = struct.unpack_from("<H", j, 36)[0]
    etag = j[38:38 + el]
    sl = struct.unpack_from("<H", j, 38 + el)[0]
    src = j[40 + el:40 + el + sl]
    o = 40 + el + sl
    bb = (count + 7) // 8
    done = j[o:o + bb]
    data = j[o + bb:o + 2 * bb] if v == 2 else b"\0" * bb
    return dict(v=v, size=size, chunk=chunk, count=count, fmt=fmt, etag=etag, src=src,
                done=done, data=data, digests=j[o + 2 * bb:-4] if v == 2 else b"")

def bit(b, i):
    return (b[i // 8] >> (i % 8)) & 1

def build(p, v, done, data, digests, fix=True):
    j = (b"CVMRJNL%d" % v) + struct.pack("<QQQI", p["size"], p["chunk"], p["count"], p["fmt"])
    j += struct.pack("<H", len(p["etag"])) + p["etag"] + struct.pack("<H", len(p["src"])) + p["src"]
    j += done + (data + digests if v == 2 else b"")
    return j + struct.pack("<I", crc32c(j) if fix else 0)

cmd, path = sys.argv[1], sys.argv[2]
j = open(path, "rb").read()
p = parse(j)
n = p["count"]
allbits = bytes(((1 << min(8, n - 8 * k)) - 1) for k in range((n + 7) // 8))
if cmd == "done":
    print(sum(bit(p["done"], i) for i in range(n)))
elif cmd == "first-data":
    print(next(i for i in range(n) if bit(p["done"], i) and (p["v"] == 1 or bit(p["data"], i))))
elif cmd == "claim-all":
    raw = open(sys.argv[3], "rb").read()
    digests = b"".join(hashlib.sha256(raw[i * p["chunk"]:(i + 1) * p["chunk"]]).digest()
                       for i in range(n))
    out = build(p, p["v"], allbits, allbits, digests, sys.argv[4] == "1")
    open(path, "wb").write(out)
elif cmd == "to-v1":
    open(path, "wb").write(build(p, 1, allbits, b"", b""))
elif cmd == "source":
    p["src"] = sys.argv[3].encode()
    open(path, "wb").write(build(p, p["v"], p["done"], p["data"], p["digests"]))
EOF
}

# 64 MiB: 1 MiB of random data at the start of every 4 MiB chunk (16 data chunks)
mibs=()
for i in $(seq 0 4 63); do mibs+=("$i"); done
it_make_raw "$T/disk.raw" $((64 * MIB)) "${mibs[@]}"
R convert -q "$T/disk.raw" "$T/disk.vhd" || fail "convert"
azurite_start
blobtool upload-sparse disks/j.vhd "$T/disk.vhd" --create-container >/dev/null
faultproxy_start "https://127.0.0.1:$AZURITE_PORT"
SAS=$(azurite_sas disks/j.vhd)
PSAS=${SAS/$AZURITE_URL/$PROXY_URL/devstoreaccount1}
OUT=$T/out.raw
restore() { R restore --cacert "$RP_CACERT" --connections 2 --format raw "$@" "$PSAS" -o "$OUT"; }

note "an interrupted restore leaves OUT.partial and a journal"
# range GETs: footer, CRC64 probe, MD5 probe, then chunks; stall the 10th (the 7th data chunk)
proxy_fault '{"mode": "stall", "nth": 10, "seconds": 120}'
# exec: $PID is the restore itself, not a subshell around it
(exec "$CVMRESTORE" restore --cacert "$RP_CACERT" --connections 2 --format raw --json "$PSAS" \
	-o "$OUT" >"$T/bg.stdout" 2>"$T/bg.stderr") &
PID=$!
n=0
for _ in $(seq 300); do
	kill -0 "$PID" 2>/dev/null || fail "the restore ended before it was interrupted: $(cat "$T/bg.stderr")"
	if [ -f "$OUT.journal" ]; then
		n=$(jtool done "$OUT.journal" 2>/dev/null || echo 0)
		[ "$n" -ge 4 ] && [ "$(proxy_stat 'd["injected"].get("stall", 0)')" -ge 1 ] && break
	fi
	sleep 0.1
done
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
proxy_fault '{"mode": "none", "t": 1}'
[ -f "$OUT.partial" ] && [ -f "$OUT.journal" ] || fail "no partial or journal after the kill"
LISTED=$(jtool done "$OUT.journal")
[ "$LISTED" -ge 4 ] && [ "$LISTED" -lt 16 ] || fail "the journal lists $LISTED chunks, want 4..15"
cp "$OUT.partial" "$T/keep.partial"
cp "$OUT.journal" "$T/keep.journal"
keep() { rm -f "$OUT"; cp "$T/keep.partial" "$OUT.partial"; cp "$T/keep.journal" "$OUT.journal"; }
pass "killed with $LISTED chunks in the journal"

note "(c) OUT.partial damaged between runs"
keep
FLIP=$(jtool first-data "$OUT.journal")
it_flip_byte "$OUT.partial" $((FLIP * CHUNK + 1000))
GETS=$(proxy_stat 'd["range_gets"]')
expect_exit 0 restore --json
cp "$RP_OUT" "$T/c.json"
scmp "$OUT" "$T/disk.raw"
json_check "$T/c.json" "d['resumed'] is True and d['verdict'] == 'pass'" "(c) resumed"
json_check "$T/c.json" "d['chunks_rechecked'] == $LISTED and d['chunks_refetched'] == 1" \
	"(c) rechecked $LISTED, refetched 1"
json_check "$T/c.json" "d['bytes_resumed'] == ($LISTED - 1) * $CHUNK" "(c) bytes_resumed"
[ "$(proxy_stat 'd["range_gets"]')" -le $((GETS + 3 + 16 - LISTED + 1)) ] ||
	fail "(c) fetched chunks the journal vouched for"
pass "(c) a flipped byte in chunk $FLIP: re-hashed, fetched again, OUT byte-identical"

note "(c) human output says what was re-checked"
keep
it_flip_byte "$OUT.partial" $((FLIP * CHUNK + 1000))
expect_exit 0 restore
grep -q "resume: the journal listed $LISTED chunks; $LISTED re-checked against it, 1 did not match" \
	"$RP_OUT" || fail "(c) the human output lacks the resume line: $(cat "$RP_OUT")"
scmp "$OUT" "$T/disk.raw"
pass "(c) human output: listed $LISTED, re-checked $LISTED, 1 fetched again"

note "(a) a journal edited to list every chunk, checksum not fixed"
keep
jtool claim-all "$OUT.journal" "$T/disk.raw" 0
expect_exit 3 restore -q
expect_one_error_line "cvmrestore: "
expect_stderr_has "is damaged (checksum)"
expect_stderr_has "remove '$OUT.partial' and '$OUT.journal' to start over"
[ ! -e "$OUT" ] || fail "(a) OUT exists"
pass "(a) refused: exit 3, damaged (checksum)"

note "(b) the same edit with the checksum recomputed"
keep
jtool claim-all "$OUT.journal" "$T/disk.raw" 1
GETS=$(proxy_stat 'd["range_gets"]')
expect_exit 0 restore --json
cp "$RP_OUT" "$T/b.json"
scmp "$OUT" "$T/disk.raw"
# chunks whose bytes OUT.partial does not hold (a killed restore may have written a few more
# than its journal lists: those pass the re-hash, rightly)
WRONG=$(/usr/bin/python3 -c '
import sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
c = int(sys.argv[3])
print(sum(a[i:i + c] != b[i:i + c] for i in range(0, len(b), c)))' "$T/keep.partial" "$T/disk.raw" $CHUNK)
[ "$WRONG" -ge 1 ] && [ "$WRONG" -le $((16 - LISTED)) ] || fail "(b) $WRONG chunks of the partial differ"
json_check "$T/b.json" "d['chunks_rechecked'] == 16 and d['chunks_refetched'] == $WRONG" \
	"(b) rechecked 16, refetched $WRONG"
json_check "$T/b.json" "d['bytes_fetched'] == $WRONG * $CHUNK" "(b) bytes_fetched"
pass "(b) forged journal: the $WRONG chunks not in OUT.partial failed the re-hash and were fetched; OUT byte-identical"

note "a version 1 journal is not trusted"
keep
jtool to-v1 "$OUT.journal"
expect_exit 0 restore --json
cp "$RP_OUT" "$T/v1.json"
scmp "$OUT" "$T/disk.raw"
json_check "$T/v1.json" "d['resumed'] is False and 'older version' in d['journal_note']" "v1: note"
json_check "$T/v1.json" "d['bytes_fetched'] == 16 * $CHUNK and d['bytes_resumed'] == 0" \
	"v1: every chunk fetched"
pass "version 1 journal: not trusted, every chunk fetched, a note says so"

note "a journal for another source"
keep
jtool source "$OUT.journal" "https://127.0.0.1:1/devstoreaccount1/disks/other.vhd"
expect_exit 4 restore -q
expect_one_error_line "cvmrestore: "
expect_stderr_has "cannot resume"
expect_stderr_has "disks/other.vhd"
expect_stderr_has "disks/j.vhd"
[ ! -e "$OUT" ] || fail "another source: OUT exists"
pass "journal of another source: refused, exit 4 naming both"

echo "test_restore_journal: $PASSED passed, 0 failed"
