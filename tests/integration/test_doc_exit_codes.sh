#!/bin/bash
# Every exit code a doc names for a case is the one the program gives (issue 10 point 22). Each
# row of the table below names a case, the doc that states its code (a docs/ page, or
# "help:CMD" for `cvmrestore help CMD`), the words of that doc that state it, the command that
# provokes the case, and the code. The test checks both halves: that the doc still says so
# (whitespace-insensitive; for docs/exit-codes.md, that the row carrying the case's test id is
# in the group of that code) and that the command exits with it. A doc changed without the code,
# or the code without the doc, fails here.
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
cd "$RP_TMP"
B=$CVMRESTORE
DOCS=$RP_SOURCE_DIR/docs

# ---- fixtures ----
head -c 1048576 /dev/urandom >disk.raw
printf '\0\0\0\0\0\0\0\0' | dd of=disk.raw conv=notrunc status=none
head -c 2097152 /dev/urandom >other.raw
printf '\0\0\0\0\0\0\0\0' | dd of=other.raw conv=notrunc status=none
"$B" seal -q other.raw -o other.seal.json
: >exists.vhd
: >empty.img
qemu-img convert -q -f raw -O qcow2 disk.raw c.qcow2
cp -r "$RP_SOURCE_DIR/testdata/sample-rp" rp
head -c "$(($(file_size rp/recovery-point.json) / 2))" rp/recovery-point.json >cut.json
head -c 32 /dev/urandom >aes256
openssl genrsa -out kek2048.pem 2048 2>/dev/null
head -c 384 /dev/urandom >wrapped384
echo '{}' >notreport.json
# A plain HTTP server of a 64 MiB blob that answers HEAD and small reads (the restore's probes)
# at once and trickles every other GET (one byte a second), writing "get" into the file got-get when
# such a GET arrives: a restore from it is then mid-transfer, with its partial output open.
"$PY" - >port <<'EOF' &
import http.server, socketserver, sys, time
SIZE = 64 << 20
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def head(self, code, length, extra=()):
        self.send_response(code)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", '"v1"')
        self.send_header("Last-Modified", "Sun, 06 Dec 2026 00:00:00 GMT")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
    def do_HEAD(self):
        self.head(200, SIZE)
    def do_GET(self):
        r = self.headers.get("Range", "bytes=0-%d" % (SIZE - 1))
        lo, hi = (int(x) for x in r.split("=")[1].split("-"))
        self.head(206, hi - lo + 1, [("Content-Range", "bytes %d-%d/%d" % (lo, hi, SIZE))])
        if hi - lo < 4096:
            # The probes (a VHD footer? a transport hash?) are answered at once.
            self.wfile.write(bytes(hi - lo + 1))
            return
        open("got-get", "w").write("get")
        try:
            for _ in range(hi - lo + 1):
                self.wfile.write(b"\0")
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
sys.stdout.close()
s.serve_forever()
EOF
SRV=$!
trap 'kill $SRV 2>/dev/null; rp_cleanup' EXIT
for _ in $(seq 50); do [ -s port ] && break; sleep 0.1; done
PORT=$(<port)

# interrupted CMD...: start CMD, wait until it is fetching from the server, SIGINT it
interrupted() {
	local pid rc=0
	rm -f got-get
	# A background job of a script starts with SIGINT ignored: give it back its default.
	"$PY" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
		"$@" >/dev/null 2>"$RP_TMP/int.err" &
	pid=$!
	for _ in $(seq 300); do
		[ -s got-get ] && break
		sleep 0.1
	done
	[ -s got-get ] || fail "the restore sent no GET within 30 s: $(cat "$RP_TMP/int.err")"
	kill -0 "$pid" 2>/dev/null || fail "the restore ended before it was interrupted"
	kill -INT "$pid"
	wait "$pid" || rc=$?
	return "$rc"
}

