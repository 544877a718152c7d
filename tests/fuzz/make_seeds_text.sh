#!/bin/sh
# Write the seed corpus of fuzz_text (common/text.c, common/url.c): SAS URLs (also typo'd), a message, terminal
# control sequences and UTF-8 edge cases. Usage: make_seeds_text.sh [corpusdir]
set -eu
dir=${1:-$(cd "$(dirname "$0")" && pwd)/corpus}/text
mkdir -p "$dir"
printf 'https://u:pw@h/d.vhd?sv=1&sig=S' >"$dir/url-sas"
printf 'htps://h/x?sig=S' >"$dir/url-typo"
printf 'https://a@b@[fe80::1%%25e]:8443?sig=S' >"$dir/url-ipv6"
printf "cannot open 'https:/u:p@h/x?sig=S': failed" >"$dir/message"
printf '\033]0;pwned\007 \033[2J \302\23331m \342\200\256' >"$dir/controls"
printf 'caf\303\251 \360\237\222\276 \377\300\257\355\240\200\364\220\200\200\342\202' >"$dir/utf8"
