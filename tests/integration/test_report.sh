#!/bin/bash
# cvmrestore report (docs/report-html.md): a real verify report of an image with one corrupt
# chunk is rendered; headless Chromium loads the page with no console error, no CSP violation and
# no uncaught exception (the check is first shown to catch a deliberately broken page), the DOM
# has exactly one mismatch cell, at the injected chunk, and the user's notes as text, not markup;
# a screenshot is a PNG. A report of two million chunks is aggregated to <= 20000 cells. Errors:
# unreadable report 2, not a report 3 (without quoting it), existing output 2 unless --force;
# the page is written whole (no temporary left) with mode 0644.
set -euo pipefail
: "${CVMRESTORE:?set CVMRESTORE to the cvmrestore binary}"
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"

rp_tmpdir
T=$RP_TMP
C=$CVMRESTORE
MIB=1048576
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "$CHROMIUM is missing (Debian package chromium; make deps)"
INJECT='<script>alert(1)</script> "double" '"'single'"' & more'

# chromium_load HTML NAME: load file://HTML headless; the DOM goes to $T/NAME.dom, stderr (the
# browser's log, where console messages appear as "INFO:CONSOLE") to $T/NAME.err
chromium_load()
{
	timeout 120 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu \
		--user-data-dir="$T/profile" --enable-logging=stderr --v=0 \
		--dump-dom "file://$1" >"$T/$2.dom" 2>"$T/$2.err" ||
		fail "chromium failed on $1: $(grep -v dbus "$T/$2.err" | tail -5)"
	[ -s "$T/$2.dom" ] || fail "chromium dumped no DOM for $1"
}

# page_errors NAME: print the console messages, uncaught exceptions and CSP violations that
# chromium logged (nothing for a clean page). A console line looks like
#   [123:123:1128/131519.602659:INFO:CONSOLE:1] "Uncaught ReferenceError: f is not defined", ...
# (newer versions write CONSOLE(1)); the page runs no script, so any console line is an error.
page_errors()
{
	grep -E ':CONSOLE[:(]|Uncaught|Content Security Policy|Refused to' "$T/$1.err" || true
}

# dom_mismatch_cells NAME: the data-chunk of every element with class "mismatch", one a line
dom_mismatch_cells()
{
	"$PY" - "$T/$1.dom" <<'EOF'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "mismatch" in (a.get("class") or "").split():
            print(a.get("data-chunk"))
P().feed(open(sys.argv[1]).read())
EOF
}

# dom_count NAME TAG CLASS: the number of TAG elements of class CLASS (any tag if TAG is "*")
dom_count()
{
	"$PY" - "$T/$1.dom" "$2" "$3" <<'EOF'
import sys
from html.parser import HTMLParser
n = 0
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        global n
        if sys.argv[2] in ("*", tag) and (sys.argv[3] == "*" or
                                          sys.argv[3] in (dict(attrs).get("class") or "").split()):
            n += 1
P().feed(open(sys.argv[1]).read())
print(n)
EOF
}

# the checker catches a broken page ----------------------------------------------------------
cat >"$T/broken.html" <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy"
content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
</head><body><p>broken</p><script>undefinedFunction();</script>
<img src="https://example.invalid/x.png"></body></html>
EOF
chromium_load "$T/broken.html" broken
page_errors broken | grep -q 'Uncaught ReferenceError' ||
	fail "the console check misses an uncaught exception: $(grep CONSOLE "$T/broken.err")"
page_errors broken | grep -q 'Content Security Policy' ||
	fail "the console check misses a CSP violation: $(grep CONSOLE "$T/broken.err")"
pass "a broken page is caught: $(page_errors broken | wc -l) console lines"

# a real report: 24 MiB, 1 MiB chunks, chunk 13 corrupted after the seal ----------------------
it_make_raw "$T/disk.raw" $((24 * MIB)) 0 1 2 5 13 20
expect_exit 0 "$C" seal "$T/disk.raw" -o "$T/disk.seal.json" --chunk-size 1M --digests sha256 -q
it_flip_byte "$T/disk.raw" $((13 * MIB + 4321))
expect_exit 1 "$C" verify "$T/disk.raw" --seal "$T/disk.seal.json" --json -q --evidence \
	--hash-window 4M --case-id CASE-42 --evidence-id EV-7 --examiner "O'Brien" --notes "$INJECT"
