#!/bin/bash
# Malformed inputs (testdata/bad, made by make-bad.py): every line of testdata/bad/expect.tsv is
# run and must give its exit code and one stderr line "cvmrestore: <command>: ..." naming the
# field; a failed convert leaves no file behind. Checksum-only defects must become readable with
# --ignore-checksums (and still be listed as checksum problems); structural ones must not.
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
BAD=$RP_SOURCE_DIR/testdata/bad
MANIFEST=$BAD/expect.tsv
cd "$BAD"
shopt -s nullglob
CONV=$RP_TMP/conv # convert and seal output directory, emptied before each of them
mkdir "$CONV"

run_case() { # WANT_EXIT COMMAND INPUT ARGS...: run one cvmrestore command, output into $CONV
	local want=$1 cmd=$2 input=$3
	shift 3
	case $cmd in convert | seal) rm -rf "$CONV" && mkdir "$CONV" ;; esac
	case $cmd in
	convert) expect_exit "$want" "$CVMRESTORE" convert "$input" "$CONV/out" "$@" ;;
	seal) expect_exit "$want" "$CVMRESTORE" seal "$input" -o "$CONV/out.json" "$@" ;;
	inspect | verify) expect_exit "$want" "$CVMRESTORE" "$cmd" "$input" "$@" ;;
	*) fail "expect.tsv: unknown command '$cmd'" ;;
	esac
}

check_failure() { # COMMAND SUBSTRING: the error line, and no output left behind
	local f msg left
	expect_one_error_line "cvmrestore: $1: "
	# The substring must come from the message, not from a file name in it ("loop" is in
	# vhd-diff-parent-loop.vhd): look for it with the names of the case's files cut out.
	msg=$(<"$RP_ERR")
	for f in "$input" "${A[@]}"; do
		[ -e "$f" ] && msg=${msg//"$f"/<file>}
	done
	[[ ${msg,,} == *"${2,,}"* ]] || fail "stderr lacks '$2' (outside file names)"
	case $1 in
	convert | seal)
		left=("$CONV"/* "$CONV"/.[!.]*)
		[ ${#left[@]} = 0 ] || fail "$1 left files behind: ${left[*]}"
		;;
	esac
}

n=0
listed=" "
while IFS=$'\t' read -r input cmd args code text kind rest; do
	case $input in '#'* | '') continue ;; esac
	[ -n "$kind" ] && [ -z "$rest" ] || fail "expect.tsv: malformed line for '$input'"
	[ -e "$input" ] || fail "expect.tsv: '$input' does not exist"
	A=()
	[ "$args" = - ] || read -r -a A <<<"$args"
	PA=() # the --parent options of A, for the inspect runs
	for ((i = 0; i < ${#A[@]}; i++)); do
		if [ "${A[i]}" = --parent ]; then PA+=(--parent "${A[i + 1]}"); fi
	done
	listed+="$input $args "
	n=$((n + 1))
	echo "-- $cmd $input ${A[*]} -> $code ($kind)"

	run_case "$code" "$cmd" "$input" "${A[@]}"
	if [ "$code" != 0 ]; then
		check_failure "$cmd" "$text"
	fi

	case $kind in
	ok)
		[ "$code" = 0 ] || fail "expect.tsv: control case '$input' must expect exit 0"
		;;
	bounds)
		# Ignoring checksums must not get past a structural defect.
		run_case "$code" "$cmd" "$input" "${A[@]}" --ignore-checksums
		check_failure "$cmd" "$text"
		;;
	checksum)
		[ "$code" = 3 ] || fail "expect.tsv: checksum case '$input' must expect exit 3"
		run_case 0 "$cmd" "$input" "${A[@]}" --ignore-checksums
		if [ "$cmd" = convert ]; then
			[ -s "$CONV/out" ] || fail "convert --ignore-checksums wrote no output"
		fi
		expect_exit 0 "$CVMRESTORE" inspect "$input" "${PA[@]}" --ignore-checksums --json
		cp "$RP_OUT" "$RP_TMP/inspect.json"
		json_check "$RP_TMP/inspect.json" 'd["readable"] is True' \
			"$input is not readable with --ignore-checksums"
		json_check "$RP_TMP/inspect.json" \
			"any(p['checksum'] is True and '$text'.lower() in p['message'].lower()
			     for p in d['problems'])" \
			"$input: no checksum problem naming '$text' in inspect --json problems"
		;;
	checksum-nonfatal)
		[ "$code" = 0 ] || fail "expect.tsv: '$input' (checksum-nonfatal) must expect exit 0"
		for ign in "" --ignore-checksums; do
			expect_exit 0 "$CVMRESTORE" inspect "$input" "${PA[@]}" $ign --json
			cp "$RP_OUT" "$RP_TMP/inspect.json"
			json_check "$RP_TMP/inspect.json" \
				"any(p['checksum'] is True and '$text'.lower() in p['message'].lower()
				     for p in d['problems'])" \
				"$input: no checksum problem naming '$text' in inspect --json problems"
		done
		;;
	*) fail "expect.tsv: unknown kind '$kind'" ;;
	esac
done <"$MANIFEST"
[ "$n" -ge 20 ] || fail "expect.tsv has only $n cases"

# Every fixture is exercised by some line (as the input or as an argument).
for f in *; do
	case $f in make-bad.py | expect.tsv | README*) continue ;; esac
	case $listed in *" $f "*) ;; *) fail "$f is in testdata/bad but not in expect.tsv" ;; esac
done
note "ok: $n cases"
