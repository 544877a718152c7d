#!/bin/bash
# No SAS in any output, whatever the position (issue 10, point 10): every command that
# `cvmrestore help` lists is run with a SAS URL that carries a unique marker signature (and a
# password marker in its user info) in every positional argument and as the value of every option
# that takes one (the options are read from each command's --help, so a new option is covered
# the day it is added), once as a good URL of a local nginx and once in typo'd or odd forms
# ("htps://", "https:/", a leading space, a missing blob, a local path with a query). Every
# stdout, stderr and file the runs leave is searched for the markers: none may appear. The search
# is first shown to find a planted marker.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
RUN=$T/run
C=$CVMRESTORE
S=$RP_SOURCE_DIR/testdata/sample-rp
MIB=1048576
PASSED=0
pass() { PASSED=$((PASSED + 1)); echo "-- ok ($SECONDS s): $*"; }
mkdir -p "$RUN" "$T/www"

# the markers: a signature and a password nobody else would print
SIG=Zq$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')sIg
PW=Pw$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')pW
Q="sv=2021-08-06&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=$SIG"

# inputs: a small VHD served by nginx, its seal, a report, descriptors (one with a SAS source)
it_make_raw "$T/disk.raw" $((4 * MIB)) 0 3
"$C" convert -q "$T/disk.raw" "$T/www/disk.vhd" || fail "convert"
"$C" seal -q "$T/www/disk.vhd" -o "$T/seal.json" --chunk-size 1M || fail "seal"
"$C" verify -q "$T/www/disk.vhd" --seal "$T/seal.json" --json >"$T/report.json" || fail "verify"
nginx_start "$T/www"
P=$NGINX_PORT
GOOD="https://127.0.0.1:$P/disk.vhd?$Q"
/usr/bin/python3 - "$S/recovery-point.json" "$T/rp-url.json" "$GOOD" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["disks"][0]["source"] = sys.argv[3]
d["disks"][0].pop("seal", None)
json.dump(d, open(sys.argv[2], "w"), indent=2)
EOF
grep -qF "$SIG" "$T/rp-url.json" || fail "the descriptor holds no SAS"
cp "$S/recovery-point.json" "$S/os-disk.vhd" "$T/"

# the URL forms that take the place of a path or URL
VARIANTS=(
	"$GOOD"
	"https://127.0.0.1:$P/missing.vhd?$Q"
	"htps://127.0.0.1:$P/disk.vhd?$Q"
	"https:/127.0.0.1:$P/disk.vhd?$Q"
	" https://127.0.0.1:$P/disk.vhd?$Q"
	"https://user:$PW@127.0.0.1:$P/disk.vhd?$Q"
	"https:/user:$PW@127.0.0.1:$P/disk.vhd?$Q"
	"disk.vhd?$Q"
)
# the forms used for the options (each option is run with each of these)
OPTVARIANTS=("$GOOD" "htps://user:$PW@127.0.0.1:$P/disk.vhd?$Q")

# The base run of each command: a working invocation; a word that is a path or URL is marked with
# a leading '%' (it is replaced by each variant in turn, and by itself, unmarked, otherwise).
NET=(--cacert "$RP_CACERT" --retries 0 --retry-base-ms 1)
declare -A BASE=(
	[restore]="%$GOOD -o %out.vhd --report %report.json ${NET[*]}"
	[preflight]="%$GOOD ${NET[*]}"
	[inspect]="%$T/www/disk.vhd"
	[convert]="%$T/www/disk.vhd %out.vhd"
	[seal]="%$T/www/disk.vhd -o %seal.json"
	[verify]="%$GOOD --seal %$T/seal.json --audit-log %audit.log ${NET[*]}"
	[rp]="show %$T/rp-url.json"
	[stage]="%$T/recovery-point.json --out-dir %staged"
	[upload]="%$T/www/disk.vhd %$GOOD ${NET[*]}"
	[report]="%$T/report.json -o %report.html"
	[luks]="%$T/os-disk.vhd --passphrase-file %$S/passphrase.txt"
	[unwrap]="--cacert $RP_CACERT --alg RSA-OAEP-256 --kek-file %$S/kek.pem --wrapped-file %$S/luks-passphrase.wrapped -o %key.bin"
)
# the base words must not hold a space: $GOOD, $T and $S have none
case "$GOOD$T$S$RP_CACERT" in *" "*) fail "a path holds a space: the base runs would split it" ;; esac

N=0
# run WORDS...: run cvmrestore in a fresh directory under $RUN; the exit code must be one that
# docs/exit-codes.md lists (no crash); stdout and stderr are kept beside the files it wrote
run()
{
	local rc=0 d
	N=$((N + 1))
	d=$RUN/$N
	mkdir -p "$d"
	printf '%s\n' "$@" >"$T/args.$N" # kept outside $RUN: it holds the markers
	local t0=$SECONDS
	(cd "$d" && timeout 120 "$C" "$@" >"$d/stdout" 2>"$d/stderr") || rc=$?
	[ $((SECONDS - t0)) -lt 5 ] || echo "   (run $N took $((SECONDS - t0)) s: $1 ...)"
	case $rc in
	0 | 1 | 2 | 3 | 4 | 5) ;;
	*) RP_ERR=$d/stderr fail "run $N exited $rc: $(tr '\n' ' ' <"$T/args.$N")" ;;
	esac
}

