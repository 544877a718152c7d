#!/bin/bash
# cmake --install and cpack -G DEB (issue 14): the installed binary runs and --version names its
# commit and libraries; there is a man page per command that names every option the command's
# --help lists (rendered by man -l); the bash completion offers every command and every option
# and the zsh one names them; the docs and examples are installed; the Debian package's Depends
# (from dpkg-shlibdeps) name the runtime libraries. The options are read here from --help
# directly, not through man/help2roff.awk, so a parser fault there fails this test.
set -euo pipefail
: "${CVMRESTORE:?set CVMRESTORE to the cvmrestore binary}"
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"

rp_tmpdir
T=$RP_TMP
P=$T/prefix
export LC_ALL=C MANWIDTH=200

cmake --install "$RP_BUILD_DIR" --prefix "$P" >"$T/install.log" || fail "cmake --install failed"
C=$P/bin/cvmrestore
[ -x "$C" ] || fail "no $C"

# --version ---------------------------------------------------------------------------------
expect_exit 0 "$C" --version
grep -Eq '^cvmrestore [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]{7,}(-modified)?\)$' "$RP_OUT" ||
	fail "--version first line: $(head -n 1 "$RP_OUT")"
for lib in libcurl OpenSSL libvhdi libcryptsetup jansson expat zlib; do
	grep -Eq "^  $lib +[0-9]" "$RP_OUT" || fail "--version lacks $lib: $(cat "$RP_OUT")"
done
expect_exit 0 "$C" --version --json
json_check "$RP_OUT" 'len(d["libraries"]) == 7 and d["libraries"]["libcryptsetup"]["build_time"] and not d["libraries"]["zlib"]["build_time"]' \
	"--version --json"
# the loaded zlib is the one zlib reports to Python's zlib module (the same shared library)
zv=$("$PY" -c 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)')
json_check "$RP_OUT" "d['libraries']['zlib']['version'] == '$zv'" "zlib version is not $zv"
expect_exit 2 "$C" --version --yaml
expect_one_error_line "cvmrestore: --version takes only --json"
pass "--version"

# options COMMAND: the long and short options `help COMMAND` lists, one a line
options()
{
	"$C" help "$1" | grep -E '^  (-[^-], |    )--' | sed -E 's/^  (-[^-]), /\1\n    /' |
		grep -oE '^(-[^-]| *--[a-z0-9_-]+)' | sed 's/^ *//'
}
commands=$("$C" --help | sed -n '/^commands:$/,/^$/p' | grep -E '^  [a-z]' | awk '{print $1}')
[ "$(echo "$commands" | wc -l)" -ge 12 ] || fail "--help lists too few commands: $commands"
[ "$(options restore | grep -c -- '^--')" -ge 30 ] || fail "too few options of restore"

# man pages ------------------------------------------------------------------------------------
M=$P/share/man/man1
render()
{
	man -l "$1" >"$T/man.txt" 2>"$T/man.err" || fail "man -l $1 failed: $(cat "$T/man.err")"
	[ ! -s "$T/man.err" ] || fail "man -l $1 warns: $(cat "$T/man.err")"
}
render "$M/cvmrestore.1"
for cmd in $commands; do
	grep -Eq "^ +$cmd( |\$)" "$T/man.txt" || fail "cvmrestore(1) lacks command $cmd"
	grep -q "cvmrestore-$cmd(1)" "$T/man.txt" || fail "cvmrestore(1) does not refer to cvmrestore-$cmd(1)"
done
n=0
for cmd in $commands; do
	[ -f "$M/cvmrestore-$cmd.1" ] || fail "no man page cvmrestore-$cmd.1"
	render "$M/cvmrestore-$cmd.1"
	grep -q "^NAME" "$T/man.txt" && grep -q "^OPTIONS" "$T/man.txt" && grep -q "^EXIT STATUS" "$T/man.txt" ||
		fail "cvmrestore-$cmd(1) lacks a section"
	tr -s ' ,' '\n\n' <"$T/man.txt" | sort -u >"$T/man.words"
	missing=$(options "$cmd" | grep -Fxv -f "$T/man.words" || true)
	[ -z "$missing" ] || fail "cvmrestore-$cmd(1) lacks" $missing
	n=$((n + $(options "$cmd" | wc -l)))
