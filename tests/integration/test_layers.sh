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
	[nbd]="common formats verify net restore cli nbd"
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

# Inside a layer, calls between its units (one .c file each) point one way too: no unit calls
# a function of a unit that calls back into it, directly or around a loop. Read from the
# objects the build made (nm), so a call through a shared header counts as well.
# One loop is known and allowed: formats/image.c dispatches to the per-format readers
# (image_vhd.c, image_vhdx.c), which record problems and read through image.c (image_int.h);
# the image family is one unit here.
unit_loops() { # OBJECT...: print the units of each loop of calls (tsort's report), nothing if none
	nm -A -P "$@" | awk '
		{ o = $1; sub(/\.c\.o:$/, "", o); n = split(o, p, "/"); u = p[n - 1] "/" p[n]
		  if (u ~ /^formats\/image_/) u = "formats/image" }
		$3 == "U" { use[m++] = u " " $2 }
		$3 ~ /^[TDBRC]$/ { def[$2] = u }
		END { for (i = 0; i < m; i++) { split(use[i], a, " ")
			if ((a[2] in def) && def[a[2]] != a[1]) print a[1], def[a[2]] } }' |
		sort -u | tsort 2>&1 >/dev/null | sed -n 's/^tsort: \([a-z_]*\/[a-z0-9_]*\)$/\1/p'
}

# The check can fail: two units that call each other are reported.
mkdir -p "$RP_TMP/loop/net"
printf 'void b(void);\nvoid a(void) { b(); }\n' >"$RP_TMP/loop/net/a.c"
printf 'void a(void);\nvoid b(void) { a(); }\nvoid c(void) {}\n' >"$RP_TMP/loop/net/b.c"
printf 'void c(void);\nvoid d(void) { c(); }\n' >"$RP_TMP/loop/net/d.c"
for f in a b d; do cc -c -o "$RP_TMP/loop/net/$f.c.o" "$RP_TMP/loop/net/$f.c" || fail "cc $f.c"; done
[ "$(unit_loops "$RP_TMP"/loop/net/*.c.o | sort | tr '\n' ' ')" = "net/a net/b " ] ||
	fail "the loop check missed a planted loop (or reported net/d, which only calls down)"

objs=()
for layer in common formats verify net restore cli; do
	for o in "$RP_BUILD_DIR/CMakeFiles/rp_$layer.dir/$layer"/*.c.o; do
		# an object whose source is gone is a leftover of an earlier build, not a unit
		src=${o#"$RP_BUILD_DIR/CMakeFiles/rp_$layer.dir/"}
		[ -e "$RP_SOURCE_DIR/${src%.o}" ] && objs+=("$o")
	done
done
[ -e "${objs[0]}" ] && [ "${#objs[@]}" -gt 50 ] ||
	fail "no objects under $RP_BUILD_DIR/CMakeFiles/rp_*.dir: build first"
loops=$(unit_loops "${objs[@]}")
[ -z "$loops" ] || fail "units call each other around a loop: $(echo $loops)"
pass "calls between units point one way (${#objs[@]} objects)"
