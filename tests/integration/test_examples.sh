#!/bin/bash
# docs/examples and docs/metrics.md, run the way an operator meets them:
# - the metrics textfile: `promtool check metrics` (Prometheus's own linter of the naming
#   conventions) is clean, and Prometheus's Python text parser reads every metric with its type,
#   labels and value (docs/metrics.md's table); a linter that cannot fail is no check: a counter
#   without _total is refused by it;
# - Debian's prometheus-node-exporter reads /var/lib/prometheus/node-exporter by default (its
#   --help) and the unit, the script and the tmpfiles entry use that directory;
# - cvmrestore-verify.service and .timer: `systemd-analyze verify` clean (a broken copy is not),
#   `systemd-analyze security --offline=yes --threshold=11` holds (a copy without its sandbox
#   does not), the sysusers and tmpfiles files apply under --root;
# - cvmrestore-verify-rp verifies every disk of a two-disk recovery point: reports, state and
#   metrics per disk; exit 1 when one disk differs (the other still checked); a missing
#   textfile directory is no failure (metrics kept in the state directory, a line says so);
# - the metrics files of both disks and two shards in one directory are read by a real
#   node_exporter on 127.0.0.1 without a scrape error (no series repeats across files);
# - k8s-cronjob.yaml: every object valid against the Kubernetes schemas (npm kubernetes-models),
#   broken copies (a wrong type or enum, a missing or unknown member) refused with the member
#   named; the seal comes from a ReadOnlyMany volume, not a
#   ConfigMap; the container's script runs (shards 0 and 3) and pushes its metrics to a real
#   Pushgateway on 127.0.0.1, where they are read back with the job and index labels.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir

T=$RP_TMP
EX=$RP_SOURCE_DIR/docs/examples
MIB=1048576
PASSED=0
NE_PID=
PG_PID=
stop_servers() {
	local p
	for p in $NE_PID $PG_PID; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rp_cleanup
}
trap stop_servers EXIT

for tool in promtool prometheus-node-exporter prometheus-pushgateway systemd-analyze node; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (make deps)"
done
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_http URL PID WHAT: until URL answers (10 s), or fail if PID died
wait_http() {
	local _
	for _ in $(seq 100); do
		curl -fs -o /dev/null --max-time 2 "$1" && return 0
		kill -0 "$2" 2>/dev/null || fail "$3 exited during start-up"
		sleep 0.1
	done
	fail "$3 did not answer at $1 within 10 s"
}

# Two disks with data, sealed; a descriptor that lists both with their seals.
mkdir -p "$T/rp"
head -c $((6 * MIB)) /dev/urandom >"$T/rp/os.raw"
head -c $((3 * MIB)) /dev/urandom >"$T/rp/data0.raw"
truncate -s $((5 * MIB)) "$T/rp/data0.raw"
for d in os data0; do
	R seal -q "$T/rp/$d.raw" -o "$T/$d.seal.json" --chunk-size 1M || fail "seal $d"
done
"$PY" - "$T" <<'PYEOF'
import json, sys
t = sys.argv[1]
disk = lambda name, role, lun, src: {"name": name, "role": role, "lun": lun, "source": src,
                                     "size": None, "seal": json.load(open(f"{t}/{src[:-4]}.seal.json"))}
json.dump({"format": "cvmrestore-recovery-point", "version": 1, "id": "rp-examples",
           "created": "2026-12-06T00:00:00Z",
           "vm": {"name": "vm1", "os_type": "Linux", "hyperv_generation": "V2",
                  "security_type": None, "size": None, "location": None},
           "disks": [disk("osdisk", "os", None, "os.raw"), disk("data 0", "data", 0, "data0.raw")],
           "guest_state": None, "vm_metadata": None}, open(f"{t}/rp/recovery-point.json", "w"), indent=1)
PYEOF