cp "$RP_OUT" "$T/report.json"
json_check "$T/report.json" 'd["schema"] == "cvmrestore-report/1"' "not a report"
json_check "$T/report.json" 'd["disks"][0]["chunk_map"][13] == "X"' "chunk 13 is not mismatched"
json_check "$T/report.json" 'd["disks"][0]["chunk_map"].count("X") == 1' "more than one mismatch"

expect_exit 0 "$C" report "$T/report.json" -o "$T/report.html"
[ ! -s "$RP_ERR" ] || fail "report wrote to stderr: $(cat "$RP_ERR")"
[ "$(stat -c %a "$T/report.html")" = 644 ] || fail "mode $(stat -c %a "$T/report.html"), want 644"
[ -z "$(find "$T" -maxdepth 1 -name 'report.html.tmp*')" ] || fail "a temporary file is left"
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt; &quot;double&quot; &#39;single&#39; &amp; more' \
	"$T/report.html" || fail "the notes are not in the page, escaped"
! grep -qi '<script' "$T/report.html" || fail "the page holds a script element"
grep -qF "content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'none'; img-src data:\"" \
	"$T/report.html" || fail "no Content-Security-Policy with script-src 'none'"
! grep -qiE 'https?://|src=|href=|url\(' "$T/report.html" || fail "the page refers to the network"
pass "report.html written: $(file_size "$T/report.html") bytes, mode 644, notes escaped"

chromium_load "$T/report.html" report
[ -z "$(page_errors report)" ] || fail "console errors on the report page: $(page_errors report)"
cells=$(dom_mismatch_cells report)
[ "$cells" = 13 ] || fail "mismatch cells in the DOM: '$cells', want exactly chunk 13"
[ "$(dom_count report i '*' | head -1)" -ge 24 ] || fail "the grid has fewer than 24 cells"
[ "$(dom_count report script '*')" = 0 ] || fail "the DOM has a script element"
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/report.dom" ||
	fail "the notes are not text in the DOM"
grep -qF 'title="chunk 13 at offset 13631488 (0xd00000): mismatched"' "$T/report.dom" ||
	fail "the mismatch cell has no title with its offset"
grep -q 'class="verdict v-fail"' "$T/report.dom" || fail "no failed verdict"
grep -qF '<details><summary>Hash windows: 6 SHA-256 digests' "$T/report.dom" ||
	fail "no collapsed hash windows"
grep -qF '>O&#39;Brien<' "$T/report.html" || fail "the examiner is not in the page"
pass "chromium: no console errors, one mismatch cell at chunk 13"

# the page's own CSP stops a script that got into it: an inline script spliced into a copy of the
# report must not run (it would mark the body) and chromium must log the refusal
sed 's|<body>|<body><script>document.body.setAttribute("data-ran","1")</script>|' \
	"$T/report.html" >"$T/injected.html"
grep -qF '<script>document.body' "$T/injected.html" || fail "the script was not spliced in"
chromium_load "$T/injected.html" injected
! grep -qF 'data-ran="1"' "$T/injected.dom" || fail "an inline script ran under the report's CSP"
page_errors injected | grep -q 'Content Security Policy' ||
	fail "chromium logged no CSP refusal of the inline script: $(grep CONSOLE "$T/injected.err")"
pass "the report's CSP refuses an inline script spliced into the page"

timeout 120 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --user-data-dir="$T/profile" \
	--enable-logging=stderr --v=0 --screenshot="$T/report.png" --window-size=1200,1600 \
	"file://$T/report.html" >/dev/null 2>"$T/shot.err" || fail "chromium --screenshot failed"
