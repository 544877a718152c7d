# Test peers on 127.0.0.1 for the network tests. Source it after lib.sh and rp_tmpdir:
#
#     . "$RP_SOURCE_DIR/tests/integration/lib.sh"
#     rp_tmpdir
#     . "$RP_SOURCE_DIR/tests/integration/servers.sh"
#
# Every *_start picks a free port, waits until the server answers, and exports what tests need.
# The first *_start replaces the EXIT trap with one that stops every server still running and
# then runs rp_cleanup, so nothing is left listening, whatever way the test ends. Servers write
# their files under $RP_TMP/srv.
#
#   srv_certs                  make the test CA and server cert once (tests/servers/mkcert.sh);
#                              exports RP_CACERT (ca.pem), SRV_CERT, SRV_KEY
#   azurite_start [--loose] [--oauth]
#                              Azurite (blob only) over HTTPS; --oauth adds `--oauth basic`.
#                              Exports AZURITE_URL (https://127.0.0.1:P/devstoreaccount1),
#                              AZURITE_PORT, AZURITE_PID, AZURITE_DIR, RP_CACERT. Installs
#                              tests/azurite/node_modules with `npm ci` if it is missing.
#   azurite_stop               SIGKILL (after SIGTERM Azurite may linger for minutes)
#   blobtool ARGS...           tests/servers/blobtool.py against $AZURITE_URL
#   azurite_sas PATH [ARGS...] print a read SAS URL for container/blob PATH valid one hour
#                              (extra ARGS go to `blobtool.py sas`, e.g. --expiry -60)
#   nginx_start DIR            nginx serving DIR over HTTPS (ranges, sendfile, ETag, keep-alive).
#                              Exports NGINX_URL (https://127.0.0.1:P), NGINX_PORT, NGINX_PID,
#                              NGINX_LOG (access log, one line a request:
#                              ADDR "REQUEST" STATUS BYTES range="R" if_match="E" conn=C/N,
#                              N counting the requests on connection C, then msec=END rt=SECONDS
#                              rid=ID: the end time, the duration and the request id nginx sent
#                              as x-ms-request-id; /__ready is not logged)
#   nginx_stop
#   nginx_log_count REGEX      print how many access-log lines match REGEX (grep -E)
#   faultproxy_start UPSTREAM_URL
#                              HTTPS fault proxy in front of UPSTREAM (scheme://host:port, no
#                              path). Exports PROXY_URL (https://127.0.0.1:P), PROXY_PORT,
#                              PROXY_PID, PROXY_FAULT (the fault file), PROXY_STATS, PROXY_LOG
#   proxy_fault JSON           set the proxy's fault, e.g. proxy_fault '{"mode":"reset","nth":2}';
#                              its nth counter restarts with each new fault; the stats
#                              count from the proxy's start (compare before and after)
#   proxy_stat PY_EXPR         print PY_EXPR over d = the stats JSON, e.g. proxy_stat 'd["range_gets"]'
#   faultproxy_stop
#   tokenserver_start [ARGS...]
#                              tests/servers/tokenserver.py (ARGS: --tls, --expires-in N,
#                              --client-secret S, --fail-first N --fail-status S ...). Exports
#                              TOKEN_URL (http[s]://127.0.0.1:P), TOKEN_PORT, TOKEN_PID,
#                              TOKEN_LOG (issued tokens, one JSON line each), TOKEN_STATS
#   tokenserver_stop
#   dnsserver_start ZONE.json  tests/servers/dnsserver.py on UDP 127.0.0.1 (ZONE read on every
#                              query). Exports DNS_SERVER (127.0.0.1:P), DNS_PID, DNS_LOG
#   dnsserver_stop
#   srv_stop_all               stop everything still running (the EXIT trap calls it)
#   srv_free_port              print a free TCP port on 127.0.0.1
#   srv_port_closed PORT       true if nothing listens on 127.0.0.1:PORT