# words CMD SLOT VALUE: the base words of CMD, one per line, with the SLOT-th marked word (1..)
# replaced by VALUE (SLOT 0: none) and the marks removed
words()
{
	local i=0 w
	for w in ${BASE[$1]}; do
		if [ "${w:0:1}" = % ]; then
			i=$((i + 1))
			if [ "$i" = "$2" ]; then
				printf '%s\n' "$3"
				continue
			fi
			w=${w:1}
		fi
		printf '%s\n' "$w"
	done
}

# options CMD: the options of CMD that take a value, "--name METAVAR" a line, from its --help (an
# option's value follows its name after one space; a flag's help after several). Left out: the
# options whose value is a name or a note that the outputs record as given (NAME, ID, TEXT, the
# ARM names of stage): they are not paths or URLs, and a user who types a SAS there asks for it.
options()
{
	"$C" "$1" --help | sed -nE 's/^ +(-[A-Za-z], )?(--[a-z0-9_-]+) ([^ ]+) .*/\2 \3/p' |
		grep -vE ' (NAME|ID|TEXT|RG|LOC|P|Z|SKU|REGION|TYPE)$'
}

note "commands from 'cvmrestore help'"
CMDS=$("$C" help | sed -nE '/^commands:/,/^$/s/^  ([a-z]+) .*/\1/p')
[ "$(echo "$CMDS" | wc -l)" -ge 12 ] || fail "fewer than 12 commands in help: $CMDS"
for cmd in $CMDS; do
	[ -n "${BASE[$cmd]:-}" ] || fail "command '$cmd' has no base run in this test: add one"
done
pass "$(echo $CMDS | wc -w) commands: $(echo $CMDS)"

runs_before=0
for cmd in $CMDS; do
	runs_before=$N
	mapfile -t base < <(words "$cmd" 0 "")
	run "$cmd" "${base[@]}"
	# each marked position, with each variant (and with --json, where the command has it: the
	# JSON documents carry the error messages)
	slots=$(tr ' ' '\n' <<<"${BASE[$cmd]}" | grep -c '^%' || true)
	json=()
	"$C" "$cmd" --help | grep -q -- '--json ' && json=(--json)
	for ((s = 1; s <= slots; s++)); do
		for v in "${VARIANTS[@]}"; do
			mapfile -t w < <(words "$cmd" "$s" "$v")
			run "$cmd" "${w[@]}"
			[ ${#json[@]} = 0 ] || run "$cmd" "${w[@]}" "${json[@]}"
		done
	done
	# each option that takes a value, added to (or replacing its value in) the base run; the
	# --opt=VALUE form for the first option and each one whose value is a URL (cli_parse splits
	# it alike for every option, and expands a URL option's value in place: its own path)
	nopt=0
	while read -r opt meta; do
		nopt=$((nopt + 1))
		for v in "${OPTVARIANTS[@]}"; do
			run "$cmd" "${base[@]}" "$opt" "$v"
		done
		[ "$nopt" != 1 ] && [[ $meta != *URL* ]] || run "$cmd" "${base[@]}" "$opt=$GOOD"
	done < <(options "$cmd")
	[ "$nopt" -gt 0 ] || [ "$cmd" = inspect ] || fail "no option with a value found for $cmd"
	echo "   $cmd: $((N - runs_before)) runs, $slots positions, $nopt options"
done
# the argument forms that are not options of a command
run "$GOOD"
run help "$GOOD"
run rp "$GOOD"
pass "$N runs"

# every path or URL reached a message: the runs did print something about them
grep -rqF "127.0.0.1:$P/missing.vhd" "$RUN" || fail "no message names the missing blob"
grep -rqF "htps://127.0.0.1:$P/disk.vhd" "$RUN" || fail "no message names the typo'd URL"

note "search every output for the markers"
# scan DIR: print each file under DIR that holds a marker (signature or password, raw or
# percent-encoded); fails if there is one
scan()
{
	grep -rlF -e "$SIG" -e "$PW" "$1" && return 1
	return 0
}
files=$(find "$RUN" -type f | wc -l)
if ! scan "$RUN" >"$T/leaks"; then
	while read -r f; do
		n=${f#"$RUN"/}
		n=${n%%/*}
		echo "LEAK in $f (run $n: $(tr '\n' ' ' <"$T/args.$n"))" >&2
		grep -F -e "$SIG" -e "$PW" "$f" | head -3 | sed 's/^/    /' >&2
	done <"$T/leaks"
	fail "$(wc -l <"$T/leaks") files hold a marker"
fi
pass "no marker in any of $files files (stdout, stderr, outputs, journals, reports)"
mkdir -p "$T/control"
echo "x $SIG y" >"$T/control/planted"
! scan "$T/control" >/dev/null || fail "the search misses a planted marker"
pass "the search finds a planted marker"

echo "test_secrets_everywhere: $PASSED passed, 0 failed"
