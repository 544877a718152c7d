#!/bin/bash
# The layers point one way (CMakeLists.txt): cli -> restore -> {net, verify} -> formats -> common.
# Fails if a source or header includes a project header of a layer it may not see, so a lower
# layer never calls up into a higher one. The check reads the tree, so it proves itself first:
# a planted upward include in a copy must be found.
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir

# allowed[layer] = the layers whose headers it may include (itself included).
declare -A allowed=(
	[common]="common"
	[formats]="common formats"
	[verify]="common formats verify"
	[net]="common formats net"
	[restore]="common formats verify net restore"
	[cli]="common formats verify net restore cli"
)

check_tree() { # ROOT: print one line per forbidden include
	local root=$1 layer f inc dep ok a
	for layer in "${!allowed[@]}"; do
		[ -d "$root/$layer" ] || continue
		for f in "$root/$layer"/*.[ch]; do
			[ -e "$f" ] || continue
			while IFS= read -r inc; do
				dep=${inc%%/*}
				ok=0
				for a in ${allowed[$layer]}; do [ "$dep" = "$a" ] && ok=1; done
				[ $ok = 1 ] || echo "${f#$root/}: includes \"$inc\" (layer $layer may see: ${allowed[$layer]})"
			done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\/[^"]*\)".*/\1/p' "$f")
		done
	done
}

# The check can fail: an upward include planted in a copy of one layer is reported.
mkdir -p "$RP_TMP/plant/net"
cp "$RP_SOURCE_DIR"/net/*.[ch] "$RP_TMP/plant/net/"
echo '#include "restore/restore.h"' >> "$RP_TMP/plant/net/http.c"
check_tree "$RP_TMP/plant" > "$RP_TMP/planted.txt"
grep -q 'net/http.c: includes "restore/restore.h"' "$RP_TMP/planted.txt" ||
	fail "the layer check missed a planted upward include"

check_tree "$RP_SOURCE_DIR" > "$RP_TMP/found.txt"
if [ -s "$RP_TMP/found.txt" ]; then
	cat "$RP_TMP/found.txt" >&2
	fail "a layer includes a header of a layer above it"
fi
n=$(cat "$RP_SOURCE_DIR"/{common,formats,verify,net,restore,cli}/*.[ch] | grep -c '^#include "')
pass "layers point one way ($n project includes checked)"
