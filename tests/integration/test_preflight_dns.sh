#!/bin/bash
# preflight's dns check with its own resolver, against tests/servers/dnsserver.py on 127.0.0.1
# (--dns-server; no outside DNS is asked): the CNAME chain a private endpoint's name takes
# (acct.blob.core.windows.net -> acct.privatelink.blob.core.windows.net -> address), a public
# answer (WARN, or FAIL with --require-private, with the usual causes as hints; a managed disk's
# host also names Disk Access), NXDOMAIN, SERVFAIL, a server that does not answer, and the later
# checks connecting to the address the dns check found. The "private" addresses are 127.x,
# declared private with --private-cidr 127.0.0.0/8.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"

T=$RP_TMP
mkdir -p "$T/www"
it_make_raw "$T/disk.raw" $((2 * 1048576)) 0
R convert -q "$T/disk.raw" "$T/www/disk.vhd" || fail "convert"
nginx_start "$T/www"
cat >"$T/zone.json" <<'EOZ'
{
 "acct.blob.core.windows.net": {"cname": "acct.privatelink.blob.core.windows.net"},
 "acct.privatelink.blob.core.windows.net": {"a": ["127.0.0.1"]},
 "pub.blob.core.windows.net": {"cname": "blob.xyz01prdstr02a.store.core.windows.net"},
 "blob.xyz01prdstr02a.store.core.windows.net": {"a": ["127.0.0.1"]},
 "md-abc.z7.blob.storage.azure.net": {"a": ["127.0.0.1"]},
 "broken.blob.core.windows.net": {"rcode": 2},
 "loop.blob.core.windows.net": {"cname": "loop2.blob.core.windows.net"},
 "loop2.blob.core.windows.net": {"cname": "loop.blob.core.windows.net"}
}
EOZ
dnsserver_start "$T/zone.json"
P=$NGINX_PORT
PF=(preflight --cacert "$RP_CACERT" --dns-server "$DNS_SERVER")

note "a private endpoint's chain: PASS, and the later checks connect where it resolved"
expect_exit 0 R "${PF[@]}" --private-cidr 127.0.0.0/8 "https://acct.blob.core.windows.net:$P/disk.vhd"
grep -q "^PASS dns  *acct.blob.core.windows.net -> acct.privatelink.blob.core.windows.net -> 127.0.0.1 (private), through a privatelink name$" "$RP_OUT" ||
	fail "the chain is not shown: $(cat "$RP_OUT")"
grep -q "^PASS tls+properties" "$RP_OUT" || fail "the properties check did not reach nginx: $(cat "$RP_OUT")"
grep -q "^acct.blob.core.windows.net A$" "$DNS_LOG" || fail "our DNS server was not asked"
pass "privatelink chain shown, properties fetched from the resolved address"

note "a public answer: WARN with the usual causes; FAIL with --require-private"
expect_exit 0 R "${PF[@]}" "https://pub.blob.core.windows.net:$P/disk.vhd" --json
json_check "$RP_OUT" "d['checks'][0]['result'] == 'warn' and 'link the private DNS zone privatelink.blob.core.windows.net' in d['checks'][0]['hint'] and '168.63.129.16' in d['checks'][0]['hint'] and 'conditional forwarder' in d['checks'][0]['hint']" \
	"a public answer is not WARN with its hints"
json_check "$RP_OUT" "d['checks'][0]['detail'] == 'pub.blob.core.windows.net -> blob.xyz01prdstr02a.store.core.windows.net -> 127.0.0.1 (public)'" \
	"the public chain"
expect_exit 5 R "${PF[@]}" --require-private "https://pub.blob.core.windows.net:$P/disk.vhd"
grep -q "^FAIL dns .*(public) -- the private endpoint's name is not used here" "$RP_OUT" ||
	fail "no FAIL line: $(cat "$RP_OUT")"
expect_stderr_has "dns check failed"
R "${PF[@]}" "https://md-abc.z7.blob.storage.azure.net:$P/x?sv=1&sr=b&si=p&sig=c2VjcmV0" \
	>"$T/md.out" 2>"$T/md.err" || true
grep -q "^WARN dns .*Disk Access resource with a private endpoint" "$T/md.out" ||
	fail "a managed disk's host does not name Disk Access: $(cat "$T/md.out")"
grep -q c2VjcmV0 "$T/md.out" "$T/md.err" && fail "the signature was printed"
pass "public: WARN with hints, FAIL (exit 5) with --require-private, Disk Access for md- hosts"

note "no such name, SERVFAIL, a CNAME loop, no DNS server listening"
expect_exit 4 R "${PF[@]}" "https://nosuch.blob.core.windows.net:$P/disk.vhd"
grep -q "^FAIL dns  *nosuch.blob.core.windows.net -> no such name (NXDOMAIN) -- check the private DNS zone (privatelink.blob.core.windows.net) and its link to this VNet; or pin the name with --resolve HOST:PORT:ADDR\$" "$RP_OUT" ||
	fail "NXDOMAIN: $(cat "$RP_OUT")"
expect_exit 4 R "${PF[@]}" "https://broken.blob.core.windows.net:$P/disk.vhd"
expect_stderr_has "the DNS server $DNS_SERVER answers SERVFAIL for broken.blob.core.windows.net"
expect_exit 3 R "${PF[@]}" "https://loop.blob.core.windows.net:$P/disk.vhd"
expect_stderr_has "the CNAME chain loops"
expect_exit 4 R preflight --cacert "$RP_CACERT" --dns-server 127.0.0.1:1 \
	"https://acct.blob.core.windows.net:$P/disk.vhd"
expect_stderr_has "no answer from the DNS server 127.0.0.1:1"
expect_exit 2 R preflight --dns-server 10.0.0.0:x "https://acct.blob.core.windows.net:$P/disk.vhd"
expect_stderr_has "DNS server '10.0.0.0:x': not an IPv4 ADDR or ADDR:PORT"
pass "NXDOMAIN and SERVFAIL exit 4, a loop exit 3, a silent server exit 4, a bad option exit 2"
echo "test_preflight_dns: $PASSED groups passed"