done
pass "man pages: $n options of $(echo $commands | wc -w) commands"

# completions ----------------------------------------------------------------------------------
B=$P/share/bash-completion/completions/cvmrestore
Z=$P/share/zsh/vendor-completions/_cvmrestore
bash -n "$B" || fail "bash completion does not parse"
zsh -n "$Z" || fail "zsh completion does not parse"
mkdir -p "$T/c/dir.d"
: >"$T/c/file.f"
# complete_words WORD...: the bash completion's words for the command line "cvmrestore WORD..."
# (the last word is the one being completed, in a folder with dir.d/ and file.f), one a line
complete_words()
{
	(
		cd "$T/c"
		# shellcheck disable=SC1090
		. "$B"
		complete -p cvmrestore | grep -q -- '-F _cvmrestore' || exit 9
		COMP_WORDS=(cvmrestore "$@")
		COMP_CWORD=$#
		_cvmrestore
		printf '%s\n' "${COMPREPLY[@]}"
	) || fail "the bash completion is not registered"
}
got=$(complete_words '')
for cmd in $commands help --help --version; do
	grep -qx -- "$cmd" <<<"$got" || fail "bash completion of a command lacks $cmd"
done
[ "$(complete_words he)" = help ] || fail "bash completion of 'he' is not 'help'"
n=0
for cmd in $commands; do
	complete_words "$cmd" - >"$T/bash.words"
	missing=$(options "$cmd" | grep -Fxv -f "$T/bash.words" || true)
	[ -z "$missing" ] || fail "bash completion of '$cmd -' lacks" $missing
	# zsh: the command's _arguments specs, '--long[...' or {-s,--long}'[...'
	sed -n "/^\t$cmd)\$/,/^\t\t;;\$/p" "$Z" | grep -oE -- "--[a-z0-9_-]+(\[|\})" |
		tr -d '[}' >"$T/zsh.words"
	missing=$(options "$cmd" | grep -- '^--' | grep -Fxv -f "$T/zsh.words" || true)
	[ -z "$missing" ] || fail "zsh completion of $cmd lacks" $missing
	n=$((n + $(options "$cmd" | wc -l)))
done
[ "$(complete_words restore --out-dir '')" = dir.d ] || fail "--out-dir does not complete directories"
[ "$(complete_words restore --format '')" = "$(printf 'vhd\nraw')" ] || fail "--format does not complete its values"
[ "$(complete_words verify --seal file)" = file.f ] || fail "--seal does not complete files"
[ -z "$(complete_words verify --threads '')" ] || fail "--threads N completes something"
pass "completions: $n options"

# docs and examples ------------------------------------------------------------------------------
D=$P/share/doc/cvmrestore
for f in README.md LICENSE docs/design.md docs/exit-codes.md docs/examples/cvmrestore-verify.service \
	docs/examples/k8s-cronjob.yaml; do
	[ -f "$D/$f" ] || fail "not installed: share/doc/cvmrestore/$f"
done
pass "docs"

# the Debian package ------------------------------------------------------------------------------
mkdir "$T/deb"
cpack --config "$RP_BUILD_DIR/CPackConfig.cmake" -G DEB -B "$T/deb" >"$T/cpack.log" 2>&1 ||
	{ cat "$T/cpack.log" >&2; fail "cpack -G DEB failed"; }
deb=$(ls "$T"/deb/cvmrestore_*.deb)
dpkg-deb -I "$deb" >"$T/deb.info"
depends=$(sed -n 's/^ Depends: //p' "$T/deb.info")
for pkg in libcurl4 libssl3 libvhdi1 libcryptsetup12 libjansson4 libexpat1 zlib1g; do
	grep -Eq "(^|, )$pkg( |,|\$)" <<<"$depends" || fail "Depends lacks $pkg: $depends"
done
dpkg-deb -c "$deb" >"$T/deb.files"
for f in ./usr/bin/cvmrestore ./usr/share/man/man1/cvmrestore-restore.1 \
	./usr/share/bash-completion/completions/cvmrestore ./usr/share/zsh/vendor-completions/_cvmrestore \
	./usr/share/doc/cvmrestore/README.md; do
	grep -q -- " $f" "$T/deb.files" || fail "the package lacks $f"
done
pass "cpack -G DEB: Depends: $depends"
