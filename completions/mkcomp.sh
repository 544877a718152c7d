#!/bin/sh
# Write the bash and zsh completions of cvmrestore from its own help text (the commands of
# --help, the options of each 'help COMMAND'), so that they cannot miss a command or an option.
# Run by the build (CMakeLists.txt).
#   completions/mkcomp.sh CVMRESTORE OUTDIR
set -eu
bin=$1 out=$2
here=$(dirname "$0")
help2roff=$here/../man/help2roff.awk
mkdir -p "$out"
"$bin" --help | awk -f "$help2roff" -v mode=commands >"$out/commands.tmp"
cmds=$(cut -f1 "$out/commands.tmp" | tr '\n' ' ')
cmds=${cmds% }

{
	echo "# bash completion for cvmrestore, generated from its --help by completions/mkcomp.sh."
	echo "_cvmrestore_commands=\"$cmds\""
	for cmd in $cmds; do
		"$bin" help "$cmd" | awk -f "$help2roff" -v mode=opts |
			awk -f "$here/mkcomp.awk" -v shell=bash -v cmd="$cmd"
	done
	cat <<'BASH'
_cvmrestore() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} cmd= i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $cmd in
	'') COMPREPLY=($(compgen -W "$_cvmrestore_commands help --help --version" -- "$cur")) ;;
	help) COMPREPLY=($(compgen -W "$_cvmrestore_commands" -- "$cur")) ;;
	*)
		if declare -F "_cvmrestore_${cmd//[^a-z0-9_]/_}" >/dev/null; then
			"_cvmrestore_${cmd//[^a-z0-9_]/_}"
		else
			COMPREPLY=()
		fi
		;;
	esac
}
complete -o filenames -F _cvmrestore cvmrestore
BASH
} >"$out/cvmrestore.bash.tmp"

{
	echo "#compdef cvmrestore"
	echo "# zsh completion for cvmrestore, generated from its --help by completions/mkcomp.sh."
	echo "_cvmrestore() {"
	echo "	local -a commands"
	echo "	commands=("
	awk -F'\t' '{ s = $2; gsub(/'\''/, "'\''\\'\'''\''", s); gsub(/:/, "\\:", s)
		printf "\t\t'\''%s:%s'\''\n", $1, s }' "$out/commands.tmp"
	echo "	)"
	echo "	if (( CURRENT == 2 )); then"
	echo "		_describe -t commands 'cvmrestore command' commands"
	echo "		compadd -- help --help --version"
	echo "		return"
	echo "	fi"
	echo "	local cmd=\$words[2]"
	echo "	shift words"
	echo "	(( CURRENT-- ))"
	echo "	case \$cmd in"
	echo "	help) _describe -t commands 'cvmrestore command' commands ;;"
	for cmd in $cmds; do
		"$bin" help "$cmd" | awk -f "$help2roff" -v mode=opts |
			awk -f "$here/mkcomp.awk" -v shell=zsh -v cmd="$cmd"
	done
	echo "	esac"
	echo "}"
	echo '_cvmrestore "$@"'
} >"$out/_cvmrestore.tmp"
rm -f "$out/commands.tmp"
mv "$out/cvmrestore.bash.tmp" "$out/cvmrestore.bash"
mv "$out/_cvmrestore.tmp" "$out/_cvmrestore"