SRV_SRC=$RP_SOURCE_DIR/tests/servers
SRV_PY=/usr/bin/python3
SRV_DIR=
AZURITE_PID=
NGINX_PID=
PROXY_PID=
TOKEN_PID=
DNS_PID=

srv_setup()
{
	[ -n "$RP_TMP" ] || fail "servers.sh needs rp_tmpdir first"
	if [ -z "$SRV_DIR" ]; then
		SRV_DIR=$RP_TMP/srv
		mkdir -p "$SRV_DIR"
		trap 'srv_stop_all; rp_cleanup' EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
	fi
}

srv_certs()
{
	srv_setup
	if [ ! -s "$SRV_DIR/certs/server.pem" ]; then
		bash "$SRV_SRC/mkcert.sh" "$SRV_DIR/certs" || fail "mkcert.sh failed"
	fi
	export RP_CACERT=$SRV_DIR/certs/ca.pem
	export SRV_CERT=$SRV_DIR/certs/server.pem
	export SRV_KEY=$SRV_DIR/certs/server.key
}

srv_free_port()
{
	"$SRV_PY" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# srv_port_closed PORT [PID]: nothing listens on PORT; with PID, no socket of PID does (another
# test running alongside may have been given the port since)
srv_port_closed()
{
	if [ -n "${2:-}" ]; then
		! ss -Htlnp "sport = :$1" | grep -q "pid=$2,"
	else
		! ss -Htln "sport = :$1" | grep -q .
	fi
}

# srv_wait_https URL PID WHAT: wait up to 30 s for any HTTP answer from URL; return 1 if PID
# died (e.g. another test took the port first), fail after 30 s.
srv_wait_https()
{
	local url=$1 pid=$2 what=$3 _
	for _ in $(seq 300); do
		if curl -s -o /dev/null --max-time 2 --cacert "$RP_CACERT" "$url"; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	fail "$what did not answer at $url within 30 s"
}

# srv_wait_portfile FILE PID WHAT: wait for a server to write its port to FILE; print it.
srv_wait_portfile()
{
	local f=$1 pid=$2 what=$3 _
	for _ in $(seq 200); do
		if [ -s "$f" ]; then
			cat "$f"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || fail "$what exited during start-up: $(tail -5 "$f.log" 2>/dev/null)"
		sleep 0.05
	done
	fail "$what wrote no port file within 10 s"
}

# srv_kill PID SIGNAL: signal the process and wait up to 10 s for it to be gone. Servers are
# disowned at start, so bash reaps them without printing "Killed" job notices.
srv_kill()
{
	local pid=$1 sig=$2 _
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
}

# Azurite -------------------------------------------------------------------------------------

azurite_install()
{
	local d=$RP_SOURCE_DIR/tests/azurite
	[ -x "$d/node_modules/.bin/azurite-blob" ] && return 0
	command -v node >/dev/null || fail "azurite: node is not installed"
	command -v npm >/dev/null || fail "azurite: npm is not installed"
	(
		flock 9
		if [ ! -x "$d/node_modules/.bin/azurite-blob" ]; then
			echo "-- installing Azurite (npm ci in $d)" >&2
			cd "$d" && npm ci --no-audit --no-fund --loglevel=error >&2
		fi
	) 9>"${TMPDIR:-/tmp}/cvmrestore-azurite-npm.lock" || fail "azurite: npm ci failed"
}

azurite_start()
{
	local loose=() oauth=() debug=() a port d _
	for a in "$@"; do
		case $a in
		--loose) loose=(--loose) ;;
		--oauth) oauth=(--oauth basic) ;;
		*) fail "azurite_start: unknown option $a" ;;
		esac
	done
	[ -z "$AZURITE_PID" ] || fail "azurite_start: already running"
	srv_certs
	azurite_install
	[ "${SRV_AZURITE_DEBUG:-0}" = 1 ] && debug=(--debug "$SRV_DIR/azurite-debug.log")
	for _ in 1 2 3; do
		d=$(mktemp -d "$SRV_DIR/azurite.XXXXXX")
		port=$(srv_free_port)
		node "$RP_SOURCE_DIR/tests/azurite/node_modules/.bin/azurite-blob" \
			--blobHost 127.0.0.1 --blobPort "$port" --location "$d" \
			--cert "$SRV_CERT" --key "$SRV_KEY" "${loose[@]}" "${oauth[@]}" "${debug[@]}" \
			--skipApiVersionCheck --disableProductStyleUrl \
			>"$d/azurite.log" 2>&1 </dev/null &
		AZURITE_PID=$!
		disown "$AZURITE_PID"
		export AZURITE_PID AZURITE_PORT=$port AZURITE_DIR=$d
		export AZURITE_URL=https://127.0.0.1:$port/devstoreaccount1
		srv_wait_https "$AZURITE_URL?comp=list" "$AZURITE_PID" azurite && return 0
		AZURITE_PID=
	done
	fail "azurite exited during start-up: $(tail -3 "$d/azurite.log")"
}

