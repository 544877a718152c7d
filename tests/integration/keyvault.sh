# The Key Vault test server (tests/servers/keyvault.py) for the network tests. Source it after
# servers.sh:
#
#     . "$RP_SOURCE_DIR/tests/integration/lib.sh"
#     rp_tmpdir
#     . "$RP_SOURCE_DIR/tests/integration/servers.sh"
#     . "$RP_SOURCE_DIR/tests/integration/keyvault.sh"
#
#   keyvault_start CONFIG      HTTPS on 127.0.0.1 with the test CA's server certificate (its
#                              names include *.vault.azure.net and *.managedhsm.azure.net, so
#                              clients use --resolve NAME:$KV_PORT:127.0.0.1 --cacert
#                              $RP_CACERT). CONFIG is read on every request (see keyvault.py):
#                              rewrite it to change keys, tokens or faults. Exports KV_PORT,
#                              KV_PID, KV_LOG (one line a request: METHOD PATH STATUS),
#                              KV_CONFIG. The EXIT trap of servers.sh does not know this server:
#                              keyvault_start adds it.
#   keyvault_stop
#   keyvault_log_count REGEX   print how many log lines match REGEX (grep -E)

KV_PID=

keyvault_start()
{
	local cfg=$1 d port
	[ -z "$KV_PID" ] || fail "keyvault_start: already running"
	[ -s "$cfg" ] || fail "keyvault_start: no config $cfg"
	srv_certs
	d=$(mktemp -d "$SRV_DIR/keyvault.XXXXXX")
	"$SRV_PY" "$SRV_SRC/keyvault.py" --config "$cfg" --cert "$SRV_CERT" --key "$SRV_KEY" \
		--log "$d/requests.log" --port-file "$d/port" >"$d/port.log" 2>&1 </dev/null &
	KV_PID=$!
	disown "$KV_PID"
	trap 'keyvault_stop; srv_stop_all; rp_cleanup' EXIT
	port=$(srv_wait_portfile "$d/port" "$KV_PID" keyvault)
	: >"$d/requests.log"
	export KV_PID KV_PORT=$port KV_LOG=$d/requests.log KV_CONFIG=$cfg KV_DIR=$d
}

keyvault_stop()
{
	srv_kill "$KV_PID" TERM
	KV_PID=
}

keyvault_log_count()
{
	grep -cE -- "$1" "$KV_LOG" || true
}
