#!/bin/bash
# --progress where jobs run: under a pipe, lines (the default there) every --progress-interval
# with done/total, rate and ETA, and JSON events (one object per line, a final "end") beside
# --json on stdout; on a terminal (a pty) a bar that fits its width and redraws with CR; a short
# run prints nothing without a terminal; -q and --progress none print nothing; every long-running
# command (restore, verify, seal, convert) takes the option; the last options --help lists parse. A restore under --limit-rate from
# nginx makes a run of about 4 s.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
MIB=1048576
PASSED=0

mkdir -p "$T/www"
head -c $((8 * MIB)) /dev/urandom >"$T/disk.raw"
R convert -q "$T/disk.raw" "$T/www/disk.vhd" || fail "convert"
nginx_start "$T/www"
URL="$NGINX_URL/disk.vhd"
SLOW=(--cacert "$RP_CACERT" --limit-rate 2M --connections 4 --chunk-size 256K)

note "lines under a pipe (auto)"
expect_exit 0 R restore "$URL" -o "$T/a.vhd" "${SLOW[@]}" --progress-interval 1
"$PY" - "$RP_ERR" <<'PY' || fail "progress lines"
import re, sys
lines = open(sys.argv[1], "rb").read().decode().split("\n")
assert lines[-1] == "", "stderr does not end with a newline"
lines = lines[:-1]
assert len(lines) >= 2, "%d lines: %r" % (len(lines), lines)
detail = r"(, [^,]+, \d+ retries)?"
pat = re.compile(r"cvmrestore: restore: [\d.]+ (B|KiB|MiB) / 8\.0 MiB \(\d+%\), [\d.]+ (B|KiB|MiB)/s(, \d+:\d\d left)?" + detail + "$")
for l in lines[:-1]:
    assert pat.match(l), "not a status line: %r" % l
assert re.match(r"cvmrestore: restore: 8\.0 MiB / 8\.0 MiB \(100%\), [\d.]+ (KiB|MiB)/s" + detail + r" in \d+ s$", lines[-1]), lines[-1]
assert "\r" not in "".join(lines) and "\x1b" not in "".join(lines)
PY
scmp "$T/a.vhd" "$T/www/disk.vhd"
pass "auto without a terminal: a plain status line a second, then the last one"

expect_exit 0 R restore "$URL" -o "$T/b.vhd" "${SLOW[@]}" --progress bar --progress-interval 1
grep -q '^cvmrestore: restore: .* left' "$RP_ERR" || fail "--progress bar under a pipe: no lines"
! grep -q $'\r' "$RP_ERR" || fail "--progress bar under a pipe wrote a CR"
pass "--progress bar without a terminal falls back to lines"

note "JSON events beside --json"
expect_exit 0 R restore "$URL" -o "$T/c.vhd" "${SLOW[@]}" --progress json --progress-interval 1 --json
json_check "$RP_OUT" 'd["verdict"] == "pass"' "stdout is the report"
"$PY" - "$RP_ERR" <<'PY' || fail "JSON events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert len(ev) >= 2, ev
for e in ev[:-1]:
    assert e["event"] == "progress" and e["label"] == "restore", e
    assert 0 <= e["done"] <= e["total"] == 8 << 20, e
    assert e["rate"] > 0 and isinstance(e["eta_s"], int) and e["elapsed_s"] > 0, e
    assert "retries" in e and "skipped" in e, e
assert [e["done"] for e in ev] == sorted(e["done"] for e in ev), "done goes back"
end = ev[-1]
assert end["event"] == "end" and end["done"] == end["total"] == 8 << 20 and end["eta_s"] == 0, end
PY
pass "--progress json: one event per line, a final end event; the report on stdout"

note "nothing when it is not asked for"
expect_exit 0 R restore "$URL" -o "$T/d.vhd" "${SLOW[@]}" --progress-interval 1 -q
[ ! -s "$RP_ERR" ] || fail "-q printed progress"
expect_exit 0 R restore "$URL" -o "$T/e.vhd" "${SLOW[@]}" --progress-interval 1 --progress none
[ ! -s "$RP_ERR" ] || fail "--progress none printed progress"
expect_exit 0 R restore "$URL" -o "$T/f.vhd" --cacert "$RP_CACERT"
[ ! -s "$RP_ERR" ] || fail "a short run printed progress lines: $(head -3 "$RP_ERR")"
expect_exit 0 R restore "$URL" -o "$T/f2.vhd" "${SLOW[@]}" --progress-interval 1 --json
[ ! -s "$RP_ERR" ] || fail "auto with --json printed progress: $(head -3 "$RP_ERR")"
pass "-q, --progress none, auto with --json and a run shorter than the interval print no progress"