azurite_stop()
{
	srv_kill "$AZURITE_PID" KILL
	AZURITE_PID=
}

blobtool()
{
	"$SRV_PY" "$SRV_SRC/blobtool.py" --url "$AZURITE_URL" --cacert "$RP_CACERT" "$@"
}

azurite_sas()
{
	local path=$1
	shift
	blobtool sas "$path" --expiry +3600 --perms r --full-url "$@"
}

# nginx ---------------------------------------------------------------------------------------

# nginx_conf DIR PORT ROOT: write DIR/nginx.conf
nginx_conf()
{
	local d=$1 port=$2 root=$3 user=
	[ "$(id -u)" = 0 ] && user="user root root;"
	cat >"$d/nginx.conf" <<EOF
# generated by tests/integration/servers.sh
$user
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 256; }
http {
	log_format ranges '\$remote_addr "\$request" \$status \$body_bytes_sent '
		'range="\$http_range" if_match="\$http_if_match" conn=\$connection/\$connection_requests '
		'msec=\$msec rt=\$request_time rid=\$request_id';
	access_log $d/access.log ranges;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	types { application/octet-stream bin raw vhd vhdx img; }
	default_type application/octet-stream;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 65;
	keepalive_requests 100000;
	etag on;
	server {
		listen 127.0.0.1:$port ssl;
		server_name localhost;
		ssl_certificate $SRV_CERT;
		ssl_certificate_key $SRV_KEY;
		ssl_protocols TLSv1.2 TLSv1.3;
		root $root;
		add_header x-ms-request-id \$request_id always;
		location / { autoindex off; }
		location = /__ready { access_log off; return 204; }
	}
}
EOF
}

nginx_start()
{
	local root port d _
	root=$(cd "$1" && pwd) || fail "nginx_start: no directory $1"
	[ -z "$NGINX_PID" ] || fail "nginx_start: already running"
	command -v nginx >/dev/null || fail "nginx is not installed (apt-get install nginx)"
	srv_certs
	for _ in 1 2 3; do
		d=$(mktemp -d "$SRV_DIR/nginx.XXXXXX")
		mkdir -p "$d/tmp"
		port=$(srv_free_port)
		nginx_conf "$d" "$port" "$root"
		nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/stdout.log" 2>&1 </dev/null &
		NGINX_PID=$!
		disown "$NGINX_PID"
		export NGINX_PID NGINX_PORT=$port NGINX_URL=https://127.0.0.1:$port
		export NGINX_LOG=$d/access.log NGINX_DIR=$d
		srv_wait_https "$NGINX_URL/__ready" "$NGINX_PID" nginx && return 0
		NGINX_PID=
	done
	fail "nginx exited during start-up: $(tail -3 "$d/error.log")"
}

