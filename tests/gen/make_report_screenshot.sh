#!/bin/bash
# Make docs/report-sample.png: the HTML report (docs/report-html.md) of the bundled sample
# recovery point, verified against its seal, as headless Chromium shows it at 1200x1600.
#
#     tests/gen/make_report_screenshot.sh build/cvmrestore [OUT.png]
#
# Needs chromium (Debian package). The case metadata is made up for the picture.
set -euo pipefail
cvmrestore=$(realpath "${1:?usage: $0 path/to/cvmrestore [OUT.png]}")
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$here/docs/report-sample.png}
sample=$here/testdata/sample-rp
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rc=0
"$cvmrestore" verify "$sample/os-disk.vhd" --seal "$sample/os-disk.seal.json" --json -q \
	--evidence --hash-window 4M --case-id CASE-2026-0042 --evidence-id "EV-7 (os-disk.vhd)" \
	--examiner "A. Examiner" --notes "Sample recovery point, verified against its seal." \
	>"$tmp/report.json" || rc=$?
[ "$rc" = 0 ] || { echo "verify failed (exit $rc)" >&2; exit 1; }
# The source as a reader would pass it, not this machine's checkout path.
/usr/bin/python3 - "$tmp/report.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["source"]["display"] = "testdata/sample-rp/os-disk.vhd"
json.dump(d, open(sys.argv[1], "w"), indent=1)
PYEOF
"$cvmrestore" report "$tmp/report.json" -o "$tmp/report.html"
timeout 120 chromium --headless=new --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" \
	--enable-logging=stderr --v=0 --hide-scrollbars --screenshot="$tmp/report.png" \
	--window-size=1200,1600 "file://$tmp/report.html" >/dev/null 2>"$tmp/chromium.err" || {
	tail -5 "$tmp/chromium.err" >&2
	exit 1
}
if grep -E ':CONSOLE[:(]|Uncaught|Content Security Policy' "$tmp/chromium.err" >&2; then
	echo "the page logged errors" >&2
	exit 1
fi
[ "$(head -c 8 "$tmp/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || {
	echo "chromium wrote no PNG" >&2
	exit 1
}
cp "$tmp/report.png" "$out"
echo "wrote $out"
