#!/bin/bash
# Scheduled verification (docs/report.md): verify --sample/--seed, --rolling, --shard and
# --max-chunks/--max-duration with --state over a sealed 40-chunk disk, locally and from nginx
# (only the chosen chunks are fetched: counted in the access log); the report's coverage, chunk
# map and counts; the state file (mode 0600, chunk_runs); --prometheus parsed by a text
# exposition-format parser (docs/examples and the metrics' names: test_examples.sh); every
# malformed option and state file with its message and exit code.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir

T=$RP_TMP
MIB=1048576
N=40
PASSED=0

# A 40 MiB disk in 1 MiB chunks: random data, chunks 30..37 written with zeros (seal: "zero").
head -c $((N * MIB)) /dev/urandom >"$T/disk.raw"
dd if=/dev/zero of="$T/disk.raw" bs=1M seek=30 count=8 conv=notrunc status=none
R seal -q "$T/disk.raw" -o "$T/seal.json" --chunk-size 1M || fail "seal"
V() { R verify "$@" --seal "$T/seal.json"; }

# report FILE EXPR: json_get over the first disk of a report (k = disks[0])
disk_get() { json_get "$1" "(lambda k: $2)(d['disks'][0])"; }
map_of() { disk_get "$1" 'k["chunk_map"]'; }

# corrupt SRC DST CHUNK: a copy of SRC with 4 bytes changed inside CHUNK
corrupt() {
	cp "$1" "$2"
	printf 'XXXX' | dd of="$2" bs=1 seek=$(($3 * MIB + 100)) conv=notrunc status=none
}

note "sample: a fixed seed picks a fixed set, plus the first and last chunks"
expect_exit 0 V "$T/disk.raw" --sample 10 --seed 42 --json
cp "$RP_OUT" "$T/s42.json"
it_json_only "$T/s42.json"
MAP=$(map_of "$T/s42.json")
[ "${#MAP}" = $N ] || fail "chunk map has ${#MAP} characters, want $N"
[ "${MAP:0:1}" = v ] && [ "${MAP:39:1}" = v ] || fail "sample lacks chunk 0 or 39: $MAP"
[ "${MAP:30:8}" = "........" ] || fail "zero chunks are not '.': $MAP"
# 32 chunks hold data: ceil(10% of 32) = 4 sampled, plus the two always checked unless drawn.
checked=$(disk_get "$T/s42.json" 'k["chunks_checked"]')
nv=$(tr -cd 'vX' <<<"$MAP" | wc -c)
[ "$checked" = "$nv" ] && [ "$checked" -ge 4 ] && [ "$checked" -le 6 ] ||
	fail "sample: chunks_checked $checked, map shows $nv"
json_check "$T/s42.json" "d['disks'][0]['bytes_verified'] == $checked * $MIB" "sample: bytes_verified"
json_check "$T/s42.json" 'd["disks"][0]["coverage"] == {"mode": "sample", "percent": 10, "seed": 42}' \
	"sample: coverage"
json_check "$T/s42.json" '"digests" not in d["disks"][0] and d["verdict"] == "pass" and d["exit_code"] == 0' \
	"sample: no whole-disk digests for a part"
json_check "$T/s42.json" 'd["schema"] == "cvmrestore-report/1" and d["command"] == "verify" and d["source"]["kind"] == "file"' \
	"sample: envelope"
expect_exit 0 V "$T/disk.raw" --sample 10 --seed 42 --json
[ "$(map_of "$RP_OUT")" = "$MAP" ] || fail "the same seed gave another sample"
pass "sample 10% seed 42: $checked chunks ($MAP), reproducible"

