#!/bin/sh
# Write the man pages (cvmrestore.1 and cvmrestore-COMMAND.1) from the program's own help text,
# so that they cannot disagree with --help. Run by the build (CMakeLists.txt).
#   man/mkman.sh CVMRESTORE OUTDIR VERSION DOCDIR
set -eu
bin=$1 out=$2 version=$3 docdir=$4
awkf=$(dirname "$0")/help2roff.awk
tab=$(printf '\t')
mkdir -p "$out"
"$bin" --help | awk -f "$awkf" -v mode=roff -v version="$version" -v docdir="$docdir" >"$out/cvmrestore.1.tmp"
mv "$out/cvmrestore.1.tmp" "$out/cvmrestore.1"
"$bin" --help | awk -f "$awkf" -v mode=commands | while IFS=$tab read -r cmd _; do
	"$bin" help "$cmd" | awk -f "$awkf" -v mode=roff -v version="$version" -v docdir="$docdir" \
		>"$out/cvmrestore-$cmd.1.tmp"
	mv "$out/cvmrestore-$cmd.1.tmp" "$out/cvmrestore-$cmd.1"
done