note "metrics: promtool's lint and Prometheus's Python parser"
expect_exit 0 R verify "$T/rp/recovery-point.json" --disk osdisk --prometheus "$T/ok.prom"
cp "$T/rp/data0.raw" "$T/bad.raw"
printf 'XXXX' | dd of="$T/bad.raw" bs=1 seek=$((MIB + 7)) conv=notrunc status=none
expect_exit 1 R verify "$T/bad.raw" --seal "$T/data0.seal.json" --prometheus "$T/bad.prom" --shard 0/2
for f in ok bad; do
	promtool check metrics <"$T/$f.prom" >"$T/lint.out" 2>&1 || fail "promtool check metrics $f.prom: $(cat "$T/lint.out")"
	[ ! -s "$T/lint.out" ] || fail "promtool warns on $f.prom: $(cat "$T/lint.out")"
done
printf '# HELP cvmrestore_verify_runs runs\n# TYPE cvmrestore_verify_runs counter\ncvmrestore_verify_runs 3\n' |
	promtool check metrics >"$T/lint.out" 2>&1 && fail "promtool accepts a counter without _total"
grep -q '_total' "$T/lint.out" || fail "promtool: $(cat "$T/lint.out")"
# docs/metrics.md's table, row by row: name, type, labels
"$PY" - "$RP_SOURCE_DIR/docs/metrics.md" "$T/ok.prom" "$T/bad.prom" <<'PYEOF' || fail "metrics"
import re, sys, time
from prometheus_client.parser import text_string_to_metric_families
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"\| `(cvmrestore_[a-z_]+)` \| (gauge|counter) \| ([^|]*) \|", line)
    if m:
        rows[m.group(1)] = (m.group(2), set(re.findall(r"`([a-z_]+)`", m.group(3))))
assert len(rows) == 7, rows
def parse(path):
    out = {}
    for fam in text_string_to_metric_families(open(path).read()):
        assert len(fam.samples) == 1, fam
        s = fam.samples[0]
        assert s.name == fam.name and fam.documentation, fam
        out[fam.name] = (fam.type, s.labels, s.value)
    return out
ok, bad = parse(sys.argv[2]), parse(sys.argv[3])
assert set(ok) == set(rows) == set(bad), (sorted(ok), sorted(rows))
for name, (typ, labels) in rows.items():
    assert ok[name][0] == typ, (name, ok[name])
    assert set(ok[name][1]) == labels - {"shard"}, (name, ok[name][1], labels)
    assert set(bad[name][1]) == labels, (name, bad[name][1], labels)
    assert ok[name][1]["disk"] == "osdisk" and ok[name][1]["recovery_point"] == "rp-examples", ok[name]
    assert bad[name][1]["shard"] == "0/2" and bad[name][1]["disk"] == "bad.raw", bad[name]
v = lambda m, n: m[n][2]
assert v(ok, "cvmrestore_verify_success") == 1 and v(bad, "cvmrestore_verify_success") == 0
assert v(ok, "cvmrestore_verified_bytes") == 6 * 2**20 and v(ok, "cvmrestore_verify_checked_chunks") == 6
assert v(ok, "cvmrestore_verify_mismatched_chunks") == 0 and v(bad, "cvmrestore_verify_mismatched_chunks") == 1
assert v(bad, "cvmrestore_verify_checked_chunks") == 2 and v(bad, "cvmrestore_verified_bytes") == 2 * 2**20
assert abs(v(ok, "cvmrestore_verify_last_run_timestamp_seconds") - time.time()) < 600
assert v(ok, "cvmrestore_verify_duration_seconds") >= 0
assert v(ok, "cvmrestore_build_info") == 1 and re.fullmatch(r"\d+\.\d+\.\d+", ok["cvmrestore_build_info"][1]["version"])
assert ok["cvmrestore_build_info"][1]["commit"], ok["cvmrestore_build_info"]
PYEOF
pass "metrics: promtool lint clean (and it refuses a bad counter); 7 metrics parse as docs/metrics.md lists them"