note "a bar on a terminal, as wide as it is"
for cols in 72 30; do
"$PY" - "$CVMRESTORE" "$T/g$cols.vhd" "$URL" "$cols" "${SLOW[@]}" <<'PY' || fail "the bar on a pty of $cols columns"
import fcntl, os, pty, re, struct, sys, termios
exe, out, url, cols, *rest = sys.argv[1:]
cols = int(cols)
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(2, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    os.environ.pop("COLUMNS", None)
    os.execv(exe, [exe, "restore", url, "-o", out, *rest])
data = b""
while True:
    try:
        b = os.read(fd, 65536)
    except OSError:
        break
    if not b:
        break
    data += b
_, st = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(st) == 0, data[-500:]
text = data.decode()
assert "\r" in text, text[:300]
# the frames: what each CR starts, up to the erase; the summary after the bar's newline is not one
bar = text[:text.rindex("\x1b[K") + 3]
frames = [f.replace("\x1b[K", "") for f in bar.split("\r") if f]
assert len(frames) >= 2, "%d redraws" % len(frames)
for f in frames:
    assert len(f) <= cols - 1, "a frame of %d columns on a %d-column terminal: %r" % (len(f), cols, f)
    if cols >= 60:
        assert re.match(r"restore \[[# ]+\] \d", f), f
assert cols < 60 or frames[-1].startswith("restore [" + "#" * (frames[-1].index("]") - 9) + "]"), frames[-1]
assert text[len(bar):].startswith("\r\n") or text[len(bar):].startswith("\n"), "no newline after the bar"
PY
done
pass "on 72- and 30-column ptys: every frame narrower than the terminal, redrawn with CR, full at the end"

note "the other long-running commands"
expect_exit 0 R convert "$T/disk.raw" "$T/h.vhd" --progress json --json
json_check "$RP_OUT" 'True' "convert: stdout is JSON"
tail -1 "$RP_ERR" | it_json_stdin 'd["event"] == "end" and d["label"] == "convert" and d["done"] == d["total"] > 0' >"$T/ok"
[ "$(cat "$T/ok")" = true ] || fail "convert: no end event: $(cat "$RP_ERR")"
expect_exit 0 R seal "$T/h.vhd" -o "$T/h.seal" --progress json
tail -1 "$RP_ERR" | it_json_stdin 'd["event"] == "end" and d["label"] == "seal" and d["done"] == d["total"] > 0' >"$T/ok"
[ "$(cat "$T/ok")" = true ] || fail "seal: no end event: $(cat "$RP_ERR")"
expect_exit 0 R verify "$T/h.vhd" --seal "$T/h.seal" --progress json --json
tail -1 "$RP_ERR" | it_json_stdin 'd["event"] == "end" and d["label"] == "verify" and d["done"] == d["total"] > 0' >"$T/ok"
[ "$(cat "$T/ok")" = true ] || fail "verify: no end event: $(cat "$RP_ERR")"
expect_exit 0 R verify --cacert "$RP_CACERT" "$URL" --seal "$T/h.seal" --progress json --limit-rate 4M --json
tail -1 "$RP_ERR" | it_json_stdin 'd["event"] == "end" and d["label"] == "verify" and d["done"] == d["total"] > 0' >"$T/ok"
[ "$(cat "$T/ok")" = true ] || fail "verify URL: no end event: $(cat "$RP_ERR")"
pass "convert, seal, verify (file and URL) end with a JSON event"

note "the last options --help lists are ones the parser knows"
# verify's table outgrew the parser's limit once: its last options were "unknown" while --help
# listed them.
mkdir -p "$T/cwd"
for cmd in restore verify stage upload preflight unwrap convert seal; do
	# the last options of the table are the ones a limit would cut
	R "$cmd" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9_-]+' | sed 's/.*--/--/' |
		grep -vx -- --help | tail -4 >"$T/opts"
	[ -s "$T/opts" ] || fail "$cmd --help lists no options"
	while read -r opt; do
		[ "$opt" = --help ] && continue
		(cd "$T/cwd" && timeout 20 "$CVMRESTORE" "$cmd" "$opt" x </dev/null >/dev/null 2>"$T/err") || true
		! grep -q "unknown option '$opt'" "$T/err" || fail "$cmd: $opt is in --help but unknown"
	done <"$T/opts"
done
pass "restore, verify, stage, upload, preflight, unwrap, convert, seal: the last listed options parse"

echo "PASS: $PASSED checks"