# ---- the table: id | code | doc | the doc's words | command ----
TABLE=$(
	cat <<'EOF'
seal-size | 1 | docs/exit-codes.md | | "$B" verify disk.raw --seal other.seal.json
seal-size | 1 | docs/seal.md | a verification failure (`RP_EVERIFY`, exit 1) | "$B" verify disk.raw --seal other.seal.json
unknown-option | 2 | docs/exit-codes.md | | "$B" verify --no-such-option disk.raw
out-exists | 2 | docs/exit-codes.md | | "$B" convert disk.raw exists.vhd
container | 3 | docs/exit-codes.md | | "$B" convert c.qcow2 out.vhd
container | 3 | docs/formats.md | refused, exit 3, naming the format | "$B" convert c.qcow2 out.vhd
empty-disk | 3 | docs/exit-codes.md | | "$B" verify empty.img
empty-disk | 3 | docs/formats.md | including an empty file: refused, exit 3 | "$B" inspect empty.img
descriptor-invalid | 3 | docs/exit-codes.md | | "$B" verify cut.json
descriptor-invalid | 3 | docs/recovery-point.md | refused with exit 3 if it is not a valid one | "$B" restore cut.json --disk osdisk -o r.vhd
wrapped-length-aes | 3 | docs/exit-codes.md | | "$B" unwrap --alg A256KW --kek-file aes256 --wrapped-b64 AAAAAAAAAAAAAAAAAAAAAAAAAAA -o k1
wrapped-length-aes | 3 | docs/keys.md | **3** for a wrapped key of impossible length | "$B" unwrap --alg A256KW --kek-file aes256 --wrapped-b64 AAAAAAAAAAAAAAAAAAAAAAAAAAA -o k1
wrapped-length-rsa | 3 | docs/exit-codes.md | | "$B" unwrap --alg RSA-OAEP --kek-file kek2048.pem --wrapped-b64 AAAAAAAAAAAAAA -o k2
wrapped-length-rsa | 3 | docs/keys.md | **3** for a wrapped key of impossible length | "$B" unwrap --alg RSA-OAEP --kek-file kek2048.pem --wrapped-b64 AAAAAAAAAAAAAA -o k2
wrapped-other-kek | 5 | docs/exit-codes.md | | "$B" unwrap --alg RSA-OAEP --kek-file kek2048.pem --wrapped-file wrapped384 -o k3
wrapped-other-kek | 5 | docs/keys.md | **5** when the KEK is not the one that wrapped the key | "$B" unwrap --alg RSA-OAEP --kek-file kek2048.pem --wrapped-file wrapped384 -o k3
report-unreadable | 4 | docs/exit-codes.md | | "$B" report no-such-report.json -o p1.html
report-unreadable | 4 | help:report | Exit 4 when REPORT.json cannot be read | "$B" report no-such-report.json -o p1.html
report-not-report | 3 | docs/exit-codes.md | | "$B" report notreport.json -o p2.html
report-not-report | 3 | help:report | 3 when REPORT.json is not a cvmrestore-report/1 document | "$B" report notreport.json -o p2.html
report-exists | 2 | help:report | 2 when REPORT.html exists | "$B" report notreport.json -o exists.vhd
interrupt-restore | 130 | docs/exit-codes.md | | interrupted "$B" restore --allow-http "http://127.0.0.1:$PORT/d.vhd" -o int.vhd
interrupt-restore | 130 | README.md | interrupted (SIGINT/SIGTERM): `restore` keeps `OUT.partial` | interrupted "$B" restore --allow-http "http://127.0.0.1:$PORT/d.vhd" -o int2.vhd
EOF
)

squash() { tr -s ' \t\n' ' '; }

doc_text() { # DOC: the doc's text, whitespace squashed
	case $1 in
	help:*) "$B" help "${1#help:}" | squash ;;
	*) squash <"$RP_SOURCE_DIR/$1" ;;
	esac
}

n=0
while IFS= read -r row; do
	[ -n "$row" ] || continue
	IFS='|' read -r id code doc words cmd <<<"$row"
	id=$(echo $id) code=$(echo $code) doc=$(echo $doc)
	words=${words# } words=${words% }
	cmd=${cmd# }
	if [ "$doc" = docs/exit-codes.md ]; then
		# The row whose last column carries the id must be in the group of the code.
		line=$(grep -E "^\| [0-9]+ \|.*\| ([a-z0-9-]+, )*$id(, [a-z0-9-]+)* \|$" "$DOCS/exit-codes.md") ||
			fail "$id: docs/exit-codes.md has no case row with test id '$id'"
		[[ $line == "| $code |"* ]] ||
			fail "$id: docs/exit-codes.md puts it under another code than $code: $line"
	else
		doc_text "$doc" | grep -qF -- "$(squash <<<"$words" | sed 's/ $//')" ||
			fail "$id: $doc no longer says '$words'"
	fi
	got=0
	eval "$cmd" >"$RP_OUT" 2>"$RP_ERR" || got=$?
	[ "$got" = "$code" ] || fail "$id: $doc says exit $code, '$cmd' gives $got"
	n=$((n + 1))
done <<<"$TABLE"
[ "$n" -ge 20 ] || fail "only $n rows ran"
# The interrupted restore left no OUT, and kept its partial output and journal (what
# docs/exit-codes.md says of restore).
[ ! -e int.vhd ] || fail "an interrupted restore created OUT"
[ -e int.vhd.partial ] && [ -e int.vhd.journal ] || fail "an interrupted restore removed its partial or journal"
echo "-- ok: $n doc statements agree with the exit codes"