note "Debian's node_exporter: the textfile directory it reads by default"
DEB_DIR=$(prometheus-node-exporter --help 2>&1 | sed -n 's/.*--collector\.textfile\.directory="\([^"]*\)".*/\1/p')
[ "$DEB_DIR" = /var/lib/prometheus/node-exporter ] || fail "Debian's default textfile directory is '$DEB_DIR'"
grep -qx "Environment=TEXTFILE_DIR=$DEB_DIR" "$EX/cvmrestore-verify.service" || fail "the unit's TEXTFILE_DIR"
grep -qx "ReadWritePaths=-$DEB_DIR" "$EX/cvmrestore-verify.service" || fail "the unit's ReadWritePaths"
grep -q "^a+ $DEB_DIR " "$EX/cvmrestore.tmpfiles" || fail "the tmpfiles ACL entry"
grep -qF "TEXTFILE_DIR:-$DEB_DIR}" "$EX/cvmrestore-verify-rp" || fail "the script's default"
pass "node_exporter's default --collector.textfile.directory is $DEB_DIR; unit, script and tmpfiles use it"

note "systemd: verify, security score, sysusers, tmpfiles"
mkdir -p "$T/units"
sed "s|^ExecStart=/usr/local/libexec/cvmrestore-verify-rp|ExecStart=$EX/cvmrestore-verify-rp|" \
	"$EX/cvmrestore-verify.service" >"$T/units/cvmrestore-verify.service"
cp "$EX/cvmrestore-verify.timer" "$T/units/"
systemd-analyze verify "$T/units/cvmrestore-verify.service" "$T/units/cvmrestore-verify.timer" \
	>"$T/sa.out" 2>&1 || fail "systemd-analyze verify: $(cat "$T/sa.out")"
[ ! -s "$T/sa.out" ] || fail "systemd-analyze verify warns: $(cat "$T/sa.out")"
sed 's/^Type=oneshot/Type=oneshoot/' "$T/units/cvmrestore-verify.service" >"$T/units/broken.service"
systemd-analyze verify "$T/units/broken.service" >"$T/sa.out" 2>&1 || true
grep -q "Failed to parse service type" "$T/sa.out" || fail "systemd-analyze does not notice a bad unit"
# The exposure score (docs/examples/README.md): 1.1 today; --threshold=11 fails above 1.1.
systemd-analyze security --offline=yes --threshold=11 "$T/units/cvmrestore-verify.service" >"$T/sec.out" 2>&1 ||
	fail "exposure above 1.1: $(tail -1 "$T/sec.out")"
score=$(sed -n 's/.*Overall exposure level for cvmrestore-verify.service: \([0-9.]*\) .*/\1/p' "$T/sec.out")
grep -q "rates it $score OK" "$EX/cvmrestore-verify.service" || fail "the unit's comment does not say $score"
grep -q "exposure level $score" "$EX/README.md" || fail "README.md does not say $score"
grep -v '^\(Protect\|Private\|Restrict\|SystemCall\|Capability\|NoNewPrivileges\|MemoryDeny\|LockPersonality\)' \
	"$T/units/cvmrestore-verify.service" >"$T/units/weak.service"
systemd-analyze security --offline=yes --threshold=11 "$T/units/weak.service" >"$T/sec.out" 2>&1 &&
	fail "a unit without its sandbox passes the threshold: $(tail -1 "$T/sec.out")"
mkdir -p "$T/root/etc" "$T/root/var/lib/prometheus/node-exporter"
systemd-sysusers --root="$T/root" "$EX/cvmrestore.sysusers" >"$T/su.out" 2>&1 || fail "systemd-sysusers: $(cat "$T/su.out")"
grep -q '^cvmrestore:x:[0-9]*:[0-9]*:cvmrestore scheduled verify:/var/lib/cvmrestore:/usr/sbin/nologin$' \
	"$T/root/etc/passwd" || fail "sysusers: $(cat "$T/root/etc/passwd")"
# The ACL entry names the user: here 'nobody' stands in for it (tmpfiles resolves names on the
# host, where the test makes no user). It is added to the directory; a missing one is no error.
sed 's/u:cvmrestore:rwx$/u:nobody:rwx/' "$EX/cvmrestore.tmpfiles" >"$T/tmpfiles.conf"
grep -q 'u:nobody:rwx$' "$T/tmpfiles.conf" || fail "cvmrestore.tmpfiles has no ACL entry for cvmrestore"
systemd-tmpfiles --root="$T/root" --create "$T/tmpfiles.conf" >"$T/tf.out" 2>&1 ||
	fail "systemd-tmpfiles: $(cat "$T/tf.out")"