# a data chunk inside the sample and one outside (not 0, not 39)
IN=$(/usr/bin/python3 -c 'import sys; m=sys.argv[1]; print([i for i in range(1,39) if m[i]=="v"][0])' "$MAP")
OUT=$(/usr/bin/python3 -c 'import sys; m=sys.argv[1]; print([i for i in range(1,30) if m[i]=="-"][0])' "$MAP")
corrupt "$T/disk.raw" "$T/in.raw" "$IN"
corrupt "$T/disk.raw" "$T/out.raw" "$OUT"
expect_exit 1 V "$T/in.raw" --sample 10 --seed 42 --json
cp "$RP_OUT" "$T/in.json"
expect_one_error_line "cvmrestore: verify: '$T/in.raw' does not match the seal: 1 chunks differ"
json_check "$T/in.json" "[m['index'] for m in d['disks'][0]['mismatches']] == [$IN]" "in sample: mismatch index"
json_check "$T/in.json" "d['disks'][0]['mismatches'][0]['offset'] == $IN * $MIB and d['disks'][0]['mismatches'][0]['reason'] == 'seal-mismatch'" \
	"in sample: offset and reason"
json_check "$T/in.json" 'd["verdict"] == "fail" and d["exit_code"] == 1 and d["disks"][0]["verdict"] == "fail"' \
	"in sample: verdict"
json_check "$T/in.json" '[r["code"] for r in d["disks"][0]["reasons"]] == ["seal-mismatch"]' "in sample: reason code"
[ "$(map_of "$T/in.json")" = "${MAP:0:IN}X${MAP:IN+1}" ] || fail "in sample: chunk map $(map_of "$T/in.json")"
expect_exit 0 V "$T/out.raw" --sample 10 --seed 42 --json
[ "$(map_of "$RP_OUT")" = "$MAP" ] || fail "not in sample: map changed"
expect_exit 1 V "$T/out.raw" --json
json_check "$RP_OUT" "[m['index'] for m in d['disks'][0]['mismatches']] == [$OUT] and d['disks'][0]['coverage']['mode'] == 'full'" \
	"full run finds the chunk the sample skipped"
pass "sample finds corrupt chunk $IN (in the sample, 'X' in the map), not chunk $OUT (outside), a full run does"

note "rolling: T runs check every chunk exactly once"
for r in 1 2 3; do
	expect_exit 0 V "$T/disk.raw" --rolling "$r/3" --state "$T/roll.state" --json
	cp "$RP_OUT" "$T/roll$r.json"
	json_check "$T/roll$r.json" "d['disks'][0]['coverage'] == {'mode': 'rolling', 'run': $r, 'runs': 3, 'state_run': $r}" \
		"rolling $r: coverage"
done
[ "$(stat -c %a "$T/roll.state")" = 600 ] || fail "state file mode $(stat -c %a "$T/roll.state")"
/usr/bin/python3 - "$T" $N <<'EOF' || fail "rolling coverage"
import base64, json, struct, sys
t, n = sys.argv[1], int(sys.argv[2])
maps = [json.load(open(f"{t}/roll{r}.json"))["disks"][0]["chunk_map"] for r in (1, 2, 3)]
for i in range(n):
    if 30 <= i < 38:  # zero chunks are '.' checked or not: the state says who checked them
        assert [m[i] for m in maps] == ["."] * 3, (i, [m[i] for m in maps])
        continue
    hits = [r for r in range(3) if maps[r][i] in "vX"]
    assert hits == [i % 3], f"chunk {i}: checked in runs {hits} ({[m[i] for m in maps]})"
    assert all(maps[r][i] == "-" for r in range(3) if r != i % 3), (i, [m[i] for m in maps])
st = json.load(open(f"{t}/roll.state"))
runs = struct.unpack(f"<{n}I", base64.b64decode(st["chunk_runs"]))
assert st["last_run"] == 3 and [r["run"] for r in st["runs"]] == [1, 2, 3], st["runs"]
assert list(runs) == [i % 3 + 1 for i in range(n)], runs
assert [r["chunks"] for r in st["runs"]] == [14, 13, 13], st["runs"]
EOF
pass "rolling 1/3, 2/3, 3/3: each chunk in exactly one run (chunk maps and state chunk_runs)"