[ "$(head -c 8 "$T/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "the screenshot is not a PNG"
pass "screenshot: $(file_size "$T/report.png") bytes of PNG"

# a passing report of the same disk renders PASS
"$PY" - "$T/report.json" "$T/pass.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["verdict"], d["exit_code"] = "pass", 0
k = d["disks"][0]
k["verdict"], k["mismatches"], k["reasons"] = "pass", [], []
k["chunk_map"] = k["chunk_map"].replace("X", "v")
json.dump(d, open(sys.argv[2], "w"))
EOF
expect_exit 0 "$C" report "$T/pass.json" -o "$T/pass.html"
grep -q 'class="verdict v-pass"' "$T/pass.html" || fail "no PASS verdict"
! grep -q 'mismatch"' "$T/pass.html" || fail "a passing report has a mismatch cell"
pass "a passing report shows PASS and no mismatch cell"

# two million chunks: aggregated, and still one mismatch cell ---------------------------------
"$PY" - "$T/big.json" <<'EOF'
import json, sys
n = 2000000
m = bytearray(b"v" * (n // 2) + b"." * (n // 2))
m[1234567] = ord("X")
m[10:20] = b"-" * 10
json.dump({"schema": "cvmrestore-report/1", "verdict": "fail", "disks": [
    {"name": "big", "chunk_size": 4194304, "chunks_total": n, "chunk_map": m.decode()}]},
    open(sys.argv[1], "w"))
EOF
expect_exit 0 "$C" report "$T/big.json" -o "$T/big.html"
grep -qF 'Aggregated: each cell stands for 100 chunks' "$T/big.html" || fail "no aggregation note"
chromium_load "$T/big.html" big
[ -z "$(page_errors big)" ] || fail "console errors on the big page: $(page_errors big)"
[ "$(dom_mismatch_cells big)" = 1234500-1234599 ] || fail "big: mismatch cell '$(dom_mismatch_cells big)'"
n=$(dom_count big i s-v)
[ "$n" -le 20000 ] && [ "$n" -ge 9000 ] || fail "big: $n verified cells"
[ "$(dom_count big i s-u)" -ge 1 ] || fail "big: the unchecked chunks are not shown"
pass "2000000 chunks in 20000 cells, mismatch cell 1234500-1234599"

# errors ---------------------------------------------------------------------------------------
it_expect_error 4 "$C" report "$T/none.json" -o "$T/x.html"
expect_stderr_has "'$T/none.json'"
it_expect_error 4 "$C" report "$T" -o "$T/x.html"
expect_stderr_has "not a regular file"
it_expect_error 2 "$C" report "$T/report.json"
expect_stderr_has "-o REPORT.html is required"
it_expect_error 2 "$C" report -o "$T/x.html"
echo '{"schema": "cvmrestore-report/1", "verdict": ' >"$T/notjson.json"
it_expect_error 3 "$C" report "$T/notjson.json" -o "$T/x.html"
expect_stderr_has "invalid JSON at line"
echo '{"schema": "secret-marker-7f3a", "verdict": "pass"}' >"$T/schema.json"
it_expect_error 3 "$C" report "$T/schema.json" -o "$T/x.html"
expect_stderr_has 'schema: unsupported (want "cvmrestore-report/1")'
! grep -q secret-marker "$RP_ERR" || fail "the message quotes the input"
echo '{"schema": "cvmrestore-report/1", "verdict": "pass", "disks": [{"chunk_map": "v?v"}]}' \
	>"$T/map.json"
it_expect_error 3 "$C" report "$T/map.json" -o "$T/x.html"
expect_stderr_has "disks[0].chunk_map: chunk 1 has an unknown state"
[ ! -e "$T/x.html" ] || fail "a failed report left an output"
pass "unreadable report 2, malformed report 3, nothing written"

echo keep >"$T/exists.html"
it_expect_error 2 "$C" report "$T/report.json" -o "$T/exists.html"
expect_stderr_has "exists; use --force to replace it"
[ "$(cat "$T/exists.html")" = keep ] || fail "an existing output was changed"
expect_exit 0 "$C" report "$T/report.json" -o "$T/exists.html" --force
cmp -s "$T/exists.html" "$T/report.html" || fail "--force did not replace the output"
it_expect_error 4 "$C" report "$T/report.json" -o "$T/no/such/dir/r.html"
[ -z "$(find "$T" -name '*.tmp-*')" ] || fail "a temporary file is left"
pass "an existing output is kept unless --force; an unwritable one is exit 4"
echo "ok: $PASSED checks"