nginx_stop()
{
	srv_kill "$NGINX_PID" TERM
	NGINX_PID=
}

nginx_log_count()
{
	grep -cE -- "$1" "$NGINX_LOG" || true
}

# fault proxy ---------------------------------------------------------------------------------

faultproxy_start()
{
	local up=$1 d port
	[ -z "$PROXY_PID" ] || fail "faultproxy_start: already running"
	srv_certs
	d=$(mktemp -d "$SRV_DIR/proxy.XXXXXX")
	echo '{"mode": "none"}' >"$d/fault.json"
	"$SRV_PY" "$SRV_SRC/faultproxy.py" --upstream "$up" --cacert "$RP_CACERT" \
		--cert "$SRV_CERT" --key "$SRV_KEY" --fault-file "$d/fault.json" \
		--stats-file "$d/stats.json" --log "$d/requests.log" --port-file "$d/port" \
		>"$d/port.log" 2>&1 </dev/null &
	PROXY_PID=$!
	disown "$PROXY_PID"
	port=$(srv_wait_portfile "$d/port" "$PROXY_PID" faultproxy)
	export PROXY_PID PROXY_PORT=$port PROXY_URL=https://127.0.0.1:$port
	export PROXY_FAULT=$d/fault.json PROXY_STATS=$d/stats.json PROXY_LOG=$d/requests.log
}

proxy_fault()
{
	printf '%s\n' "$1" >"$PROXY_FAULT.tmp" && mv -f "$PROXY_FAULT.tmp" "$PROXY_FAULT"
}

proxy_stat()
{
	"$SRV_PY" -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except FileNotFoundError:
    d = {}
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$PROXY_STATS" "$1"
}

faultproxy_stop()
{
	srv_kill "$PROXY_PID" TERM
	PROXY_PID=
}

# token server --------------------------------------------------------------------------------

tokenserver_start()
{
	local d port scheme=http a
	[ -z "$TOKEN_PID" ] || fail "tokenserver_start: already running"
	for a in "$@"; do [ "$a" = --tls ] && scheme=https; done
	srv_certs
	d=$(mktemp -d "$SRV_DIR/token.XXXXXX")
	"$SRV_PY" "$SRV_SRC/tokenserver.py" --cert "$SRV_CERT" --key "$SRV_KEY" \
		--log "$d/tokens.log" --stats-file "$d/stats.json" --port-file "$d/port" "$@" \
		>"$d/port.log" 2>&1 </dev/null &
	TOKEN_PID=$!
	disown "$TOKEN_PID"
	port=$(srv_wait_portfile "$d/port" "$TOKEN_PID" tokenserver)
	export TOKEN_PID TOKEN_PORT=$port TOKEN_URL=$scheme://127.0.0.1:$port
	export TOKEN_LOG=$d/tokens.log TOKEN_STATS=$d/stats.json
}

tokenserver_stop()
{
	srv_kill "$TOKEN_PID" TERM
	TOKEN_PID=
}

dnsserver_start()
{
	local d port
	[ -z "$DNS_PID" ] || fail "dnsserver_start: already running"
	srv_setup
	d=$(mktemp -d "$SRV_DIR/dns.XXXXXX")
	"$SRV_PY" "$SRV_SRC/dnsserver.py" --zone "$1" --log "$d/queries.log" \
		--port-file "$d/port" >"$d/port.log" 2>&1 </dev/null &
	DNS_PID=$!
	disown "$DNS_PID"
	port=$(srv_wait_portfile "$d/port" "$DNS_PID" dnsserver)
	: >"$d/queries.log"
	export DNS_PID DNS_SERVER=127.0.0.1:$port DNS_LOG=$d/queries.log
}

dnsserver_stop()
{
	srv_kill "$DNS_PID" TERM
	DNS_PID=
}

srv_stop_all()
{
	faultproxy_stop
	tokenserver_stop
	dnsserver_stop
	nginx_stop
	azurite_stop
}