[ ! -s "$T/tf.out" ] || fail "systemd-tmpfiles: $(cat "$T/tf.out")"
"$PY" - "$T/root/var/lib/prometheus/node-exporter" "$(id -u nobody)" <<'PYEOF' || fail "no ACL entry for the user"
import os, struct, sys
acl = os.getxattr(sys.argv[1], "system.posix_acl_access")
entries = [struct.unpack_from("<HHI", acl, 4 + 8 * i) for i in range((len(acl) - 4) // 8)]
assert (2, 7, int(sys.argv[2])) in entries, entries  # ACL_USER, rwx, the user's id
PYEOF
mkdir -p "$T/root2"
systemd-tmpfiles --root="$T/root2" --create "$T/tmpfiles.conf" >"$T/tf.out" 2>&1 ||
	fail "systemd-tmpfiles without the directory: $(cat "$T/tf.out")"
[ ! -e "$T/root2/var/lib/prometheus" ] || fail "tmpfiles made node_exporter's directory"
pass "systemd-analyze verify clean, exposure $score OK (a copy without the sandbox fails --threshold=11); sysusers makes the user, tmpfiles its ACL entry"

note "cvmrestore-verify-rp: every disk of a two-disk recovery point"
run_rp() {
	env CVMRESTORE="$CVMRESTORE" STATE_DIRECTORY="$T/state" LOGS_DIRECTORY="$T/logs" \
		TEXTFILE_DIR="$T/textfile" PERCENT=50 "$EX/cvmrestore-verify-rp" "$T/rp/recovery-point.json"
}
mkdir -p "$T/state" "$T/logs" "$T/textfile"
expect_exit 0 run_rp
for d in osdisk "data 0"; do
	json_check "$T/state/report-$d.json" "d['verdict'] == 'pass' and d['disks'][0]['name'] == '$d' and d['disks'][0]['coverage']['mode'] == 'sample'" \
		"report of $d"
	[ -s "$T/state/verify-$d.state" ] || fail "no state file for $d"
	grep -q "^cvmrestore_verify_success{recovery_point=\"rp-examples\",disk=\"$d\"} 1$" "$T/textfile/cvmrestore-$d.prom" ||
		fail "metrics of $d: $(cat "$T/textfile/cvmrestore-$d.prom")"
done
grep -qx "cvmrestore-verify-rp: disk 'data 0': exit 0" "$RP_OUT" || fail "script output: $(cat "$RP_OUT")"
[ "$(grep -c '"action":"end"' "$T/logs/audit.jsonl")" = 2 ] || fail "audit log: $(cat "$T/logs/audit.jsonl")"
! compgen -G "$T/state/*.tmp" >/dev/null || fail "a temporary report was left: $(ls "$T/state")"
# one disk differs: exit 1, the other disk is still checked and passes
cp "$T/rp/os.raw" "$T/os.good"
printf 'XXXX' | dd of="$T/rp/os.raw" bs=1 conv=notrunc status=none
rm -f "$T/state"/verify-*.state
expect_exit 1 run_rp
json_check "$T/state/report-osdisk.json" "d['verdict'] == 'fail' and d['disks'][0]['mismatches'][0]['index'] == 0" "failed disk's report"
json_check "$T/state/report-data 0.json" "d['verdict'] == 'pass'" "the other disk after a failure"
grep -q '^cvmrestore_verify_success{recovery_point="rp-examples",disk="osdisk"} 0$' "$T/textfile/cvmrestore-osdisk.prom" ||
	fail "metrics of the failed disk"
cp "$T/os.good" "$T/rp/os.raw"
# no textfile directory: no failure, the metrics stay in the state directory
rm -rf "$T/textfile"
expect_exit 0 run_rp
expect_stderr_has "'$T/textfile' is missing or not writable: metrics go to '$T/state/metrics'"
[ -s "$T/state/metrics/cvmrestore-osdisk.prom" ] && [ -s "$T/state/metrics/cvmrestore-data 0.prom" ] ||
	fail "metrics not kept: $(ls "$T/state/metrics")"
# a descriptor that is not one: cvmrestore's own message and code (docs/exit-codes.md)
cp "$T/os.seal.json" "$T/not-a-descriptor.json"
expect_exit 3 env CVMRESTORE="$CVMRESTORE" STATE_DIRECTORY="$T/state" LOGS_DIRECTORY="$T/logs" \
	"$EX/cvmrestore-verify-rp" "$T/not-a-descriptor.json"
expect_one_error_line "cvmrestore: rp: '$T/not-a-descriptor.json': descriptor: format 'cvmrestore-seal' is not"
expect_exit 2 "$EX/cvmrestore-verify-rp"
expect_one_error_line "usage: cvmrestore-verify-rp RECOVERY-POINT.json"
pass "every disk verified (reports, states, metrics per disk); one bad disk: exit 1, the other still passes; no textfile dir: exit 0; a bad descriptor: exit 3"

note "cvmrestore-verify-rp as an unprivileged user: the tmpfiles ACL entry lets it write"
# As the unit runs it: not root, its own state and logs directories, the textfile directory
# root:root with the ACL entry systemd-tmpfiles added above (for 'nobody' here).
chmod 0755 "$T" "$T/rp"
mkdir -p "$T/nstate" "$T/nlogs" "$T/plain"
chown nobody: "$T/nstate" "$T/nlogs"
NE_DIR=$T/root/var/lib/prometheus/node-exporter
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups env CVMRESTORE="$CVMRESTORE" \
		STATE_DIRECTORY="$T/nstate" LOGS_DIRECTORY="$T/nlogs" TEXTFILE_DIR="$1" \
		"$EX/cvmrestore-verify-rp" "$T/rp/recovery-point.json"
}
# (made 0755 above; with the ACL entry the group bits show the ACL's mask, rwx)
[ "$(stat -c '%U:%G %a' "$NE_DIR")" = "root:root 775" ] || fail "textfile directory: $(stat -c '%U:%G %a' "$NE_DIR")"
expect_exit 0 as_nobody "$NE_DIR"
[ ! -s "$RP_ERR" ] || fail "as nobody: $(cat "$RP_ERR")"
[ "$(stat -c '%U %a' "$NE_DIR/cvmrestore-osdisk.prom")" = "nobody 644" ] ||
	fail "metrics file: $(stat -c '%U %a' "$NE_DIR/cvmrestore-osdisk.prom")"
# the same directory without the ACL entry: not writable, so the metrics stay with the state
expect_exit 0 as_nobody "$T/plain"
expect_stderr_has "'$T/plain' is missing or not writable: metrics go to '$T/nstate/metrics'"
[ -s "$T/nstate/metrics/cvmrestore-data 0.prom" ] || fail "metrics not kept in the state directory"
pass "as user nobody: metrics written (mode 0644) into a root:root directory through the ACL entry; without it, kept in the state directory"

note "node_exporter reads the files of two disks and two shards"
mkdir -p "$T/ne"
cp "$T/state/metrics/"*.prom "$T/ne/"
cp "$T/bad.prom" "$T/ne/cvmrestore-bad-shard0.prom"
expect_exit 0 R verify "$T/bad.raw" --seal "$T/data0.seal.json" --prometheus "$T/ne/cvmrestore-bad-shard1.prom" --shard 1/2
NE_PORT=$(free_port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$NE_PORT" --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$T/ne" >"$T/ne.log" 2>&1 &
NE_PID=$!
wait_http "http://127.0.0.1:$NE_PORT/metrics" "$NE_PID" node_exporter
curl -fsS "http://127.0.0.1:$NE_PORT/metrics" >"$T/scrape.txt" || fail "scrape node_exporter"
grep -qx 'node_textfile_scrape_error 0' "$T/scrape.txt" || fail "node_exporter: $(grep -i 'textfile\|error' "$T/scrape.txt" "$T/ne.log" | head)"
[ "$(grep -c '^cvmrestore_verify_success{' "$T/scrape.txt")" = 4 ] || fail "scrape: $(grep '^cvmrestore_verify_success' "$T/scrape.txt")"
grep -q '^cvmrestore_verify_success{disk="bad.raw",recovery_point="[^"]*",shard="0/2"} 0$' "$T/scrape.txt" &&
	grep -q '^cvmrestore_verify_success{disk="bad.raw",recovery_point="[^"]*",shard="1/2"} 1$' "$T/scrape.txt" ||
	fail "scrape: $(grep '^cvmrestore_verify_success' "$T/scrape.txt")"
kill "$NE_PID"
wait "$NE_PID" 2>/dev/null || true
NE_PID=
pass "node_exporter: 4 files, no scrape error, 4 cvmrestore_verify_success series"

note "k8s-cronjob.yaml: Kubernetes schemas"
K8S_VALIDATE=$RP_SOURCE_DIR/tests/tools/k8s_validate.mjs
"$PY" - "$EX/k8s-cronjob.yaml" "$T" <<'PYEOF' || fail "k8s-cronjob.yaml"
import copy, json, sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
t = sys.argv[2]
json.dump(docs, open(f"{t}/k8s.json", "w"))
assert [d["kind"] for d in docs] == ["CronJob", "PersistentVolumeClaim"], [d["kind"] for d in docs]
cj, pvc = docs
job = cj["spec"]["jobTemplate"]["spec"]
assert job["completionMode"] == "Indexed" and job["completions"] == 4 == job["parallelism"]
pod = job["template"]["spec"]
vols = {v["name"]: v for v in pod["volumes"]}
assert not any("configMap" in v for v in vols.values()), "a seal in a ConfigMap"
claim = vols["seals"]["persistentVolumeClaim"]
assert claim["claimName"] == pvc["metadata"]["name"] and claim["readOnly"] is True
assert pvc["spec"]["accessModes"] == ["ReadOnlyMany"], pvc["spec"]
c = pod["containers"][0]
mounts = {m["name"]: m for m in c["volumeMounts"]}
assert set(mounts) == set(vols) and mounts["seals"]["readOnly"] is True
script = c["args"][0]
assert "--shard $(JOB_COMPLETION_INDEX)/4" in script and "--prometheus" in script and "curl" in script
open(f"{t}/k8s.sh", "w").write(script)
# broken copies, one change each: (file, what the validator must name)
def broken(n, f):
    d = copy.deepcopy(docs)
    f(d)
    json.dump(d, open(f"{t}/k8s-bad{n}.json", "w"))
js = lambda d: d[0]["spec"]["jobTemplate"]["spec"]
broken(1, lambda d: js(d).__setitem__("completions", "4"))
broken(2, lambda d: d[0]["spec"].pop("jobTemplate"))
broken(3, lambda d: js(d)["template"]["spec"].__setitem__("restartPolicy", "Sometimes"))
broken(4, lambda d: d[1]["spec"].__setitem__("accessModes", ["ReadOnlyMay"]))
broken(5, lambda d: js(d)["template"]["spec"]["containers"][0]["volumeMounts"][0].__setitem__("readOnly", "yes"))
broken(6, lambda d: d[0].__setitem__("kind", "CronJobs"))
broken(7, lambda d: js(d).__setitem__("backoffLimitPerIndx", 0))
broken(8, lambda d: js(d)["template"]["spec"]["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"].__setitem__("keys", "url"))
broken(9, lambda d: d[1]["metadata"].__setitem__("label", {}))
PYEOF
expect_exit 0 node "$K8S_VALIDATE" "$T/k8s.json"
[ "$(cat "$RP_OUT")" = "ok CronJob cvmrestore-verify
ok PersistentVolumeClaim cvmrestore-seals" ] || fail "validator: $(cat "$RP_OUT")"
want=(
	"invalid CronJob cvmrestore-verify: data/spec/jobTemplate/spec/completions must be integer"
	"invalid CronJob cvmrestore-verify: data/spec must have required property jobTemplate"
	"invalid CronJob cvmrestore-verify: data/spec/jobTemplate/spec/template/spec/restartPolicy must be equal to one of the allowed values"
	"invalid PersistentVolumeClaim cvmrestore-seals: data/spec/accessModes/0 must be equal to one of the allowed values"
	"invalid CronJob cvmrestore-verify: data/spec/jobTemplate/spec/template/spec/containers/0/volumeMounts/0/readOnly must be boolean"
	"invalid CronJobs cvmrestore-verify: unknown apiVersion 'batch/v1' or kind 'CronJobs'"
	"invalid CronJob cvmrestore-verify: data/spec/jobTemplate/spec has no member 'backoffLimitPerIndx'"
	"invalid CronJob cvmrestore-verify: data/spec/jobTemplate/spec/template/spec/containers/0/env/0/valueFrom/secretKeyRef has no member 'keys'"
	"invalid PersistentVolumeClaim cvmrestore-seals: data/metadata has no member 'label'"
)
expect_exit 1 node "$K8S_VALIDATE" "$T"/k8s-bad[1-9].json
for n in 1 2 3 4 5 6 7 8 9; do
	grep -qxF "k8s-bad$n.json: ${want[n - 1]}" "$RP_OUT" || fail "broken copy $n: $(cat "$RP_OUT")"
done
pass "k8s-cronjob.yaml: CronJob and PVC valid (kubernetes-models); 9 broken copies (types, enums, required and unknown members) refused naming the member"

note "k8s-cronjob.yaml: the container's script, pushing to a Pushgateway"
PG_PORT=$(free_port)
prometheus-pushgateway --web.listen-address="127.0.0.1:$PG_PORT" >"$T/pg.log" 2>&1 &
PG_PID=$!
wait_http "http://127.0.0.1:$PG_PORT/metrics" "$PG_PID" pushgateway
mkdir -p "$T/k8s/seals" "$T/k8s/work"
cp "$T/os.seal.json" "$T/k8s/seals/os-disk.seal.json"
for i in 0 3; do
	sed -e "s|\$(JOB_COMPLETION_INDEX)|$i|g" -e "s|\([ @]\)/work/|\1$T/k8s/work/|g; s| /seals/| $T/k8s/seals/|" \
		-e "s|/usr/local/bin/cvmrestore|$CVMRESTORE|" "$T/k8s.sh" >"$T/k8s$i.sh"
	SOURCE_URL=$T/rp/os.raw PUSHGATEWAY=http://127.0.0.1:$PG_PORT expect_exit 0 sh "$T/k8s$i.sh"
	json_check "$RP_OUT" "d['verdict'] == 'pass' and d['disks'][0]['coverage']['shard'] == $i" "k8s shard $i report in the log"
done
curl -fsS "http://127.0.0.1:$PG_PORT/metrics" >"$T/pg.txt" || fail "read the Pushgateway"
for i in 0 3; do
	grep -q "^cvmrestore_verify_success{disk=\"os.raw\",index=\"$i\",instance=\"\",job=\"cvmrestore-verify\",recovery_point=\"[^\"]*\",shard=\"$i/4\"} 1$" "$T/pg.txt" ||
		fail "pushed metrics of shard $i: $(grep '^cvmrestore_verify_success' "$T/pg.txt")"
done
# a verify that fails still pushes, and the pod fails with the verify's code
cp "$T/rp/os.raw" "$T/os.bad"
printf 'XXXX' | dd of="$T/os.bad" bs=1 conv=notrunc status=none
SOURCE_URL=$T/os.bad PUSHGATEWAY=http://127.0.0.1:$PG_PORT expect_exit 1 sh "$T/k8s0.sh"
curl -fsS "http://127.0.0.1:$PG_PORT/metrics" >"$T/pg.txt" || fail "read the Pushgateway"
grep -q '^cvmrestore_verify_mismatched_chunks{disk="os.bad",index="0",.*} 1$' "$T/pg.txt" ||
	fail "pushed metrics of a failed verify: $(grep '^cvmrestore_verify_mismatched' "$T/pg.txt")"
# a Pushgateway that is down fails the pod even when the verify passed
SOURCE_URL=$T/rp/os.raw PUSHGATEWAY=http://127.0.0.1:$(free_port) expect_exit 4 sh "$T/k8s3.sh"
pass "k8s script: shards 0 and 3 pushed to a real Pushgateway (job, index, shard labels); a failed push fails the pod"

echo "test_examples: $PASSED passed, 0 failed"