note "shards: disjoint and complete"
for s in 0 1 2; do
	expect_exit 0 V "$T/disk.raw" --shard "$s/3" --json
	cp "$RP_OUT" "$T/shard$s.json"
done
/usr/bin/python3 - "$T" $N <<'EOF' || fail "shards"
import json, sys
t, n = sys.argv[1], int(sys.argv[2])
ds = [json.load(open(f"{t}/shard{s}.json"))["disks"][0] for s in range(3)]
sets = [set(i for i in range(n) if i not in range(30, 38) and d["chunk_map"][i] == "v") |
        set(i for i in range(30, 38) if d["coverage"]["shard"] * n // 3 <= i < (d["coverage"]["shard"] + 1) * n // 3)
        for d in ds]
assert sum(d["chunks_checked"] for d in ds) == n, [d["chunks_checked"] for d in ds]
assert set().union(*sets) == set(range(n)), sets
assert all(not (sets[a] & sets[b]) for a in range(3) for b in range(a + 1, 3)), sets
assert [d["coverage"] for d in ds] == [{"mode": "shard", "shard": s, "shards": 3} for s in range(3)]
EOF
pass "shards 0/3, 1/3, 2/3: checked counts sum to $N, disjoint, union is every chunk"

note "sample of a shard"
expect_exit 0 V "$T/disk.raw" --sample 50 --seed 5 --shard 1/2 --json --prometheus "$T/shard.prom"
json_check "$RP_OUT" 'd["disks"][0]["coverage"] == {"mode": "sample", "percent": 50, "seed": 5, "shard": 1, "shards": 2}' \
	"sample of a shard: coverage"
# shard 1/2 is chunks 20..39: 12 with data (20-29, 38, 39) -> 6 drawn, plus 39 if not drawn
json_check "$RP_OUT" 'set(d["disks"][0]["chunk_map"][:20]) == {"-"} and d["disks"][0]["chunk_map"][39] == "v" and d["disks"][0]["chunks_checked"] in (6, 7)' \
	"sample of a shard: only the shard's chunks"
grep -q '^cvmrestore_verify_success{recovery_point="[^"]*",disk="disk.raw",shard="1/2"} 1$' "$T/shard.prom" ||
	fail "shard label: $(grep success "$T/shard.prom")"
pass "--sample 50 --shard 1/2: a sample of chunks 20..39 only; metrics labelled shard=\"1/2\""

note "max-chunks: least recently verified first, recorded in the state"
for r in 1 2 3; do
	expect_exit 0 V "$T/disk.raw" --max-chunks 15 --state "$T/lrv.state" --json
	cp "$RP_OUT" "$T/lrv$r.json"
done
/usr/bin/python3 - "$T" $N <<'EOF' || fail "max-chunks"
import base64, json, struct, sys
t, n = sys.argv[1], int(sys.argv[2])
ds = [json.load(open(f"{t}/lrv{r}.json"))["disks"][0] for r in (1, 2, 3)]
assert [d["chunks_checked"] for d in ds] == [15, 15, 15], [d["chunks_checked"] for d in ds]
assert all(d["coverage"]["mode"] == "max-duration" and d["coverage"]["max_chunks"] == 15 and
           d["coverage"]["budget_exhausted"] for d in ds), [d["coverage"] for d in ds]
st = json.load(open(f"{t}/lrv.state"))
runs = list(struct.unpack(f"<{n}I", base64.b64decode(st["chunk_runs"])))
# run 1: 0-14; run 2: 15-29 (never checked before); run 3: 30-39 (never), then 0-4 (oldest: run 1)
want = [3] * 5 + [1] * 10 + [2] * 15 + [3] * 10
assert runs == want, runs
EOF
expect_exit 0 V "$T/disk.raw" --max-duration 3600 --state "$T/lrv.state" --json
json_check "$RP_OUT" 'd["disks"][0]["chunks_checked"] == 40 and d["disks"][0]["coverage"]["budget_exhausted"] is False' \
	"max-duration with time to spare checks every chunk once"
pass "max-chunks 15 x3: chunks 0-14, 15-29, then 30-39 + 0-4 (oldest first); max-duration 3600 covers all"

note "prometheus textfile"
ln -s "$T/disk.raw" "$T/d\"q\\x.raw"
expect_exit 0 V "$T/d\"q\\x.raw" --sample 5 --seed 1 --prometheus "$T/m.prom"
expect_exit 1 V "$T/in.raw" --prometheus "$T/bad.prom"
prom_check() {
	/usr/bin/python3 - "$@" <<'EOF' || fail "prometheus output of $1"
import re, sys
# The text exposition format 0.0.4: HELP/TYPE before the samples of a metric, metric and
# label names [a-zA-Z_:][a-zA-Z0-9_:]*, label values in double quotes with \\, \" and \n.
path, want_disk, success, mism = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
text = open(path, encoding="utf-8").read()
assert text.endswith("\n")
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
helped, typed, samples = set(), {}, {}
for line in text.splitlines():
    m = re.fullmatch(rf"# HELP ({name_re}) (.*)", line)
    if m:
        assert m.group(1) not in helped, "HELP twice"
        helped.add(m.group(1)); continue
    m = re.fullmatch(rf"# TYPE ({name_re}) (counter|gauge|histogram|summary|untyped)", line)
    if m:
        assert m.group(1) not in samples, "TYPE after samples"
        typed[m.group(1)] = m.group(2); continue
    assert not line.startswith("#"), line
    m = re.fullmatch(rf"({name_re})\{{(.*)\}} (\S+)( -?\d+)?", line)
    assert m, f"bad sample line {line!r}"
    labels, rest = {}, m.group(2)
    while rest:
        lm = re.match(rf'({name_re})="((?:[^"\\\n]|\\[\\"n])*)"(,|$)', rest)
        assert lm, f"bad labels {rest!r}"
        labels[lm.group(1)] = re.sub(r'\\(.)', lambda e: {"n": "\n"}.get(e.group(1), e.group(1)), lm.group(2))
        rest = rest[lm.end():]
    float(m.group(3))
    assert m.group(1) in typed and m.group(1) in helped, f"{m.group(1)} without HELP/TYPE"
    samples[m.group(1)] = (labels, float(m.group(3)))
names = ["cvmrestore_verify_" + s for s in ("success", "last_run_timestamp_seconds",
         "mismatched_chunks", "duration_seconds", "checked_chunks")]
names.insert(2, "cvmrestore_verified_bytes")
assert sorted(samples) == sorted(names + ["cvmrestore_build_info"]), sorted(samples)
for n in names:
    assert typed[n] == "gauge"
    assert samples[n][0]["disk"] == want_disk, samples[n][0]
    assert "recovery_point" in samples[n][0]
assert samples[names[0]][1] == float(success), samples[names[0]]
assert samples[names[3]][1] == float(mism)
import time
assert abs(samples[names[1]][1] - time.time()) < 600
assert samples[names[2]][1] > 0 and samples[names[4]][1] >= 0
EOF
}
prom_check "$T/m.prom" 'd"q\x.raw' 1 0
grep -qF 'disk="d\"q\\x.raw"' "$T/m.prom" || fail "label value not escaped: $(grep success "$T/m.prom")"
prom_check "$T/bad.prom" in.raw 0 1
ls "$T" | grep -q '\.prom\.tmp' && fail "a temporary metrics file was left behind"
pass "prometheus: HELP/TYPE/gauges parse, labels escaped (\\\" and \\\\), success 1/0, mismatched 0/1"

note "usage errors and bad state files"
usage() {
	local msg=$1
	shift
	expect_exit 2 R verify "$T/disk.raw" "$@"
	expect_one_error_line "cvmrestore: verify: "
	expect_stderr_has "$msg"
}
S=(--seal "$T/seal.json")
usage "percentage must be more than 0" "${S[@]}" --sample 0
usage "percentage must be more than 0" "${S[@]}" --sample 101
usage "not '5%%'" "${S[@]}" --sample 5%% # one % is accepted (test_json_contract.sh), two are not
usage "--rolling 0/3: the number before '/' must be 1 to the count" "${S[@]}" --rolling 0/3
usage "--rolling 4/3: the number before '/' must be 1 to the count" "${S[@]}" --rolling 4/3
usage "--rolling takes RUN/COUNT, not '2'" "${S[@]}" --rolling 2
usage "--shard 3/3: the number before '/' must be 0 to the count - 1" "${S[@]}" --shard 3/3
usage "--shard 0/0: the count after '/' must be 1 to 1000000" "${S[@]}" --shard 0/0
usage "--seed is for --sample" "${S[@]}" --seed 3
usage "--seed must be a number" "${S[@]}" --sample 5 --seed -1
usage "--seed must be a number from 0 to 9007199254740991, not '9007199254740992'" "${S[@]}" --sample 5 --seed 9007199254740992
usage "need --state FILE" "${S[@]}" --max-chunks 3
usage "need --state FILE" "${S[@]}" --max-duration 60
usage "--max-duration must be a number from 1" "${S[@]}" --max-duration 0 --state "$T/x"
usage "choose one of --sample, --rolling" "${S[@]}" --sample 5 --rolling 1/2
usage "only --sample and --shard go together" "${S[@]}" --shard 0/2 --max-chunks 3 --state "$T/x"
usage "need every chunk" "${S[@]}" --sample 5 --evidence
usage "need every chunk" "${S[@]}" --rolling 1/2 --hash-window 1M
usage "needs a seal" --sample 5
usage "--hash-window must be a multiple of 512" --hash-window 1000
pass "20 usage errors: exit 2, one line naming the option"

echo '{"format": "cvmrestore-verify-state", "version": 1}' >"$T/bad1.state"
expect_exit 3 V "$T/disk.raw" --rolling 1/2 --state "$T/bad1.state"
expect_stderr_has "state: virtual_size is missing or not a non-negative integer"
/usr/bin/python3 - "$T/roll.state" "$T" <<'EOF'
import json, sys
st = json.load(open(sys.argv[1]))
t = sys.argv[2]
bad = dict(st, chunk_runs=st["chunk_runs"][:-8]); json.dump(bad, open(f"{t}/bad2.state", "w"))
bad = dict(st, last_run=1, runs=st["runs"][:1]); json.dump(bad, open(f"{t}/bad3.state", "w"))
bad = dict(st, chunk_count=41); json.dump(bad, open(f"{t}/bad4.state", "w"))
bad = dict(st, virtual_size=st["virtual_size"] * 2, chunk_count=80); bad["chunk_runs"] = ""
json.dump(bad, open(f"{t}/other.state", "w"))
EOF
expect_exit 3 V "$T/disk.raw" --rolling 1/2 --state "$T/bad2.state"
expect_stderr_has "state: chunk_runs is too short for 40 chunks"
expect_exit 3 V "$T/disk.raw" --rolling 1/2 --state "$T/bad3.state"
expect_stderr_has "names run 2, after last_run 1"
expect_exit 3 V "$T/disk.raw" --rolling 1/2 --state "$T/bad4.state"
expect_stderr_has "state: chunk_count 41 does not fit"
printf 'not json' >"$T/bad5.state"
expect_exit 3 V "$T/disk.raw" --rolling 1/2 --state "$T/bad5.state"
expect_one_error_line "cvmrestore: verify: '$T/bad5.state': state"
cp "$T/other.state" "$T/other.before"
expect_exit 3 V "$T/disk.raw" --rolling 1/2 --state "$T/other.state"
cmp -s "$T/other.state" "$T/other.before" || fail "a refused state file was rewritten"
pass "malformed state files: exit 3 naming the member; not rewritten"

# A state of another disk (valid itself) is a usage error.
truncate -s $((2 * N * MIB)) "$T/big.raw"
R seal -q "$T/big.raw" -o "$T/big.seal" --chunk-size 1M || fail "seal big"
R verify "$T/big.raw" --seal "$T/big.seal" --rolling 1/2 --state "$T/big.state" -q || fail "big state"
expect_exit 2 V "$T/disk.raw" --rolling 1/2 --state "$T/big.state"
expect_stderr_has "the state file '$T/big.state' is for a disk of 83886080 bytes"
pass "a state file of another disk: exit 2"

note "remote: only the chosen chunks are fetched"
. "$RP_SOURCE_DIR/tests/integration/servers.sh"
mkdir -p "$T/www"
R convert -q "$T/disk.raw" "$T/www/disk.vhd" || fail "convert"
corrupt "$T/www/disk.vhd" "$T/www/in.vhd" "$IN"
nginx_start "$T/www"
RV() { R verify --cacert "$RP_CACERT" "$@" --seal "$T/seal.json"; }
chunk_gets() { nginx_log_count "\"GET /$1 [^\"]*\" 206 $MIB range=\"bytes=[0-9]+-[0-9]+\" if_match=\"[^\"-]"; }
: >"$NGINX_LOG"
expect_exit 0 RV "$NGINX_URL/disk.vhd" --sample 10 --seed 42 --json
cp "$RP_OUT" "$T/r42.json"
[ "$(map_of "$T/r42.json")" = "$MAP" ] || fail "remote sample map $(map_of "$T/r42.json"), local $MAP"
json_check "$T/r42.json" 'd["source"]["kind"] == "url" and d["source"]["etag"] and d["disks"][0]["format"] == "vhd-fixed"' \
	"remote: source"
sleep 0.2
[ "$(chunk_gets disk.vhd)" = "$checked" ] || fail "remote sample fetched $(chunk_gets disk.vhd) chunks, want $checked"
pass "remote sample: the same $checked chunks as locally, and only they were fetched"
: >"$NGINX_LOG"
expect_exit 1 RV "$NGINX_URL/in.vhd" --sample 10 --seed 42 --json
json_check "$RP_OUT" "[m['index'] for m in d['disks'][0]['mismatches']] == [$IN] and d['verdict'] == 'fail'" \
	"remote sample: finds the corrupt chunk"
expect_exit 0 RV "$NGINX_URL/disk.vhd" --shard 2/3 --json
json_check "$RP_OUT" "d['disks'][0]['chunks_checked'] == 14 and d['disks'][0]['chunk_map'][26:] == 'vvvv' + '.' * 8 + 'vv'" \
	"remote shard 2/3"
: >"$NGINX_LOG"
expect_exit 0 RV "$NGINX_URL/disk.vhd" --rolling 2/4 --json
sleep 0.2
[ "$(chunk_gets disk.vhd)" = 10 ] || fail "remote rolling 2/4 fetched $(chunk_gets disk.vhd) chunks, want 10"
pass "remote: corrupt chunk found in the sample; shard 2/3 and rolling 2/4 fetch only their chunks"
for r in 1 2 3; do
	expect_exit 0 RV "$NGINX_URL/disk.vhd" --max-chunks 15 --state "$T/rlrv.state" --prometheus "$T/r.prom" --json
	cp "$RP_OUT" "$T/rlrv$r.json"
done
json_check "$T/rlrv3.json" "d['disks'][0]['chunk_map'] == 'v' * 5 + '-' * 25 + '.' * 8 + 'vv'" \
	"remote max-chunks run 3: 30-39 then 0-4"
prom_check "$T/r.prom" disk.vhd 1 0
pass "remote max-chunks: least recently verified first over three runs; metrics parse"

echo "test_verify_sched: $PASSED passed, 0 failed"
