#!/bin/bash
# mkcert.sh DIR: a throw-away test CA and a server certificate signed by it, for the loopback
# test peers (Azurite, nginx, faultproxy.py, tokenserver.py --tls).
#
# Writes into DIR (created if missing):
#   ca.pem, ca.key        the CA (CA:TRUE, keyCertSign), valid 30 days
#   server.pem            the server certificate (EC P-256), SAN IP:127.0.0.1, IP:::1,
#                         DNS:localhost, DNS:devstoreaccount1.blob.core.windows.net,
#                         DNS:*.privatelink.blob.core.windows.net, DNS:*.blob.core.windows.net,
#                         DNS:*.vault.azure.net, DNS:*.managedhsm.azure.net,
#                         DNS:*.z1.blob.storage.azure.net (managed-disk data hosts)
#   server.key            its private key (unencrypted PKCS#8)
#   server-chain.pem      server.pem followed by ca.pem
# Nothing else is touched; it takes well under a second. openssl CLI only.
set -euo pipefail

[ $# = 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
mkdir -p -- "$dir"
cd -- "$dir"

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -days 30 -subj "/CN=cvmrestore test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-addext "subjectKeyIdentifier=hash" 2>/dev/null

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout server.key -out "$tmp/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null

cat >"$tmp/ext.cnf" <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
subjectAltName=@alt
[alt]
IP.1=127.0.0.1
IP.2=::1
DNS.1=localhost
DNS.2=devstoreaccount1.blob.core.windows.net
DNS.3=*.privatelink.blob.core.windows.net
DNS.4=*.blob.core.windows.net
DNS.5=*.vault.azure.net
DNS.6=*.managedhsm.azure.net
DNS.7=*.z1.blob.storage.azure.net
EOF

openssl x509 -req -in "$tmp/server.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
	-CAserial "$tmp/ca.srl" -out server.pem -days 30 -sha256 -extfile "$tmp/ext.cnf" 2>/dev/null
cat server.pem ca.pem >server-chain.pem
chmod 600 ca.key server.key
openssl verify -CAfile ca.pem server.pem >/dev/null
